"""Dates for machines: the datetime attribute of <time>, on every page."""

from datetime import date, datetime

from django import template

register = template.Library()


@register.filter(expects_localtime=True)
def iso_datetime(value):
    """``value`` in ISO 8601 to the second: "2024-05-01T12:30:15+03:00".

    HTML allows at most three digits of a second's fraction and ``|date:'c'``
    writes six. Aware values come in the current time zone (``expects_localtime``
    honours ``{% localtime %}``), as ``|date`` shows them.
    """
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return ""

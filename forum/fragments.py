"""Each comment's HTML, rendered once when something that shows changes and
stored on the row; pages join stored strings instead of rendering a template
per comment.

A comment has a public fragment (what any reader sees: its text, or a
placeholder when it is pending, removed or spam) and, when it differs, a private
one (its text with a status badge, for its author and for moderators). Dates in
a fragment are absolute; the relative time ("3 hours ago") goes in at a marker
when the page is assembled, so a stored fragment never goes stale with time.
"""

import hashlib
from datetime import UTC

from django.conf import settings
from django.template.loader import get_template
from django.utils import timezone

from .transitions import flags_key, lock_of

TEMPLATE = "forum/_comment.html"
# Where the page puts the relative time, see relative_time().
AGO_MARKER = "<!--ago-->"


def _template_version():
    source = get_template(TEMPLATE).template.source
    return hashlib.sha256(source.encode()).hexdigest()[:16]


_version = None


def current_version():
    """A stamp of the fragment template; a fragment stored under another stamp
    is re-rendered the next time a page shows it (after a deploy)."""
    global _version
    if _version is None or settings.DEBUG:
        _version = _template_version()
    return _version


def iso(moment):
    """An HTML-valid machine date (no microseconds), in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_fragments(comment, *, article_url, comments_url):
    """(public, private) HTML of ``comment``; private is "" when it would be
    the same as public."""
    template = get_template(TEMPLATE)
    context = {
        "comment": comment,
        "article_url": article_url,
        "comments_url": comments_url,
        "created_iso": iso(comment.created_at),
        "edited_iso": iso(comment.edited_at) if comment.edited_at else "",
        "ago_marker": AGO_MARKER,
        "mod_key": flags_key(
            comment.status,
            top_level=comment.parent_id is None,
            pinned=comment.pinned_at is not None,
            locked=lock_of(comment),
        ),
    }
    with timezone.override(settings.TIME_ZONE):
        public = template.render({**context, "private": False}).strip()
        # Published: the same for all. Deleted: its text is gone for all.
        if comment.status in (comment.Status.PUBLISHED, comment.Status.DELETED):
            return public, ""
        return public, template.render({**context, "private": True}).strip()


_UNITS = (
    (365 * 86400, "year"),
    (30 * 86400, "month"),
    (7 * 86400, "week"),
    (86400, "day"),
    (3600, "hour"),
    (60, "minute"),
)


def relative_time(seconds):
    """ "3 hours ago" for an age in seconds; cheap, as it runs per comment per
    page."""
    if seconds < 60:
        return "just now"
    for size, unit in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"  # unreachable: the last unit is a minute

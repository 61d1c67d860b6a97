"""Template filters (forum/templatetags/)."""

from datetime import UTC, date, datetime

from django.template import Context, Template


def _render(source, **context):
    return Template("{% load forum_dates %}" + source).render(Context(context))


def test_iso_datetime_is_to_the_second_in_the_current_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    moment = datetime(2024, 1, 15, 17, 4, 5, 987654, tzinfo=UTC)

    assert _render("{{ moment|iso_datetime }}", moment=moment) == (
        "2024-01-15T12:04:05-05:00"
    )


def test_iso_datetime_follows_the_localtime_tag(settings):
    settings.TIME_ZONE = "America/New_York"
    moment = datetime(2024, 1, 15, 17, 4, 5, 987654, tzinfo=UTC)

    rendered = _render(
        "{% load tz %}{% localtime off %}{{ moment|iso_datetime }}{% endlocaltime %}",
        moment=moment,
    )

    assert rendered == "2024-01-15T17:04:05+00:00"


def test_iso_datetime_writes_a_date_as_a_date():
    assert _render("{{ day|iso_datetime }}", day=date(2024, 2, 29)) == "2024-02-29"


def test_iso_datetime_of_nothing_is_empty():
    assert _render("[{{ missing|iso_datetime }}]{{ text|iso_datetime }}", text="x") == (
        "[]"
    )


def test_iso_datetime_of_a_naive_datetime_keeps_it_naive(settings):
    settings.USE_TZ = False
    moment = datetime(2024, 1, 15, 17, 4, 5, 1)

    assert _render("{{ moment|iso_datetime }}", moment=moment) == "2024-01-15T17:04:05"

"""Reading Markdown articles with a front-matter header, without the database."""

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from articles.importers import markdown
from articles.importers.base import SourceError, decode_source
from articles.importers.detect import detect_format
from articles.importers.markdown import parse_markdown
from articles.models import Article

ARTICLE = Path(__file__).resolve().parent.parent / "data/imports/markdown/article.md"


def _markdown(*fields, body="Body text."):
    return "\n".join(["---", *fields, "---", body])


def _parse(*fields, body="Body text."):
    return parse_markdown(_markdown(*fields, body=body))


def _refusal(text):
    with pytest.raises(SourceError) as refused:
        parse_markdown(text)
    return str(refused.value)


def test_a_typical_file_is_read_into_every_field():
    raw = ARTICLE.read_bytes()

    article = parse_markdown(decode_source(raw))

    assert detect_format(raw[:4096]) == "markdown"
    assert article.system == "markdown"
    assert article.source_id == article.key == "news:kazakhstan"
    assert article.title == 'Kazakhstan joins the "Abraham Accords"'
    assert article.slug == "kazakhstan-joins-abraham-accords"
    assert article.author == "Jane Doe"
    assert article.published_at == datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
    assert article.source_url == "https://example.com/kazakhstan"
    assert article.lead == "Why this matters for the region."
    assert article.lead_author == "The editors"
    assert article.status == "published"
    assert article.body_format == "markdown"
    assert article.body.startswith("## What happened\n\nKazakhstan [joined")
    assert article.body.endswith('<script>alert("x")</script>')
    assert article.comments == []
    assert article.where == "line 1"


def test_the_example_in_the_module_docstring_parses():
    example = markdown.__doc__.split("::\n\n", 1)[1].split("\n\nThe front matter")[0]

    article = parse_markdown(textwrap.dedent(example))

    assert article.title == 'Kazakhstan joins the "Abraham Accords"'
    assert article.published_at == datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
    assert article.body.startswith("## What happened")


def test_only_the_title_is_required_and_the_rest_default_to_empty():
    article = _parse("title: Hello")

    assert (article.title, article.body) == ("Hello", "Body text.")
    assert article.key == article.source_id == article.slug == ""
    assert article.author == article.source_url == article.lead == ""
    assert article.published_at is None
    assert article.status == "published"


def test_windows_line_endings_are_read_once_decoded():
    raw = _markdown("title: Hello", body="Line one.\nLine two.").replace("\n", "\r\n")

    article = parse_markdown(decode_source(raw.encode()))

    assert (article.title, article.body) == ("Hello", "Line one.\nLine two.")


def test_field_names_are_case_insensitive():
    article = _parse("TITLE: Hello", "Source_URL: https://example.com/a")

    assert (article.title, article.source_url) == ("Hello", "https://example.com/a")


def test_comment_and_blank_lines_in_the_front_matter_are_skipped():
    article = _parse("# title: Not this", "", "title: This one", "  # indented note")

    assert article.title == "This one"


def test_a_hash_inside_a_value_is_kept():
    assert _parse("title: Issue #1 # of many").title == "Issue #1 # of many"


def test_a_value_may_hold_colons():
    article = _parse("title: Time: 10:00", "source_url: https://example.com:8080/a")

    assert article.title == "Time: 10:00"
    assert article.source_url == "https://example.com:8080/a"


def test_double_and_single_quotes_around_a_value_are_dropped():
    article = _parse('title: "Hello, world"', "author: 'Jane Doe'")

    assert (article.title, article.author) == ("Hello, world", "Jane Doe")


def test_escaped_quotes_and_backslashes_inside_double_quotes_are_unescaped():
    article = _parse(r'title: "Say \"hi\" \\ \n"')

    assert article.title == r'Say "hi" \ \n'


def test_single_quoted_values_are_taken_as_they_stand():
    assert _parse(r"title: 'It\'s'").title == r"It\'s"


def test_quotes_inside_an_unquoted_value_are_kept():
    assert _parse('title: Don\'t say "never"').title == 'Don\'t say "never"'


def test_a_double_quote_that_is_not_closed_is_refused():
    message = _refusal(_markdown('title: "Hello'))

    assert message.startswith("Line 2: the value opens a double quote")


def test_text_after_a_closing_double_quote_is_refused():
    message = _refusal(_markdown('title: "Hello" world'))

    assert message.startswith("Line 2: the value opens a double quote")


def test_a_single_quote_that_is_not_closed_is_refused():
    message = _refusal(_markdown("title: 'Hello"))

    assert message.startswith("Line 2: the value opens a single quote")


def test_a_date_alone_is_midnight_utc():
    article = _parse("title: T", "date: 2024-03-05")

    assert article.published_at == datetime(2024, 3, 5, tzinfo=UTC)


def test_a_date_and_time_without_an_offset_is_utc():
    article = _parse("title: T", "date: 2024-03-05 10:00")

    assert article.published_at == datetime(2024, 3, 5, 10, 0, tzinfo=UTC)


def test_a_date_and_time_with_an_offset_is_converted_to_utc():
    article = _parse("title: T", "date: 2024-03-05T10:00:00+01:00")

    assert article.published_at == datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
    assert article.published_at.tzinfo is UTC


def test_a_date_in_zulu_time_is_utc():
    article = _parse("title: T", "date: '2024-03-05T10:00:00Z'")

    assert article.published_at == datetime(2024, 3, 5, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value", ["March 5, 2024", "2024-02-30", "2024-03-05 25:00", "20240305", "2024"]
)
def test_a_date_in_another_shape_or_not_on_the_calendar_is_refused(value):
    message = _refusal(_markdown("title: T", f"date: {value}"))

    assert message == (
        f'Line 3: date "{value}" is not a date; expected 2024-03-05, '
        "2024-03-05 10:00 or 2024-03-05T10:00:00+01:00."
    )


def test_an_empty_optional_field_counts_as_not_given():
    article = _parse("title: T", "date:", "status: ''")

    assert (article.published_at, article.status) == (None, "published")


def test_a_draft_keeps_its_status():
    assert _parse("title: T", "status: Draft").status == "draft"


def test_an_unknown_status_is_refused():
    message = _refusal(_markdown("title: T", "status: live"))

    assert message == 'Line 3: status "live" is not one of published, draft.'


def test_an_unknown_field_is_refused_with_the_fields_expected():
    message = _refusal(_markdown("slug: s", "author: A", "titel: Hello"))

    assert message == (
        'Line 4: unknown front-matter field "titel"; expected one of title, slug, '
        "author, date, source_url, key, lead, lead_author, status."
    )


def test_source_url_has_no_aliases():
    message = _refusal(_markdown("title: T", "url: https://example.com/a"))

    assert message.startswith('Line 3: unknown front-matter field "url"')


def test_a_field_given_twice_is_refused_whatever_its_case():
    message = _refusal(_markdown("title: One", "slug: s", "Title: Two"))

    assert message == (
        'Line 4: the front-matter field "title" is given twice (first on line 2).'
    )


def test_a_line_that_is_not_name_and_value_is_refused():
    message = _refusal(_markdown("title: T", "just some words"))

    assert message.startswith(
        "Line 3: expected a front-matter line \"name: value\", found 'just some words'"
    )


def test_a_missing_closing_fence_is_refused_at_the_first_body_line():
    message = _refusal("---\ntitle: T\n\n## Heading\n\nThe body.\n")

    assert message.startswith("Line 6: expected a front-matter line")
    assert "is the closing '---' missing?" in message


def test_front_matter_running_to_the_end_of_the_file_is_refused():
    message = _refusal("---\ntitle: T\nslug: s\n")

    assert message.startswith("Line 1: the front matter opened here is never closed")


def test_text_that_does_not_open_with_a_fence_is_refused():
    message = _refusal("title: T\n---\nBody.")

    assert message.startswith("Line 1: expected '---', opening the front matter")


def test_a_missing_title_is_refused_at_the_closing_fence():
    message = _refusal(_markdown("slug: s", "author: A"))

    assert message.startswith("Line 4: the article has no title")


def test_an_empty_title_is_refused_at_its_line():
    message = _refusal(_markdown("slug: s", 'title: "  "'))

    assert message.startswith("Line 3: the article has no title")


def test_an_empty_body_is_refused():
    message = _refusal(_markdown("title: T", body="\n  \n\n"))

    assert message.startswith("Line 3: the article has no body")


def test_a_file_that_ends_at_the_closing_fence_has_no_body():
    message = _refusal("---\ntitle: T\n---")

    assert message.startswith("Line 3: the article has no body")


def test_blank_lines_around_the_body_are_dropped_and_indentation_is_kept():
    article = _parse("title: T", body="\n\n    code block\n\nText.  \n\n\n")

    assert article.body == "    code block\n\nText.  "


def test_a_fence_inside_the_body_is_a_rule_and_stays_in_it():
    article = _parse("title: T", body="Above.\n\n---\n\nBelow.")

    assert article.body == "Above.\n\n---\n\nBelow."


def test_a_lone_surrogate_is_refused_naming_its_line():
    message = _refusal(_markdown("title: T", body="Fine.\nBroken \ud800 here."))

    assert message == "Line 5: not valid Unicode text (a lone surrogate, U+D800)."


def test_a_parsed_body_renders_to_sanitised_html():
    article = parse_markdown(decode_source(ARTICLE.read_bytes()))

    html = Article(body=article.body, body_format="markdown").rendered_body()

    assert "<h2>What happened</h2>" in html
    assert "<ul>\n<li>Trade</li>\n<li>Flights</li>\n</ul>" in html
    assert '<a href="https://example.com/accords" rel="noopener">' in html
    assert "<strong>Tuesday</strong>" in html
    assert "<script" not in html

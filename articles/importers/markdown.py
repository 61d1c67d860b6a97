"""Markdown articles with a front-matter header, read into a SourceArticle.

The shape (no comments: a Markdown file carries only the article)::

    ---
    # Lines starting with "#" are comments; blank lines are skipped.
    title: "Kazakhstan joins the \\"Abraham Accords\\""
    slug: kazakhstan-joins-abraham-accords
    author: Jane Doe
    date: 2024-03-05T10:00:00+01:00
    source_url: https://example.com/kazakhstan
    key: news:kazakhstan
    lead: Why this matters for the region.
    lead_author: The editors
    status: published
    ---
    ## What happened

    The body, in Markdown, up to the end of the file.

The front matter opens on the file's first line with ``---`` and closes at the
next line holding only ``---``. Between them, one ``name: value`` a line; names
are case-insensitive and each may be given once. This is a small, line-based
subset of YAML: no lists, nested keys or values spanning lines, and ``#`` starts
a comment only at the start of a line (a title may hold "#1").

Fields (only ``title`` is required; an empty value is the same as none):

- ``title``: the article's title.
- ``slug``, ``author``, ``lead``, ``lead_author``: as written.
- ``date``: when it was published, ``2024-03-05`` (midnight),
  ``2024-03-05 10:00`` or ``2024-03-05T10:00:00+01:00``; a time without an
  offset is UTC.
- ``source_url``: where the article was first published (one spelling only,
  so two fields can never disagree about it).
- ``key``: the article's key, so a re-import finds the article it made before.
- ``status``: ``published`` (the default) or ``draft``.

A value may be quoted, "..." or '...', as YAML writers often do; the quotes
are dropped, and so are spaces around the value. Inside double quotes,
``\\"`` is a quote and ``\\\\`` a backslash; any other backslash stays as
written. Single-quoted values are taken as they stand.

The body is everything after the closing ``---``, without blank lines at its
start and end; it is kept as Markdown (Article.rendered_body turns it into
sanitised HTML). Anything that does not fit is refused with a SourceError
naming the line.
"""

import re
from datetime import UTC, datetime

from .base import SourceArticle, SourceError
from .plaintext import _refuse_lone_surrogates

FENCE = "---"
FIELDS = (
    "title",
    "slug",
    "author",
    "date",
    "source_url",
    "key",
    "lead",
    "lead_author",
    "status",
)
STATUSES = ("published", "draft")
FIELD_LINE = re.compile(r"(?P<name>[A-Za-z][\w-]*)\s*:\s*(?P<value>.*)")
DOUBLE_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
QUOTE_ESCAPE = re.compile(r'\\(["\\])')
# The documented date shapes only: fromisoformat alone would also take week
# dates and compact forms nobody writes in a header by hand.
DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?"
)
DATE_EXAMPLES = "2024-03-05, 2024-03-05 10:00 or 2024-03-05T10:00:00+01:00"


def _unquote(value, *, line):
    if value.startswith('"'):
        quoted = DOUBLE_QUOTED.fullmatch(value)
        if not quoted:
            raise SourceError(
                f"Line {line}: the value opens a double quote and does not end "
                'with its closing one (write \\" for a quote inside it).'
            )
        return QUOTE_ESCAPE.sub(r"\1", quoted.group(1))
    if value.startswith("'"):
        if len(value) < 2 or not value.endswith("'"):
            raise SourceError(
                f"Line {line}: the value opens a single quote and does not end "
                "with its closing one."
            )
        return value[1:-1]
    return value


def _read_front_matter(lines):
    """The fields as {name: (value, line)} and the closing fence's line index."""
    fields = {}
    for index in range(1, len(lines)):
        number = index + 1
        line = lines[index].strip()
        if line == FENCE:
            return fields, index
        if not line or line.startswith("#"):
            continue
        match = FIELD_LINE.fullmatch(line)
        if not match:
            raise SourceError(
                f'Line {number}: expected a front-matter line "name: value", '
                f"found {line[:60]!r} (is the closing {FENCE!r} missing?)."
            )
        name = match.group("name").lower()
        if name not in FIELDS:
            raise SourceError(
                f'Line {number}: unknown front-matter field "{match.group("name")}"; '
                f"expected one of {', '.join(FIELDS)}."
            )
        if name in fields:
            raise SourceError(
                f'Line {number}: the front-matter field "{name}" is given twice '
                f"(first on line {fields[name][1]})."
            )
        fields[name] = (_unquote(match.group("value"), line=number), number)
    raise SourceError(
        f"Line 1: the front matter opened here is never closed: expected a line "
        f"{FENCE!r} after its fields, before the Markdown body."
    )


def _parse_date(value, *, line):
    try:
        if not DATE.fullmatch(value):
            raise ValueError
        moment = datetime.fromisoformat(value)  # refuses 2024-02-30 or 25:00
    except ValueError:
        raise SourceError(
            f'Line {line}: date "{value}" is not a date; expected {DATE_EXAMPLES}.'
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_markdown(text: str) -> SourceArticle:
    """Parse decoded text (see decode_source) in the shape this module's
    docstring describes."""
    _refuse_lone_surrogates(text)
    lines = text.split("\n")
    if lines[0].rstrip() != FENCE:
        raise SourceError(
            f"Line 1: expected {FENCE!r}, opening the front matter (the title and "
            "other fields) before the Markdown body."
        )
    fields, closing = _read_front_matter(lines)
    values = {name: value.strip() for name, (value, _) in fields.items()}

    title = values.get("title", "")
    if not title:
        line = fields["title"][1] if "title" in fields else closing + 1
        raise SourceError(
            f'Line {line}: the article has no title; expected a line "title: ..." '
            "in the front matter."
        )
    published_at = None
    if values.get("date"):
        published_at = _parse_date(values["date"], line=fields["date"][1])
    status = values.get("status", "").lower() or "published"
    if status not in STATUSES:
        raise SourceError(
            f'Line {fields["status"][1]}: status "{values["status"]}" is not one '
            f"of {', '.join(STATUSES)}."
        )

    body_lines = lines[closing + 1 :]
    while body_lines and not body_lines[0].strip():
        body_lines.pop(0)
    while body_lines and not body_lines[-1].strip():
        body_lines.pop()
    if not body_lines:
        raise SourceError(
            f"Line {closing + 1}: the article has no body: expected its Markdown "
            f"after the front matter's closing {FENCE!r}."
        )

    key = values.get("key", "")
    return SourceArticle(
        system="markdown",
        source_id=key,
        key=key,
        title=title,
        slug=values.get("slug", ""),
        body="\n".join(body_lines),
        body_format="markdown",
        author=values.get("author", ""),
        published_at=published_at,
        source_url=values.get("source_url", ""),
        status=status,
        lead=values.get("lead", ""),
        lead_author=values.get("lead_author", ""),
        comments=[],
        where="line 1",
    )

"""Our own JSON export format (articles/exporters.py) read back as SourceArticles.

Version 1 of the format, "forum-articles"::

    {"format": "forum-articles", "version": 1, "exported_at": "<ISO 8601>",
     "articles": [
       {"key": "<the article's key>", "title": "...", "slug": "...",
        "author": "...", "lead": "...", "lead_author": "...",
        "body": "...", "body_format": "text" | "html" | "markdown",
        "source_url": "...",
        "published_at": "<ISO 8601>" | null,
        "comments_closed_at": "<ISO 8601>" | null,
        "comments_closed_message": "...",
        "comments": [
          {"key": "<the comment's key, unique in its article>",
           "parent": "<an earlier comment's key>" | null,
           "author": "...", "email": "...", "url": "...",
           "created_at": "<ISO 8601>", "edited_at": "<ISO 8601>" | null,
           "status": "published" | "pending" | "spam" | "removed" | "deleted",
           "body": "..." ("" for "deleted": its author erased it),
           "moderation_code": "...", "moderation_reason": "..."}]}]}

Every key is required, except a comment's "email", which an export holds only
when asked to (``export_articles --include-emails``); no other key is allowed,
so a misspelt one is an error rather than a value silently dropped. Comments
come depth first, a parent before its replies, siblings in thread order.
Timestamps carry an offset ("+00:00" or "Z"). Keys are used as they stand: a
comment written on the site is exported as "forum:<host>:<id>".

The file is UTF-8 and read as a stream, one article at a time, so memory holds
one article and its comments whatever the size of the export. "format" and
"version" must come before "articles" (an export writes them first), so a file
of another kind is refused before any article is read.
"""

import codecs
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

from django.utils.dateparse import parse_datetime

from .base import BadArticle, SourceArticle, SourceComment, SourceError

FORMAT = "forum-articles"
VERSION = 1
CHUNK_BYTES = 64 * 1024
WHITESPACE = " \t\n\r"

BODY_FORMATS = ("text", "html", "markdown")
STATUSES = ("published", "pending", "spam", "removed", "deleted")
MODERATION_CODES = (
    "",
    "spam",
    "abuse",
    "off_topic",
    "misinformation",
    "illegal",
    "personal",
    "other",
)

# Each key with the kind of value it takes.
ARTICLE_FIELDS = {
    "key": "key",
    "title": "text",
    "slug": "text",
    "author": "text",
    "lead": "text",
    "lead_author": "text",
    "body": "text",
    "body_format": BODY_FORMATS,
    "source_url": "text",
    "published_at": "time or null",
    "comments_closed_at": "time or null",
    "comments_closed_message": "text",
    "comments": "list",
}
COMMENT_FIELDS = {
    "key": "key",
    "parent": "key or null",
    "author": "text",
    "email": "text",
    "url": "text",
    "created_at": "time",
    "edited_at": "time or null",
    "status": STATUSES,
    "body": "text",
    "moderation_code": MODERATION_CODES,
    "moderation_reason": "text",
}
OPTIONAL_COMMENT_FIELDS = {"email"}
HEADER_FIELDS = {"format", "version", "exported_at", "articles"}


def iter_json(fileobj: BinaryIO) -> Iterator[SourceArticle | BadArticle]:
    """Each article of an export in our JSON format, with its comments.

    An article that breaks the format's rules comes as a BadArticle naming
    the element and the rule, and the next one is read; JSON that cannot be
    parsed, or a file of another format, raises SourceError.
    """
    stream = _JsonStream(fileobj)
    stream.expect("{", "the file must hold one JSON object")
    seen: dict[str, Any] = {}
    article_keys: set[str] = set()
    while True:
        if stream.next_is("}"):
            break
        if seen:
            stream.expect(",", 'expected "," or "}" after a value')
        name = stream.key()
        if name not in HEADER_FIELDS:
            raise SourceError(f'{stream.here()}: unknown key "{name}" in the file.')
        if name in seen:
            raise SourceError(f'{stream.here()}: "{name}" appears twice.')
        if name != "articles":
            seen[name] = stream.value()
            if name == "exported_at":
                _time(seen[name], name=name, where="The file")
            continue
        _check_header(seen, stream=stream)
        seen[name] = True
        stream.expect("[", '"articles" must be a list')
        index = 0
        while not stream.next_is("]"):
            if index:
                stream.expect(",", 'expected "," or "]" between articles')
            raw = stream.value()
            try:
                article = _article(raw, index=index)
                if article.key in article_keys:
                    raise SourceError(
                        f'{article.where} (key "{article.key}"): another article '
                        "has this key."
                    )
            except SourceError as error:
                # One bad article fails alone; the next may be fine.
                yield BadArticle(where=f"articles[{index}]", error=str(error))
            else:
                article_keys.add(article.key)
                yield article
            index += 1
    stream.end()
    if "articles" not in seen:
        _check_header(seen, stream=stream)
        raise SourceError('The file has no "articles".')


def _check_header(header: dict[str, Any], *, stream: "_JsonStream") -> None:
    if header.get("format") != FORMAT:
        raise SourceError(
            f'{stream.here()}: not a forum export: "format" must be "{FORMAT}", '
            'before "articles".'
        )
    version = header.get("version")
    if version != VERSION or isinstance(version, bool):
        raise SourceError(
            f'{stream.here()}: "version" must be {VERSION}, before "articles" '
            f"(this file says {json.dumps(version)})."
        )


def _article(raw: Any, *, index: int) -> SourceArticle:
    where = f"articles[{index}]"
    if not isinstance(raw, dict):
        raise SourceError(f"{where}: an article must be an object.")
    key = raw.get("key")
    named = f'{where} (key "{key}")' if isinstance(key, str) and key.strip() else where
    values = _fields(raw, ARTICLE_FIELDS, optional=set(), where=named)
    published_at = values["published_at"]
    article = SourceArticle(
        system="json",
        source_id=values["key"],
        key=values["key"],
        title=values["title"],
        slug=values["slug"],
        author=values["author"],
        lead=values["lead"],
        lead_author=values["lead_author"],
        body=values["body"],
        body_format=values["body_format"],
        source_url=values["source_url"],
        published_at=published_at,
        status="published" if published_at is not None else "draft",
        comments_closed_at=values["comments_closed_at"],
        comments_closed_message=values["comments_closed_message"],
        prefix_comment_ids=False,
        where=where,
    )
    keys: set[str] = set()
    for number, raw_comment in enumerate(values["comments"]):
        comment = _comment(
            raw_comment, where=f"{where}.comments[{number}]", named=named, keys=keys
        )
        keys.add(comment.source_id)
        article.comments.append(comment)
    return article


def _comment(raw: Any, *, where: str, named: str, keys: set[str]) -> SourceComment:
    # Messages name the article by key; SourceComment.where is the path alone.
    label = f"{named}, {where.rpartition('.')[2]}"
    if not isinstance(raw, dict):
        raise SourceError(f"{label}: a comment must be an object.")
    values = _fields(raw, COMMENT_FIELDS, optional=OPTIONAL_COMMENT_FIELDS, where=label)
    if values["key"] in keys:
        raise SourceError(f'{label}: another comment has the key "{values["key"]}".')
    parent = values["parent"]
    if parent is not None and parent not in keys:
        raise SourceError(
            f'{label}: "parent" "{parent}" is not a comment before this one '
            "(parents come before their replies)."
        )
    if values["status"] == "deleted" and values["body"]:
        raise SourceError(f'{label}: a deleted comment has no text: "body" must be "".')
    return SourceComment(
        source_id=values["key"],
        parent_id=parent,
        author_name=values["author"],
        author_email=values.get("email", ""),
        author_url=values["url"],
        created_at=values["created_at"],
        edited_at=values["edited_at"],
        body=values["body"],
        status=values["status"],
        moderation_code=values["moderation_code"],
        moderation_reason=values["moderation_reason"],
        where=where,
    )


def _fields(
    raw: dict[str, Any], fields: dict[str, Any], *, optional: set[str], where: str
) -> dict[str, Any]:
    """The values of ``raw``, each checked against its kind in ``fields``."""
    unknown = [name for name in raw if name not in fields]
    if unknown:
        raise SourceError(f'{where}: unknown key "{unknown[0]}".')
    values = {}
    for name, kind in fields.items():
        if name not in raw:
            if name in optional:
                continue
            raise SourceError(f'{where}: "{name}" is missing.')
        values[name] = _value(raw[name], kind=kind, name=name, where=where)
    return values


def _value(value: Any, *, kind: Any, name: str, where: str) -> Any:
    if isinstance(kind, tuple):
        if not isinstance(value, str) or value not in kind:
            choices = ", ".join(json.dumps(choice) for choice in kind)
            raise SourceError(
                f'{where}: "{name}" must be one of {choices}, not {json.dumps(value)}.'
            )
        return value
    if kind == "list":
        if not isinstance(value, list):
            raise SourceError(f'{where}: "{name}" must be a list.')
        return value
    nullable = kind.endswith(" or null")
    if value is None and nullable:
        return None
    if kind.startswith("time"):
        return _time(value, name=name, where=where)
    if not isinstance(value, str):
        described = "text" if kind == "text" else "a string"
        raise SourceError(
            f'{where}: "{name}" must be {described}{" or null" if nullable else ""}.'
        )
    if kind.startswith("key") and not value.strip():
        raise SourceError(f'{where}: "{name}" must not be empty.')
    return value


def _time(value: Any, *, name: str, where: str) -> datetime:
    if not isinstance(value, str):
        raise SourceError(f'{where}: "{name}" must be an ISO 8601 timestamp.')
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise SourceError(
            f'{where}: "{name}" is not an ISO 8601 timestamp: {json.dumps(value)}.'
        )
    if moment.tzinfo is None:
        raise SourceError(
            f'{where}: "{name}" has no time zone offset ({json.dumps(value)}); '
            'write one, e.g. "+00:00" or "Z".'
        )
    return moment.astimezone(UTC)


class _JsonStream:
    """JSON text read from a binary file a piece at a time, each value decoded
    by the json module once it is whole, with lines and columns for errors."""

    def __init__(self, fileobj: BinaryIO):
        self._file = fileobj
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._json = json.JSONDecoder()
        self._text = ""
        self._position = 0
        # Line and column of self._text[0] in the file, and lines decoded.
        self._line, self._column = 1, 1
        self._lines_read = 0
        self._eof = False
        self._started = False

    def here(self) -> str:
        line, column = self._place(self._position)
        return f"Line {line}, column {column}"

    def next_is(self, char: str) -> bool:
        """Whether the next character is ``char``; if so, it is consumed."""
        if self._peek() == char:
            self._position += 1
            return True
        return False

    def expect(self, char: str, message: str) -> None:
        if not self.next_is(char):
            found = self._peek()
            shown = json.dumps(found) if found else "the end of the file"
            raise SourceError(f"{self.here()}: {message}; found {shown}.")

    def key(self) -> str:
        if self._peek() != '"':
            self.expect('"', "expected a key in double quotes")
        name = self.value()
        self.expect(":", 'expected ":" after a key')
        return name

    def value(self) -> Any:
        self._peek()
        while True:
            try:
                value, end = self._json.raw_decode(self._text, self._position)
            except json.JSONDecodeError as error:
                # Perhaps only cut off where the text read so far ends.
                if self._more(at_least=len(self._text)):
                    continue
                line, column = self._place(error.pos)
                raise SourceError(
                    f"Line {line}, column {column}: not valid JSON ({error.msg})."
                ) from None
            # A number may go on past what has been read ("1" of "10").
            if end == len(self._text) and self._more(at_least=CHUNK_BYTES):
                continue
            self._position = end
            return value

    def end(self) -> None:
        if self._peek():
            raise SourceError(f"{self.here()}: more text after the JSON object.")

    def _peek(self) -> str:
        """The next character that is not whitespace, "" at the end."""
        while True:
            while (
                self._position < len(self._text)
                and self._text[self._position] in WHITESPACE
            ):
                self._position += 1
            if self._position < len(self._text):
                return self._text[self._position]
            if not self._more(at_least=CHUNK_BYTES):
                return ""

    def _more(self, *, at_least: int) -> bool:
        """Read on (at least ``at_least`` bytes, so retries stay few); False
        at the end of the file, with nothing changed."""
        if self._eof:
            return False
        wanted = max(at_least, CHUNK_BYTES)
        read = b""
        while len(read) < wanted:
            chunk = self._file.read(wanted - len(read))
            if not chunk:
                self._eof = True
                break
            read += chunk
        try:
            text = self._decoder.decode(read, final=self._eof)
        except UnicodeDecodeError as error:
            line = self._lines_read + error.object[: error.start].count(b"\n") + 1
            raise SourceError(
                f"Line {line}: not valid UTF-8 text (the file must be UTF-8)."
            ) from None
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        if not text:
            # A character cut in two at the end of what was read waits for
            # its other half.
            return not self._eof
        self._lines_read += text.count("\n")
        # What is consumed goes; the place of what stays is kept.
        self._line, self._column = self._place(self._position)
        self._text = self._text[self._position :] + text
        self._position = 0
        return True

    def _place(self, position: int) -> tuple[int, int]:
        newlines = self._text.count("\n", 0, position)
        if not newlines:
            return self._line, self._column + position
        return self._line + newlines, position - self._text.rfind("\n", 0, position)

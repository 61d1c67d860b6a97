"""What every importer shares: the parsed shape, the error, reading bytes."""

from dataclasses import dataclass, field
from datetime import datetime

MAX_BYTES = 5 * 1024 * 1024


class SourceError(ValueError):
    """The text cannot be imported; the message says where and why."""


@dataclass
class ParsedComment:
    body: str
    lines: list[int]
    parent_index: int | None = None
    source_key: str = ""


@dataclass
class ParsedArticle:
    title: str
    lead: str
    lead_author: str
    body: str
    comments: list[ParsedComment] = field(default_factory=list)


def decode_source(raw):
    """Bytes to text, refusing what is not UTF-8 text, naming the line."""
    if not raw.strip():
        raise SourceError("The file is empty.")
    if len(raw) > MAX_BYTES:
        raise SourceError(f"The file is larger than {MAX_BYTES // 1024 // 1024} MiB.")
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise SourceError(f"Line {line}: binary data (a NUL byte); expected text.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise SourceError(f"Line {line}: not valid UTF-8 text.") from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


@dataclass
class SourceComment:
    """A comment as an export gives it, before any sanitising or writing."""

    source_id: str
    parent_id: str | None  # the source's id of the parent; None at the top level
    author_name: str
    author_email: str
    author_url: str
    created_at: datetime | None  # aware, UTC
    body: str  # as in the source (HTML for WXR and Disqus): the writer sanitises
    status: str  # published, pending, spam, removed or deleted
    where: str  # for error messages: "line 120"
    edited_at: datetime | None = None
    # Why a moderator removed it (our own export carries these).
    moderation_code: str = ""
    moderation_reason: str = ""


@dataclass
class SourceArticle:
    """An article and its comments as an export gives them."""

    system: str  # wordpress or disqus: with source_id, the source identity
    source_id: str
    title: str
    slug: str
    body: str
    author: str
    published_at: datetime | None
    source_url: str
    status: str  # published or draft
    comments: list[SourceComment] = field(default_factory=list)
    # Entries the source holds but we do not import, by kind: {"pingback": 2}.
    skipped: dict[str, int] = field(default_factory=dict)
    where: str = ""
    # The article's key when the source states it (our json, a Markdown
    # header); else the writer derives it from system, site and source_id.
    key: str = ""
    site: str = ""  # the exporting site (WordPress base URL, Disqus forum)
    body_format: str = "html"  # text, html or markdown
    lead: str = ""
    lead_author: str = ""
    comments_closed_at: datetime | None = None
    comments_closed_message: str = ""
    # Comment ids are keys as they stand (json, text) or need the system's
    # prefix ("wordpress:12"), so two sources' ids never meet.
    prefix_comment_ids: bool = True


@dataclass
class BadArticle:
    """An article a source holds but that cannot be read: it fails alone, and
    the reader goes on to the next one."""

    where: str
    error: str

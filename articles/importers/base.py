"""What every importer shares: the parsed shape, the error, reading bytes."""

from dataclasses import dataclass, field

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

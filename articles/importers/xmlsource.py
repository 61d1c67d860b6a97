"""Streaming, hardened XML reading for the export importers, with line numbers."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import BinaryIO
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.ElementTree import iterparse

from .base import SourceError

CHUNK_BYTES = 64 * 1024


class LineReader:
    """A binary file read at most one line at a time, counting lines.

    iterparse yields every event of a chunk before it reads the next one, so
    while an event is handled, ``line`` is the line its tag ended on.
    """

    def __init__(self, fileobj: BinaryIO):
        self._file = fileobj
        self._buffer = b""
        # An offset into the buffer: slicing its rest off would copy it per line.
        self._position = 0
        self._next_line = 1
        self.line = 1

    def read(self, size: int = -1) -> bytes:
        if self._position >= len(self._buffer):
            self._buffer, self._position = self._file.read(CHUNK_BYTES), 0
            if not self._buffer:
                return b""
        start = self._position
        end = self._buffer.find(b"\n", start) + 1 or len(self._buffer)
        if size > 0:
            end = min(end, start + size)
        piece = self._buffer[start:end]
        self._position = end
        self.line = self._next_line
        if piece.endswith(b"\n"):
            self._next_line += 1
        return piece


def iter_events(
    fileobj: BinaryIO, *, events: tuple[str, ...]
) -> Iterator[tuple[str, Element | tuple[str, str], int]]:
    """(event, element, line) from iterparse; refusals become SourceError.

    Entity declarations and external references are refused (defusedxml)
    before any of the document's elements are seen.
    """
    reader = LineReader(fileobj)
    try:
        for event, element in iterparse(reader, events=events):
            yield event, element, reader.line
    except EntitiesForbidden:
        raise SourceError(
            f"Line {reader.line}: the file declares XML entities, which are "
            "refused (entity expansion attacks)."
        ) from None
    except DTDForbidden:
        raise SourceError(
            f"Line {reader.line}: the file has a document type declaration, "
            "which is refused."
        ) from None
    except DefusedXmlException:
        raise SourceError(
            f"Line {reader.line}: the file refers to an external resource, "
            "which is refused."
        ) from None
    except SyntaxError as error:  # ElementTree's ParseError
        line, column = getattr(error, "position", (reader.line, 0))
        reason = str(error).split(": line ")[0]
        raise SourceError(
            f"Line {line}, column {column + 1}: not well-formed XML ({reason})."
        ) from None


def parse_timestamp(value: str, *, where: str) -> datetime | None:
    """A source date as an aware UTC datetime; None when the source has none.

    Dates without an offset are taken as UTC: WordPress's ``*_gmt`` fields are.
    """
    value = value.strip()
    # WordPress writes this for "no date" (drafts have no GMT date).
    if not value or value.startswith("0000-00-00"):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SourceError(f"{where}: {value!r} is not a date.") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def text_of(element: Element, tag: str) -> str:
    """The text of the first ``tag`` child, "" when missing or empty."""
    return element.findtext(tag) or ""


def upper_first(where: str) -> str:
    """A location made fit to open a message: "line 3" becomes "Line 3"."""
    return where[:1].upper() + where[1:]

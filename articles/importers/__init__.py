"""Importers: each reads one kind of source into SourceArticles (base.py);
writer.py puts each article in the database in a transaction of its own.

Formats: ``text`` (plaintext.py, the seed's raw shape), ``markdown``,
``json`` (our own export, jsonfmt.py), ``wxr`` (WordPress), ``disqus``.
"""

import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError

from .base import (
    BadArticle,
    ParsedArticle,
    ParsedComment,
    SourceArticle,
    SourceComment,
    SourceError,
    decode_source,
)
from .detect import HEAD_BYTES, detect_format
from .disqus import iter_disqus
from .jsonfmt import iter_json
from .markdown import parse_markdown
from .plaintext import parse_article_text
from .writer import ArticleReport, article_key, write_article
from .wxr import iter_wxr

__all__ = [
    "FORMATS",
    "ArticleReport",
    "ImportRun",
    "ParsedArticle",
    "ParsedComment",
    "SourceArticle",
    "SourceComment",
    "SourceError",
    "article_key",
    "decode_source",
    "import_article",
    "import_sources",
    "load_seeds",
    "parse_article_text",
    "read_source",
    "source_files",
    "text_source",
]

FORMATS = ("text", "markdown", "json", "wxr", "disqus")
# Files a folder import reads; others (images, notes) are passed over.
SUFFIXES = {".txt", ".text", ".md", ".markdown", ".json", ".xml", ".wxr"}

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"
# The shipped seed files, the titles their text does not carry, and their keys
# (from before keys stopped being file names: kept, so running sites update).
SEEDS = {
    "kazakhstan-joins-abraham-accords.txt": {
        "title": "Kazakhstan joins the Abraham Accords",
        "key": "file:kazakhstan-joins-abraham-accords",
        "slug": "kazakhstan-joins-abraham-accords",
    },
}


def text_source(
    parsed: ParsedArticle,
    *,
    key: str = "",
    title: str = "",
    slug: str = "",
    source_url: str = "",
) -> SourceArticle:
    """A parsed plain-text article as a SourceArticle: comments keyed by their
    text hashes (plaintext._source_keys), parents by key."""
    comments = [
        SourceComment(
            source_id=comment.source_key,
            parent_id=(
                parsed.comments[comment.parent_index].source_key
                if comment.parent_index is not None
                else None
            ),
            author_name="",
            author_email="",
            author_url="",
            created_at=None,
            body=comment.body,
            status="published",
            where=(
                f"lines {comment.lines[0]}-{comment.lines[-1]}"
                if len(comment.lines) > 1
                else f"line {comment.lines[0]}"
            ),
        )
        for comment in parsed.comments
    ]
    return SourceArticle(
        system="text",
        source_id=key,
        key=key,
        title=title or parsed.title,
        slug=slug,
        body=parsed.body,
        body_format="text",
        author="",
        lead=parsed.lead,
        lead_author=parsed.lead_author,
        published_at=None,
        source_url=source_url,
        status="published",
        comments=comments,
        prefix_comment_ids=False,
        where="line 1",
    )


def import_article(
    parsed: ParsedArticle,
    *,
    source_key: str = "",
    title: str = "",
    slug: str = "",
    source_url: str = "",
    dry_run: bool = False,
    origin: str = "",
) -> ArticleReport:
    """Import one parsed plain-text article (the seed loader's and the tests'
    way in); see writer.write_article."""
    source = text_source(
        parsed, key=source_key, title=title, slug=slug, source_url=source_url
    )
    return write_article(source, origin=origin or source_key, dry_run=dry_run)


def load_seeds(*, dry_run: bool = False) -> list[ArticleReport]:
    """Import every shipped seed file; returns one report each."""
    reports = []
    for name, options in SEEDS.items():
        path = SEED_DIR / name
        parsed = parse_article_text(decode_source(path.read_bytes()))
        reports.append(
            import_article(
                parsed,
                source_key=options["key"],
                title=options["title"],
                slug=options["slug"],
                dry_run=dry_run,
                origin=f"seed {name}",
            )
        )
    return reports


def source_files(sources: list[str | Path]) -> Iterator[Path]:
    """Each file named, and each importable file under each folder named, in
    name order; a name that is neither is a SourceError."""
    for source in sources:
        path = Path(source)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if Path(name).suffix.lower() in SUFFIXES and not name.startswith(
                        "."
                    ):
                        yield Path(root) / name
        elif path.is_file():
            yield path
        else:
            raise SourceError(f"{source}: no such file or folder.")


class _Counting(io.RawIOBase):
    """A file that counts the bytes read from it, for the progress bar."""

    def __init__(self, raw, on_read):
        self._raw, self._on_read = raw, on_read

    def readable(self):
        return True

    def readinto(self, buffer):
        count = self._raw.readinto(buffer)
        if count:
            self._on_read(count)
        return count


def read_source(
    path: Path,
    *,
    format: str | None = None,
    on_read: Callable[[int], None] | None = None,
) -> tuple[str, Iterator[SourceArticle | BadArticle]]:
    """(format, its articles): XML and json streamed, text and Markdown (one
    article a file) read whole."""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise SourceError(f"cannot read it: {error.strerror}.") from None
    head = handle.read(HEAD_BYTES)
    handle.seek(0)
    format = format or detect_format(head)
    streamed = {"wxr": iter_wxr, "disqus": iter_disqus, "json": iter_json}
    if format in streamed:
        stream = io.BufferedReader(_Counting(handle, on_read or (lambda n: None)))
        return format, _closing(streamed[format](stream), handle)
    with handle:
        raw = handle.read()
    if on_read:
        on_read(len(raw))
    text = decode_source(raw)
    if format == "markdown":
        return format, iter([parse_markdown(text)])
    return format, iter([text_source(parse_article_text(text))])


def _closing(articles, handle):
    with handle:
        yield from articles


@dataclass
class ImportRun:
    """Every article's report, and the files that could not be read at all."""

    reports: list[ArticleReport] = field(default_factory=list)

    @property
    def failed(self):
        return [r for r in self.reports if r.outcome == "failed"]

    def totals(self) -> str:
        counts = {}
        for report in self.reports:
            counts[report.outcome] = counts.get(report.outcome, 0) + 1
        articles = ", ".join(
            f"{n:,} {outcome}" for outcome, n in sorted(counts.items())
        )
        created = sum(r.comments_created for r in self.reports)
        updated = sum(r.comments_updated for r in self.reports)
        unchanged = sum(r.comments_unchanged for r in self.reports)
        missing = sum(len(r.parent_missing) for r in self.reports)
        dry = any(r.dry_run for r in self.reports)
        text = (
            f"{len(self.reports):,} article(s): {articles or 'none'}; comments: "
            f"{created:,} added, {updated:,} updated, {unchanged:,} unchanged"
        )
        if missing:
            text += f", {missing:,} put at the top level (parent not in the source)"
        return ("Dry run, nothing written: " if dry else "") + text + "."


def import_sources(
    sources: list[str | Path],
    *,
    format: str | None = None,
    dry_run: bool = False,
    status: str | None = None,
    on_conflict: str = "update",
    on_report: Callable[[ArticleReport], None] | None = None,
    on_read: Callable[[int], None] | None = None,
    on_comments: Callable[[int], None] | None = None,
) -> ImportRun:
    """Import every article of every source, each in its own transaction.

    An article that cannot be imported fails alone (its report says where and
    why) and the others land; a file that cannot be read or parsed past some
    point fails from there on, with what came before it imported.
    """
    run = ImportRun()
    seen_keys: dict[str, str] = {}

    def done(report):
        run.reports.append(report)
        if on_report:
            on_report(report)

    for path in source_files(sources):
        try:
            kind, articles = read_source(path, format=format, on_read=on_read)
        except SourceError as error:
            done(ArticleReport(origin=str(path), outcome="failed", error=str(error)))
            continue
        position = 0
        while True:
            try:
                source = next(articles)
            except StopIteration:
                break
            except SourceError as error:
                # The file cannot be read past here; what came before landed.
                done(
                    ArticleReport(origin=str(path), outcome="failed", error=str(error))
                )
                break
            position += 1
            if isinstance(source, BadArticle):
                failed = ArticleReport(
                    origin=f"{path} ({source.where})", outcome="failed"
                )
                failed.error = source.error
                done(failed)
                continue
            origin = _origin(path, kind, source, position)
            try:
                report = write_article(
                    source,
                    origin=origin,
                    status=status,
                    on_conflict=on_conflict,
                    dry_run=dry_run,
                    seen_keys=seen_keys,
                    progress=on_comments,
                )
            except (SourceError, DatabaseError) as error:
                # A database refusal (a value too long for a column, say) is
                # this article's failure too, rolled back with it.
                if isinstance(error, DatabaseError):
                    error = f"the database refused it: {str(error).strip()}"
                report = ArticleReport(
                    origin=origin,
                    title=source.title,
                    outcome="failed",
                    error=str(error),
                    dry_run=dry_run,
                )
            done(report)
    return run


def _origin(path, kind, source, position):
    if kind in ("text", "markdown"):
        return str(path.resolve())
    where = f" ({source.where})" if source.where else f" (article {position})"
    return f"{path.resolve()}{where}"

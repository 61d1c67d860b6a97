"""Importers: each parses one kind of source into a ParsedArticle; this module
upserts it, all or nothing, keyed by source ids so re-imports update."""

from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from articles.models import Article
from forum.models import Comment
from forum.services import post_comment, refresh_article_fragments

from .base import ParsedArticle, ParsedComment, SourceError, decode_source
from .plaintext import parse_article_text

__all__ = [
    "ImportResult",
    "ParsedArticle",
    "ParsedComment",
    "SourceError",
    "decode_source",
    "import_article",
    "import_article_file",
    "load_seeds",
    "parse_article_text",
]

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"
# The shipped seed files and the titles their text does not carry.
SEEDS = {
    "kazakhstan-joins-abraham-accords.txt": {
        "title": "Kazakhstan joins the Abraham Accords",
    },
}


@dataclass
class ImportResult:
    article: Article
    created: bool = False
    changed_fields: list[str] = field(default_factory=list)
    comments_added: int = 0
    comments_unchanged: int = 0
    comments_not_in_source: int = 0
    dry_run: bool = False

    @property
    def changed(self):
        return self.created or bool(self.changed_fields) or bool(self.comments_added)

    def summary(self):
        name = f"“{self.article.title}” ({self.article.slug})"
        prefix = "Dry run, nothing written: would have " if self.dry_run else ""
        if not self.changed:
            return (
                f"{prefix}Nothing to change: {name} and its "
                f"{self.comments_unchanged} comments are up to date."
            )
        parts = []
        if self.created:
            parts.append(f"created {name}")
        elif self.changed_fields:
            parts.append(f"updated {', '.join(self.changed_fields)} of {name}")
        else:
            parts.append(f"kept {name}")
        parts.append(
            f"added {_count(self.comments_added)}, kept {self.comments_unchanged}"
        )
        if self.comments_not_in_source:
            parts.append(
                f"left {_count(self.comments_not_in_source)} that are no longer "
                "in the source"
            )
        text = "; ".join(parts)
        return prefix + (text if self.dry_run else text[0].upper() + text[1:]) + "."


def _count(number):
    return f"{number} comment" if number == 1 else f"{number} comments"


def _unique_slug(base, source_key):
    base = base[:80].strip("-") or "article"
    slug, number = base, 1
    while Article.objects.filter(slug=slug).exclude(source_key=source_key).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


def _save_article(article):
    try:
        article.full_clean()
    except ValidationError as error:
        problems = "; ".join(
            f"{field}: {' '.join(messages)}"
            for field, messages in error.message_dict.items()
        )
        raise SourceError(f"The article cannot be saved: {problems}") from None
    article.save()


def import_article(
    parsed, *, source_key, title="", slug="", source_url="", dry_run=False
):
    """Create or update the article ``source_key`` and add its new comments.

    All or nothing: one transaction, rolled back on any error or on dry_run.
    Title and slug change on re-import only when given; comments already
    imported (same source key) are left as they are, moderated or not.
    """
    with transaction.atomic():
        article = Article.objects.select_for_update().filter(source_key=source_key)
        article = article.first()
        result = ImportResult(article=article, dry_run=dry_run)
        wanted = {
            "lead": parsed.lead,
            "lead_author": parsed.lead_author,
            "body": parsed.body,
        }
        if source_url:
            wanted["source_url"] = source_url
        if article is None:
            wanted["title"] = title or parsed.title
            wanted["slug"] = _unique_slug(slug or slugify(wanted["title"]), source_key)
            article = Article(
                source_key=source_key, published_at=timezone.now(), **wanted
            )
            _save_article(article)
            result.article, result.created = article, True
        else:
            if title:
                wanted["title"] = title
            if slug:
                wanted["slug"] = _unique_slug(slug, source_key)
            # Compared as stored: the fields clean text on its way in.
            result.changed_fields = [
                name
                for name, value in wanted.items()
                if getattr(article, name)
                != Article._meta.get_field(name).to_python(value)
            ]
            if result.changed_fields:
                for name in result.changed_fields:
                    setattr(article, name, wanted[name])
                _save_article(article)
                if "slug" in result.changed_fields:
                    # Stored comment fragments link to the old address.
                    refresh_article_fragments(article=article)
        existing = {
            comment.source_key: comment
            for comment in Comment.objects.filter(article=article).exclude(
                source_key=""
            )
        }
        made = []
        for parsed_comment in parsed.comments:
            comment = existing.pop(parsed_comment.source_key, None)
            if comment is None:
                parent = (
                    made[parsed_comment.parent_index]
                    if parsed_comment.parent_index is not None
                    else None
                )
                try:
                    comment = post_comment(
                        article=article,
                        body=parsed_comment.body,
                        parent=parent,
                        status=Comment.Status.PUBLISHED,
                        source_key=parsed_comment.source_key,
                    )
                except ValidationError as error:
                    lines = parsed_comment.lines
                    where = (
                        f"Lines {lines[0]}-{lines[-1]}"
                        if len(lines) > 1
                        else (f"Line {lines[0]}")
                    )
                    raise SourceError(
                        f"{where}: comment refused: {' '.join(error.messages)}"
                    ) from None
                result.comments_added += 1
            else:
                result.comments_unchanged += 1
            made.append(comment)
        result.comments_not_in_source = len(existing)
        if dry_run:
            transaction.set_rollback(True)
    return result


def import_article_file(path, *, source_key="", **options):
    """Read, parse and import one file; SourceError names what is wrong."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SourceError(f"Cannot read {path}: {error.strerror}.") from None
    parsed = parse_article_text(decode_source(raw))
    key = source_key or options.get("source_url") or f"file:{path.stem}"
    return import_article(parsed, source_key=key, **options)


def load_seeds(*, dry_run=False):
    """Import every shipped seed file; returns one ImportResult each."""
    return [
        import_article_file(
            SEED_DIR / name, slug=Path(name).stem, dry_run=dry_run, **options
        )
        for name, options in SEEDS.items()
    ]

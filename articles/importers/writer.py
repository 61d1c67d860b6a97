"""One SourceArticle into the database, in its own transaction: the article
upserted by its key, its comments matched by their source keys, what is new
written in bulk (forum.services.write_imported_comments).

Rules, from issue 8:

- Keys: an article's is the source's own (our json, a Markdown header) or
  derived from the source identity (``wordpress:<site>/?p=12``,
  ``disqus:<forum>:<thread>``, ``text:<title>``); a comment's is the source's
  id with the system as prefix (``wordpress:57``), or a text hash for plain
  text. Parents are found by key, never by position.
- The site wins: a comment already here keeps its status, place and
  moderation; only an edit of its text in the source lands (with a revision).
  Comments written here, or gone from the source, are never touched.
- A comment whose parent is not in the source (nor here) goes in at the top
  level and is reported; one whose parent a moderator removed here goes under
  its placeholder, as it was in the source.
"""

import difflib
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from articles.models import Article
from forum.markup import render_comment, without_lone_surrogates
from forum.models import Comment
from forum.services import (
    ImportedComment,
    ImportedEdit,
    write_imported_comments,
)

from .base import SourceArticle, SourceComment, SourceError

STATUSES = {choice.value for choice in Comment.Status}
REASONS = {choice.value for choice in Comment.RemovalReason}
# Systems whose article keys are derived from content, not from an id: a key
# met again from another file is a clash unless the article is the same.
DERIVED_KEY_SYSTEMS = {"text", "markdown"}
# Systems whose comments come as HTML (our own WXR export, keyed by
# _forum_key, holds our text and is read as it is).
HTML_COMMENT_SYSTEMS = {"wordpress", "disqus"}
# Plain text has no comment ids: a typo fixed in the source is the same
# comment when its text is this close to one under the same parent.
SIMILAR_TEXT = 0.8
CHUNK = 1000


@dataclass
class ArticleReport:
    """What the import of one article did (or, dry, would do)."""

    origin: str
    key: str = ""
    title: str = ""
    slug: str = ""
    outcome: str = ""  # created, updated, unchanged, skipped, failed
    changed_fields: list[str] = field(default_factory=list)
    comments_created: int = 0
    comments_updated: int = 0
    comments_unchanged: int = 0
    comments_not_in_source: int = 0
    # Where in the source, for each comment put at the top level because its
    # parent was not in the source.
    parent_missing: list[str] = field(default_factory=list)
    skipped_entries: dict[str, int] = field(default_factory=dict)
    error: str = ""
    dry_run: bool = False
    article: Article | None = None

    @property
    def created(self):
        return self.outcome == "created"

    @property
    def changed(self):
        return self.outcome in ("created", "updated")

    def summary(self) -> str:
        name = f"“{self.title}” ({self.slug})" if self.slug else f"“{self.title}”"
        would = "would be " if self.dry_run else ""
        if self.outcome == "failed":
            return f"{self.origin}: FAILED, nothing written for it: {self.error}"
        if self.outcome == "skipped":
            return (
                f"{self.origin}: skipped {name}: it is already here "
                "(--on-conflict skip)."
            )
        head = {
            "created": f"{would}created",
            "updated": f"{would}updated ({', '.join(self.changed_fields)})",
            "unchanged": "up to date",
        }[self.outcome]
        parts = [
            f"comments: {self.comments_created:,} {would}added, "
            f"{self.comments_updated:,} {would}updated, "
            f"{self.comments_unchanged:,} unchanged"
        ]
        if self.comments_not_in_source:
            parts.append(
                f"{self.comments_not_in_source:,} here but no longer in the source "
                "(kept)"
            )
        if self.parent_missing:
            shown = "; ".join(self.parent_missing[:5])
            more = len(self.parent_missing) - 5
            parts.append(
                f"{len(self.parent_missing):,} whose parent is not in the source "
                f"{would}put at the top level ({shown}"
                + (f"; and {more:,} more)" if more > 0 else ")")
            )
        for kind, count in sorted(self.skipped_entries.items()):
            parts.append(f"{count:,} {kind or 'other'} entries skipped")
        return f"{self.origin}: {name} {head}; " + "; ".join(parts) + "."


def article_key(source: SourceArticle) -> str:
    """The article's key: stated by the source, or derived from its identity."""
    if source.key:
        return source.key
    if source.system == "wordpress":
        site = f"{source.site}/" if source.site else ""
        return f"wordpress:{site}?p={source.source_id}"
    if source.system == "disqus":
        return f"disqus:{source.site}:{source.source_id}"
    if source.system in DERIVED_KEY_SYSTEMS:
        slug = slugify(source.slug or source.title, allow_unicode=True)
        return f"{source.system}:{slug or 'untitled'}"
    return f"{source.system}:{source.source_id}"


def comment_key(source: SourceArticle, source_id: str) -> str:
    if source.prefix_comment_ids:
        return f"{source.system}:{source_id}"
    return source_id


def write_article(
    source: SourceArticle,
    *,
    origin: str,
    status: str | None = None,
    on_conflict: str = "update",
    dry_run: bool = False,
    seen_keys: dict[str, str] | None = None,
    progress=None,
) -> ArticleReport:
    """Import ``source`` in a transaction of its own; dry, roll it back.

    ``origin`` names where it came from (file and item) for messages and for
    key clashes; ``seen_keys`` maps the keys of this run's earlier articles to
    their origins, so two sources of one run claiming one key is an error
    naming both. Raises SourceError, with nothing written, when the article
    cannot be imported.
    """
    key = article_key(source)
    report = ArticleReport(
        origin=origin,
        key=key,
        title=source.title,
        dry_run=dry_run,
        skipped_entries=dict(source.skipped),
    )
    if seen_keys is not None:
        clash = key in seen_keys and seen_keys[key] != origin
        if clash and (source.system in DERIVED_KEY_SYSTEMS or source.key):
            raise SourceError(
                f"its key “{key}” is also that of {seen_keys[key]} in this "
                "import; give one of them a key of its own."
            )
        seen_keys[key] = origin
    comments = _prepared(source)
    with transaction.atomic(durable=True):
        article = _matching_article(source, key, origin)
        if article is not None and on_conflict == "skip":
            report.outcome = "skipped"
            report.title, report.slug = article.title, article.slug
            transaction.set_rollback(True)
            return report
        if article is not None:
            _refuse_clash(source, article, origin)
        article, report.outcome, report.changed_fields = _upsert_article(
            source, article, key=key, origin=origin, status=status
        )
        report.title, report.slug = article.title, article.slug
        report.article = article
        _write_comments(
            source, comments, article=article, report=report, progress=progress
        )
        if report.outcome == "unchanged" and (
            report.comments_created or report.comments_updated
        ):
            report.outcome = "updated"
            report.changed_fields = ["comments"]
        if dry_run:
            transaction.set_rollback(True)
    return report


def _prepared(source):
    """The source's comments by key, in source order; a key given twice, an
    unknown status or moderation reason refused, naming the comment."""
    keyed = {}
    for comment in source.comments:
        key = comment_key(source, comment.source_id)
        if key in keyed:
            raise SourceError(
                f"{comment.where}: comment {comment.source_id} appears twice "
                f"(first at {keyed[key].where})."
            )
        if comment.status not in STATUSES:
            raise SourceError(
                f"{comment.where}: unknown status “{comment.status}”; expected "
                f"one of {', '.join(sorted(STATUSES))}."
            )
        if comment.moderation_code and comment.moderation_code not in REASONS:
            raise SourceError(
                f"{comment.where}: unknown moderation reason "
                f"“{comment.moderation_code}”; expected one of "
                f"{', '.join(sorted(REASONS))}."
            )
        keyed[key] = comment
    return keyed


def _ordered(source, keyed):
    """(key, comment, parent key) with every parent before its replies, in
    source order otherwise; a parent key missing from the source is kept (the
    comment may be here already, or goes to the top level)."""
    children = {}
    roots = []
    for key, comment in keyed.items():
        parent = comment_key(source, comment.parent_id) if comment.parent_id else None
        if parent is None or parent not in keyed or parent == key:
            roots.append((key, parent))
        else:
            children.setdefault(parent, []).append(key)
    out = []
    placed = set()

    def walk(start):
        stack = [start]
        while stack:
            key, parent = stack.pop()
            if key in placed:
                continue  # the way back round a loop of parents
            placed.add(key)
            out.append((key, keyed[key], parent))
            stack.extend((child, key) for child in reversed(children.get(key, ())))

    for root in roots:
        walk(root)
    # What is left hangs in a loop of parents: cut each loop at its first
    # comment in source order, which goes to the top level as if orphaned.
    for key, comment in keyed.items():
        if key not in placed:
            walk((key, f"(a loop of parents: {comment.where})"))
    return out


def _matching_article(source, key, origin):
    # FOR NO KEY UPDATE: two imports of one article take turns, while readers'
    # comments (whose foreign key takes a KEY SHARE lock on this row) go on.
    locked = Article.objects.select_for_update(no_key=True)
    article = locked.filter(source_key=key).first()
    if article is None and source.system in DERIVED_KEY_SYSTEMS and not source.key:
        # The same file imported before, under the key its title gave then: its
        # first sentence was corrected, and it is still the same article.
        article = locked.filter(source_origin=origin).first()
    if article is None and source.system == "disqus" and source.source_url:
        # A Disqus thread belongs to the page it was on: an article imported
        # from that page already (say, from WordPress) gets its comments.
        url = source.source_url.rstrip("/")
        article = locked.filter(source_url__in=[url, url + "/"]).order_by("pk").first()
    return article


def _refuse_clash(source, article, origin):
    if source.system not in DERIVED_KEY_SYSTEMS or source.key:
        return
    if not article.source_origin or article.source_origin == origin:
        return
    if " ".join(article.body.split()) == " ".join(source.body.split()):
        return  # the same article, from a file that moved
    raise SourceError(
        f"its key “{article.source_key}” is that of “{article.title}”, imported "
        f"from {article.source_origin}, a different article; give one of them a "
        "key of its own."
    )


# WordPress and Disqus store a comment's paragraphs as HTML; ours are text
# with blank lines between paragraphs (forum.markup makes the <p>s). The
# other inline tags stay for the sanitiser to keep or escape.
PARAGRAPH_TAGS = re.compile(r"\s*</p\s*>\s*|\s*<p(?:\s[^<>]*)?>\s*", re.I)
LINE_BREAK = re.compile(r"<br\s*/?>", re.I)
BLANK_LINES = re.compile(r"\n{3,}")


def _comment_text(source, body):
    text = _clean(body)
    if source.system in HTML_COMMENT_SYSTEMS and source.prefix_comment_ids:
        text = LINE_BREAK.sub("\n", PARAGRAPH_TAGS.sub("\n\n", text))
        text = BLANK_LINES.sub("\n\n", text).strip()
    return text


def _clean(text):
    # Neither PostgreSQL's text nor a page can hold NUL; JSON can.
    text = without_lone_surrogates(text or "").replace("\x00", "\ufffd")
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _unique_slug(base, key):
    base = base[:80].strip("-") or "article"
    slug, number = base, 1
    while Article.objects.filter(slug=slug).exclude(source_key=key).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


def _upsert_article(source, article, *, key, origin, status):
    """Create the article, or update what the source says of an existing one
    (its text; never its address, publication or discussion state, which are
    the site's). Returns (article, outcome, changed field names)."""
    wanted = {
        "title": _clean(source.title) or source.source_url or f"Untitled ({key})",
        "author_name": _clean(source.author),
        "body": _clean(source.body),
        "body_format": source.body_format,
        "lead": _clean(source.lead),
        "lead_author": _clean(source.lead_author),
        "source_url": source.source_url.strip(),
    }
    if article is not None and source.system == "disqus" and article.source_key != key:
        # Matched by its address: Disqus knows nothing of the article's text.
        return article, "unchanged", []
    if article is None:
        publish = (status or source.status) == "published"
        article = Article(
            source_key=key,
            slug=_unique_slug(slugify(source.slug or wanted["title"]), key),
            published_at=(source.published_at or timezone.now()) if publish else None,
            comments_closed_at=source.comments_closed_at,
            comments_closed_message=_clean(source.comments_closed_message)[:300],
            source_origin=origin[:500],
            **wanted,
        )
        article.body_html = article.rendered_body()
        _save(article)
        return article, "created", []
    changed = [
        name
        for name, value in wanted.items()
        if getattr(article, name) != Article._meta.get_field(name).to_python(value)
    ]
    for name in changed:
        setattr(article, name, wanted[name])
    if {"body", "body_format"} & set(changed):
        article.body_html = article.rendered_body()
    article.source_origin = origin[:500]
    _save(article)
    return article, ("updated" if changed else "unchanged"), changed


def _save(article):
    try:
        article.full_clean()
    except ValidationError as error:
        problems = "; ".join(
            f"{name}: {' '.join(messages)}"
            for name, messages in error.message_dict.items()
        )
        raise SourceError(f"the article cannot be saved: {problems}") from None
    article.save()


def _write_comments(source, keyed, *, article, report, progress):
    existing = {}
    for pk, key, parent_id in (
        Comment.objects.filter(article=article)
        .exclude(source_key="")
        .values_list("pk", "source_key", "parent_id")
        .iterator(chunk_size=5000)
    ):
        existing[key] = (pk, parent_id)
    bodies = _bodies([existing[k][0] for k in keyed if k in existing])
    unmatched = None
    if source.system == "text":
        unmatched = _UnmatchedText(existing, keyed)
    resolved = {}  # source key -> ImportedComment or pk
    new, edits, rekeys = [], [], {}
    for key, comment, parent_key in _ordered(source, keyed):
        parent = None
        if parent_key is not None:
            parent = resolved.get(parent_key)
            if parent is None and parent_key in existing:
                parent = existing[parent_key][0]
            if parent is None:
                report.parent_missing.append(comment.where)
        body = _comment_text(source, comment.body)
        found = existing.get(key)
        pk = found[0] if found else None
        if pk is None and unmatched is not None:
            pk = unmatched.take(parent, body)
            if pk is not None:
                rekeys[pk] = key
        if pk is None:
            new.append(_imported(comment, key=key, parent=parent, body=body))
            resolved[key] = new[-1]
            continue
        resolved[key] = pk
        old_body = (
            bodies.get(pk)
            if unmatched is None or pk not in rekeys
            else unmatched.body(pk)
        )
        if (
            old_body is not None
            and comment.status != "deleted"
            and old_body != body
            and body
        ):
            edits.append(
                ImportedEdit(
                    pk=pk,
                    old_body=old_body,
                    body=body,
                    body_html=render_comment(body),
                    edited_at=comment.edited_at,
                )
            )
        else:
            report.comments_unchanged += 1
    seen = set(resolved.values())
    # Of this source's comments, that is: a Disqus import into an article
    # that came from WordPress does not count WordPress's comments.
    ours = f"{source.system}:" if source.prefix_comment_ids else ""
    report.comments_not_in_source = sum(
        1
        for key, (pk, _parent) in existing.items()
        if pk not in seen and key.startswith(ours)
    )
    result = write_imported_comments(
        article_id=article.pk, new=new, edits=edits, rekeys=rekeys, progress=progress
    )
    report.comments_created = result.created
    report.comments_updated = result.edited
    report.comments_unchanged += len(edits) - result.edited
    report.parent_missing += [
        f"{c.where} (its parent here was deleted)" for c in result.orphaned
    ]


def _bodies(pks):
    found = {}
    for start in range(0, len(pks), CHUNK):
        found.update(
            Comment.objects.filter(pk__in=pks[start : start + CHUNK]).values_list(
                "pk", "body"
            )
        )
    return found


def _imported(comment: SourceComment, *, key, parent, body):
    deleted = comment.status == Comment.Status.DELETED
    return ImportedComment(
        key=key,
        parent=parent,
        author_name=_clean(comment.author_name)[:100],
        author_email=_clean(comment.author_email)[:254],
        author_url=_clean(comment.author_url)[:500],
        # An author's deletion erased the text: a placeholder keeps its place.
        body="" if deleted else body,
        body_html="" if deleted else render_comment(body),
        status=comment.status,
        created_at=comment.created_at or timezone.now(),
        edited_at=comment.edited_at,
        moderation_code=comment.moderation_code,
        moderation_reason=_clean(comment.moderation_reason)[:500],
        where=comment.where,
    )


class _UnmatchedText:
    """Plain text's comments here that no key of the source matched, by parent:
    a source comment without a match takes one under the same parent with the
    same or nearly the same text (its typo was fixed, or keys were made by an
    older rule)."""

    def __init__(self, existing, keyed):
        self._by_parent = {}
        self._bodies = {}
        left = [
            (pk, parent_id)
            for key, (pk, parent_id) in existing.items()
            if key not in keyed and key.startswith("text:")
        ]
        bodies = _bodies([pk for pk, _parent in left])
        for pk, parent_id in left:
            self._by_parent.setdefault(parent_id, []).append(pk)
            self._bodies[pk] = bodies.get(pk, "")

    def body(self, pk):
        return self._bodies.get(pk)

    def take(self, parent, body):
        if parent is not None and not isinstance(parent, int):
            return None  # a new parent has no replies here yet
        candidates = self._by_parent.get(parent, [])
        best, best_ratio = None, SIMILAR_TEXT
        words = " ".join(body.split())
        for pk in candidates:
            other = " ".join(self._bodies[pk].split())
            if other == words:
                best = pk
                break
            ratio = difflib.SequenceMatcher(None, other, words).ratio()
            if ratio >= best_ratio:
                best, best_ratio = pk, ratio
        if best is not None:
            candidates.remove(best)
        return best

"""Parse plain-text articles with their reader comments, and upsert them.

The text shape (the shipped seed is one):

1. An optional first line ``Name: text``: the editor's lead note and its author.
2. The article body, one paragraph a line, up to the first blank line.
3. After the blank-line gap, reader comments, as scraped: no authors, no marked
   boundaries, replies only hinted at.

How comments are inferred, in this order, a paragraph at a time:

- Hard wraps: a line that does not end a sentence, followed by one that starts
  in lower case (and is not a bare URL), is one paragraph with it ("...“assignrf"
  / "them to a village").
- A blank line among the comments always ends a comment.
- Structure binds a paragraph to the comment above it: the paragraph before it
  ends with ``:``, or opens a ``<blockquote`` it never closes, or the paragraph
  is a bare URL (the source of what was just quoted).
- A reply starts a new comment, nested under the comment just above: it opens
  with ``@Name`` (no authors are given, so the addressee cannot be looked up),
  or with a response opener such as "Agree", "Well, ...", "Which, ...",
  "Say no more", "I'm reminded", leading emoji and punctuation ignored.
- Otherwise a paragraph continues the comment above when it is a short note
  (four words at most, "AI overview above"), when it opens with a connective or
  pronoun that needs what came before ("They", "However", "But", "And", "When",
  "Well, anyway", "On the one hand", ...), or when it points back with
  "this/these/those/that" at a word of that comment in its opening words ("My
  memories of this elderly Jewish couple").
- Anything else starts a new top-level comment.

A paragraph opening with ``<blockquote`` fused to its text and never closed (the
seed's ``<blockquoteThe War Strengthened Israel...``) was meant as a quotation:
it becomes a blockquote holding that line as its heading and the paragraph after
it, unless that is a URL. Every other character is kept as written.

Each comment's source key is a hash of its text, so a re-import recognises the
comments it made before, whatever else moved.
"""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from forum.models import Comment
from forum.services import post_comment

from .models import Article

SEED_DIR = Path(__file__).resolve().parent / "seed"
# The shipped seed files and the titles their text does not carry.
SEEDS = {
    "kazakhstan-joins-abraham-accords.txt": {
        "title": "Kazakhstan joins the Abraham Accords",
    },
}

MAX_BYTES = 5 * 1024 * 1024
TITLE_MAX_LENGTH = 120
LEAD_LINE = re.compile(r"^(?P<name>[A-Z][\w.'’ -]{0,59}?):\s+(?P<text>\S.*)$")
SENTENCE_END = re.compile(r"[.!?:;…][\s\"'”’)\]]*$")
FIRST_SENTENCE = re.compile(r"(?<=[a-z0-9][.!?])\s+(?=[A-Z“\"])")
BARE_URL = re.compile(r"^https?://\S+$")
BROKEN_BLOCKQUOTE = re.compile(r"^<blockquote(?=[^>\s])(?P<heading>[^>]*)$", re.I)
OPENING_NOISE = re.compile(r"^[\W_\s]+")
REPLY_OPENERS = re.compile(
    r"^(?:@\w|agree\b|agreed\b|i agree\b|disagree\b|exactly\b|indeed\b|true\b|"
    r"yes\b|no,|well,(?!\s*anyway)|which,|say no more\b|so true\b|good point\b|"
    r"thanks\b|thank you\b|i[’']m reminded\b)",
    re.I,
)
CONTINUATION_OPENERS = re.compile(
    r"^(?:they|their|them|however|but|and|also|then|when|sometimes|though|"
    r"anyway|well,\s*anyway|from there|on the one hand|on the other hand|"
    r"in addition|moreover|still)\b",
    re.I,
)
BACK_REFERENCE = re.compile(r"\b(?:this|these|those|that)\s+((?:\w+\s+){0,2}\w+)", re.I)
SHORT_NOTE_WORDS = 4
OPENING_WORDS = 6


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


def derive_title(body):
    first_paragraph = body.split("\n", 1)[0]
    sentence = FIRST_SENTENCE.split(first_paragraph, maxsplit=1)[0].rstrip(" .")
    if len(sentence) <= TITLE_MAX_LENGTH:
        return sentence
    return sentence[: TITLE_MAX_LENGTH - 1].rsplit(" ", 1)[0] + "…"


def _paragraphs(numbered_lines):
    """Join hard-wrapped lines; blank lines come out as None (a hard break)."""
    paragraphs = []
    for number, line in numbered_lines:
        text = line.strip()
        if not text:
            if paragraphs and paragraphs[-1] is not None:
                paragraphs.append(None)
            continue
        previous = paragraphs[-1] if paragraphs else None
        if (
            previous is not None
            and not SENTENCE_END.search(previous[0])
            and text[0].islower()
            and not BARE_URL.match(text)
        ):
            paragraphs[-1] = (previous[0] + " " + text, previous[1] + [number])
        else:
            paragraphs.append((text, [number]))
    return paragraphs


def _words(text):
    return {word.lower() for word in re.findall(r"\w{4,}", text)}


def _continues(text, comment_text, previous):
    if len(text.split()) <= SHORT_NOTE_WORDS:
        return True
    if CONTINUATION_OPENERS.match(text):
        return True
    opening = " ".join(text.split()[:OPENING_WORDS])
    known = _words(comment_text)
    return any(
        _words(match.group(1)) & known for match in BACK_REFERENCE.finditer(opening)
    )


def _group_comments(paragraphs):
    """Paragraphs to comments: a list of (paragraph texts, lines, parent index)."""
    comments = []
    previous = None
    for item in paragraphs:
        if item is None:
            previous = None
            continue
        text, lines = item
        stripped = OPENING_NOISE.sub("", text) if not text.startswith("@") else text
        current = comments[-1] if comments and previous is not None else None
        if current is not None and (
            previous.endswith(":")
            or BROKEN_BLOCKQUOTE.match(previous)
            or BARE_URL.match(text)
        ):
            current[0].append(text)
            current[1].extend(lines)
        elif current is not None and REPLY_OPENERS.match(stripped):
            comments.append(([text], list(lines), len(comments) - 1))
        elif current is not None and _continues(text, " ".join(current[0]), previous):
            current[0].append(text)
            current[1].extend(lines)
        else:
            comments.append(([text], list(lines), None))
        previous = text
    return comments


def _comment_body(paragraphs):
    """Join a comment's paragraphs, mending a fused, unclosed <blockquote."""
    out = []
    index = 0
    while index < len(paragraphs):
        text = paragraphs[index]
        broken = BROKEN_BLOCKQUOTE.match(text)
        if broken:
            quote = f"<strong>{broken.group('heading').strip()}</strong>"
            following = paragraphs[index + 1] if index + 1 < len(paragraphs) else None
            if following is not None and not BARE_URL.match(following):
                quote += "\n\n" + following
                index += 1
            text = f"<blockquote>{quote}</blockquote>"
        out.append(text)
        index += 1
    return "\n\n".join(out)


def _source_keys(comments):
    seen = {}
    for comment in comments:
        digest = hashlib.sha256(" ".join(comment.body.split()).encode()).hexdigest()
        seen[digest] = seen.get(digest, 0) + 1
        suffix = f"-{seen[digest]}" if seen[digest] > 1 else ""
        comment.source_key = f"text:{digest[:24]}{suffix}"


def parse_article_text(text):
    """Parse text in the shape described in this module's docstring."""
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    lead = lead_author = ""
    start = 0
    match = LEAD_LINE.match(lines[0].strip()) if lines else None
    if match and len(match.group("name").split()) <= 4:
        lead_author, lead = match.group("name").strip(), match.group("text").strip()
        start = 1
    body_lines = []
    index = start
    while index < len(lines) and lines[index].strip():
        body_lines.append(lines[index].strip())
        index += 1
    if not body_lines:
        where = f"line {start + 1}" if start < len(lines) else "the end of the file"
        raise SourceError(
            f"Line {start + 1}: missing article part: expected the article's "
            f"paragraphs at {where}, before the blank line that starts the comments."
        )
    body = "\n".join(body_lines)
    comment_lines = [(number + 1, lines[number]) for number in range(index, len(lines))]
    comments = [
        ParsedComment(
            body=_comment_body(texts), lines=numbers, parent_index=parent_index
        )
        for texts, numbers, parent_index in _group_comments(_paragraphs(comment_lines))
    ]
    _source_keys(comments)
    return ParsedArticle(
        title=derive_title(body),
        lead=lead,
        lead_author=lead_author,
        body=body,
        comments=comments,
    )


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
            result.changed_fields = [
                name
                for name, value in wanted.items()
                if getattr(article, name) != value
            ]
            if result.changed_fields:
                for name in result.changed_fields:
                    setattr(article, name, wanted[name])
                _save_article(article)
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

"""Plain-text articles with their reader comments, as scraped.

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

Each comment's source key is a hash of its parent's key and its text, so a
re-import recognises the comments it made before, whatever else moved; the
writer (articles/importers/writer.py) matches a comment whose text was
corrected to the one it was.
"""

import hashlib
import re

from .base import ParsedArticle, ParsedComment, SourceError

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
# Half of a UTF-16 pair on its own: no character, and no encoding (the source
# keys' hash, the database) can hold it. decode_source never makes one; a
# caller that hands the parser text of its own might.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
SHORT_NOTE_WORDS = 4
OPENING_WORDS = 6


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


def _continues(text, comment_text):
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
        elif current is not None and _continues(text, " ".join(current[0])):
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
    """Each comment's key: a hash of its parent's key and its own text, so an
    identical short reply ("Agree, totally.") elsewhere in the file, added or
    removed, never changes another's key. Twins under one parent are told
    apart by their order among themselves alone."""
    seen = {}
    for comment in comments:
        parent = (
            comments[comment.parent_index].source_key
            if comment.parent_index is not None
            else ""
        )
        text = " ".join(comment.body.split())
        digest = hashlib.sha256(f"{parent}\n{text}".encode()).hexdigest()[:24]
        seen[digest] = seen.get(digest, 0) + 1
        suffix = f"-{seen[digest]}" if seen[digest] > 1 else ""
        comment.source_key = f"text:{digest}{suffix}"


def _refuse_lone_surrogates(text):
    """Refuse text holding half a surrogate pair, naming its line, as
    decode_source refuses bytes that are not UTF-8."""
    found = LONE_SURROGATE.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise SourceError(
            f"Line {line}: not valid Unicode text (a lone surrogate, "
            f"U+{ord(found.group()):04X})."
        )


def parse_article_text(text):
    """Parse text in the shape described in this module's docstring."""
    _refuse_lone_surrogates(text)
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

"""The one place comment text becomes HTML: called once when a comment is
written, and the result stored in Comment.body_html."""

import re
from functools import partial

import bleach
import nh3
from bleach.linkifier import Linker

# What WordPress commenters are used to writing.
ALLOWED_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "blockquote", "q", "cite", "code", "del", "s"}
)
# Added by us around paragraphs and line breaks, never accepted from the writer.
STRUCTURE_TAGS = frozenset({"p", "br"})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc"

PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
BLOCKQUOTE_TAG = re.compile(r"(</?blockquote>)")
# Everything from a "<" up to the next ">" (kept) or the next "<" (not kept).
ANGLE = re.compile(r"<[^<>]*>?")
TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)((?:\s[^<>]*)?)/?>$")
ATTRIBUTE = re.compile(
    r"""\s*([^\s=/>"']+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?"""
)
# Half of a UTF-16 pair on its own is no character: nothing can encode it
# (nh3 and the database drivers raise on one). No form decoded by Django holds
# one, but a caller of the services might pass one.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(text):
    """``text`` with each lone surrogate replaced by U+FFFD, as a decoder
    replaces bytes it cannot read."""
    return LONE_SURROGATE.sub("\ufffd", text)


def _set_rel(attrs, new=False):
    attrs[(None, "rel")] = LINK_REL
    return attrs


_linker = Linker(callbacks=[_set_rel], skip_tags={"code"}, parse_email=False)
_sanitise = partial(
    bleach.clean,
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=False,
    strip_comments=False,
)


def _paragraphs(html):
    """Wrap blank-line separated runs in <p>, single newlines in <br>."""
    out = []
    for block in PARAGRAPH_BREAK.split(html.strip()):
        lines = [line.strip() for line in block.strip().splitlines()]
        if any(lines):
            out.append("<p>" + "<br>\n".join(lines) + "</p>")
    return "\n".join(out)


def _blocks(html):
    """Paragraphs outside and inside <blockquote>, which may span paragraphs.

    bleach's serialiser balances the blockquote tags, so a stack suffices.
    """
    out = []
    depth = 0
    for part in BLOCKQUOTE_TAG.split(html):
        if part == "<blockquote>":
            depth += 1
            out.append(part)
        elif part == "</blockquote>":
            depth = max(depth - 1, 0)
            out.append(part)
        elif part.strip():
            out.append(_paragraphs(part))
    return "\n".join(out)


def _readable_attributes(tag, attributes):
    """True if every attribute parses and is allowed on ``tag``."""
    allowed = ALLOWED_ATTRIBUTES.get(tag, set())
    position = 0
    while position < len(attributes.rstrip()):
        match = ATTRIBUTE.match(attributes, position)
        if not match or match.group(1).lower() not in allowed:
            return False
        position = match.end()
    return True


def _escape_unreadable_markup(text):
    """Escape every "<" that html5lib would swallow rather than show.

    That is: a tag never finished with ">", a comment, doctype or processing
    instruction, a tag carrying attributes we would strip, and an end tag that
    closes nothing. What remains is allowed markup, well-formed enough for
    bleach to keep, or text that bleach escapes anyway.
    """
    out = []
    position = 0
    open_tags = []
    for match in ANGLE.finditer(text):
        token = match.group()
        out.append(text[position : match.start()])
        position = match.end()
        tag = TAG.match(token)
        readable = False
        if tag:
            closing, name, attributes = tag.group(1), tag.group(2).lower(), tag.group(3)
            if closing:
                readable = name in open_tags and not attributes.strip()
                if readable:
                    del open_tags[len(open_tags) - 1 - open_tags[::-1].index(name) :]
            elif name in ALLOWED_TAGS and _readable_attributes(name, attributes):
                readable = True
                open_tags.append(name)
        elif not token.endswith(">") or token[1:2] in ("!", "?", "/"):
            readable = False
        else:
            readable = not token[1:2].isalpha()
        out.append(token if readable else "&lt;" + token[1:])
    out.append(text[position:])
    return "".join(out)


def render_comment(text):
    """Turn what a reader typed into safe HTML.

    Allowed tags are kept, every other tag and any broken markup is escaped so it
    shows as text: nothing a person wrote disappears. bleach does the work and
    nh3 (ammonia, maintained) is a second gate with the same allowlist.
    """
    text = without_lone_surrogates(text).replace("\r\n", "\n").replace("\r", "\n")
    text = _escape_unreadable_markup(text)
    html = _linker.linkify(_sanitise(text))
    html = _blocks(html)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS | STRUCTURE_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_PROTOCOLS),
        link_rel=LINK_REL,
        strip_comments=True,
    )

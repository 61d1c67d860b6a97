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
# html5lib would read these as comments or doctypes and drop them silently.
MARKUP_DECLARATION = re.compile(r"<(?=[!?])")


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


def render_comment(text):
    """Turn what a reader typed into safe HTML.

    Allowed tags are kept, every other tag and any broken markup is escaped so it
    shows as text: nothing a person wrote disappears. bleach does the work and
    nh3 (ammonia, maintained) is a second gate with the same allowlist.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = MARKUP_DECLARATION.sub("&lt;", text)
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

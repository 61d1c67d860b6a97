"""The one place comment text becomes HTML: called once when a comment is
written, and the result stored in Comment.body_html."""

import re
import threading
from functools import partial

import bleach
import nh3
from bleach.linkifier import Linker, LinkifyFilter

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


class _LinkifyOutsideCode(LinkifyFilter):
    """Turns bare URLs into links, except in text inside <code>, however deep.

    Not bleach's ``skip_tags`` (still so in 6.4): the text it skips misses the
    step that keeps character references intact (``extract_entities``, added
    for linkified text by mozilla/bleach#692 and for text inside <a> by #720),
    so the serialiser escaped the sanitiser's "&lt;" again: "<" showed "&lt;".
    Its skip also ended at the first </code>, though code may nest. Here the
    text inside <code> takes the same path as any other, only without links.
    """

    def __init__(self, source, **kwargs):
        self._code_depth = 0
        super().__init__(self._counting_code(source), **kwargs)

    def _counting_code(self, source):
        # LinkifyFilter handles each token as soon as it pulls it, so the depth
        # is that of the token whose text handle_links is about to read.
        for token in source:
            if token.get("name") == "code":
                if token["type"] == "StartTag":
                    self._code_depth += 1
                elif token["type"] == "EndTag":
                    self._code_depth -= 1
            yield token

    def handle_links(self, src_iter):
        if self._code_depth:
            return src_iter
        return super().handle_links(src_iter)


class _Linker(Linker):
    """bleach's Linker (parse, filter, serialise) with our filter."""

    def linkify(self, text):
        if not text:
            return ""
        return self.serializer.render(
            _LinkifyOutsideCode(
                self.walker(self.parser.parseFragment(text)),
                callbacks=self.callbacks,
                parse_email=self.parse_email,
                url_re=self.url_re,
                email_re=self.email_re,
            )
        )


# The parser inside a Linker keeps state while it works: one per thread.
_linkers = threading.local()


def _linkify(html):
    linker = getattr(_linkers, "linker", None)
    if linker is None:
        linker = _linkers.linker = _Linker(callbacks=[_set_rel], parse_email=False)
    return linker.linkify(html)


# Sanitising and linkifying in one pass (a Cleaner with LinkifyFilter) is no
# better: the sanitiser joins the "&" it makes of "&amp;" to the text after
# it, and the linkifier then reads "&amp;lt;" as "<".
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
    html = _linkify(_sanitise(text))
    html = _blocks(html)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS | STRUCTURE_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_PROTOCOLS),
        link_rel=LINK_REL,
        strip_comments=True,
    )


# An imported article may have structure a comment may not; everything else is
# as for comments (links, protocols). Unknown tags (WordPress's div, span,
# figure) are dropped with their text kept: in an article they are layout, not
# something a reader typed.
ARTICLE_TAGS = ALLOWED_TAGS | STRUCTURE_TAGS | {
    "h2", "h3", "h4", "ul", "ol", "li", "pre", "hr",
}  # fmt: skip
BLOCK_TAG = re.compile(r"<(?:p|h[2-4]|ul|ol|pre|blockquote)\b", re.I)
# What the page's own <h1> (the title) leaves to a body: h2 to h4.
TOP_HEADING = re.compile(r"<(/?)h1\b", re.I)
LOW_HEADING = re.compile(r"<(/?)h[56]\b", re.I)
# Scripts and styles go whole; the sanitiser would keep their text as prose.
# (Only tidiness: bleach below is what makes the HTML safe.)
SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)


def render_article(html):
    """Sanitise an imported article body (HTML, or Markdown already turned into
    HTML) with the comments' sanitisers and a wider tag list. A body without
    block tags (WordPress stores posts so) gets paragraphs from blank lines."""
    html = without_lone_surrogates(html).replace("\r\n", "\n").replace("\r", "\n")
    html = SCRIPT_OR_STYLE.sub("", html)
    html = LOW_HEADING.sub(r"<\1h4", TOP_HEADING.sub(r"<\1h2", html))
    html = bleach.clean(
        html,
        tags=ARTICLE_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    if not BLOCK_TAG.search(html):
        html = _blocks(html)
    return nh3.clean(
        html,
        tags=set(ARTICLE_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_PROTOCOLS),
        link_rel="noopener",
        strip_comments=True,
    ).strip()

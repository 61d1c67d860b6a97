"""render_comment: what a reader typed becomes safe HTML, and none of it vanishes."""

import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import nh3
import pytest

from forum.markup import render_article, render_comment

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS_FILE = Path(__file__).with_name("xss_vectors.txt")
SEED_FILE = REPO_ROOT / "articles" / "seed" / "kazakhstan-joins-abraham-accords.txt"
SEED_COMMENT_LINES = range(13, 47)  # 1-based, as an editor shows them

# The policy written out again rather than imported from forum.markup, so that
# widening the allowlist there has to be done here too, on purpose.
WRITER_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "blockquote", "q", "cite", "code", "del", "s"}
)
STRUCTURE_TAGS = {"p", "br"}
ALLOWED_TAGS = WRITER_TAGS | STRUCTURE_TAGS
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "rel"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc"
URL_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")


def _load_vectors():
    params = []
    lines = VECTORS_FILE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("# "):
            continue
        vector = line.replace("\\n", "\n").replace("\\t", "\t")
        params.append(pytest.param(vector, id=f"line{number}:{line[:50]}"))
    return params


XSS_VECTORS = _load_vectors()


class _Rendered(HTMLParser):
    """What a browser would build from the output, as far as html.parser sees."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.elements = []  # (tag, {attribute: value})
        self.text = []
        self.other = []  # comments, doctypes, processing instructions
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def handle_comment(self, data):
        self.other.append(f"<!--{data}-->")

    def handle_decl(self, decl):
        self.other.append(f"<!{decl}>")

    def handle_pi(self, data):
        self.other.append(f"<?{data}>")

    def unknown_decl(self, data):
        self.other.append(f"<![{data}]>")

    @property
    def visible_text(self):
        return _collapse("".join(self.text))

    def links(self):
        return [attrs for tag, attrs in self.elements if tag == "a"]


def _collapse(text):
    return " ".join(text.split())


def _scheme(href):
    """The scheme a browser would see, after entities, whitespace and controls."""
    kept = "".join(
        char
        for char in href
        if not char.isspace() and not unicodedata.category(char).startswith("C")
    )
    match = URL_SCHEME.match(kept.lower())
    return match.group(1) if match else None


def _nh3_again(html):
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes=ALLOWED_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def _assert_safe(html):
    rendered = _Rendered(html)
    assert rendered.other == [], html
    for tag, attrs in rendered.elements:
        assert tag in ALLOWED_TAGS, html
        assert set(attrs) <= ALLOWED_ATTRIBUTES.get(tag, set()), html
        assert not [name for name in attrs if name.startswith("on")], html
        if tag == "a":
            assert attrs.get("rel") == LINK_REL, html
            if attrs.get("href") is not None:
                assert _scheme(attrs["href"]) in ALLOWED_SCHEMES | {None}, html
    assert _nh3_again(html) == html


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vector_renders_to_allowed_markup_only(vector):
    _assert_safe(render_comment(vector))


def test_xss_corpus_is_large_enough_to_mean_something():
    assert len(XSS_VECTORS) >= 60


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "a < b && c > d",
        "<blink>hi</blink>",
        "<!-- note -->",
        "<?php echo 1 ?>",
        "<img src=x onerror=alert(1)>",
        "<p>my own paragraph</p>",
        "<!DOCTYPE html>",
        "<![CDATA[ raw ]]>",
        "I <3 this & I </3 that",
        "x<y, y>z",
        "<<script>script>evil()<</script>/script>",
        "<blockquoteThe War Strengthened Israel And Made Peace Possible",
        'Look at <this> and <that thing="here">',
    ],
)
def test_disallowed_markup_shows_as_the_text_that_was_written(text):
    html = render_comment(text)

    _assert_safe(html)
    assert _collapse(text) in _Rendered(html).visible_text


@pytest.mark.parametrize(
    "text",
    [
        'hello <img src="x',
        "it's <b class='x",
        "x <foo bar=",
        "x <foo/",
        "if a<b and c>d then",
        "x </> y",
        "stray </b> end tag",
        'x <b title="unclosed>bold</b> tail',
    ],
)
def test_unfinished_or_misread_tags_still_show_as_text(text):
    assert _collapse(text) in _Rendered(render_comment(text)).visible_text


def test_blank_lines_make_paragraphs_and_single_newlines_make_breaks():
    html = render_comment("first line\nsecond line\n\nnext paragraph")

    assert html == "<p>first line<br>\nsecond line</p>\n<p>next paragraph</p>"


def test_windows_and_old_mac_newlines_count_as_newlines():
    assert render_comment("a\r\nb\r\rc") == render_comment("a\nb\n\nc")


def test_blank_input_renders_nothing():
    assert render_comment("  \n\n \n") == ""


def test_bare_url_becomes_a_nofollow_ugc_link_to_itself():
    html = render_comment("see https://example.com/a?b=1&c=2 for more")

    assert _Rendered(html).links() == [
        {"href": "https://example.com/a?b=1&c=2", "rel": LINK_REL}
    ]
    assert _Rendered(html).visible_text == "see https://example.com/a?b=1&c=2 for more"


def test_bare_url_inside_code_is_left_as_text():
    html = render_comment("<code>https://example.com</code>")

    assert html == "<p><code>https://example.com</code></p>"


@pytest.mark.parametrize(
    ("written", "html"),
    [
        ("a < b", "a &lt; b"),
        ("a > b", "a &gt; b"),
        ("a && b", "a &amp;&amp; b"),
        ('say "hi"', 'say "hi"'),
        ("it's", "it's"),
        ("<script>", "&lt;script&gt;"),
        (
            "if a < b && c > d: <script>",
            "if a &lt; b &amp;&amp; c &gt; d: &lt;script&gt;",
        ),
    ],
)
def test_text_inside_code_is_escaped_once_and_shows_as_written(written, html):
    rendered = render_comment(f"<code>{written}</code>")

    assert rendered == f"<p><code>{html}</code></p>"
    assert _Rendered(rendered).visible_text == written


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("&amp;", "&"),
        ("&lt;b&gt;", "<b>"),
        ("&amp;lt;", "&lt;"),
        ("&quot;q&quot; &#39;s&#39;", "\"q\" 's'"),
        ("&copy; &#60; &#x3E;", "\u00a9 < >"),
        ("&bogus; & ;", "&bogus; & ;"),
    ],
)
def test_character_references_read_the_same_inside_code_as_outside(written, shown):
    inside = render_comment(f"<code>{written}</code>")
    outside = render_comment(written)

    assert _Rendered(inside).visible_text == shown
    assert _Rendered(outside).visible_text == shown
    _assert_safe(inside)


def test_only_urls_outside_code_become_links():
    html = render_comment(
        "https://a.example.com/?x=1&y=2 <code>https://b.example.com/?x=1&y=2</code> "
        "www.c.example.com <code>www.d.example.com</code> https://e.example.com"
    )

    assert [link["href"] for link in _Rendered(html).links()] == [
        "https://a.example.com/?x=1&y=2",
        "http://www.c.example.com",
        "https://e.example.com",
    ]
    assert "<code>https://b.example.com/?x=1&amp;y=2</code>" in html
    assert "<code>www.d.example.com</code>" in html


@pytest.mark.parametrize(
    "text",
    [
        "<code><b>https://a.example.com</b> and <i>http://b.example.com</i></code>",
        "<code><code>inner</code> https://a.example.com</code>",
        "<b><code>https://a.example.com</code></b>",
        "<blockquote><code>https://a.example.com\n\nhttps://b.example.com</code></blockquote>",
    ],
)
def test_url_anywhere_inside_code_stays_text(text):
    html = render_comment(text)

    assert _Rendered(html).links() == []
    assert "https://a.example.com" in _Rendered(html).visible_text


def test_url_after_code_closes_is_a_link_again():
    html = render_comment("<code>x &lt; y</code> https://a.example.com")

    assert _Rendered(html).links() == [
        {"href": "https://a.example.com", "rel": LINK_REL}
    ]
    assert _Rendered(html).visible_text == "x < y https://a.example.com"


@pytest.mark.parametrize(
    "text",
    [
        "<b>bold</b>",
        "<strong>strong</strong>",
        "<i>italic</i>",
        "<em>emphasis</em>",
        "<q>quoted</q>",
        "<cite>a title</cite>",
        "<code>x = 1</code>",
        "<del>deleted</del>",
        "<s>struck</s>",
    ],
)
def test_allowed_inline_tags_are_kept(text):
    assert render_comment(text) == f"<p>{text}</p>"


def test_allowed_blockquote_is_kept_with_its_text_in_a_paragraph():
    assert render_comment("<blockquote>quoted</blockquote>") == (
        "<blockquote>\n<p>quoted</p>\n</blockquote>"
    )


def test_written_link_is_kept_and_gets_nofollow_ugc():
    html = render_comment('<a href="https://example.com/page" title="A page">here</a>')

    assert _Rendered(html).links() == [
        {"href": "https://example.com/page", "title": "A page", "rel": LINK_REL}
    ]


def test_written_rel_is_replaced_by_nofollow_ugc():
    html = render_comment('<a href="https://example.com" rel="me author">me</a>')

    assert _Rendered(html).links() == [{"href": "https://example.com", "rel": LINK_REL}]


def test_mailto_link_is_kept():
    html = render_comment('<a href="mailto:editor@example.com">write</a>')

    assert _Rendered(html).links()[0]["href"] == "mailto:editor@example.com"


def test_javascript_href_is_dropped_but_the_link_text_stays():
    html = render_comment('<a href="javascript:alert(1)">click me</a>')

    assert _Rendered(html).links() == [{"rel": LINK_REL}]
    assert _Rendered(html).visible_text == "click me"


def test_blockquote_spanning_a_blank_line_holds_two_paragraphs():
    html = render_comment("<blockquote>first\n\nsecond</blockquote>\n\nmy reply")

    assert html == (
        "<blockquote>\n<p>first</p>\n<p>second</p>\n</blockquote>\n<p>my reply</p>"
    )


def test_rendering_is_deterministic():
    text = "<b>x</b> https://example.com <blockquote>q\n\nr</blockquote> <i>y"

    assert render_comment(text) == render_comment(text)


def _seed_comment_lines():
    lines = SEED_FILE.read_text(encoding="utf-8").splitlines()
    return [
        pytest.param(lines[number - 1], id=f"line{number}")
        for number in SEED_COMMENT_LINES
    ]


@pytest.mark.parametrize("line", _seed_comment_lines())
def test_seed_comment_renders_safely_and_keeps_every_character(line):
    html = render_comment(line)

    _assert_safe(html)
    assert _Rendered(html).visible_text == _collapse(line)


@pytest.mark.parametrize(
    ("number", "kept"),
    [
        (15, "(“Operation Barbarosa”)"),
        (17, "“in kind.”"),
        (24, "I’ve read"),
        (24, "violist – a brilliant"),
        (34, "😀 Say no more."),
        (35, "the ’80s –"),
        (35, "“Mexican economy.” 😀"),
        (38, "“conquering Europe"),
    ],
)
def test_seed_curly_quotes_dashes_and_emoji_reach_the_output(number, kept):
    line = SEED_FILE.read_text(encoding="utf-8").splitlines()[number - 1]

    assert kept in render_comment(line)


@pytest.mark.parametrize("number", [28, 31])
def test_seed_bare_url_becomes_a_link(number):
    url = SEED_FILE.read_text(encoding="utf-8").splitlines()[number - 1].strip()

    assert _Rendered(render_comment(url)).links() == [{"href": url, "rel": LINK_REL}]


def test_seed_fused_blockquote_line_shows_as_text():
    line = SEED_FILE.read_text(encoding="utf-8").splitlines()[25]
    assert line.startswith("<blockquoteThe War")

    html = render_comment(line)

    assert html.startswith("<p>&lt;blockquoteThe War")
    assert _Rendered(html).visible_text == line


def test_allowed_tag_with_attributes_we_would_strip_shows_as_text():
    text = '<a href="https://e.com" target="_blank">x</a> <b>ok</b>'
    html = render_comment(text)

    assert html.endswith(" <b>ok</b></p>")
    assert (
        _Rendered(html).visible_text
        == '<a href="https://e.com" target="_blank">x</a> ok'
    )


@pytest.mark.parametrize(
    "text", ["\ud800", "Half \udfff a pair", "1 < \udc80 > 0", "\ud83d\ude00"]
)
def test_lone_surrogates_show_as_replacement_characters(text):
    html = render_comment(text)

    html.encode("utf-8")  # what the database and the page need
    assert "\ufffd" in html
    assert _Rendered(html).visible_text == text.translate(
        dict.fromkeys(range(0xD800, 0xE000), "\ufffd")
    )


# Imported article bodies (render_article)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<h1>Title</h1><p>x</p>", "<h2>Title</h2><p>x</p>"),
        ("<h6>Small</h6>", "<h4>Small</h4>"),
        ("<p>a<script>alert(1)</script>b</p>", "<p>ab</p>"),
        ("<p>a<style>p{}</style>b</p>", "<p>ab</p>"),
        ('<div class="wp-block"><p>kept</p></div>', "<p>kept</p>"),
        ("First.\n\nSecond.", "<p>First.</p>\n<p>Second.</p>"),
        ("<ul><li>one</li></ul>", "<ul><li>one</li></ul>"),
    ],
)
def test_an_imported_article_body_keeps_structure_and_loses_the_rest(html, expected):
    assert render_article(html) == expected


def test_an_imported_article_body_has_no_scripted_links_or_images():
    html = render_article(
        '<p><a href="javascript:alert(1)" onclick="x()">a</a>'
        '<img src="https://t.example/pixel.gif" onerror="x()"></p>'
    )

    assert "javascript:" not in html and "onclick" not in html
    assert "<img" not in html and "onerror" not in html

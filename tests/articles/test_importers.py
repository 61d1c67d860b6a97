"""articles/importers/ and the commands over it: the seed, any text in its
shape, and input that must be refused whole."""

import random
import re
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from articles.importers import (
    SEED_DIR,
    ParsedArticle,
    ParsedComment,
    SourceError,
    decode_source,
    import_article,
    load_seeds,
    parse_article_text,
)
from articles.models import Article
from forum import services
from forum.models import Comment

SEED = SEED_DIR / "kazakhstan-joins-abraham-accords.txt"
SEED_LINES = SEED.read_text(encoding="utf-8").split("\n")


def _parsed_seed():
    return parse_article_text(decode_source(SEED.read_bytes()))


def _comment_with(parsed, line):
    [comment] = [c for c in parsed.comments if line in c.lines]
    return comment


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.chunks = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "title", "head"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title", "head"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.chunks.append(data)


def _visible_text(html):
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.chunks).split())


def _squash(text):
    return " ".join(text.split())


def test_the_shipped_seed_is_the_shared_file_byte_for_byte():
    shared = SEED_DIR.parents[2] / "shared" / "seed" / SEED.name
    if not shared.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert SEED.read_bytes() == shared.read_bytes()


def test_seed_lead_line_becomes_the_lead_and_its_author():
    parsed = _parsed_seed()
    assert parsed.lead_author == "Peloni"
    assert parsed.lead.startswith("This was a credible and important development")
    assert parsed.body.split("\n") == SEED_LINES[1:10]


def test_seed_comments_cover_every_comment_line_exactly_once():
    parsed = _parsed_seed()
    covered = [line for comment in parsed.comments for line in comment.lines]
    assert covered == list(range(13, 47))


def test_hard_wrapped_lines_are_one_paragraph():
    parsed = _parsed_seed()
    story = _comment_with(parsed, 15)
    assert "“assignrf them to a village" in story.body
    assert "allowed by the Polish government to leave for Israel." in story.body


def test_seed_thread_is_nested_with_replies_where_the_text_hints_them():
    parsed = _parsed_seed()
    story = parsed.comments.index(_comment_with(parsed, 13))
    adam_reply = _comment_with(parsed, 24)
    assert adam_reply.parent_index == story
    assert _comment_with(parsed, 29).parent_index == parsed.comments.index(adam_reply)
    agree = _comment_with(parsed, 40)
    assert agree.parent_index is not None
    assert parsed.comments[agree.parent_index].lines == [39]
    depth = {}
    for index, comment in enumerate(parsed.comments):
        parent = comment.parent_index
        depth[index] = 0 if parent is None else depth[parent] + 1
    assert max(depth.values()) >= 2


def test_continuations_stay_in_their_comment():
    parsed = _parsed_seed()
    assert _comment_with(parsed, 13).lines == list(range(13, 24))
    assert _comment_with(parsed, 25).lines == [24, 25, 26, 27, 28]
    assert _comment_with(parsed, 33).lines == [32, 33]
    assert _comment_with(parsed, 44).lines == [43, 44, 45]


def test_broken_blockquote_becomes_the_quotation_the_writer_meant():
    body = _comment_with(_parsed_seed(), 26).body
    assert (
        "<blockquote><strong>The War Strengthened Israel And Made Peace Possible"
        "</strong>\n\nEgyptian liberal writer" in body
    )
    assert body.index("</blockquote>") < body.index("https://www.memri.org")


@pytest.mark.django_db
def test_seed_page_shows_every_line_exactly_once_and_the_quote_as_a_quote(client):
    [result] = load_seeds()
    response = client.get(result.article.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    text = _visible_text(html)
    for number, line in enumerate(SEED_LINES, start=1):
        if not line.strip():
            continue
        if number == 26:
            line = line.removeprefix("<blockquote")
        assert text.count(_squash(line)) == 1, f"line {number}"
    assert "<blockquote" not in text
    quote = re.search(r"<blockquote>(.*?)</blockquote>", html, re.S).group(1)
    assert "<strong>The War Strengthened Israel And Made Peace Possible" in quote
    assert "Egyptian liberal writer Dalia Ziada" in quote
    assert 'href="https://aish.com/dalia-ziada' in html
    assert html.count('class="replies"') >= 3


@pytest.mark.django_db
def test_seed_article_gets_a_good_title_and_slug():
    [result] = load_seeds()
    article = result.article
    assert article.title == "Kazakhstan joins the Abraham Accords"
    assert article.slug == "kazakhstan-joins-abraham-accords"
    assert article in Article.objects.published()
    assert article.comments.count() == len(_parsed_seed().comments)
    assert services.find_tree_problems() == []


@pytest.mark.django_db
def test_loading_the_seed_twice_changes_nothing_and_says_so():
    out = StringIO()
    call_command("load_seed", stdout=out)
    first = list(Comment.objects.values_list("pk", "body", "tree_id", "lft", "rght"))
    out = StringIO()
    call_command("load_seed", stdout=out)
    assert "up to date; comments: 0 added, 0 updated, 15 unchanged" in out.getvalue()
    assert (
        list(Comment.objects.values_list("pk", "body", "tree_id", "lft", "rght"))
        == first
    )
    assert Article.objects.count() == 1


@pytest.mark.django_db
def test_reimport_keeps_moderation_and_adds_only_new_comments(tmp_path, moderator):
    source = tmp_path / "story.txt"
    source.write_text("Editor: A note.\nThe body.\n\nFirst comment.\n", "utf-8")
    call_command("import_articles", str(source), stdout=StringIO())
    first = Comment.objects.get()
    services.remove_comment(
        comment=first, moderator=moderator, reason="other", note="Rude"
    )
    source.write_text(
        "Editor: A note.\nThe body, corrected.\n\nFirst comment.\n\n@Ann Second.\n",
        "utf-8",
    )
    out = StringIO()
    call_command("import_articles", str(source), stdout=out)
    assert "updated (title, body)" in out.getvalue()
    assert "comments: 1 added, 0 updated, 1 unchanged" in out.getvalue()
    assert Article.objects.count() == 1
    first.refresh_from_db()
    assert first.status == Comment.Status.REMOVED
    assert Article.objects.get().body == "The body, corrected."


@pytest.mark.django_db
def test_title_is_derived_from_the_first_sentence_when_not_given(tmp_path):
    source = tmp_path / "x.txt"
    source.write_text(
        "U.S. officials met on Monday. Then more.\n\nHi there.\n", "utf-8"
    )
    call_command("import_articles", str(source), stdout=StringIO())
    assert Article.objects.get().title == "U.S. officials met on Monday"


@pytest.mark.django_db
def test_dry_run_reports_and_writes_nothing(tmp_path):
    out = StringIO()
    call_command("import_articles", str(SEED), dry_run=True, stdout=out)
    assert "would be created; comments: 15 would be added" in out.getvalue()
    assert out.getvalue().splitlines()[-1].startswith("Dry run, nothing written")
    assert not Article.objects.exists() and not Comment.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"  \n\n \n", "The file is empty."),
        (b"Name: lead\nBody\x00 here\n", "Line 2: binary data"),
        (b"Body\n\ncaf\xe9 au lait\n", "Line 3: not valid UTF-8"),
        (b"Editor: only a lead\n\nA comment.\n", "Line 2: missing article part"),
        (b"\n\nA comment with no article.\n", "Line 1: missing article part"),
    ],
    ids=["empty", "blank", "nul-byte", "latin-1", "lead-only", "no-body"],
)
@pytest.mark.django_db
def test_invalid_input_exits_non_zero_naming_the_line_and_writes_nothing(
    tmp_path, content, message
):
    source = tmp_path / "bad.txt"
    source.write_bytes(content)
    errors = StringIO()
    with pytest.raises(CommandError):
        call_command("import_articles", str(source), stdout=StringIO(), stderr=errors)
    assert f"{source}: FAILED, nothing written for it: {message}" in errors.getvalue()
    assert not Article.objects.exists() and not Comment.objects.exists()


@pytest.mark.django_db
def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="nope.txt: no such file or folder"):
        call_command("import_articles", str(tmp_path / "nope.txt"))


def test_decode_source_rejects_what_is_not_text():
    with pytest.raises(SourceError):
        decode_source(b"\x00\x01\x02")
    assert decode_source("\ufeffA\r\nB".encode()) == "A\nB"


@pytest.mark.django_db
def test_an_article_field_the_forum_refuses_is_a_clear_error():
    parsed = parse_article_text("Body.\n\nA comment.\n")
    with pytest.raises(SourceError, match="source_url: Enter a valid URL"):
        import_article(parsed, source_key="k", source_url="not a url")
    with pytest.raises(SourceError, match="title: Ensure this value has at most"):
        import_article(parsed, source_key="k", title="x" * 201)
    assert not Article.objects.exists() and not Comment.objects.exists()


@pytest.mark.parametrize("seed", range(40))
def test_any_arrangement_of_comment_lines_loses_and_doubles_nothing(seed):
    """Shuffled seed comment lines, with blank lines thrown in: every line still
    lands in exactly one comment, with its text intact."""
    rng = random.Random(seed)
    lines = SEED_LINES[12:46]
    rng.shuffle(lines)
    for _ in range(rng.randrange(6)):
        lines.insert(rng.randrange(len(lines) + 1), "")
    text = "\n".join(SEED_LINES[:11] + lines) + "\n"
    parsed = parse_article_text(text)
    # The article part is lines 1-11, so lines[i] is line 12 + i of the text.
    comment_lines = [12 + i for i, line in enumerate(lines) if line.strip()]
    covered = sorted(line for c in parsed.comments for line in c.lines)
    assert covered == comment_lines
    for comment in parsed.comments:
        assert comment.parent_index is None or comment.parent_index < len(
            parsed.comments
        )
        shown = _squash(comment.body.replace("<strong>", "").replace("</strong>", ""))
        for number in comment.lines:
            line = _squash(lines[number - 12]).removeprefix("<blockquote")
            assert line in shown, f"seed {seed}, line {number}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Editor: half \ud800\nBody.\n\nA comment.", "Line 1: not valid Unicode"),
        ("Editor: a lead\nBody \udfff.\n\nA comment.", "Line 2: not valid Unicode"),
        ("Body.\n\nA comment.\n\nAnother \ud83d.", "Line 5: not valid Unicode"),
    ],
    ids=["lead", "body", "comment"],
)
def test_a_lone_surrogate_in_the_text_is_refused_naming_its_line(text, message):
    with pytest.raises(SourceError, match=message) as error:
        parse_article_text(text)

    assert "lone surrogate" in str(error.value)


@pytest.mark.django_db
def test_import_article_stores_lone_surrogates_a_caller_passes_as_replacements():
    """A caller may build the parsed article itself (or pass a title from a
    command line in another encoding): the text is stored as a decoder would
    read it, not a 500, and importing it again changes nothing."""
    parsed = ParsedArticle(
        title="Half \ud800 a pair",
        lead="A lead \udfff.",
        lead_author="Ed \udc80",
        body="The body \ud83d.",
        comments=[ParsedComment(body="A comment \ud800.", lines=[4], source_key="k")],
    )

    first = import_article(
        parsed, source_key="file:caf\udce9", source_url="https://example.com/\ud800"
    )
    again = import_article(
        parsed, source_key="file:caf\udce9", source_url="https://example.com/\ud800"
    )

    article = Article.objects.get()
    assert (article.title, article.lead, article.lead_author, article.body) == (
        "Half \ufffd a pair",
        "A lead \ufffd.",
        "Ed \ufffd",
        "The body \ufffd.",
    )
    assert (article.source_key, article.source_url) == (
        "file:caf\ufffd",
        "https://example.com/\ufffd",
    )
    assert article.comments.get().body == "A comment \ufffd."
    assert first.created and not again.changed
    assert again.changed_fields == []


@pytest.mark.django_db
def test_a_slug_with_a_lone_surrogate_is_made_a_valid_address():
    parsed = parse_article_text("Body.\n\nA comment.")

    report = import_article(parsed, source_key="k", slug="half-\ud800")

    assert report.article.slug == "half"
    assert Article.objects.get().slug == "half"

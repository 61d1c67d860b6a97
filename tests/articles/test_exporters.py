"""Writing articles and their comment trees out as our JSON and as WXR."""

import io
import json
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from articles.exporters import comment_key, export_json, export_wxr
from articles.importers.jsonfmt import iter_json
from articles.importers.wxr import iter_wxr
from articles.models import Article
from forum import services
from forum.models import Comment
from tests.factories import ArticleFactory, CommentFactory, UserFactory

WP = "{http://wordpress.org/export/1.2/}"
HOSTILE = "]]> <script>alert('x')</script> &amp; <![CDATA[ \"quotes\" 'é' ☃"


@pytest.fixture
def thread(db, moderator):
    """An article whose thread has every state, site users and an imported
    guest, replies four deep under a comment its author deleted."""
    article = ArticleFactory(
        title="Über cats & dogs",
        author_name="Margit Ōkubo",
        source_url="https://review.example/cats",
        body_format="html",
        body="<p>Cats &amp; dogs.</p>",
    )
    alice = UserFactory(username="Ålice", email="alice@example.org")
    bob = UserFactory(username="Bob", email="bob@example.org")
    root = CommentFactory(article=article, author=alice, body="Dogs win, ÿes.")
    guest = services.post_comment(
        article=article,
        parent=root,
        author_name="Zoë Ōkubo",
        body="Cats <em>forever</em>.",
        status=Comment.Status.PUBLISHED,
        source_key="wordpress:7",
    )
    # post_comment takes no email or URL: an import stores them.
    Comment.objects.filter(pk=guest.pk).update(
        author_email="zoe@example.jp", author_url="https://zoe.example.jp"
    )
    erased = CommentFactory(
        article=article, parent=guest, author=bob, body="I will regret this."
    )
    CommentFactory(article=article, parent=erased, author=alice, body="Too late.")
    services.delete_comment(comment=erased, user=bob)
    CommentFactory(
        article=article, author=bob, body="Held back.", status=Comment.Status.PENDING
    )
    CommentFactory(
        article=article, author=None, body="Buy watches.", status=Comment.Status.SPAM
    )
    removed = CommentFactory(article=article, author=bob, body="You are all fools.")
    services.remove_comment(
        comment=removed, moderator=moderator, reason="abuse", note="Name calling."
    )
    return article


def _stored(article):
    """What the export should carry of each comment, in thread order."""
    rows = []
    for comment in Comment.objects.filter(article=article).order_by("tree_id", "lft"):
        parent = comment.parent
        rows.append(
            (
                comment_key(comment.source_key, comment.pk),
                parent and (comment_key(parent.source_key, parent.pk)),
                # The name the thread shows; a guest without one stays without.
                comment.display_name if comment.author_id else comment.author_name,
                comment.status,
                comment.body,
                comment.created_at,
                comment.moderation_code,
                comment.moderation_reason,
            )
        )
    return rows


def _read_back(source):
    return [
        (
            c.source_id,
            c.parent_id,
            c.author_name,
            c.status,
            c.body,
            c.created_at,
            c.moderation_code,
            c.moderation_reason,
        )
        for c in source.comments
    ]


def _export(exporter, articles, **options):
    out = io.StringIO()
    exporter(articles=articles, out=out, **options)
    return out.getvalue()


def _json(articles, **options):
    text = _export(export_json, articles, **options)
    return text, list(iter_json(io.BytesIO(text.encode())))


def _wxr(articles, **options):
    text = _export(export_wxr, articles, **options)
    return text, list(iter_wxr(io.BytesIO(text.encode())))


@pytest.mark.parametrize("read", [_json, _wxr], ids=["json", "wxr"])
def test_an_export_reads_back_as_the_same_tree_with_keys_states_and_reasons(
    thread, read
):
    _text, [source] = read(Article.objects.all())

    assert _read_back(source) == _stored(thread)
    assert source.prefix_comment_ids is False
    statuses = [c.status for c in source.comments]
    assert sorted(set(statuses)) == [
        "deleted",
        "pending",
        "published",
        "removed",
        "spam",
    ]


@pytest.mark.parametrize("read", [_json, _wxr], ids=["json", "wxr"])
def test_an_export_reads_back_as_the_same_article(thread, read):
    services.close_comments(
        article=thread,
        moderator=UserFactory(is_superuser=True),
        message="Closed: enough.",
    )
    thread.refresh_from_db()

    _text, [source] = read([thread])

    assert source.key == thread.source_key
    assert (source.title, source.slug, source.author) == (
        "Über cats & dogs",
        thread.slug,
        "Margit Ōkubo",
    )
    assert (source.body, source.body_format) == ("<p>Cats &amp; dogs.</p>", "html")
    assert (source.lead, source.lead_author) == ("An editor's note.", "Editor")
    assert source.source_url == "https://review.example/cats"
    assert source.published_at == thread.published_at
    assert source.comments_closed_at == thread.comments_closed_at
    assert source.comments_closed_message == "Closed: enough."


@pytest.mark.parametrize("read", [_json, _wxr], ids=["json", "wxr"])
def test_a_comment_its_author_deleted_is_a_placeholder_without_text(thread, read):
    text, [source] = read([thread])

    [deleted] = [c for c in source.comments if c.status == "deleted"]
    assert deleted.body == ""
    assert deleted.author_name == "Bob"
    assert [c.body for c in source.comments if c.parent_id == deleted.source_id] == [
        "Too late."
    ]
    assert "I will regret this" not in text


@pytest.mark.parametrize("read", [_json, _wxr], ids=["json", "wxr"])
def test_emails_are_left_out_unless_asked_for(thread, read):
    text, [source] = read([thread])

    for email in ("alice@example.org", "bob@example.org", "zoe@example.jp"):
        assert email not in text
    assert {c.author_email for c in source.comments} == {""}
    assert '"email"' not in text
    assert "comment_author_email" not in text


@pytest.mark.parametrize("read", [_json, _wxr], ids=["json", "wxr"])
def test_emails_are_included_when_asked_for(thread, read):
    _text, [source] = read([thread], include_emails=True)

    emails = {c.author_name: c.author_email for c in source.comments}
    assert emails["Ålice"] == "alice@example.org"
    assert emails["Zoë Ōkubo"] == "zoe@example.jp"
    [guest] = [c for c in source.comments if c.author_name == "Zoë Ōkubo"]
    assert guest.author_url == "https://zoe.example.jp"


@pytest.mark.parametrize("read", [_json, _wxr], ids=["json", "wxr"])
def test_site_comments_are_keyed_by_id_and_imported_ones_keep_their_keys(thread, read):
    _text, [source] = read([thread])

    root = Comment.objects.get(article=thread, level=0, author__username="Ålice")
    keys = {c.author_name: c.source_id for c in source.comments if c.parent_id}
    assert source.comments[0].source_id == comment_key("", root.pk)
    assert keys["Zoë Ōkubo"] == "wordpress:7"


@pytest.mark.parametrize("read", [_json, _wxr], ids=["json", "wxr"])
def test_hostile_and_non_ascii_text_comes_back_as_written(db, read):
    article = ArticleFactory(title=HOSTILE, lead=HOSTILE, body=HOSTILE + "\nØ")
    CommentFactory(article=article, body=HOSTILE)

    text, [source] = read([article])

    assert (source.title, source.lead, source.body) == (
        HOSTILE,
        HOSTILE,
        HOSTILE + "\nØ",
    )
    assert source.comments[0].body == HOSTILE
    if read is _wxr:
        assert "<script>" not in text


def test_json_keeps_control_characters(db):
    article = ArticleFactory(body="Bell\x07 and\x0bvertical tab\x1f.")
    CommentFactory(article=article, body="Escape \x1b[31m red.")

    _text, [source] = _json([article])

    assert source.body == "Bell\x07 and\x0bvertical tab\x1f."
    assert source.comments[0].body == "Escape \x1b[31m red."


def test_wxr_replaces_characters_xml_cannot_hold(db):
    article = ArticleFactory(body="Bell\x07 and\x0bvertical tab\ufffe.\r\nNext")
    CommentFactory(article=article, body="Escape \x1b[31m red.")

    _text, [source] = _wxr([article])

    assert source.body == "Bell\ufffd and\ufffdvertical tab\ufffd.\r\nNext"
    assert source.comments[0].body == "Escape \ufffd[31m red."


def test_wxr_is_a_wordpress_1_2_export_of_posts_with_comments(thread, settings):
    settings.FORUM_SITE_URL = "https://forum.example"
    draft = ArticleFactory(published_at=None)

    root = ElementTree.fromstring(_export(export_wxr, [thread, draft]))

    channel = root.find("channel")
    assert root.tag == "rss" and root.get("version") == "2.0"
    assert channel.findtext(f"{WP}wxr_version") == "1.2"
    assert channel.findtext(f"{WP}base_site_url") == "https://forum.example"
    post, unpublished = channel.findall("item")
    assert post.findtext("link") == f"https://forum.example/articles/{thread.slug}/"
    assert post.findtext(f"{WP}post_id") == str(thread.pk)
    assert post.findtext(f"{WP}post_type") == "post"
    assert post.findtext(f"{WP}status") == "publish"
    assert post.findtext(f"{WP}comment_status") == "open"
    assert unpublished.findtext(f"{WP}status") == "draft"
    assert unpublished.findtext(f"{WP}post_date_gmt") == "0000-00-00 00:00:00"
    approved = {
        c.findtext(f"{WP}comment_content"): c.findtext(f"{WP}comment_approved")
        for c in post.iterfind(f"{WP}comment")
    }
    assert approved == {
        "Dogs win, ÿes.": "1",
        "Cats <em>forever</em>.": "1",
        "": "trash",
        "Too late.": "1",
        "Held back.": "0",
        "Buy watches.": "spam",
        "You are all fools.": "trash",
    }
    parents = {
        c.findtext(f"{WP}comment_id"): c.findtext(f"{WP}comment_parent")
        for c in post.iterfind(f"{WP}comment")
    }
    for comment in Comment.objects.filter(article=thread):
        assert parents[str(comment.pk)] == str(comment.parent_id or 0)


def test_wxr_dates_are_wordpress_dates(db):
    article = ArticleFactory(
        published_at=datetime(2024, 3, 4, 8, 30, 15, 123456, tzinfo=UTC)
    )

    item = ElementTree.fromstring(_export(export_wxr, [article])).find("channel/item")

    assert item.findtext(f"{WP}post_date_gmt") == "2024-03-04 08:30:15"


def test_a_thread_is_read_in_one_query_however_long(db, django_assert_num_queries):
    first, second = ArticleFactory(), ArticleFactory()
    parent = None
    for number in range(30):
        parent = CommentFactory(article=first, parent=parent, body=f"Reply {number}")
    CommentFactory(article=second)

    # The articles, then each one's thread with its authors and parents' keys.
    with django_assert_num_queries(3):
        result = export_json(articles=Article.objects.order_by("pk"), out=io.StringIO())

    assert (result.articles, result.comments) == (2, 31)


def test_an_export_of_nothing_is_a_valid_empty_document(db):
    text, articles = _json(Article.objects.all())

    assert articles == []
    assert json.loads(text)["articles"] == []


def test_the_command_writes_json_to_stdout(thread):
    out = io.StringIO()

    call_command("export_articles", stdout=out)

    [source] = iter_json(io.BytesIO(out.getvalue().encode()))
    assert source.key == thread.source_key
    assert len(source.comments) == Comment.objects.filter(article=thread).count()


def test_the_command_exports_the_articles_asked_for_to_a_file(thread, tmp_path):
    ArticleFactory(slug="not-this-one")
    path = tmp_path / "export.xml"

    call_command(
        "export_articles",
        article=[thread.slug],
        format="wxr",
        output=str(path),
        include_emails=True,
        stdout=io.StringIO(),
    )

    with open(path, "rb") as file:
        [source] = iter_wxr(file)
    assert source.key == thread.source_key
    assert "zoe@example.jp" in {c.author_email for c in source.comments}
    assert list(tmp_path.iterdir()) == [path]
    # Readers' data: for its owner's eyes only.
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_command_names_an_unknown_slug(thread):
    with pytest.raises(CommandError, match="“no-such-article”"):
        call_command(
            "export_articles",
            article=[thread.slug, "no-such-article"],
            stdout=io.StringIO(),
        )


def test_a_failed_export_leaves_the_old_file_and_no_half_file(
    thread, tmp_path, monkeypatch
):
    path = tmp_path / "export.json"
    path.write_text("the previous export")

    def failing(comment, *, include_emails):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("articles.exporters._comment_fields", failing)

    with pytest.raises(RuntimeError):
        call_command("export_articles", output=str(path), stdout=io.StringIO())

    assert path.read_text() == "the previous export"
    assert list(tmp_path.iterdir()) == [path]


def test_timestamps_are_written_in_utc_with_their_offset(db, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    moment = timezone.make_aware(datetime(2024, 7, 1, 12, 0))
    ArticleFactory(published_at=moment)

    document = json.loads(_export(export_json, Article.objects.all()))

    assert document["articles"][0]["published_at"] == "2024-07-01T10:00:00+00:00"


def test_a_site_comment_never_shares_its_key_with_an_imported_one(db):
    article = ArticleFactory()
    written_here = CommentFactory(article=article)
    services.post_comment(
        article=article,
        author_name="From the old forum",
        body="Imported.",
        status=Comment.Status.PUBLISHED,
        # The old forum's key for its comment of the same number.
        source_key=f"forum:{written_here.pk}",
    )

    _text, articles = _json([article])

    assert [type(source).__name__ for source in articles] == ["SourceArticle"]
    keys = [comment.source_id for comment in articles[0].comments]
    assert len(set(keys)) == 2

"""Reading WordPress exports (WXR) into SourceArticles, without the database."""

import io
import re
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from articles.importers.base import BadArticle, SourceError
from articles.importers.wxr import iter_wxr

DATA = Path(__file__).resolve().parent.parent / "data" / "imports"
WORDPRESS = DATA / "wordpress.xml"


def _read(path=WORDPRESS):
    with open(path, "rb") as file:
        return list(iter_wxr(file))


def _wxr(items, *, version="1.2"):
    return io.BytesIO(
        (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" '
            f'xmlns:wp="http://wordpress.org/export/{version}/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n'
            f"<channel>\n{items}</channel>\n</rss>\n"
        ).encode()
    )


def _item(*, post_id="1", comments=""):
    post_id = f"<wp:post_id>{post_id}</wp:post_id>" if post_id else ""
    return (
        f"<item><title>T</title>{post_id}"
        "<wp:post_type>post</wp:post_type><wp:status>publish</wp:status>\n"
        f"{comments}</item>\n"
    )


def _comment(comment_id, *, parent="0"):
    comment_id = f"<wp:comment_id>{comment_id}</wp:comment_id>" if comment_id else ""
    return (
        f"<wp:comment>\n{comment_id}<wp:comment_parent>{parent}</wp:comment_parent>"
        "<wp:comment_approved>1</wp:comment_approved></wp:comment>\n"
    )


def _by_id(article):
    return {comment.source_id: comment for comment in article.comments}


def test_posts_and_pages_become_articles_and_attachments_and_menu_items_do_not():
    articles = _read()

    assert [(a.source_id, a.system) for a in articles] == [
        ("12", "wordpress"),
        ("13", "wordpress"),
        ("2", "wordpress"),
    ]


def test_a_post_keeps_its_title_slug_body_author_date_link_and_status():
    post = _read()[0]

    assert post.title == "Cats & dogs <3: why we\u2019re still arguing"
    assert post.slug == "cats-and-dogs"
    assert post.body == (
        "<p>Cats & dogs have <em>never</em> agreed.</p>\n"
        '<p>Here is why it matters: <a href="https://example.org/?a=1&b=2">'
        "a study</a>.</p>"
    )
    assert post.author == "margit"
    assert post.published_at == datetime(2024, 3, 4, 8, 30, tzinfo=UTC)
    assert post.source_url == "https://review.example/2024/03/cats-and-dogs/"
    assert post.status == "published"


def test_a_draft_without_a_gmt_date_is_dated_by_its_local_date():
    draft = _read()[1]

    assert draft.status == "draft"
    assert draft.slug == ""
    assert draft.published_at == datetime(2024, 3, 8, 17, 45, tzinfo=UTC)
    assert draft.comments == []


def test_a_percent_encoded_slug_is_decoded():
    page = _read()[2]

    assert page.slug == "über-uns"
    assert page.title == "Über uns"


def test_replies_keep_their_source_parents_five_levels_deep():
    comments = _by_id(_read()[0])

    chain = ["101", "102", "103", "104", "105"]
    assert comments["101"].parent_id is None
    for parent, child in zip(chain, chain[1:], strict=False):
        assert comments[child].parent_id == parent


def test_approval_states_map_to_comment_statuses():
    comments = _by_id(_read()[0])

    assert comments["101"].status == "published"
    assert comments["106"].status == "pending"
    assert comments["107"].status == "spam"
    assert comments["108"].status == "removed"


def test_pingbacks_and_trackbacks_are_skipped_and_counted():
    post = _read()[0]

    assert {"109", "110"}.isdisjoint(_by_id(post))
    assert post.skipped == {"pingback": 1, "trackback": 1}
    assert len(post.comments) == 8


def test_non_ascii_authors_entities_and_cdata_come_through_as_text():
    comments = _by_id(_read()[0])

    assert comments["101"].author_name == "Zoë Ōkubo"
    assert comments["101"].author_email == "zoe@example.jp"
    assert comments["101"].author_url == "https://zoe.example.jp"
    assert comments["101"].body == "Dogs <strong>win</strong> & that's final."
    assert comments["101"].created_at == datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    assert comments["102"].author_name == "Алексей"
    assert comments["102"].body == ("Cats & only cats <em>forever</em> \u2014 sorry.")


def test_comment_html_is_left_for_the_writer_to_sanitise():
    comments = _by_id(_read()[0])

    assert comments["107"].body == (
        '<a href="https://spam.example/watches">Buy now</a>'
    )


def test_a_comment_names_the_line_its_element_starts_on():
    lines = WORDPRESS.read_text(encoding="utf-8").splitlines()
    id_line = lines.index("\t\t\t<wp:comment_id>106</wp:comment_id>") + 1
    assert lines[id_line - 2] == "\t\t<wp:comment>"

    where = _by_id(_read()[0])["106"].where

    assert where == f"line {id_line - 1}, post 12, comment 106"


def test_wxr_1_1_is_read_as_well_as_1_2():
    articles = list(iter_wxr(_wxr(_item(comments=_comment("7")), version="1.1")))

    assert [comment.source_id for comment in articles[0].comments] == ["7"]


def test_entity_expansion_is_refused_before_anything_is_read():
    with open(DATA / "billion_laughs.xml", "rb") as file:
        articles = iter_wxr(file)
        with pytest.raises(SourceError, match=r"^Line 3: .*declares XML entities"):
            next(articles)


def test_an_external_entity_is_refused_and_the_file_it_names_is_not_read():
    with pytest.raises(SourceError, match="declares XML entities") as error:
        _read(DATA / "external_entity.xml")

    assert "root:" not in str(error.value)


def test_malformed_xml_is_refused_naming_the_line():
    items = _item() + "<item><title>Broken</item>\n"

    with pytest.raises(SourceError, match=r"^Line 6, column \d+: not well-formed"):
        list(iter_wxr(_wxr(items)))


def test_an_rss_feed_without_the_wordpress_namespace_is_not_wxr():
    feed = b'<rss version="2.0"><channel><item><title>T</title></item></channel></rss>'

    with pytest.raises(SourceError, match=r"not a WordPress export \(WXR\)"):
        list(iter_wxr(io.BytesIO(feed)))


def test_a_disqus_export_is_not_wxr():
    with pytest.raises(SourceError, match=r"^Line 2: not a WordPress export"):
        _read(DATA / "disqus.xml")


def test_an_item_without_a_post_id_is_refused_naming_its_line():
    assert re.search(
        r"^Line 4: an <item> with no wp:post_id",
        _failure(iter_wxr(_wxr(_item(post_id="")))),
    )


def test_a_comment_without_an_id_is_refused_naming_its_post_and_line():
    items = _item(post_id="12", comments=_comment("1") + _comment(""))

    assert re.search(
        r"^Line 7, post 12: a wp:comment with no wp:comment_id",
        _failure(iter_wxr(_wxr(items))),
    )


def test_a_comment_id_twice_in_one_post_is_refused():
    items = _item(post_id="12", comments=_comment("7") + _comment("7", parent="7"))

    assert re.search(
        r"^Line 7, post 12: comment 7 appears twice", _failure(iter_wxr(_wxr(items)))
    )


def test_the_same_comment_id_in_two_posts_is_accepted():
    items = _item(post_id="1", comments=_comment("7")) + _item(
        post_id="2", comments=_comment("7")
    )

    assert len(list(iter_wxr(_wxr(items)))) == 2


def test_a_large_export_is_read_in_far_less_memory_than_its_size(tmp_path):
    path = tmp_path / "large.xml"
    posts, comments_per_post = 2000, 5
    text = "Words, words, words &amp; more words. " * 20
    with open(path, "w", encoding="utf-8") as file:
        file.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:wp="http://wordpress.org/export/1.2/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n'
            "<channel>\n"
        )
        for post in range(1, posts + 1):
            file.write(
                f"<item><title>Post {post}</title>"
                f"<content:encoded><![CDATA[<p>{text}</p>]]></content:encoded>\n"
                f"<wp:post_id>{post}</wp:post_id>"
                "<wp:post_type>post</wp:post_type><wp:status>publish</wp:status>\n"
            )
            for number in range(comments_per_post):
                file.write(
                    f"<wp:comment><wp:comment_id>{post * 10 + number}</wp:comment_id>"
                    f"<wp:comment_content>{text}</wp:comment_content>"
                    "<wp:comment_approved>1</wp:comment_approved></wp:comment>\n"
                )
            file.write("</item>\n")
        file.write("</channel>\n</rss>\n")
    size = path.stat().st_size
    articles = comments = 0

    tracemalloc.start()
    try:
        with open(path, "rb") as file:
            for article in iter_wxr(file):
                articles += 1
                comments += len(article.comments)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (articles, comments) == (posts, posts * comments_per_post)
    assert size > 8_000_000
    assert peak < size / 10


def _meta(tag, **values):
    return "".join(
        f"<wp:{tag}><wp:meta_key>_forum_{key}</wp:meta_key>"
        f"<wp:meta_value><![CDATA[{value}]]></wp:meta_value></wp:{tag}>\n"
        for key, value in values.items()
    )


def _forum_comment(comment_id, *, parent="0", approved="1", **meta):
    return (
        f"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>"
        f"<wp:comment_parent>{parent}</wp:comment_parent>"
        "<wp:comment_date_gmt>2024-03-04 09:00:00</wp:comment_date_gmt>"
        f"<wp:comment_approved>{approved}</wp:comment_approved>\n"
        f"{_meta('commentmeta', **meta)}</wp:comment>\n"
    )


def _forum_item(*, meta, comments=""):
    return (
        "<item><title>T</title><link>https://forum.example/articles/t/</link>"
        "<wp:post_id>3</wp:post_id><wp:post_type>post</wp:post_type>"
        "<wp:post_date_gmt>2024-03-04 08:30:15</wp:post_date_gmt>"
        "<wp:status>publish</wp:status>\n"
        f"{_meta('postmeta', **meta)}{comments}</item>\n"
    )


def test_our_post_meta_gives_the_article_its_key_lead_format_and_closing():
    item = _forum_item(
        meta={
            "key": "wordpress:https://old.example/?p=9",
            "lead": "An editor's note.",
            "lead_author": "Editor",
            "body_format": "markdown",
            "source_url": "https://old.example/cats",
            "published_at": "2024-03-04T08:30:15.123456+00:00",
            "comments_closed_at": "2024-04-01T10:00:00+00:00",
            "comments_closed_message": "Closed: enough.",
        }
    )

    [article] = iter_wxr(_wxr(item))

    assert article.key == "wordpress:https://old.example/?p=9"
    assert (article.lead, article.lead_author) == ("An editor's note.", "Editor")
    assert article.body_format == "markdown"
    assert article.source_url == "https://old.example/cats"
    assert article.published_at == datetime(2024, 3, 4, 8, 30, 15, 123456, tzinfo=UTC)
    assert article.comments_closed_at == datetime(2024, 4, 1, 10, 0, tzinfo=UTC)
    assert article.comments_closed_message == "Closed: enough."


def test_an_empty_source_url_meta_means_no_source_rather_than_the_link():
    [article] = iter_wxr(_wxr(_forum_item(meta={"source_url": ""})))

    assert article.source_url == ""


def test_our_comment_meta_gives_exact_states_reasons_times_and_keys():
    comments = (
        _forum_comment("21", key="forum:5", status="published")
        + _forum_comment(
            "22",
            parent="21",
            approved="trash",
            key="forum:6",
            status="deleted",
            created_at="2024-03-04T09:00:00.500000+00:00",
            edited_at="2024-03-04T09:30:00+00:00",
        )
        + _forum_comment(
            "23",
            parent="22",
            approved="trash",
            key="wordpress:7",
            status="removed",
            moderation_code="abuse",
            moderation_reason="Name calling.",
        )
    )

    [article] = iter_wxr(_wxr(_forum_item(meta={}, comments=comments)))

    first, deleted, removed = article.comments
    assert article.prefix_comment_ids is False
    assert [(c.source_id, c.parent_id) for c in article.comments] == [
        ("forum:5", None),
        ("forum:6", "forum:5"),
        ("wordpress:7", "forum:6"),
    ]
    assert deleted.status == "deleted"
    assert deleted.created_at == datetime(2024, 3, 4, 9, 0, 0, 500000, tzinfo=UTC)
    assert deleted.edited_at == datetime(2024, 3, 4, 9, 30, tzinfo=UTC)
    assert (removed.status, removed.moderation_code, removed.moderation_reason) == (
        "removed",
        "abuse",
        "Name calling.",
    )


def test_comments_without_our_key_beside_ones_with_it_are_known_by_wordpress_id():
    comments = (
        _forum_comment("21", key="forum:5")
        + _forum_comment("22", parent="21")
        + _forum_comment("23", parent="99", key="forum:7")
    )

    [article] = iter_wxr(_wxr(_forum_item(meta={}, comments=comments)))

    assert [(c.source_id, c.parent_id) for c in article.comments] == [
        ("forum:5", None),
        ("wordpress:22", "forum:5"),
        # Not in the item: left for the writer to report as missing.
        ("forum:7", "wordpress:99"),
    ]


def test_a_wordpress_export_without_our_meta_keeps_its_ids_for_prefixing():
    post = _read()[0]

    assert post.prefix_comment_ids is True
    assert post.key == ""
    assert post.body_format == "html"


def test_an_unknown_status_in_our_meta_is_refused_naming_the_comment():
    comments = _forum_comment("21", key="forum:5", status="vanished")

    assert re.search(
        r"comment 21: _forum_status 'vanished'",
        _failure(iter_wxr(_wxr(_forum_item(meta={}, comments=comments)))),
    )


def test_one_key_on_two_comments_is_refused():
    comments = _forum_comment("21", key="forum:5") + _forum_comment("22", key="forum:5")

    assert re.search(
        r"_forum_key 'forum:5' appears twice",
        _failure(iter_wxr(_wxr(_forum_item(meta={}, comments=comments)))),
    )


def _failure(records):
    """The one article the reader could not read (it goes on past it)."""
    [bad] = [record for record in records if isinstance(record, BadArticle)]
    return bad.error

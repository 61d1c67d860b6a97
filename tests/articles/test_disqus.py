"""Reading Disqus exports into SourceArticles, without the database."""

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from articles.importers.base import BadArticle, SourceError
from articles.importers.disqus import iter_disqus

DATA = Path(__file__).resolve().parent.parent / "data" / "imports"
DISQUS = DATA / "disqus.xml"


def _read(path=DISQUS):
    with open(path, "rb") as file:
        return list(iter_disqus(file))


def _export(body):
    return io.BytesIO(
        (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<disqus xmlns="http://disqus.com" '
            'xmlns:dsq="http://disqus.com/disqus-internals">\n'
            f"{body}</disqus>\n"
        ).encode()
    )


def _thread(thread_id):
    return (
        f'<thread dsq:id="{thread_id}"><link>https://site.example/{thread_id}/</link>'
        "<title>T</title></thread>\n"
    )


def _post(post_id, *, thread_id):
    post_id = f' dsq:id="{post_id}"' if post_id else ""
    return (
        f'<post{post_id}><message>Hi</message><thread dsq:id="{thread_id}"/></post>\n'
    )


def _by_id(article):
    return {comment.source_id: comment for comment in article.comments}


def test_threads_become_articles_in_file_order_even_without_posts():
    articles = _read()

    assert [(a.system, a.source_id) for a in articles] == [
        ("disqus", "1001"),
        ("disqus", "1002"),
        ("disqus", "1003"),
    ]
    assert articles[1].comments == []


def test_a_thread_keeps_its_link_title_author_and_date_and_has_no_body():
    thread = _read()[0]

    assert thread.source_url == "https://review.example/2024/03/cats-and-dogs/"
    assert thread.title == "Cats & dogs <3: why we\u2019re still arguing"
    assert thread.author == "Margit Håkansson"
    assert thread.published_at == datetime(2024, 3, 4, 8, 30, tzinfo=UTC)
    assert thread.body == ""
    assert thread.slug == ""
    assert thread.status == "published"


def test_a_thread_deleted_on_disqus_is_kept_as_a_draft():
    assert _read()[2].status == "draft"


def test_posts_become_comments_of_their_thread_in_file_order():
    thread = _read()[0]

    assert [c.source_id for c in thread.comments] == [
        "5001",
        "5002",
        "5003",
        "5004",
        "5005",
        "5006",
    ]


def test_replies_keep_their_source_parents_five_levels_deep():
    comments = _by_id(_read()[0])

    chain = ["5001", "5002", "5003", "5004", "5005"]
    assert comments["5001"].parent_id is None
    for parent, child in zip(chain, chain[1:], strict=False):
        assert comments[child].parent_id == parent


def test_a_deleted_parent_stays_as_deleted_so_its_live_replies_keep_their_place():
    comments = _by_id(_read()[0])

    assert comments["5002"].status == "deleted"
    assert comments["5002"].body == "<p>I take it all back.</p>"
    assert comments["5003"].parent_id == "5002"
    assert comments["5003"].status == "published"


def test_spam_is_marked_spam():
    comments = _by_id(_read()[0])

    assert comments["5006"].status == "spam"
    assert comments["5001"].status == "published"


def test_non_ascii_authors_entities_and_cdata_come_through_as_text():
    comments = _by_id(_read()[0])

    assert comments["5001"].author_name == "Zoë Ōkubo"
    assert comments["5001"].author_email == "zoe@example.jp"
    assert comments["5001"].body == "<p>Dogs <b>win</b> & that's final.</p>"
    assert comments["5001"].created_at == datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    assert comments["5003"].author_name == "Алексей"
    assert comments["5003"].body == (
        "<p>Cats &amp; only cats \u2014 whatever the deleted one said.</p>"
    )


def test_an_anonymous_author_without_a_name_is_named_by_username():
    comment = _by_id(_read()[0])["5005"]

    assert comment.author_name == "guest-4711"
    assert comment.author_email == ""
    assert comment.author_url == ""


def test_a_post_names_the_line_its_element_starts_on():
    lines = DISQUS.read_text(encoding="utf-8").splitlines()
    line = lines.index('  <post dsq:id="5003">') + 1

    assert _by_id(_read()[0])["5003"].where == f"line {line}, post 5003"


def test_a_post_whose_thread_is_not_in_the_file_is_refused_naming_the_post():
    body = _thread("1") + _post("10", thread_id="1") + _post("11", thread_id="2")

    assert re.search(
        r"^Line 5, post 11: post 11 belongs to thread 2, which is",
        _failure(iter_disqus(_export(body))),
    )


def test_a_post_without_an_id_is_refused_naming_its_line():
    body = _thread("1") + _post("", thread_id="1")

    assert re.search(
        r"^Line 4: a <post> with no dsq:id", _failure(iter_disqus(_export(body)))
    )


def test_a_post_id_twice_is_refused():
    body = _thread("1") + _post("10", thread_id="1") + _post("10", thread_id="1")

    assert re.search(
        r"^Line 5, post 10: post 10 appears twice", _failure(iter_disqus(_export(body)))
    )


def test_entity_expansion_is_refused_before_anything_is_read():
    with open(DATA / "billion_laughs.xml", "rb") as file:
        threads = iter_disqus(file)
        with pytest.raises(SourceError, match=r"^Line 3: .*declares XML entities"):
            next(threads)


def test_an_external_entity_is_refused():
    with pytest.raises(SourceError, match="declares XML entities") as error:
        _read(DATA / "external_entity.xml")

    assert "root:" not in str(error.value)


def test_malformed_xml_is_refused_naming_the_line():
    body = _thread("1") + "<post><message>Hi</post>\n"

    with pytest.raises(SourceError, match=r"^Line 4, column \d+: not well-formed"):
        list(iter_disqus(_export(body)))


def test_a_wordpress_export_is_not_a_disqus_export():
    with pytest.raises(SourceError, match=r"^Line \d+: not a Disqus export"):
        _read(DATA / "wordpress.xml")


def _failure(records):
    """The one article the reader could not read (it goes on past it)."""
    [bad] = [record for record in records if isinstance(record, BadArticle)]
    return bad.error

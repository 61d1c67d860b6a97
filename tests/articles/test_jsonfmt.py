"""Reading our own JSON export format into SourceArticles, without the database."""

import io
import json
from datetime import UTC, datetime

import pytest

from articles.importers import jsonfmt
from articles.importers.base import BadArticle, SourceError
from articles.importers.jsonfmt import iter_json


def _comment(key="c1", **fields):
    return {
        "key": key,
        "parent": None,
        "author": "Zoë Ōkubo",
        "url": "https://zoe.example.jp",
        "created_at": "2024-03-04T09:00:00+00:00",
        "edited_at": None,
        "status": "published",
        "body": "Dogs <strong>win</strong>.",
        "moderation_code": "",
        "moderation_reason": "",
        **fields,
    }


def _article(key="site:1", *, comments=(), **fields):
    return {
        "key": key,
        "title": "Cats & dogs",
        "slug": "cats-and-dogs",
        "author": "margit",
        "lead": "An editor's note.",
        "lead_author": "Editor",
        "body": "First paragraph.\nSecond.",
        "body_format": "text",
        "source_url": "https://review.example/cats",
        "published_at": "2024-03-04T08:30:00+00:00",
        "comments_closed_at": None,
        "comments_closed_message": "",
        "comments": list(comments),
        **fields,
    }


def _document(*articles, **header):
    document = {
        "format": "forum-articles",
        "version": 1,
        "exported_at": "2024-05-01T12:00:00Z",
        **header,
        "articles": list(articles),
    }
    return io.BytesIO(json.dumps(document, indent=1, ensure_ascii=False).encode())


def _read(*articles, **header):
    return list(iter_json(_document(*articles, **header)))


def _refusal(*articles):
    """Why the one article of the file that breaks the rules was refused."""
    [bad] = [a for a in _read(*articles) if isinstance(a, BadArticle)]
    return bad.error


def test_an_article_keeps_every_field_and_its_key_is_used_as_it_stands():
    [article] = _read(_article())

    assert (article.system, article.source_id, article.key) == (
        "json",
        "site:1",
        "site:1",
    )
    assert article.title == "Cats & dogs"
    assert article.slug == "cats-and-dogs"
    assert article.author == "margit"
    assert (article.lead, article.lead_author) == ("An editor's note.", "Editor")
    assert article.body == "First paragraph.\nSecond."
    assert article.body_format == "text"
    assert article.source_url == "https://review.example/cats"
    assert article.published_at == datetime(2024, 3, 4, 8, 30, tzinfo=UTC)
    assert article.status == "published"
    assert article.prefix_comment_ids is False
    assert article.where == "articles[0]"


def test_an_article_without_a_publication_date_is_a_draft():
    [article] = _read(_article(published_at=None))

    assert article.status == "draft"
    assert article.published_at is None


def test_a_closed_discussion_keeps_its_time_and_message():
    [article] = _read(
        _article(
            comments_closed_at="2024-04-01T10:00:00+02:00",
            comments_closed_message="Closed for the holidays.",
        )
    )

    assert article.comments_closed_at == datetime(2024, 4, 1, 8, 0, tzinfo=UTC)
    assert article.comments_closed_message == "Closed for the holidays."


def test_comments_keep_their_keys_parents_states_and_reasons():
    comments = [
        _comment("forum:1"),
        _comment(
            "wordpress:7",
            parent="forum:1",
            status="removed",
            moderation_code="abuse",
            moderation_reason="Called names.",
            edited_at="2024-03-04T10:00:00.250000Z",
        ),
        _comment("forum:3", parent="wordpress:7", status="deleted", body=""),
    ]

    [article] = _read(_article(comments=comments))

    first, removed, deleted = article.comments
    assert [c.source_id for c in article.comments] == [
        "forum:1",
        "wordpress:7",
        "forum:3",
    ]
    assert [c.parent_id for c in article.comments] == [None, "forum:1", "wordpress:7"]
    assert first.author_name == "Zoë Ōkubo"
    assert first.author_url == "https://zoe.example.jp"
    assert first.body == "Dogs <strong>win</strong>."
    assert first.created_at == datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    assert first.where == "articles[0].comments[0]"
    assert (removed.status, removed.moderation_code, removed.moderation_reason) == (
        "removed",
        "abuse",
        "Called names.",
    )
    assert removed.edited_at == datetime(2024, 3, 4, 10, 0, 0, 250000, tzinfo=UTC)
    assert (deleted.status, deleted.body) == ("deleted", "")


def test_an_email_is_read_when_present_and_empty_when_not():
    [article] = _read(
        _article(comments=[_comment("a", email="zoe@example.jp"), _comment("b")])
    )

    assert [c.author_email for c in article.comments] == ["zoe@example.jp", ""]


def test_an_unknown_status_is_refused_naming_the_article_key_and_comment():
    comments = [_comment(f"c{n}") for n in range(16)] + [_comment("x", status="gone")]
    document = _document(_article("a"), _article("b"), _article("x", comments=comments))

    a, b, bad = iter_json(document)

    assert (bad.where, bad.error) == (
        "articles[2]",
        'articles[2] (key "x"), comments[16]: "status" must be one of "published", '
        '"pending", "spam", "removed", "deleted", not "gone".',
    )


def test_a_bad_article_fails_alone_and_the_next_is_read():
    good, bad, after = _read(
        _article("a"), _article("b", body_format="rtf"), _article("c")
    )

    assert isinstance(bad, BadArticle)
    assert (good.key, after.key) == ("a", "c")


def test_a_timestamp_without_an_offset_is_refused():
    error = _refusal(_article(comments=[_comment(created_at="2024-03-04T09:00:00")]))

    assert error.startswith(
        'articles[0] (key "site:1"), comments[0]: "created_at" has no time zone offset'
    )


def test_a_timestamp_that_is_no_date_is_refused():
    error = _refusal(_article(published_at="last Tuesday"))

    assert '"published_at" is not an ISO 8601 timestamp' in error


def test_an_impossible_date_is_refused():
    error = _refusal(_article(published_at="2024-02-30T10:00:00Z"))

    assert '"published_at" is not an ISO 8601 timestamp' in error


def test_a_missing_field_is_refused():
    article = _article()
    del article["lead"]

    assert _refusal(article) == 'articles[0] (key "site:1"): "lead" is missing.'


def test_a_misspelt_field_is_refused_rather_than_dropped():
    assert 'unknown key "publised_at"' in _refusal(_article(publised_at=None))


def test_a_value_of_the_wrong_type_is_refused():
    assert '"title" must be text.' in _refusal(_article(title=12))


def test_an_empty_key_is_refused():
    assert _refusal(_article(key=" ")) == 'articles[0]: "key" must not be empty.'


def test_an_unknown_body_format_is_refused():
    error = _refusal(_article(body_format="rtf"))

    assert '"body_format" must be one of "text", "html", "markdown"' in error


def test_a_reply_before_its_parent_is_refused():
    comments = [_comment("child", parent="parent"), _comment("parent")]

    error = _refusal(_article(comments=comments))

    assert 'comments[0]: "parent" "parent" is not a comment before' in error


def test_two_comments_with_one_key_are_refused():
    error = _refusal(_article(comments=[_comment("a"), _comment("a")]))

    assert 'comments[1]: another comment has the key "a"' in error


def test_two_articles_with_one_key_are_refused():
    error = _refusal(_article("k"), _article("k"))

    assert error.startswith('articles[1] (key "k"): another article has this key')


def test_a_deleted_comment_with_text_is_refused():
    error = _refusal(_article(comments=[_comment(status="deleted", body="Kept")]))

    assert "a deleted comment has no text" in error


def test_another_format_is_refused_before_any_article_is_read():
    articles = iter_json(_document(_article(), format="something-else"))

    with pytest.raises(SourceError, match=r"^Line \d+, column \d+: not a forum export"):
        next(articles)


def test_another_version_is_refused():
    with pytest.raises(
        SourceError, match=r'"version" must be 1, .*\(this file says 2\)'
    ):
        _read(_article(), version=2)


def test_a_header_after_the_articles_is_refused():
    text = '{"articles": [], "format": "forum-articles", "version": 1}'

    with pytest.raises(SourceError, match=r'"format" must be "forum-articles"'):
        list(iter_json(io.BytesIO(text.encode())))


def test_a_naive_export_time_is_refused():
    with pytest.raises(SourceError, match=r'^The file: "exported_at" has no time'):
        _read(exported_at="2024-05-01T12:00:00")


def test_malformed_json_is_refused_naming_line_and_column():
    text = (
        '{"format": "forum-articles", "version": 1,\n'
        ' "articles": [\n'
        '  {"key": "a", "title": "T",, "slug": ""}\n'
        "]}\n"
    )

    with pytest.raises(
        SourceError, match=r"^Line 3, column 29: not valid JSON \(Expecting property"
    ):
        list(iter_json(io.BytesIO(text.encode())))


def test_a_file_cut_short_is_refused():
    text = _document(_article()).getvalue()[:-40]

    with pytest.raises(SourceError, match=r"not valid JSON"):
        list(iter_json(io.BytesIO(text)))


def test_text_after_the_object_is_refused():
    text = _document().getvalue() + b"\n{}"

    with pytest.raises(SourceError, match=r"^Line \d+, column 1: more text after"):
        list(iter_json(io.BytesIO(text)))


def test_an_empty_file_is_refused():
    with pytest.raises(SourceError, match=r"one JSON object; found the end"):
        list(iter_json(io.BytesIO(b"")))


def test_text_that_is_not_utf_8_is_refused_naming_the_line():
    text = (
        _document(_article(title="Caf\u00e9"))
        .getvalue()
        .replace("Café".encode(), "Café".encode("latin-1"))
    )
    line = text[: text.index(b"Caf")].count(b"\n") + 1

    with pytest.raises(SourceError, match=rf"^Line {line}: not valid UTF-8"):
        list(iter_json(io.BytesIO(text)))


def test_a_byte_order_mark_is_passed_over():
    text = b"\xef\xbb\xbf" + _document(_article()).getvalue()

    assert [a.key for a in iter_json(io.BytesIO(text))] == ["site:1"]


def test_values_cut_across_reads_are_read_whole(monkeypatch):
    document = _document(
        _article(title="Ünïcode “quotes” \U0001f600", comments=[_comment()]),
        _article("b"),
        version=1,
    ).getvalue()
    whole = list(iter_json(io.BytesIO(document)))
    # Reads of a few bytes split characters, strings and numbers in two.
    monkeypatch.setattr(jsonfmt, "CHUNK_BYTES", 3)

    assert list(iter_json(io.BytesIO(document))) == whole
    assert whole[0].title == "Ünïcode “quotes” \U0001f600"


def test_articles_are_read_one_at_a_time():
    body = "Words, words, words. " * 500
    articles = [_article(f"a{n}", body=body) for n in range(400)]
    file = io.BytesIO(
        json.dumps(
            {"format": "forum-articles", "version": 1, "articles": articles}
        ).encode()
    )

    first = next(iter_json(file))

    assert first.key == "a0"
    assert file.tell() < len(file.getvalue()) / 10

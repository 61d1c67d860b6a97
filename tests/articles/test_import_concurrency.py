"""An import running while readers post (PostgreSQL: real transactions in
real threads). Issue 8's defect 4: the old importer ran the whole import as
one transaction of post_comment calls holding the new-thread lock, so every
reader's new top-level comment on the site waited for it."""

import threading
from pathlib import Path

import pytest
from django.db import connections

from articles.importers import import_sources
from articles.models import Article
from forum import services
from forum.models import Comment
from tests.factories import ArticleFactory, UserFactory

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

WAIT = 10  # seconds; far more than any of these writes takes unblocked


def _export(path: Path, *, comments: int, reply_to_existing: str | None = None):
    rows = []
    for number in range(1, comments + 1):
        parent = (number - 1) // 3 if number > 3 else 0
        rows.append(
            f"<wp:comment><wp:comment_id>{number}</wp:comment_id>"
            f"<wp:comment_parent>{parent}</wp:comment_parent>"
            f"<wp:comment_author>Reader {number}</wp:comment_author>"
            "<wp:comment_date_gmt>2024-03-02 10:00:00</wp:comment_date_gmt>"
            f"<wp:comment_content>Imported comment {number}.</wp:comment_content>"
            "<wp:comment_approved>1</wp:comment_approved></wp:comment>"
        )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n<channel>'
        "<wp:base_site_url>https://blog.example</wp:base_site_url>"
        "<item><title>Big</title><wp:post_id>1</wp:post_id>"
        "<wp:post_type>post</wp:post_type><wp:status>publish</wp:status>"
        "<content:encoded>Body.</content:encoded>\n"
        + "\n".join(rows)
        + "</item></channel></rss>\n",
        "utf-8",
    )
    return path


class _PausedImport:
    """An import in a thread of its own that stops, inside its article's
    transaction and after its first batch of comments, until released."""

    def __init__(self, path):
        self.paused = threading.Event()
        self.release = threading.Event()
        self.run = None
        self.thread = threading.Thread(target=self._import, args=(path,))

    def _wrote(self, count):
        if not self.paused.is_set():
            self.paused.set()
            self.release.wait(WAIT * 3)

    def _import(self, path):
        try:
            self.run = import_sources([path], on_comments=self._wrote)
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        assert self.paused.wait(WAIT), "the import never got to its first batch"
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(WAIT * 3)


def _in_thread(work):
    """Start ``work`` in a thread; returns (thread, result dict)."""
    result = {}

    def target():
        try:
            result["value"] = work()
        except Exception as error:  # noqa: BLE001 - reported by the test
            result["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, result


def test_readers_post_new_threads_while_an_import_is_writing(tmp_path):
    elsewhere = ArticleFactory()
    reader = UserFactory()
    import_sources([_export(tmp_path / "first.xml", comments=3)])
    imported = Article.objects.get(source_key="wordpress:https://blog.example/?p=1")
    source = _export(tmp_path / "big.xml", comments=3000)

    with _PausedImport(source) as running:
        # Its first batch is not there yet for anyone else: its article's
        # transaction is open.
        assert Comment.objects.filter(article=imported).count() == 3

        posts = [
            _in_thread(
                lambda article=article, reader=reader: services.post_comment(
                    article=article, body=f"New thread on {article.pk}", author=reader
                )
            )
            for article, reader in ((elsewhere, reader), (imported, UserFactory()))
        ]
        for thread, result in posts:
            thread.join(WAIT)
            assert not thread.is_alive(), "a reader's new thread waited for the import"
            assert "error" not in result, result.get("error")
        assert not running.release.is_set()

    assert running.run is not None and not running.run.failed
    assert Comment.objects.filter(article=imported).count() == 3001
    assert elsewhere.comments.count() == 1
    assert services.find_tree_problems() == []


def test_a_reply_into_a_tree_the_import_writes_waits_for_it_and_lands(tmp_path):
    """The import locks the trees it writes into, and only those."""
    reader = UserFactory()
    source = _export(tmp_path / "big.xml", comments=1500)
    import_sources([source])
    imported = Article.objects.get()
    root = Comment.objects.get(source_key="wordpress:1")
    quiet = services.post_comment(
        article=imported, body="A thread of the site's own.", author=UserFactory()
    )
    newer = _export(tmp_path / "newer.xml", comments=3000)

    with _PausedImport(newer):
        # wordpress:1's tree gets new replies from the import: a reader's reply
        # there waits; a reply in a tree the import does not touch does not.
        waiting, waiting_result = _in_thread(
            lambda: services.post_comment(
                article=imported, body="Into the busy tree.", parent=root, author=reader
            )
        )
        free, free_result = _in_thread(
            lambda: services.post_comment(
                article=imported,
                body="Into a quiet tree.",
                parent=quiet,
                author=UserFactory(),
            )
        )
        free.join(WAIT)
        assert not free.is_alive(), (
            "a reply into a tree the import does not touch waited"
        )
        waiting.join(1)
        assert waiting.is_alive(), "the import did not lock the tree it writes"
    waiting.join(WAIT)
    assert not waiting.is_alive() and "error" not in waiting_result
    assert "error" not in free_result
    assert services.find_tree_problems() == []
    assert Comment.objects.filter(article=imported).count() == 3003

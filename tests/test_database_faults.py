"""Database faults: a request during an outage gets a clean 503 in a few
seconds, not a hang and not a traceback (defect: without timeouts a database
that accepts connections and never answers hung every request for 30 s, until
gunicorn killed the worker).

The outage is made on the test's own terms, never by stopping the shared
server: a listener that accepts connections and never answers, and (on
PostgreSQL) the test's own connections terminated mid-run."""

import secrets
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.db import OperationalError

from tests import servers
from tests.factories import ArticleFactory


def test_a_database_error_in_a_request_is_a_503_page(client, db, monkeypatch):
    article = ArticleFactory()
    client.raise_request_exception = False

    def unreachable(**kwargs):
        raise OperationalError("could not connect to server: timeout expired")

    monkeypatch.setattr("articles.views.thread_page", unreachable)
    response = client.get(article.get_absolute_url())

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "The forum is unavailable for a moment." in page
    assert "could not connect" not in page


def test_any_other_error_is_still_a_500(client, db, monkeypatch):
    client.raise_request_exception = False
    monkeypatch.setattr(
        "articles.views.Article.objects.published",
        lambda: (_ for _ in ()).throw(RuntimeError("a bug")),
    )

    response = client.get("/")

    assert response.status_code == 500
    assert "a bug" not in response.content.decode()


@pytest.fixture
def silent_database():
    """A port that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def _get(url, timeout=20):
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    return status, body, time.monotonic() - started


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_gunicorn_answers_503_quickly_while_the_database_never_answers(
    silent_database, collected_static
):
    port = servers.free_port()
    env = servers.production_env(
        database_url=f"postgres://root@127.0.0.1:{silent_database}/forum",
        DJANGO_DB_CONNECT_TIMEOUT="2",
        WEB_CONCURRENCY="1",
    )
    server = servers.start_gunicorn(port, env)
    base = f"http://127.0.0.1:{port}"
    try:
        status, body, took = _get(base + "/")
        # No database needed: answered at once, during the outage.
        opener = urllib.request.build_opener(_NoRedirect)
        started = time.monotonic()
        try:
            opener.open(base + "/favicon.ico", timeout=10)
            icon = 200
        except urllib.error.HTTPError as error:
            icon = error.code
        icon_took = time.monotonic() - started
    finally:
        log = servers.stop(server)

    assert status == 503, log
    assert took < 6, f"the 503 took {took:.1f} s"
    assert "The forum is unavailable for a moment." in body
    assert "Traceback" not in body
    assert "timeout expired" not in body
    assert icon == 302
    assert icon_took < 2


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_connections_terminated_under_the_app_cost_no_request_an_error(
    collected_static,
):
    """A database restart or a pooler dropping idle connections: each worker's
    kept connection is checked before reuse (CONN_HEALTH_CHECKS), so the next
    request reconnects instead of failing."""
    from django.db import connection

    article = ArticleFactory()
    port = servers.free_port()
    env = servers.production_env(
        database_url=servers.database_url(connection.settings_dict),
        DJANGO_CONN_MAX_AGE="60",
        WEB_CONCURRENCY="2",
    )
    url = f"http://127.0.0.1:{port}{article.get_absolute_url()}"
    server = servers.start_gunicorn(port, env)
    try:
        before = [_get(url)[0] for _ in range(6)]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            terminated = cursor.fetchone()[0]
        after = [_get(url) for _ in range(6)]
    finally:
        log = servers.stop(server)

    assert before == [200] * 6, log
    assert terminated >= 1
    assert [status for status, _, _ in after] == [200] * 6, log
    assert max(took for _, _, took in after) < 5


def test_redis_going_away_degrades_to_no_cache_not_to_errors(client, db, settings):
    """Redis down (here: a port nobody listens on): pages are built from the
    database, rate limits let readers through, nothing is a 500."""
    from tests.factories import CommentFactory, UserFactory

    article = ArticleFactory()
    CommentFactory(article=article, body="Still readable.")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{servers.free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    reader = UserFactory()
    client.force_login(reader)

    page = client.get(article.get_absolute_url())
    posted = client.post(
        f"/articles/{article.slug}/comments/", {"body": "Posted while Redis is down."}
    )

    assert page.status_code == 200
    assert "Still readable." in page.content.decode()
    assert posted.status_code == 302
    assert (
        "Posted while Redis is down."
        in client.get(article.get_absolute_url()).content.decode()
    )


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_connections_terminated_during_a_writing_crowd_cost_no_500_and_no_half_write(
    collected_static,
):
    """Eight readers post replies for a while, and every 0.3 s the app's
    connections are terminated under them. An answer is the comment posted
    (302) or, at worst, the clean 503 page; never a 500. Afterwards every
    comment answered 302 is stored once, nothing else but what a 503 may have
    committed just before its connection died, the trees validate, and the
    next requests are served within seconds."""
    from django.db import connection

    from forum.models import Comment
    from forum.services import find_tree_problems
    from tests.factories import CommentFactory

    article = ArticleFactory(slug="faults")
    parents = [CommentFactory(article=article).pk for _ in range(5)]
    users = servers.accounts(8, prefix="faulty-")
    port = servers.free_port()
    env = servers.production_env(
        database_url=servers.database_url(connection.settings_dict),
        DJANGO_CONN_MAX_AGE="60",
        WEB_CONCURRENCY="2",
        FORUM_RATE_POSTS="",
        FORUM_RATE_POSTS_PER_IP="",
    )
    server = servers.start_gunicorn(port, env)
    answers, sent = [], []
    writing = threading.Event()
    writing.set()
    terminated = 0
    try:
        readers = [servers.Reader() for _ in users]
        for reader, user in zip(readers, users, strict=True):
            reader.log_in(port, user.username)

        def write(number):
            reader, step = readers[number], 0
            while writing.is_set():
                text = f"Reader {number}, reply {step}: {secrets.token_hex(6)}."
                step += 1
                path = f"{article.comments_url}{parents[step % len(parents)]}/reply/"
                try:
                    status, pk = reader.post(port, path, {"body": text})
                except OSError as error:
                    status, pk = repr(error), None
                answers.append(status)
                sent.append((status, pk, text))

        writers = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for writer in writers:
            writer.start()
        for _ in range(10):
            time.sleep(0.3)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                terminated += cursor.fetchone()[0]
        writing.clear()
        for writer in writers:
            writer.join()
        started = time.monotonic()
        after = [
            _get(f"http://127.0.0.1:{port}{article.get_absolute_url()}")[0]
            for _ in range(6)
        ]
        recovered_in = time.monotonic() - started
    finally:
        log = servers.stop(server)

    assert terminated >= 5
    assert set(answers) <= {302, 503}, log[-3000:]
    assert answers.count(302) > 20
    assert after == [200] * 6
    assert recovered_in < 5
    posted = {text for status, _, text in sent if status == 302}
    maybe = {text for status, _, text in sent if status == 503}
    stored = list(
        Comment.objects.filter(article=article)
        .exclude(pk__in=parents)
        .values_list("body", flat=True)
    )
    assert len(stored) == len(set(stored))
    assert posted <= set(stored) <= posted | maybe
    assert find_tree_problems() == []

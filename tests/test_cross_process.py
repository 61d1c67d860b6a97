"""Several app processes, one PostgreSQL and one Redis, as the forum scales:
two gunicorn instances on two loopback ports take 500 replies and 50 new
threads from 32 readers at once, each reader sending each request to either
server. Every accepted comment is stored once, the trees validate, a comment
written through one server is on the other's pages at once, and the rate
limits, the near-duplicate check and moderation hold across both."""

import random
import re
import secrets
import threading

import pytest
import redis
from django.contrib.auth.models import Permission

from forum.models import Comment
from forum.services import find_tree_problems
from tests import servers
from tests.factories import ArticleFactory, CommentFactory
from tests.servers import Reader, accounts

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

READERS = 32
REPLIES = 500
THREADS = 50
# Per reader: above the 17 or 18 comments each reader writes in the run, so
# only the reader who goes on past it is refused.
POSTS_PER_READER = 20
REPORTS_PER_READER = 4
SAME_TEXT_TIMES = 3

NONCE = re.compile(r' nonce="[^"]*"')
COMMENT_ID = re.compile(r'id="comment-(\d+)"')


@pytest.fixture
def redis_url():
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        pytest.skip("needs Redis on 127.0.0.1:6379, as production has")
    return url


@pytest.fixture
def two_servers(collected_static, redis_url):
    """Two gunicorn instances, two workers each, on one database and one
    Redis (keys of this run only). Rate limits per address are off: every
    reader here comes from 127.0.0.1."""
    from django.db import connection

    env = servers.production_env(
        database_url=servers.database_url(connection.settings_dict),
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=f"crowd-{secrets.token_hex(6)}",
        DJANGO_CONN_MAX_AGE="60",
        WEB_CONCURRENCY="2",
        FORUM_RATE_POSTS=f"{POSTS_PER_READER}/600",
        FORUM_RATE_POSTS_PER_IP="",
        FORUM_RATE_REPORTS=f"{REPORTS_PER_READER}/600",
        FORUM_RATE_REPORTS_PER_IP="",
        FORUM_RATE_DUPLICATES=f"{SAME_TEXT_TIMES}/600",
    )
    ports = [servers.free_port(), servers.free_port()]
    started = [servers.start_gunicorn(port, env, timeout=60) for port in ports]
    yield ports
    # Checked once the servers have stopped and their logs are whole.
    logs = [servers.stop(server) for server in started]
    assert not [log for log in logs if '" 500 ' in log], "a server answered 500"


def _normalised(page, port):
    """The page without what may differ between two servers that agree: the
    script nonce and the server's own address (in the canonical link)."""
    return NONCE.sub("", page).replace(f"127.0.0.1:{port}", "SERVER")


def test_two_app_processes_share_one_database_and_one_cache(two_servers):
    ports = two_servers
    article = ArticleFactory(slug="crowd")
    first = [CommentFactory(article=article) for _ in range(10)]
    known = [comment.pk for comment in first]
    before = Comment.objects.filter(article=article).count()
    names = [user.username for user in accounts(READERS, prefix="crowd-")]
    readers = [Reader() for _ in names]
    for number, (reader, name) in enumerate(zip(readers, names, strict=True)):
        # Signed in on one server, the session works on both.
        reader.log_in(ports[number % 2], name)

    # Warm both servers' view of the thread: a cache that stayed in one
    # process would now hold the old thread on the other.
    for port in ports:
        assert Reader().page(port, article.get_absolute_url())[0] == 200

    writes = ["thread"] * THREADS + ["reply"] * REPLIES
    random.Random(7).shuffle(writes)
    lock = threading.Lock()
    accepted = {}  # comment id -> (kind, text)
    problems = []
    unseen = []
    start = threading.Barrier(READERS)

    def crowd(number):
        reader = readers[number]
        rng = random.Random(number)
        start.wait()
        for step, kind in enumerate(writes[number::READERS]):
            port = ports[(number + step) % 2]
            text = f"Reader {number} writes comment {step}: {secrets.token_hex(8)}."
            if kind == "thread":
                path = f"/articles/{article.slug}/comments/"
            else:
                with lock:
                    parent = rng.choice(known)
                path = f"/articles/{article.slug}/comments/{parent}/reply/"
            try:
                status, pk = reader.post(port, path, {"body": text})
            except Exception as error:  # noqa: BLE001 - every failure is counted
                problems.append(f"{kind} on :{port}: {error!r}")
                continue
            if status != 302 or pk is None:
                problems.append(f"{kind} on :{port}: {status}")
                continue
            with lock:
                accepted[pk] = (kind, text)
                known.append(pk)
            # Where the writer lands next: the thread on the other server.
            other = ports[(number + step + 1) % 2]
            status, page = reader.page(
                other, f"{article.get_absolute_url()}?comment={pk}"
            )
            if status != 200 or f'id="comment-{pk}"' not in page:
                unseen.append((pk, other, status))

    workers = [threading.Thread(target=crowd, args=(n,)) for n in range(READERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert problems == [], problems[:10]
    assert unseen == [], unseen[:10]
    assert len(accepted) == REPLIES + THREADS
    stored = Comment.objects.filter(article=article)
    assert stored.count() == before + len(accepted)
    texts = list(stored.filter(pk__in=accepted).values_list("pk", "body"))
    assert sorted(texts) == sorted((pk, text) for pk, (_, text) in accepted.items())
    assert stored.filter(pk__in=accepted, parent=None).count() == THREADS
    assert find_tree_problems() == []

    # The same pages from both servers, every page of the thread.
    anonymous = Reader()
    pages = {}
    for port in ports:
        number, shown = 1, set()
        while True:
            path = f"{article.get_absolute_url()}?page={number}"
            status, page = anonymous.page(port, path)
            assert status == 200
            pages[port, number] = _normalised(page, port)
            shown |= {int(pk) for pk in COMMENT_ID.findall(page)}
            if f"page={number + 1}" not in page:
                break
            number += 1
        new_threads = {pk for pk, (kind, _) in accepted.items() if kind == "thread"}
        assert new_threads <= shown
    assert len(pages) % 2 == 0
    for (port, number), page in pages.items():
        if port == ports[0]:
            assert page == pages[ports[1], number], f"page {number} differs"


def test_rate_limits_and_duplicates_count_across_both_servers(two_servers):
    ports = two_servers
    article = ArticleFactory(slug="limits")
    comments = [
        CommentFactory(article=article)
        for _ in range(max(REPORTS_PER_READER, SAME_TEXT_TIMES) + 1)
    ]
    eager, echo = accounts(2, prefix="limited-")
    reader, repeater = Reader(), Reader()
    reader.log_in(ports[0], eager.username)
    repeater.log_in(ports[1], echo.username)
    create = f"/articles/{article.slug}/comments/"

    # Alternating servers: each sees half; only a shared count refuses.
    answers = [
        reader.post(ports[n % 2], create, {"body": f"Point number {n}."})[0]
        for n in range(POSTS_PER_READER)
    ]
    over = [
        reader.post(port, create, {"body": f"One more, on {port}."})[0]
        for port in ports
    ]
    assert answers == [302] * POSTS_PER_READER
    assert over == [429, 429]

    reports = [
        reader.post(
            ports[n % 2],
            f"/articles/{article.slug}/comments/{comment.pk}/report/",
            {"reason": "off_topic"},
        )[0]
        for n, comment in enumerate(comments)
    ]
    assert reports == [302] * REPORTS_PER_READER + [429]

    # The same words under different comments (the same place again would be
    # a resent form, answered with the first copy).
    same = [
        repeater.request(
            ports[n % 2],
            "POST",
            f"/articles/{article.slug}/comments/{comment.pk}/reply/",
            {"body": "Same words again."},
        )
        for n, comment in enumerate(comments[: SAME_TEXT_TIMES + 1])
    ]
    assert [status for status, _, _ in same] == [302] * SAME_TEXT_TIMES + [400]
    assert f"You have posted this text {SAME_TEXT_TIMES} times" in same[-1][2]
    assert Comment.objects.filter(body="Same words again.").count() == SAME_TEXT_TIMES
    assert (
        Comment.objects.filter(author=eager, article=article).count()
        == POSTS_PER_READER
    )


def test_a_moderators_act_on_one_server_shows_on_the_other(two_servers):
    ports = two_servers
    article = ArticleFactory(slug="moderated")
    target = CommentFactory(article=article, body="Buy cheap watches here.")
    CommentFactory(article=article, parent=target, body="A reply that stays.")
    [moderator] = accounts(1, prefix="moderator-")
    moderator.is_staff = True
    moderator.save()
    moderator.user_permissions.add(
        Permission.objects.get(
            codename="moderate_comment", content_type__app_label="forum"
        )
    )
    anonymous = Reader()
    path = article.get_absolute_url()
    assert "Buy cheap watches here." in anonymous.page(ports[1], path)[1]

    staff = Reader()
    staff.log_in(ports[0], moderator.username)
    status, _ = staff.post(
        ports[0],
        f"/articles/{article.slug}/comments/{target.pk}/remove/",
        {"reason": "spam"},
    )

    assert status == 302
    status, page = anonymous.page(ports[1], path)
    assert status == 200
    assert "Buy cheap watches here." not in page
    assert "Comment removed by a moderator: Spam." in page
    assert "A reply that stays." in page

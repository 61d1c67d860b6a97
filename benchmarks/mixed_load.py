"""A bounded load of readers who read and write: N clients, each logged in as
its own reader account, fetch a thread's page and, on a share of their
requests, post a reply to one of its comments or a new top-level comment
through the site's forms. Prints requests/s and latency percentiles for reads
and for writes, then checks in the database that every accepted post is
stored exactly once, under the comment it answered, and that the comment trees
are sound.

Run (benchmarks/mixed_load.sh starts a server first and runs this):
    .venv/bin/python benchmarks/mixed_load.py --port 8102 --slug bench-1000

The load is HTTP as a browser sends it: each client GETs the log-in form,
posts it with its CSRF token and keeps its cookies (session, CSRF token, the
message a post leaves for the next page) from then on. A post is accepted when
it answers 302 to its comment in the thread (post/redirect/get; the redirect
is not followed); any other answer, or none, is an error. The accounts
(bench-reader-01, ...) and the checks go through Django, on the database
DATABASE_URL names: the server's. Loopback only (load.py's guard). Exits 1 on
any error, in the warm-up too, or any failed check.
"""

import argparse
import gzip
import http.client
import http.cookiejar
import os
import random
import re
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.urls import reverse  # noqa: E402

from articles.models import Article  # noqa: E402
from benchmarks.load import (  # noqa: E402
    TIMEOUT_SECONDS,
    CpuMeter,
    Result,
    loopback_address,
    percentile,
)
from forum.models import Comment  # noqa: E402
from forum.services import find_tree_problems  # noqa: E402

# Accounts of a benchmark database, logged in over loopback only.
READER_PASSWORD = "bench-reader-password"
# Of the posts, the share that start a new tree, as in benchmarks/shapes.py.
TOP_LEVEL_SHARE = 1 / 3
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
# What a refused form says (templates/forum/_comment_form.html, 403, 429).
ALERT = re.compile(r'role="alert"[^>]*>(.*?)</(?:div|p)>', re.S)


class Reader:
    """One client: a reader account, its connection and its cookies
    (http.cookiejar keeps them as a browser does)."""

    def __init__(self, username, address, port, host_header, *, accept_gzip):
        self.username = username
        self.connection = http.client.HTTPConnection(
            address, port, timeout=TIMEOUT_SECONDS
        )
        self.origin = f"http://{host_header}"
        self.headers = {"Host": host_header, "User-Agent": "forum-benchmarks-mixed/1"}
        if accept_gzip:
            self.headers["Accept-Encoding"] = "gzip"
        self.cookies = http.cookiejar.CookieJar()
        self.posts_sent = 0

    def request(self, method, path, form=None):
        """(response, body as sent) of one request; its cookies are kept.

        One connection, reopened by http.client when gunicorn's sync workers
        close it after a response, as load.py's clients do.
        """
        # The jar speaks urllib's Request; the request itself goes out here.
        probe = urllib.request.Request(self.origin + path, method=method)
        self.cookies.add_cookie_header(probe)
        headers = {**self.headers, **dict(probe.header_items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            raise
        self.cookies.extract_cookies(response, probe)
        return response, content

    def cookie(self, name):
        return next((c.value for c in self.cookies if c.name == name), None)

    def log_in(self, next_path):
        """Through the log-in form, as a person does; SystemExit if refused."""
        login_path = reverse("login")
        response, page = self.request("GET", login_path)
        token = CSRF_FIELD.search(readable(response, page))
        if response.status != 200 or token is None:
            raise SystemExit(
                f"mixed_load: {login_path} answered {response.status}"
                + ("" if token else ", without a CSRF token")
            )
        response, page = self.request(
            "POST",
            login_path,
            {
                "csrfmiddlewaretoken": token[1].decode(),
                "username": self.username,
                "password": READER_PASSWORD,
                "next": next_path,
            },
        )
        if response.status != 302 or response.getheader("Location") != next_path:
            raise SystemExit(
                f"mixed_load: {self.username} could not log in: {response.status} "
                f"{response.getheader('Location') or alerts(response, page)}"
            )


def readable(response, content):
    if response.getheader("Content-Encoding") == "gzip":
        return gzip.decompress(content)
    return content


def alerts(response, content):
    """The messages a refused form shows, as one line."""
    text = readable(response, content).decode("utf-8", "replace")
    found = (
        " ".join(unescape(re.sub(r"<[^>]+>", " ", m)).split())
        for m in ALERT.findall(text)
    )
    return "; ".join(found)[:300] or "(no message on the page)"


@dataclass(frozen=True)
class Plan:
    thread_path: str  # the article page: what readers read
    comments_path: str  # the comment forms post below it
    parent_ids: tuple  # comments open for replies when the run began
    write_share: float
    marker: str  # in every post's text: this run's posts, and only them


@dataclass(frozen=True)
class Post:
    comment_id: int
    parent_id: int | None
    text: str


class Tally:
    """What the clients got in one phase: per kind, and the accepted posts."""

    def __init__(self):
        self.lock = threading.Lock()
        self.results = {"read": Result(), "write": Result()}
        self.examples = {}  # error -> what the first page with it said
        self.posts = []

    def error(self, kind, key, example=""):
        with self.lock:
            errors = self.results[kind].errors
            errors[key] = errors.get(key, 0) + 1
            self.examples.setdefault(f"{kind}: {key}", example)

    @property
    def error_count(self):
        return sum(result.error_count for result in self.results.values())


def read(reader, plan, tally):
    started = time.perf_counter()
    response, body = reader.request("GET", plan.thread_path)
    elapsed = time.perf_counter() - started
    if response.status != 200:
        tally.error("read", f"status {response.status}")
        return
    with tally.lock:
        tally.results["read"].latencies.append(elapsed)
        tally.results["read"].sizes.append(len(body))


def write(reader, plan, tally, rng):
    reader.posts_sent += 1
    parent_id = None
    if rng.random() >= TOP_LEVEL_SHARE:
        parent_id = rng.choice(plan.parent_ids)
    # New text every time: the site refuses one reader's repeated text.
    text = (
        f"{plan.marker}: {reader.username}, post {reader.posts_sent}. "
        "One more thought on this thread, sent under load."
    )
    path = plan.comments_path + (f"{parent_id}/reply/" if parent_id else "")
    form = {"csrfmiddlewaretoken": reader.cookie("csrftoken"), "body": text}
    form["website"] = ""  # the honeypot, left empty as a person leaves it
    started = time.perf_counter()
    response, body = reader.request("POST", path, form)
    elapsed = time.perf_counter() - started
    location = urllib.parse.urlsplit(response.getheader("Location") or "")
    comment_id = urllib.parse.parse_qs(location.query).get("comment", [""])[0]
    if response.status != 302:
        tally.error("write", f"status {response.status}", alerts(response, body))
        return
    if location.path != plan.thread_path or not comment_id.isdigit():
        # Sent to log in, say: a 302, and nothing was posted.
        tally.error("write", f"302 to {location.path}")
        return
    with tally.lock:
        tally.results["write"].latencies.append(elapsed)
        tally.posts.append(Post(int(comment_id), parent_id, text))


def client(reader, plan, tally, deadline, rng):
    """Read or write, at random in the plan's shares, until ``deadline``; the
    request in flight then is answered and counted."""
    while time.perf_counter() < deadline:
        kind = "write" if rng.random() < plan.write_share else "read"
        try:
            if kind == "write":
                write(reader, plan, tally, rng)
            else:
                read(reader, plan, tally)
        except (OSError, http.client.HTTPException) as error:
            tally.error(kind, type(error).__name__)
    reader.connection.close()


def run_phase(readers, plan, seconds, rngs):
    """Every reader at once for ``seconds``; returns the phase's Tally."""
    tally = Tally()
    started = time.perf_counter()
    threads = [
        threading.Thread(
            target=client,
            args=(reader, plan, tally, started + seconds, rng),
            daemon=True,
        )
        for reader, rng in zip(readers, rngs, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for result in tally.results.values():
        result.elapsed = elapsed
    return tally


def ensure_readers(count):
    """The reader accounts bench-reader-01 ... (plain readers: the rate limits
    and pre-moderation rules apply to them, as to anyone)."""
    users = get_user_model()
    names = [f"bench-reader-{number:02d}" for number in range(1, count + 1)]
    existing = set(
        users.objects.filter(username__in=names).values_list("username", flat=True)
    )
    for name in names:
        if name not in existing:
            users.objects.create_user(name, password=READER_PASSWORD)
    if len(existing) < count:
        print(f"mixed_load: created {count - len(existing)} reader accounts")
    return names


def print_table(tally, meter, cpu):
    results = tally.results
    everything = Result(
        latencies=results["read"].latencies + results["write"].latencies,
        errors={
            f"{kind} {key}": n
            for kind, r in results.items()
            for key, n in r.errors.items()
        },
        elapsed=results["read"].elapsed,
    )
    total = everything.ok + everything.error_count
    header = (
        f"{'kind':<6} {'requests':>8} {'errors':>6} {'req/s':>8} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    )
    print(header)
    print("-" * len(header))
    for kind, result in [*results.items(), ("all", everything)]:
        ordered = sorted(result.latencies)
        p50, p95, p99 = (percentile(ordered, f) * 1000 for f in (0.50, 0.95, 0.99))
        requests = result.ok + result.error_count
        print(
            f"{kind:<6} {requests:>8} {result.error_count:>6} "
            f"{requests / result.elapsed:>8.1f} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}"
        )
    for kind, result in results.items():
        for key, count in sorted(result.errors.items()):
            example = tally.examples.get(f"{kind}: {key}")
            print(
                f"    error: {kind} {key} x{count}"
                + (f": {example}" if example else "")
            )
    reads = results["read"].sizes
    if reads:
        print(f"read: {round(sum(reads) / len(reads)):,} bytes a page, as sent")
    shares = ", ".join(
        f"{name} " + ("n/a" if share is None else f"{share:.0%}")
        for name, share in meter.shares(cpu).items()
    )
    print(
        f"CPU (shares of all cores): {shares}"
        + (
            f"; server CPU a request: {cpu['server'] * 1000 / total:.1f} ms"
            if cpu.get("server") is not None and total
            else ""
        )
        + ".\n"
        "req/s: requests a second, answered or not; latencies: of accepted "
        "requests (read: 200; write: 302 to the new comment)."
    )


def check(article, before_ids, posts):
    """Print what the database holds of ``posts``; True if it is all there,
    once each, and the trees are sound."""
    added = {
        pk: (parent_id, body, status)
        for pk, parent_id, body, status in Comment.objects.filter(article=article)
        .exclude(pk__in=before_ids)
        .values_list("pk", "parent_id", "body", "status")
    }
    good = True
    print(
        f"check: {len(before_ids):,} comments before, {len(before_ids) + len(added):,} "
        f"after: {len(added)} added; {len(posts)} posts accepted"
    )
    if len(added) != len(posts):
        good = False
        print(
            f"check: FAILED: {len(added)} comments added, "
            f"for {len(posts)} accepted posts"
        )
    misplaced = [
        post
        for post in posts
        if added.get(post.comment_id, (None, None))[:2] != (post.parent_id, post.text)
    ]
    if len({post.comment_id for post in posts}) != len(posts) or misplaced:
        good = False
        print(
            f"check: FAILED: {len(misplaced)} accepted posts are not stored as "
            "sent, or two posts were answered with one comment"
        )
    else:
        print(
            "check: each accepted post stored once, with its text, under the "
            "comment it answered"
        )
    statuses = Counter(status for _parent, _body, status in added.values())
    stored = ", ".join(f"{status} {n}" for status, n in statuses.most_common())
    print(f"check: stored as {stored or 'nothing'}")
    problems = find_tree_problems()
    for problem in problems:
        print(f"check: FAILED: tree {problem.tree_id}: {problem.message}")
    if not problems:
        print("check: comment trees sound (forum.services.find_tree_problems)")
    return good and not problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="loopback only")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--slug", default="bench-1000", help="the article read")
    parser.add_argument("--clients", type=int, default=16, help="readers, one each")
    parser.add_argument("--duration", type=float, default=20, help="seconds measured")
    parser.add_argument(
        "--warmup",
        type=float,
        default=2,
        help="seconds of the same load first, not measured (its posts are checked)",
    )
    parser.add_argument(
        "--write-percent",
        type=float,
        default=5,
        help="share of requests that post a comment, a third of them top-level",
    )
    parser.add_argument(
        "--gzip",
        action="store_true",
        help="ask for gzip as browsers do (bytes are then as sent, compressed)",
    )
    parser.add_argument("--server-pid", type=int, default=None, help="see load.py")
    parser.add_argument("--db-pid", type=int, default=None, help="see load.py")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("need --clients >= 1, --duration > 0, --warmup >= 0")
    if not 0 <= args.write_percent <= 100:
        parser.error("--write-percent is between 0 and 100")

    address = loopback_address(args.host, args.port)
    host_header = args.host if args.port == 80 else f"{args.host}:{args.port}"
    article = Article.objects.published().filter(slug=args.slug).first()
    if article is None:
        raise SystemExit(f"mixed_load: no published article {args.slug!r} here")
    names = ensure_readers(args.clients)
    before_ids = set(
        Comment.objects.filter(article=article).values_list("pk", flat=True)
    )
    parent_ids = Comment.objects.filter(
        article=article, status=Comment.Status.PUBLISHED, replies_locked_at__isnull=True
    ).values_list("pk", flat=True)
    plan = Plan(
        thread_path=article.get_absolute_url(),
        comments_path=article.comments_url,
        parent_ids=tuple(parent_ids),
        write_share=args.write_percent / 100,
        marker=f"mixed-load {time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}",
    )
    if not plan.parent_ids and args.write_percent:
        raise SystemExit(f"mixed_load: {args.slug} has no comment open for replies")
    print(
        f"mixed_load: http://{host_header}{plan.thread_path} ({address}), "
        f"{len(before_ids):,} comments; {args.clients} readers, "
        f"{args.write_percent:g}% posts ({TOP_LEVEL_SHARE:.0%} of them top-level), "
        f"{args.duration:g} s after {args.warmup:g} s of warm-up"
        + (", Accept-Encoding: gzip" if args.gzip else ""),
        flush=True,
    )
    readers = [
        Reader(name, address, args.port, host_header, accept_gzip=args.gzip)
        for name in names
    ]
    for reader in readers:
        reader.log_in(plan.thread_path)
    print(f"mixed_load: {len(readers)} readers logged in through {reverse('login')}")
    rngs = [random.Random(f"mixed-load-{number}") for number in range(len(readers))]

    posts = []
    warmup_errors = 0
    if args.warmup:
        warmup = run_phase(readers, plan, args.warmup, rngs)
        posts += warmup.posts
        warmup_errors = warmup.error_count
        requests = sum(r.ok + r.error_count for r in warmup.results.values())
        print(
            f"warm-up: {requests} requests, {len(warmup.posts)} posts accepted, "
            f"{warmup_errors} errors"
        )
        for key, example in warmup.examples.items():
            print(f"    warm-up error: {key}" + (f": {example}" if example else ""))
    meter = CpuMeter(args.server_pid, args.db_pid)
    before = meter.read()
    measured = run_phase(readers, plan, args.duration, rngs)
    cpu = meter.delta(before, meter.read())
    posts += measured.posts
    print_table(measured, meter, cpu)
    sound = check(article, before_ids, posts)
    failed = warmup_errors or measured.error_count or not sound
    print("mixed_load: " + ("FAILED" if failed else "no errors, every check passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

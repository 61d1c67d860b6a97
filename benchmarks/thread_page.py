"""Figures for big threads (issue 5): the article page at 10, 1,000 and 10,000
comments, each beside two baselines measured in the same run on the same data.

- The floor: one SELECT of the comments' stored HTML fragments and a string
  join, the least any page showing the whole thread could do.
- The peer: django-comments-xtd 2.10 showing the same thread (same shape, text,
  authors and database) the way its documentation tells a site to, with
  ``{% render_xtdcomment_tree for article %}`` and its default templates
  (benchmarks/peer.py).

Per size it prints the queries, the median server time of the first page and
of the whole thread (every page setting raised above the thread's size), cold
(``cache.clear()`` before each request) and warm (primed by the request
before), the response bytes, and the median time to post a reply. Pages go
through django.test.Client, the whole Django stack, with DEBUG off. Every
figure is timed in rounds, one run of each per round, so that a busy moment on
the shared machine slows all of them and the ratios still hold.

The peer is installed only in the benchmark's environment: ``make benchmark``
builds .venv-bench from benchmarks/requirements.txt and runs this script there
with benchmarks/settings.py. By hand:

    .venv-bench/bin/python benchmarks/thread_page.py [--sizes 10 1000] [--repeat 7]

It builds its threads in a throwaway database (DATABASE_URL picks the engine;
on PostgreSQL ``forum_benchmark``, on SQLite a file in the temp folder), never
the site's own. The cache is the site's: local memory, or Redis with REDIS_URL,
whose database the cold runs empty (FLUSHDB), so give it a spare one.
"""

import argparse
import gc
import gzip
import importlib.util
import os
import random
import re
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only")

if importlib.util.find_spec("django_comments_xtd") is None:
    sys.exit(
        "django-comments-xtd, the peer, is not installed here. Run `make benchmark`,"
        " which builds .venv-bench from benchmarks/requirements.txt, or\n"
        "  .venv-bench/bin/python benchmarks/thread_page.py"
    )

import django  # noqa: E402

django.setup()

import nh3  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.exceptions import FieldDoesNotExist  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from articles.importers import SEED_DIR  # noqa: E402
from benchmarks import peer  # noqa: E402
from benchmarks.shapes import (  # noqa: E402
    MAX_LEVEL,
    build_thread,
    describe,
    thread_shape,
)
from forum import services  # noqa: E402
from forum.markup import render_comment  # noqa: E402
from forum.models import Comment  # noqa: E402

AUTHOR_NAMES = 50
PAGE_SETTINGS = (
    "FORUM_TOP_LEVEL_PAGE_SIZE",
    "FORUM_PAGE_COMMENT_CAP",
    "FORUM_MAX_DEPTH_SHOWN",
    "FORUM_REPLIES_SHOWN",
)
# How each side marks a comment it shows: ours `#comment-<id>` (README), the
# peer `<div id="c<id>"` (django_comments_xtd/comment_tree.html).
OUR_ANCHOR = re.compile(rb'id="comment-\d+"')
PEER_ANCHOR = re.compile(rb'id="c\d+"')


@dataclass
class Page:
    """What one request for a page gives, apart from its time."""

    queries: int
    warm_queries: int | None
    shown: int
    bytes: int
    gzip_bytes: int


@dataclass
class Case:
    """One thing to time: ``run()``, after ``before()`` (untimed), with
    ``settings`` overridden."""

    run: Callable
    before: Callable | None = None
    settings: dict = field(default_factory=dict)


def time_cases(cases, repeat):
    """Median ms of each case, timed in rounds of one run per case: the machine
    is shared, and a slow spell then slows every case alike, not just one."""
    timings = {name: [] for name in cases}
    for _ in range(repeat):
        for name, case in cases.items():
            with override_settings(**case.settings):
                if case.before:
                    case.before()
                gc.collect()
                start = time.perf_counter()
                case.run()
                timings[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) * 1000 for name, times in timings.items()}


def fetch(client, url):
    response = client.get(url)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return response


def inspect_page(client, url, anchor, *, warm=True):
    """Queries (cold, and warm if the page caches), comments shown and bytes."""
    fetch(client, url)  # compiles templates; the rows into the database's cache
    # Count at once: the next request empties the log the counts are read from.
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        content = fetch(client, url).content
    queries = len(captured)
    warm_queries = None
    if warm:
        with CaptureQueriesContext(connection) as captured:
            fetch(client, url)
        warm_queries = len(captured)
    return Page(
        queries=queries,
        warm_queries=warm_queries,
        shown=len(anchor.findall(content)),
        bytes=len(content),
        gzip_bytes=len(gzip.compress(content, compresslevel=6)),
    )


def has_fragments():
    try:
        Comment._meta.get_field("fragment")
    except FieldDoesNotExist:
        return False
    return True


def floor(article):
    """The least a page of the whole thread does: its stored HTML, joined."""
    return "".join(
        Comment.objects.filter(article=article)
        .order_by("tree_id", "lft")
        .values_list("fragment", flat=True)
    )


def reply_parents(size, count):
    """Indexes of ``count`` comments to reply to, the same on both sides: any
    comment the peer still accepts replies to (it stops at its max level)."""
    levels = []
    for parent in thread_shape(size):
        levels.append(0 if parent is None else levels[parent] + 1)
    open_ = [i for i, level in enumerate(levels) if level < MAX_LEVEL]
    rng = random.Random(size)
    return [rng.choice(open_) for _ in range(count)]


def settle_statistics():
    """What autovacuum does for a real database after a burst of writes, for
    both sides' tables alike: planner statistics and, on PostgreSQL, the
    visibility map that lets index-only scans skip the table. (Autovacuum is
    off on some machines, this one included, and a fresh build leaves none.)"""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


def measure_size(size, *, text, repeat, client):
    """Build both threads of ``size`` comments and measure them; a dict of
    figures for the report."""
    figures = {"size": size, "shape": describe(thread_shape(size))}
    start = time.perf_counter()
    article = build_thread(
        size=size, slug=f"thread-{size}", text=text, author_names=AUTHOR_NAMES
    )
    figures["build_ours_s"] = time.perf_counter() - start
    start = time.perf_counter()
    peer_pks = peer.build_thread(
        article=article, size=size, text=text, author_names=AUTHOR_NAMES
    )
    figures["build_peer_s"] = time.perf_counter() - start
    settle_statistics()

    url = article.get_absolute_url()
    peer_url = reverse("peer_article_detail", kwargs={"slug": article.slug})
    # Every page setting above the thread's size: one page shows it all.
    whole = dict.fromkeys(PAGE_SETTINGS, size + 1)
    figures["first"] = inspect_page(client, url, OUR_ANCHOR)
    with override_settings(**whole):
        figures["whole"] = inspect_page(client, url, OUR_ANCHOR)
        # The peer caches nothing: its warm page is its cold one.
        figures["peer"] = inspect_page(client, peer_url, PEER_ANCHOR, warm=False)

    def get(url=url):
        return lambda: fetch(client, url)

    cases = {
        "first_cold": Case(get(), before=cache.clear),
        "first_warm": Case(get(), before=get()),
        "whole_cold": Case(get(), before=cache.clear, settings=whole),
        "whole_warm": Case(get(), before=get(), settings=whole),
        "peer": Case(get(peer_url), before=cache.clear, settings=whole),
    }
    if has_fragments():
        with CaptureQueriesContext(connection) as captured:
            floor(article)
        figures["floor_queries"] = len(captured)
        cases["floor"] = Case(lambda: floor(article))
    figures["ms"] = time_cases(cases, repeat)

    # Replies last: they change both threads.
    indexes = reply_parents(size, repeat)
    our_pks = list(
        Comment.objects.filter(article=article)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    ours = [our_pks[i] for i in indexes]
    by_pk = Comment.objects.in_bulk(ours)
    parents = iter([by_pk[pk] for pk in ours])
    peer_parents = iter([peer_pks[i] for i in indexes])
    figures["ms"] |= time_cases(
        {
            "reply": Case(
                lambda: services.post_comment(
                    article=article, body=text, parent=next(parents), author_name="x"
                )
            ),
            "peer_reply": Case(
                lambda: peer.post_reply(
                    article=article, parent_pk=next(peer_parents), body=text
                )
            ),
        },
        repeat,
    )
    return figures


def ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "-"


def report(results, *, repeat):
    """One column per size, one row per figure."""
    rows = []

    def row(label, cell=None):
        rows.append((label, cell and [cell(f) for f in results]))

    def ms(name):
        return lambda f: f"{f['ms'][name]:,.1f}" if name in f["ms"] else "-"

    def kb(page):
        return lambda f: (
            f"{f[page].bytes / 1000:,.0f} kB ({f[page].gzip_bytes / 1000:,.0f} gz)"
        )

    one_k = next((f for f in results if f["size"] == 1000), None)

    def against_1k(name):
        return lambda f: ratio(f["ms"][name], one_k and one_k["ms"][name])

    row("shape: top-level, deepest level", lambda f: "{:,}, {}".format(*f["shape"]))
    row("build: ours, post_comment (s)", lambda f: f"{f['build_ours_s']:.1f}")
    row("build: peer, in bulk (s)", lambda f: f"{f['build_peer_s']:.1f}")
    row("queries (cold / warm)")
    row(
        "  ours, first page",
        lambda f: f"{f['first'].queries} / {f['first'].warm_queries}",
    )
    row(
        "  ours, whole thread",
        lambda f: f"{f['whole'].queries} / {f['whole'].warm_queries}",
    )
    row("  peer, whole thread", lambda f: f"{f['peer'].queries}")
    row("  floor", lambda f: f"{f.get('floor_queries', '-')}")
    row("comments shown")
    row("  ours, first page", lambda f: f"{f['first'].shown:,}")
    row("  ours, whole thread", lambda f: f"{f['whole'].shown:,}")
    row("  peer, whole thread", lambda f: f"{f['peer'].shown:,}")
    row(f"median ms of {repeat}")
    row("  first page, cold", ms("first_cold"))
    row("  first page, warm", ms("first_warm"))
    row("  whole thread, cold", ms("whole_cold"))
    row("  whole thread, warm", ms("whole_warm"))
    row("  floor", ms("floor"))
    row("  peer, whole thread", ms("peer"))
    row("ratios")
    row(
        "  peer ÷ ours whole cold",
        lambda f: ratio(f["ms"]["peer"], f["ms"]["whole_cold"]),
    )
    row(
        "  ours whole cold ÷ floor",
        lambda f: ratio(f["ms"]["whole_cold"], f["ms"].get("floor")),
    )
    row("  first page ÷ 1,000's, cold", against_1k("first_cold"))
    row("  first page ÷ 1,000's, warm", against_1k("first_warm"))
    row("bytes (gzip -6)")
    row("  ours, first page", kb("first"))
    row("  ours, whole thread", kb("whole"))
    row("  peer, whole thread", kb("peer"))
    row(f"reply, median ms of {repeat}")
    row("  ours, post_comment", ms("reply"))
    row("  peer, XtdComment.save", ms("peer_reply"))

    width = max(len(label) for label, _ in rows)
    cells = [len(cell) for _, values in rows if values for cell in values]
    column = max([*cells, 10]) + 2
    print(
        f"{'comments':<{width}}" + "".join(f"{f['size']:>{column},}" for f in results)
    )
    for label, values in rows:
        print(f"{label:<{width}}" + "".join(f"{v:>{column}}" for v in values or []))


def check_targets(results):
    """Issue 5's targets, as far as the sizes run allow: (target, met, figure)."""
    by_size = {f["size"]: f for f in results}
    checks = []
    if 1000 in by_size:
        f = by_size[1000]["ms"]
        checks.append(
            (
                "1,000 whole cold: peer ÷ ours >= 10",
                f["peer"] / f["whole_cold"] >= 10,
                ratio(f["peer"], f["whole_cold"]),
            )
        )
        if "floor" in f:
            checks.append(
                (
                    "1,000 whole cold: ours ÷ floor <= 3",
                    f["whole_cold"] / f["floor"] <= 3,
                    ratio(f["whole_cold"], f["floor"]),
                )
            )
    if 1000 in by_size and 10000 in by_size:
        small, big = by_size[1000], by_size[10000]
        for when in ("cold", "warm"):
            a, b = big["ms"][f"first_{when}"], small["ms"][f"first_{when}"]
            checks.append(
                (f"first page {when}: 10,000 ÷ 1,000 <= 2", a / b <= 2, ratio(a, b))
            )
        checks += [
            (
                "first page: same queries at 10,000 and 1,000",
                big["first"].queries == small["first"].queries,
                f"{big['first'].queries} and {small['first'].queries}",
            ),
            (
                "first page of 10,000 < 1.5 MB",
                big["first"].bytes < 1_500_000,
                f"{big['first'].bytes:,} bytes",
            ),
        ]
    return checks


def markup_figures(text_lines, repeat):
    """forum.markup.render_comment, paid once per comment written, against
    nh3.clean alone on the same text."""
    samples = [line for line in text_lines if line.strip()] * 20
    timed = time_cases(
        {
            "ours": Case(lambda: [render_comment(s) for s in samples]),
            "nh3": Case(lambda: [nh3.clean(s) for s in samples]),
        },
        repeat,
    )
    print(
        f"markup: render_comment {timed['ours'] / len(samples) * 1000:.0f} µs a "
        f"comment, nh3.clean alone {timed['nh3'] / len(samples) * 1000:.0f} µs, "
        f"ratio {ratio(timed['ours'], timed['nh3'])}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1000, 10000])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    # Measure the views, not a missing `collectstatic` manifest.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    storages = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    override_settings(
        STORAGES=storages, ALLOWED_HOSTS=["testserver"], DEBUG=False
    ).enable()
    # Its own database, so a test run at the same time is left alone; on SQLite
    # a file, as the site has, not an in-memory database.
    connection.settings_dict["TEST"]["NAME"] = (
        str(Path(tempfile.gettempdir()) / "forum_benchmark.sqlite3")
        if connection.vendor == "sqlite"
        else "forum_benchmark"
    )
    started = time.perf_counter()
    old_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False
    )
    try:
        seed_lines = (
            (SEED_DIR / "kazakhstan-joins-abraham-accords.txt")
            .read_text(encoding="utf-8")
            .split("\n")[12:]
        )
        text = "\n".join(seed_lines[:3])
        backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        if backend == "RedisCache":
            # cache.clear() is FLUSHDB there: point REDIS_URL at a spare database.
            backend += f" at {settings.CACHES['default']['LOCATION']}, emptied"
        print(
            f"thread page, issue 5: {connection.vendor}, DEBUG off, "
            f"cache {backend}, median of {args.repeat}"
        )
        if not has_fragments():
            print(
                "floor skipped: forum.Comment has no `fragment` column yet "
                "(the stored-fragment thread page has not landed)"
            )
        client = Client()
        results = []
        for size in args.sizes:
            start = time.perf_counter()
            results.append(
                measure_size(size, text=text, repeat=args.repeat, client=client)
            )
            elapsed = time.perf_counter() - start
            print(
                f"  {size:,} comments: built and measured in {elapsed:.0f} s",
                flush=True,
            )
        report(results, repeat=args.repeat)
        checks = check_targets(results)
        print("targets (issue 5):" if checks else "targets: need sizes 1000 and 10000")
        for target, met, figure in checks:
            print(f"  {'met   ' if met else 'MISSED'}  {target}: {figure}")
        markup_figures(seed_lines, args.repeat)
        print(f"total {time.perf_counter() - started:.0f} s")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()

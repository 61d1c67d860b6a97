"""Measure the thread page and the markup pipeline, as ratios against baselines
run in the same process.

- Thread page: our view (two queries for the whole tree, one flat template
  loop) against a naive recursive renderer that asks each comment for its
  children, as many comment systems do (one query per comment).
- Markup: forum.markup.render_comment (bleach + linkify + paragraphs + nh3)
  against nh3.clean alone on the same text.

Run: .venv/bin/python benchmarks/thread_render.py [--sizes 100 1000]
Uses a throwaway test database (DATABASE_URL picks the engine).
"""

import argparse
import os
import random
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only")

import django  # noqa: E402

django.setup()

import nh3  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
)

from articles.importers import SEED_DIR  # noqa: E402
from articles.models import Article  # noqa: E402
from forum import services  # noqa: E402
from forum.markup import render_comment  # noqa: E402
from forum.models import Comment  # noqa: E402


def naive_render(article):
    """Baseline: recursive rendering with a children query per comment."""

    def render(nodes):
        out = []
        for node in nodes:
            children = list(node.get_children())
            out.append(f"<li>{node.author_name} {node.body_html}")
            if children:
                out.append("<ol>" + render(children) + "</ol>")
            out.append("</li>")
        return "".join(out)

    return render(list(Comment.objects.filter(article=article, parent=None)))


def build_thread(size, text):
    article = Article.objects.create(
        title=f"Bench {size}",
        slug=f"bench-{size}",
        body="Body.",
        source_key=f"bench:{size}",
        published_at=django.utils.timezone.now(),
    )
    # A quarter top-level, the rest replies, mostly to recent comments, so the
    # tree gets both long branches and wide fans.
    rng = random.Random(size)
    made = []
    for index in range(size):
        parent = None
        if made and index % 4:
            parent = made[max(0, len(made) - 1 - int(rng.expovariate(0.1)))]
            if parent.level >= 12:
                parent = None
        made.append(
            services.post_comment(
                article=article,
                body=text,
                parent=parent,
                author_name=f"reader{index % 50}",
            )
        )
    return article


def best_of(function, repeat):
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings), statistics.median(timings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=5)
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
    # Its own database, so a test run at the same time is left alone.
    connection.settings_dict["TEST"]["NAME"] = (
        None if connection.vendor == "sqlite" else "forum_benchmark"
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        seed_lines = (
            (SEED_DIR / "kazakhstan-joins-abraham-accords.txt")
            .read_text(encoding="utf-8")
            .split("\n")[12:]
        )
        text = "\n".join(seed_lines[:3])
        client = Client()
        print(f"database: {connection.vendor}; best of {args.repeat} runs")
        print(
            f"{'comments':>8} {'our page':>10} {'queries':>8} "
            f"{'naive':>10} {'queries':>8} {'naive/ours':>10}"
        )
        for size in args.sizes:
            article = build_thread(size, text)
            url = article.get_absolute_url()
            assert client.get(url).status_code == 200
            # Count right away: every request resets the query log.
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            ours_queries = len(captured)
            with CaptureQueriesContext(connection) as captured:
                naive_render(article)
            naive_queries = len(captured)
            ours, _ = best_of(lambda url=url: client.get(url), args.repeat)
            naive, _ = best_of(lambda a=article: naive_render(a), args.repeat)
            print(
                f"{size:>8} {ours * 1000:>8.1f}ms {ours_queries:>8} "
                f"{naive * 1000:>8.1f}ms {naive_queries:>8} "
                f"{naive / ours:>9.2f}x"
            )

        samples = [line for line in seed_lines if line.strip()]
        loops = 20
        ours, _ = best_of(
            lambda: [render_comment(s) for s in samples * loops], args.repeat
        )
        base, _ = best_of(lambda: [nh3.clean(s) for s in samples * loops], args.repeat)
        count = len(samples) * loops
        print(
            f"markup: render_comment {ours / count * 1e6:.0f} µs/comment, "
            f"nh3.clean alone {base / count * 1e6:.0f} µs/comment, "
            f"ratio {ours / base:.1f}x"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()

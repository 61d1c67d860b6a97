"""Make sure the database DATABASE_URL names holds a published benchmark article
with a thread of the standard shape (benchmarks/shapes.py), building it through
forum.services if it is missing. Idempotent: a second run only checks.

Run: .venv/bin/python benchmarks/ensure_thread.py [--size 10000] [--slug bench-10000]
     [--rebuild]

Used by benchmarks/serve_load.sh to give the served database its big thread,
and by benchmarks/mixed_load.sh, whose posts grow the thread: --rebuild
deletes a thread of another size and builds it again.
Every comment has the same text: the first three comment lines of the seed.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from articles.models import Article  # noqa: E402
from benchmarks.shapes import build_thread, describe, thread_shape  # noqa: E402
from forum.services import delete_article  # noqa: E402

SEED = ROOT / "articles" / "seed" / "kazakhstan-joins-abraham-accords.txt"


def seed_comment_text():
    """Lines 13-15 of the seed: its first reader comment's opening lines."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    return "\n".join(lines[12:15])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--slug", default=None, help="default: bench-<size>")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="delete an article of this slug with another number of comments "
        "(forum.services.delete_article) and build it again",
    )
    args = parser.parse_args(argv)
    slug = args.slug or f"bench-{args.size}"

    article = Article.objects.filter(slug=slug).first()
    if article is not None:
        count = article.comments.count()
        if count == args.size:
            print(f"{slug}: already there, {count:,} comments")
            return 0
        if args.rebuild:
            delete_article(article=article)
            print(f"{slug}: had {count:,} comments; deleted, to build it again")
        else:
            # A build that was interrupted, or another size under this slug.
            print(
                f"{slug}: exists with {count:,} comments, not {args.size:,}; "
                "run again with --rebuild, or drop and recreate the database "
                "(e.g. `dropdb forum_serve`).",
                file=sys.stderr,
            )
            return 1

    top_level, deepest = describe(thread_shape(args.size))
    print(
        f"{slug}: building {args.size:,} comments ({top_level:,} top-level, "
        f"deepest level {deepest}) through forum.services ...",
        flush=True,
    )
    started = time.perf_counter()
    build_thread(size=args.size, slug=slug, text=seed_comment_text())
    elapsed = time.perf_counter() - started
    print(f"{slug}: built in {elapsed:.0f} s ({args.size / elapsed:.0f} comments/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How long importing a big WordPress export takes, and how much memory (issue 8):
a generated WXR of 100,000 comments (benchmarks/wxr_export.py) through
``manage.py import_articles``, beside the old per-comment path in the same run.

In one process, on a database made for the run (dropped and migrated first):

1. the bulk import, ``call_command("import_articles", FILE)``: wall time,
   comments per second and the process's peak resident memory (ru_maxrss)
   before and after it; then checks that every comment but the pingbacks is
   stored, with the export's statuses and replies, and that
   ``forum.services.find_tree_problems()`` finds nothing;
2. the same file again: its time, and that it wrote no article or comment;
3. the baseline, the path the importer had before (one
   ``forum.services.post_comment`` a comment, all in one transaction), for the
   file's first --baseline comments into an article of their own, parsed by
   the same WXR reader: comments per second, and bulk ÷ baseline;
4. the bulk import once more into emptied tables (``manage.py flush``) under
   tracemalloc, for the peak of Python's own allocations (tracemalloc slows
   Python down, so step 1 is the timed one; this one's time is shown too).

    .venv/bin/python benchmarks/import_wxr.py [--comments 100000] [--posts 100]
        [--baseline 5000] [--database-url postgres://root@127.0.0.1:5432/forum_import_bench]
        [--sqlite /tmp/forum_import_bench.sqlite3] [--keep] [--no-trace]
        [--profile import.prof]

or ``make benchmark-import`` (BENCHMARK_IMPORT_ARGS="--comments 10000").
Only databases named forum_import_bench* are touched; without --keep the
database is dropped afterwards (the file always goes). DEBUG is off, so
Django keeps no query log.
"""

import argparse
import gc
import io
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://root@127.0.0.1:5432/forum_import_bench"
NAME_PREFIX = "forum_import_bench"
# wp:comment_approved to the status the importer stores (articles/importers/wxr.py).
STORED_STATUS = {"1": "published", "0": "pending", "spam": "spam", "trash": "removed"}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--baseline",
        type=int,
        default=5_000,
        help="comments the per-comment baseline writes (the file's first ones)",
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument(
        "--sqlite", type=Path, help="a SQLite file instead (named forum_import_bench*)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database afterwards"
    )
    parser.add_argument(
        "--no-trace", action="store_true", help="skip step 4 (the tracemalloc run)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="STATS",
        help="instead of the steps: the bulk import alone under cProfile, its "
        "stats saved to STATS (for pstats or snakeviz) and the top costs printed",
    )
    args = parser.parse_args(argv)
    if args.sqlite:
        args.sqlite = args.sqlite.resolve()
        name = args.sqlite.name
        args.database_url = f"sqlite:///{args.sqlite}"
    else:
        url = urlparse(args.database_url)
        if url.scheme not in ("postgres", "postgresql"):
            parser.error("--database-url: a postgres:// URL (or use --sqlite)")
        name = url.path.lstrip("/")
    # It drops and creates the database: never one somebody else uses.
    if not name.startswith(NAME_PREFIX):
        parser.error(f"the database must be named {NAME_PREFIX}*, not {name!r}")
    return args


def max_rss_mb():
    # Linux gives kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fresh_database(args):
    """Drop and create the run's database, then migrate it."""
    from django.core.management import call_command
    from django.db import connection

    if args.sqlite:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.sqlite}{suffix}").unlink(missing_ok=True)
    else:
        name = connection.ops.quote_name(connection.settings_dict["NAME"])
        # The maintenance database, as Django's own test-database creation does.
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            cursor.execute(f"CREATE DATABASE {name}")
    call_command("migrate", verbosity=0, interactive=False)


def drop_database(args):
    from django.db import connection

    connection.close()
    if args.sqlite:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.sqlite}{suffix}").unlink(missing_ok=True)
        return
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class Stopwatch:
    """Wall time, this process's CPU time and, on PostgreSQL on this machine,
    the CPU time of the server process serving our connection: the machine is
    shared, and CPU seconds hold still when others' tests slow the wall clock."""

    def __enter__(self):
        gc.collect()
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        self.db_cpu = database_cpu()
        return self

    def __exit__(self, *exc_info):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        db_cpu = database_cpu()
        self.db_cpu = None if db_cpu is None else db_cpu - self.db_cpu

    def cpu_text(self):
        if self.db_cpu is None:
            return f"{self.cpu:.1f} s"
        return f"{self.cpu:.1f} + {self.db_cpu:.1f} s"

    def total_cpu(self):
        return self.cpu + (self.db_cpu or 0)


def database_cpu():
    """CPU seconds of the PostgreSQL backend serving this connection, from
    /proc; None on SQLite or when the server is not on this machine."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # utime and stime, fields 14 and 15, after the parenthesised command name.
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stored_counts():
    from django.db.models import Count, Max

    from articles.models import Article
    from forum.models import Comment

    return {
        "articles": Article.objects.count(),
        "last article": Article.objects.aggregate(m=Max("pk"))["m"],
        "comments": Comment.objects.count(),
        "last comment": Comment.objects.aggregate(m=Max("pk"))["m"],
        "replies": Comment.objects.filter(parent__isnull=False).count(),
        "deepest": Comment.objects.aggregate(m=Max("level"))["m"],
        "statuses": dict(
            Comment.objects.values_list("status").annotate(n=Count("pk")).order_by()
        ),
    }


def bulk_import(path):
    """``manage.py import_articles FILE``; returns its Stopwatch and what it
    printed (its progress lines go to stderr, dropped)."""
    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    with Stopwatch() as spent:
        call_command("import_articles", str(path), stdout=out, stderr=err)
    return spent, out.getvalue()


def check_import(export):
    """Everything the export holds is stored, and every tree is sound."""
    from forum.services import find_tree_problems

    counts = stored_counts()
    wanted = {STORED_STATUS[state]: n for state, n in export.states.items()}
    # Pingbacks are approved ("1"), and skipped.
    wanted["published"] -= export.pingbacks
    problems = []
    if counts["articles"] != export.posts:
        problems.append(f"{counts['articles']} articles, not {export.posts}")
    if counts["comments"] != export.importable:
        problems.append(f"{counts['comments']:,} comments, not {export.importable:,}")
    if counts["replies"] != export.replies:
        problems.append(f"{counts['replies']:,} replies, not {export.replies:,}")
    if counts["deepest"] != export.deepest:
        problems.append(f"deepest level {counts['deepest']}, not {export.deepest}")
    if counts["statuses"] != wanted:
        problems.append(f"statuses {counts['statuses']}, not {wanted}")
    start = time.perf_counter()
    tree_problems = find_tree_problems()
    checked_in = time.perf_counter() - start
    if tree_problems:
        problems.append(f"{len(tree_problems)} tree problems: {tree_problems[:3]}")
    if problems:
        sys.exit("bulk import: " + "; ".join(problems))
    print(
        f"  checked: {counts['articles']} articles, {counts['comments']:,} comments "
        f"({counts['replies']:,} replies, {counts['deepest']} levels deep), statuses "
        f"as exported, find_tree_problems() == [] ({checked_in:.1f} s)"
    )
    return counts


def first_comments(path, count):
    """The file's first ``count`` comments (pingbacks skipped), read by the WXR
    reader the bulk import uses."""
    from articles.importers.wxr import iter_wxr

    sample = []
    with open(path, "rb") as fileobj:
        for article in iter_wxr(fileobj):
            sample.extend(article.comments[: count - len(sample)])
            if len(sample) >= count:
                break
    return sample


def per_comment_baseline(path, count):
    """The importer's old write path: one post_comment a comment, all in one
    transaction, parents before their replies. Everything goes in published,
    as the old importer wrote it: post_comment refuses replies to a hidden
    comment, and a given status costs post_comment nothing more (no screening).
    Returns its Stopwatch and the comments written."""
    from django.db import transaction
    from django.utils import timezone

    from articles.models import Article
    from forum.models import Comment
    from forum.services import post_comment

    with Stopwatch() as spent, transaction.atomic():
        sample = first_comments(path, count)
        article = Article(
            title="Per-comment baseline",
            slug="import-bench-baseline",
            body="The first comments of the generated export, one call each.",
            source_key="benchmark:import-baseline",
            published_at=timezone.now(),
        )
        article.full_clean()
        article.save()
        made = {}
        for comment in sample:
            made[comment.source_id] = post_comment(
                article=article,
                body=comment.body,
                parent=made[comment.parent_id] if comment.parent_id else None,
                author_name=comment.author_name,
                status=Comment.Status.PUBLISHED,
                source_key=f"wordpress:{comment.source_id}",
                created_at=comment.created_at,
            )
    return spent, len(made)


def empty_tables():
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)


def traced_import(path):
    gc.collect()
    tracemalloc.start()
    try:
        spent, _output = bulk_import(path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return spent.wall, peak / 1e6


def profiled_import(path, stats_path):
    import cProfile
    import pstats

    profile = cProfile.Profile()
    spent, output = profile.runcall(bulk_import, path)
    profile.dump_stats(stats_path)
    print(f"  profiled import: {spent.wall:.1f} s; {output.strip().splitlines()[-1]!r}")
    stats = pstats.Stats(profile).strip_dirs()
    for order in ("tottime", "cumulative"):
        print(f"\n  top 25 by {order} (stats in {stats_path}):")
        stats.sort_stats(order).print_stats(25)


def code_version():
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"


def main(argv=None):
    args = parse_args(argv)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only")
    import django

    django.setup()
    from django.db import connection

    from benchmarks.wxr_export import describe, write_wxr

    folder = Path(tempfile.mkdtemp(prefix="import_wxr."))
    try:
        fresh_database(args)
        vendor = connection.vendor
        if vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                vendor += " " + cursor.fetchone()[0].split()[0]
        print(
            f"import_wxr, issue 8: {vendor} ({connection.settings_dict['NAME']}), "
            f"{os.cpu_count()} cores, code {code_version()}"
        )
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        export = write_wxr(
            folder / "export.xml",
            comments=args.comments,
            posts=args.posts,
            seed=args.seed,
        )
        print(f"  generated in {time.perf_counter() - start:.1f} s: {describe(export)}")
        if args.profile:
            profiled_import(export.path, args.profile)
            return 0

        rss_before = max_rss_mb()
        bulk, output = bulk_import(export.path)
        rss_after = max_rss_mb()
        lines = output.strip().splitlines()
        print(f"  import_articles: {len(lines) - 1} article lines, then {lines[-1]!r}")
        counts = check_import(export)

        again, output = bulk_import(export.path)
        after = stored_counts()
        if after != counts:
            changed = {
                k: (counts[k], after[k]) for k in counts if counts[k] != after[k]
            }
            sys.exit(f"the second import wrote something: {changed}")
        print(
            "  second import: nothing written (articles, comments, statuses alike); "
            f"it said {output.strip().splitlines()[-1]!r}"
        )

        baseline, written = per_comment_baseline(export.path, args.baseline)

        traced = None
        if not args.no_trace:
            empty_tables()
            traced = traced_import(export.path)
            if stored_counts()["comments"] != export.importable:
                sys.exit("the traced import stored another number of comments")

        def row(step, comments, spent, count):
            return (
                f"| {step} | {comments} | {spent.wall:.1f} s | "
                f"{count / spent.wall:,.0f} | {spent.cpu_text()} | "
                f"{count / spent.total_cpu():,.0f} |"
            )

        print()
        print(
            "| step | comments | wall | comments/s | CPU: Python + PostgreSQL "
            "| comments/CPU-s |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        print(
            row(
                "bulk: import_articles",
                f"{export.importable:,}",
                bulk,
                export.importable,
            )
        )
        print(row("same file again", "0 new", again, export.importable))
        print(row("baseline: post_comment each", f"{written:,}", baseline, written))
        wall_ratio = (export.importable / bulk.wall) / (written / baseline.wall)
        cpu_ratio = (export.importable / bulk.total_cpu()) / (
            written / baseline.total_cpu()
        )
        print(
            f"| **bulk ÷ baseline** | | | **{wall_ratio:.1f}×** | | {cpu_ratio:.1f}× |"
        )
        print()
        print(
            f"max RSS: {rss_before:.0f} MB before the bulk import, "
            f"{rss_after:.0f} MB after it (+{rss_after - rss_before:.0f} MB)"
        )
        if traced:
            seconds, peak = traced
            print(
                f"tracemalloc peak of the bulk import: {peak:.0f} MB of Python "
                f"allocations (that run: {seconds:.1f} s, "
                f"{seconds / bulk.wall:.1f}× the untraced one)"
            )
        print(
            f"file {export.bytes / 1e6:.1f} MB, {export.bytes / 1e6 / bulk.wall:.1f} "
            "MB/s imported; load average (1 min) "
            f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if not args.keep:
            drop_database(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

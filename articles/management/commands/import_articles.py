"""Import articles and their discussions: our own text, Markdown and json,
WordPress (WXR) and Disqus exports.

Sites that move here come with years of comments; editors load new articles.
Running it again on the same sources changes nothing, a newer export adds only
what is new, and comments written here are never touched. Each article lands
in a transaction of its own, so one bad article fails alone, named, and the
others land; the command then exits non-zero.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from articles.importers import FORMATS, SourceError, import_sources, source_files

BAR_WIDTH = 30
# Off a terminal (a log, CI), a progress line at most this often.
LINE_EVERY_SECONDS = 5.0


class Command(BaseCommand):
    help = (
        "Import articles with their comment trees from files or folders "
        "(idempotent; the format is guessed from each file's content)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "sources", nargs="+", metavar="SOURCE", help="A file, or a folder of them."
        )
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="Read every SOURCE as this format (default: guess per file).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would be created, updated and skipped; write nothing.",
        )
        parser.add_argument(
            "--status",
            choices=["published", "draft"],
            help="Publish new articles, or keep them as drafts (default: as in "
            "the source). Articles already here keep their state.",
        )
        parser.add_argument(
            "--on-conflict",
            choices=["update", "skip"],
            default="update",
            help="For an article already here: update it and add its new "
            "comments (default), or leave it alone.",
        )

    def handle(self, *args, **options):
        try:
            files = list(source_files(options["sources"]))
        except SourceError as error:
            raise CommandError(str(error)) from None
        progress = _Progress(
            self.stderr, total_bytes=sum(path.stat().st_size for path in files)
        )

        def report(article_report):
            progress.clear()
            line = article_report.summary()
            if article_report.outcome == "failed":
                self.stderr.write(line)
            else:
                self.stdout.write(line)
            progress.articles += 1
            progress.show()

        run = import_sources(
            files,
            format=options["format"],
            dry_run=options["dry_run"],
            status=options["status"],
            on_conflict=options["on_conflict"],
            on_report=report,
            on_read=progress.read,
            on_comments=progress.wrote,
        )
        progress.clear()
        self.stdout.write(run.totals())
        if run.failed:
            raise CommandError(
                f"{len(run.failed)} article(s) or file(s) could not be imported "
                "(named above); the others were."
            )


class _Progress:
    """A bar on a terminal; plain lines now and then anywhere else."""

    def __init__(self, stream, *, total_bytes):
        self.stream = stream
        self.total = max(total_bytes, 1)
        self.done = self.comments = self.articles = 0
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.last = time.monotonic()
        self.drawn = False

    def read(self, count):
        self.done += count
        self.show()

    def wrote(self, count):
        self.comments += count
        self.show()

    def _text(self):
        share = min(self.done / self.total, 1.0)
        return (
            f"{share:4.0%} read · {self.articles:,} articles · "
            f"{self.comments:,} comments written"
        )

    def show(self):
        now = time.monotonic()
        if self.tty:
            filled = int(BAR_WIDTH * min(self.done / self.total, 1.0))
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            self.stream.write(f"\r[{bar}] {self._text()}", ending="")
            self.stream.flush()
            self.drawn = True
        elif now - self.last >= LINE_EVERY_SECONDS:
            self.stream.write(self._text())
            self.last = now

    def clear(self):
        if self.tty and self.drawn:
            self.stream.write("\r\033[K", ending="")
            self.drawn = False

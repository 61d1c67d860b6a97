"""Load the articles the forum ships with (articles/seed/), idempotently.

`make run` calls it on every start, so a fresh checkout has something to read
and a running one is left alone.
"""

from django.core.management.base import BaseCommand, CommandError

from articles.importers import SourceError, load_seeds


class Command(BaseCommand):
    help = "Import the shipped seed articles and comments (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Parse and report what would change, write nothing.",
        )

    def handle(self, *args, **options):
        try:
            results = load_seeds(dry_run=options["dry_run"])
        except SourceError as error:
            raise CommandError(f"Seed import failed: {error}") from None
        for result in results:
            self.stdout.write(result.summary())

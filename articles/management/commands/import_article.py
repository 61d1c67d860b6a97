"""Import an article and its reader comments from a text file.

Editors load new articles with it; running it again on the same source updates
the article and adds only comments it has not seen, so it is safe to repeat.
The text shape and the comment rules are in articles/importers/plaintext.py.
"""

from django.core.management.base import BaseCommand, CommandError

from articles.importers import SourceError, import_article_file


class Command(BaseCommand):
    help = "Import an article with its comments from a text file (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="UTF-8 text file: lead, body, comments.")
        parser.add_argument("--title", default="", help="Title (else derived).")
        parser.add_argument("--slug", default="", help="URL slug (else from title).")
        parser.add_argument(
            "--source-url", default="", help="Where the article was first published."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Parse and report what would change, write nothing.",
        )

    def handle(self, *args, **options):
        try:
            result = import_article_file(
                options["path"],
                title=options["title"],
                slug=options["slug"],
                source_url=options["source_url"],
                dry_run=options["dry_run"],
            )
        except SourceError as error:
            raise CommandError(f"{options['path']}: {error}") from None
        self.stdout.write(result.summary())

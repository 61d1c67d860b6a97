"""Export articles with their whole comment trees, as our JSON or as WXR.

For backups and for moving a site: ``import_articles`` reads either file back
into the same articles and threads (keys, states and moderators' reasons
included), and WordPress reads the WXR as posts with comments. Readers' emails
stay out unless asked for. Writing to a file goes through a temporary file
beside it, renamed at the end, so a failed export never leaves half a file
where a whole one is expected.
"""

import os
import tempfile
from functools import partial
from pathlib import Path
from types import SimpleNamespace

from django.core.management.base import BaseCommand, CommandError

from articles.exporters import export_json, export_wxr
from articles.models import Article

EXPORTERS = {"json": export_json, "wxr": export_wxr}


class Command(BaseCommand):
    help = "Export articles and their comment trees as JSON (default) or WXR."

    def add_arguments(self, parser):
        parser.add_argument(
            "--article",
            action="append",
            default=[],
            metavar="SLUG",
            help="Export this article (repeat for more); all articles without it.",
        )
        parser.add_argument("--format", choices=sorted(EXPORTERS), default="json")
        parser.add_argument(
            "--output", metavar="PATH", help="Write to this file (else stdout)."
        )
        parser.add_argument(
            "--include-emails",
            action="store_true",
            help="Include commenters' email addresses (personal data).",
        )

    def handle(self, *args, **options):
        articles = self._articles(options["article"])
        export = partial(
            EXPORTERS[options["format"]],
            articles=articles,
            include_emails=options["include_emails"],
        )
        if not options["output"]:
            # OutputWrapper ends every write with a newline unless told not to.
            export(out=SimpleNamespace(write=partial(self.stdout.write, ending="")))
            return
        path = Path(options["output"])
        result = _write_whole(path, export)
        self.stdout.write(
            f"Exported {result.articles:,} articles with {result.comments:,} "
            f"comments to {path}."
        )

    def _articles(self, slugs):
        if not slugs:
            return Article.objects.order_by("pk")
        found = {
            article.slug: article for article in Article.objects.filter(slug__in=slugs)
        }
        missing = [slug for slug in slugs if slug not in found]
        if missing:
            raise CommandError(
                "No article with the slug "
                + ", ".join(f"“{slug}”" for slug in missing)
                + "."
            )
        # In the order asked for, each once.
        return [found[slug] for slug in dict.fromkeys(slugs)]


def _write_whole(path, export):
    """Run ``export`` into a temporary file beside ``path``, then rename it to
    ``path``: readers of ``path`` see the old file or the whole new one."""
    try:
        # Readable by its owner only (mkstemp's mode, kept by the rename): an
        # export holds readers' names, and their emails when asked for.
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as error:
        raise CommandError(
            f"Cannot write to {path.parent}: {error.strerror}."
        ) from None
    try:
        with open(handle, "w", encoding="utf-8", newline="") as out:
            result = export(out=out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result

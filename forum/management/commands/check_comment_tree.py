"""Check every comment tree for corruption, and with --repair rebuild it.

django-mptt keeps lft/rght/level/tree_id beside the parent links; if anything
ever writes around forum/services/ the two can disagree and threads render
in the wrong order. This says so, and can rebuild them from the parent links.
"""

from django.core.management.base import BaseCommand, CommandError

from forum.models import Comment
from forum.services import find_tree_problems, repair_comment_trees


class Command(BaseCommand):
    help = "Report inconsistent comment trees; --repair rebuilds them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Rebuild the broken trees from their parent links.",
        )

    def handle(self, *args, **options):
        check = repair_comment_trees if options["repair"] else find_tree_problems
        problems = check()
        for problem in problems:
            self.stdout.write(f"problem: {problem.message}")
        total = Comment.objects.count()
        if not problems:
            self.stdout.write(f"OK: {total} comments, every tree is consistent.")
            return
        if not options["repair"]:
            raise CommandError(
                f"{len(problems)} problems found; run with --repair to rebuild."
            )
        remaining = find_tree_problems()
        if remaining:
            raise CommandError(f"{len(remaining)} problems remain after the repair.")
        self.stdout.write(f"Repaired: {total} comments, every tree is consistent.")

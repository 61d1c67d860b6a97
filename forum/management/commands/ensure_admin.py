"""Make sure a local admin account exists, so a newcomer can moderate at once.

Used by `make run`. The password comes from DJANGO_SUPERUSER_PASSWORD or is
generated and shown once; there is never a fixed, published password.
"""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create a superuser if there is none, and say how to log in."

    def add_arguments(self, parser):
        parser.add_argument(
            "--username",
            default=os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin"),
        )

    def handle(self, *args, **options):
        User = get_user_model()
        existing = User.objects.filter(is_superuser=True).order_by("pk").first()
        if existing:
            self.stdout.write(
                f"Admin account: log in as “{existing.get_username()}” with the "
                "password set when it was created (reset it with "
                f"`manage.py changepassword {existing.get_username()}`)."
            )
            return
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(
            12
        )
        User.objects.create_superuser(options["username"], "", password)
        if os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
            shown = "the password in DJANGO_SUPERUSER_PASSWORD"
        else:
            shown = f"password {password}   (shown once; keep it)"
        self.stdout.write(
            self.style.SUCCESS(
                f"Created admin account “{options['username']}”, {shown}"
            )
        )

"""App config for forum."""

from django.apps import AppConfig


class ForumConfig(AppConfig):
    name = "forum"

    def ready(self):
        from . import limits, receivers  # noqa: F401  (connect a check, receivers)

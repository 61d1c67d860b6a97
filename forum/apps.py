"""App config for forum."""

from django.apps import AppConfig


class ForumConfig(AppConfig):
    name = "forum"

    def ready(self):
        from . import receivers  # noqa: F401  (connects the signal receivers)

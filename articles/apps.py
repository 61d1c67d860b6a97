"""App config for articles."""

from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"

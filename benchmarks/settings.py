"""Settings for benchmarks/thread_page.py: the site's own, plus
django-comments-xtd, the peer it is measured against, as that package's
documentation tells a site to install it. Only .venv-bench has the package."""

from config.settings import *  # noqa: F403
from config.settings import BASE_DIR, INSTALLED_APPS, TEMPLATES

# django_comments_xtd before django_comments: its templates override theirs.
INSTALLED_APPS = [
    *INSTALLED_APPS,
    "django.contrib.sites",
    "django_comments_xtd",
    "django_comments",
]
ROOT_URLCONF = "benchmarks.urls"
TEMPLATES = [
    {**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], BASE_DIR / "benchmarks/templates"]}
]

SITE_ID = 1
COMMENTS_APP = "django_comments_xtd"
# Deep enough for the standard shape (benchmarks/shapes.py MAX_LEVEL).
COMMENTS_XTD_MAX_THREAD_LEVEL = 15
COMMENTS_XTD_CONFIRM_EMAIL = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

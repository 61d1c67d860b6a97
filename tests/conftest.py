"""Fixtures shared by the whole suite."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection

from tests.factories import ArticleFactory, CommentFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The real hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_signup_fill_time(settings):
    # Tests post the sign-up form without waiting FORUM_SIGNUP_MIN_SECONDS
    # (and without the signed start time); the ones about it turn it on.
    settings.FORUM_SIGNUP_MIN_SECONDS = 0


@pytest.fixture(scope="session")
def collected_static():
    """For tests that start gunicorn with DEBUG off (tests/servers.py)."""
    from tests import servers

    servers.collect_static()


@pytest.fixture
def article(db):
    return ArticleFactory()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def moderator(db):
    """A staff member holding forum.moderate_comment, and nothing else."""
    moderator = UserFactory(username="moderator", is_staff=True)
    moderator.user_permissions.add(
        Permission.objects.get(
            codename="moderate_comment", content_type__app_label="forum"
        )
    )
    return moderator


@pytest.fixture
def comment(article):
    return CommentFactory(article=article)


@pytest.fixture(autouse=True)
def empty_cache():
    # Thread skeletons are cached; each test starts from nothing.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()

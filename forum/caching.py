"""Cache keys of thread skeletons, shared by the read side that fills them and
the services that drop them once a change commits.

The cache only saves work: when it is away (Redis down), reads miss, writes
are dropped, a warning is logged, and pages are built from the database.
"""

import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

SORTS = ("oldest", "newest", "best")
# Part of every key: a deploy that changes what a skeleton holds must not read
# the old shape out of a shared Redis.
SKELETON_FORMAT = 2


def skeleton_key(article_id, version, sort):
    # The page settings shape the skeleton's pages, so they are part of its key.
    return (
        f"forum:thread{SKELETON_FORMAT}:{article_id}:{version}:{sort}:"
        f"{settings.FORUM_TOP_LEVEL_PAGE_SIZE}:{settings.FORUM_PAGE_COMMENT_CAP}"
    )


def forget_skeletons(article_id, version):
    """Drop what was cached for ``version`` of the thread: nobody asks for it
    again once a newer version is committed; this only frees the memory."""
    try:
        cache.delete_many([skeleton_key(article_id, version, sort) for sort in SORTS])
    except Exception:
        logger.warning("cache unavailable: skeletons of %s not dropped", article_id)


def cached(key):
    """The cached value, or None when it is not there or the cache is away."""
    try:
        return cache.get(key)
    except Exception:
        logger.warning("cache unavailable: %s read from the database", key)
        return None


def remember(key, value, timeout):
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("cache unavailable: %s not kept", key)

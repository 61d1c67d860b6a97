"""Cache keys of thread skeletons, shared by the read side that fills them and
the services that drop them once a change commits."""

from django.conf import settings
from django.core.cache import cache

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
    cache.delete_many([skeleton_key(article_id, version, sort) for sort in SORTS])

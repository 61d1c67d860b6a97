"""The thread shapes every benchmark builds, so each figure compares like with
like: about a third of the comments top-level, replies biased toward recent
comments, depth up to about 15."""

import random

MAX_LEVEL = 15


def thread_shape(size, *, seed=None):
    """Return a list of parent indexes (None for a top-level comment).

    ``shape[i]`` is the index of comment i's parent, always smaller than i,
    so posting the comments in index order builds the tree.
    """
    rng = random.Random(size if seed is None else seed)
    parents = []
    levels = []
    for index in range(size):
        parent = None
        if index and rng.random() >= 1 / 3:
            # Mostly the last few comments: long branches and lively fans.
            candidate = max(0, index - 1 - int(rng.expovariate(0.15)))
            if levels[candidate] < MAX_LEVEL:
                parent = candidate
        parents.append(parent)
        levels.append(0 if parent is None else levels[parent] + 1)
    return parents


def describe(parents):
    """(top-level count, deepest level) of a shape, for the printed report."""
    levels = []
    for parent in parents:
        levels.append(0 if parent is None else levels[parent] + 1)
    return sum(p is None for p in parents), max(levels, default=0)


def build_thread(*, size, slug, text, author_names=50):
    """Create a published article ``slug`` with a ``size``-comment thread of the
    standard shape, through forum.services (the real, locked write path).

    Needs Django set up. Returns the article.
    """
    from django.utils import timezone

    from articles.models import Article
    from forum import services

    article = Article.objects.create(
        title=f"A thread of {size:,} comments",
        slug=slug,
        body="A benchmark article.\nIts readers have a lot to say.",
        source_key=f"bench:{slug}",
        published_at=timezone.now(),
    )
    made = []
    for index, parent in enumerate(thread_shape(size)):
        made.append(
            services.post_comment(
                article=article,
                body=text,
                parent=None if parent is None else made[parent],
                author_name=f"reader{index % author_names}",
            )
        )
    return article

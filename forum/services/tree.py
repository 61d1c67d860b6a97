"""The comment trees: the locks every tree write takes, the version that keys
a thread's cached skeletons, stored fragments, repair."""

import logging
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from ..caching import forget_skeletons
from ..fragments import current_version, render_fragments
from ..models import (
    Comment,
    ThreadState,
)

logger = logging.getLogger(__name__)


# pg_advisory_xact_lock(key1, key2) namespaces; key2 is the tree id or 0.
LOCK_STRUCTURE = 0x464F0001


LOCK_TREE = 0x464F0003


# key2 is the author's id: one author's posts, one at a time (the check for
# repeated text in forum/services/posting.py counts under it).
LOCK_AUTHOR = 0x464F0004


# The mptt bookkeeping columns, filled in by mptt when the row is inserted.
TREE_FIELDS = ["lft", "rght", "tree_id", "level"]


def _advisory_lock(namespace, key=0, *, shared=False):
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [namespace, key])


def _lock_for_tree_write(tree_id=None):
    """Take the locks for a write into ``tree_id``, or for a new tree if None
    (which needs only the structure lock: its id comes from a sequence,
    forum.models.CommentManager, and no one else can write into it).

    Precondition: called inside ``transaction.atomic()``; the locks last until
    the outermost transaction ends.
    """
    assert connection.in_atomic_block, "tree locks need a transaction"
    _advisory_lock(LOCK_STRUCTURE, shared=True)
    if tree_id is not None:
        _advisory_lock(LOCK_TREE, tree_id)


def _lock_author(author_id):
    """Serialise the posts of one author, whatever trees they go into.

    Precondition: inside ``transaction.atomic()``, before any tree lock (the
    order every caller keeps, so two posts never wait on each other in a
    circle). SQLite needs nothing: BEGIN IMMEDIATE already serialises writers.
    """
    assert connection.in_atomic_block, "the author's lock needs a transaction"
    # The lock key is a 32-bit integer; two authors sharing one only wait.
    _advisory_lock(LOCK_AUTHOR, author_id % 2**31)


def _locked_node(pk):
    """Lock the tree that comment ``pk`` is in and return it fresh from the
    database (its lft/rght may have moved while we waited)."""
    while True:
        tree_id = (
            Comment.objects.filter(pk=pk).values_list("tree_id", flat=True).first()
        )
        if tree_id is None:
            raise Comment.DoesNotExist(pk)
        _lock_for_tree_write(tree_id)
        node = Comment.objects.get(pk=pk)
        if node.tree_id == tree_id:
            return node
        # A repair renumbered the trees between our read and our lock; the lock
        # we hold is harmless, take the right one.


def _locked_or_gone(comment):
    try:
        return _locked_node(comment.pk)
    except Comment.DoesNotExist:
        raise ValidationError("That comment no longer exists.") from None


def _update(comment, **fields):
    """Write only ``fields`` (never the tree columns) and keep ``comment`` in step."""
    Comment.objects.filter(pk=comment.pk).update(**fields)
    for name, value in fields.items():
        setattr(comment, name, value)


def _rerender(comment, *, fresh=None):
    """Store ``comment``'s fragments as they are now, from a fresh read of the
    row (the caller has just changed it, inside its transaction), or from
    ``fresh`` when the caller holds the row as written."""
    if fresh is None:
        fresh = Comment.objects.select_related("author", "article").get(pk=comment.pk)
    public, private = render_fragments(
        fresh,
        article_url=fresh.article.get_absolute_url(),
        comments_url=fresh.article.comments_url,
    )
    _update(
        comment,
        fragment=public,
        fragment_private=private,
        fragment_version=current_version(),
    )


def _changed_thread(article_id):
    """Bump the thread's version in the caller's transaction (last, so its row
    lock is held only until the commit); the cached skeletons of the old version
    are dropped once the change is committed, never before and never after a
    rollback."""
    assert connection.in_atomic_block, "bump the version with the change"
    version = ThreadState.objects.bump(article_id)
    transaction.on_commit(lambda: forget_skeletons(article_id, version - 1))


def refresh_author_fragments(*, user):
    """Re-render every comment by ``user`` (their display name changed)."""
    with transaction.atomic():
        comments = list(Comment.objects.filter(author=user).only("pk", "article_id"))
        for comment in comments:
            _rerender(comment)
        for article_id in sorted({c.article_id for c in comments}):
            _changed_thread(article_id)
    return len(comments)


def refresh_article_fragments(*, article):
    """Mark every fragment of ``article``'s comments stale (their links carry
    its slug, which changed); pages re-render them as they show them."""
    with transaction.atomic():
        Comment.objects.filter(article=article).update(fragment_version="")
        _changed_thread(article.pk)


def refresh_stale_fragments(*, comment_ids):
    """Re-render the given comments if their fragments were stored by another
    template version; a page calls this for what it is about to show."""
    version = current_version()
    with transaction.atomic():
        stale = list(
            Comment.objects.filter(pk__in=comment_ids)
            .exclude(fragment_version=version)
            .select_related("author", "article")
        )
        for comment in stale:
            public, private = render_fragments(
                comment,
                article_url=comment.article.get_absolute_url(),
                comments_url=comment.article.comments_url,
            )
            # Conditional: a change that re-rendered it meanwhile wins.
            Comment.objects.filter(pk=comment.pk).exclude(
                fragment_version=version
            ).update(
                fragment=public, fragment_private=private, fragment_version=version
            )
            comment.fragment, comment.fragment_private = public, private
    return {c.pk: c for c in stale}


def delete_article(*, article):
    """Delete ``article`` with its whole thread (comments, reports, earlier
    versions; the moderation log keeps its records).

    Takes the structure lock exclusively, as a repair does, so no tree write is
    under way in its trees while they go; each tree belongs to one article, so
    whole trees leave and no other tree needs renumbering.
    """
    with transaction.atomic():
        _advisory_lock(LOCK_STRUCTURE)
        Comment.objects.filter(article=article).delete()
        article.delete()
    logger.info("article %s deleted with its thread", article)


@dataclass(frozen=True)
class TreeProblem:
    tree_id: int
    message: str
    needs_full_rebuild: bool = False


def find_tree_problems():
    """Check every comment tree against its parent links; an empty list is good.

    The expected numbering is a depth-first walk with siblings in their stored
    order, which is what ``Comment.objects.rebuild()`` would write.
    """
    rows = Comment.objects.order_by("tree_id", "lft", "pk").values_list(
        "pk", "parent_id", "tree_id", "lft", "rght", "level", "article_id"
    )
    nodes = {row[0]: row for row in rows}
    children = defaultdict(list)
    roots = defaultdict(list)
    problems = []
    for pk, parent_id, tree_id, *_rest, article_id in nodes.values():
        if parent_id is None:
            roots[tree_id].append(pk)
            continue
        children[parent_id].append(pk)
        parent = nodes[parent_id]
        if parent[2] != tree_id:
            problems.append(
                TreeProblem(
                    tree_id,
                    f"comment {pk} is in tree {tree_id}, its parent in {parent[2]}",
                    True,
                )
            )
        if parent[6] != article_id:
            problems.append(
                TreeProblem(
                    tree_id, f"comment {pk} is on another article than its parent", True
                )
            )
    for tree_id, tree_roots in roots.items():
        if len(tree_roots) > 1:
            problems.append(
                TreeProblem(
                    tree_id,
                    f"tree {tree_id} has {len(tree_roots)} top-level comments "
                    f"({', '.join(map(str, tree_roots))})",
                    True,
                )
            )
    seen = set()
    for tree_id, tree_roots in roots.items():
        wrong = []
        for root in tree_roots:
            counter = 1
            stack = [(root, 0, False)]
            expected = {}
            while stack:
                pk, level, closing = stack.pop()
                if closing:
                    expected[pk] = (expected[pk][0], counter, level)
                    counter += 1
                    continue
                seen.add(pk)
                expected[pk] = (counter, None, level)
                counter += 1
                stack.append((pk, level, True))
                stack.extend(
                    (child, level + 1, False) for child in reversed(children[pk])
                )
            wrong += [pk for pk, want in expected.items() if nodes[pk][3:6] != want]
        if wrong:
            problems.append(
                TreeProblem(
                    tree_id,
                    f"tree {tree_id}: lft/rght/level wrong on {len(wrong)} comments "
                    f"(first: {wrong[0]})",
                )
            )
    unreachable = sorted(set(nodes) - seen)
    if unreachable:
        problems.append(
            TreeProblem(
                nodes[unreachable[0]][2],
                f"{len(unreachable)} comments cannot be reached from a top-level "
                f"comment (first: {unreachable[0]})",
                True,
            )
        )
    return problems


def repair_comment_trees():
    """Renumber broken trees from their parent links; returns what was found.

    Takes the structure lock exclusively: every other tree write waits.
    """
    with transaction.atomic():
        _advisory_lock(LOCK_STRUCTURE)
        problems = find_tree_problems()
        if any(p.needs_full_rebuild for p in problems):
            Comment.objects.rebuild()
        else:
            for tree_id in sorted({p.tree_id for p in problems}):
                Comment.objects.partial_rebuild(tree_id)
        if problems:
            # Tree ids and sizes may have changed under the cached skeletons.
            articles = Comment.objects.order_by().values_list("article_id", flat=True)
            for article_id in sorted(set(articles.distinct())):
                _changed_thread(article_id)
    if problems:
        logger.warning("repaired comment trees: %s", [p.message for p in problems])
    return problems

"""Many writers at once on PostgreSQL: the comment trees must not corrupt."""

import random
import threading
import time
from collections import defaultdict

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections, transaction

from forum import services
from forum.models import Comment
from tests.factories import ArticleFactory, UserFactory

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

WRITERS = 8
REPLIES_PER_WRITER = 30
ROOTS_PER_WRITER = 3


def _snapshot():
    """Each comment's place in its tree, and which comments share a tree."""
    rows = Comment.objects.values_list("pk", "tree_id", "lft", "rght", "level")
    places = {pk: (lft, rght, level) for pk, _, lft, rght, level in rows}
    trees = defaultdict(set)
    for pk, tree_id, *_ in rows:
        trees[tree_id].add(pk)
    return places, sorted(map(sorted, trees.values()))


def _run_writers(work):
    barrier = threading.Barrier(WRITERS)
    errors = []

    def writer(index):
        try:
            barrier.wait(timeout=30)
            work(index)
        except Exception as error:  # reported below, with the thread's number
            errors.append((index, repr(error)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    assert errors == []


def test_simultaneous_replies_and_new_threads_keep_every_tree_valid():
    assert connection.vendor == "postgresql"
    articles = [ArticleFactory() for _ in range(3)]
    author = UserFactory()
    seeds = [
        services.post_comment(article=article, body=f"Seed thread {n}", author=author)
        for article in articles
        for n in range(2)
    ]
    posted = defaultdict(list)

    def work(index):
        rng = random.Random(index)
        known = list(seeds)
        plan = ["reply"] * REPLIES_PER_WRITER + ["root"] * ROOTS_PER_WRITER
        rng.shuffle(plan)
        for step, kind in enumerate(plan):
            if kind == "root":
                comment = services.post_comment(
                    article=rng.choice(articles),
                    body=f"root {index}-{step}",
                    author=author,
                )
            else:
                parent = rng.choice(known)
                comment = services.post_comment(
                    article=parent.article,
                    parent=parent,
                    body=f"reply {index}-{step}",
                    author=author,
                )
            known.append(comment)
            posted[index].append(comment.pk)

    _run_writers(work)

    expected = len(seeds) + WRITERS * (REPLIES_PER_WRITER + ROOTS_PER_WRITER)
    assert Comment.objects.count() == expected
    assert sum(map(len, posted.values())) == WRITERS * (
        REPLIES_PER_WRITER + ROOTS_PER_WRITER
    )
    assert services.find_tree_problems() == []
    roots = Comment.objects.filter(parent=None)
    assert roots.count() == len(seeds) + WRITERS * ROOTS_PER_WRITER
    assert len(set(roots.values_list("tree_id", flat=True))) == roots.count()
    for tree_id in set(Comment.objects.values_list("tree_id", flat=True)):
        tree_articles = Comment.objects.filter(tree_id=tree_id).values("article")
        assert tree_articles.distinct().count() == 1, f"tree {tree_id} spans articles"

    before = _snapshot()
    Comment.objects.rebuild()
    assert _snapshot() == before


def test_simultaneous_deletes_and_replies_in_one_tree_keep_it_valid():
    article = ArticleFactory()
    authors = [UserFactory() for _ in range(WRITERS)]
    root = services.post_comment(article=article, body="Root", author=authors[0])
    leaves = {
        index: [
            services.post_comment(
                article=article, parent=root, body=f"leaf {index}-{n}", author=author
            )
            for n in range(5)
        ]
        for index, author in enumerate(authors)
    }

    def work(index):
        for n, leaf in enumerate(leaves[index]):
            services.delete_comment(comment=leaf, user=authors[index])
            services.post_comment(
                article=article,
                parent=root,
                body=f"new {index}-{n}",
                author=authors[index],
            )

    _run_writers(work)

    assert Comment.objects.count() == 1 + WRITERS * 5
    assert services.find_tree_problems() == []
    root.refresh_from_db()
    assert root.get_descendant_count() == WRITERS * 5


def test_the_same_form_sent_eight_times_at_once_makes_one_comment():
    article = ArticleFactory()
    author = UserFactory()
    root = services.post_comment(article=article, body="Root", author=author)
    returned = []

    def work(index):
        returned.append(
            services.post_comment(
                article=article, parent=root, body="Double click", author=author
            ).pk
        )

    _run_writers(work)

    assert Comment.objects.filter(parent=root).count() == 1
    assert len(set(returned)) == 1


def test_a_reply_cannot_slip_under_a_comment_while_it_is_being_removed():
    """Defect: removal took a row lock and replies the tree lock, so a reply
    was accepted under a comment whose removal was committing."""
    article = ArticleFactory()
    moderator = UserFactory(is_superuser=True)
    target = services.post_comment(article=article, body="Rude", author=UserFactory())
    removing = threading.Event()
    outcome = []

    def remove():
        try:
            with transaction.atomic():
                services.remove_comment(
                    comment=target, moderator=moderator, reason="other", note="Rude"
                )
                removing.set()
                # Hold the removal open while the reply tries to land.
                time.sleep(1)
        finally:
            connections.close_all()

    def reply():
        try:
            removing.wait(timeout=30)
            services.post_comment(
                article=article, parent=target, body="Me too", author=UserFactory()
            )
            outcome.append("accepted")
        except ValidationError as error:
            outcome.append(" ".join(error.messages))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=remove), threading.Thread(target=reply)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcome == ["This comment is not open for replies."]
    assert not Comment.objects.filter(parent=target).exists()


def test_an_edit_cannot_land_after_a_removal_decided_meanwhile():
    """Defect: the edit rule was checked on the view's copy and the UPDATE had
    no conditions, so an edit sent while a moderator removed the comment
    replaced the removed text. The edit waits for the removal's lock, then
    finds the comment removed and changes nothing."""
    article = ArticleFactory()
    moderator = UserFactory(is_superuser=True)
    author = UserFactory()
    target = services.post_comment(article=article, body="Rude", author=author)
    stale_copy = Comment.objects.get(pk=target.pk)
    removing = threading.Event()
    outcome = []

    def remove():
        try:
            with transaction.atomic():
                services.remove_comment(
                    comment=target, moderator=moderator, reason="abuse"
                )
                removing.set()
                time.sleep(1)
        finally:
            connections.close_all()

    def edit():
        try:
            removing.wait(timeout=30)
            # Decided on a copy read before the removal: it looks editable.
            assert stale_copy.is_editable_by(author)
            services.edit_comment(comment=stale_copy, editor=author, body="Nicer")
            outcome.append("edited")
        except PermissionDenied as error:
            outcome.append(str(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=remove), threading.Thread(target=edit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcome == [services.EDIT_DENIED]
    target.refresh_from_db()
    assert (target.status, target.body) == (Comment.Status.REMOVED, "Rude")
    assert not target.revisions.exists()


def test_the_same_text_sent_into_eight_threads_at_once_is_stored_at_most_n_times(
    settings,
):
    """Each copy goes into a different tree, so the tree locks do not order
    them; the author's lock does, and the count under it is exact."""
    settings.FORUM_RATE_DUPLICATES = "3/600"
    article = ArticleFactory()
    author = UserFactory()
    parents = [
        services.post_comment(article=article, body=f"Thread {n}") for n in range(8)
    ]
    outcomes = []

    def work(index):
        try:
            services.post_comment(
                article=article,
                body="Buy now at example.com" + "\u200b" * index,
                parent=parents[index],
                author=author,
            )
            outcomes.append("posted")
        except services.RepeatedText:
            outcomes.append("refused")

    _run_writers(work)

    assert sorted(outcomes) == ["posted"] * 3 + ["refused"] * 5
    assert Comment.objects.filter(author=author).count() == 3

"""Pins and reply locks (FLAG_ACTIONS in forum/transitions.py): where a pinned
comment shows, what may be pinned, and that no reply lands in a locked
subtree, however the two race."""

import re
import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone

from forum import services
from forum.caching import SORTS
from forum.models import Comment, ModerationAction
from forum.transitions import TRANSITIONS
from tests.factories import ArticleFactory, CommentFactory, UserFactory
from tests.html import comment_fragment, element

pytestmark = pytest.mark.django_db

PUBLISHED = Comment.Status.PUBLISHED
LOCKED_LABEL = "Replies locked by the moderators"
LOCKED_REPLY = "A moderator closed this part of the thread to replies."


def _url(name, comment):
    return reverse(
        f"forum:{name}", kwargs={"slug": comment.article.slug, "pk": comment.pk}
    )


def _text(response):
    return response.content.decode()


def _top_level_order(client, article, sort):
    content = _text(client.get(article.get_absolute_url(), {"sort": sort}))
    roots = set(
        Comment.objects.filter(article=article, level=0).values_list("pk", flat=True)
    )
    shown = [int(pk) for pk in re.findall(r'<li id="comment-(\d+)"', content)]
    return [pk for pk in shown if pk in roots]


def _acts(comment, *verbs):
    return list(
        ModerationAction.objects.filter(comment_number=comment.pk, verb__in=verbs)
        .order_by("pk")
        .values_list("verb", "from_state", "to_state", "actor")
    )


@pytest.fixture
def three_threads(article):
    """Three top-level comments, an hour apart, each with no replies: "oldest"
    shows them first to last, "newest" and "best" last to first."""
    now = timezone.now()
    return [
        CommentFactory(article=article, created_at=now - timedelta(hours=hours))
        for hours in (3, 2, 1)
    ]


# Pins.


@pytest.mark.parametrize("sort", SORTS)
def test_a_pin_puts_a_top_level_comment_first_in_every_order_until_unpinned(
    client, article, moderator, three_threads, sort
):
    client.force_login(moderator)
    before = _top_level_order(client, article, sort)
    assert sorted(before) == sorted(c.pk for c in three_threads)
    last = Comment.objects.get(pk=before[-1])

    pinned = client.post(_url("comment_pin", last))

    assert pinned.status_code == 302
    assert _top_level_order(client, article, sort) == [last.pk, *before[:-1]]
    for other_sort in SORTS:
        assert _top_level_order(client, article, other_sort)[0] == last.pk
    client.logout()
    assert _top_level_order(client, article, sort)[0] == last.pk
    thread = _text(client.get(article.get_absolute_url(), {"sort": sort}))
    assert "Pinned by the moderators" in comment_fragment(thread, last.pk)

    client.force_login(moderator)
    unpinned = client.post(_url("comment_unpin", last))

    assert unpinned.status_code == 302
    assert _top_level_order(client, article, sort) == before
    thread = _text(client.get(article.get_absolute_url(), {"sort": sort}))
    assert "Pinned by the moderators" not in thread


def test_a_reply_cannot_be_pinned(client, comment, moderator):
    reply = CommentFactory(parent=comment)
    client.force_login(moderator)

    with pytest.raises(ValidationError, match="Only a top-level comment can be pinned"):
        services.pin_comment(comment=reply, moderator=moderator)
    response = client.post(_url("comment_pin", reply))

    assert response.status_code == 400
    assert "Only a top-level comment can be pinned." in _text(response)
    assert Comment.objects.get(pk=reply.pk).pinned_at is None
    assert _acts(reply, "pin") == []


def _leave_published(verb, comment, moderator, settings):
    """Take a published ``comment`` out of PUBLISHED by ``verb``."""
    if verb == "remove":
        services.remove_comment(comment=comment, moderator=moderator, reason="abuse")
    elif verb == "spam":
        services.mark_comment_spam(comment=comment, moderator=moderator)
    elif verb == "hide":
        for _ in range(settings.FORUM_REPORT_THRESHOLD):
            services.report_comment(
                comment=comment, reporter=UserFactory(), reason="abuse"
            )
    elif verb == "delete":
        services.delete_comment(comment=comment, user=comment.author)
    else:
        raise AssertionError(f"no way here to {verb} a comment")


# Every way out of PUBLISHED that the table knows.
LEAVING_PUBLISHED = [
    verb
    for verb, transition in TRANSITIONS.items()
    if PUBLISHED in transition.sources and transition.target != PUBLISHED
]


@pytest.mark.parametrize("verb", LEAVING_PUBLISHED)
def test_only_a_published_comment_can_be_pinned(
    client, settings, comment, moderator, verb
):
    CommentFactory(parent=comment)  # so a deleted one keeps its row
    _leave_published(verb, comment, moderator, settings)
    client.force_login(moderator)

    with pytest.raises(ValidationError, match="Only a published comment"):
        services.pin_comment(comment=comment, moderator=moderator)
    response = client.post(_url("comment_pin", comment))

    assert response.status_code == 400
    assert "Only a published comment can be pinned." in _text(response)
    assert Comment.objects.get(pk=comment.pk).pinned_at is None
    assert _acts(comment, "pin") == []


@pytest.mark.parametrize("verb", LEAVING_PUBLISHED)
def test_a_pinned_comment_that_leaves_published_loses_its_pin(
    client, settings, article, moderator, three_threads, verb
):
    first, middle, last = three_threads
    CommentFactory(parent=last)  # so a deleted one keeps its row
    services.pin_comment(comment=last, moderator=moderator)
    client.force_login(moderator)
    assert _top_level_order(client, article, "oldest")[0] == last.pk

    _leave_published(verb, last, moderator, settings)

    last.refresh_from_db()
    assert last.pinned_at is None
    assert _top_level_order(client, article, "oldest") == [
        first.pk,
        middle.pk,
        last.pk,
    ]
    thread = _text(client.get(article.get_absolute_url()))
    assert "Pinned by the moderators" not in thread
    assert f'data-mod="{last.status}:100"' in comment_fragment(thread, last.pk)
    if verb in ("remove", "spam"):
        services.restore_comment(comment=last, moderator=moderator)
        assert Comment.objects.get(pk=last.pk).pinned_at is None
        assert _top_level_order(client, article, "oldest")[0] == first.pk


# Reply locks.


@pytest.fixture
def tree(article):
    """root ─┬─ a ── a1 ── a1x
    └─ b"""
    root = CommentFactory(article=article, body="Root.")
    a = CommentFactory(parent=root, body="Branch a.")
    a1 = CommentFactory(parent=a, body="Under a.")
    a1x = CommentFactory(parent=a1, body="Deep under a.")
    b = CommentFactory(parent=root, body="Branch b.")
    return {"root": root, "a": a, "a1": a1, "a1x": a1x, "b": b}


def test_a_lock_refuses_replies_anywhere_below_and_keeps_the_readers_text(
    client, tree, moderator, user
):
    client.force_login(moderator)
    assert client.post(_url("comment_lock", tree["a"])).status_code == 302
    count = Comment.objects.count()
    client.force_login(user)

    for name in ("a", "a1", "a1x"):
        with pytest.raises(ValidationError, match=LOCKED_REPLY):
            services.post_comment(
                article=tree[name].article,
                parent=tree[name],
                body="Through the service.",
                author=user,
            )
        text = f"My careful answer to {name}."
        response = client.post(_url("comment_reply", tree[name]), {"body": text})

        assert response.status_code == 400
        content = _text(response)
        # Said once, and why: the lock, not a generic refusal.
        assert content.count("closed this part of the thread to replies") == 1
        assert "not open for replies" not in content
        assert element(content, "textarea", id="kept-reply").value == text
    assert Comment.objects.count() == count


def test_other_branches_of_a_locked_thread_still_take_replies(
    client, tree, moderator, user
):
    services.lock_replies(comment=tree["a"], moderator=moderator)
    client.force_login(user)

    for name in ("root", "b"):
        response = client.post(
            _url("comment_reply", tree[name]), {"body": f"Still open at {name}."}
        )

        assert response.status_code == 302
        reply = Comment.objects.get(body=f"Still open at {name}.")
        assert reply.parent_id == tree[name].pk
        assert reply.replies_locked_at is None
    services.post_comment(
        article=tree["b"].article, parent=tree["b"], body="And again.", author=user
    )


def test_a_locked_subtree_shows_that_replies_are_locked_instead_of_reply(
    client, tree, moderator
):
    services.lock_replies(comment=tree["a"], moderator=moderator)
    article = tree["root"].article

    content = _text(client.get(article.get_absolute_url()))

    for name, comment in tree.items():
        fragment = comment_fragment(content, comment.pk)
        locked = name in ("a", "a1", "a1x")
        assert (LOCKED_LABEL in fragment) is locked
        assert (f'href="{_url("comment_reply", comment)}"' in fragment) is not locked
        # The moderators' controls know where the lock is (1: here, so Unlock
        # is offered) and where it comes from above (2: neither is offered).
        lock = {"a": "1", "a1": "2", "a1x": "2"}.get(name, "0")
        assert re.search(r'data-mod="published:\d\d(\d)"', fragment).group(1) == lock


def test_unlock_is_offered_where_the_lock_was_set_and_not_below(
    client, tree, moderator
):
    """Defect: every locked reply offered "Unlock replies", which its service
    then refused (the lock was set above it)."""
    services.lock_replies(comment=tree["a"], moderator=moderator)
    client.force_login(moderator)

    def offered(name):
        page = _text(client.get(tree[name].get_absolute_url()))
        return {
            verb
            for verb in ("lock", "unlock")
            if _url(f"comment_{verb}", tree[name]) in page
        }

    assert offered("a") == {"unlock"}
    assert offered("a1") == offered("a1x") == set()
    assert offered("b") == {"lock"}


def test_unlocking_under_a_locked_ancestor_is_refused(client, tree, moderator):
    services.lock_replies(comment=tree["root"], moderator=moderator)
    client.force_login(moderator)

    with pytest.raises(ValidationError, match="A comment above this one is locked"):
        services.lock_replies(comment=tree["a"], moderator=moderator, locked=False)
    response = client.post(_url("comment_unlock", tree["a"]))

    assert response.status_code == 400
    assert "A comment above this one is locked; unlock replies there." in _text(
        response
    )
    for comment in tree.values():
        assert Comment.objects.get(pk=comment.pk).replies_locked_at is not None
    assert _acts(tree["a"], "unlock") == []


def test_unlocking_opens_the_subtree_to_replies_again(client, tree, moderator, user):
    services.lock_replies(comment=tree["a"], moderator=moderator)
    client.force_login(moderator)

    response = client.post(_url("comment_unlock", tree["a"]))

    assert response.status_code == 302
    for name in ("a", "a1", "a1x"):
        assert Comment.objects.get(pk=tree[name].pk).replies_locked_at is None
        services.post_comment(
            article=tree[name].article,
            parent=tree[name],
            body=f"Open again at {name}.",
            author=user,
        )


def test_pins_and_locks_are_recorded_in_the_moderation_log(client, comment, moderator):
    client.force_login(moderator)

    for verb in ("pin", "lock", "unlock", "unpin"):
        response = client.post(_url(f"comment_{verb}", comment))
        assert response.status_code == 302, verb

    assert _acts(comment, "pin", "unpin", "lock", "unlock") == [
        (verb, PUBLISHED, PUBLISHED, moderator.pk)
        for verb in ("pin", "lock", "unlock", "unpin")
    ]
    comment.refresh_from_db()
    assert comment.pinned_at is None
    assert comment.replies_locked_at is None


def test_a_refused_pin_or_lock_records_nothing(client, comment, moderator):
    client.force_login(moderator)

    for verb in ("unpin", "unlock"):
        response = client.post(_url(f"comment_{verb}", comment))
        assert response.status_code == 400, verb

    assert _acts(comment, "pin", "unpin", "lock", "unlock") == []


# A reply racing a lock, on PostgreSQL: real threads, one connection each.

HOLD = 0.5  # seconds the first transaction stays open after its write


def _run(*targets):
    errors = []

    def run(target):
        try:
            target()
        except Exception as error:  # reported below
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    assert errors == []


def _locked_subtree_problems(locked):
    """Comments in ``locked``'s subtree that are not marked locked: a reply
    that landed after the lock's commit."""
    locked.refresh_from_db()
    return list(
        Comment.objects.filter(
            tree_id=locked.tree_id,
            lft__gte=locked.lft,
            rght__lte=locked.rght,
            replies_locked_at__isnull=True,
        ).values_list("pk", "body")
    )


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["lock", "reply"])
def test_no_reply_lands_in_a_subtree_after_its_lock_commits(first):
    article = ArticleFactory()
    moderator = UserFactory(is_superuser=True)
    reader = UserFactory()
    root = services.post_comment(article=article, body="Root", author=UserFactory())
    a = services.post_comment(article=article, parent=root, body="a", author=reader)
    a1 = services.post_comment(article=article, parent=a, body="a1", author=reader)
    written = threading.Event()
    outcome = []

    def lock():
        if first == "lock":
            with transaction.atomic():
                services.lock_replies(comment=a, moderator=moderator)
                written.set()
                # Held open while the reply tries to land.
                time.sleep(HOLD)
        else:
            written.wait(timeout=30)
            services.lock_replies(comment=a, moderator=moderator)

    def reply():
        def post():
            services.post_comment(
                article=article, parent=a1, body="Racing reply", author=reader
            )

        try:
            if first == "reply":
                with transaction.atomic():
                    post()
                    written.set()
                    time.sleep(HOLD)
            else:
                written.wait(timeout=30)
                post()
        except ValidationError as error:
            outcome.append(" ".join(error.messages))
        else:
            outcome.append("accepted")

    _run(lock, reply)

    assert _locked_subtree_problems(a) == []
    if first == "lock":
        assert outcome == [LOCKED_REPLY]
        assert not Comment.objects.filter(parent=a1).exists()
    else:
        # In before the lock, and so under it.
        assert outcome == ["accepted"]
        assert Comment.objects.get(parent=a1).replies_locked_at is not None


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_replies_racing_a_lock_from_the_same_start_never_land_after_it(settings):
    # Each round's reader posts the same "a" and "a1" again.
    settings.FORUM_RATE_DUPLICATES = "100/600"
    article = ArticleFactory()
    moderator = UserFactory(is_superuser=True)
    readers = [UserFactory() for _ in range(4)]
    for round_number in range(5):
        root = services.post_comment(
            article=article, body=f"Root {round_number}", author=readers[0]
        )
        a = services.post_comment(
            article=article, parent=root, body="a", author=readers[0]
        )
        a1 = services.post_comment(
            article=article, parent=a, body="a1", author=readers[0]
        )
        start = threading.Barrier(1 + len(readers))
        outcomes = []

        def lock(a=a, start=start):
            start.wait(timeout=30)
            services.lock_replies(comment=a, moderator=moderator)

        def reply(reader, a1=a1, start=start, outcomes=outcomes):
            start.wait(timeout=30)
            try:
                services.post_comment(
                    article=article, parent=a1, body=f"From {reader}", author=reader
                )
            except ValidationError as error:
                outcomes.append(" ".join(error.messages))
            else:
                outcomes.append("accepted")

        _run(lock, *[lambda r=r: reply(r) for r in readers])

        assert _locked_subtree_problems(a) == []
        assert set(outcomes) <= {"accepted", LOCKED_REPLY}
        assert Comment.objects.filter(parent=a1).count() == outcomes.count("accepted")

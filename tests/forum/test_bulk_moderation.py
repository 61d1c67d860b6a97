"""Bulk moderation (services.moderate_comments) and the admin's changelist
actions that go through it: many comments, several threads, one transaction,
each comment changed or refused as the transition table says."""

from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from forum import services
from forum.models import Comment, ModerationAction, ThreadState
from forum.services import moderation
from forum.transitions import TRANSITIONS
from tests.admin import messages_of, run_comment_action
from tests.factories import ArticleFactory, CommentFactory

pytestmark = pytest.mark.django_db

SELECTED = 300
ARTICLES = 5
REASON = "abuse"
# The admin's action for each bulk verb, and what it says it did.
ADMIN_ACTIONS = {
    "approve": ("approve", "approved"),
    "remove": ("remove", "removed"),
    "spam": ("mark_spam", "marked as spam"),
    "restore": ("restore", "restored"),
}
# A generous ceiling per comment: locking, the conditional update, answering
# reports, the log row, re-rendering its fragments.
QUERIES_PER_COMMENT = 12


def _in_every_state(count, *, articles, moderator):
    """``count`` comments spread over ``articles``, in every state by turns
    (an author's deletion keeps its row only above a reply, which is one of
    the ``count`` too)."""
    made = []
    turn = 0
    while len(made) < count:
        article = articles[turn % len(articles)]
        turn += 1
        published = CommentFactory(article=article)
        pending = CommentFactory(article=article, status=Comment.Status.PENDING)
        removed = CommentFactory(article=article)
        services.remove_comment(comment=removed, moderator=moderator, reason=REASON)
        spam = CommentFactory(article=article)
        services.mark_comment_spam(comment=spam, moderator=moderator)
        deleted = CommentFactory(article=article)
        reply = CommentFactory(parent=deleted)
        services.delete_comment(comment=deleted, user=deleted.author)
        made += [published, pending, removed, spam, deleted, reply]
    made = made[:count]
    states = dict(
        Comment.objects.filter(pk__in=[c.pk for c in made]).values_list("pk", "status")
    )
    assert set(states.values()) == set(Comment.Status)
    return states


@pytest.fixture
def articles(db):
    return [ArticleFactory() for _ in range(ARTICLES)]


@pytest.fixture
def selected(articles, moderator):
    """pk -> state of SELECTED comments over several articles."""
    return _in_every_state(SELECTED, articles=articles, moderator=moderator)


def _snapshot():
    return {
        "states": dict(Comment.objects.values_list("pk", "status")),
        "acts": ModerationAction.objects.count(),
        "last_act": ModerationAction.objects.order_by("-pk")
        .values_list("pk", flat=True)
        .first(),
        "versions": dict(ThreadState.objects.values_list("article_id", "version")),
    }


def _why_not(state, verb):
    if state == Comment.Status.DELETED:
        return "Its author deleted this comment; nobody can bring it back."
    now = Comment.Status(state).label.lower()
    then = Comment.Status(TRANSITIONS[verb].target).label.lower()
    return f"A comment that is {now} cannot become {then}."


def _reason(verb):
    return REASON if verb == "remove" else None


@pytest.mark.parametrize("verb", services.BULK_VERBS)
def test_bulk_changes_what_the_table_allows_and_says_why_not_for_the_rest(
    moderator, articles, selected, django_assert_max_num_queries, verb
):
    transition = TRANSITIONS[verb]
    missing = max(selected) + 1000
    before = _snapshot()

    with django_assert_max_num_queries(QUERIES_PER_COMMENT * SELECTED) as captured:
        result = services.moderate_comments(
            comment_ids=[*selected, missing],
            moderator=moderator,
            verb=verb,
            reason=_reason(verb),
        )

    # One atomic block for them all (inside the test's transaction it opens
    # a savepoint), not one per comment.
    savepoints = [q for q in captured.captured_queries if q["sql"].startswith("SAVEP")]
    assert len(savepoints) == 1
    allowed = {pk for pk, state in selected.items() if state in transition.sources}
    assert allowed, "the selection holds comments the verb applies to"
    assert set(result.done) == allowed
    assert len(result.done) == len(allowed)
    assert result.refused == {
        missing: "That comment no longer exists.",
        **{
            pk: _why_not(state, verb)
            for pk, state in selected.items()
            if pk not in allowed
        },
    }
    after = _snapshot()
    for pk, state in selected.items():
        assert after["states"][pk] == (transition.target if pk in allowed else state)
    new_acts = list(ModerationAction.objects.filter(pk__gt=before["last_act"]))
    assert sorted(a.comment_number for a in new_acts) == sorted(allowed)
    assert all(
        (a.verb, a.actor_id, a.from_state, a.to_state)
        == (verb, moderator.pk, selected[a.comment_number], transition.target)
        for a in new_acts
    )
    # Each thread's version moves once, and only where something changed.
    changed_articles = Counter(
        Comment.objects.filter(pk__in=allowed).values_list("article_id", flat=True)
    )
    for article in articles:
        bump = 1 if article.pk in changed_articles else 0
        assert after["versions"][article.pk] == before["versions"][article.pk] + bump


@pytest.mark.django_db(transaction=True)
def test_bulk_is_one_transaction_and_a_failure_at_the_end_undoes_all_of_it(
    monkeypatch, moderator, articles, selected
):
    changed_thread = moderation._changed_thread
    bumps = len(articles)  # every article holds a comment to remove
    calls = []

    def fail_on_the_last(article_id):
        calls.append(article_id)
        if len(calls) == bumps:
            raise RuntimeError("the last thread could not be bumped")
        changed_thread(article_id)

    monkeypatch.setattr(moderation, "_changed_thread", fail_on_the_last)
    before = _snapshot()

    with pytest.raises(RuntimeError):
        services.moderate_comments(
            comment_ids=list(selected),
            moderator=moderator,
            verb="remove",
            reason=REASON,
        )

    # The failure came after every comment was changed and logged.
    assert len(calls) == bumps
    assert _snapshot() == before


def test_bulk_without_a_reason_for_removal_changes_nothing(moderator, articles):
    states = _in_every_state(12, articles=articles, moderator=moderator)
    before = _snapshot()

    with pytest.raises(ValidationError, match="Choose a reason"):
        services.moderate_comments(
            comment_ids=list(states), moderator=moderator, verb="remove"
        )

    assert _snapshot() == before


@pytest.mark.parametrize("verb", sorted(set(TRANSITIONS) - set(services.BULK_VERBS)))
def test_verbs_that_are_not_for_bulk_are_refused(comment, moderator, verb):
    with pytest.raises(ValidationError, match="No bulk action"):
        services.moderate_comments(
            comment_ids=[comment.pk], moderator=moderator, verb=verb
        )

    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PUBLISHED


def test_bulk_by_a_reader_is_refused(comment, user):
    before = _snapshot()

    with pytest.raises(PermissionDenied):
        services.moderate_comments(
            comment_ids=[comment.pk], moderator=user, verb="spam"
        )

    assert _snapshot() == before


# The admin's changelist actions.


@pytest.fixture
def calls(monkeypatch):
    """Every call of services.moderate_comments, which still does its work."""
    made = []
    real = services.moderate_comments

    def spy(**kwargs):
        made.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(services, "moderate_comments", spy)
    return made


@pytest.mark.parametrize("verb", list(ADMIN_ACTIONS))
@pytest.mark.parametrize("who", ["moderator", "admin"])
def test_admin_actions_go_through_bulk_moderation(
    client, calls, moderator, admin_user, articles, verb, who
):
    states = _in_every_state(12, articles=articles, moderator=moderator)
    transition = TRANSITIONS[verb]
    allowed = {pk for pk, state in states.items() if state in transition.sources}
    actor = moderator if who == "moderator" else admin_user
    client.force_login(actor)
    action, done = ADMIN_ACTIONS[verb]

    response = run_comment_action(
        client, action, states, reason=REASON if verb == "remove" else ""
    )

    assert response.status_code == 200
    [call] = calls
    assert sorted(call["comment_ids"]) == sorted(states)
    assert call["moderator"] == actor
    assert call["verb"] == verb
    if verb == "remove":
        assert call["reason"] == REASON
    messages = messages_of(response)
    assert f"{len(allowed)} comments {done}." in messages
    [refused] = [m for m in messages if "left as they were" in m]
    assert refused.startswith(f"{len(states) - len(allowed)} left as they were: ")
    for pk, state in sorted(states.items()):
        if pk not in allowed:
            assert f"#{pk}: {_why_not(state, verb)}" in refused
    after = dict(Comment.objects.filter(pk__in=states).values_list("pk", "status"))
    assert after == {
        pk: transition.target if pk in allowed else state
        for pk, state in states.items()
    }


def test_admin_removes_three_hundred_comments_in_one_call(
    client, calls, moderator, selected
):
    client.force_login(moderator)
    removable = TRANSITIONS["remove"].sources

    response = run_comment_action(
        client, "remove", selected, reason=REASON, note="Raid"
    )

    [call] = calls
    assert len(call["comment_ids"]) == SELECTED
    count = sum(state in removable for state in selected.values())
    assert f"{count} comments removed." in messages_of(response)
    assert (
        Comment.objects.filter(
            pk__in=selected, status=Comment.Status.REMOVED, moderation_reason="Raid"
        ).count()
        == count
    )


def test_admin_remove_without_a_reason_never_calls_the_service(
    client, calls, moderator, comment
):
    client.force_login(moderator)

    response = run_comment_action(client, "remove", [comment.pk])

    assert calls == []
    assert any(m.startswith("Nothing removed") for m in messages_of(response))
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PUBLISHED


def test_a_reader_cannot_run_the_admin_actions(client, calls, user, comment):
    client.force_login(user)

    response = run_comment_action(client, "mark_spam", [comment.pk])

    assert calls == []
    assert response.redirect_chain[0][0].startswith(reverse("admin:login"))
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PUBLISHED

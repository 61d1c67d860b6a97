"""Who may do what to a comment (forum/transitions.py), row by row, through the
pages: every transition and flag action, from every state, by the comment's
author, another reader, a moderator and an admin. Each case checks the state
left in the database, the moderation log, and that the page offered the action
exactly when it is allowed.

The cases are read off TRANSITIONS and FLAG_ACTIONS, so a new row is tested as
soon as it exists: a moderator verb through its page in the thread
(``forum:comment_<verb>``), unless DOORS says how else it is done.
"""

import json
import re
from contextlib import suppress
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import NoReverseMatch, reverse

from forum import services
from forum.models import Comment, ModerationAction
from forum.transitions import (
    FLAG_ACTIONS,
    IN_THREAD,
    MODERATOR_ACTIONS,
    TRANSITIONS,
    flags_key,
)
from tests.factories import CommentFactory, UserFactory
from tests.html import comment_fragment, elements

pytestmark = pytest.mark.django_db

PUBLISHED = Comment.Status.PUBLISHED
ACTORS = ["author", "other", "moderator", "admin"]
MODERATORS = {"moderator", "admin"}
REASON = "abuse"


@pytest.fixture(autouse=True)
def two_reports_hide(settings):
    # Fewer readers to make up for each hidden comment; the rule is the same.
    settings.FORUM_REPORT_THRESHOLD = 2


@pytest.fixture
def actors(user, other_user, moderator, admin_user):
    return {
        "author": user,
        "other": other_user,
        "moderator": moderator,
        "admin": admin_user,
    }


# Getting a comment into a state: the services, one per verb, walked along the
# table from where a new comment starts.


def _report_until_hidden(comment, moderator):
    for _ in range(settings.FORUM_REPORT_THRESHOLD):
        services.report_comment(comment=comment, reporter=UserFactory(), reason=REASON)


SERVICES = {
    "approve": lambda c, m: services.approve_comment(comment=c, moderator=m),
    "remove": lambda c, m: services.remove_comment(
        comment=c, moderator=m, reason=REASON
    ),
    "spam": lambda c, m: services.mark_comment_spam(comment=c, moderator=m),
    "restore": lambda c, m: services.restore_comment(comment=c, moderator=m),
    "hide": _report_until_hidden,
    "delete": lambda c, m: services.delete_comment(comment=c, user=c.author),
}


def _path_to(state):
    """The verbs that take a new (published) comment to ``state``, shortest
    first, read off TRANSITIONS."""
    paths = {PUBLISHED: []}
    frontier = [PUBLISHED]
    while frontier:
        current = frontier.pop(0)
        for verb, transition in TRANSITIONS.items():
            if current in transition.sources and transition.target not in paths:
                paths[transition.target] = [*paths[current], verb]
                frontier.append(transition.target)
    return paths[state]


def _comment_in(
    state, *, author, moderator, top_level=True, pinned=False, locked=False
):
    """A comment by ``author`` in ``state``, with a reply below it: the reply
    keeps the row when its author deletes it and keeps it on the page for every
    reader while it waits for a moderator."""
    root = CommentFactory(author=author if top_level else UserFactory())
    comment = root if top_level else CommentFactory(parent=root, author=author)
    CommentFactory(parent=comment)
    for verb in _path_to(state):
        SERVICES[verb](comment, moderator)
    if pinned:
        services.pin_comment(comment=comment, moderator=moderator)
    if locked:
        services.lock_replies(comment=comment, moderator=moderator)
    comment = Comment.objects.get(pk=comment.pk)
    assert comment.status == state
    assert (comment.pinned_at is not None, comment.replies_locked_at is not None) == (
        pinned,
        locked,
    )
    return comment


# How each verb is done over HTTP.


def _url(name, comment):
    return reverse(
        f"forum:{name}", kwargs={"slug": comment.article.slug, "pk": comment.pk}
    )


def _thread_url(comment):
    return (
        f"{comment.article.get_absolute_url()}?comment={comment.pk}"
        f"#comment-{comment.pk}"
    )


def _messages(response):
    return [str(m) for m in response.context["messages"]]


@dataclass(frozen=True)
class Door:
    """How ``verb`` is done over HTTP, and by whom (``who``: "moderators",
    "author" or "reporters")."""

    who: str
    kind: str  # "page" (GET confirms, POST acts), "admin" or "report"


DOORS = {
    # No page in the thread: a changelist action in the admin.
    "spam": Door("moderators", "admin"),
    # Readers' reports, FORUM_REPORT_THRESHOLD of them.
    "hide": Door("reporters", "report"),
    "delete": Door("author", "page"),
}
MODERATOR_PAGE = Door("moderators", "page")
ADMIN_ACTIONS = {"spam": "mark_spam"}


def _door(verb):
    return DOORS.get(verb, MODERATOR_PAGE)


def _may(verb, actor, state):
    """What the table and the door say ``actor`` may do."""
    if state not in TRANSITIONS[verb].sources:
        return False
    who = _door(verb).who
    if who == "author":
        return actor == "author"
    if who == "reporters":
        return actor != "author"
    return actor in MODERATORS


def _needs_reason(verb):
    return verb in TRANSITIONS and TRANSITIONS[verb].reason_required


def _act(client, verb, comment):
    """Do ``verb`` to ``comment`` as the client's user; the POST's response."""
    door = _door(verb)
    if door.kind == "admin":
        return client.post(
            reverse("admin:forum_comment_changelist"),
            {
                "action": ADMIN_ACTIONS.get(verb, verb),
                "_selected_action": [comment.pk],
                "index": 0,
                "select_across": 0,
                "reason": REASON if _needs_reason(verb) else "",
                "note": "",
            },
            follow=True,
        )
    if door.kind == "report":
        # The readers before this one; a state that takes no reports takes
        # none of theirs either.
        for _ in range(settings.FORUM_REPORT_THRESHOLD - 1):
            with suppress(ValidationError):
                services.report_comment(
                    comment=comment, reporter=UserFactory(), reason=REASON
                )
        return client.post(_url("comment_report", comment), {"reason": REASON})
    data = {"reason": REASON} if _needs_reason(verb) else {}
    url = _url(f"comment_{verb}", comment)
    confirm = client.get(url)
    # GET only asks.
    assert confirm.status_code in (200, 403)
    assert Comment.objects.get(pk=comment.pk).status == comment.status
    return client.post(url, data)


def _check_response(response, *, verb, actor, allowed, comment):
    door = _door(verb)
    if door.kind == "admin":
        if actor not in MODERATORS:
            # Readers are sent to the admin's login.
            assert response.redirect_chain[0][0].startswith(reverse("admin:login"))
        elif allowed:
            assert any(m.startswith("1 comment ") for m in _messages(response))
        else:
            assert any(m.startswith("1 left as they were") for m in _messages(response))
    elif door.kind == "report":
        assert response.status_code in (302, 400)
        if allowed:
            assert response["Location"] == _thread_url(comment)
    elif allowed:
        assert response.status_code == 302
        assert response["Location"] in (
            _thread_url(comment),
            comment.article.get_absolute_url() + "#comments",
        )
    elif door.who == "moderators" and actor in MODERATORS:
        # A moderator is told why not.
        assert response.status_code == 400
        content = response.content.decode()
        assert "cannot become" in content or "nobody can bring it back" in content
    else:
        assert response.status_code == 403


# What the pages offer.


@dataclass
class Offer:
    """What ``actor`` is offered on a comment's own page and in the thread."""

    page_links: set  # hrefs of the comment's own page's action links
    data_mod: str  # the thread fragment's data-mod
    controls: dict | None  # the thread's JSON for thread.js
    fragment: str  # the comment's HTML in the thread


def _controls(content):
    marker = '<script id="thread-controls" type="application/json">'
    if marker not in content:
        return None
    start = content.index(marker) + len(marker)
    return json.loads(content[start : content.index("</script>", start)])


def _offer(client, comment):
    page = client.get(_url("comment_detail", comment))
    assert page.status_code == 200
    nav = re.search(r'<nav class="comment-tools".*?</nav>', page.content.decode(), re.S)
    thread = client.get(comment.article.get_absolute_url()).content.decode()
    fragment = comment_fragment(thread, comment.pk)
    [article] = elements(fragment, "article")
    return Offer(
        page_links={a.attrs["href"] for a in elements(nav.group(0), "a")}
        if nav
        else set(),
        data_mod=article.attrs["data-mod"],
        controls=_controls(thread),
        fragment=fragment,
    )


def _offered(offer, verb, comment):
    """Whether ``offer`` holds a button for ``verb`` on ``comment``, where the
    pages put that verb's button."""
    base = comment.article.comments_url + f"{comment.pk}/"
    controls = offer.controls or {}
    if verb == "delete":
        on_page = f"{base}delete/" in offer.page_links
        in_thread = comment.pk in controls.get("delete", [])
    elif verb == "hide":
        # Report; thread.js takes it away from the author's own comments.
        on_page = in_thread = f'href="{base}report/"' in offer.fragment and (
            comment.pk not in controls.get("delete", [])
        )
    else:
        on_page = f"{base}{verb}/" in offer.page_links
        actions = controls.get("moderate", {}).get(offer.data_mod, [])
        in_thread = [verb, _label(verb)] in actions
    assert on_page == in_thread, f"{verb}: its page and the thread disagree"
    return on_page


def _label(verb):
    return (TRANSITIONS.get(verb) or FLAG_ACTIONS[verb]).label


def _acts(comment):
    return list(
        ModerationAction.objects.filter(comment_number=comment.pk)
        .order_by("pk")
        .values_list("verb", "from_state", "to_state", "actor")
    )


# The tests.


def test_every_verb_and_state_has_a_way_in():
    """A new row needs a page in the thread, or a door here saying how it is
    done; a new state needs a way to reach it."""
    for verb in TRANSITIONS:
        if verb not in DOORS:
            assert verb in IN_THREAD
            assert reverse(
                f"forum:comment_{verb}", kwargs={"slug": "a", "pk": 1}
            ).endswith(f"/{verb}/")
    for verb in FLAG_ACTIONS:
        reverse(f"forum:comment_{verb}", kwargs={"slug": "a", "pk": 1})
    for state in Comment.Status:
        assert all(verb in SERVICES for verb in _path_to(state))


def test_hiding_has_no_page_only_reports():
    with pytest.raises(NoReverseMatch):
        reverse("forum:comment_hide", kwargs={"slug": "a", "pk": 1})
    assert "hide" not in IN_THREAD
    assert all(
        verb != "hide" for actions in MODERATOR_ACTIONS.values() for verb, _ in actions
    )


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("state", list(Comment.Status))
@pytest.mark.parametrize("verb", list(TRANSITIONS))
def test_transition(client, actors, moderator, verb, state, actor):
    comment = _comment_in(state, author=actors["author"], moderator=moderator)
    before = _acts(comment)
    allowed = _may(verb, actor, state)
    client.force_login(actors[actor])
    offer = _offer(client, comment)

    response = _act(client, verb, comment)

    transition = TRANSITIONS[verb]
    _check_response(response, verb=verb, actor=actor, allowed=allowed, comment=comment)
    after = Comment.objects.get(pk=comment.pk)
    new_acts = _acts(comment)[len(before) :]
    if allowed:
        assert after.status == transition.target
        by = None if _door(verb).who == "reporters" else actors[actor].pk
        assert new_acts == [(verb, state, transition.target, by)]
        # The thread shows it as it now is.
        assert _offer(client, after).data_mod == flags_key(
            after.status, top_level=True, pinned=False, locked=False
        )
    else:
        assert after.status == state
        assert after.moderated_at == comment.moderated_at
        assert new_acts == []
    if verb in IN_THREAD or verb in ("delete", "hide"):
        assert _offered(offer, verb, comment) is allowed
    else:
        # Done elsewhere (the admin); never a button in the thread.
        assert not _offered(offer, verb, comment)


def _flag_cases():
    """(verb, state, top-level, whether the verb's flag is set) for every
    starting point a comment can be in. A pin lasts only while a top-level
    comment is published: the services drop it when it leaves that state."""
    for verb, action in FLAG_ACTIONS.items():
        for state in Comment.Status:
            for top_level in (True, False):
                for flag_set in (False, True):
                    if (
                        flag_set
                        and action.flag == "pinned"
                        and not (state == PUBLISHED and top_level)
                    ):
                        continue
                    yield pytest.param(
                        verb,
                        state,
                        top_level,
                        flag_set,
                        id=f"{verb}-{state}-{'top' if top_level else 'reply'}-"
                        f"{action.flag if flag_set else 'not-' + action.flag}",
                    )


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(
    ("verb", "state", "top_level", "flag_set"), list(_flag_cases())
)
def test_flag_action(
    client, actors, moderator, verb, state, top_level, flag_set, actor
):
    action = FLAG_ACTIONS[verb]
    flags = {"pinned": False, "locked": False, action.flag: flag_set}
    comment = _comment_in(
        state,
        author=actors["author"],
        moderator=moderator,
        top_level=top_level,
        **flags,
    )
    before = _acts(comment)
    allowed = actor in MODERATORS and action.offered(
        state=state, top_level=top_level, **flags
    )
    client.force_login(actors[actor])
    offer = _offer(client, comment)
    assert offer.data_mod == flags_key(state, top_level=top_level, **flags)

    response = _act(client, verb, comment)

    after = Comment.objects.get(pk=comment.pk)
    now = {
        "pinned": after.pinned_at is not None,
        "locked": after.replies_locked_at is not None,
    }
    new_acts = _acts(comment)[len(before) :]
    assert after.status == state
    if allowed:
        assert response.status_code == 302
        assert response["Location"] == _thread_url(comment)
        assert now == {**flags, action.flag: action.sets}
        assert new_acts == [(verb, state, state, actors[actor].pk)]
        assert _offer(client, after).data_mod == flags_key(
            state, top_level=top_level, **now
        )
    else:
        assert response.status_code == (400 if actor in MODERATORS else 403)
        assert now == flags
        assert new_acts == []
    assert _offered(offer, verb, comment) is allowed


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(
    "verb", [v for v, t in TRANSITIONS.items() if t.reason_required]
)
def test_a_transition_that_needs_a_reason_is_refused_without_one(
    client, actors, moderator, verb, actor
):
    state = min(TRANSITIONS[verb].sources)
    comment = _comment_in(state, author=actors["author"], moderator=moderator)
    before = _acts(comment)
    client.force_login(actors[actor])

    response = client.post(_url(f"comment_{verb}", comment), {"reason": ""})

    assert response.status_code == (400 if actor in MODERATORS else 403)
    assert Comment.objects.get(pk=comment.pk).status == state
    assert _acts(comment) == before


@pytest.mark.parametrize("verb", [*IN_THREAD, *FLAG_ACTIONS])
def test_a_moderators_post_without_the_csrf_token_is_refused(moderator, verb):
    """The moderator's session cookie alone does not act: a page elsewhere
    cannot make a moderator's browser moderate."""
    flag = FLAG_ACTIONS.get(verb)
    if flag is not None:
        state = PUBLISHED
        flags = {"pinned": False, "locked": False, flag.flag: not flag.sets}
    else:
        state = min(TRANSITIONS[verb].sources)
        flags = {}
    comment = _comment_in(state, author=UserFactory(), moderator=moderator, **flags)
    before = _acts(comment)
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    url = _url(f"comment_{verb}", comment)
    data = {"reason": REASON} if verb in TRANSITIONS else {}

    forged = client.post(url, data)

    assert forged.status_code == 403
    assert Comment.objects.get(pk=comment.pk).status == state
    assert _acts(comment) == before
    # The same POST with the confirmation page's token goes through.
    client.get(url)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(url, {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert len(_acts(comment)) == len(before) + 1


def test_an_authors_delete_without_the_csrf_token_is_refused(user, moderator):
    comment = _comment_in(PUBLISHED, author=user, moderator=moderator)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(_url("comment_delete", comment))

    assert response.status_code == 403
    assert Comment.objects.get(pk=comment.pk).status == PUBLISHED
    assert _acts(comment) == []

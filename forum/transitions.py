"""Who may do what to a comment: one table of transitions, read by the services
that carry them out, the admin actions, the comment page and the thread's
viewer script, so an action is offered exactly when it is allowed."""

from dataclasses import dataclass

from .models import Comment

MODERATE_PERMISSION = "forum.moderate_comment"

PUBLISHED = Comment.Status.PUBLISHED
PENDING = Comment.Status.PENDING
REMOVED = Comment.Status.REMOVED
SPAM = Comment.Status.SPAM
DELETED = Comment.Status.DELETED


def can_moderate(user):
    return bool(user and user.is_authenticated and user.has_perm(MODERATE_PERMISSION))


@dataclass(frozen=True)
class Transition:
    verb: str
    label: str
    sources: frozenset  # the states it may start from
    target: str
    reason_required: bool = False


TRANSITIONS = {
    t.verb: t
    for t in (
        Transition("approve", "Approve", frozenset({PENDING}), PUBLISHED),
        Transition(
            "remove",
            "Remove",
            frozenset({PUBLISHED, PENDING}),
            REMOVED,
            reason_required=True,
        ),
        Transition(
            "spam", "Mark as spam", frozenset({PUBLISHED, PENDING, REMOVED}), SPAM
        ),
        Transition("restore", "Restore", frozenset({REMOVED, SPAM}), PUBLISHED),
        # Enough readers' reports hide a comment until a moderator decides.
        Transition("hide", "Hide for review", frozenset({PUBLISHED}), PENDING),
        # The author's own; terminal: no transition leaves DELETED.
        Transition("delete", "Delete", frozenset({PUBLISHED, PENDING}), DELETED),
    )
}
# The moderator actions that have a page in the thread (forum/urls.py).
IN_THREAD = ("approve", "remove", "restore")


def allowed(verb, state):
    return state in TRANSITIONS[verb].sources


def moderator_actions(state):
    """(verb, label) of the thread's moderator actions open to a comment in
    ``state``, in the order they show."""
    return [
        (verb, TRANSITIONS[verb].label) for verb in IN_THREAD if allowed(verb, state)
    ]


# For the viewer script: each state's moderator actions.
MODERATOR_ACTIONS = {state.value: moderator_actions(state) for state in Comment.Status}

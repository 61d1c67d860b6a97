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
ALL_STATES = frozenset(Comment.Status)


@dataclass(frozen=True)
class FlagAction:
    """A moderator action that leaves the comment's state as it is: it sets
    (or clears) one of its flags."""

    verb: str
    label: str
    flag: str  # "pinned" or "locked"
    sets: bool  # True sets the flag, False clears it
    states: frozenset  # the states it is offered in
    top_level_only: bool = False

    def offered(self, *, state, top_level, pinned, locked):
        flags = {"pinned": pinned, "locked": locked}
        return (
            state in self.states
            and (top_level or not self.top_level_only)
            and flags[self.flag] != self.sets
        )


FLAG_ACTIONS = {
    a.verb: a
    for a in (
        # A pin is for a comment everyone reads, at the top of the thread.
        FlagAction("pin", "Pin", "pinned", True, frozenset({PUBLISHED}), True),
        FlagAction("unpin", "Unpin", "pinned", False, ALL_STATES, True),
        # No replies anywhere below; any state, as replies stay under any.
        FlagAction("lock", "Lock replies", "locked", True, ALL_STATES),
        FlagAction("unlock", "Unlock replies", "locked", False, ALL_STATES),
    )
}


def allowed(verb, state):
    return state in TRANSITIONS[verb].sources


def moderator_actions(state, *, top_level=False, pinned=False, locked=False):
    """(verb, label) of the moderator actions a comment's page offers, in the
    order they show: the transitions its state allows, then its flags."""
    return [
        (verb, TRANSITIONS[verb].label) for verb in IN_THREAD if allowed(verb, state)
    ] + [
        (verb, action.label)
        for verb, action in FLAG_ACTIONS.items()
        if action.offered(
            state=state, top_level=top_level, pinned=pinned, locked=locked
        )
    ]


def actions_for(comment):
    return moderator_actions(
        comment.status,
        top_level=comment.parent_id is None,
        pinned=comment.pinned_at is not None,
        locked=comment.replies_locked_at is not None,
    )


def flags_key(state, *, top_level, pinned, locked):
    """How a fragment names its state and flags (data-mod), for the viewer
    script to look its actions up in MODERATOR_ACTIONS."""
    return f"{state}:{int(top_level)}{int(pinned)}{int(locked)}"


# For the viewer script: the moderator actions of each state and flags.
MODERATOR_ACTIONS = {
    flags_key(state, top_level=t, pinned=p, locked=k): moderator_actions(
        state, top_level=t, pinned=p, locked=k
    )
    for state in Comment.Status
    for t in (False, True)
    for p in (False, True)
    for k in (False, True)
}

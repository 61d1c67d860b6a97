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
# A moderator's decision answers readers' open reports: one of these
# transitions or, for a comment that stays published, dismissing them.
ANSWERS_REPORTS = ("approve", "remove", "spam")


def can_dismiss_reports(*, state, open_reports):
    """Keep a reported comment as it is, answering its reports; a comment the
    reports hid is approved instead."""
    return state == PUBLISHED and open_reports > 0


# The moderator actions that have a page in the thread (forum/urls.py).
IN_THREAD = ("approve", "remove", "restore")
ALL_STATES = frozenset(Comment.Status)
# A comment's reply lock: open, locked here, or locked with a comment above.
LOCK_OPEN, LOCK_HERE, LOCK_ABOVE = 0, 1, 2


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
        """``locked`` is one of LOCK_*: a subtree is unlocked where it was
        locked, not from a reply below that."""
        value = {"pinned": int(bool(pinned)), "locked": int(locked)}[self.flag]
        return (
            state in self.states
            and (top_level or not self.top_level_only)
            and value == (0 if self.sets else 1)
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


def lock_of(comment):
    """LOCK_OPEN, LOCK_HERE or LOCK_ABOVE (a query for the parent, only when
    the comment is locked)."""
    if comment.replies_locked_at is None:
        return LOCK_OPEN
    parent = comment.parent
    return LOCK_ABOVE if parent and parent.replies_locked_at else LOCK_HERE


def actions_for(comment):
    return moderator_actions(
        comment.status,
        top_level=comment.parent_id is None,
        pinned=comment.pinned_at is not None,
        locked=lock_of(comment),
    )


def flags_key(state, *, top_level, pinned, locked):
    """How a fragment names its state and flags (data-mod), for the viewer
    script to look its actions up in MODERATOR_ACTIONS: the state, then
    top-level, pinned and the lock (LOCK_*) as digits."""
    return f"{state}:{int(top_level)}{int(pinned)}{int(locked)}"


# For the viewer script: the moderator actions of each state and flags.
MODERATOR_ACTIONS = {
    flags_key(state, top_level=t, pinned=p, locked=k): moderator_actions(
        state, top_level=t, pinned=p, locked=k
    )
    for state in Comment.Status
    for t in (False, True)
    for p in (False, True)
    for k in (LOCK_OPEN, LOCK_HERE, LOCK_ABOVE)
}

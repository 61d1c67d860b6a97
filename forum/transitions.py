"""Which moderator actions a comment offers in each state: one table, read by the
comment page, the thread's viewer script and (through the same names) the
services that carry the actions out."""

MODERATE_PERMISSION = "forum.moderate_comment"


def can_moderate(user):
    return bool(user and user.is_authenticated and user.has_perm(MODERATE_PERMISSION))


# state (Comment.moderation_state) -> the actions, in the order they show.
# Each action is a URL name in forum/urls.py and a service in forum/services.py:
# approve -> approve_comment, remove -> remove_comment, restore -> restore_comment.
MODERATOR_ACTIONS = {
    "pending": ("approve", "remove"),
    "published": ("remove",),
    "removed": ("restore",),
    "spam": ("restore",),
    # An author's own deletion is theirs: nobody brings it back.
    "deleted": (),
}
ACTION_LABELS = {"approve": "Approve", "remove": "Remove", "restore": "Restore"}


def moderator_actions(state):
    """(name, label) pairs a moderator may take on a comment in ``state``."""
    return [(name, ACTION_LABELS[name]) for name in MODERATOR_ACTIONS[state]]

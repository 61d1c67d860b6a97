"""What one viewer sees of a thread: per-comment flags the templates read, so
templates stay free of queries and permission logic."""

from django.utils import timezone

from .services import can_moderate


def prepare_thread(comments, user):
    """Mark each comment (already loaded, in tree order) for ``user``.

    Hidden comments stay in the list: a placeholder keeps the tree's shape.
    A pending comment the viewer may not read is left out only when nothing
    hangs below it.
    """
    moderator = can_moderate(user)
    now = timezone.now()
    prepared = list(comments)
    for comment in prepared:
        readable = comment.is_visible_to(user, can_moderate=moderator)
        comment.viewer_can_read = readable
        comment.viewer_is_omitted = not readable and (
            comment.status == comment.Status.PENDING and comment.is_leaf_node()
        )
        comment.viewer_can_edit = comment.is_editable_by(user, now=now)
        comment.viewer_can_delete = (
            user.is_authenticated
            and comment.author_id == user.pk
            and not comment.is_hidden
        )
        comment.viewer_can_moderate = moderator
    return prepared

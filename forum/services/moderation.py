"""Moderators' acts and readers' reports, each carried out as the transition
table (forum/transitions.py) says and recorded in the moderation log."""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from ..models import (
    Comment,
    ModerationAction,
    Report,
)
from ..notify import queue_grew
from ..transitions import (
    ANSWERS_REPORTS,
    FLAG_ACTIONS,
    LOCK_ABOVE,
    TRANSITIONS,
    can_dismiss_reports,
    can_moderate,
    lock_of,
)
from .tree import (
    LOCK_STRUCTURE,
    _advisory_lock,
    _changed_thread,
    _locked_node,
    _locked_or_gone,
    _rerender,
)

# The transitions moderators carry out on many comments at once.
BULK_VERBS = ("approve", "remove", "spam", "restore")

logger = logging.getLogger(__name__)


def _require_moderator(user):
    if not can_moderate(user):
        raise PermissionDenied("Only moderators can do that.")


def _record(*, comment, actor, verb, from_state, to_state, reason="", note=""):
    """Append the act to the moderation log, in the caller's transaction."""
    assert connection.in_atomic_block, "record the act with the change"
    ModerationAction.objects.create(
        comment_id=comment.pk if to_state is not None else None,
        comment_number=comment.pk,
        article_id=comment.article_id,
        actor=actor,
        verb=verb,
        from_state=from_state,
        to_state=to_state or "gone",
        reason=reason,
        note=note,
    )


def _moderate(*, comment, moderator, verb, code=None, note=None):
    """Carry out the moderator transition ``verb`` (forum/transitions.py).

    A conditional UPDATE on the states the transition starts from, under the
    lock replies take: a reply cannot slip under a comment being removed, and a
    decision made on a stale copy changes nothing and says so. ``code`` and
    ``note`` None keep the recorded ones (a restore does not wipe why it was
    removed).
    """
    _require_moderator(moderator)
    _check_reason(verb, code)
    with transaction.atomic():
        node = _locked_or_gone(comment)
        _transition(node, moderator=moderator, verb=verb, code=code, note=note)
        _changed_thread(node.article_id)
    for name in ("status", "moderated_by", "moderated_at", "moderation_code"):
        setattr(comment, name, getattr(node, name))
    comment.moderation_reason = node.moderation_reason
    logger.info("comment %s: %s by %s (%s)", comment.pk, verb, moderator, code or "-")
    return comment


def _check_reason(verb, code):
    if TRANSITIONS[verb].reason_required and not code:
        raise ValidationError({"reason": "Choose a reason for the removal."})


def _transition(node, *, moderator, verb, code=None, note=None):
    """The transition on ``node``, read under its tree's lock (the caller
    holds it, in its transaction); the caller bumps the thread's version."""
    transition = TRANSITIONS[verb]
    changes = {
        "status": transition.target,
        "moderated_by": moderator,
        "moderated_at": timezone.now(),
    }
    if code is not None:
        changes["moderation_code"] = code
    if note is not None:
        changes["moderation_reason"] = note
    if transition.target == Comment.Status.PUBLISHED:
        changes["held_because"] = ""
    else:
        # A pin is for a comment everyone reads.
        changes["pinned_at"] = None
    updated = Comment.objects.filter(pk=node.pk, status__in=transition.sources).update(
        **changes
    )
    if not updated:
        if node.status == Comment.Status.DELETED:
            raise ValidationError(
                "Its author deleted this comment; nobody can bring it back."
            )
        state = Comment.Status(node.status).label.lower()
        target = Comment.Status(transition.target).label.lower()
        raise ValidationError(f"A comment that is {state} cannot become {target}.")
    from_state = node.status
    for name, value in changes.items():
        setattr(node, name, value)
    if verb in ANSWERS_REPORTS:
        # A moderator has decided: open reports are answered.
        Report.objects.filter(comment_id=node.pk, resolved_at__isnull=True).update(
            resolved_at=changes["moderated_at"]
        )
    _record(
        comment=node,
        actor=moderator,
        verb=verb,
        from_state=from_state,
        to_state=transition.target,
        reason=code or "",
        note=note or "",
    )
    _rerender(node)


@dataclass
class BulkResult:
    done: list = field(default_factory=list)  # comment ids
    refused: dict = field(default_factory=dict)  # comment id -> why


def moderate_comments(*, comment_ids, moderator, verb, reason=None, note=""):
    """Carry out ``verb`` (approve, remove, spam, restore) on many comments in
    one transaction: each one the transition table allows changes, the rest
    are left as they were and said why. Trees are locked in ascending order
    (two bulk actions cannot deadlock), each thread's version is bumped once.
    """
    _require_moderator(moderator)
    if verb not in BULK_VERBS:
        raise ValidationError(f"No bulk action {verb!r}.")
    if verb == "remove":
        code, note = _removal_reason(reason, note)
    elif verb == "spam":
        code, note = Comment.RemovalReason.SPAM, (note or "").strip()
    else:
        code, note = None, None
    _check_reason(verb, code)
    result = BulkResult()
    with transaction.atomic():
        trees = dict(
            Comment.objects.filter(pk__in=comment_ids).values_list("pk", "tree_id")
        )
        for missing in set(comment_ids) - set(trees):
            result.refused[missing] = "That comment no longer exists."
        for pk in sorted(trees, key=lambda pk: (trees[pk], pk)):
            try:
                node = _locked_node(pk)
                _transition(node, moderator=moderator, verb=verb, code=code, note=note)
            except Comment.DoesNotExist:
                result.refused[pk] = "That comment no longer exists."
            except ValidationError as error:
                result.refused[pk] = " ".join(error.messages)
            else:
                result.done.append(node)
        for article_id in sorted({node.article_id for node in result.done}):
            _changed_thread(article_id)
    result.done = [node.pk for node in result.done]
    logger.info("%s by %s on %s comments", verb, moderator, len(result.done))
    return result


def _check_flag(verb, node):
    """Raise ValidationError, saying why, unless FLAG_ACTIONS offers ``verb``
    on ``node`` (read under its tree's lock)."""
    action = FLAG_ACTIONS[verb]
    pinned, locked = node.pinned_at is not None, lock_of(node)
    if action.offered(
        state=node.status, top_level=node.level == 0, pinned=pinned, locked=locked
    ):
        return
    if verb == "unlock" and locked == LOCK_ABOVE:
        raise ValidationError(
            "A comment above this one is locked; unlock replies there."
        )
    if verb == "lock" and locked == LOCK_ABOVE:
        raise ValidationError("Replies here are already locked, from above.")
    if verb == "pin" and node.level != 0:
        raise ValidationError("Only a top-level comment can be pinned.")
    if verb == "pin" and node.status not in action.states:
        raise ValidationError("Only a published comment can be pinned.")
    raise ValidationError(
        {
            "pin": "This comment is already pinned.",
            "unpin": "This comment is not pinned.",
            "lock": "Replies here are already locked.",
            "unlock": "Replies here are not locked.",
        }[verb]
    )


def pin_comment(*, comment, moderator, pinned=True):
    """Pin a published top-level comment above the others in every order (or,
    ``pinned=False``, take the pin away)."""
    _require_moderator(moderator)
    with transaction.atomic():
        node = _locked_or_gone(comment)
        _check_flag("pin" if pinned else "unpin", node)
        updated = (
            Comment.objects.filter(pk=node.pk, pinned_at__isnull=pinned)
            .filter(status=Comment.Status.PUBLISHED if pinned else node.status)
            .update(pinned_at=timezone.now() if pinned else None)
        )
        if not updated:
            raise ValidationError(
                "This comment is already pinned." if pinned else "It is not pinned."
            )
        _record(
            comment=node,
            actor=moderator,
            verb="pin" if pinned else "unpin",
            from_state=node.status,
            to_state=node.status,
        )
        _rerender(node)
        _changed_thread(node.article_id)
    comment.refresh_from_db(fields=["pinned_at"])
    return comment


def lock_replies(*, comment, moderator, locked=True, note=""):
    """Close ``comment`` and everything below it to new replies (or,
    ``locked=False``, open them again). Under the tree lock replies take, so
    no reply lands in a subtree once it is locked."""
    _require_moderator(moderator)
    with transaction.atomic():
        node = _locked_or_gone(comment)
        _check_flag("lock" if locked else "unlock", node)
        tree = Comment.objects.filter(tree_id=node.tree_id)
        subtree = tree.filter(lft__gte=node.lft, rght__lte=node.rght)
        subtree.update(replies_locked_at=timezone.now() if locked else None)
        _record(
            comment=node,
            actor=moderator,
            verb="lock" if locked else "unlock",
            from_state=node.status,
            to_state=node.status,
            note=(note or "").strip()[:500],
        )
        for member in subtree.only("pk"):
            _rerender(member)
        _changed_thread(node.article_id)
    comment.refresh_from_db(fields=["replies_locked_at"])
    return comment


def report_comment(*, comment, reporter, reason, note=""):
    """Record ``reporter``'s report of ``comment``; returns True when this
    report hid the comment for review (FORUM_REPORT_THRESHOLD open reports).

    One report per reader and comment; not of one's own comment; only of a
    comment others can read (published, or already hidden for review).
    """
    if not reporter.is_authenticated:
        raise PermissionDenied("Log in to report a comment.")
    if comment.author_id == reporter.pk:
        raise ValidationError("You cannot report your own comment.")
    if reason not in Report.Reason.values:
        raise ValidationError({"reason": "Choose why you report it."})
    note = (note or "").strip()
    if reason == Report.Reason.OTHER and not note:
        raise ValidationError({"note": "Say what is wrong with it."})
    with transaction.atomic():
        node = _locked_or_gone(comment)
        if node.status not in (Comment.Status.PUBLISHED, Comment.Status.PENDING):
            raise ValidationError("This comment is no longer shown.")
        if Report.objects.filter(comment_id=node.pk, reporter=reporter).exists():
            raise ValidationError("You have already reported this comment.")
        queue_grew()
        Report.objects.create(
            comment_id=node.pk, reporter=reporter, reason=reason, note=note
        )
        open_reports = Report.objects.filter(
            comment_id=node.pk, resolved_at__isnull=True
        ).count()
        if node.status != Comment.Status.PUBLISHED or (
            open_reports < settings.FORUM_REPORT_THRESHOLD
        ):
            return False
        hide = TRANSITIONS["hide"]
        Comment.objects.filter(pk=node.pk, status__in=hide.sources).update(
            status=hide.target, pinned_at=None
        )
        _record(
            comment=node,
            actor=None,
            verb="hide",
            from_state=node.status,
            to_state=hide.target,
            note=f"{open_reports} readers' reports",
        )
        _rerender(node)
        _changed_thread(node.article_id)
    logger.info("comment %s hidden for review after %s reports", node.pk, open_reports)
    return True


def _removal_reason(reason, note):
    note = (note or "").strip()
    if reason and reason not in Comment.RemovalReason.values:
        raise ValidationError({"reason": "Choose a reason for the removal."})
    if reason == Comment.RemovalReason.OTHER and not note:
        raise ValidationError({"note": "Say why, for “other”."})
    return reason, note


def dismiss_reports(*, comment, moderator, note=""):
    """Keep a reported, published comment as it is: its open reports are
    answered and the decision recorded. Returns how many were open."""
    _require_moderator(moderator)
    with transaction.atomic():
        node = _locked_or_gone(comment)
        open_reports = Report.objects.filter(
            comment_id=node.pk, resolved_at__isnull=True
        )
        count = open_reports.count()
        if not can_dismiss_reports(state=node.status, open_reports=count):
            raise ValidationError(
                "No open reports to dismiss on a published comment."
                if node.status == Comment.Status.PUBLISHED
                else "Only a published comment's reports are dismissed; "
                "approve or remove it instead."
            )
        open_reports.update(resolved_at=timezone.now())
        _record(
            comment=node,
            actor=moderator,
            verb="dismiss",
            from_state=node.status,
            to_state=node.status,
            note=(note or "").strip()[:500] or f"{count} reports dismissed",
        )
    return count


def approve_comment(*, comment, moderator):
    """Publish a comment that was waiting for moderation."""
    return _moderate(comment=comment, moderator=moderator, verb="approve")


def remove_comment(*, comment, moderator, reason, note=""):
    """Hide a comment, leaving a placeholder that names ``reason``, one of
    Comment.RemovalReason (required; "other" needs a ``note``). The note is
    for moderators only."""
    reason, note = _removal_reason(reason, note)
    return _moderate(
        comment=comment, moderator=moderator, verb="remove", code=reason, note=note
    )


def mark_comment_spam(*, comment, moderator, note=""):
    return _moderate(
        comment=comment,
        moderator=moderator,
        verb="spam",
        code=Comment.RemovalReason.SPAM,
        note=(note or "").strip(),
    )


def restore_comment(*, comment, moderator):
    """Bring a removed or spam comment back (never one its author deleted)."""
    return _moderate(comment=comment, moderator=moderator, verb="restore")


class CommentsClosed(ValidationError):
    """A moderator closed the article's discussion to new comments."""


def close_comments(*, article, moderator, message=""):
    """Lock the article's thread: no new comments or replies, with a message
    where the form was."""
    _require_moderator(moderator)
    with transaction.atomic():
        # Exclusive: every tree write holds it shared, so none is under way.
        _advisory_lock(LOCK_STRUCTURE)
        type(article).objects.filter(pk=article.pk).update(
            comments_closed_at=timezone.now(),
            comments_closed_message=(message or "").strip(),
        )
        _changed_thread(article.pk)
    article.refresh_from_db()


def reopen_comments(*, article, moderator):
    _require_moderator(moderator)
    with transaction.atomic():
        type(article).objects.filter(pk=article.pk).update(
            comments_closed_at=None, comments_closed_message=""
        )
        _changed_thread(article.pk)
    article.refresh_from_db()

"""Moderators' acts and readers' reports, each carried out as the transition
table (forum/transitions.py) says and recorded in the moderation log."""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from ..models import (
    Comment,
    ModerationAction,
    Report,
)
from ..transitions import TRANSITIONS, can_moderate
from .tree import (
    LOCK_STRUCTURE,
    _advisory_lock,
    _changed_thread,
    _locked_or_gone,
    _rerender,
)

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
    transition = TRANSITIONS[verb]
    if transition.reason_required and not code:
        raise ValidationError({"reason": "Choose a reason for the removal."})
    changes = {"status": transition.target, "moderated_by": moderator}
    if code is not None:
        changes["moderation_code"] = code
    if note is not None:
        changes["moderation_reason"] = note
    with transaction.atomic():
        node = _locked_or_gone(comment)
        changes["moderated_at"] = timezone.now()
        updated = Comment.objects.filter(
            pk=comment.pk, status__in=transition.sources
        ).update(**changes)
        if not updated:
            if node.status == Comment.Status.DELETED:
                raise ValidationError(
                    "Its author deleted this comment; nobody can bring it back."
                )
            state = Comment.Status(node.status).label.lower()
            target = Comment.Status(transition.target).label.lower()
            raise ValidationError(f"A comment that is {state} cannot become {target}.")
        for name, value in changes.items():
            setattr(comment, name, value)
        if verb in ("approve", "remove", "spam"):
            # A moderator has decided: open reports are answered.
            Report.objects.filter(
                comment_id=comment.pk, resolved_at__isnull=True
            ).update(resolved_at=changes["moderated_at"])
        _record(
            comment=comment,
            actor=moderator,
            verb=verb,
            from_state=node.status,
            to_state=transition.target,
            reason=code or "",
            note=note or "",
        )
        _rerender(comment)
        _changed_thread(comment.article_id)
    logger.info("comment %s: %s by %s (%s)", comment.pk, verb, moderator, code or "-")
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
            status=hide.target
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


def approve_comment(*, comment, moderator):
    """Publish a comment that was waiting for moderation."""
    return _moderate(comment=comment, moderator=moderator, verb="approve")


def remove_comment(*, comment, moderator, reason, note=""):
    """Hide a comment, leaving a placeholder that names ``reason``, one of
    Comment.RemovalReason (required; "other" needs a ``note``). The note is
    for moderators only."""
    note = (note or "").strip()
    if reason and reason not in Comment.RemovalReason.values:
        raise ValidationError({"reason": "Choose a reason for the removal."})
    if reason == Comment.RemovalReason.OTHER and not note:
        raise ValidationError({"note": "Say why, for “other”."})
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

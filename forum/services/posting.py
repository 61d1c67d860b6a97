"""Readers' writes: post, edit, delete."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from .. import limits
from ..markup import render_comment, without_lone_surrogates
from ..models import (
    Comment,
    CommentRevision,
)
from ..notify import queue_grew
from ..screening import hold_reasons
from ..transitions import TRANSITIONS, allowed, can_moderate
from .moderation import CommentsClosed, _record
from .sanctions import _sanctions_in_force
from .tree import (
    TREE_FIELDS,
    _changed_thread,
    _lock_author,
    _lock_for_tree_write,
    _locked_node,
    _locked_or_gone,
    _rerender,
)

logger = logging.getLogger(__name__)


EDIT_DENIED = (
    "You can edit your own comment only for a short while after posting it "
    f"({settings.FORUM_EDIT_WINDOW_MINUTES} minutes)."
)


DELETE_DENIED = "You can only delete your own comments that are still shown."


DUPLICATE_WINDOW = timedelta(minutes=2)


class RepeatedText(ValidationError):
    """The same text (forum.limits.fingerprint: case, spacing and the
    disguises the screening rules see through aside) from one reader, in more places
    than FORUM_RATE_DUPLICATES allows within its window."""


# The most of an author's newest comments the repeat check reads. At the
# default posting limit (5 a minute) a 10-minute window holds 50; this bounds
# the work when the limits are off.
REPEAT_SCAN = 200


def _clean_body(body):
    # One text from here on for every rule (length, screening, repeats) and
    # for the row: a lone surrogate is U+FFFD in all of them.
    body = without_lone_surrogates(body or "")
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise ValidationError({"body": "Write something before posting."})
    limit = settings.FORUM_COMMENT_MAX_LENGTH
    if len(body) > limit:
        raise ValidationError(
            {
                "body": f"Comments can be at most {limit:,} characters long "
                f"(this one has {len(body):,})."
            }
        )
    if "\x00" in body:
        raise ValidationError({"body": "The text contains a NUL character."})
    return body


def _check_repeats(*, author, body, rate):
    """Raise RepeatedText if ``author`` already posted ``body``, near enough,
    ``rate.count`` times in the last ``rate.seconds``.

    A query on the author's recent comments, not a counter in the cache: it
    counts what was stored (not refused attempts, nor a double click that got
    its first comment back), survives cache eviction and a Redis restart, and
    needs no column. The caller holds the author's lock, so two posts of one
    author cannot both pass the last free place, even into different trees.
    """
    mark = limits.fingerprint(body)
    recent = (
        Comment.objects.filter(
            author=author,
            created_at__gte=timezone.now() - timedelta(seconds=rate.seconds),
        )
        .order_by("-pk")
        .values_list("body", flat=True)[:REPEAT_SCAN]
    )
    # Removed and spam copies count too; an author's deletion erased its text.
    times = sum(1 for text in recent if limits.fingerprint(text) == mark)
    if times >= rate.count:
        raise RepeatedText(
            {
                "body": f"You have posted this text {times} times in the last "
                f"{limits.wait_in_words(rate.seconds)}. Write something new, or "
                "wait a while before posting it again."
            }
        )


def post_comment(
    *,
    article,
    body,
    parent=None,
    author=None,
    author_name="",
    status=None,
    source_key="",
    created_at=None,
):
    """Post a comment on ``article``, as a reply to ``parent`` if given.

    Raises ValidationError when the text is empty or too long, or when the parent
    belongs to another article, is gone, or does not accept replies. The same
    author posting the same text in the same place again within
    DUPLICATE_WINDOW (a double click, a resent form) gets the first comment back
    and nothing is written. A reader posting the same text, near enough, in
    more places than FORUM_RATE_DUPLICATES allows gets RepeatedText.
    """
    body = _clean_body(body)
    if not article.accepts_comments:
        raise CommentsClosed(
            article.comments_closed_message or "This discussion is closed."
        )
    sanctions = _sanctions_in_force(author)
    body_html = render_comment(body)
    held = []
    # An import says what state its comments are in; a reader's comment goes
    # through the pre-moderation rules and the repeat check (moderators' do
    # not: a moderator's notice may well go under many comments).
    from_reader = status is None and not can_moderate(author)
    repeats = limits.parse_rate(settings.FORUM_RATE_DUPLICATES)
    check_repeats = from_reader and author is not None and repeats is not None
    if status is None:
        if from_reader:
            held = hold_reasons(
                author=author,
                body=body,
                body_html=body_html,
                sanctions=sanctions,
                new_comment=True,
            )
        status = Comment.Status.PENDING if held else Comment.Status.PUBLISHED
    comment = Comment(
        article=article,
        author=author,
        author_name="" if author else author_name,
        body=body,
        body_html=body_html,
        status=status,
        held_because="; ".join(held),
        source_key=source_key,
        created_at=created_at or timezone.now(),
    )
    with transaction.atomic():
        if check_repeats:
            _lock_author(author.pk)
        if parent is None:
            _lock_for_tree_write(None)
        else:
            try:
                parent = _locked_node(parent.pk)
            except Comment.DoesNotExist:
                raise ValidationError(
                    {"parent": "The comment you replied to no longer exists."}
                ) from None
            if parent.article_id != article.pk:
                raise ValidationError(
                    {"parent": "You can only reply to comments on this article."}
                )
            if parent.replies_locked_at is not None:
                raise ValidationError(
                    {"parent": "A moderator closed this part of the thread to replies."}
                )
            if not parent.can_accept_replies():
                raise ValidationError(
                    {"parent": "This comment is not open for replies."}
                )
        # Again under the lock a closing takes (the structure lock): a post
        # decided before the discussion closed does not land after.
        if (
            not type(article)
            .objects.filter(pk=article.pk, comments_closed_at__isnull=True)
            .exists()
        ):
            raise CommentsClosed("This discussion is closed.")
        if author is not None:
            # Checked under the tree's lock, so two resent forms cannot both pass.
            duplicate = (
                Comment.objects.filter(
                    article=article,
                    parent=parent,
                    author=author,
                    body=body,
                    # A removed twin is no "your comment is posted".
                    status__in=[Comment.Status.PUBLISHED, Comment.Status.PENDING],
                    created_at__gte=timezone.now() - DUPLICATE_WINDOW,
                )
                .order_by("-pk")
                .first()
            )
            if duplicate is not None:
                return duplicate
        if check_repeats:
            _check_repeats(author=author, body=body, rate=repeats)
        comment.parent = parent
        # The only constraint is on source keys; a reader's comment has none.
        comment.full_clean(
            exclude=[*TREE_FIELDS, "parent"], validate_constraints=bool(source_key)
        )
        comment.save()
        # Just inserted: the instance is the row, with its article and author.
        _rerender(comment, fresh=comment)
        if held:
            _hold(comment, actor=author, from_state="new", reasons=held)
        _changed_thread(article.pk)
    logger.debug("comment %s posted on article %s", comment.pk, article.pk)
    return comment


def edit_comment(*, comment, editor, body):
    """Replace the text of ``comment``: its author, within the edit window,
    while it is published or pending. Under pre-moderation the edit of a
    published comment goes back to review.

    The rule is checked by the UPDATE itself, under the tree lock a removal
    also takes, so an edit decided on a stale copy never lands.
    """
    if not comment.is_editable_by(editor):
        raise PermissionDenied(EDIT_DENIED)
    body = _clean_body(body)
    body_html = render_comment(body)
    held = []
    if not can_moderate(editor):
        held = hold_reasons(
            author=editor,
            body=body,
            body_html=body_html,
            sanctions=_sanctions_in_force(editor),
            new_comment=False,
        )
    now = timezone.now()
    window = timedelta(minutes=settings.FORUM_EDIT_WINDOW_MINUTES)
    changes = {"body": body, "body_html": body_html, "edited_at": now}
    if held:
        changes["held_because"] = "; ".join(held)
    with transaction.atomic():
        node = _locked_or_gone(comment)
        if held and node.status == Comment.Status.PUBLISHED:
            # Readers see nothing of the new text until it is approved.
            changes["status"] = Comment.Status.PENDING
            changes["pinned_at"] = None
        updated = Comment.objects.filter(
            pk=comment.pk,
            author=editor,
            status__in=[Comment.Status.PUBLISHED, Comment.Status.PENDING],
            created_at__gt=now - window,
        ).update(**changes)
        if not updated:
            raise PermissionDenied(EDIT_DENIED)
        # The text it replaced, as read under the lock.
        CommentRevision.objects.create(
            comment_id=node.pk,
            body=node.body,
            body_html=node.body_html,
            written_at=node.edited_at or node.created_at,
        )
        for name, value in changes.items():
            setattr(comment, name, value)
        _rerender(comment)
        if changes.get("status") == Comment.Status.PENDING:
            _hold(comment, actor=editor, from_state=node.status, reasons=held)
        _changed_thread(comment.article_id)
    return comment


def _hold(comment, *, actor, from_state, reasons):
    """Record that the pre-moderation rules held ``comment``, and let the
    moderators know once this commits."""
    queue_grew()
    _record(
        comment=comment,
        actor=actor,
        verb="hold",
        from_state=from_state,
        to_state=Comment.Status.PENDING,
        note="; ".join(reasons)[:500],
    )


def delete_comment(*, comment, user):
    """Delete ``comment`` for its author, for good: a comment without replies
    goes; one with replies stays as a "deleted by its author" placeholder with
    its text erased, so the replies keep their place. Returns True when the
    row itself is gone.

    Only from the states TRANSITIONS["delete"] allows (not after a moderator
    removed it, so the moderator's decision and its evidence stay), checked by
    the write itself under the tree lock.
    """
    if not (user.is_authenticated and comment.author_id == user.pk):
        raise PermissionDenied(DELETE_DENIED)
    deletable = Comment.objects.filter(
        pk=comment.pk, author=user, status__in=TRANSITIONS["delete"].sources
    )
    with transaction.atomic():
        try:
            node = _locked_node(comment.pk)
        except Comment.DoesNotExist:
            return True
        if node.is_leaf_node():
            # mptt's own delete closes the gap; the row was read under the lock
            # every status change takes, so its state is current.
            if node.author_id != user.pk or not allowed("delete", node.status):
                raise PermissionDenied(DELETE_DENIED)
            _record(
                comment=node,
                actor=user,
                verb="delete",
                from_state=node.status,
                to_state=None,
            )
            node.delete()
            _changed_thread(node.article_id)
            return True
        erased = {
            "status": Comment.Status.DELETED,
            "body": "",
            "body_html": "",
            "moderated_by": user,
            "moderated_at": timezone.now(),
            "moderation_reason": "",
            "held_because": "",
            "pinned_at": None,
        }
        if not deletable.update(**erased):
            raise PermissionDenied(DELETE_DENIED)
        # Every stored version of the text goes with it.
        node.revisions.all().delete()
        _record(
            comment=node,
            actor=user,
            verb="delete",
            from_state=node.status,
            to_state=Comment.Status.DELETED,
        )
        for name, value in erased.items():
            setattr(comment, name, value)
        _rerender(comment)
        _changed_thread(node.article_id)
    return False

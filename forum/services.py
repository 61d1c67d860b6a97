"""Every write to comments: posting, editing, deleting, moderating, repairing.

Views, admin actions and commands call these functions; nothing else saves a
Comment. django-mptt does no locking ("it's the client code's responsibility to
ensure that calls to mptt CRUD methods are mutually exclusive"), so each tree
write here takes exactly the locks it needs:

- a new top-level comment takes the *root* lock: mptt gives it
  ``tree_id = MAX(tree_id) + 1``, which two writers must not compute at once;
- a reply or a hard delete takes the lock of its own tree, so writes into one
  thread are serialised and writes into different threads run side by side;
- both first take the *structure* lock in shared mode; a repair takes it
  exclusively, so it never renumbers trees under a writer's feet.

On PostgreSQL these are transaction-scoped advisory locks. SQLite has one writer
at a time: settings.py opens every transaction with BEGIN IMMEDIATE, which takes
the database write lock before the transaction reads anything.

Changes that do not touch the tree (status, text) update only their own columns,
so a stale in-memory instance can never write old lft/rght values back.

Every change that shows re-renders the comment's stored fragments
(forum/fragments.py) and, last in its transaction, bumps the thread's version,
which keys the cached skeletons forum/thread.py reads.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from .caching import forget_skeletons
from .fragments import current_version, render_fragments
from .markup import render_comment
from .models import (
    Comment,
    CommentRevision,
    ModerationAction,
    Report,
    Sanction,
    ThreadState,
)
from .transitions import TRANSITIONS, allowed, can_moderate

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock(key1, key2) namespaces; key2 is the tree id or 0.
LOCK_STRUCTURE = 0x464F0001
LOCK_NEW_ROOT = 0x464F0002
LOCK_TREE = 0x464F0003

EDIT_DENIED = (
    "You can edit your own comment only for a short while after posting it "
    f"({settings.FORUM_EDIT_WINDOW_MINUTES} minutes)."
)
DELETE_DENIED = "You can only delete your own comments that are still shown."
DUPLICATE_WINDOW = timedelta(minutes=2)
# The mptt bookkeeping columns, filled in by mptt when the row is inserted.
TREE_FIELDS = ["lft", "rght", "tree_id", "level"]


def _advisory_lock(namespace, key=0, *, shared=False):
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [namespace, key])


def _lock_for_tree_write(tree_id=None):
    """Take the locks for a write into ``tree_id``, or for a new root if None.

    Precondition: called inside ``transaction.atomic()``; the locks last until
    the outermost transaction ends.
    """
    assert connection.in_atomic_block, "tree locks need a transaction"
    _advisory_lock(LOCK_STRUCTURE, shared=True)
    if tree_id is None:
        _advisory_lock(LOCK_NEW_ROOT)
    else:
        _advisory_lock(LOCK_TREE, tree_id)


def _locked_node(pk):
    """Lock the tree that comment ``pk`` is in and return it fresh from the
    database (its lft/rght may have moved while we waited)."""
    while True:
        tree_id = (
            Comment.objects.filter(pk=pk).values_list("tree_id", flat=True).first()
        )
        if tree_id is None:
            raise Comment.DoesNotExist(pk)
        _lock_for_tree_write(tree_id)
        node = Comment.objects.get(pk=pk)
        if node.tree_id == tree_id:
            return node
        # A repair renumbered the trees between our read and our lock; the lock
        # we hold is harmless, take the right one.


def _update(comment, **fields):
    """Write only ``fields`` (never the tree columns) and keep ``comment`` in step."""
    Comment.objects.filter(pk=comment.pk).update(**fields)
    for name, value in fields.items():
        setattr(comment, name, value)


def _rerender(comment, *, fresh=None):
    """Store ``comment``'s fragments as they are now, from a fresh read of the
    row (the caller has just changed it, inside its transaction), or from
    ``fresh`` when the caller holds the row as written."""
    if fresh is None:
        fresh = Comment.objects.select_related("author", "article").get(pk=comment.pk)
    public, private = render_fragments(
        fresh,
        article_url=fresh.article.get_absolute_url(),
        comments_url=fresh.article.comments_url,
    )
    _update(
        comment,
        fragment=public,
        fragment_private=private,
        fragment_version=current_version(),
    )


def _changed_thread(article_id):
    """Bump the thread's version in the caller's transaction (last, so its row
    lock is held only until the commit); the cached skeletons of the old version
    are dropped once the change is committed, never before and never after a
    rollback."""
    assert connection.in_atomic_block, "bump the version with the change"
    version = ThreadState.objects.bump(article_id)
    transaction.on_commit(lambda: forget_skeletons(article_id, version - 1))


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


class PostingBarred(PermissionDenied):
    """The author is suspended or banned; the message says until when and why."""


def _sanctions_in_force(author):
    """The kinds of sanction in force on ``author``; raises PostingBarred when
    one of them bars posting."""
    if author is None or not author.is_authenticated:
        return set()
    in_force = list(Sanction.objects.in_force().filter(user=author).order_by("-until"))
    for sanction in in_force:
        if sanction.kind == Sanction.Kind.BAN:
            raise PostingBarred(f"You are banned from posting: {sanction.reason}")
        if sanction.kind == Sanction.Kind.SUSPEND:
            until = timezone.localtime(sanction.until).strftime("%-d %B %Y, %H:%M %Z")
            raise PostingBarred(
                f"You are suspended from posting until {until}: {sanction.reason}"
            )
    return {sanction.kind for sanction in in_force}


def check_sanction(*, user, kind, reason, until):
    """Raise ValidationError, by field, when this sanction cannot be made."""
    if kind not in Sanction.Kind.values:
        raise ValidationError({"kind": "Choose a kind of sanction."})
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why: the user is told."})
    if kind == Sanction.Kind.SUSPEND and until is None:
        raise ValidationError({"until": "A suspension needs an end date."})
    if until is not None and until <= timezone.now():
        raise ValidationError({"until": "The end must be in the future."})
    if can_moderate(user):
        raise ValidationError(
            {"user": "Moderators are not sanctioned; take the role away first."}
        )


def sanction_user(*, user, moderator, kind, reason, until=None):
    """Put a sanction on ``user``. A suspension needs an end (``until``); a
    ban, a warning and pre-moderation may have one."""
    _require_moderator(moderator)
    reason = (reason or "").strip()
    check_sanction(user=user, kind=kind, reason=reason, until=until)
    sanction = Sanction(
        user=user, kind=kind, reason=reason, until=until, created_by=moderator
    )
    sanction.full_clean()
    sanction.save()
    logger.info("%s sanctioned %s: %s until %s", moderator, user, kind, until)
    return sanction


def lift_sanction(*, sanction, moderator):
    _require_moderator(moderator)
    Sanction.objects.filter(pk=sanction.pk, lifted_at__isnull=True).update(
        lifted_at=timezone.now()
    )


def take_warnings(*, user):
    """The warnings ``user`` has not seen yet, marked seen: shown once."""
    if not user.is_authenticated:
        return []
    warnings = list(
        Sanction.objects.in_force()
        .filter(user=user, kind=Sanction.Kind.WARN, seen_at__isnull=True)
        .order_by("created_at")
    )
    if warnings:
        Sanction.objects.filter(pk__in=[w.pk for w in warnings]).update(
            seen_at=timezone.now()
        )
    return warnings


def _clean_body(body):
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
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


def _require_moderator(user):
    if not can_moderate(user):
        raise PermissionDenied("Only moderators can do that.")


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
    and nothing is written.
    """
    body = _clean_body(body)
    if not article.accepts_comments:
        raise CommentsClosed(
            article.comments_closed_message or "This discussion is closed."
        )
    sanctions = _sanctions_in_force(author)
    if status is None:
        premoderated = (
            settings.FORUM_PREMODERATION or Sanction.Kind.PREMODERATE in sanctions
        ) and not can_moderate(author)
        status = Comment.Status.PENDING if premoderated else Comment.Status.PUBLISHED
    comment = Comment(
        article=article,
        author=author,
        author_name="" if author else author_name,
        body=body,
        body_html=render_comment(body),
        status=status,
        source_key=source_key,
        created_at=created_at or timezone.now(),
    )
    with transaction.atomic():
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
        comment.parent = parent
        # The only constraint is on source keys; a reader's comment has none.
        comment.full_clean(
            exclude=[*TREE_FIELDS, "parent"], validate_constraints=bool(source_key)
        )
        comment.save()
        # Just inserted: the instance is the row, with its article and author.
        _rerender(comment, fresh=comment)
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
    now = timezone.now()
    window = timedelta(minutes=settings.FORUM_EDIT_WINDOW_MINUTES)
    review = settings.FORUM_PREMODERATION and not can_moderate(editor)
    changes = {"body": body, "body_html": render_comment(body), "edited_at": now}
    with transaction.atomic():
        node = _locked_or_gone(comment)
        if review and node.status == Comment.Status.PUBLISHED:
            changes["status"] = Comment.Status.PENDING
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
        _changed_thread(comment.article_id)
    return comment


def _locked_or_gone(comment):
    try:
        return _locked_node(comment.pk)
    except Comment.DoesNotExist:
        raise ValidationError("That comment no longer exists.") from None


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


def refresh_author_fragments(*, user):
    """Re-render every comment by ``user`` (their display name changed)."""
    with transaction.atomic():
        comments = list(Comment.objects.filter(author=user).only("pk", "article_id"))
        for comment in comments:
            _rerender(comment)
        for article_id in sorted({c.article_id for c in comments}):
            _changed_thread(article_id)
    return len(comments)


def refresh_article_fragments(*, article):
    """Mark every fragment of ``article``'s comments stale (their links carry
    its slug, which changed); pages re-render them as they show them."""
    with transaction.atomic():
        Comment.objects.filter(article=article).update(fragment_version="")
        _changed_thread(article.pk)


def refresh_stale_fragments(*, comment_ids):
    """Re-render the given comments if their fragments were stored by another
    template version; a page calls this for what it is about to show."""
    version = current_version()
    with transaction.atomic():
        stale = list(
            Comment.objects.filter(pk__in=comment_ids)
            .exclude(fragment_version=version)
            .select_related("author", "article")
        )
        for comment in stale:
            public, private = render_fragments(
                comment,
                article_url=comment.article.get_absolute_url(),
                comments_url=comment.article.comments_url,
            )
            # Conditional: a change that re-rendered it meanwhile wins.
            Comment.objects.filter(pk=comment.pk).exclude(
                fragment_version=version
            ).update(
                fragment=public, fragment_private=private, fragment_version=version
            )
            comment.fragment, comment.fragment_private = public, private
    return {c.pk: c for c in stale}


def delete_article(*, article):
    """Delete ``article`` with its whole thread (comments, reports, earlier
    versions; the moderation log keeps its records).

    Takes the structure lock exclusively, as a repair does, so no tree write is
    under way in its trees while they go; each tree belongs to one article, so
    whole trees leave and no other tree needs renumbering.
    """
    with transaction.atomic():
        _advisory_lock(LOCK_STRUCTURE)
        Comment.objects.filter(article=article).delete()
        article.delete()
    logger.info("article %s deleted with its thread", article)


@dataclass(frozen=True)
class TreeProblem:
    tree_id: int
    message: str
    needs_full_rebuild: bool = False


def find_tree_problems():
    """Check every comment tree against its parent links; an empty list is good.

    The expected numbering is a depth-first walk with siblings in their stored
    order, which is what ``Comment.objects.rebuild()`` would write.
    """
    rows = Comment.objects.order_by("tree_id", "lft", "pk").values_list(
        "pk", "parent_id", "tree_id", "lft", "rght", "level", "article_id"
    )
    nodes = {row[0]: row for row in rows}
    children = defaultdict(list)
    roots = defaultdict(list)
    problems = []
    for pk, parent_id, tree_id, *_rest, article_id in nodes.values():
        if parent_id is None:
            roots[tree_id].append(pk)
            continue
        children[parent_id].append(pk)
        parent = nodes[parent_id]
        if parent[2] != tree_id:
            problems.append(
                TreeProblem(
                    tree_id,
                    f"comment {pk} is in tree {tree_id}, its parent in {parent[2]}",
                    True,
                )
            )
        if parent[6] != article_id:
            problems.append(
                TreeProblem(
                    tree_id, f"comment {pk} is on another article than its parent", True
                )
            )
    for tree_id, tree_roots in roots.items():
        if len(tree_roots) > 1:
            problems.append(
                TreeProblem(
                    tree_id,
                    f"tree {tree_id} has {len(tree_roots)} top-level comments "
                    f"({', '.join(map(str, tree_roots))})",
                    True,
                )
            )
    seen = set()
    for tree_id, tree_roots in roots.items():
        wrong = []
        for root in tree_roots:
            counter = 1
            stack = [(root, 0, False)]
            expected = {}
            while stack:
                pk, level, closing = stack.pop()
                if closing:
                    expected[pk] = (expected[pk][0], counter, level)
                    counter += 1
                    continue
                seen.add(pk)
                expected[pk] = (counter, None, level)
                counter += 1
                stack.append((pk, level, True))
                stack.extend(
                    (child, level + 1, False) for child in reversed(children[pk])
                )
            wrong += [pk for pk, want in expected.items() if nodes[pk][3:6] != want]
        if wrong:
            problems.append(
                TreeProblem(
                    tree_id,
                    f"tree {tree_id}: lft/rght/level wrong on {len(wrong)} comments "
                    f"(first: {wrong[0]})",
                )
            )
    unreachable = sorted(set(nodes) - seen)
    if unreachable:
        problems.append(
            TreeProblem(
                nodes[unreachable[0]][2],
                f"{len(unreachable)} comments cannot be reached from a top-level "
                f"comment (first: {unreachable[0]})",
                True,
            )
        )
    return problems


def repair_comment_trees():
    """Renumber broken trees from their parent links; returns what was found.

    Takes the structure lock exclusively: every other tree write waits.
    """
    with transaction.atomic():
        _advisory_lock(LOCK_STRUCTURE)
        problems = find_tree_problems()
        if any(p.needs_full_rebuild for p in problems):
            Comment.objects.rebuild()
        else:
            for tree_id in sorted({p.tree_id for p in problems}):
                Comment.objects.partial_rebuild(tree_id)
        if problems:
            # Tree ids and sizes may have changed under the cached skeletons.
            articles = Comment.objects.order_by().values_list("article_id", flat=True)
            for article_id in sorted(set(articles.distinct())):
                _changed_thread(article_id)
    if problems:
        logger.warning("repaired comment trees: %s", [p.message for p in problems])
    return problems

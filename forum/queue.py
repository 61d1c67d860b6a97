"""The moderators' queue, read side: what waits, with what a moderator needs
to decide on it (where it sits, what readers reported, the author's record)."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q

from .models import Comment, Report
from .transitions import actions_for, can_dismiss_reports

SECTION_SIZE = 50


@dataclass
class AuthorRecord:
    comments: int = 0
    hidden: int = 0
    reported: int = 0


def _reported():
    """Comments readers reported that no moderator has decided on yet."""
    # A subquery: a join's "resolved_at IS NULL" is true of comments with no
    # report at all, and brought every published comment here.
    return Comment.objects.filter(
        status__in=[Comment.Status.PUBLISHED, Comment.Status.PENDING],
        pk__in=Report.objects.filter(resolved_at__isnull=True).values("comment_id"),
    )


def waiting_count():
    """What waits for a moderator's decision: held or hidden comments, and
    published ones with open reports."""
    return (
        Comment.objects.filter(
            Q(status=Comment.Status.PENDING)
            | Q(
                status=Comment.Status.PUBLISHED,
                pk__in=Report.objects.filter(resolved_at__isnull=True).values(
                    "comment_id"
                ),
            )
        )
        .order_by()
        .count()
    )


def _with_context(queryset):
    return queryset.select_related("article", "author", "parent").prefetch_related(
        Prefetch(
            "reports",
            queryset=Report.objects.filter(resolved_at__isnull=True),
            to_attr="open_reports",
        )
    )


def sections():
    """(title, comments) for each part of the queue; each comment carries
    ``open_reports``, ``ancestors`` (above its parent, up to the top),
    ``record`` (its author's), ``replies`` (the size of its subtree) and
    ``actions`` (the moderator actions the transition table allows it)."""
    reported = _reported()
    parts = [
        (
            "Held for approval",
            Comment.objects.awaiting_moderation()
            .exclude(pk__in=reported.values("pk"))
            .order_by("created_at", "pk"),
        ),
        (
            "Reported by readers",
            reported.annotate(
                open_count=Count("reports", filter=Q(reports__resolved_at__isnull=True))
            ).order_by("-open_count", "created_at", "pk"),
        ),
        (
            "Recently removed",
            Comment.objects.filter(status=Comment.Status.REMOVED).order_by(
                "-moderated_at", "-pk"
            ),
        ),
        (
            "Spam",
            Comment.objects.filter(status=Comment.Status.SPAM).order_by(
                "-moderated_at", "-pk"
            ),
        ),
    ]
    parts = [(title, list(_with_context(qs)[:SECTION_SIZE])) for title, qs in parts]
    shown = [c for _, comments in parts for c in comments]
    records = author_records({c.author_id for c in shown if c.author_id})
    ancestors = _ancestors(shown)
    for comment in shown:
        comment.record = records.get(comment.author_id)
        comment.actions = actions_for(comment)
        if can_dismiss_reports(
            state=comment.status, open_reports=len(comment.open_reports)
        ):
            comment.actions.insert(0, ("dismiss", "Keep it (dismiss the reports)"))
        comment.replies = (comment.rght - comment.lft - 1) // 2
        comment.ancestors = ancestors.get(comment.pk, [])
    return parts


def _ancestors(comments):
    """comment id -> the comments above its parent, top first; one query."""
    deep = [c for c in comments if c.level > 1]
    if not deep:
        return {}
    condition = Q()
    for c in deep:
        condition |= Q(tree_id=c.tree_id, lft__lt=c.parent.lft, rght__gt=c.parent.rght)
    above = list(
        Comment.objects.filter(condition)
        .select_related("author")
        .order_by("tree_id", "lft")
    )
    return {
        c.pk: [
            a
            for a in above
            if a.tree_id == c.tree_id
            and a.lft < c.parent.lft
            and a.rght > c.parent.rght
        ]
        for c in deep
    }


def author_records(author_ids):
    """author id -> AuthorRecord, in two grouped queries."""
    records = {pk: AuthorRecord() for pk in author_ids}
    if not records:
        return records
    hidden = Q(status__in=[Comment.Status.REMOVED, Comment.Status.SPAM])
    for author_id, total, removed in (
        Comment.objects.filter(author_id__in=records)
        .order_by()
        .values_list("author_id")
        .annotate(total=Count("pk"), hidden=Count("pk", filter=hidden))
    ):
        records[author_id].comments = total
        records[author_id].hidden = removed
    for author_id, reports in (
        Report.objects.filter(comment__author_id__in=records)
        .order_by()
        .values_list("comment__author_id")
        .annotate(reports=Count("pk"))
    ):
        records[author_id].reported = reports
    return records

"""The moderators' queue, read side: what waits, with what a moderator needs
to decide on it (where it sits, what readers reported, the author's record)."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q

from .models import Comment, Report
from .transitions import actions_for

SECTION_SIZE = 50


@dataclass
class AuthorRecord:
    comments: int = 0
    hidden: int = 0
    reported: int = 0


def waiting_count():
    return Comment.objects.awaiting_moderation().count()


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
    ``open_reports``, ``record`` (its author's) and ``actions`` (the moderator
    actions the transition table allows it)."""
    parts = [
        (
            "Waiting: held for approval or hidden by readers' reports",
            Comment.objects.awaiting_moderation().order_by("created_at", "pk"),
        ),
        (
            "Recently removed or marked as spam",
            Comment.objects.hidden_by_moderators().order_by("-moderated_at", "-pk"),
        ),
    ]
    parts = [(title, list(_with_context(qs)[:SECTION_SIZE])) for title, qs in parts]
    records = _author_records(
        {c.author_id for _, comments in parts for c in comments if c.author_id}
    )
    for _, comments in parts:
        for comment in comments:
            comment.record = records.get(comment.author_id)
            comment.actions = actions_for(comment)
            comment.replies = (comment.rght - comment.lft - 1) // 2
    return parts


def _author_records(author_ids):
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

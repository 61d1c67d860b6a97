"""Moderators hear about their queue by email: at most one message every
FORUM_QUEUE_EMAIL_MINUTES, sent as a background task (Django's tasks API, the
django-tasks backport) after the change that filled the queue commits; never
inside a request.

One row (QueueMail) remembers when the last message went out and whether the
next one is already scheduled, so any number of app processes and workers
schedule one message per interval between them.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from .models import Comment, ModerationAction, QueueMail, Report
from .queue import waiting_count

logger = logging.getLogger(__name__)

# What puts a comment in the waiting part of the queue (forum/services/).
ENTERING_VERBS = ("hold", "hide")


def queue_grew():
    """Call inside the transaction that puts something in the queue, before
    it writes it: once it commits, the next email is scheduled (if it is not
    already).

    It takes the QueueMail row's lock first, as the email task does, so an
    email being put together either finishes before this writes anything (and
    the entry, stamped later, goes in the next one) or waits for this to commit
    and lists it: no entry falls between two emails.
    """
    assert connection.in_atomic_block, "call it in the writing transaction"
    _locked_state()
    transaction.on_commit(_schedule)


def _interval():
    return timedelta(minutes=settings.FORUM_QUEUE_EMAIL_MINUTES)


def _locked_state():
    """The QueueMail row, locked until the transaction ends."""
    try:
        return QueueMail.objects.select_for_update().get(pk=1)
    except QueueMail.DoesNotExist:
        try:
            with transaction.atomic():
                QueueMail.objects.create(pk=1)
        except IntegrityError:
            pass  # another process made it first
        return QueueMail.objects.select_for_update().get(pk=1)


def _schedule():
    now = timezone.now()
    backend = send_queue_email.get_backend()
    with transaction.atomic():
        state = _locked_state()
        # One is on its way (a lost one, a whole interval late, is replaced).
        if state.scheduled_for is not None and state.scheduled_for > now - _interval():
            return
        due = now
        if state.last_sent_at is not None:
            due = max(now, state.last_sent_at + _interval())
        if not backend.supports_defer:
            # The immediate backend (development, tests) cannot wait: send now.
            due = now
        state.scheduled_for = due
        state.save(update_fields=["scheduled_for"])
    if due > now:
        send_queue_email.using(run_after=due).enqueue()
    else:
        send_queue_email.enqueue()


def moderators_to_email():
    """Active users who may moderate and have an email address."""
    permission = Q(
        user_permissions__codename="moderate_comment",
        user_permissions__content_type__app_label="forum",
    ) | Q(
        groups__permissions__codename="moderate_comment",
        groups__permissions__content_type__app_label="forum",
    )
    return list(
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(email="")
        .filter(permission | Q(is_superuser=True))
        .distinct()
        .order_by("pk")
        .values_list("email", flat=True)
    )


def _message(*, since, held, reports, waiting):
    lines = []
    if held:
        lines.append(
            f"{len(held)} comment{'s now wait' if len(held) != 1 else ' now waits'}:"
        )
        for action in held[:20]:
            comment = action.comment
            where = comment.article.title if comment else "(gone)"
            who = comment.display_name if comment else "?"
            lines.append(f"  - {who} on “{where}”: {action.note or action.verb}")
        if len(held) > 20:
            lines.append(f"  ... and {len(held) - 20} more")
    if reports:
        lines.append(f"{reports} new report{'s' * (reports != 1)} from readers.")
    lines.append("")
    lines.append(f"In the queue now: {waiting}.")
    lines.append(settings.FORUM_SITE_URL + reverse("moderation_queue"))
    if since:
        lines.append("")
        lines.append(f"(Since the last message, {since:%d %b %Y %H:%M %Z}.)")
    return "\n".join(lines)


@task()
def send_queue_email():
    """Tell moderators what entered the queue since the last message."""
    with transaction.atomic():
        state = _locked_state()
        now = timezone.now()
        since = state.last_sent_at
        held = ModerationAction.objects.filter(verb__in=ENTERING_VERBS)
        reports = Report.objects.all()
        if since is not None:
            held = held.filter(created_at__gt=since)
            reports = reports.filter(created_at__gt=since)
        held = list(
            held.filter(comment__status=Comment.Status.PENDING)
            .select_related("comment__article", "comment__author")
            .order_by("created_at", "pk")
        )
        reports = reports.count()
        recipients = moderators_to_email()
        state.scheduled_for = None
        if not (held or reports) or not recipients:
            # Nothing went out: what is new stays new for the next message.
            state.save(update_fields=["scheduled_for"])
            return 0
        state.last_sent_at = now
        state.save(update_fields=["last_sent_at", "scheduled_for"])
        # Sent while the row is locked: if the mail server refuses, nothing is
        # marked sent and the task fails (the worker records why).
        subject = f"[Moderation] {len(held) + reports} new in the queue"
        body = _message(
            since=since, held=held, reports=reports, waiting=waiting_count()
        )
        # One message each: moderators do not see each other's addresses.
        send_mass_mail([(subject, body, None, [to]) for to in recipients])
    logger.info("queue email to %s moderators", len(recipients))
    return len(recipients)

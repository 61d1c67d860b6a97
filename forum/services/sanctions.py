"""Sanctions on users: warnings, suspensions, bans, always pre-moderate."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from ..models import (
    Sanction,
)
from ..transitions import can_moderate
from .moderation import _require_moderator

logger = logging.getLogger(__name__)


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

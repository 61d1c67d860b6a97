"""What every page shows a moderator: how many comments wait for them."""

from django.utils.functional import SimpleLazyObject

from .queue import waiting_count
from .transitions import can_moderate


def moderation(request):
    user = getattr(request, "user", None)
    if not can_moderate(user):
        return {}
    # Counted only on pages that show it.
    return {"moderation_waiting": SimpleLazyObject(waiting_count)}

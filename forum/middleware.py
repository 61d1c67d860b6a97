"""Shows a user the warnings moderators gave them, once, on their next visit."""

import time

from django.contrib import messages

from . import services

# Look for new warnings at most this often per session, not on every request.
CHECK_EVERY_SECONDS = 600
SESSION_KEY = "forum_warnings_checked_at"


class WarningsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            if now - request.session.get(SESSION_KEY, 0) > CHECK_EVERY_SECONDS:
                request.session[SESSION_KEY] = now
                for warning in services.take_warnings(user=user):
                    messages.warning(
                        request, f"A moderator warns you: {warning.reason}"
                    )
        return self.get_response(request)

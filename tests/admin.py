"""Run the comment admin's changelist actions the way the admin page does."""

from django.urls import reverse


def run_comment_action(client, action, comments, reason="", note=""):
    """POST ``action`` on ``comments`` (instances or ids) to the changelist,
    with the Reason and Note boxes filled in, and follow the redirect."""
    return client.post(
        reverse("admin:forum_comment_changelist"),
        {
            "action": action,
            "_selected_action": [getattr(c, "pk", c) for c in comments],
            "index": 0,
            "select_across": 0,
            "reason": reason,
            "note": note,
        },
        follow=True,
    )


def messages_of(response):
    return [str(m) for m in response.context["messages"]]

"""Readers' reports: forum.services.report_comment and its page."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from forum import services
from forum.models import Comment, ModerationAction, Report
from tests.factories import CommentFactory, UserFactory

pytestmark = pytest.mark.django_db


def _report_url(comment):
    return reverse(
        "forum:comment_report", kwargs={"slug": comment.article.slug, "pk": comment.pk}
    )


def test_a_reader_reports_a_comment_once(comment, user):
    assert services.report_comment(comment=comment, reporter=user, reason="spam") is (
        False
    )

    with pytest.raises(ValidationError, match="already reported"):
        services.report_comment(comment=comment, reporter=user, reason="abuse")
    assert Report.objects.filter(comment=comment).count() == 1


def test_enough_reports_hide_the_comment_for_review_and_log_it(settings, comment):
    settings.FORUM_REPORT_THRESHOLD = 3
    readers = [UserFactory() for _ in range(3)]

    results = [
        services.report_comment(comment=comment, reporter=reader, reason="abuse")
        for reader in readers
    ]

    comment.refresh_from_db()
    assert results == [False, False, True]
    assert comment.status == Comment.Status.PENDING
    assert "Comment awaiting moderation." in comment.fragment
    act = ModerationAction.objects.get()
    assert (act.verb, act.from_state, act.to_state, act.actor) == (
        "hide",
        "published",
        "pending",
        None,
    )


def test_a_moderators_decision_answers_the_open_reports(settings, comment, moderator):
    settings.FORUM_REPORT_THRESHOLD = 2
    for _ in range(2):
        services.report_comment(comment=comment, reporter=UserFactory(), reason="spam")

    services.approve_comment(comment=comment, moderator=moderator)
    # One new report after the decision does not hide it again on its own.
    services.report_comment(comment=comment, reporter=UserFactory(), reason="spam")

    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert Report.objects.filter(resolved_at__isnull=True).count() == 1


def test_reporting_ones_own_comment_is_refused(comment):
    with pytest.raises(ValidationError, match="your own"):
        services.report_comment(comment=comment, reporter=comment.author, reason="spam")


def test_something_else_needs_a_note(comment, user):
    with pytest.raises(ValidationError) as refused:
        services.report_comment(comment=comment, reporter=user, reason="other")

    assert "note" in refused.value.message_dict


def test_a_removed_comment_cannot_be_reported(comment, user, moderator):
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="Rude"
    )

    with pytest.raises(ValidationError, match="no longer shown"):
        services.report_comment(comment=comment, reporter=user, reason="spam")


def test_report_page_reports_and_says_what_happens(client, comment, user):
    client.force_login(user)

    page = client.get(_report_url(comment))
    response = client.post(_report_url(comment), {"reason": "misinformation"})

    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == comment.get_thread_url()
    thread = client.get(response["Location"]).content.decode()
    assert "moderators will review the comment" in thread
    assert Report.objects.get().reason == "misinformation"


def test_report_page_without_a_reason_says_what_is_missing(client, comment, user):
    client.force_login(user)

    response = client.post(_report_url(comment), {})

    assert response.status_code == 400
    assert "Choose why you report it." in response.content.decode()
    assert not Report.objects.exists()


def test_reporting_needs_an_account(client, comment):
    response = client.post(_report_url(comment), {"reason": "spam"})

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert not Report.objects.exists()


def test_every_published_comment_offers_a_report_link(client, article):
    comment = CommentFactory(article=article)

    content = client.get(article.get_absolute_url()).content.decode()

    assert f'href="{_report_url(comment)}" rel="nofollow">Report' in content


def test_moderators_see_the_reports_in_the_admin(client, comment, user, moderator):
    services.report_comment(
        comment=comment, reporter=user, reason="other", note="Doxxing a neighbour"
    )
    client.force_login(moderator)

    page = client.get(reverse("admin:forum_report_changelist"))

    assert page.status_code == 200
    assert "Doxxing a neighbour" in page.content.decode()


def test_the_report_that_hides_a_reply_leads_back_to_its_parent(
    client, settings, comment, user
):
    settings.FORUM_REPORT_THRESHOLD = 2
    reply = CommentFactory(parent=comment)
    services.report_comment(comment=reply, reporter=UserFactory(), reason="spam")
    client.force_login(user)

    response = client.post(_report_url(reply), {"reason": "spam"})

    # The hidden reply is gone from the thread for readers; its own page is a
    # 404 for them.
    assert response.status_code == 302
    assert response["Location"] == comment.get_thread_url()
    assert client.get(response["Location"]).status_code == 200


def test_a_reporter_sees_that_the_comment_is_under_review(
    client, comment, user, moderator
):
    services.report_comment(comment=comment, reporter=user, reason="off_topic")
    client.force_login(user)

    page = client.get(_report_url(comment)).content.decode()

    assert "You reported this comment (off-topic)" in page
    assert "It is under review." in page
    assert 'name="reason"' not in page
    services.remove_comment(comment=comment, moderator=moderator, reason="off_topic")
    # Removed: the page still answers the reporter, with the outcome.
    page = client.get(_report_url(comment)).content.decode()
    assert "A moderator has decided on it." in page


def test_a_moderator_keeps_a_reported_comment_and_dismisses_its_reports(
    client, comment, user, other_user, moderator
):
    """A reported comment that is fine: without a way to answer its reports it
    would wait in the queue for ever."""
    for reporter in (user, other_user):
        services.report_comment(comment=comment, reporter=reporter, reason="spam")
    client.force_login(moderator)
    url = reverse(
        "forum:comment_dismiss", kwargs={"slug": comment.article.slug, "pk": comment.pk}
    )
    queue = client.get("/moderation/").content.decode()
    assert f'href="{url}"' in queue
    assert f'href="{url}"' in client.get(comment.get_absolute_url()).content.decode()

    response = client.post(url)

    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert not Report.objects.filter(comment=comment, resolved_at__isnull=True)
    act = ModerationAction.objects.get(comment_number=comment.pk, verb="dismiss")
    assert (act.actor, act.from_state, act.to_state) == (
        moderator,
        "published",
        "published",
    )
    assert act.note == "2 reports dismissed"
    assert f'href="{url}"' not in client.get("/moderation/").content.decode()
    # Nothing left to dismiss: refused, and said why.
    again = client.post(url)
    assert again.status_code == 400
    assert "No open reports to dismiss" in again.content.decode()


def test_readers_cannot_dismiss_reports(client, comment, user, other_user):
    services.report_comment(comment=comment, reporter=user, reason="spam")
    client.force_login(other_user)
    url = reverse(
        "forum:comment_dismiss", kwargs={"slug": comment.article.slug, "pk": comment.pk}
    )

    assert client.post(url).status_code == 403
    assert Report.objects.filter(comment=comment, resolved_at__isnull=True).exists()

"""Moderation in a real browser: readers' reports hide a comment until a
moderator approves it from the queue, with every step in the moderation log;
and a moderator pins one comment and locks replies under another from the
thread."""

import re

import pytest
from playwright.sync_api import expect

from forum.models import Comment, ModerationAction, Report
from tests.factories import PASSWORD, ArticleFactory, CommentFactory, UserFactory

pytestmark = pytest.mark.e2e

PLACEHOLDER = "Comment awaiting moderation."
# One reason each, as a reader picks it from the report page's list.
REASONS = ["Spam", "Abuse or harassment", "Off-topic"]


def _log_in(page, user):
    """Log ``user`` in through the site's own login form, from the current page."""
    page.locator(".site-nav").get_by_role("link", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".site-nav__user")).to_have_text(user.username)


def _comment(page, comment):
    """The comment itself (not its replies) in the thread."""
    return page.locator(f"#{comment.anchor} > article.comment")


def _report(page, comment, *, reason):
    _comment(page, comment).get_by_role("link", name=re.compile(r"^Report\b")).click()
    expect(page).to_have_url(re.compile(rf"/comments/{comment.pk}/report/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Report this comment")
    page.get_by_role("radio", name=reason, exact=True).check()
    page.get_by_role("button", name="Send report").click()
    expect(page).to_have_url(re.compile(rf"\?comment={comment.pk}#{comment.anchor}$"))


def test_reported_comment_is_hidden_until_a_moderator_approves_it_from_the_queue(
    new_context, live_server, moderator, settings, artifacts
):
    settings.FORUM_REPORT_THRESHOLD = 3
    article = ArticleFactory(title="On slow reading")
    text = "Reading slowly is a luxury most people cannot afford, and say so."
    comment = CommentFactory(article=article, body=text)
    # A hidden comment keeps its place for the reply below it; a hidden leaf
    # is left out of other readers' thread (forum.thread.Viewer).
    reply = CommentFactory(parent=comment, body="Some of us read on the bus.")
    neighbour = CommentFactory(article=article, body="A comment nobody reports.")
    readers = UserFactory.create_batch(3)

    for number, (reader, reason) in enumerate(zip(readers, REASONS, strict=True), 1):
        page = new_context().new_page()
        page.goto(article.get_absolute_url())
        _log_in(page, reader)
        _report(page, comment, reason=reason)
        if number < settings.FORUM_REPORT_THRESHOLD:
            expect(page.get_by_role("status")).to_have_text(
                "Thank you: moderators will review the comment."
            )
            expect(_comment(page, comment)).to_contain_text(text)
        else:
            expect(page.get_by_role("status")).to_have_text(
                "Thank you: the comment is hidden until a moderator reviews it."
            )
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PENDING
    assert Report.objects.filter(comment=comment, resolved_at__isnull=True).count() == 3

    anonymous = new_context().new_page()
    anonymous.goto(article.get_absolute_url())
    expect(_comment(anonymous, comment)).to_have_text(
        re.compile(rf"^\s*{re.escape(PLACEHOLDER)}")
    )
    expect(_comment(anonymous, reply)).to_contain_text(reply.body)
    expect(
        anonymous.locator(f"#{comment.anchor} > details > ol.replies > #{reply.anchor}")
    ).to_have_count(1)
    expect(_comment(anonymous, neighbour)).to_contain_text(neighbour.body)
    expect(anonymous.locator("body")).not_to_contain_text(text)

    page = new_context().new_page()
    page.goto("/")
    _log_in(page, moderator)
    page.locator(".site-nav").get_by_role("link", name=re.compile(r"^Queue")).click()
    expect(page).to_have_url(f"{live_server.url}/moderation/")
    reported = page.get_by_role("region", name=re.compile(r"^Reported by readers"))
    card = reported.get_by_role(
        "article", name=f"Awaiting moderation comment by {comment.display_name}"
    )
    expect(card).to_have_count(1)
    expect(card).to_contain_text(text)
    expect(card).to_contain_text("hidden by readers' reports")
    reports = card.get_by_role("list", name="3 open reports:").get_by_role("listitem")
    expect(reports).to_have_count(3)
    for reason in REASONS:
        expect(
            reports.filter(has_text=re.compile(rf"^{re.escape(reason)}$"))
        ).to_have_count(1)
    page.screenshot(path=artifacts / "queue.png", full_page=True)

    card.get_by_role("link", name="Approve", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/comments/{comment.pk}/approve/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Approve this comment?")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("The comment is approved.")
    expect(_comment(page, comment)).to_contain_text(text)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert not Report.objects.filter(comment=comment, resolved_at__isnull=True).exists()

    anonymous.reload()
    expect(_comment(anonymous, comment)).to_contain_text(text)
    expect(anonymous.locator("body")).not_to_contain_text(PLACEHOLDER)
    _comment(anonymous, comment).scroll_into_view_if_needed()
    anonymous.screenshot(path=artifacts / "queue-thread-after-approval.png")

    # The queue has nothing left to decide.
    page.goto("/moderation/")
    expect(
        page.get_by_role("region", name=re.compile(r"^Reported by readers"))
    ).to_contain_text("Nothing here.")

    page.goto(f"/admin/forum/moderationaction/?comment_number={comment.pk}")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    # Newest first: the moderator's approval, then the hiding by reports.
    approve, hide = rows.nth(0), rows.nth(1)
    expect(approve.locator(".field-verb")).to_have_text("approve")
    expect(approve.locator(".field-actor")).to_have_text(moderator.username)
    expect(approve.locator(".field-from_state")).to_have_text("pending")
    expect(approve.locator(".field-to_state")).to_have_text("published")
    expect(hide.locator(".field-verb")).to_have_text("hide")
    expect(hide.locator(".field-actor")).to_have_text("-")
    expect(hide.locator(".field-from_state")).to_have_text("published")
    expect(hide.locator(".field-to_state")).to_have_text("pending")
    expect(hide.locator(".field-note")).to_have_text("3 readers' reports")
    page.screenshot(path=artifacts / "queue-moderation-log.png", full_page=True)
    assert list(
        ModerationAction.objects.filter(comment_number=comment.pk)
        .order_by("created_at", "pk")
        .values_list("verb", flat=True)
    ) == ["hide", "approve"]


def test_moderator_pins_one_comment_and_locks_replies_under_another(
    new_context, moderator, user, artifacts
):
    article = ArticleFactory(title="On letters")
    first = CommentFactory(article=article, body="The first comment, still open.")
    locked = CommentFactory(article=article, body="A comment that drew a quarrel.")
    quarrel = CommentFactory(parent=locked, body="And a reply in the quarrel.")
    pinned = CommentFactory(article=article, body="The editors' favourite answer.")

    page = new_context().new_page()
    page.goto(article.get_absolute_url())
    _log_in(page, moderator)

    # The viewer script adds the moderator's links to each comment's footer.
    _comment(page, pinned).get_by_role("link", name="Pin", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/comments/{pinned.pk}/pin/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Pin this comment at the top of the thread?"
    )
    page.get_by_role("button", name="Pin", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(
        "The comment is pinned at the top of the thread."
    )

    _comment(page, locked).get_by_role("link", name="Lock replies").click()
    expect(page).to_have_url(re.compile(rf"/comments/{locked.pk}/lock/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Lock replies to this comment and every reply below it?"
    )
    page.get_by_role("button", name="Lock replies").click()
    expect(page.get_by_role("status")).to_have_text(
        "Replies are locked here and below."
    )

    reader = new_context().new_page()
    reader.goto(article.get_absolute_url())
    _log_in(reader, user)
    top_level = reader.locator("ol.thread > li")
    expect(top_level).to_have_count(3)
    expect(top_level.first).to_have_id(pinned.anchor)
    expect(top_level.nth(1)).to_have_id(first.anchor)
    expect(top_level.nth(2)).to_have_id(locked.anchor)
    expect(
        _comment(reader, pinned)
        .locator(".comment__meta")
        .get_by_text("Pinned by the moderators")
    ).to_be_visible()

    for comment in (locked, quarrel):
        footer = _comment(reader, comment).locator(".comment__actions")
        expect(footer.get_by_role("link", name=re.compile(r"^Reply\b"))).to_have_count(
            0
        )
        expect(footer).to_contain_text("Replies locked by the moderators")
    # Elsewhere replies stay open.
    for comment in (pinned, first):
        expect(
            _comment(reader, comment).get_by_role("link", name=re.compile(r"^Reply\b"))
        ).to_have_count(1)
    reader.screenshot(path=artifacts / "queue-pinned-and-locked.png", full_page=True)

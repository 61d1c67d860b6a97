"""The comment admin in a real browser at 1440 px: the list fits its box (where
a comment sits is readable without sideways scrolling), newest first, with
the count of what waits in the header."""

import pytest
from playwright.sync_api import expect

from forum import services
from forum.models import Comment
from tests.factories import PASSWORD, CommentFactory

WIDE = {"width": 1440, "height": 900}

pytestmark = pytest.mark.django_db(transaction=True)


def _log_in_to_admin(page, user):
    page.goto("/admin/login/?next=/admin/forum/comment/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_comment_list_fits_1440px_and_shows_where_each_comment_sits(
    new_context, seed_article, moderator, user, artifacts
):
    top = CommentFactory(
        article=seed_article,
        author=user,
        body="A long top-level comment " + "with many words " * 30,
    )
    reply = CommentFactory(parent=top, body="A reply that waits.", author=user)
    services.post_comment(
        article=seed_article,
        parent=top,
        author=user,
        body="Held for review.",
        status=Comment.Status.PENDING,
    )
    page = new_context(viewport=WIDE).new_page()
    _log_in_to_admin(page, moderator)

    table = page.locator("#result_list")
    expect(table).to_be_visible()
    box = page.locator("#changelist .results")
    overflow = box.evaluate("el => el.scrollWidth - el.clientWidth")
    page_overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    page.screenshot(path=artifacts / "admin-comments-1440.png", full_page=True)

    assert overflow <= 0, f"the list is {overflow}px wider than its box"
    assert page_overflow <= 0, f"the page scrolls sideways by {page_overflow}px"
    # Newest first: the held reply, then the reply, then the top comment.
    first_rows = table.locator("tbody tr").all_inner_texts()[:3]
    assert "Held for review." in first_rows[0]
    assert reply.body in first_rows[1]
    # Where it sits: the parent's excerpt and a link into the thread.
    row = table.locator("tbody tr", has_text=reply.body)
    expect(row).to_contain_text(f"#{top.pk}")
    expect(row.get_by_role("link", name="view")).to_have_attribute(
        "href", reply.get_thread_url()
    )
    # What waits, in the header.
    expect(
        page.locator("#header").get_by_role("link", name="1 waiting for moderation")
    ).to_have_attribute("href", "/moderation/")

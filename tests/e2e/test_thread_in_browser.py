"""The seed article's thread in a real browser: reading the nesting, replying in
place and without JavaScript, moderating in the admin, and a phone-width view."""

import re

import pytest
from playwright.sync_api import expect

from forum.models import Comment
from tests.factories import PASSWORD, CommentFactory

pytestmark = pytest.mark.e2e

REMOVE_ACTION = "Remove selected comments (give a reason)"
# Readers are told the category the moderator chose, never the note.
PLACEHOLDER = "Comment removed by a moderator: Spam."
PHONE = {"width": 390, "height": 844}


def _seed_comment(article, opening):
    comment = Comment.objects.get(article=article, body__startswith=opening)
    assert comment.level >= 1, "the scenario needs a nested comment"
    return comment


def _item(page, comment):
    """The thread's <li> for ``comment``: the comment, then its replies."""
    return page.locator(f"#{comment.anchor}")


def _log_in(page, user):
    page.locator(".site-nav").get_by_role("link", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".site-nav__user")).to_have_text(user.username)


def _log_out(page):
    page.locator(".site-nav").get_by_role("button", name="Log out").click()
    expect(page.locator(".site-nav").get_by_role("link", name="Log in")).to_be_visible()


def _new_comment_from_url(page, *, body):
    expect(page).to_have_url(re.compile(r"#comment-\d+$"))
    return Comment.objects.get(body=body)


def test_reader_replies_in_place_to_a_nested_comment(
    page, live_server, seed_article, user, artifacts
):
    parent = _seed_comment(seed_article, "Well, sort of good.")
    text = "Sadly familiar: my grandmother's neighbours said the same after 1945."

    page.goto("/")
    page.get_by_role("link", name=seed_article.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(seed_article.title)
    parent_item = _item(page, parent)
    expect(page.locator(f"ol.thread ol.replies > #{parent.anchor}")).to_have_count(1)
    expect(parent_item.locator(":scope > article.comment")).to_contain_text(
        "Well, sort of good."
    )
    page.screenshot(path=artifacts / "01-article.png", full_page=True)

    _log_in(page, user)
    expect(page).to_have_url(live_server.url + seed_article.get_absolute_url())

    parent_item.locator(":scope > article.comment").get_by_role(
        "link", name="Reply"
    ).click()
    form = parent_item.locator(":scope > form.comment-form--inline")
    expect(form.locator("legend")).to_have_text("Your reply")
    expect(form.locator("textarea")).to_be_focused()
    page.screenshot(path=artifacts / "02-inline-reply-form.png")

    form.locator("textarea").fill(text)
    form.get_by_role("button", name="Post reply").click()

    reply = _new_comment_from_url(page, body=text)
    assert reply.parent_id == parent.pk
    assert reply.author_id == user.pk
    expect(page).to_have_url(
        f"{live_server.url}{seed_article.get_absolute_url()}?comment={reply.pk}"
        f"#{reply.anchor}"
    )
    expect(page.get_by_role("status")).to_contain_text("Your comment is posted.")
    new_item = parent_item.locator(f":scope > details > ol.replies > #{reply.anchor}")
    expect(new_item).to_contain_text(text)
    page.screenshot(path=artifacts / "03-after-reply.png")


def test_reader_without_javascript_replies_on_the_reply_page(
    new_context, live_server, seed_article, user, artifacts
):
    parent = _seed_comment(seed_article, "Well, sort of good.")
    text = "Posted from a browser with JavaScript switched off."
    page = new_context(java_script_enabled=False).new_page()

    page.goto(seed_article.get_absolute_url())
    _log_in(page, user)
    _item(page, parent).locator(":scope > article.comment").get_by_role(
        "link", name="Reply"
    ).click()

    expect(page).to_have_url(re.compile(rf"/comments/{parent.pk}/reply/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Reply to {parent.display_name}"
    )
    page.screenshot(path=artifacts / "04-reply-page-without-javascript.png")
    page.get_by_label("Your comment").fill(text)
    page.get_by_role("button", name="Post reply").click()

    reply = _new_comment_from_url(page, body=text)
    assert reply.parent_id == parent.pk
    expect(page).to_have_url(
        f"{live_server.url}{seed_article.get_absolute_url()}?comment={reply.pk}"
        f"#{reply.anchor}"
    )
    expect(
        _item(page, parent).locator(f":scope > details > ol.replies > #{reply.anchor}")
    ).to_contain_text(text)


def test_moderator_removes_a_reply_in_the_admin_and_readers_see_a_placeholder(
    new_context, page, seed_article, user, other_user, moderator, artifacts
):
    parent = _seed_comment(seed_article, "Well, sort of good.")
    text = "Buy cheap watches at example.com, best prices!"
    note = "Advertising."
    reply = CommentFactory(parent=parent, author=user, body=text)
    answer = CommentFactory(
        parent=reply, author=other_user, body="Please don't post ads here."
    )

    page.goto("/")
    _log_in(page, moderator)
    page.goto("/admin/forum/comment/")
    page.locator(f'input.action-select[value="{reply.pk}"]').check()
    page.locator("select[name=action]").select_option(label=REMOVE_ACTION)
    page.get_by_role("combobox", name="Reason").select_option(label="Spam")
    page.get_by_role("textbox", name="Note").fill(note)
    page.get_by_role("button", name="Go").click()

    expect(page.locator(".messagelist .success")).to_have_text(
        re.compile(r"^1 comments? removed\.$")
    )
    expect(page.locator(".messagelist .warning, .messagelist .error")).to_have_count(0)
    row = page.locator("#result_list tr", has=page.locator(f'[value="{reply.pk}"]'))
    expect(row).to_contain_text("Removed")
    page.screenshot(path=artifacts / "05-admin-after-removal.png", full_page=True)

    # Moderators still read the text, marked with the reason and the note.
    page.goto(seed_article.get_absolute_url())
    removed = _item(page, reply).locator(":scope > article.comment")
    expect(removed).to_contain_text(text)
    expect(removed.locator(".badge--removed")).to_have_text(f"Removed: Spam — {note}")

    _log_out(page)
    page.goto(seed_article.get_absolute_url())
    _expect_placeholder(page, parent=parent, removed=reply, answer=answer, text=text)
    _item(page, reply).scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "06-article-with-placeholder.png")

    # Its author no longer reads it either.
    _log_in(page, user)
    _expect_placeholder(page, parent=parent, removed=reply, answer=answer, text=text)


def _expect_placeholder(page, *, parent, removed, answer, text):
    """``removed`` shows as a placeholder in its place below ``parent``, with
    ``answer`` still below it, and its text appears nowhere on the page."""
    placeholder = _item(page, parent).locator(
        f":scope > details > ol.replies > #{removed.anchor} > article.comment"
    )
    expect(placeholder).to_have_text(re.compile(re.escape(PLACEHOLDER)))
    expect(
        _item(page, removed).locator(
            f":scope > details > ol.replies > #{answer.anchor}"
        )
    ).to_contain_text(answer.body)
    expect(page.locator("body")).not_to_contain_text(text)


def test_deep_thread_fits_a_phone_screen(new_context, seed_article, user, artifacts):
    comment = Comment.objects.get(article=seed_article, body__contains="oxymoron")
    while comment.level < 10:
        comment = CommentFactory(
            parent=comment,
            author=user,
            body=f"A reply at depth {comment.level + 1}, long enough to wrap onto "
            "a second line on a phone: https://example.com/a/rather/long/link/"
            "that-has-no-spaces-in-it-at-all",
        )
    page = new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    ).new_page()

    # The page shows eight levels; "continue this thread" leads to the rest.
    root = comment.get_ancestors().get(level=7)
    page.goto(seed_article.get_absolute_url())
    _item(page, root).get_by_role("link", name="Continue this thread").click()
    expect(page).to_have_url(re.compile(rf"/comments/{root.pk}/$"))
    deepest = _item(page, comment).locator(":scope > article.comment")
    expect(deepest).to_contain_text("A reply at depth 10")
    _item(page, root).evaluate("item => item.scrollIntoView({block: 'start'})")
    page.screenshot(path=artifacts / "07-phone-deep-thread.png")
    _item(page, root).screenshot(path=artifacts / "08-phone-deep-thread-whole.png")

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = deepest.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"]
    # Depth stops costing width after five levels, so the text stays readable.
    assert box["width"] >= PHONE["width"] * 0.45

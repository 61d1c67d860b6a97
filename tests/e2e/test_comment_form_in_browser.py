"""The comment box in a real browser: the live character count
(static/js/comment_form.js), long pastes kept whole, inline reply forms with
ids of their own, and a comment typed while the session ran out."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, ArticleFactory, CommentFactory

pytestmark = pytest.mark.e2e

LIMIT = 10_000


@pytest.fixture
def article(transactional_db, settings):
    settings.FORUM_COMMENT_MAX_LENGTH = LIMIT
    article = ArticleFactory(title="A short essay")
    CommentFactory(article=article, body="The first comment.")
    return article


@pytest.fixture
def reader_page(page, article, user):
    page.goto("/accounts/login/?next=" + article.get_absolute_url())
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".site-nav__user")).to_have_text(user.username)
    return page


def _described_by(page, textarea):
    """The text of each element the box's aria-describedby names (None when the
    id is not in the page)."""
    return textarea.evaluate(
        """box => (box.getAttribute("aria-describedby") || "").split(/\\s+/)
            .filter(Boolean)
            .map(id => { const n = document.getElementById(id);
                         return n ? n.textContent.trim() : null; })"""
    )


def test_counter_counts_and_a_long_paste_is_kept_whole_and_refused_clearly(
    reader_page, article, artifacts
):
    page = reader_page
    form = page.locator("#comment-form")
    box = form.get_by_label("Your comment")
    counter = form.locator(".char-count")
    expect(counter).to_have_text("0 / 10,000 characters")
    assert "0 / 10,000 characters" in _described_by(page, box)

    box.fill("Hello,\nworld")
    expect(counter).to_have_text("12 / 10,000 characters")
    expect(form.locator("[aria-live=polite]")).to_have_text("12 of 10,000 characters")

    text = "x" * (LIMIT + 240)
    box.fill(text)
    assert box.evaluate("box => box.value.length") == LIMIT + 240
    expect(counter).to_have_text("10,240 / 10,000 characters: 240 too many")
    expect(counter).to_have_class(re.compile(r"\bchar-count--over\b"))
    page.screenshot(path=artifacts / "20-counter-over-the-limit.png")

    form.get_by_role("button", name="Post comment").click()

    expect(page).to_have_url(re.compile(rf"{article.comments_url}#comment-form$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Post a comment on “{article.title}”"
    )
    refused = page.get_by_label("Your comment")
    expect(refused).to_have_attribute("aria-invalid", "true")
    assert refused.evaluate("box => box.value") == text
    assert (
        "Comments can be at most 10,000 characters long (this one has 10,240)."
        in _described_by(page, refused)
    )
    expect(page.locator(".char-count")).to_have_text(
        "10,240 / 10,000 characters: 240 too many"
    )
    page.screenshot(path=artifacts / "21-refused-comment-page.png", full_page=True)


def test_inline_reply_form_has_its_own_ids_and_counter(reader_page):
    page = reader_page
    top_box = page.locator("#comment-form textarea")
    top_box.fill("Something for the top form.")

    page.get_by_role("link", name=re.compile(r"^Reply")).first.click()

    inline = page.locator("form.comment-form--inline")
    box = inline.locator("textarea")
    expect(box).to_be_focused()
    expect(inline.locator(".char-count")).to_have_text("0 / 10,000 characters")
    box.fill("A reply.")
    expect(inline.locator(".char-count")).to_have_text("8 / 10,000 characters")
    expect(page.locator("#comment-form .char-count")).to_have_text(
        "27 / 10,000 characters"
    )
    described = _described_by(page, box)
    assert None not in described
    assert "8 / 10,000 characters" in described
    assert any(text.startswith("Plain text;") for text in described)
    assert box.evaluate(
        """box => (box.getAttribute("aria-describedby") || "").split(/\\s+/)
            .every(id => box.form.contains(document.getElementById(id)))"""
    )
    ids = page.evaluate("[...document.querySelectorAll('[id]')].map(n => n.id)")
    assert len(ids) == len(set(ids))


def test_comment_typed_while_the_session_ran_out_comes_back_after_logging_in(
    reader_page, article, user, artifacts
):
    page = reader_page
    text = "I wrote this over a long lunch.\n\nAnd this after coffee."
    page.context.clear_cookies(name="sessionid")

    page.locator("#comment-form textarea").fill(text)
    page.get_by_role("button", name="Post comment").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    expect(page.get_by_role("status")).to_contain_text(
        "Log in to post your comment; we kept what you wrote."
    )
    page.screenshot(path=artifacts / "22-log-in-to-post.png")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(rf"{article.comments_url}$"))
    box = page.get_by_label("Your comment")
    assert box.evaluate("box => box.value") == text
    page.get_by_role("button", name="Post comment").click()

    expect(page).to_have_url(re.compile(r"#comment-\d+$"))
    expect(
        page.locator(".comment__body", has_text="And this after coffee.")
    ).to_be_visible()

"""Content-Security-Policy in a real browser: the reader's pages, the inline
reply form and the admin work under it, and the browser reports no violation
(a violated policy shows as a console error and a securitypolicyviolation
event)."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, CommentFactory

pytestmark = pytest.mark.django_db(transaction=True)

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def _watch(context):
    context.add_init_script(WATCH)
    errors = []

    def on_console(message):
        if message.type == "error":
            errors.append(message.text)

    return errors, on_console


def _violations(page):
    return page.evaluate("window.__violations")


def test_pages_and_the_admin_run_under_the_policy_without_violations(
    new_context, seed_article, moderator, user, artifacts
):
    comment = CommentFactory(article=seed_article, body="A comment to answer.")
    context = new_context()
    errors, on_console = _watch(context)
    page = context.new_page()
    page.on("console", on_console)

    response = page.goto(seed_article.get_absolute_url())
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "camera=()" in response.headers["permissions-policy"]

    # A reader logs in and replies in place: thread.js runs.
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(seed_article.get_absolute_url())
    page.locator(f"#{comment.anchor} .reply-link").first.click()
    form = page.locator(f"#{comment.anchor} form")
    expect(form).to_be_visible()
    form.locator("textarea").fill("An answer typed in place.")
    form.get_by_role("button", name="Post reply").click()
    expect(page.locator("body")).to_contain_text("An answer typed in place.")
    assert _violations(page) == []

    # The admin, as a moderator: the list, a change page, an action form.
    admin = new_context()
    admin_errors, admin_console = _watch(admin)
    admin_page = admin.new_page()
    admin_page.on("console", admin_console)
    admin_page.goto("/admin/login/?next=/admin/forum/comment/")
    admin_page.get_by_label("Username").fill(moderator.username)
    admin_page.get_by_label("Password").fill(PASSWORD)
    admin_page.get_by_role("button", name="Log in").click()
    expect(admin_page.locator("#result_list")).to_be_visible()
    admin_page.locator("#action-toggle").check()
    expect(admin_page.locator(".action-counter")).to_contain_text("selected")
    admin_page.goto(f"/admin/forum/comment/{comment.pk}/change/")
    expect(admin_page.locator("#content")).to_contain_text("A comment to answer.")
    admin_page.goto("/admin/forum/sanction/add/")
    expect(admin_page.locator("#sanction_form")).to_be_visible()
    admin_page.screenshot(path=artifacts / "csp-admin-sanction.png", full_page=True)
    assert _violations(admin_page) == []

    csp_errors = [e for e in errors + admin_errors if "Content Security Policy" in e]
    assert csp_errors == []

    # The watch sees a violation when there is one: an inline script.
    admin_page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = 1'; document.body.append(s); }"
    )
    admin_page.wait_for_function("window.__violations.length > 0")
    assert admin_page.evaluate("window.__ran") is None

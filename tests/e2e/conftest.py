"""Fixtures for the browser tests: Debian's Chromium driven by Playwright against
pytest-django's live server, with screenshots kept in artifacts/e2e/."""

import os
from pathlib import Path

import pytest

from articles.importers import load_seeds

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
# Playwright's own browser download does not work here; Debian's does, and as
# root it only starts without the sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in ARTIFACTS.glob("FAILED-*.png"):
        stale.unlink()
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser():
    executable = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    if not os.access(executable, os.X_OK):
        reason = f"no Chromium at {executable}: install it or set CHROMIUM_PATH"
        if os.environ.get("FORUM_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (FORUM_REQUIRE_BROWSER=1)", pytrace=False)
        pytest.skip(reason)

    from playwright.sync_api import expect, sync_playwright

    # The live server renders whole threads; give slow CI machines some room.
    expect.set_options(timeout=10_000)

    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API runs an event loop in this thread, and Django
        # refuses ORM calls from a thread with a running loop unless told to.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()


@pytest.fixture
def new_context(browser, live_server, request, artifacts):
    """Open browser contexts on the live server; closed, with a screenshot of
    each page when the test failed, at the end of the test."""
    contexts = []

    def open_context(**options):
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield open_context

    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for number, context in enumerate(contexts):
        if failed:
            for page_number, page in enumerate(context.pages):
                name = f"FAILED-{request.node.name}-{number}-{page_number}.png"
                page.screenshot(path=artifacts / name, full_page=True)
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


@pytest.fixture(autouse=True)
def _comments_publish_at_once(settings):
    # The scenarios read a comment back right after posting it.
    settings.FORUM_PREMODERATION = False


@pytest.fixture
def seed_article(transactional_db):
    [result] = load_seeds()
    return result.article

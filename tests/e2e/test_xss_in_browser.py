"""Known XSS payloads (tests/data/xss_payloads.txt) in a real browser: posted as
comments (through the services, and typed into the forms), imported as article
titles, leads, bodies and comments, shown as guests' names and usernames, and
read by a moderator in the queue and the admin. Chromium opens every page they
are on; no script of theirs runs (no dialog, no console message, no
``window.__xss``), no request goes where they point, no markup the forum does
not allow reaches the page, and their text still shows.

The site sends a strict Content-Security-Policy, which would stop most of these
even if the sanitizer let one through. The sanitizer and the templates'
escaping must hold on their own: with the policy on (the real configuration), a
payload that got through would still show as a policy violation, and none is
allowed; and every page is read again with the browser told to ignore the
policy, where nothing else stands between a payload and the page.
"""

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from articles.importers import import_article, parse_article_text
from articles.models import Article
from forum import services
from forum.models import Comment, Report
from tests.factories import PASSWORD, ArticleFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAYLOAD_FILE = Path(__file__).resolve().parents[1] / "data" / "xss_payloads.txt"
SITE_NAME = "The Reading Room"
# The writer's markup the sanitizer (forum/markup.py) keeps.
KEPT_TAG = re.compile(
    r"</?(?:a|b|strong|i|em|blockquote|q|cite|code|del|s)(?:\s[^<>]*)?/?>", re.I
)
CHARACTER_REFERENCE = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);?", re.I)
TAG_OR_REFERENCE = re.compile(r"<[^<>]*>?|&(?:#\w+|[a-z]\w*);?", re.I)
# Longer payloads go only where the field takes them.
AUTHOR_NAME_MAX = Comment._meta.get_field("author_name").max_length
LEAD_AUTHOR_MAX = Article._meta.get_field("lead_author").max_length
TITLE_MAX = Article._meta.get_field("title").max_length
USERNAME_MAX = 150
# Each imported article carries this many payloads (the first as title and lead
# author, the second as lead and comment, both as body lines), so that ~120
# pages cover the corpus.
PER_ARTICLE = 2

# Before any page script, in every document: each way a payload could show it
# ran is recorded where the test reads it, and no real dialog opens.
TRAPS = """
(() => {
  const hits = [];
  Object.defineProperty(window, "__xssHits", { value: hits });
  const trap = (name) => function (...args) {
    hits.push(name + "(" + args.map(String).join(", ") + ")");
  };
  for (const name of ["alert", "confirm", "prompt", "print", "open"]) {
    window[name] = trap(name);
  }
  for (const level of ["log", "info", "warn", "error", "debug"]) {
    const original = console[level].bind(console);
    console[level] = (...args) => {
      hits.push("console." + level + "(" + args.map(String).join(", ") + ")");
      original(...args);
    };
  }
  const violations = [];
  Object.defineProperty(window, "__cspViolations", { value: violations });
  document.addEventListener("securitypolicyviolation", (event) => {
    violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
  });
})();
"""

# What a page shows, in one round trip: the traps, an audit of the document as
# the browser built it (anything a payload could run or load through, and in
# user content anything the sanitizer does not allow), and the texts to check.
FACTS = """
() => {
  const problems = [];
  const origin = location.origin;
  const show = (el) => el.outerHTML.slice(0, 160);
  const text = (selector) => document.querySelector(selector)?.textContent ?? null;
  const URL_ATTRIBUTES = new Set(["href", "src", "action", "formaction", "data",
    "poster", "background", "lowsrc", "dynsrc", "srcset", "ping", "xlink:href",
    "codebase", "cite", "manifest", "icon"]);
  const SCRIPT_URL = /^(javascript|vbscript|livescript|data):/;
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\u0000-\\u0020\\u007f-\\u009f]/g, "")
        .toLowerCase();
      if (name.startsWith("on")) problems.push(`handler ${name}: ${show(el)}`);
      else if (name === "style" || name === "srcdoc") {
        problems.push(`${name} attribute: ${show(el)}`);
      } else if (URL_ATTRIBUTES.has(name) && SCRIPT_URL.test(value)) {
        problems.push(`script URL in ${name}: ${show(el)}`);
      }
    }
  }
  const foreign = (url) => {
    try { return new URL(url, location.href).origin !== origin; }
    catch (error) { return true; }
  };
  // The site's own files: static ones, and the admin's translations.
  const ours = (url) => !foreign(url) && ["/static/", "/admin/jsi18n/"]
    .some((start) => new URL(url, location.href).pathname.startsWith(start));
  // None of these is in any of the site's pages.
  const banned = "iframe, frame, frameset, object, embed, applet, base, style, "
    + "meta[http-equiv], video, audio, source, math, template, [srcset]";
  for (const el of document.querySelectorAll(banned)) {
    problems.push(`element: ${show(el)}`);
  }
  // The admin's icons: drawings, and references within the page.
  const DRAWING = new Set(["symbol", "defs", "g", "path", "title", "use"]);
  for (const el of document.querySelectorAll("svg *")) {
    const href = el.getAttribute("href") ?? el.getAttribute("xlink:href") ?? "#";
    if (!DRAWING.has(el.tagName) || !href.startsWith("#")) {
      problems.push(`in svg: ${show(el)}`);
    }
  }
  for (const el of document.querySelectorAll("[src]")) {
    if (!ours(el.getAttribute("src"))) problems.push(`src: ${show(el)}`);
  }
  for (const el of document.scripts) {
    if (el.type !== "application/json" && !ours(el.src)) {
      problems.push(`script: ${show(el)}`);
    }
  }
  for (const el of document.querySelectorAll("link[href], form")) {
    if (foreign(el.tagName === "FORM" ? el.action : el.href)) {
      problems.push(`foreign ${el.tagName}: ${show(el)}`);
    }
  }
  const KEPT = new Set(["P", "BR", "A", "B", "STRONG", "I", "EM", "BLOCKQUOTE",
    "Q", "CITE", "CODE", "DEL", "S"]);
  for (const el of document.querySelectorAll(".comment__body *")) {
    if (!KEPT.has(el.tagName)) problems.push(`not allowed: ${show(el)}`);
    for (const attr of el.attributes) {
      if (!(el.tagName === "A" && ["href", "title", "rel"].includes(attr.name))) {
        problems.push(`attribute ${attr.name}: ${show(el)}`);
      }
    }
    if (el.tagName === "A" && el.hasAttribute("href")
        && !["http:", "https:", "mailto:"].includes(el.protocol)) {
      problems.push(`link to ${el.protocol}: ${show(el)}`);
    }
  }
  // Text the templates print escaped: no element of the writer's in it at all.
  const textOnly = ".comment__author, .article__title, .article-card__title a, "
    + ".article-card__teaser, .site-nav__user, .article__lead-author, "
    + ".article__body > *, .message";
  for (const el of document.querySelectorAll(textOnly)) {
    if (el.children.length) problems.push(`markup in text: ${show(el)}`);
  }
  const articleParts = ".article__lead > *, .article__body > *";
  for (const el of document.querySelectorAll(articleParts)) {
    if (!["STRONG", "P", "H2"].includes(el.tagName)) {
      problems.push(`markup in article: ${show(el)}`);
    }
  }
  const comments = {};
  for (const el of document.querySelectorAll("article.comment")) {
    comments[el.dataset.comment] = {
      body: el.querySelector(":scope > .comment__body")?.textContent ?? null,
      author: el.querySelector(".comment__author")?.textContent ?? null,
    };
  }
  return {
    hits: [...window.__xssHits],
    xss: typeof window.__xss === "undefined" ? null : String(window.__xss),
    violations: [...window.__cspViolations],
    path: location.pathname,
    problems,
    comments,
    title: document.title,
    h1: text("h1"),
    lead: text(".article__lead"),
    body: text(".article__body"),
    cards: [...document.querySelectorAll(".article-card__title a")]
      .map((a) => a.textContent),
    text: document.body.textContent,
  };
}
"""


def load_payloads():
    payloads = []
    for line in PAYLOAD_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("# "):
            continue
        payloads.append(line.replace("\\n", "\n").replace("\\t", "\t"))
    return payloads


PAYLOADS = load_payloads()


def _collapse(text):
    return " ".join(text.split())


class _Text(HTMLParser):
    def __init__(self, markup):
        super().__init__(convert_charrefs=True)
        self.chunks = []
        self.feed(markup)
        self.close()

    def handle_data(self, data):
        self.chunks.append(data)


def _text_of(markup):
    """The text of stored HTML: what the sanitizer's output says should show."""
    try:
        return _collapse("".join(_Text(markup).chunks))
    except AssertionError:  # html.parser on markup no sanitizer would write
        return f"(unreadable HTML: {markup!r})"


def _must_show(written):
    """What of ``written`` the page must show, any one of: all of it as typed
    (the only choice when it holds no markup the forum keeps and no character
    reference); its text, the kept tags gone and the references read; its
    longest stretch of text between tags (where the sanitizer balances tags it
    keeps, and inside <code>: see test_text_inside_code_shows_as_written)."""
    if not KEPT_TAG.search(written) and not CHARACTER_REFERENCE.search(written):
        return [_collapse(written)]
    runs = [_collapse(run) for run in TAG_OR_REFERENCE.split(written)]
    return [
        _collapse(written),
        _collapse(html.unescape(KEPT_TAG.sub("", written))),
        max(runs, key=len),
    ]


class Browser:
    """One page in its own context, with the traps in every document and every
    request a payload could make recorded; with ``csp_off`` the browser
    ignores the site's policy.

    Nothing is intercepted (page.route would turn the browser's cache off and
    double the run): a request off the live server fails by itself, as
    xss.invalid never resolves, and is recorded all the same. The policy is
    turned off with Chromium's own switch (bypass_csp), which
    test_the_traps_see_a_script_that_runs shows lets an inline handler run."""

    def __init__(self, new_context, live_server, *, csp_off):
        self.origin = live_server.url
        self.mode = "policy off" if csp_off else "policy on"
        self.problems = []
        self.seen = {"requests": [], "console": [], "dialogs": [], "popups": []}
        self.context = new_context(bypass_csp=csp_off)
        self.context.add_init_script(TRAPS)
        self.page = self.context.new_page()
        self.page.on("request", self._request)
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)
        self.page.on("popup", lambda popup: self.seen["popups"].append(popup.url))

    def _console(self, message):
        self.seen["console"].append(f"{message.type}: {message.text}")

    def _dialog(self, dialog):
        self.seen["dialogs"].append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _request(self, request):
        url = request.url
        path = urlsplit(url).path
        ours = url.startswith(self.origin) and (
            request.resource_type == "document"
            or path.startswith(("/static/", "/admin/jsi18n/"))
            or path == "/favicon.ico"
        )
        if not ours:
            self.seen["requests"].append(f"{request.resource_type} {url}")

    def visit(self, path):
        try:
            response = self.page.goto(path)
        except PlaywrightError as error:
            # The page before sent the browser elsewhere meanwhile.
            self.fail(path, f"navigation cut off: {error.message.splitlines()[0]}")
            response = self.page.goto(path)
        assert response.status == 200, f"{path}: {response.status}"
        assert "script-src 'self'" in response.headers["content-security-policy"]
        return self.check(path)

    def check(self, where, *, console_expected=None):
        """Record what shows of a payload that ran, or could run; return the
        page's facts. ``console_expected``: the browser's own message about
        the page (a 400), not a payload's."""
        if console_expected:
            self.seen["console"] = [
                line for line in self.seen["console"] if console_expected not in line
            ]
        try:
            facts = self.page.evaluate(FACTS)
        except PlaywrightError as error:
            # Something in the page sent the browser elsewhere as it was read.
            self.fail(where, f"page replaced: {error.message.splitlines()[0]}")
            return {
                "comments": {},
                "cards": [],
                "text": "",
                "body": "",
            } | dict.fromkeys(("title", "h1", "lead"))
        found = [f"ran: {hit}" for hit in facts["hits"]]
        if facts["xss"] is not None:
            found.append(f"window.__xss = {facts['xss']!r}")
        found += [f"CSP violation: {v}" for v in facts["violations"]]
        found += facts["problems"]
        if facts["path"] != urlsplit(self.page.url).path:
            found.append(f"navigated to {facts['path']}")
        for kind, items in self.seen.items():
            found += [f"{kind}: {item}" for item in items]
            items.clear()
        self.fail(where, *found)
        return facts

    def fail(self, where, *problems):
        self.problems += [f"{self.mode}, {where}: {problem}" for problem in problems]

    def check_comments(self, facts, written, where):
        """Each comment shows the text of its stored HTML, and what was
        written (``written``: comment pk to its text)."""
        stored = dict(
            Comment.objects.filter(pk__in=written).values_list("pk", "body_html")
        )
        for pk, text in written.items():
            shown = facts["comments"].get(str(pk), {}).get("body")
            if shown is None:
                self.fail(where, f"comment {pk} not shown: {text!r}")
                continue
            if _collapse(shown) != _text_of(stored[pk]):
                self.fail(where, f"comment {pk} reads {shown!r}, not {stored[pk]!r}")
            if not any(part in _collapse(shown) for part in _must_show(text)):
                self.fail(where, f"comment {pk} lost {text!r}: shows {shown!r}")


@pytest.fixture
def open_forum(settings):
    # Every payload on one page of its thread, published at once, and no
    # limit on one reader posting a few hundred comments.
    settings.FORUM_TOP_LEVEL_PAGE_SIZE = 1000
    settings.FORUM_PAGE_COMMENT_CAP = 5000
    settings.FORUM_PREMODERATE_LINKS_OVER = None
    settings.FORUM_PREMODERATE_FIRST_COMMENTS = 0
    settings.FORUM_RATE_POSTS = settings.FORUM_RATE_POSTS_PER_IP = ""
    settings.FORUM_RATE_DUPLICATES = ""
    return settings


def _import_pair(number, first, second):
    """Import an article whose title and lead author are ``first`` (where they
    fit), lead and comment ``second``, and body both, through the text
    importer; returns (article, its comment's text by pk)."""
    a, b = _collapse(first), _collapse(second)
    parsed = parse_article_text(f"Editor: {b}\n{a}\n{b}\n\n{b}\n")
    # A richer source (WXR, Disqus) names the lead's author; text cannot.
    if len(first) <= LEAD_AUTHOR_MAX:
        parsed.lead_author = first
    result = import_article(
        parsed,
        source_key=f"xss:{number}",
        title=first if len(first) <= TITLE_MAX else "",
    )
    comments = dict(
        Comment.objects.filter(article=result.article).values_list("pk", "body")
    )
    assert sorted(comments.values()) == sorted(c.body for c in parsed.comments)
    return result.article, comments


@pytest.fixture
def payload_site(open_forum):
    """Every payload as a comment, in an imported article, as a guest's name
    and as a username."""
    reader = UserFactory()
    thread = ArticleFactory(title="Payloads as comments", slug="xss-comments")
    comments = {}
    for payload in PAYLOADS:
        comment = services.post_comment(article=thread, body=payload, author=reader)
        assert comment.status == Comment.Status.PUBLISHED, payload
        comments[comment.pk] = payload

    # Every other payload as a guest's name (as an importer gives one: no
    # account), the rest as usernames: sign-up refuses such names, but an
    # account from before the rules, or made by a script, still shows its name
    # with every comment. Each where it fits.
    names = ArticleFactory(title="Payloads as names", slug="xss-names")
    authors = {}
    for number, payload in enumerate(PAYLOADS):
        as_guest = number % 2 == 0 and len(payload) <= AUTHOR_NAME_MAX
        if as_guest:
            comment = services.post_comment(
                article=names,
                body=f"A guest's comment, number {number}.",
                author_name=payload,
                status=Comment.Status.PUBLISHED,
            )
        elif len(payload) <= USERNAME_MAX:
            comment = services.post_comment(
                article=names,
                body=f"An account's comment, number {number}.",
                author=UserFactory(username=payload),
            )
        else:
            continue
        authors[comment.pk] = payload

    imported = []
    for number in range(0, len(PAYLOADS), PER_ARTICLE):
        first, second = PAYLOADS[number], PAYLOADS[(number + 1) % len(PAYLOADS)]
        imported.append((*_import_pair(number, first, second), first, second))
    return {
        "thread": thread,
        "comments": comments,
        "names": names,
        "authors": authors,
        "imported": imported,
    }


def _assert_clean(problems):
    shown = "\n".join(problems[:60])
    assert problems == [], f"{len(problems)} problems, the first:\n{shown}"


def _read_every_page(browser, site):
    thread = site["thread"]
    facts = browser.visit(thread.get_absolute_url())
    browser.check_comments(facts, site["comments"], "thread")
    for pk in list(site["comments"])[::25]:
        facts = browser.visit(f"{thread.comments_url}{pk}/")
        browser.check_comments(facts, {pk: site["comments"][pk]}, f"comment {pk}")

    names = site["names"]
    facts = browser.visit(names.get_absolute_url())
    for pk, name in site["authors"].items():
        shown = facts["comments"].get(str(pk), {}).get("author")
        if shown is None or _collapse(shown) != _collapse(name):
            browser.fail("names", f"comment {pk} by {name!r} shows {shown!r}")
    for pk in list(site["authors"])[::40]:
        browser.visit(f"{names.comments_url}{pk}/")

    facts = browser.visit("/")
    listed = {_collapse(title) for title in facts["cards"]}
    for article, comments, first, second in site["imported"]:
        where = article.get_absolute_url()
        if _collapse(article.title) not in listed:
            browser.fail("/", f"title {article.title!r} not listed")
        facts = browser.visit(where)
        title = _collapse(article.title)
        lead = f"{article.lead_author}: {article.lead}" if article.lead_author else ""
        expected = {
            "title": f"{title} · {SITE_NAME}",
            "h1": title,
            "lead": _collapse(lead or article.lead),
        }
        for part, text in expected.items():
            if _collapse(facts[part] or "") != text:
                browser.fail(where, f"{part} reads {facts[part]!r}, not {text!r}")
        # The title is the payload or, too long for one, its first sentence.
        if not _collapse(first).startswith(title.removesuffix("…")):
            browser.fail(where, f"title {title!r} is not from {first!r}")
        for line in (_collapse(first), _collapse(second)):
            if line not in _collapse(facts["body"]):
                browser.fail(where, f"body lost {line!r}")
        if _collapse(second) not in expected["lead"]:
            browser.fail(where, f"lead lost {second!r}")
        browser.check_comments(facts, comments, where)


def test_the_payload_corpus_is_large_and_has_no_repeats():
    assert len(PAYLOADS) >= 80
    assert len(set(PAYLOADS)) == len(PAYLOADS)


def test_no_payload_runs_and_every_payload_still_shows(
    new_context, live_server, payload_site
):
    """Read with the real policy, then without it: the sanitizer alone holds."""
    # With the policy on, a payload that got through would be blocked and
    # reported (a securitypolicyviolation event and a console error), and any
    # report fails the test: the policy is never what saved a page here.
    problems = []
    for csp_off in (False, True):
        browser = Browser(new_context, live_server, csp_off=csp_off)
        _read_every_page(browser, payload_site)
        problems += browser.problems
    _assert_clean(problems)


def test_the_traps_see_a_script_that_runs(new_context, live_server):
    """Markup that did get into a page would run with the policy off, and with
    it on would show as a violation: the checks above can fail."""
    browser = Browser(new_context, live_server, csp_off=True)
    browser.visit("/")
    _assert_clean(browser.problems)
    browser.page.evaluate(
        """() => document.body.insertAdjacentHTML("beforeend",
            '<img src="http://xss.invalid/probe.png" onerror="alert(1);'
            + ' console.log(2); window.__xss = 3">')"""
    )
    browser.page.wait_for_function("window.__xss === 3")
    browser.check("probe")
    found = "\n".join(browser.problems)
    assert "ran: alert(1)" in found
    assert "ran: console.log(2)" in found
    assert "console: log: 2" in found
    assert "window.__xss = '3'" in found
    assert "requests: image http://xss.invalid/probe.png" in found
    assert "handler onerror" in found

    kept = Browser(new_context, live_server, csp_off=False)
    kept.visit("/")
    kept.page.evaluate(
        """() => document.body.insertAdjacentHTML("beforeend",
            '<img src="/static/none.png" onerror="window.__xss = 4">')"""
    )
    kept.page.wait_for_function("window.__cspViolations.length > 0")
    kept.check("probe")
    found = "\n".join(kept.problems)
    assert "CSP violation: script-src-attr" in found
    assert "window.__xss = '4'" not in found


TYPED = [
    "<script>window.__xss='typed'</script>",
    '"><img src=x onerror="window.__xss=\'typed\'">',
    "<a href=\"javascript:window.__xss='typed'\">click</a> <b>and bold</b>",
]
REPLIED = [
    "</textarea><script>window.__xss='reply'</script>",
    "<svg onload=console.log('reply')>\n\n<blockquote>quoted</blockquote>",
]
READER_NAME = '"><img src=x onerror="window.__xss=\'name\'">'


@pytest.mark.parametrize("csp_off", [False, True], ids=["policy-on", "policy-off"])
def test_payloads_typed_into_the_forms_by_a_payload_named_reader_run_nothing(
    new_context, live_server, open_forum, csp_off
):
    UserFactory(username=READER_NAME)
    article = ArticleFactory(title="Typed payloads", slug="typed-payloads")
    browser = Browser(new_context, live_server, csp_off=csp_off)
    page = browser.page
    browser.visit("/accounts/login/")
    page.get_by_label("Username").fill(READER_NAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".site-nav__user")).to_have_text(READER_NAME)
    browser.check("logged in")

    for text in TYPED:
        browser.visit(article.get_absolute_url())
        form = page.locator("#comment-form")
        form.get_by_label("Your comment").fill(text)
        form.get_by_role("button", name="Post comment").click()
        expect(page.locator(".messages")).to_contain_text("Your comment is posted.")
        browser.check(f"posted {text!r}")
    for text in REPLIED:
        browser.visit(article.get_absolute_url())
        page.locator("a.reply-link").first.click()
        inline = page.locator("form.comment-form--inline")
        inline.locator("textarea").fill(text)
        inline.get_by_role("button", name="Post reply").click()
        expect(page.locator(".messages")).to_contain_text("Your comment is posted.")
        browser.check(f"replied {text!r}")

    # A refused form comes back with the text in its box, as typed.
    too_long = REPLIED[0] + "x" * 10_001
    browser.visit(article.get_absolute_url())
    page.locator("#comment-form textarea").fill(too_long)
    page.locator("#comment-form").get_by_role("button", name="Post comment").click()
    box = page.get_by_label("Your comment")
    expect(box).to_have_attribute("aria-invalid", "true")
    assert box.input_value() == too_long
    browser.check("refused", console_expected="status of 400 (Bad Request)")

    facts = browser.visit(article.get_absolute_url())
    written = dict(Comment.objects.filter(article=article).values_list("pk", "body"))
    assert sorted(written.values()) == sorted(TYPED + REPLIED)
    browser.check_comments(facts, written, "typed")
    authors = {_collapse(c["author"]) for c in facts["comments"].values()}
    assert authors == {_collapse(READER_NAME)}
    _assert_clean(browser.problems)


@pytest.fixture
def queue_site(open_forum, moderator):
    """Payloads where moderators read them: held replies by payload-named
    readers under payload comments by payload-named guests, reported with
    payload notes, on an article with a payload title."""
    open_forum.FORUM_REPORT_THRESHOLD = 1_000_000
    shown = PAYLOADS[::6]
    article = ArticleFactory(title=shown[0][:TITLE_MAX], slug="queue")
    written = []
    for number, payload in enumerate(shown):
        top = services.post_comment(
            article=article,
            body=payload,
            author_name=payload[:AUTHOR_NAME_MAX],
            status=Comment.Status.PUBLISHED,
        )
        middle = services.post_comment(
            article=article, body=f"Between, {number}.", parent=top, author=moderator
        )
        services.post_comment(
            article=article,
            body=PAYLOADS[(number * 6 + 1) % len(PAYLOADS)],
            parent=middle,
            author=UserFactory(username=payload[:USERNAME_MAX]),
            status=Comment.Status.PENDING,
        )
        services.report_comment(
            comment=top,
            reporter=UserFactory(),
            reason=Report.Reason.OTHER,
            note=payload[:500],
        )
        written.append(payload)
    return written


@pytest.mark.parametrize("csp_off", [False, True], ids=["policy-on", "policy-off"])
def test_payloads_in_the_moderators_queue_and_admin_run_nothing(
    new_context, live_server, moderator, queue_site, csp_off
):
    browser = Browser(new_context, live_server, csp_off=csp_off)
    page = browser.page
    browser.visit("/accounts/login/")
    page.get_by_label("Username").fill(moderator.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".site-nav__user")).to_have_text(moderator.username)

    facts = browser.visit("/moderation/")
    text = _collapse(facts["text"])
    for payload in queue_site:
        # In the card's body, its excerpt above the held reply, its name and
        # the report's note.
        if not any(part in text for part in _must_show(payload)):
            browser.fail("queue", f"lost {payload!r}")
        for name in (payload[:AUTHOR_NAME_MAX], payload[:USERNAME_MAX]):
            if _collapse(name) not in text:
                browser.fail("queue", f"name {name!r} not shown")
    browser.visit("/admin/forum/comment/")
    browser.visit("/admin/forum/report/")
    pk = Comment.objects.filter(status=Comment.Status.PENDING).first().pk
    browser.visit(f"/admin/forum/comment/{pk}/change/")
    _assert_clean(browser.problems)


def test_text_inside_code_shows_as_written(new_context, live_server, open_forum):
    article = ArticleFactory(slug="code")
    services.post_comment(
        article=article,
        body="<code>if a < b && c > d: <script></code>",
        author=UserFactory(),
    )
    browser = Browser(new_context, live_server, csp_off=False)
    facts = browser.visit(article.get_absolute_url())
    _assert_clean(browser.problems)
    [shown] = facts["comments"].values()
    assert _collapse(shown["body"]) == "if a < b && c > d: <script>"

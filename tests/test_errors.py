"""Hostile or odd requests get a clean error page: a crafted charset is a 400,
a comment the reader cannot see is a 404 on every one of its pages, and no
error page prints the exception behind it."""

import asyncio
import io
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import Http404
from django.template import loader
from django.test import Client
from django.urls import include, path, reverse

from forum import services
from forum.models import Comment
from tests.factories import PASSWORD, CommentFactory, UserFactory

SECRET = "internal detail 8f3a"


def _boom(request, kind):
    raise {
        "400": BadRequest(SECRET),
        "403": PermissionDenied(SECRET),
        "404": Http404(SECRET),
        "500": RuntimeError(SECRET),
    }[kind]


# Used as ROOT_URLCONF by the tests that need a view raising each error.
urlpatterns = [path("boom/<str:kind>/", _boom), path("", include("config.urls"))]


# A crafted charset.

# Each is either not ASCII-compatible (the form's text would be decoded into
# something else), not a text encoding at all (Django raises LookupError), or
# unknown; unicode_escape and its kin turn "\ud800" typed as text into a lone
# surrogate.
BAD_CHARSETS = [
    "unicode_escape",
    "raw_unicode_escape",
    "utf-7",
    "base64",
    "utf-16",
    "utf-32",
    "rot13",
    "x-no-such-charset",
    "",
]
GOOD_CHARSETS = ["utf-8", "UTF8", "us-ascii", "iso-8859-1", "latin1", "windows-1252"]
SMUGGLED = "Hello \\ud800 there"  # a backslash sequence, as typed
URLENCODED = "application/x-www-form-urlencoded"


def _multipart(fields, boundary="b0uNdAry"):
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        f"{value}\r\n"
        for name, value in fields.items()
    )
    return (parts + f"--{boundary}--\r\n").encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


def _urlencoded(fields):
    body = "&".join(f"{name}={value}" for name, value in fields.items())
    return body.encode(), URLENCODED


ENCODINGS = {"multipart": _multipart, "urlencoded": _urlencoded}


def _post(client, url, body, content_type):
    # client.post() would re-encode the body in the charset it names.
    return client.generic("POST", url, body, content_type=content_type)


def _comment_url(name, comment):
    return reverse(
        f"forum:{name}", kwargs={"slug": comment.article.slug, "pk": comment.pk}
    )


# Each form a reader posts: (who posts, url, fields).
FORMS = {
    "comment": lambda c, reader: (
        reader,
        reverse("forum:comment_create", kwargs={"slug": c.article.slug}),
        {"body": SMUGGLED},
    ),
    "reply": lambda c, reader: (
        reader,
        _comment_url("comment_reply", c),
        {"body": SMUGGLED},
    ),
    "report": lambda c, reader: (
        reader,
        _comment_url("comment_report", c),
        {"reason": "other", "note": SMUGGLED},
    ),
    "sign-up": lambda c, reader: (
        None,
        reverse("signup"),
        {"username": "newcomer", "password1": PASSWORD, "password2": PASSWORD},
    ),
    "log-in": lambda c, reader: (
        None,
        reverse("login"),
        {"username": reader.username, "password": PASSWORD},
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("charset", BAD_CHARSETS)
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("form", FORMS)
def test_a_form_posted_in_a_crafted_charset_is_refused_with_400(
    comment, user, form, encoding, charset
):
    author, url, fields = FORMS[form](comment, user)
    # As a browser would: the CSRF check is on, and the token is a real one.
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    if author is not None:
        client.force_login(author)
    client.get(url)
    body, content_type = ENCODINGS[encoding](
        {**fields, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    )

    response = _post(client, url, body, f"{content_type}; charset={charset}")

    assert response.status_code == 400
    assert "That request could not be understood." in response.content.decode()
    assert Comment.objects.count() == 1
    assert not comment.reports.exists()
    assert not type(user).objects.filter(username="newcomer").exists()
    if author is None:
        assert SESSION_KEY not in client.session


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("encoding", "charset"),
    [
        *(("multipart", charset) for charset in GOOD_CHARSETS),
        # Django reads a urlencoded form as UTF-8 only (RFC 1866), and refuses
        # any other charset with a 400 of its own.
        ("urlencoded", "utf-8"),
        ("urlencoded", "UTF-8"),
    ],
)
def test_a_comment_posted_in_an_ascii_compatible_charset_is_taken(
    client, article, user, encoding, charset
):
    client.force_login(user)
    body, content_type = ENCODINGS[encoding]({"body": "Plain words."})

    response = _post(
        client,
        reverse("forum:comment_create", kwargs={"slug": article.slug}),
        body,
        f"{content_type}; charset={charset}",
    )

    assert response.status_code == 302
    assert Comment.objects.get().body == "Plain words."


@pytest.mark.django_db
def test_a_latin_1_form_is_read_as_latin_1(client, article, user):
    client.force_login(user)
    body, content_type = _multipart({"body": "café"})

    _post(
        client,
        reverse("forum:comment_create", kwargs={"slug": article.slug}),
        body.replace("café".encode(), "café".encode("latin-1")),
        f"{content_type}; charset=latin-1",
    )

    assert Comment.objects.get().body == "café"


# Django reads the Content-Type while it builds the request, before any
# middleware runs, and raises on these: an RFC 2231 charset it cannot look up,
# a NUL, a lone surrogate; and a charset that is no text codec as soon as the
# URL has a query string. The test client builds its requests as Django does,
# so these go to the WSGI and ASGI applications the servers run.
UNPARSABLE_REQUESTS = {
    "rfc-2231-unknown": ("POST", "", "text/plain; charset*=x-no-such''utf-8"),
    "rfc-2231-nul": ("POST", "", "text/plain; charset*=utf-8''utf-8%00"),
    "rfc-2231-surrogate": ("POST", "", "text/plain; charset*=unicode_escape''%5cud800"),
    "get-base64": ("GET", "next=/", "text/plain; charset=base64"),
    "post-base64": (
        "POST",
        "next=/",
        "multipart/form-data; boundary=b; charset=base64",
    ),
    "post-rot13": ("POST", "next=/", f"{URLENCODED}; charset=rot13"),
}
URLENCODED_LOGIN = b"username=someone&password=x"


def _wsgi(method, query, content_type):
    from config.wsgi import application

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/accounts/login/",
        "SCRIPT_NAME": "",
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(URLENCODED_LOGIN)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(URLENCODED_LOGIN),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    started = []
    chunks = application(environ, lambda status, headers: started.append(status))
    return int(started[0].split()[0]), b"".join(chunks).decode()


def _asgi(method, query, content_type):
    from config.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/accounts/login/",
        "raw_path": b"/accounts/login/",
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(URLENCODED_LOGIN)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    messages = [{"type": "http.request", "body": URLENCODED_LOGIN}]
    sent = []

    async def receive():
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # no disconnect: cancelled once answered

    async def send(message):
        sent.append(message)

    # In a thread of its own: a browser test may have left this one's loop set.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, application(scope, receive, send)).result()
    [start] = [m for m in sent if m["type"] == "http.response.start"]
    content = b"".join(
        m.get("body", b"") for m in sent if m["type"] == "http.response.body"
    )
    return start["status"], content.decode()


@pytest.fixture
def keep_connections():
    """As Django's test client does around a request: the test's connection is
    not closed as a served request's would be."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# No database: the request is refused before anything would read it.
@pytest.mark.parametrize("request_", UNPARSABLE_REQUESTS)
@pytest.mark.parametrize("serve", [_wsgi, _asgi], ids=["wsgi", "asgi"])
def test_a_content_type_django_cannot_read_is_refused_with_400(
    keep_connections, serve, request_
):
    status, content = serve(*UNPARSABLE_REQUESTS[request_])

    assert status == 400
    assert "That request could not be understood." in content


# Lone surrogates.


@pytest.mark.django_db
def test_a_lone_surrogate_posted_through_the_service_is_stored_and_shown(
    client, article, user
):
    comment = services.post_comment(
        article=article, body="Half \ud800 a pair \udfff.", author=user
    )

    comment.refresh_from_db()
    assert comment.body == "Half \ufffd a pair \ufffd."
    assert "Half \ufffd a pair \ufffd." in comment.body_html
    page = client.get(article.get_absolute_url())
    assert page.status_code == 200
    assert "Half \ufffd a pair \ufffd." in page.content.decode()


@pytest.mark.django_db
def test_a_lone_surrogate_in_an_edit_is_stored_and_shown(client, comment):
    services.edit_comment(comment=comment, editor=comment.author, body="Now \udc80.")

    comment.refresh_from_db()
    assert comment.body == "Now \ufffd."
    assert (
        "Now \ufffd."
        in client.get(_comment_url("comment_detail", comment)).content.decode()
    )


# A comment the reader cannot see.

COMMENT_PAGES = [
    "comment_detail",
    "comment_reply",
    "comment_edit",
    "comment_delete",
    "comment_report",
    "comment_remove",
    "comment_approve",
    "comment_restore",
    "comment_dismiss",
    "comment_pin",
    "comment_unpin",
    "comment_lock",
    "comment_unlock",
]


@pytest.fixture
def hidden(db):
    """A pending comment without replies: only its author and moderators see
    it; for anyone else it does not exist."""
    return CommentFactory(status=Comment.Status.PENDING, body="Not yet.")


def _main(response):
    """What an error page says (outside the header, whose CSRF token varies)."""
    content = response.content.decode()
    return re.search(r"<main.*</main>", content, re.DOTALL).group()


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("page", COMMENT_PAGES)
@pytest.mark.parametrize("viewer", ["anonymous", "reader", "staff"])
def test_a_hidden_comment_answers_every_page_as_a_missing_one_does(
    client, hidden, viewer, page, method
):
    if viewer == "reader":
        client.force_login(UserFactory())
    elif viewer == "staff":
        client.force_login(UserFactory(is_staff=True))
    url = _comment_url(page, hidden)
    missing_url = url.replace(f"/{hidden.pk}/", "/999999/")
    data = {"body": "Me too.", "reason": "spam"}

    answer = getattr(client, method)(url, data)
    missing = getattr(client, method)(missing_url, data)

    assert answer.status_code == missing.status_code
    if viewer != "anonymous":
        assert answer.status_code == 404
        assert _main(answer) == _main(missing)
    hidden.refresh_from_db()
    assert hidden.status == Comment.Status.PENDING
    assert hidden.body == "Not yet."
    assert Comment.objects.count() == 1
    assert not hidden.reports.exists()


@pytest.mark.parametrize("viewer", ["anonymous", "reader"])
def test_a_hidden_comments_place_in_the_thread_answers_as_a_missing_ones(
    client, hidden, viewer
):
    if viewer == "reader":
        client.force_login(UserFactory())
    url = hidden.article.get_absolute_url()

    answer = client.get(url, {"comment": hidden.pk})
    missing = client.get(url, {"comment": 999_999})

    assert answer.status_code == missing.status_code == 404
    client.force_login(hidden.author)
    assert client.get(url, {"comment": hidden.pk}).status_code == 200


def test_the_author_still_reaches_their_pending_comments_pages(client, hidden):
    client.force_login(hidden.author)

    for page in ("comment_detail", "comment_edit", "comment_delete"):
        assert client.get(_comment_url(page, hidden)).status_code == 200, page
    # Visible to them, so the moderators' pages are a refusal, not a 404.
    assert client.get(_comment_url("comment_approve", hidden)).status_code == 403


def test_moderators_reach_a_hidden_comments_pages(client, hidden, moderator):
    client.force_login(moderator)

    for page in ("comment_detail", "comment_approve", "comment_remove"):
        assert client.get(_comment_url(page, hidden)).status_code == 200, page


@pytest.mark.parametrize("page", ["comment_remove", "comment_approve", "comment_pin"])
def test_moderation_pages_of_a_visible_comment_are_403_for_readers(
    client, comment, user, page
):
    client.force_login(user)

    assert client.get(_comment_url(page, comment)).status_code == 403
    assert client.post(_comment_url(page, comment)).status_code == 403


# Error pages.


@pytest.mark.django_db
def test_the_404_page_does_not_print_the_exception(client, settings, article):
    settings.DEBUG = False
    url = reverse("forum:comment_detail", kwargs={"slug": article.slug, "pk": 999_999})

    response = client.get(url)

    content = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing here." in content
    assert "No Comment matches the given query." not in content
    assert "Comment" not in _main(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("400", "That request could not be understood."),
        ("403", "You are not allowed to do that."),
        ("404", "There is nothing here."),
        ("500", "Something went wrong on our side."),
    ],
)
def test_no_error_page_prints_the_exception(settings, kind, says):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory())

    response = client.get(f"/boom/{kind}/")

    content = response.content.decode()
    assert response.status_code == int(kind)
    assert says in content
    assert SECRET not in content
    # In the site's style: its header and footer.
    assert "The Reading Room</a>" in content
    assert 'class="site-footer"' in content


@pytest.mark.parametrize("template", ["500.html", "503.html", "400.html"])
def test_pages_made_without_a_request_need_no_database(
    template, django_assert_num_queries, db
):
    """The database may be what failed: these render from nothing."""
    with django_assert_num_queries(0):
        content = loader.get_template(template).render()

    assert "The Reading Room</a>" in content
    assert "Log in" not in content


def test_the_429_page_says_when_to_try_again(db, rf):
    content = loader.get_template("429.html").render({"retry_after": 42}, rf.get("/"))

    assert "Try again in 42 seconds." in content


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_gets_the_sites_403_page(comment, user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(_comment_url("comment_reply", comment), {"body": "Hi."})

    content = response.content.decode()
    assert response.status_code == 403
    assert "Your form could not be sent." in content
    assert "The Reading Room</a>" in content
    assert "CSRF" not in content

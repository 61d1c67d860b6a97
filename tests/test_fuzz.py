"""Fuzzing with hypothesis: random Unicode (NUL, lone surrogates, direction
overrides, 100 kB bodies, deeply nested tags) and random charsets into the
comment, reply, report, sign-up and log-in forms and into the plain-text import
parser. The answer is always a page or a clear error, never a 500 (the test
client raises what a view raised; the charset examples go through
config.wsgi.application, as a server calls it, and a 500 there is a failed
assertion), and the database holds exactly what was accepted: a row for each
302, with the text that was sent, and nothing else.

Examples are the same on every run (derandomize), so CI is reproducible; set
FORUM_FUZZ_RANDOM=1 to draw new ones.
"""

import itertools
import os
import re
import unicodedata
from contextlib import contextmanager
from io import BytesIO
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils.http import parse_header_parameters
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from articles.importers import (
    SourceError,
    decode_source,
    import_article,
    parse_article_text,
)
from articles.models import Article
from config.wsgi import application
from forum.forms import HONEYPOT_FIELD
from forum.models import Comment, Report
from tests.factories import PASSWORD, CommentFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()

# What a form may answer: a page (200), a redirect after a write (302), or a
# clear refusal (400, 403, 404, 429). Never 500.
ANSWERS = {200, 302, 400, 403, 404, 429}
ACCEPTED = 302
BOUNDARY = "fuzz-boundary-7MA4YWxkTrZu0gW"
ROOM = "1000000/60"


def fuzz(max_examples):
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=os.environ.get("FORUM_FUZZ_RANDOM") != "1",
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# --- What is sent ------------------------------------------------------------

SPECIAL_TEXTS = [
    "\x00",
    "\ud800",  # lone surrogates, both halves
    "\udfff",
    "\ud83d",  # the first half of an emoji
    "\u202e",  # right-to-left override, and the other direction controls
    "\u202d",
    "\u2066",
    "\u200b",  # zero-width space, joiner, BOM
    "\u200d",
    "\ufeff",
    "\r",
    "\r\n",
    "\n\n",
    "\u2028",
    "\x85",
    "\x1b[31m",
    "\t",
    " ",
    "\uffff",
    "\U0001f600",
    "e\u0301" * 3,
    "&amp;",
    "&#0;",
    "&#xd800;",
    "<",
    ">",
    "<script>alert(1)</script>",
    "<b>",
    "</b>",
    "<blockquote>",
    '<a href="javascript:alert(1)">',
    "http://example.com/?a=1&b=2",
]
SPECIAL = st.sampled_from(SPECIAL_TEXTS)
SURROGATE = st.characters(categories=["Cs"])
ANY_CHARACTER = st.one_of(st.characters(), SURROGATE)
TAGS = ["b", "i", "em", "strong", "q", "cite", "code", "del", "s", "blockquote"]


@st.composite
def nested_tags(draw):
    """Tags nested hundreds deep, balanced or not, around random text."""
    tags = draw(st.lists(st.sampled_from([*TAGS, "div", "svg", "a"]), min_size=1))
    depth = draw(st.integers(1, 400))
    inner = draw(st.text(ANY_CHARACTER, max_size=20))
    opening = "".join(f"<{tags[i % len(tags)]}>" for i in range(depth))
    closing = "".join(f"</{tags[i % len(tags)]}>" for i in reversed(range(depth)))
    if draw(st.booleans()):
        closing = closing[: draw(st.integers(0, len(closing)))]
    return opening + inner + closing


@st.composite
def long_text(draw):
    """Around the length limit, and 100 kB."""
    unit = draw(st.text(ANY_CHARACTER, min_size=1, max_size=8))
    size = draw(st.sampled_from([9_990, 10_000, 10_001, 100_000]))
    return (unit * (size // len(unit) + 1))[:size]


MIXED = st.lists(
    st.one_of(SPECIAL, st.text(ANY_CHARACTER, max_size=40)), max_size=25
).map("".join)
TEXT = st.one_of(MIXED, MIXED, MIXED, nested_tags(), long_text())
SHORT_TEXT = st.lists(
    st.one_of(SPECIAL, st.text(ANY_CHARACTER, max_size=20)), max_size=8
).map("".join)

# Charsets: what Django and the middleware read, aliases, codecs that are not
# ASCII-compatible or not text at all, and made-up names (a real server hands
# header bytes over as latin-1, so only those characters).
READABLE_CHARSET = st.sampled_from(
    [
        "utf-8",
        "UTF8",
        '"utf-8"',
        "latin1",
        "ISO-8859-1",
        "cp1252",
        "windows-1252",
        "ascii",
        "us-ascii",
    ]
)
CHARSET = st.one_of(
    READABLE_CHARSET,
    READABLE_CHARSET,
    st.sampled_from(
        [
            "utf-16",
            "utf-16-le",
            "utf-32",
            "utf-7",
            "unicode_escape",
            "raw_unicode_escape",
            "base64",
            "hex",
            "rot13",
            "zlib",
            "idna",
            "punycode",
            "cp037",
            "shift_jis",
            "big5",
            "koi8-r",
            "x-unknown",
            "",
        ]
    ),
    st.text(st.characters(max_codepoint=0xFF), max_size=12),
)


def _wire(text):
    """The bytes a client sends for ``text``: UTF-8, a lone surrogate as the
    three bytes a careless encoder writes for it (WTF-8)."""
    return text.encode("utf-8", "surrogatepass")


def _urlencoded(fields):
    return urlencode(fields, encoding="utf-8", errors="surrogatepass").encode()


def _multipart(fields):
    parts = []
    for name, value in fields.items():
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'
        parts.append(head.encode() + b"\r\n\r\n" + _wire(value) + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _content_type(*, multipart=False, charset=None, extended=None):
    """The form's Content-Type, with ``charset`` as a plain parameter or, given
    ``extended`` (an encoding), as an RFC 2231 one: charset*=utf-8''latin1."""
    if multipart:
        content_type = f"multipart/form-data; boundary={BOUNDARY}"
    else:
        content_type = "application/x-www-form-urlencoded"
    if charset is not None and extended is not None:
        content_type += f"; charset*={extended}''{charset}"
    elif charset is not None:
        content_type += f"; charset={charset}"
    return content_type


def _post(client, url, fields, *, multipart=False, charset=None):
    content_type = _content_type(multipart=multipart, charset=charset)
    body = _multipart(fields) if multipart else _urlencoded(fields)
    response = client.generic("POST", url, body, content_type=content_type)
    # Shown by --hypothesis-show-statistics: what share of the examples got how far.
    event(f"answered {response.status_code}")
    assert response.status_code in ANSWERS, response.status_code
    if response.status_code != ACCEPTED:
        assert response["Content-Type"].startswith("text/html")
    return response


@contextmanager
def _one_connection():
    """As the test client does: the test's transaction stays open across a
    request (a WSGI server's request signals would close the connection)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


CSRF_SECRET = "fuzzcsrfsecret0123456789abcdefgh"


def _served(client, path, body, content_type):
    """POST through config.wsgi.application, as gunicorn calls it: its request
    class reads the Content-Type before any middleware (the test client builds
    a plain WSGIRequest), and CSRF is checked. Returns (status, headers,
    content)."""
    cookies = {
        django_settings.SESSION_COOKIE_NAME: client.cookies[
            django_settings.SESSION_COOKIE_NAME
        ].value,
        django_settings.CSRF_COOKIE_NAME: CSRF_SECRET,
    }
    environ = {}
    setup_testing_defaults(environ)
    environ.update(
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": BytesIO(body),
            "HTTP_COOKIE": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            "HTTP_X_CSRFTOKEN": CSRF_SECRET,
        }
    )
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(headers)

    with _one_connection():
        chunks = application(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
    event(f"answered {answer['status']}")
    assert answer["status"] in ANSWERS, answer["status"]
    return answer["status"], answer["headers"], content


def _as_read(text, charset="utf-8"):
    """``text`` as the server reads it off the wire: bytes it cannot decode
    become U+FFFD."""
    return _wire(text).decode(charset, "replace")


def _as_stored(text, charset="utf-8"):
    """What a comment form stores for ``text``: read, trimmed, CRLF and CR as
    LF (forum/forms.py, forum/services/posting.py)."""
    text = _as_read(text, charset).strip()
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _comment_pks():
    return set(Comment.objects.values_list("pk", flat=True))


# --- Fixtures -----------------------------------------------------------------


@pytest.fixture
def room(settings):
    """Rate limits in force, but far above what the examples send."""
    for name in (
        "FORUM_RATE_POSTS",
        "FORUM_RATE_POSTS_PER_IP",
        "FORUM_RATE_REPORTS",
        "FORUM_RATE_REPORTS_PER_IP",
        "FORUM_RATE_SIGNUPS",
    ):
        setattr(settings, name, ROOM)
    settings.AXES_FAILURE_LIMIT = 1_000_000
    # Every report counts, and none hides the comment from the next reporter.
    settings.FORUM_REPORT_THRESHOLD = 1_000_000
    return settings


@pytest.fixture
def reader(db):
    return UserFactory()


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


# --- Comment, reply and report forms -----------------------------------------


def _check_comment_post(
    status, location, before, *, text, author, parent, charset="utf-8"
):
    """A 302 names a stored comment with what was sent (a resent text in the
    same place names the comment it made before); anything else stored
    nothing."""
    new = _comment_pks() - before
    if status != ACCEPTED:
        assert new == set()
        return
    pk = int(re.search(r"[?&]comment=(\d+)", location).group(1))
    assert new <= {pk}
    comment = Comment.objects.get(pk=pk)
    assert comment.body == _as_stored(text, charset)
    assert comment.author_id == author.pk
    assert comment.parent_id == (parent.pk if parent else None)


@fuzz(max_examples=150)
@given(text=TEXT, honeypot=st.sampled_from(["", "", "", "", "x", "\x00"]))
def test_comment_form_answers_every_text_and_stores_exactly_what_it_accepted(
    reader_client, reader, article, room, text, honeypot
):
    before = _comment_pks()
    response = _post(
        reader_client,
        article.comments_url,
        {"body": text, HONEYPOT_FIELD: honeypot},
    )
    assert response.status_code in {302, 400}
    if honeypot:
        assert response.status_code == 400
    _check_comment_post(
        response.status_code,
        response.get("Location"),
        before,
        text=text,
        author=reader,
        parent=None,
    )


@fuzz(max_examples=100)
@given(text=TEXT)
def test_reply_form_answers_every_text_and_stores_exactly_what_it_accepted(
    reader_client, reader, comment, room, text
):
    parent = comment
    before = _comment_pks()
    url = f"{parent.article.comments_url}{parent.pk}/reply/"
    response = _post(reader_client, url, {"body": text})
    assert response.status_code in {302, 400}
    _check_comment_post(
        response.status_code,
        response.get("Location"),
        before,
        text=text,
        author=reader,
        parent=parent,
    )


@fuzz(max_examples=150)
@given(
    text=SHORT_TEXT,
    charset=CHARSET,
    extended=st.one_of(st.none(), st.none(), CHARSET),
    multipart=st.booleans(),
)
def test_any_charset_gets_a_page_or_a_clear_refusal_never_a_500(
    reader_client, reader, article, room, text, charset, extended, multipart
):
    """A crafted charset once smuggled a lone surrogate into the markup, and an
    unknown or non-text one made Django raise: 500s. Now a charset the site
    does not read is refused whole; one it reads stores what the bytes say in
    it."""
    content_type = _content_type(
        multipart=multipart, charset=charset, extended=extended
    )
    fields = {"body": text}
    body = _multipart(fields) if multipart else _urlencoded(fields)
    before = _comment_pks()
    status, headers, _content = _served(
        reader_client, article.comments_url, body, content_type
    )
    assert status in {302, 400}
    try:
        # The charset as Django reads the header (quotes gone, RFC 2231 read).
        read_as = parse_header_parameters(content_type)[1].get("charset")
    except (ValueError, LookupError):
        read_as = None
    if status == ACCEPTED:
        # Only a charset that reads a form's ASCII as ASCII gets this far.
        assert _as_read("body=x", read_as or "utf-8") == "body=x"
    _check_comment_post(
        status,
        headers.get("Location"),
        before,
        text=text,
        author=reader,
        parent=None,
        charset=read_as or "utf-8",
    )


@pytest.fixture
def reported(article):
    return CommentFactory(article=article, body="A comment to report.")


@fuzz(max_examples=100)
@given(
    reason=st.one_of(st.sampled_from(Report.Reason.values), SHORT_TEXT),
    note=st.one_of(SHORT_TEXT, long_text().map(lambda text: text[:600])),
)
def test_report_form_answers_every_input_and_stores_exactly_what_it_accepted(
    client, reported, room, reason, note
):
    reporter = UserFactory()
    client.force_login(reporter)
    before = set(Report.objects.values_list("pk", flat=True))
    url = f"{reported.article.comments_url}{reported.pk}/report/"
    response = _post(client, url, {"reason": reason, "note": note})
    assert response.status_code in {302, 400}
    new = Report.objects.exclude(pk__in=before)
    if response.status_code != ACCEPTED:
        assert not new.exists()
        return
    [report] = new
    assert (report.comment_id, report.reporter_id) == (reported.pk, reporter.pk)
    assert report.reason == _as_read(reason)
    assert report.note == _as_read(note).strip()


# --- Sign-up and log-in --------------------------------------------------------

USERNAME = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_.@+-]{2,20}", fullmatch=True),
    SHORT_TEXT,
    st.text(ANY_CHARACTER, min_size=1, max_size=160),
)
GOOD_PASSWORD = st.from_regex(r"[a-z]{6}-[a-z]{6}-[0-9]{2}", fullmatch=True)
PASSWORD_TEXT = st.one_of(GOOD_PASSWORD, SHORT_TEXT)
EMAIL = st.one_of(
    st.just(""),
    st.emails().map(str),
    SHORT_TEXT,
)


@fuzz(max_examples=100)
@given(
    username=USERNAME,
    password=PASSWORD_TEXT,
    repeat=st.one_of(st.none(), PASSWORD_TEXT),
    email=EMAIL,
    honeypot=st.sampled_from(["", "", "", "x"]),
)
def test_signup_form_answers_every_input_and_makes_exactly_the_accepted_account(
    db, room, username, password, repeat, email, honeypot
):
    client = Client()
    before = set(User.objects.values_list("pk", flat=True))
    response = _post(
        client,
        "/accounts/signup/",
        {
            "username": username,
            "email": email,
            "password1": password,
            "password2": password if repeat is None else repeat,
            HONEYPOT_FIELD: honeypot,
        },
    )
    assert response.status_code in {302, 400}
    new = User.objects.exclude(pk__in=before)
    if response.status_code != ACCEPTED:
        assert not new.exists()
        return
    assert not honeypot
    [user] = new
    # Django's UsernameField: trimmed, then NFKC.
    assert user.username == unicodedata.normalize("NFKC", _as_read(username).strip())
    assert user.check_password(_as_read(password))
    assert client.session["_auth_user_id"] == str(user.pk)


@st.composite
def log_in_attempt(draw):
    """The reader's own name and password, bent (spaces, width, case) or not,
    or anything at all."""
    if draw(st.booleans()):
        name = draw(
            st.sampled_from(
                [
                    "reader-fuzz",
                    " reader-fuzz ",
                    "READER-FUZZ",
                    "ｒｅａｄｅｒ-ｆｕｚｚ",  # full-width: NFKC makes it the name
                    "reader-fuzz\x00",
                    "reader\u200b-fuzz",
                ]
            )
        )
    else:
        name = draw(SHORT_TEXT)
    if draw(st.booleans()):
        password = draw(
            st.sampled_from([PASSWORD, PASSWORD, PASSWORD + " ", PASSWORD.upper()])
        )
    else:
        password = draw(PASSWORD_TEXT)
    return name, password


@pytest.fixture
def fuzz_reader(db):
    return UserFactory(username="reader-fuzz")


@fuzz(max_examples=100)
@given(attempt=log_in_attempt())
def test_log_in_form_answers_every_input_and_lets_in_only_the_right_password(
    fuzz_reader, room, attempt
):
    username, password = attempt
    client = Client()
    fields = {"username": username, "password": password}
    response = _post(client, "/accounts/login/", fields)
    assert response.status_code in {200, 302}
    logged_in = client.session.get("_auth_user_id")
    assert (response.status_code == ACCEPTED) == (logged_in is not None)
    if _as_read(password) != PASSWORD:
        assert logged_in is None
    else:
        name = unicodedata.normalize("NFKC", _as_read(username).strip())
        if name == fuzz_reader.username:
            assert logged_in == str(fuzz_reader.pk)
        # Another spelling (case) may or may not be the same account.
        assert logged_in in (None, str(fuzz_reader.pk))


# --- The plain-text import parser ----------------------------------------------

LINE = st.one_of(
    SHORT_TEXT,
    st.sampled_from(
        [
            "",
            "",
            "Editor: A lead note.",
            "@Adam Agreed, mostly.",
            "Well, that is one view.",
            "They said so too.",
            "<blockquoteA heading fused to its tag",
            "https://example.com/source",
            "a line that wraps",
            "continues in lower case.",
            "Short note",
        ]
    ),
)
SOURCE_TEXT = st.lists(LINE, max_size=30).map("\n".join)
IMPORTS = itertools.count()


# What a text file's lines hold: no NUL (decode_source refuses it), no half
# of a surrogate pair (UTF-8 cannot hold one).
FILE_LINE = st.one_of(
    st.sampled_from(
        [
            "@Adam Agreed, mostly.",
            "Well, that is one view.",
            "They said so too.",
            "<blockquoteA heading fused to its tag",
            "https://example.com/source",
            "a line that wraps",
            "Short note",
        ]
    ),
    st.lists(
        st.one_of(
            st.sampled_from(
                [text for text in SPECIAL_TEXTS if text.isprintable() or text == "\t"]
            ),
            st.text(st.characters(exclude_characters="\x00"), max_size=40),
        ),
        min_size=1,
        max_size=5,
    ).map("".join),
)


@st.composite
def article_source(draw):
    """A lead line or not, body lines, a gap, then paragraphs of comments."""
    lead = draw(st.sampled_from(["Editor: A lead note.", "Peloni: Worth it.", None]))
    body = draw(st.lists(FILE_LINE, min_size=1, max_size=4))
    comments = draw(
        st.lists(st.lists(FILE_LINE, min_size=1, max_size=4).map("\n".join), max_size=8)
    )
    gap = draw(st.sampled_from(["\n\n", "\n\n\n", "\n \n", "\r\n\r\n"]))
    head = "\n".join([lead, *body] if lead else body)
    return head + gap + "\n\n".join(comments)


@fuzz(max_examples=200)
@given(text=st.one_of(SOURCE_TEXT, st.text(ANY_CHARACTER, max_size=300)).map(_as_read))
def test_parser_returns_an_article_or_a_clear_error_and_keeps_every_line(text):
    """Any text a file can hold (decode_source gives the parser UTF-8 only, so
    no lone surrogate: see the next test)."""
    try:
        parsed = parse_article_text(text)
    except SourceError as error:
        event("refused")
        assert str(error)
        return
    event("parsed")
    # The body runs from after the lead line to the first blank line; every
    # written line after it is in exactly one comment, in order.
    lines = text.split("\n")
    start = end = 1 if parsed.lead_author else 0
    while end < len(lines) and lines[end].strip():
        end += 1
    assert parsed.body == "\n".join(line.strip() for line in lines[start:end])
    covered = [number for comment in parsed.comments for number in comment.lines]
    written = [number + 1 for number in range(end, len(lines)) if lines[number].strip()]
    assert covered == written
    for index, comment in enumerate(parsed.comments):
        assert comment.body.strip()
        assert comment.parent_index is None or 0 <= comment.parent_index < index


def test_parser_refuses_a_lone_surrogate_naming_its_line():
    """Found by fuzzing: it raised UnicodeEncodeError (hashing the comment for
    its source key). Refused like bytes that are not UTF-8 (decode_source)."""
    with pytest.raises(SourceError) as error:
        parse_article_text("A body line.\n\nA comment \ud800 with half a pair.")

    assert str(error.value) == (
        "Line 3: not valid Unicode text (a lone surrogate, U+D800)."
    )


@fuzz(max_examples=100)
@given(source=article_source(), surrogate=SURROGATE, data=st.data())
def test_parser_refuses_a_lone_surrogate_anywhere_naming_its_line(
    source, surrogate, data
):
    at = data.draw(st.integers(0, len(source)), label="at")
    text = source[:at] + surrogate + source[at:]

    with pytest.raises(SourceError) as error:
        parse_article_text(text)

    line = text.count("\n", 0, at) + 1
    assert str(error.value) == (
        f"Line {line}: not valid Unicode text "
        f"(a lone surrogate, U+{ord(surrogate):04X})."
    )


@fuzz(max_examples=100)
@given(
    raw=st.one_of(
        article_source().map(_wire),
        article_source().map(_wire),
        article_source().map(lambda text: b"\xef\xbb\xbf" + _wire(text)),
        SOURCE_TEXT.map(_wire),
        st.builds(
            lambda lead, body, comments: _wire(f"{lead}\n{body}\n\n{comments}"),
            st.sampled_from(["Editor: A lead.", "", "Bad lead"]),
            SHORT_TEXT,
            SOURCE_TEXT,
        ),
        st.binary(max_size=400),
        long_text().map(lambda text: _wire("Title line.\n\n" + text)),
    )
)
def test_import_writes_all_or_nothing_and_exactly_what_it_parsed(db, raw):
    articles = Article.objects.count()
    comments = Comment.objects.count()
    key = f"fuzz:{next(IMPORTS)}"
    try:
        parsed = parse_article_text(decode_source(raw))
        result = import_article(parsed, source_key=key)
    except SourceError as error:
        event("refused: " + re.sub(r"\d+", "N", str(error))[:45])
        assert str(error)
        assert Article.objects.count() == articles
        assert Comment.objects.count() == comments
        return
    event(f"imported with {min(len(parsed.comments), 3)}+ comments")
    assert result.created
    assert Article.objects.count() == articles + 1
    stored = list(
        Comment.objects.filter(article=result.article)
        .order_by("pk")
        .values_list("body", "source_key")
    )
    # Written level by level (the bulk writer), so not in the file's order.
    assert sorted(stored) == sorted(
        (c.body.strip(), c.source_key) for c in parsed.comments
    )
    parents = dict(
        Comment.objects.filter(article=result.article).values_list(
            "source_key", "parent__source_key"
        )
    )
    assert parents == {
        c.source_key: (
            parsed.comments[c.parent_index].source_key
            if c.parent_index is not None
            else None
        )
        for c in parsed.comments
    }
    assert Comment.objects.count() == comments + len(parsed.comments)
    article = Article.objects.get(source_key=key)
    assert (article.title, article.lead, article.body) == (
        parsed.title,
        parsed.lead,
        parsed.body,
    )

"""Who gets what from every URL: five actors, each method, and every POST
without a CSRF token.

The tables below are the expectation, one line per URL, target and method; the
URLconf is the list of URLs, so a URL without a line fails
test_every_url_has_a_row. An answer that looks wrong is written as it should
be, with "!" after it: that cell is a strict xfail whose reason (BUGS) says
what the site answers instead.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from articles.models import Article
from forum import services
from forum.limits import RATE_SETTINGS
from forum.models import (
    Comment,
    CommentRevision,
    ModerationAction,
    Report,
    Sanction,
    WordRule,
)
from tests.factories import ArticleFactory, CommentFactory

ACTORS = ("anonymous", "reader", "suspended", "moderator", "admin")

# Methods: GET; POST with an empty form; POST+ with a valid form (VALID). Both
# POSTs carry a CSRF token; the same POSTs without one are
# test_post_without_csrf_token_is_refused.
GET, POST, POST_VALID = "GET", "POST", "POST+"

# Answers: a status code, or a redirect: "login" to /accounts/login/?next=<the
# page>, "a-login" to /admin/login/?next=<the page>, "302" anywhere else.
LOGIN, ADMIN_LOGIN, REDIRECT = "login", "a-login", "302"
ANSWERS = {"200", "400", "403", "404", "405", "429", LOGIN, ADMIN_LOGIN, REDIRECT}

# Targets, the objects in a URL (World.build): "visible" is a published comment
# by a third reader; "pending" one awaiting approval, with no replies, so that
# nobody but moderators and its author may learn it exists; "own" the
# reader's; "suspended-own" the suspended reader's, written before the
# suspension; "removed", "reported", "pinned" and "locked" are what restore,
# dismiss, unpin and unlock act on; "closed" is an article whose discussion
# is closed, "draft" an unpublished one and "draft-comment" a comment on it.
# Then one answer per actor, in the order of ACTORS.
SITE = """
URL                     target        method anon.  reader susp.  mod.   admin
favicon.ico             -             GET    302    302    302    302    302
favicon.ico             -             POST   302    302    302    302    302
articles:article_list   -             GET    200    200    200    200    200
articles:article_list   -             POST   200    200    200    200    200
articles:article_detail article       GET    200    200    200    200    200
articles:article_detail article       POST   200    200    200    200    200
articles:article_detail draft         GET    404    404    404    404    404
signup                  -             GET    200    200    200    200    200
signup                  -             POST   400    400    400    400    400
signup                  -             POST+  302    302    302    302    302
login                   -             GET    200    200    200    200    200
login                   -             POST   200    200    200    200    200
logout                  -             GET    405    405    405    405    405
logout                  -             POST   302    302    302    302    302
password_change         -             GET    login  200    200    200    200
password_change         -             POST   login  200    200    200    200
password_change_done    -             GET    login  200    200    200    200
password_change_done    -             POST   login  405    405    405    405
password_reset          -             GET    200    200    200    200    200
password_reset          -             POST   200    200    200    200    200
password_reset_done     -             GET    200    200    200    200    200
password_reset_done     -             POST   405    405    405    405    405
password_reset_confirm  bad-token     GET    200    200    200    200    200
password_reset_confirm  bad-token     POST   200    200    200    200    200
password_reset_complete -             GET    200    200    200    200    200
password_reset_complete -             POST   405    405    405    405    405
moderation_queue        -             GET    login  403    403    200    200
moderation_queue        -             POST   login  403    403    200    200
forum:comment_create    article       GET    login  200    200    200    200
forum:comment_create    article       POST   login  400    400    400    400
forum:comment_create    article       POST+  login  302    403    302    302
forum:comment_create    draft         GET    404    404    404    404    404
forum:comment_create    draft         POST+  404    404    404    404    404
forum:comments_close    article       GET    login  403    403    200    200
forum:comments_close    article       POST   login  403    403    302    302
forum:comments_reopen   closed        GET    login  403    403    200    200
forum:comments_reopen   closed        POST   login  403    403    302    302
forum:comment_detail    visible       GET    200    200    200    200    200
forum:comment_detail    visible       POST   200    200    200    200    200
forum:comment_detail    removed       GET    200    200    200    200    200
forum:comment_detail    pending       GET    404    404    404    200    200
forum:comment_detail    draft-comment GET    404    404    404    404    404
forum:comment_reply     visible       GET    login  200    200    200    200
forum:comment_reply     visible       POST   login  400    400    400    400
forum:comment_reply     visible       POST+  login  302    403    302    302
forum:comment_reply     pending       GET    404    404    404    200    200
forum:comment_reply     pending       POST+  404    404    404    400    400
forum:comment_reply     draft-comment GET    404    404    404    404    404
forum:comment_edit      visible       GET    login  403    403    403    403
forum:comment_edit      visible       POST+  login  403    403    403    403
forum:comment_edit      own           GET    login  200    403    403    403
forum:comment_edit      own           POST   login  400    403    403    403
forum:comment_edit      own           POST+  login  302    403    403    403
forum:comment_edit      suspended-own GET    login  403    200    403    403
forum:comment_edit      suspended-own POST+  login  403    403    403    403
forum:comment_edit      pending       GET    login  404    404    403    403
forum:comment_edit      pending       POST+  login  404    404    403    403
forum:comment_delete    visible       GET    login  403    403    403    403
forum:comment_delete    visible       POST   login  403    403    403    403
forum:comment_delete    own           GET    login  200    403    403    403
forum:comment_delete    own           POST   login  302    403    403    403
forum:comment_delete    suspended-own POST   login  403    302    403    403
forum:comment_delete    pending       GET    login  404    404    403    403
forum:comment_delete    pending       POST   login  404    404    403    403
forum:comment_report    visible       GET    login  200    200    200    200
forum:comment_report    visible       POST   login  400    400    400    400
forum:comment_report    visible       POST+  login  302    302    302    302
forum:comment_report    pending       GET    login  404    404    200    200
forum:comment_report    pending       POST+  login  404    404    302    302
forum:comment_remove    visible       GET    login  403    403    200    200
forum:comment_remove    visible       POST   login  403    403    400    400
forum:comment_remove    visible       POST+  login  403    403    302    302
forum:comment_remove    pending       GET    login  404    404    200    200
forum:comment_remove    pending       POST+  login  404    404    302    302
forum:comment_approve   pending       GET    login  404    404    200    200
forum:comment_approve   pending       POST   login  404    404    302    302
forum:comment_approve   visible       GET    login  403    403    200    200
forum:comment_approve   visible       POST   login  403    403    400    400
forum:comment_restore   removed       GET    login  403    403    200    200
forum:comment_restore   removed       POST   login  403    403    302    302
forum:comment_restore   pending       GET    login  404    404    200    200
forum:comment_restore   pending       POST   login  404    404    400    400
forum:comment_dismiss   reported      GET    login  403    403    200    200
forum:comment_dismiss   reported      POST   login  403    403    302    302
forum:comment_dismiss   pending       GET    login  404    404    200    200
forum:comment_dismiss   pending       POST   login  404    404    400    400
forum:comment_pin       visible       GET    login  403    403    200    200
forum:comment_pin       visible       POST   login  403    403    302    302
forum:comment_pin       pending       GET    login  404    404    200    200
forum:comment_pin       pending       POST   login  404    404    400    400
forum:comment_unpin     pinned        GET    login  403    403    200    200
forum:comment_unpin     pinned        POST   login  403    403    302    302
forum:comment_unpin     pending       GET    login  404    404    200    200
forum:comment_unpin     pending       POST   login  404    404    400    400
forum:comment_lock      visible       GET    login  403    403    200    200
forum:comment_lock      visible       POST   login  403    403    302    302
forum:comment_lock      pending       GET    login  404    404    200    200
forum:comment_lock      pending       POST   login  404    404    302    302
forum:comment_unlock    locked        GET    login  403    403    200    200
forum:comment_unlock    locked        POST   login  403    403    302    302
forum:comment_unlock    pending       GET    login  404    404    200    200
forum:comment_unlock    pending       POST   login  404    404    400    400
"""

# The admin's own pages; its model pages follow from ADMIN_MODELS, below.
# "user-box" asks the autocomplete for the user box of the sanction form.
ADMIN_PAGES = """
URL                             target   method anon.   reader  susp.   mod.   admin
admin:index                     -        GET   a-login a-login a-login 200    200
admin:index                     -        POST  a-login a-login a-login 200    200
admin:login                     -        GET   200     200     200     302    302
admin:login                     -        POST  200     200     200     200    200
admin:logout                    -        GET   302     302     302     405    405
admin:logout                    -        POST  302     302     302     302    302
admin:password_change           -        GET   a-login a-login a-login 200    200
admin:password_change           -        POST  a-login a-login a-login 200    200
admin:password_change_done      -        GET   a-login a-login a-login 200    200
admin:password_change_done      -        POST  a-login a-login a-login 405    405
admin:autocomplete              user-box GET   a-login a-login a-login 200    200
admin:autocomplete              user-box POST  a-login a-login a-login 405    405
admin:jsi18n                    -        GET   a-login a-login a-login 200    200
admin:jsi18n                    -        POST  a-login a-login a-login 405    405
admin:view_on_site              article  GET   a-login a-login a-login 302    302
admin:view_on_site              article  POST  a-login a-login a-login 302    302
admin:auth_user_password_change reader   GET   a-login a-login a-login 403    200
admin:auth_user_password_change reader   POST  a-login a-login a-login 403    200
admin/(?P<url>.*)$              nowhere  GET   a-login a-login a-login 404    404
admin/(?P<url>.*)$              nowhere  POST  a-login a-login a-login 404    404
"""
CATCH_ALL = "admin/(?P<url>.*)$"

# Each registered ModelAdmin: what a moderator and a superuser may do with its
# model (v view, a add, c change, d delete), as its has_*_permission methods
# say. The pages' answers follow (admin_model_rows); whoever is not staff is
# sent to the admin's log-in.
ADMIN_MODELS = {
    "auth.group": ("", "vacd"),
    "auth.user": ("v", "vacd"),
    "django_tasks_database.dbtaskresult": ("", "v"),
    "axes.accessattempt": ("", "vcd"),
    "axes.accesslog": ("", "vcd"),
    "axes.accessfailurelog": ("", "vcd"),
    "articles.article": ("v", "vacd"),
    "forum.comment": ("v", "v"),
    "forum.moderationaction": ("v", "v"),
    "forum.report": ("v", "v"),
    "forum.sanction": ("va", "va"),
    "forum.wordrule": ("vacd", "vacd"),
}
# Every field read-only: an empty POST is a whole form, saved as it was.
SAVED_BY_EMPTY_FORM = {"axes.accessattempt", "axes.accesslog", "axes.accessfailurelog"}

# Why a cell marked "!" answers otherwise, by URL or else by actor (strict
# xfail: once fixed, the test fails until the "!" goes).
BUGS = {
    "anonymous": (
        "BUG: a moderator's page answers a logged-out visitor 403 'You are not "
        "allowed to do that.' with no way to log in (the queue is linked from "
        "the moderators' emails); the reader's pages (edit, delete, report) and "
        "the admin redirect to log-in"
    ),
    "admin:autocomplete": (
        "BUG: the user box of the sanction form (SanctionAdmin.autocomplete_fields)"
        " asks the autocomplete view, which answers a moderator 403 because "
        "UserAdmin gives moderators no view permission: a moderator cannot pick "
        "whom to sanction"
    ),
}


def parse(table):
    """(URL, target, method, answer per actor) from a table above."""
    _header, *lines = table.strip().splitlines()
    rows = []
    for line in lines:
        key, target, method, *answers = line.split()
        assert len(answers) == len(ACTORS), line
        rows.append((key, None if target == "-" else target, method, *answers))
    return rows


def _admin_model_page(label, rights, page, method):
    """A staff member's answer on a model page, given the model's rights."""
    if page == "change" and method == POST and "c" in rights:
        # An empty POST is an invalid form: the page again, with what is
        # missing (or, with nothing to fill in, saved).
        return REDIRECT if label in SAVED_BY_EMPTY_FORM else "200"
    if page in ("changelist", "history"):
        allowed = "v" in rights
    elif page == "change":
        # A GET shows the page, read-only without "c"; a POST needs "c".
        allowed = "v" in rights and method == GET
    else:
        # A delete needs post=yes to act; an empty POST asks again.
        allowed = {"add": "a", "delete": "d"}[page] in rights
    return "200" if allowed else "403"


def admin_model_rows():
    rows = []
    not_staff = (ADMIN_LOGIN,) * 3
    apps = {}
    for label, (moderator, superuser) in ADMIN_MODELS.items():
        app, model = label.split(".")
        apps[app] = apps.get(app, "") + moderator
        for page in ("changelist", "add", "change", "delete", "history"):
            # The history, like an app's index and a <pk>/ redirect, answers
            # any method alike: walked with GET only.
            for method in (GET,) if page == "history" else (GET, POST):
                rows.append(
                    (f"admin:{app}_{model}_{page}", label, method)
                    + not_staff
                    + (
                        _admin_model_page(label, moderator, page, method),
                        _admin_model_page(label, superuser, page, method),
                    )
                )
        # <pk>/ redirects to <pk>/change/, for staff whatever their rights.
        route = f"admin/{app}/{model}/<path:object_id>/"
        rows.append((route, label, GET, *not_staff, REDIRECT, REDIRECT))
    for app, moderator in apps.items():
        answer = "200" if moderator else "404"
        rows.append(("admin:app_list", app, GET, *not_staff, answer, "200"))
    return rows


ROWS = parse(SITE) + parse(ADMIN_PAGES) + admin_model_rows()


PASSWORD = "a-Long-walk-2741"
# What a valid form holds, for POST+ and for the POSTs without a CSRF token
# (a refused POST proves more when the same POST with a token would write).
VALID = {
    "signup": lambda w: {
        "username": "newcomer",
        "password1": PASSWORD,
        "password2": PASSWORD,
    },
    "forum:comment_create": lambda w: {"body": "A comment written for the walk."},
    "forum:comment_reply": lambda w: {"body": "A reply written for the walk."},
    "forum:comment_edit": lambda w: {"body": "Edited during the walk."},
    "forum:comment_report": lambda w: {"reason": "spam"},
    "forum:comment_remove": lambda w: {"reason": "spam"},
    "forum:comments_close": lambda w: {"message": "Closed for the walk."},
    "login": lambda w: {"username": "walk-reader", "password": PASSWORD},
    "admin:forum_comment_changelist": lambda w: {
        "action": "remove",
        "_selected_action": [w.comments["visible"].pk],
        "index": "0",
        "reason": "spam",
    },
    "admin:articles_article_changelist": lambda w: {
        "action": "close_comments",
        "_selected_action": [w.articles["article"].pk],
        "index": "0",
    },
    "admin:forum_sanction_changelist": lambda w: {
        "action": "lift",
        "_selected_action": [w.admin_objects["forum.sanction"].pk],
        "index": "0",
    },
    "admin:forum_sanction_add": lambda w: {
        "user": w.users["reader"].pk,
        "kind": "ban",
        "reason": "Walked into a ban.",
    },
    "admin:forum_wordrule_add": lambda w: {"phrase": "walkword", "kind": "banned"},
    "admin:auth_group_add": lambda w: {"name": "walkers"},
}


def _valid(key, world):
    if key in VALID:
        return VALID[key](world)
    if key.startswith("admin:") and key.endswith("_delete"):
        return {"post": "yes"}  # the confirmation
    return {}


def _cells():
    cells = []
    for key, target, method, *answers in ROWS:
        for actor, answer in zip(ACTORS, answers, strict=True):
            expected = answer.rstrip("!")
            assert expected in ANSWERS, (key, answer)
            marks = ()
            if answer.endswith("!"):
                reason = BUGS.get(key) or BUGS[actor]
                marks = pytest.mark.xfail(strict=True, reason=reason)
            cells.append(
                pytest.param(
                    key,
                    target,
                    method,
                    actor,
                    expected,
                    marks=marks,
                    id=f"{key}[{target}]-{method}-{actor}",
                )
            )
    return cells


def _csrf_cells():
    """Every URL and target that takes a POST (anything but 405 from someone),
    for every actor."""
    takes_post = {}
    for key, target, method, *answers in ROWS:
        if method != GET:
            accepts = any(a.rstrip("!") != "405" for a in answers)
            takes_post[key, target] = takes_post.get((key, target)) or accepts
    return [
        pytest.param(key, target, actor, id=f"{key}[{target}]-{actor}")
        for (key, target), accepts in takes_post.items()
        if accepts
        for actor in ACTORS
    ]


@dataclass
class World:
    users: dict = field(default_factory=dict)
    articles: dict = field(default_factory=dict)
    comments: dict = field(default_factory=dict)
    admin_objects: dict = field(default_factory=dict)
    sessions: dict = field(default_factory=dict)

    @classmethod
    def build(cls):
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog
        from django_tasks_db.models import DBTaskResult

        world = cls()
        User = get_user_model()
        users = world.users
        users["moderator"] = User.objects.create_user(
            "walk-moderator", password=PASSWORD, is_staff=True
        )
        users["moderator"].user_permissions.add(
            Permission.objects.get(
                codename="moderate_comment", content_type__app_label="forum"
            )
        )
        users["admin"] = User.objects.create_superuser("walk-admin", password=PASSWORD)
        for name in ("reader", "suspended", "author", "reporter"):
            users[name] = User.objects.create_user(f"walk-{name}", password=PASSWORD)
        moderator, author = users["moderator"], users["author"]

        article = world.articles["article"] = ArticleFactory()
        draft = world.articles["draft"] = ArticleFactory()
        comments = world.comments
        comments["draft-comment"] = CommentFactory(article=draft, author=author)
        Article.objects.filter(pk=draft.pk).update(published_at=None)
        closed = world.articles["closed"] = ArticleFactory()
        services.close_comments(article=closed, moderator=users["moderator"])

        def comment(**kwargs):
            return CommentFactory(article=article, **{"author": author, **kwargs})

        comments["visible"] = comment()
        comments["pending"] = comment(status=Comment.Status.PENDING)
        comments["own"] = comment(author=users["reader"])
        comments["suspended-own"] = comment(author=users["suspended"])
        comments["removed"] = comment()
        services.remove_comment(
            comment=comments["removed"], moderator=moderator, reason="spam"
        )
        comments["reported"] = comment()
        services.report_comment(
            comment=comments["reported"], reporter=users["reporter"], reason="spam"
        )
        comments["pinned"] = comment()
        services.pin_comment(comment=comments["pinned"], moderator=moderator)
        comments["locked"] = comment()
        services.lock_replies(comment=comments["locked"], moderator=moderator)
        suspension = services.sanction_user(
            user=users["suspended"],
            moderator=moderator,
            kind=Sanction.Kind.SUSPEND,
            reason="Walked too fast.",
            until=timezone.now() + timedelta(days=7),
        )

        access = {"user_agent": "walk", "ip_address": "127.0.0.1", "path_info": "/"}
        world.admin_objects = {
            "auth.group": Group.objects.create(name="walk-group"),
            "auth.user": author,
            "django_tasks_database.dbtaskresult": DBTaskResult.objects.create(
                args_kwargs={"args": [], "kwargs": {}},
                task_path="forum.notify.walk",
                backend_name="default",
                run_after=timezone.now(),
            ),
            "axes.accessattempt": AccessAttempt.objects.create(
                **access, username="walk", failures_since_start=1
            ),
            "axes.accesslog": AccessLog.objects.create(**access, username="walk"),
            "axes.accessfailurelog": AccessFailureLog.objects.create(
                **access, username="walk"
            ),
            "articles.article": article,
            "forum.comment": comments["visible"],
            "forum.moderationaction": ModerationAction.objects.filter(
                comment=comments["removed"]
            ).first(),
            "forum.report": Report.objects.get(comment=comments["reported"]),
            "forum.sanction": suspension,
            "forum.wordrule": WordRule.objects.create(
                phrase="walk-rule", kind=WordRule.Kind.SUSPECT
            ),
        }
        # One session per actor, rolled back with everything after each test.
        for actor in ACTORS[1:]:
            client = Client()
            client.force_login(users[actor])
            world.sessions[actor] = client.cookies[settings.SESSION_COOKIE_NAME].value
        return world

    def url(self, key, target):
        """The path, with its query string, of URL ``key`` for ``target``."""
        if key == "favicon.ico":
            return "/favicon.ico"
        if key == CATCH_ALL:
            return reverse("admin:index") + f"{target}/"
        if key.startswith("admin/"):  # a model's <pk>/ redirect
            pk = self.admin_objects[target].pk
            return "/" + key.replace("<path:object_id>", str(pk))
        if key == "admin:autocomplete":
            query = "app_label=forum&model_name=sanction&field_name=user&term=walk"
            return f"{reverse(key)}?{query}"
        return reverse(key, kwargs=self.kwargs(key, target))

    def kwargs(self, key, target):
        if target is None:
            return {}
        if key == "admin:app_list":
            return {"app_label": target}
        if key == "admin:view_on_site":
            model = self.articles[target]
            content_type = ContentType.objects.get_for_model(model)
            return {"content_type_id": content_type.pk, "object_id": model.pk}
        if key == "admin:auth_user_password_change":
            return {"id": self.users[target].pk}
        if key.startswith("admin:") and key.endswith(
            ("_change", "_delete", "_history")
        ):
            return {"object_id": self.admin_objects[target].pk}
        if key.startswith("admin:"):  # a model's list or add page
            return {}
        if key == "password_reset_confirm":
            uid = urlsafe_base64_encode(force_bytes(self.users["reader"].pk))
            return {"uidb64": uid, "token": target}
        if target in self.comments:
            found = self.comments[target]
            return {"slug": found.article.slug, "pk": found.pk}
        return {"slug": self.articles[target].slug}

    def client(self, actor, *, enforce_csrf_checks=False):
        client = Client(enforce_csrf_checks=enforce_csrf_checks)
        if actor != "anonymous":
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[actor]
        return client


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Posting rules that would decide instead of the permissions: off, or raised
# far above what the walk posts. Set for the whole module (override_settings in
# the world fixture): set per test through ``settings``, they cost more than
# the requests.
QUIET = {
    "FORUM_PREMODERATION": False,
    "FORUM_PREMODERATE_FIRST_COMMENTS": 0,
    "FORUM_PREMODERATE_LINKS_OVER": None,
    "FORUM_SIGNUP_MIN_SECONDS": 0,
    **dict.fromkeys(RATE_SETTINGS, "100000/60"),
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module, inside a transaction rolled back at its end;
    each test runs in a savepoint inside it (pytest-django's ``db``), so what a
    POST changes is gone before the next cell."""
    with django_db_blocker.unblock(), override_settings(**QUIET):
        outer = transaction.atomic()
        # Counts as a test case's block, so a service's durable atomic() may
        # still open inside it, as in any other test.
        outer._from_testcase = True
        with outer:
            with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
                built = World.build()
            yield built
            transaction.set_rollback(True)


@pytest.fixture
def walk(db, world):
    return world


# What a request could write: row counts, and the fields moderation flips.
COUNTED = (
    Article,
    Comment,
    CommentRevision,
    Group,
    ModerationAction,
    Report,
    Sanction,
    WordRule,
    get_user_model(),
)
FLIPPED = {
    Comment: ("id", "status", "body", "pinned_at", "replies_locked_at"),
    Article: ("id", "published_at", "comments_closed_at"),
    Sanction: ("id", "lifted_at"),
}


def state():
    """COUNTED and FLIPPED as they stand, in plain SQL: it runs twice a cell."""
    quote = connection.ops.quote_name
    counts = ", ".join(
        f"(SELECT COUNT(*) FROM {quote(model._meta.db_table)})" for model in COUNTED
    )
    found = {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        found["counts"] = cursor.fetchone()
        for model, fields in FLIPPED.items():
            columns = ", ".join(quote(model._meta.get_field(f).column) for f in fields)
            table = quote(model._meta.db_table)
            cursor.execute(f"SELECT {columns} FROM {table} ORDER BY 1")
            found[model.__name__] = cursor.fetchall()
    return found


def _describe(response):
    return f"{response.status_code} {response.get('Location', '')}".strip()


def assert_answer(response, expected, path):
    if expected in (LOGIN, ADMIN_LOGIN):
        login = reverse("login" if expected == LOGIN else "admin:login")
        location = urlsplit(response.get("Location", ""))
        assert (
            response.status_code,
            location.path,
            parse_qs(location.query).get("next"),
        ) == (302, login, [path]), _describe(response)
    elif expected == REDIRECT:
        location = urlsplit(response.get("Location", "")).path
        assert response.status_code == 302, _describe(response)
        assert location not in (reverse("login"), reverse("admin:login"))
    else:
        assert response.status_code == int(expected), _describe(response)


@pytest.mark.parametrize(("key", "target", "method", "actor", "expected"), _cells())
def test_answer(walk, key, target, method, actor, expected):
    path = walk.url(key, target)
    client = walk.client(actor)
    before = state()
    if method == GET:
        response = client.get(path)
    else:
        data = _valid(key, walk) if method == POST_VALID else {}
        response = client.post(path, data)
    assert_answer(response, expected, path)
    if method == GET:
        assert state() == before, "a GET wrote"
    elif expected != REDIRECT:
        assert state() == before, "a refused POST wrote"
    elif key.startswith("forum:") or key == "signup":
        # The success path: it did what it says.
        assert state() != before, "a POST answered as done wrote nothing"


@pytest.mark.parametrize(("key", "target", "actor"), _csrf_cells())
def test_post_without_csrf_token_is_refused(walk, key, target, actor):
    path = walk.url(key, target)
    client = walk.client(actor, enforce_csrf_checks=True)
    before = state()
    response = client.post(path, _valid(key, walk))
    assert response.status_code == 403, _describe(response)
    assert "403_csrf.html" in [t.name for t in response.templates]
    assert state() == before


def url_keys():
    """Every URL pattern in the URLconf: its name with namespaces, or for an
    unnamed one its route."""
    keys = set()

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace]))
                walk(pattern.url_patterns, route, inner)
            elif pattern.name:
                keys.add(":".join(filter(None, [namespace, pattern.name])))
            else:
                keys.add(route)

    walk(get_resolver().url_patterns, "", "")
    return keys


def test_every_url_has_a_row():
    tabled = {row[0] for row in ROWS}
    assert sorted(url_keys() - tabled) == [], "URLs without a row in the tables"
    assert sorted(tabled - url_keys()) == [], "rows for URLs the URLconf lacks"


def test_every_admin_model_has_a_row():
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert sorted(registered ^ set(ADMIN_MODELS)) == []


def test_every_url_is_walked_with_get_and_post():
    methods = {}
    for key, _target, method, *_answers in ROWS:
        methods.setdefault(key, set()).add(method.rstrip("+"))
    walked_once = {
        key: found
        for key, found in methods.items()
        if found != {GET, POST} and not _answers_any_method(key)
    }
    assert walked_once == {}


def _answers_any_method(key):
    """Admin pages walked with GET only (admin_model_rows)."""
    return key == "admin:app_list" or key.endswith(("_history", ">/"))

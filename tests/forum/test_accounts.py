"""Accounts: names that cannot pass for another's (forum/forms.py), an email
address at sign-up (FORUM_SIGNUP_EMAIL), and the password reset by email
(forum/password_reset.py, templates/registration/)."""

import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from forum import limits, screening, services
from forum.admin import UserChangeAdminForm
from forum.forms import EMAIL_TAKEN, USERNAME_TAKEN, SignupForm, mixed_scripts
from forum.models import UsernameKey
from forum.password_reset import TOO_MANY_RESETS
from tests.factories import PASSWORD, UserFactory
from tests.forum.test_notify import _run_worker
from tests.html import element, elements

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NEW_PASSWORD = "a-new-and-longer-passphrase"


def _sign_up(client, username, **extra):
    return client.post(
        reverse("signup"),
        {"username": username, "password1": PASSWORD, "password2": PASSWORD, **extra},
    )


def _form(username, **extra):
    form = SignupForm(
        {"username": username, "password1": PASSWORD, "password2": PASSWORD, **extra}
    )
    form.is_valid()
    return form


def _usernames():
    return set(get_user_model().objects.values_list("username", flat=True))


# Names: one answer for taken and for too close, whatever makes it close.


@pytest.mark.parametrize(
    ("existing", "wanted"),
    [
        ("reader", "reader"),
        ("reader", "Reader"),
        ("Reader", "READER"),
        ("reader", "ｒｅａｄｅｒ"),  # full-width letters
        ("cope", "соре"),  # all four Cyrillic
        ("oboe", "οβοε"),  # all four Greek, with the omicron
        ("kat", "ΚΑΤ"),  # Greek capitals
        ("reader", "rëader"),  # an accent
        ("reader", "r3ader"),  # a digit for a letter
        ("admin", "adm1n"),
        ("straße", "strasse"),
    ],
)
def test_a_name_taken_or_passing_for_a_taken_one_is_refused_alike(
    client, existing, wanted
):
    UserFactory(username=existing)

    response = _sign_up(client, wanted)

    assert response.status_code == 400
    assert _form(wanted).errors == {"username": [USERNAME_TAKEN]}
    assert USERNAME_TAKEN in response.content.decode()
    assert _usernames() == {existing}
    assert SESSION_KEY not in client.session


def _page_as_refused(response, username):
    """The page without what changes on every showing (the CSRF token, the
    signed time the form was shown) and without the name typed."""
    page = re.sub(
        r'(name="(?:csrfmiddlewaretoken|started)" value=)"[^"]*"',
        r'\1""',
        response.content.decode(),
    )
    return page.replace(f'value="{username}"', 'value=""')


def test_the_page_for_a_look_alike_is_the_page_for_a_taken_name(client):
    UserFactory(username="cope")

    taken = _sign_up(client, "cope")
    look_alike = _sign_up(client, "соре")

    assert taken.status_code == look_alike.status_code == 400
    assert _page_as_refused(taken, "cope") == _page_as_refused(look_alike, "соре")


@pytest.mark.parametrize(
    ("wanted", "mixed"),
    [
        ("rеader", "Cyrillic and Latin"),  # Cyrillic е
        ("rοad", "Greek and Latin"),  # Greek ο
        ("Алексjohn", "Cyrillic and Latin"),
        ("ηλιος_солнце", "Cyrillic and Greek"),
    ],
)
def test_a_name_mixing_alphabets_is_refused_with_a_reason(client, wanted, mixed):
    response = _sign_up(client, wanted)

    assert response.status_code == 400
    assert _form(wanted).errors == {
        "username": [f"Use the letters of one alphabet: this name mixes {mixed}."]
    }
    assert _usernames() == set()


def test_a_mixed_name_is_refused_for_mixing_also_when_it_passes_for_a_taken_one():
    """The reason does not depend on what exists: it tells nothing about it."""
    UserFactory(username="reader")

    assert (
        _form("rеader").errors
        == _form("rеadеr2").errors
        == {
            "username": [
                "Use the letters of one alphabet: this name mixes Cyrillic and Latin."
            ]
        }
    )


@pytest.mark.parametrize(
    "name",
    [
        "читатель",
        "αναγνώστης",
        "読者",
        "山田taro",
        "やまだ山田タロウ",
        "김민준",
        "reader_2",
    ],
)
def test_a_name_in_one_script_or_in_scripts_written_together_is_accepted(client, name):
    assert mixed_scripts(name) == []

    response = _sign_up(client, name)

    assert response.status_code == 302
    assert _usernames() == {name}


def test_names_are_stored_in_their_nfkc_form(client):
    _sign_up(Client(), "ｎｅｗｒｅａｄｅｒ")
    _sign_up(Client(), "ﬁona")  # the "fi" ligature

    assert _usernames() == {"newreader", "fiona"}


def test_the_admin_change_form_holds_only_a_changed_name_to_the_rules():
    """A name is never close to its own account's; and two old look-alikes
    (made before these rules) can still be edited: the older keeps the look."""
    reader, old_look_alike = (
        UserFactory(username="reader"),
        UserFactory(username="Reader"),
    )

    def _change(user, username):
        return UserChangeAdminForm(
            {"username": username, "date_joined": "2024-01-01 00:00:00"},
            instance=user,
        )

    assert _change(reader, "READER").is_valid()
    assert _change(old_look_alike, "Reader").is_valid()
    assert _change(old_look_alike, "rEader").errors == {"username": [USERNAME_TAKEN]}
    reader.delete()
    assert _change(old_look_alike, "READER").is_valid()


def _keys():
    return dict(UsernameKey.objects.values_list("user__username", "key"))


def test_each_name_keeps_its_look_through_sign_up_and_renames(client, admin_client):
    _sign_up(client, "newreader")
    user = get_user_model().objects.get(username="newreader")

    assert _keys()["newreader"] == services.username_key("NEWREADER")

    response = admin_client.post(
        reverse("admin:auth_user_change", args=[user.pk]),
        {
            "username": "renamed",
            "date_joined_0": "2024-01-01",
            "date_joined_1": "00:00",
        },
    )

    assert response.status_code == 302
    assert "newreader" not in _keys()
    assert _keys()["renamed"] == services.username_key("renamed")
    assert _sign_up(Client(), "newreader").status_code == 302


def test_a_look_alike_taken_after_the_form_was_checked_is_refused(client, monkeypatch):
    """Two sign-ups at once: the one whose check passed before the other was
    stored still fails on the stored look, with the form's answer."""
    UserFactory(username="cope")
    assert _keys() == {"cope": services.username_key("cope")}
    monkeypatch.setattr(services, "name_is_free", lambda **kwargs: True)

    response = _sign_up(client, "соре")

    assert response.status_code == 400
    assert USERNAME_TAKEN in response.content.decode()
    assert _usernames() == {"cope"}
    assert SESSION_KEY not in client.session


def test_the_admin_refuses_a_look_alike_taken_after_its_form_was_checked(
    admin_client, monkeypatch
):
    UserFactory(username="cope")
    monkeypatch.setattr(services, "name_is_free", lambda **kwargs: True)
    url = reverse("admin:auth_user_add")

    response = admin_client.post(
        url,
        {"username": "соре", "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )

    assert response.redirect_chain == [(url, 302)]
    assert USERNAME_TAKEN in response.content.decode()
    assert _usernames() == {"cope", "admin"}


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_simultaneous_look_alike_sign_ups_make_one_account():
    names = ["mirror", "MIRROR", "mіrror", "m1rror"]  # one with a Cyrillic і
    barrier = threading.Barrier(len(names))
    answers = []

    def sign_up(name):
        barrier.wait()
        try:
            answers.append(_sign_up(Client(), name).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [302, 400, 400, 400]
    assert len(_usernames()) == 1
    assert len(_keys()) == 1


def test_the_admin_cannot_make_a_look_alike_of_an_existing_name(admin_client):
    UserFactory(username="reader")

    added = admin_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "rеader",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    renamed = admin_client.post(
        reverse("admin:auth_user_change", args=[UserFactory(username="other").pk]),
        {"username": "READER", "date_joined_0": "2024-01-01", "date_joined_1": "0:0"},
    )

    assert added.status_code == renamed.status_code == 200  # the form again
    assert "this name mixes Cyrillic and Latin" in added.content.decode()
    assert USERNAME_TAKEN in renamed.content.decode()
    assert _usernames() == {"reader", "other", "admin"}


def test_the_admin_can_still_add_an_unlike_name(admin_client):
    response = admin_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newcomer",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 302
    assert "newcomer" in _usernames()


def test_skeleton_folds_what_a_reader_cannot_tell_apart():
    assert {
        screening.skeleton(name)
        for name in ["reader", "Reader", "rеader", "ｒｅａｄｅｒ", "r3ader", "rëader"]
    } == {"reader"}
    assert screening.skeleton("reader") != screening.skeleton("leader")


# An email address at sign-up: FORUM_SIGNUP_EMAIL.


def test_email_is_optional_by_default(client, settings):
    assert settings.FORUM_SIGNUP_EMAIL == "optional"
    page = client.get(reverse("signup")).content.decode()
    box = element(page, "input", name="email")
    assert box.attrs["type"] == "email"
    assert "required" not in box.attrs
    assert box.attrs["autocomplete"] == "email"

    without = _sign_up(Client(), "without")
    given = _sign_up(Client(), "given", email="Given@Example.COM")

    assert (without.status_code, given.status_code) == (302, 302)
    User = get_user_model()
    assert User.objects.get(username="without").email == ""
    # Django's normalize_email: the domain in lower case, the local part as typed.
    assert User.objects.get(username="given").email == "Given@example.com"


def test_email_can_be_required(client, settings):
    settings.FORUM_SIGNUP_EMAIL = "required"
    page = client.get(reverse("signup")).content.decode()
    assert "required" in element(page, "input", name="email").attrs

    without = _sign_up(client, "without")
    given = _sign_up(client, "given", email="given@example.com")

    assert without.status_code == 400
    assert _form("without").errors == {"email": ["This field is required."]}
    assert given.status_code == 302
    assert _usernames() == {"given"}


def test_email_can_be_off(client, settings):
    settings.FORUM_SIGNUP_EMAIL = "off"
    page = client.get(reverse("signup")).content.decode()
    assert elements(page, "input", name="email") == []

    response = _sign_up(client, "newreader", email="sent@example.com")

    assert response.status_code == 302
    assert get_user_model().objects.get(username="newreader").email == ""


def test_an_address_already_used_is_refused_in_any_case(client):
    UserFactory(username="first", email="Reader@Example.com")

    response = _sign_up(client, "second", email="reader@EXAMPLE.com")

    assert response.status_code == 400
    assert _form("second", email="READER@example.com").errors == {
        "email": [EMAIL_TAKEN]
    }
    assert _usernames() == {"first"}


def test_a_mistyped_email_setting_stops_the_server_from_starting():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "1", "FORUM_SIGNUP_EMAIL": "yes"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "FORUM_SIGNUP_EMAIL is optional, required or off." in result.stderr


# The password reset, end to end.


def _ask_for_reset(client, email):
    return client.post(reverse("password_reset"), {"email": email})


def _link(message):
    [url] = re.findall(r"https?://\S+", message.body)
    return url.removeprefix("http://testserver")


def test_log_in_page_links_to_the_password_reset(client):
    page = client.get(reverse("login")).content.decode()

    link = element(page, "a", href=reverse("password_reset"))
    assert link is not None
    assert "Forgotten your password?" in page


def test_a_forgotten_password_is_reset_by_email(client, mailoutbox):
    user = UserFactory(username="reader", email="reader@example.com")

    asked = _ask_for_reset(client, "READER@example.com")
    assert asked.status_code == 302
    assert asked["Location"] == reverse("password_reset_done")
    [message] = mailoutbox
    assert message.to == ["reader@example.com"]
    assert message.subject == "Reset your password at The Reading Room"
    assert "“reader”" in message.body

    link = client.get(_link(message))
    assert link.status_code == 302  # to the same page without the token
    form = client.get(link["Location"])
    assert form.status_code == 200
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        link["Location"],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done["Location"] == reverse("password_reset_complete")
    assert "Your new password is set" in client.get(done["Location"]).content.decode()

    old = Client().post(reverse("login"), {"username": "reader", "password": PASSWORD})
    new_client = Client()
    new = new_client.post(
        reverse("login"), {"username": "reader", "password": NEW_PASSWORD}
    )
    assert old.status_code == 200  # the form again
    assert new.status_code == 302
    assert new_client.session[SESSION_KEY] == str(user.pk)
    # The link works once.
    used = client.get(_link(message), follow=True).content.decode()
    assert "This link no longer works" in used


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, mailoutbox):
    UserFactory(username="reader", email="reader@example.com")

    known = _ask_for_reset(Client(), "reader@example.com")
    mailoutbox.clear()
    unknown = _ask_for_reset(Client(), "nobody@example.com")

    assert (unknown.status_code, unknown["Location"]) == (
        known.status_code,
        known["Location"],
    )
    assert mailoutbox == []
    page = client.get(unknown["Location"])
    assert page.status_code == 200
    assert "If an account has the address you gave" in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_reset_email_is_sent_by_the_worker_not_the_request(settings, mailoutbox):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    UserFactory(username="reader", email="reader@example.com")

    _ask_for_reset(Client(), "reader@example.com")

    assert mailoutbox == []
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "forum.password_reset.send_password_reset_email"
    _run_worker()
    [message] = mailoutbox
    assert message.to == ["reader@example.com"]


def test_reset_requests_are_limited_per_address(settings, mailoutbox):
    settings.FORUM_RATE_PASSWORD_RESETS_PER_IP = "2/3600"
    UserFactory(username="reader", email="reader@example.com")
    client = Client()

    statuses = [
        _ask_for_reset(client, email).status_code
        for email in ("nobody@example.com", "reader@example.com")
    ]
    refused = _ask_for_reset(client, "reader@example.com")
    elsewhere = _ask_for_reset(Client(REMOTE_ADDR="203.0.113.7"), "reader@example.com")

    assert statuses == [302, 302]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3600
    page = refused.content.decode()
    assert TOO_MANY_RESETS in page
    assert element(page, "input", name="email").attrs["value"] == "reader@example.com"
    assert elsewhere.status_code == 302
    assert len(mailoutbox) == 2


def test_a_reader_changes_their_password(client, user):
    client.force_login(user)

    page = client.get(reverse("password_change"))
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert "Change your password" in page.content.decode()
    assert response["Location"] == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.session[SESSION_KEY] == str(user.pk)  # still logged in here


@pytest.mark.parametrize(
    "url",
    [
        reverse("password_reset"),
        reverse("password_reset_done"),
        reverse("password_reset_complete"),
        reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "x-y"}),
    ],
)
def test_account_pages_are_the_sites_not_the_admins(client, url):
    page = client.get(url).content.decode()

    assert "The Reading Room" in page
    assert "Django site admin" not in page


def test_reset_requests_are_limited_by_default(settings):
    assert limits.parse_rate(settings.FORUM_RATE_PASSWORD_RESETS_PER_IP) == (
        limits.Rate(5, 3600)
    )
    assert "FORUM_RATE_PASSWORD_RESETS_PER_IP" in limits.RATE_SETTINGS

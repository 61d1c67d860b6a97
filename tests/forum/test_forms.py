"""Comment and sign-up forms (forum/forms.py)."""

import time

import pytest
from django.core import signing

from forum.forms import HONEYPOT_FIELD, CommentForm, SignupForm, signup_stamp
from tests.factories import PASSWORD
from tests.html import element


def test_comment_box_never_cuts_a_long_paste_short(settings):
    """No maxlength: a browser would silently drop whatever goes past it. The
    limit is there for the counter script, and the server refuses."""
    settings.FORUM_COMMENT_MAX_LENGTH = 1234

    textarea = element(str(CommentForm()["body"]), "textarea")

    assert "maxlength" not in textarea.attrs
    assert textarea.attrs["data-max-length"] == "1234"


def test_comment_form_leaves_the_length_limit_to_the_service(settings):
    """forum/services/ says how long the text is and how long it may be;
    the form lets it through so the reader reads that message."""
    settings.FORUM_COMMENT_MAX_LENGTH = 10

    form = CommentForm({"body": "x" * 11})

    assert form.is_valid()
    assert form.cleaned_data["body"] == "x" * 11


# The honeypot: a box people never see and never fill


@pytest.mark.parametrize("form_class", [CommentForm, SignupForm])
def test_a_filled_honeypot_marks_the_form_as_sent_by_a_bot(form_class):
    filled = form_class({"body": "Hi", HONEYPOT_FIELD: "http://spam.example"})
    empty = form_class({"body": "Hi", HONEYPOT_FIELD: ""})
    missing = form_class({"body": "Hi"})

    assert filled.caught_by_honeypot
    assert not empty.caught_by_honeypot
    assert not missing.caught_by_honeypot
    assert not form_class().caught_by_honeypot


def test_the_honeypot_never_reaches_the_cleaned_text():
    form = CommentForm({"body": "Hi", HONEYPOT_FIELD: ""})

    assert form.is_valid()
    assert form.cleaned_data["body"] == "Hi"


# The sign-up form's minimum fill time


def _signup_data(**extra):
    return {
        "username": "newreader",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **extra,
    }


@pytest.mark.django_db
def test_a_sign_up_sent_faster_than_a_person_types_is_refused(settings):
    settings.FORUM_SIGNUP_MIN_SECONDS = 3

    form = SignupForm(_signup_data(started=signup_stamp(time.time() - 1)))

    assert not form.is_valid()
    assert "too quickly" in str(form.non_field_errors())


@pytest.mark.django_db
def test_a_sign_up_that_took_long_enough_goes_through(settings):
    settings.FORUM_SIGNUP_MIN_SECONDS = 3

    form = SignupForm(_signup_data(started=signup_stamp(time.time() - 3.5)))

    assert form.is_valid(), form.errors


@pytest.mark.django_db
@pytest.mark.parametrize(
    "started",
    [
        None,
        "",
        "12345",
        signing.dumps(time.time() - 60, salt="something else"),
        signing.dumps("yesterday", salt="forum.signup.started"),
    ],
)
def test_a_sign_up_without_a_genuine_start_time_is_refused(settings, started):
    settings.FORUM_SIGNUP_MIN_SECONDS = 3
    data = _signup_data() if started is None else _signup_data(started=started)

    form = SignupForm(data)

    assert not form.is_valid()
    assert "try again" in str(form.non_field_errors())


@pytest.mark.django_db
def test_a_sign_up_form_left_open_for_days_asks_to_try_again(settings):
    settings.FORUM_SIGNUP_MIN_SECONDS = 3

    form = SignupForm(_signup_data(started=signup_stamp(time.time() - 3 * 86400)))

    assert not form.is_valid()
    assert "try again" in str(form.non_field_errors())


@pytest.mark.django_db
def test_a_refused_sign_up_comes_back_with_a_fresh_start_time(settings):
    settings.FORUM_SIGNUP_MIN_SECONDS = 3
    before = time.time()

    form = SignupForm(_signup_data(started=signup_stamp(before - 1)))
    form.is_valid()

    stamp = element(str(form["started"]), "input").attrs["value"]
    assert signing.loads(stamp, salt="forum.signup.started") >= before


@pytest.mark.django_db
def test_no_start_time_is_needed_with_the_minimum_at_zero(settings):
    settings.FORUM_SIGNUP_MIN_SECONDS = 0

    assert SignupForm(_signup_data()).is_valid()


def test_comment_box_replaces_lone_surrogates():
    form = CommentForm({"body": "Half \ud800 a pair"})

    assert form.is_valid()
    assert form.cleaned_data["body"] == "Half \ufffd a pair"

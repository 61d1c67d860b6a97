"""Input shape for comments, moderation and sign-up; the rules that need the
database live in forum/services/, except a new name's and address's: taken
or not is the form's to say, as in Django's own UserCreationForm."""

import time
import unicodedata

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm
from django.core import signing
from django.core.exceptions import ValidationError

from . import services
from .markup import without_lone_surrogates
from .models import Comment, Report

# A box people never see, named like one a form-filling script fills. Not a
# name browsers or password managers fill on their own ("website" is no
# autofill field), and autocomplete="off" besides.
HONEYPOT_FIELD = "website"


class HoneypotMixin:
    """Adds the honeypot: out of sight (CSS), out of the tab order, labelled
    for screen readers as a box to leave empty (templates/forum/_honeypot.html).
    A form that comes back with it filled was not filled by a person; the view
    refuses it without saying why."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[HONEYPOT_FIELD] = forms.CharField(
            label="Leave this field empty",
            required=False,
            # No id (False leaves the attribute out): the box sits inside its
            # label, and thread.js clones the comment form for inline replies,
            # which must not repeat an id.
            widget=forms.TextInput(
                attrs={"id": False, "tabindex": "-1", "autocomplete": "off"}
            ),
        )

    @property
    def honeypot(self):
        return self[HONEYPOT_FIELD]

    @property
    def shown_fields(self):
        """The fields a person fills in: visible, and not the honeypot."""
        return [
            field for field in self.visible_fields() if field.name != HONEYPOT_FIELD
        ]

    @property
    def caught_by_honeypot(self):
        return self.is_bound and bool(self.data.get(HONEYPOT_FIELD))


class CommentField(forms.CharField):
    def to_python(self, value):
        # Browsers send a line break as CRLF but count it as one character;
        # count it as the service stores it, so a length means the same in the
        # browser's counter (static/js/comment_form.js) and in forum/services/.
        value = without_lone_surrogates(super().to_python(value))
        return value.replace("\r\n", "\n").replace("\r", "\n")


class CommentForm(HoneypotMixin, forms.Form):
    body = CommentField(
        label="Your comment",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Plain text; blank lines make paragraphs. Links are made for "
        "you. Allowed: <b>, <i>, <em>, <strong>, <a>, <blockquote>, <q>, <cite>, "
        "<code>, <del>, <s>.",
        error_messages={"required": "Write something before posting."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # No maxlength: a browser silently cuts a long paste at it. The counter
        # script reads the limit from here; forum/services/ refuses a longer
        # text with a message that says by how much, and the text stays typed.
        self.fields["body"].widget.attrs["data-max-length"] = (
            settings.FORUM_COMMENT_MAX_LENGTH
        )


class RemoveCommentForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why is it removed?",
        choices=Comment.RemovalReason.choices,
        widget=forms.RadioSelect,
        help_text="Readers see this category in its place (not “other”).",
        error_messages={
            "required": "Choose a reason for the removal.",
            "invalid_choice": "Choose a reason for the removal.",
        },
    )
    note = forms.CharField(
        label="Note for moderators",
        max_length=500,
        required=False,
        help_text="Required for “other”. Readers never see it.",
    )


class CloseCommentsForm(forms.Form):
    message = forms.CharField(
        label="Message for readers",
        max_length=300,
        required=False,
        help_text="Shown where the comment form was, e.g. why it is closed.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label="What is wrong with it?",
        choices=Report.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose why you report it."},
    )
    note = forms.CharField(
        label="Anything moderators should know",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required for “something else”. Only moderators read it.",
    )


# Names and addresses: one answer for a name that is taken and for one that
# only looks like it, so the page says no more than that the name is not free.
USERNAME_TAKEN = "This name is taken or too close to one that is; choose another."
EMAIL_TAKEN = "An account already uses this address. Log in, or reset its password."

# Scripts one name may combine: Unicode's "highly restrictive" profile (UTS
# #39, section 5.2), as Japanese, Chinese and Korean are written with several
# at once, and with Latin. Any other mix is refused.
SCRIPTS_WRITTEN_TOGETHER = [
    {"Latin", "Han", "Hiragana", "Katakana"},
    {"Latin", "Han", "Bopomofo"},
    {"Latin", "Han", "Hangul"},
]
# Python has no Unicode script property; a character's name starts with its
# script ("CYRILLIC SMALL LETTER IE") but for these.
_SCRIPT_OF_NAME = {
    "CJK": "Han",
    "IDEOGRAPHIC": "Han",
    "ARABIC-INDIC": "Arabic",
    "EXTENDED": "Arabic",  # EXTENDED ARABIC-INDIC DIGIT
    "DIGIT": None,  # ASCII digits belong to every script
    "MODIFIER": None,
    "KATAKANA-HIRAGANA": None,  # the long-vowel mark, in both
}


def _script(character):
    """The script of a letter or digit (None for anything else, and for what
    every script shares)."""
    if not unicodedata.category(character).startswith(("L", "Nd")):
        return None
    first = unicodedata.name(character, "").partition(" ")[0]
    return _SCRIPT_OF_NAME.get(first, first.title() or None)


def mixed_scripts(name):
    """The scripts ``name`` mixes beyond what SCRIPTS_WRITTEN_TOGETHER allows,
    sorted ([] when it keeps to one, or to one of those sets)."""
    scripts = {script for script in map(_script, name) if script}
    if len(scripts) < 2 or any(scripts <= able for able in SCRIPTS_WRITTEN_TOGETHER):
        return []
    return sorted(scripts)


def validate_new_username(username, *, user=None):
    """Raise ValidationError unless ``username`` (NFKC already: Django's
    UsernameField) may be given to ``user`` (None: a new account): one script
    (mixed_scripts), and no other account's name looks the same (the same
    screening.skeleton: any case, look-alike letters from other scripts,
    accents, digits for letters), by the looks stored in UsernameKey.
    """
    mixed = mixed_scripts(username)
    if mixed:
        raise ValidationError(
            "Use the letters of one alphabet: this name mixes "
            f"{', '.join(mixed[:-1])} and {mixed[-1]}.",
            code="mixed_scripts",
        )
    if not services.name_is_free(username=username, user=user):
        raise ValidationError(USERNAME_TAKEN, code="taken")


class UsernameRulesMixin:
    """validate_new_username on a user form's name when it is new or changed
    (an unchanged name is left as it is): the sign-up form and the admin's user
    forms (forum/admin.py)."""

    def clean_username(self):
        username = self.cleaned_data.get("username")
        if username and "username" in self.changed_data:
            validate_new_username(username, user=self.instance)
            # Saved, the name's look is claimed strictly (forum/receivers.py).
            self.instance._forum_name_rules = True
        return username


SIGNUP_STAMP_SALT = "forum.signup.started"
# A sign-up page older than this asks for a new start (and a stamp cannot be
# kept for reuse by a script for longer).
SIGNUP_STAMP_MAX_AGE = 24 * 60 * 60


def signup_stamp(started_at=None):
    """The signed time the sign-up form was shown (now, unless given)."""
    return signing.dumps(
        time.time() if started_at is None else started_at, salt=SIGNUP_STAMP_SALT
    )


class SignupForm(HoneypotMixin, UsernameRulesMixin, UserCreationForm):
    """Sign-up: a name by validate_new_username, an email address as
    FORUM_SIGNUP_EMAIL says (optional, required or off; one account an
    address), the honeypot and, unless FORUM_SIGNUP_MIN_SECONDS is 0, a
    minimum time between showing the form and sending it: ``started`` holds
    the signed time it was shown."""

    started = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")
        help_texts = {
            "username": "Up to 150 letters and digits, in one alphabet, and @ . + - _",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["started"].initial = signup_stamp
        email = settings.FORUM_SIGNUP_EMAIL
        if email == "off":
            del self.fields["email"]
        else:
            field = self.fields["email"]
            field.required = email == "required"
            field.widget.attrs["autocomplete"] = "email"
            field.help_text = (
                "Only for resetting a forgotten password; never shown to anyone."
                if field.required
                else "Optional: without one, a forgotten password cannot be "
                "reset. Never shown to anyone."
            )

    def clean_email(self):
        email = self.cleaned_data.get("email", "")
        User = self._meta.model
        if email and User._default_manager.filter(email__iexact=email).exists():
            raise ValidationError(EMAIL_TAKEN, code="email_taken")
        return email

    def clean(self):
        cleaned_data = super().clean()
        minimum = settings.FORUM_SIGNUP_MIN_SECONDS
        if not minimum:
            return cleaned_data
        try:
            started = signing.loads(
                self.data.get("started", ""), salt=SIGNUP_STAMP_SALT
            )
            took = time.time() - float(started)
        except (signing.BadSignature, TypeError, ValueError):
            took = None
        if took is None or took > SIGNUP_STAMP_MAX_AGE:
            message = "This form has expired. Please try again."
        elif took < minimum:
            message = (
                "That was sent too quickly to be from a person. Please check "
                "the form and try again."
            )
        else:
            return cleaned_data
        # The page comes back with a new start time, so the next try counts
        # from now.
        self.data = self.data.copy()
        self.data["started"] = signup_stamp()
        self.add_error(None, message)
        return cleaned_data

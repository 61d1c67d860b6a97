"""Input shape for comments, moderation and sign-up; the rules that need the
database live in forum/services/."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm

from .models import Comment, Report


class CommentField(forms.CharField):
    def to_python(self, value):
        # Browsers send a line break as CRLF but count it as one character;
        # count it as the service stores it, so a length means the same in the
        # browser's counter (static/js/comment_form.js) and in forum/services/.
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")


class CommentForm(forms.Form):
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


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username",)

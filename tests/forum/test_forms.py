"""Comment and sign-up forms (forum/forms.py)."""

from forum.forms import CommentForm
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

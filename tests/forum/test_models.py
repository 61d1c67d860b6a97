"""Facts about one comment or article (forum/models.py, articles/models.py)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from articles.models import Article
from forum import services
from forum.models import Comment
from tests.factories import ArticleFactory, CommentFactory

pytestmark = pytest.mark.django_db

WINDOW = timedelta(minutes=settings.FORUM_EDIT_WINDOW_MINUTES)


# Comment.is_editable_by


def test_author_may_edit_until_just_before_the_window_closes(user):
    comment = CommentFactory(author=user)
    start = comment.created_at

    assert comment.is_editable_by(user, now=start)
    assert comment.is_editable_by(user, now=start + WINDOW - timedelta(seconds=1))
    assert not comment.is_editable_by(user, now=start + WINDOW)
    assert not comment.is_editable_by(user, now=start + WINDOW + timedelta(days=1))


def test_only_the_author_may_edit(user, other_user, moderator):
    comment = CommentFactory(author=user)

    assert comment.is_editable_by(user)
    assert not comment.is_editable_by(other_user)
    assert not comment.is_editable_by(moderator)
    assert not comment.is_editable_by(AnonymousUser())


def test_a_guest_comment_is_editable_by_nobody():
    comment = CommentFactory(author=None, author_name="Guest")

    assert not comment.is_editable_by(AnonymousUser())


def test_a_removed_comment_is_not_editable(user, moderator):
    comment = CommentFactory(author=user)
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="No"
    )

    assert not comment.is_editable_by(user)


def test_the_edit_window_defaults_to_now(user):
    comment = CommentFactory(author=user)
    Comment.objects.filter(pk=comment.pk).update(
        created_at=timezone.now() - WINDOW - timedelta(seconds=1)
    )
    comment.refresh_from_db()

    assert not comment.is_editable_by(user)


# Comment.display_name, excerpt, is_deleted_by_author, anchor, __str__


def test_display_name_is_the_username_for_a_member(user):
    comment = CommentFactory(author=user, author_name="ignored")

    assert comment.display_name == user.username
    assert comment.author_name == ""


def test_display_name_falls_back_to_the_stored_name_then_a_reader():
    imported = CommentFactory(author=None, author_name="Jane from 2009")
    anonymous = CommentFactory(author=None, author_name="")

    assert imported.display_name == "Jane from 2009"
    assert anonymous.display_name == "A reader"


def test_display_name_after_the_account_is_deleted(user):
    comment = CommentFactory(author=user)
    user.delete()
    comment.refresh_from_db()

    assert comment.author is None
    assert comment.display_name == "A reader"


def test_excerpt_collapses_whitespace_and_keeps_short_text_whole():
    comment = CommentFactory(body="Short\n\n  and   sweet.")

    assert comment.excerpt() == "Short and sweet."


def test_excerpt_cuts_long_text_to_the_given_length_with_an_ellipsis():
    comment = CommentFactory(body="word " * 40)

    assert comment.excerpt(20) == "word word word word…"
    assert len(comment.excerpt(20)) == 20
    assert len(comment.excerpt()) == 80
    assert comment.excerpt(200) == ("word " * 40).strip()


def test_str_names_the_author_and_the_excerpt(user):
    comment = CommentFactory(author=user, body="Hello, world.")

    assert str(comment) == f"{user.username}: Hello, world."


def test_anchor_and_url_point_at_the_comment(comment):
    assert comment.anchor == f"comment-{comment.pk}"
    assert comment.get_absolute_url() == (
        f"/articles/{comment.article.slug}/comments/{comment.pk}/"
    )


def test_a_comment_deleted_by_its_author_is_told_apart_from_a_removal(user, moderator):
    deleted = CommentFactory(author=user)
    CommentFactory(parent=deleted)
    removed = CommentFactory(author=user)
    published = CommentFactory(author=user)

    services.delete_comment(comment=deleted, user=user)
    services.remove_comment(
        comment=removed, moderator=moderator, reason="other", note="Rude"
    )

    assert deleted.is_hidden
    assert deleted.is_deleted_by_author
    assert removed.is_hidden
    assert not removed.is_deleted_by_author
    assert not published.is_deleted_by_author


def test_a_removed_guest_comment_is_never_deleted_by_its_author(moderator):
    comment = CommentFactory(author=None, author_name="Guest")
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="Spam"
    )

    assert not comment.is_deleted_by_author


@pytest.mark.parametrize(
    ("status", "accepts"),
    [
        (Comment.Status.PUBLISHED, True),
        (Comment.Status.PENDING, False),
        (Comment.Status.REMOVED, False),
        (Comment.Status.SPAM, False),
    ],
)
def test_only_published_comments_accept_replies(status, accepts):
    assert CommentFactory(status=status).can_accept_replies() is accepts


# Article.blocks


def _blocks(body):
    return Article(body=body).blocks()


def test_blocks_are_one_paragraph_a_line_blank_lines_skipped():
    assert _blocks("One.\n\n   \nTwo.\r\nThree.") == [
        ("p", "One."),
        ("p", "Two."),
        ("p", "Three."),
    ]


def test_short_line_without_closing_punctuation_is_a_subheading():
    assert _blocks("Intro.\nA subheading\nBody text.") == [
        ("p", "Intro."),
        ("h2", "A subheading"),
        ("p", "Body text."),
    ]


def test_first_line_is_never_a_subheading():
    assert _blocks("No punctuation here\nNext.") == [
        ("p", "No punctuation here"),
        ("p", "Next."),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "Ends with a full stop.",
        "A question?",
        "An exclamation!",
        "A colon introducing something:",
        "A semicolon;",
        "Trailing off…",
        'A quoted sentence."',
        "A bracketed aside.)",
        "x" * 101,
    ],
)
def test_punctuated_or_long_lines_stay_paragraphs(line):
    assert _blocks(f"Intro.\n{line}")[1] == ("p", line)


def test_a_line_of_exactly_the_heading_limit_is_still_a_subheading():
    line = "x" * 100

    assert _blocks(f"Intro.\n{line}")[1] == ("h2", line)


# ArticleQuerySet.published


def test_published_articles_exclude_drafts_and_scheduled_ones_newest_first():
    now = timezone.now()
    old = ArticleFactory(published_at=now - timedelta(days=2))
    new = ArticleFactory(published_at=now - timedelta(hours=1))
    same_time_earlier_pk = ArticleFactory(published_at=now - timedelta(days=1))
    same_time_later_pk = ArticleFactory(published_at=now - timedelta(days=1))
    ArticleFactory(published_at=None)
    ArticleFactory(published_at=now + timedelta(minutes=1))

    assert list(Article.objects.published()) == [
        new,
        same_time_later_pk,
        same_time_earlier_pk,
        old,
    ]


def test_an_imported_comment_with_lone_surrogates_is_stored_with_replacements():
    """An importer's caller may hand over any str: the source key and the
    guest's name are stored as the body is, never a 500 (forum/fields.py)."""
    article = ArticleFactory()

    comment = services.post_comment(
        article=article,
        body="Half \ud800 a pair.",
        author_name="Gu\udcffest",
        source_key="text:\udce9",
        status=Comment.Status.PUBLISHED,
    )

    comment.refresh_from_db()
    assert (comment.body, comment.author_name, comment.source_key) == (
        "Half \ufffd a pair.",
        "Gu\ufffdest",
        "text:\ufffd",
    )
    assert Comment.objects.get(source_key="text:\udce9") == comment

"""Data migrations of forum/migrations, run against the models as they stood."""

import importlib

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from forum import services
from forum.markup import render_comment
from forum.models import Comment, CommentRevision
from forum.thread import fragment_for_viewer
from tests.factories import CommentFactory, UserFactory

RERENDER = "0011_rerender_code_comments"
# What forum/markup.py stored for "<code>a < b</code>" before the fix.
DOUBLE_ESCAPED = "<p><code>a &amp;lt; b</code></p>"
FIXED = "<p><code>a &lt; b</code></p>"


def _historical_apps():
    """The models as they stood before the migration, as it receives them."""
    return (
        MigrationLoader(connection)
        .project_state(("forum", "0010_moderation_rules_pins_locks"))
        .apps
    )


def _rerender_code_comments(apps=None):
    module = importlib.import_module(f"forum.migrations.{RERENDER}")
    module.rerender_code_comments(apps or _historical_apps(), None)


def _stored_before_the_fix(comment, html=DOUBLE_ESCAPED):
    Comment.objects.filter(pk=comment.pk).update(body_html=html)


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["<code>a < b</code>", "<CODE>a < b</Code>"])
def test_comment_using_code_gets_its_html_rendered_again(article, body):
    comment = CommentFactory(article=article, body=body)
    _stored_before_the_fix(comment)

    _rerender_code_comments()

    comment.refresh_from_db()
    assert comment.body_html == FIXED == render_comment(body)
    assert comment.fragment_version == ""


@pytest.mark.django_db
def test_page_shows_the_rendered_again_html(article):
    comment = CommentFactory(article=article, body="<code>a < b</code>")
    _stored_before_the_fix(comment)
    Comment.objects.filter(pk=comment.pk).update(
        fragment=f"<article>{DOUBLE_ESCAPED}</article>"
    )

    _rerender_code_comments()

    html = fragment_for_viewer(Comment.objects.get(pk=comment.pk), AnonymousUser())
    assert FIXED.removeprefix("<p>").removesuffix("</p>") in html
    assert "&amp;lt;" not in html


@pytest.mark.django_db
def test_comment_without_code_is_left_alone(article):
    comment = CommentFactory(article=article, body="a < b, https://example.com")
    _stored_before_the_fix(comment, html="<p>kept as stored</p>")
    version = Comment.objects.get(pk=comment.pk).fragment_version

    _rerender_code_comments()

    comment.refresh_from_db()
    assert comment.body_html == "<p>kept as stored</p>"
    assert comment.fragment_version == version != ""


@pytest.mark.django_db
def test_comment_whose_html_is_already_right_is_not_written(article):
    comment = CommentFactory(article=article, body="<code>x = 1</code>")
    version = Comment.objects.get(pk=comment.pk).fragment_version

    _rerender_code_comments()

    assert Comment.objects.get(pk=comment.pk).fragment_version == version != ""


@pytest.mark.django_db
def test_text_its_author_deleted_stays_erased(article):
    author = UserFactory()
    erased = CommentFactory(article=article, author=author, body="<code>a < b</code>")
    CommentFactory(parent=erased, body="A reply keeps the placeholder.")
    assert not services.delete_comment(comment=erased, user=author)
    # Deleted but, against the rule, with its text still there: no HTML either.
    kept = CommentFactory(article=article, body="<code>a < b</code>")
    Comment.objects.filter(pk=kept.pk).update(status="deleted", body_html="")

    _rerender_code_comments()

    assert Comment.objects.get(pk=erased.pk).body_html == ""
    assert Comment.objects.get(pk=erased.pk).body == ""
    assert Comment.objects.get(pk=kept.pk).body_html == ""


@pytest.mark.django_db
def test_earlier_versions_using_code_are_rendered_again(comment):
    revision = CommentRevision.objects.create(
        comment=comment,
        body="<code>a < b</code>",
        body_html=DOUBLE_ESCAPED,
        written_at=timezone.now(),
    )

    _rerender_code_comments()

    revision.refresh_from_db()
    assert revision.body_html == FIXED


@pytest.mark.django_db
def test_more_comments_than_one_batch_are_all_rendered_again(
    article, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(
        importlib.import_module(f"forum.migrations.{RERENDER}"), "BATCH", 2
    )
    apps = _historical_apps()
    comments = [
        CommentFactory(article=article, body=f"<code>a < b</code> {n}")
        for n in range(5)
    ]
    Comment.objects.filter(pk__in=[c.pk for c in comments]).update(
        body_html=DOUBLE_ESCAPED
    )

    # One read of the comments, one UPDATE per batch of 2, one read of the
    # earlier versions: not a query per comment.
    with django_assert_num_queries(1 + 3 + 1):
        _rerender_code_comments(apps)

    for n, comment in enumerate(comments):
        comment.refresh_from_db()
        assert comment.body_html == f"<p><code>a &lt; b</code> {n}</p>"

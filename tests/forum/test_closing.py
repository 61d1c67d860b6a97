"""A moderator closes an article's discussion (forum.services.close_comments)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from forum import services
from tests.factories import CommentFactory

pytestmark = pytest.mark.django_db


def test_a_closed_discussion_takes_no_comments_or_replies(article, user, moderator):
    comment = CommentFactory(article=article)
    services.close_comments(
        article=article, moderator=moderator, message="The election is over."
    )

    with pytest.raises(services.CommentsClosed):
        services.post_comment(article=article, body="One more thing.", author=user)
    with pytest.raises(services.CommentsClosed):
        services.post_comment(
            article=article, body="A reply.", parent=comment, author=user
        )

    services.reopen_comments(article=article, moderator=moderator)
    assert services.post_comment(article=article, body="Back.", author=user).pk


def test_a_post_decided_on_a_stale_copy_does_not_land_after_closing(
    article, user, moderator
):
    from articles.models import Article

    stale = Article.objects.get(pk=article.pk)
    services.close_comments(article=article, moderator=moderator)

    with pytest.raises(services.CommentsClosed):
        services.post_comment(article=stale, body="Too late.", author=user)


def test_only_moderators_close_discussions(article, user):
    with pytest.raises(PermissionDenied):
        services.close_comments(article=article, moderator=user)


def test_the_page_says_why_instead_of_offering_the_form(
    client, article, user, moderator
):
    services.close_comments(
        article=article, moderator=moderator, message="The election is over."
    )
    client.force_login(user)

    page = client.get(article.get_absolute_url()).content.decode()
    refused = client.post(
        reverse("forum:comment_create", kwargs={"slug": article.slug}),
        {"body": "But wait."},
    )

    assert "Comments are closed: The election is over." in page
    assert 'id="comment-form"' not in page
    assert refused.status_code == 400
    assert "But wait." in refused.content.decode()


def test_moderator_closes_a_discussion_in_the_admin(client, article, moderator):
    client.force_login(moderator)

    client.post(
        reverse("admin:articles_article_changelist"),
        {
            "action": "close_comments",
            "_selected_action": [article.pk],
            "message": "Closed for the night.",
        },
    )

    article.refresh_from_db()
    assert not article.accepts_comments
    assert article.comments_closed_message == "Closed for the night."

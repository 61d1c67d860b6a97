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


def test_moderator_closes_and_reopens_a_discussion_from_the_article_page(
    client, article, user, moderator
):
    close_url = reverse("forum:comments_close", kwargs={"slug": article.slug})
    reopen_url = reverse("forum:comments_reopen", kwargs={"slug": article.slug})
    client.force_login(moderator)
    assert (
        f'href="{close_url}"' in client.get(article.get_absolute_url()).content.decode()
    )

    response = client.post(close_url, {"message": "Enough for today."})

    assert response.status_code == 302
    page = client.get(article.get_absolute_url()).content.decode()
    assert "Comments are closed: Enough for today." in page
    assert f'href="{reopen_url}"' in page
    article.refresh_from_db()
    assert not article.accepts_comments

    client.post(reopen_url)

    article.refresh_from_db()
    assert article.accepts_comments


def test_readers_neither_see_nor_use_the_close_link(client, article, user):
    close_url = reverse("forum:comments_close", kwargs={"slug": article.slug})
    client.force_login(user)

    assert close_url not in client.get(article.get_absolute_url()).content.decode()
    assert client.post(close_url, {"message": "Mine now."}).status_code == 403
    assert (
        client.post(
            reverse("forum:comments_reopen", kwargs={"slug": article.slug})
        ).status_code
        == 403
    )
    article.refresh_from_db()
    assert article.accepts_comments


def test_a_too_long_closing_message_is_refused_and_kept(client, article, moderator):
    client.force_login(moderator)
    message = "x" * 301

    response = client.post(
        reverse("forum:comments_close", kwargs={"slug": article.slug}),
        {"message": message},
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    article.refresh_from_db()
    assert article.accepts_comments

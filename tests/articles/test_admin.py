"""The article admin (articles/admin.py)."""

import pytest
from django.urls import reverse

from tests.factories import CommentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_renaming_an_article_moves_its_comments_links_to_the_new_address(
    client, article
):
    comment = CommentFactory(article=article, body="Still here.")
    old_link = f"/articles/{article.slug}/comments/{comment.pk}/reply/"
    assert old_link in comment.fragment
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        {
            "title": article.title,
            "slug": "a-new-address",
            "lead": article.lead,
            "lead_author": article.lead_author,
            "body": article.body,
            "source_url": "",
            "published_at_0": "2026-01-01",
            "published_at_1": "10:00:00",
        },
    )
    page = client.get("/articles/a-new-address/").content.decode()

    assert response.status_code == 302
    assert f"/articles/a-new-address/comments/{comment.pk}/reply/" in page
    assert old_link not in page
    assert "Still here." in page


def test_an_article_with_comments_can_be_deleted_and_the_log_stays(client, article):
    """Defect: comments forbid deletion, so the cascade was refused to
    everyone, superusers included."""
    from forum import services
    from forum.models import Comment, ModerationAction, Report

    admin = UserFactory(is_staff=True, is_superuser=True)
    comment = CommentFactory(article=article)
    CommentFactory(parent=comment)
    services.report_comment(comment=comment, reporter=UserFactory(), reason="spam")
    services.remove_comment(
        comment=comment, moderator=admin, reason="other", note="Rude"
    )
    client.force_login(admin)
    url = reverse("admin:articles_article_delete", args=[article.pk])

    confirm = client.get(url)
    response = client.post(url, {"post": "yes"})

    assert confirm.status_code == 200
    assert "Are you sure" in confirm.content.decode()
    assert response.status_code == 302
    assert not Comment.objects.exists()
    assert not Report.objects.exists()
    act = ModerationAction.objects.get()
    assert (act.verb, act.article_id, act.comment_id) == ("remove", None, None)


def test_unpublishing_an_article_hides_it_and_its_comments_from_readers(
    client, admin_client, article, moderator
):
    comment = CommentFactory(article=article, body="Kept for later.")
    article_url = article.get_absolute_url()
    comment_url = comment.get_absolute_url()
    assert client.get(article_url).status_code == 200

    response = admin_client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "unpublish", "_selected_action": [article.pk]},
        follow=True,
    )

    assert "1 article unpublished." in response.content.decode()
    assert client.get(article_url).status_code == 404
    assert client.get(comment_url).status_code == 404
    assert client.get("/").content.decode().count(article.title) == 0
    # The thread is kept, ready for when it is published again.
    comment.refresh_from_db()
    assert comment.body == "Kept for later."
    # Moderators close discussions; unpublishing is an editor's change.
    client.force_login(moderator)
    response = client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "unpublish", "_selected_action": [article.pk]},
    )
    assert response.status_code in (302, 200)
    choices = dict(
        client.get(reverse("admin:articles_article_changelist"))
        .context["action_form"]
        .fields["action"]
        .choices
    )
    assert "unpublish" not in choices


def test_a_lone_surrogate_in_the_article_form_is_saved_as_a_replacement_character(
    rf,
):
    """No browser sends one (Django decodes forms with U+FFFD for what it cannot
    read), but nothing an editor's form holds reaches the database as a 500."""
    from django.contrib import admin

    from articles.models import Article

    request = rf.post("/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    form_class = admin.site._registry[Article].get_form(request)
    form = form_class(
        data={
            "title": "Half \ud800 a pair",
            "slug": "half-a-pair",
            "lead": "A lead \udfff.",
            "lead_author": "Ed \udc80",
            "body": "The body \ud83d.",
            "source_url": "",
            "published_at_0": "2026-01-01",
            "published_at_1": "10:00:00",
        }
    )

    assert form.is_valid(), form.errors
    article = form.save()
    article.refresh_from_db()
    assert (article.title, article.lead, article.lead_author, article.body) == (
        "Half \ufffd a pair",
        "A lead \ufffd.",
        "Ed \ufffd",
        "The body \ufffd.",
    )

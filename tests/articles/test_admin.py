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

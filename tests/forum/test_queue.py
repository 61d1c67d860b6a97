"""The moderators' queue (forum/queue.py, /moderation/) and the count of what
waits, in the site's header and the admin's."""

import pytest
from django.urls import reverse

from forum import queue, services
from forum.models import Comment
from tests.factories import CommentFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUE = reverse("moderation_queue")


def _url(name, comment):
    return reverse(
        f"forum:{name}", kwargs={"slug": comment.article.slug, "pk": comment.pk}
    )


def test_queue_shows_what_waits_with_what_it_takes_to_decide(
    client, settings, article, moderator
):
    settings.FORUM_REPORT_THRESHOLD = 2
    author = UserFactory(username="troublesome")
    parent = CommentFactory(article=article, body="The parent says hello.")
    reported = CommentFactory(parent=parent, author=author, body="Reported words.")
    for note in ("He posts my address", "Same here"):
        services.report_comment(
            comment=reported, reporter=UserFactory(), reason="other", note=note
        )
    held = CommentFactory(
        article=article, author=author, body="Held words.", status="pending"
    )
    removed = CommentFactory(article=article, author=author, body="Removed words.")
    services.remove_comment(
        comment=removed, moderator=moderator, reason="other", note="Insults"
    )
    client.force_login(moderator)

    content = client.get(QUEUE).content.decode()

    waiting, recent = content.split("Recently removed")
    assert "Reported words." in waiting and "Held words." in waiting
    assert "Removed words." in recent and "Insults" in recent
    assert "Something else (say what): He posts my address" in waiting
    assert f"replying to {parent.display_name}: “The parent says hello.”" in waiting
    # The author's record: 3 comments, 1 removed, 2 reports against them.
    assert "3 comments, 1 removed or spam, 2 reports against them" in waiting
    # Exactly the actions the transition table allows.
    assert f'href="{_url("comment_approve", held)}"' in waiting
    assert f'href="{_url("comment_remove", held)}"' in waiting
    assert f'href="{_url("comment_restore", removed)}"' in recent
    assert f'href="{_url("comment_approve", removed)}"' not in content
    assert f'href="{reported.get_thread_url()}"' in waiting


@pytest.mark.parametrize("viewer", ["anonymous", "reader"])
def test_only_moderators_see_the_queue(client, user, viewer):
    if viewer == "reader":
        client.force_login(user)

    response = client.get(QUEUE)

    if viewer == "reader":
        assert response.status_code == 403
    else:
        # Logged out (the moderators' email links here): log in, then back.
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={QUEUE}"


def test_moderators_see_how_many_comments_wait_on_every_page(
    client, article, moderator, user
):
    CommentFactory(article=article, status=Comment.Status.PENDING)
    CommentFactory(article=article, status=Comment.Status.PENDING)

    client.force_login(moderator)
    site = client.get("/").content.decode()
    admin = client.get(reverse("admin:index")).content.decode()
    client.force_login(user)
    reader = client.get("/").content.decode()

    assert (
        f'<a href="{QUEUE}">Queue <span class="badge badge--pending">2'
        '<span class="visually-hidden"> waiting</span>'
    ) in site
    assert f'<a href="{QUEUE}">2 waiting for moderation</a>' in admin
    assert QUEUE not in reader


def test_each_comment_waits_in_its_own_section_and_unreported_ones_in_none(
    settings, article, user, moderator
):
    settings.FORUM_REPORT_THRESHOLD = 2
    reported = CommentFactory(article=article, body="Reported words.")
    services.report_comment(comment=reported, reporter=user, reason="spam")
    held = CommentFactory(article=article, status=Comment.Status.PENDING)
    CommentFactory(article=article, body="Nobody minds these words.")

    sections = dict(queue.sections())

    assert sections["Held for approval"] == [held]
    assert sections["Reported by readers"] == [reported]
    assert [r.reason for r in sections["Reported by readers"][0].open_reports] == [
        "spam"
    ]

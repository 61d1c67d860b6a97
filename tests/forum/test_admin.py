"""Moderation in the admin (forum/admin.py): read-only rows, actions through the
services, no hard deletes."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from forum import services
from forum.models import Comment
from tests.admin import messages_of, run_comment_action
from tests.factories import ArticleFactory, CommentFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:forum_comment_changelist")


def _change_url(comment):
    return reverse("admin:forum_comment_change", args=[comment.pk])


def _listed(response):
    return set(response.context["cl"].result_list)


def _reports(response, count, verb):
    """Whether the admin said that ``count`` comments were ``verb``."""
    return any(
        m.startswith(f"{count} comment") and m.endswith(f" {verb}.")
        for m in messages_of(response)
    )


@pytest.fixture
def admin_client(client, moderator):
    client.force_login(moderator)
    return client


def test_moderator_sees_the_changelist_with_its_columns(admin_client, comment):
    reply = CommentFactory(parent=comment, body="A reply in the admin.")

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert _listed(response) == {comment, reply}
    content = response.content.decode()
    for column in (
        "excerpt_column",
        "author_column",
        "status",
        "reason_column",
        "parent_column",
        "thread_link",
    ):
        assert f"column-{column}" in content
    assert "A reply in the admin." in content
    assert f'<a href="{_change_url(comment)}">#{comment.pk}</a>' in content
    assert f'href="{reply.get_thread_url()}">view</a>' in content
    # Newest first.
    assert list(response.context["cl"].result_list) == [reply, comment]
    assert reply.author.username in content


def test_changelist_filters_by_status(admin_client, article):
    published = CommentFactory(article=article)
    pending = CommentFactory(article=article, status=Comment.Status.PENDING)

    by_pending = admin_client.get(CHANGELIST, {"status__exact": "pending"})
    by_published = admin_client.get(CHANGELIST, {"status__exact": "published"})

    assert _listed(by_pending) == {pending}
    assert _listed(by_published) == {published}


def test_changelist_filters_by_article(admin_client, article):
    here = CommentFactory(article=article)
    CommentFactory(article=ArticleFactory())

    response = admin_client.get(CHANGELIST, {"article__id__exact": article.pk})

    assert _listed(response) == {here}


def test_changelist_searches_text_and_authors(admin_client, article, user):
    about_whales = CommentFactory(article=article, body="All about whales.")
    by_user = CommentFactory(article=article, author=user, body="Something else.")
    CommentFactory(article=article, body="Nothing to see.")

    assert _listed(admin_client.get(CHANGELIST, {"q": "whales"})) == {about_whales}
    assert _listed(admin_client.get(CHANGELIST, {"q": user.username})) == {by_user}


def test_approve_action_publishes_pending_comments(admin_client, moderator):
    pending = [CommentFactory(status=Comment.Status.PENDING) for _ in range(2)]

    response = run_comment_action(admin_client, "approve", pending)

    assert response.status_code == 200
    assert _reports(response, 2, "approved")
    for comment in pending:
        comment.refresh_from_db()
        assert comment.status == Comment.Status.PUBLISHED
        assert comment.moderated_by == moderator
        assert comment.moderated_at is not None


def test_approve_action_reports_comments_it_left_alone(admin_client, comment):
    response = run_comment_action(admin_client, "approve", [comment])

    [message] = messages_of(response)
    assert message.startswith("1 left as they were: ")
    assert "cannot become published" in message
    comment.refresh_from_db()
    assert comment.moderated_by is None


def test_remove_action_records_the_reason(admin_client, moderator, comment):
    reply = CommentFactory(parent=comment)

    response = run_comment_action(
        admin_client, "remove", [comment], reason="abuse", note=" Flame war "
    )

    assert _reports(response, 1, "removed")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.REMOVED
    assert comment.moderated_by == moderator
    assert comment.moderated_at is not None
    assert comment.moderation_code == "abuse"
    assert comment.moderation_reason == "Flame war"
    # A soft delete: the reply keeps its parent.
    assert Comment.objects.get(pk=reply.pk).parent_id == comment.pk


@pytest.mark.parametrize("reason", ["", "   "], ids=["missing", "blank"])
def test_remove_action_without_a_reason_removes_nothing(admin_client, comment, reason):
    response = run_comment_action(admin_client, "remove", [comment], reason=reason)

    assert response.status_code == 200
    assert any("Nothing removed" in m for m in messages_of(response))
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert comment.moderated_by is None


def test_spam_action_marks_comments_as_spam(admin_client, moderator, comment):
    response = run_comment_action(admin_client, "mark_spam", [comment])

    assert _reports(response, 1, "marked as spam")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.SPAM
    assert comment.moderated_by == moderator
    assert comment.moderation_code == "spam"


def test_restore_action_publishes_removed_comments(admin_client, moderator, comment):
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="Oops"
    )

    response = run_comment_action(admin_client, "restore", [comment])

    assert _reports(response, 1, "restored")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert comment.moderated_by == moderator
    # Why it was removed stays on record.
    assert comment.moderation_reason == "Oops"


def test_changelist_offers_only_the_moderation_actions(admin_client, comment):
    response = admin_client.get(CHANGELIST)

    choices = dict(response.context["action_form"].fields["action"].choices)
    assert set(choices) - {""} == {
        "approve",
        "remove",
        "mark_spam",
        "restore",
        "pin",
        "unpin",
        "lock",
        "unlock",
    }


def test_change_page_shows_every_field_read_only(admin_client, comment):
    response = admin_client.get(_change_url(comment))

    assert response.status_code == 200
    content = response.content.decode()
    assert comment.body_html in content
    assert 'name="body"' not in content
    assert 'name="status"' not in content
    assert 'name="parent"' not in content
    assert 'name="_save"' not in content
    adminform = response.context["adminform"]
    assert not adminform.form.fields
    assert set(adminform.readonly_fields) >= {"article", "parent", "body", "status"}


def test_change_page_refuses_a_post(admin_client, comment):
    response = admin_client.post(
        _change_url(comment), {"body": "Rewritten", "status": "removed"}
    )

    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED


def test_add_is_not_allowed(admin_client):
    assert admin_client.get(reverse("admin:forum_comment_add")).status_code == 403


def test_hard_delete_is_not_allowed(admin_client, comment):
    url = reverse("admin:forum_comment_delete", args=[comment.pk])

    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    response = run_comment_action(admin_client, "delete_selected", [comment])

    assert response.status_code == 200
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_staff_without_the_moderation_permission_gets_403(client, comment):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(CHANGELIST).status_code == 403
    assert client.get(_change_url(comment)).status_code == 403


def test_staff_with_view_permission_only_cannot_run_actions(client, comment):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_comment", content_type__app_label="forum")
    )
    client.force_login(viewer)

    response = client.get(CHANGELIST)
    run_comment_action(client, "mark_spam", [comment])

    assert response.status_code == 200
    assert response.context["action_form"] is None
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED

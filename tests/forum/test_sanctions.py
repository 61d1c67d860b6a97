"""User sanctions (forum.models.Sanction): warn, pre-moderate, suspend, ban."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from forum import services
from forum.models import Comment, Sanction
from tests.factories import CommentFactory, UserFactory

pytestmark = pytest.mark.django_db


def _sanction(user, moderator, kind, **kwargs):
    kwargs.setdefault("reason", "Insults, again.")
    return services.sanction_user(user=user, moderator=moderator, kind=kind, **kwargs)


def test_a_banned_user_cannot_post_and_is_told_why(article, user, moderator):
    _sanction(user, moderator, "ban")

    with pytest.raises(services.PostingBarred, match="banned from posting: Insults"):
        services.post_comment(article=article, body="Hello again.", author=user)
    assert not Comment.objects.exists()


def test_a_suspended_user_is_told_until_when_and_can_post_after(
    article, user, moderator
):
    sanction = _sanction(
        user, moderator, "suspend", until=timezone.now() + timedelta(days=3)
    )

    with pytest.raises(services.PostingBarred, match="suspended from posting until"):
        services.post_comment(article=article, body="Hello again.", author=user)

    Sanction.objects.filter(pk=sanction.pk).update(
        until=timezone.now() - timedelta(minutes=1)
    )
    assert services.post_comment(article=article, body="Back.", author=user).pk


def test_a_lifted_ban_no_longer_applies(article, user, moderator):
    sanction = _sanction(user, moderator, "ban")
    services.lift_sanction(sanction=sanction, moderator=moderator)

    assert services.post_comment(article=article, body="Thanks.", author=user).pk


def test_an_always_premoderated_user_waits_for_approval(article, user, moderator):
    _sanction(user, moderator, "premoderate")

    comment = services.post_comment(article=article, body="Hi.", author=user)

    assert comment.status == Comment.Status.PENDING


def test_a_barred_reader_keeps_their_text_and_sees_the_reason(
    client, article, user, moderator
):
    _sanction(user, moderator, "ban")
    client.force_login(user)
    url = reverse("forum:comment_create", kwargs={"slug": article.slug})

    response = client.post(url, {"body": "My long considered answer."})

    content = response.content.decode()
    assert response.status_code == 403
    assert "You are banned from posting: Insults, again." in content
    assert "My long considered answer." in content


def test_a_warning_shows_once_on_the_next_visit(client, user, moderator):
    _sanction(user, moderator, "warn", reason="Keep it civil, please.")
    client.force_login(user)

    first = client.get("/").content.decode()
    again = client.get("/").content.decode()

    assert "A moderator warns you: Keep it civil, please." in first
    assert "Keep it civil" not in again
    assert Sanction.objects.get().seen_at is not None


@pytest.mark.parametrize(
    ("kind", "until", "field"),
    [
        ("suspend", None, "until"),
        ("ban", "past", "until"),
        ("nonsense", None, "kind"),
    ],
)
def test_impossible_sanctions_are_refused(user, moderator, kind, until, field):
    if until == "past":
        until = timezone.now() - timedelta(days=1)

    with pytest.raises(ValidationError) as refused:
        _sanction(user, moderator, kind, until=until)

    assert field in refused.value.message_dict


def test_moderators_are_not_sanctioned(moderator):
    other = UserFactory(is_superuser=True)

    with pytest.raises(ValidationError):
        _sanction(other, moderator, "ban")


def test_only_moderators_sanction(user, other_user):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        _sanction(other_user, user, "ban")


def test_moderator_suspends_a_user_in_the_admin(client, user, moderator):
    client.force_login(moderator)
    url = reverse("admin:forum_sanction_add")
    until = timezone.localtime() + timedelta(days=7)

    refused = client.post(
        url, {"user": user.pk, "kind": "suspend", "reason": "Flooding."}
    )
    made = client.post(
        url,
        {
            "user": user.pk,
            "kind": "suspend",
            "reason": "Flooding.",
            "until_0": until.strftime("%Y-%m-%d"),
            "until_1": until.strftime("%H:%M:%S"),
        },
    )

    assert refused.status_code == 200
    assert "A suspension needs an end date." in refused.content.decode()
    assert made.status_code == 302
    sanction = Sanction.objects.get()
    assert (sanction.user, sanction.created_by) == (user, moderator)
    with pytest.raises(services.PostingBarred):
        CommentFactory(author=user)

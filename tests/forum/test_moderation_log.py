"""The moderation log (forum.models.ModerationAction): written by the services
in the transaction of each act, append-only, readable and exportable in the
admin."""

import csv
import io

import pytest
from django.db import transaction
from django.urls import reverse

from forum import services
from forum.models import Comment, ModerationAction
from tests.factories import CommentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_each_moderator_act_is_recorded_with_who_what_and_why(comment, moderator):
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="Rude"
    )
    services.restore_comment(comment=comment, moderator=moderator)
    services.mark_comment_spam(comment=comment, moderator=moderator, note="Ads")

    acts = list(
        ModerationAction.objects.order_by("pk").values_list(
            "actor", "verb", "from_state", "to_state", "reason", "note", "comment"
        )
    )
    assert acts == [
        (moderator.pk, "remove", "published", "removed", "other", "Rude", comment.pk),
        (moderator.pk, "restore", "removed", "published", "", "", comment.pk),
        (moderator.pk, "spam", "published", "spam", "spam", "Ads", comment.pk),
    ]


def test_a_refused_act_records_nothing(comment, moderator):
    with pytest.raises(Exception, match="cannot become"):
        services.approve_comment(comment=comment, moderator=moderator)

    assert not ModerationAction.objects.exists()


def test_the_record_is_part_of_the_change_and_rolls_back_with_it(comment, moderator):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.remove_comment(
            comment=comment, moderator=moderator, reason="other", note="x"
        )
        raise RuntimeError("the request failed")

    assert not ModerationAction.objects.exists()
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PUBLISHED


def test_an_authors_deletion_is_recorded_without_the_text(article):
    kept = CommentFactory(article=article, body="Secret words.")
    CommentFactory(parent=kept)
    leaf = CommentFactory(article=article, body="Other secret words.")

    services.delete_comment(comment=kept, user=kept.author)
    services.delete_comment(comment=leaf, user=leaf.author)

    acts = {act.comment_number: act for act in ModerationAction.objects.all()}
    assert acts[kept.pk].to_state == "deleted"
    assert acts[kept.pk].comment_id == kept.pk
    assert acts[leaf.pk].to_state == "gone"
    assert acts[leaf.pk].comment_id is None
    assert acts[leaf.pk].actor_id == leaf.author_id
    for act in acts.values():
        assert "secret" not in f"{act.reason} {act}".lower()


def test_the_log_is_append_only(comment, moderator):
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="Rude"
    )
    act = ModerationAction.objects.get()

    with pytest.raises(TypeError):
        ModerationAction.objects.update(note="Nothing happened")
    with pytest.raises(TypeError):
        ModerationAction.objects.all().delete()
    with pytest.raises(TypeError):
        act.note = "Nothing happened"
        act.save()
    with pytest.raises(TypeError):
        act.delete()
    assert ModerationAction.objects.get().note == "Rude"


def test_admin_shows_a_comments_history_and_exports_it_as_csv(
    client, comment, moderator
):
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="Rude"
    )
    other = CommentFactory()
    services.remove_comment(
        comment=other, moderator=moderator, reason="other", note="Spammy"
    )
    client.force_login(moderator)
    changelist = reverse("admin:forum_moderationaction_changelist")

    page = client.get(reverse("admin:forum_comment_change", args=[comment.pk]))
    history = client.get(f"{changelist}?comment_number={comment.pk}")
    export = client.post(
        changelist,
        {
            "action": "export_csv",
            "_selected_action": [a.pk for a in ModerationAction.objects.all()],
        },
    )

    assert f"{changelist}?comment_number={comment.pk}" in page.content.decode()
    assert "1 recorded act" in page.content.decode()
    assert list(history.context["cl"].queryset) == [
        ModerationAction.objects.get(comment_number=comment.pk)
    ]
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0][:3] == ["when", "moderator", "verb"]
    assert sorted(row[6] for row in rows[1:]) == ["Rude", "Spammy"]
    assert {row[1] for row in rows[1:]} == {moderator.username}


def test_readers_cannot_see_the_log(client, comment):
    client.force_login(UserFactory(is_staff=True))

    response = client.get(reverse("admin:forum_moderationaction_changelist"))

    assert response.status_code == 403


# Revisions.


def test_each_edit_keeps_the_text_it_replaced(user):
    comment = CommentFactory(author=user, body="First try.")
    services.edit_comment(comment=comment, editor=user, body="Second try.")
    services.edit_comment(comment=comment, editor=user, body="Third try.")

    assert [r.body for r in comment.revisions.all()] == ["Second try.", "First try."]
    assert comment.revisions.last().written_at == comment.created_at


def test_an_authors_deletion_erases_every_revision(article, user):
    comment = CommentFactory(article=article, author=user, body="Regret.")
    CommentFactory(parent=comment)
    services.edit_comment(comment=comment, editor=user, body="More regret.")

    services.delete_comment(comment=comment, user=user)

    assert not comment.revisions.exists()


def test_moderators_read_the_revisions_in_the_admin(client, user, moderator):
    comment = CommentFactory(author=user, body="What I first said.")
    services.edit_comment(comment=comment, editor=user, body="What I say now.")
    client.force_login(moderator)

    page = client.get(reverse("admin:forum_comment_change", args=[comment.pk]))

    assert "What I first said." in page.content.decode()


def test_admin_shows_the_log_of_one_authors_comments_from_their_record(
    client, article, user, moderator
):
    mine = CommentFactory(article=article, author=user)
    theirs = CommentFactory(article=article)
    for comment in (mine, theirs):
        services.remove_comment(comment=comment, moderator=moderator, reason="abuse")
    client.force_login(moderator)

    page = client.get(
        reverse("admin:forum_comment_change", args=[mine.pk])
    ).content.decode()
    log_url = (
        reverse("admin:forum_moderationaction_changelist")
        + f"?comment__author={user.pk}"
    )
    assert f'href="{log_url}"' in page
    assert f'href="/admin/forum/comment/?author={user.pk}"' in page
    assert f'href="/admin/forum/sanction/?user={user.pk}"' in page

    listed = client.get(log_url).context["cl"].result_list
    assert {act.comment_number for act in listed} == {mine.pk}
    assert client.get(f"/admin/forum/comment/?author={user.pk}").status_code == 200
    assert client.get(f"/admin/forum/sanction/?user={user.pk}").status_code == 200

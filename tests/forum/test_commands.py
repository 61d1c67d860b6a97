"""forum's management commands: check_comment_tree and ensure_admin."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from forum.models import Comment
from tests.factories import CommentFactory

pytestmark = pytest.mark.django_db


def test_check_comment_tree_passes_a_healthy_forum(article):
    root = CommentFactory(article=article)
    CommentFactory(parent=root)
    out = StringIO()
    call_command("check_comment_tree", stdout=out)
    assert "OK: 2 comments" in out.getvalue()


def test_check_comment_tree_fails_on_corruption_and_repair_fixes_it(article):
    root = CommentFactory(article=article)
    reply = CommentFactory(parent=root)
    Comment.objects.filter(pk=reply.pk).update(lft=5, rght=2)
    out = StringIO()
    with pytest.raises(CommandError, match="1 problems found"):
        call_command("check_comment_tree", stdout=out)
    assert f"tree {root.tree_id}: lft/rght/level wrong" in out.getvalue()
    assert Comment.objects.get(pk=reply.pk).lft == 5

    out = StringIO()
    call_command("check_comment_tree", repair=True, stdout=out)
    assert "Repaired: 2 comments" in out.getvalue()
    reply.refresh_from_db()
    assert (reply.lft, reply.rght) == (2, 3)


def test_ensure_admin_creates_one_account_with_the_given_password(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-local-password")
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("a-long-local-password")
    assert "a-long-local-password" not in out.getvalue()

    out = StringIO()
    call_command("ensure_admin", stdout=out)
    assert "log in as “admin”" in out.getvalue()
    assert get_user_model().objects.count() == 1


def test_ensure_admin_generates_and_shows_a_password_once(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    password = out.getvalue().split("password ", 1)[1].split()[0]
    assert len(password) >= 12
    assert get_user_model().objects.get(username="admin").check_password(password)
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    assert password not in out.getvalue()

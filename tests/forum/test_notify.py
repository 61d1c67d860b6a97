"""The moderators' queue email (forum/notify.py): who gets it, what it says,
and one message per interval with the real database task backend."""

import logging
import signal
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from forum import notify, services
from forum.models import Comment, QueueMail
from tests.factories import ArticleFactory, UserFactory

# The closest mark wins: the worker test below asks for real transactions.
pytestmark = pytest.mark.django_db

SITE = "https://forum.example.org"
QUEUE_LINK = SITE + "/moderation/"


def _moderators_and_others():
    """Users who should get the email (returned: their addresses) and users who
    should not (an inactive moderator, one without an address, a reader, an
    inactive superuser, staff without the permission)."""
    moderate = Permission.objects.get(
        codename="moderate_comment", content_type__app_label="forum"
    )
    group = Group.objects.create(name="Moderators")
    group.permissions.add(moderate)
    # Both directly and through the group: still one message.
    direct = UserFactory(username="direct", email="direct@example.com")
    direct.user_permissions.add(moderate)
    direct.groups.add(group)
    UserFactory(username="grouped", email="grouped@example.com").groups.add(group)
    UserFactory(username="boss", email="boss@example.com", is_superuser=True)

    UserFactory(email="gone@example.com", is_active=False).user_permissions.add(
        moderate
    )
    UserFactory(email="").groups.add(group)
    UserFactory(email="reader@example.com")
    UserFactory(email="old-boss@example.com", is_superuser=True, is_active=False)
    UserFactory(email="staff@example.com", is_staff=True)
    return ["boss@example.com", "direct@example.com", "grouped@example.com"]


def _one_each(outbox, addresses):
    """Each address got exactly one message, addressed to it alone."""
    assert sorted(address for message in outbox for address in message.to) == sorted(
        addresses
    )
    assert all(len(message.recipients()) == 1 for message in outbox)


# With the immediate backend (development and tests).


def test_a_held_comment_emails_each_moderator_on_their_own(
    settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.FORUM_SITE_URL = SITE
    settings.FORUM_PREMODERATION = True
    addresses = _moderators_and_others()
    article = ArticleFactory(title="On bees")
    author = UserFactory(username="newcomer")

    with django_capture_on_commit_callbacks(execute=True):
        services.post_comment(article=article, body="Hello bees.", author=author)

    _one_each(mailoutbox, addresses)
    message = mailoutbox[0]
    assert message.subject == "[Moderation] 1 new in the queue"
    assert "1 comment now waits:" in message.body
    assert "newcomer on “On bees”: every comment is reviewed" in message.body
    assert "In the queue now: 1." in message.body
    assert QUEUE_LINK in message.body.splitlines()
    assert {m.body for m in mailoutbox} == {message.body}
    state = QueueMail.objects.get()
    assert state.last_sent_at is not None and state.scheduled_for is None


def test_a_report_emails_each_moderator_on_their_own(
    settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.FORUM_SITE_URL = SITE
    addresses = _moderators_and_others()
    comment = services.post_comment(
        article=ArticleFactory(), body="Rude words.", author=UserFactory()
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.report_comment(comment=comment, reporter=UserFactory(), reason="abuse")

    _one_each(mailoutbox, addresses)
    assert mailoutbox[0].subject == "[Moderation] 1 new in the queue"
    assert "1 new report from readers." in mailoutbox[0].body
    assert QUEUE_LINK in mailoutbox[0].body.splitlines()


def test_nothing_is_sent_when_the_transaction_rolls_back(
    settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.FORUM_PREMODERATION = True
    _moderators_and_others()
    article = ArticleFactory()
    published = services.post_comment(
        article=article, body="Published.", author=UserFactory(), status="published"
    )

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.post_comment(article=article, body="Held.", author=UserFactory())
        services.report_comment(
            comment=published, reporter=UserFactory(), reason="spam"
        )
        raise RuntimeError("something later in the transaction failed")

    assert callbacks == []
    assert mailoutbox == []
    assert not QueueMail.objects.exists()
    assert list(Comment.objects.values_list("body", flat=True)) == ["Published."]


def test_a_published_comment_sends_nothing(
    mailoutbox, django_capture_on_commit_callbacks
):
    _moderators_and_others()

    with django_capture_on_commit_callbacks(execute=True):
        services.post_comment(
            article=ArticleFactory(), body="Fine.", author=UserFactory()
        )

    assert mailoutbox == []
    # Nothing was even scheduled.
    assert not QueueMail.objects.exists()


# With the database backend and its worker, as in production.


def _run_worker():
    """The real worker, through whatever is due, then out. It installs its own
    signal handlers and logger levels; the rest of the test run gets them back."""
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]
    handlers = {sig: signal.getsignal(sig) for sig in signals}
    loggers = [logging.getLogger(name) for name in ("django_tasks", "django_tasks_db")]
    levels = {logger: logger.level for logger in loggers}
    try:
        call_command(
            "db_worker", batch=True, no_startup_delay=True, reload=False, verbosity=0
        )
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        for logger, level in levels.items():
            logger.setLevel(level)


@pytest.mark.django_db(transaction=True)
def test_entries_within_the_interval_share_one_email_sent_by_the_worker(
    settings, mailoutbox
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.FORUM_PREMODERATION = True
    settings.FORUM_QUEUE_EMAIL_MINUTES = 10
    settings.FORUM_SITE_URL = SITE
    addresses = _moderators_and_others()
    article = ArticleFactory(title="On bees")

    # The first entry: a message goes out as soon as a worker runs.
    services.post_comment(
        article=article, body="First.", author=UserFactory(username="zoe")
    )
    _run_worker()
    first_task = DBTaskResult.objects.get()
    assert first_task.status == TaskResultStatus.SUCCESSFUL, first_task.traceback
    _one_each(mailoutbox, addresses)
    last_sent_at = QueueMail.objects.get().last_sent_at
    assert timezone.now() - last_sent_at < timedelta(minutes=1)
    mailoutbox.clear()

    for name in ("alice", "bruno", "chen"):
        services.post_comment(
            article=article, body=f"{name} says hi.", author=UserFactory(username=name)
        )

    waiting = DBTaskResult.objects.exclude(pk=first_task.pk)
    task = waiting.get()
    assert task.status == TaskResultStatus.READY
    assert task.task_path == "forum.notify.send_queue_email"
    assert task.run_after == last_sent_at + timedelta(minutes=10)
    assert QueueMail.objects.get().scheduled_for == task.run_after

    # Not due yet: the worker leaves it.
    _run_worker()
    task.refresh_from_db()
    assert task.status == TaskResultStatus.READY
    assert mailoutbox == []

    waiting.update(run_after=timezone.now() - timedelta(seconds=1))
    _run_worker()

    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL, task.traceback
    assert DBTaskResult.objects.count() == 2
    _one_each(mailoutbox, addresses)
    for message in mailoutbox:
        assert message.subject == "[Moderation] 3 new in the queue"
        assert "3 comments now wait:" in message.body
        for name in ("alice", "bruno", "chen"):
            assert f"{name} on “On bees”: every comment is reviewed" in message.body
        assert "zoe" not in message.body
        assert "In the queue now: 4." in message.body
        assert QUEUE_LINK in message.body.splitlines()
    state = QueueMail.objects.get()
    assert state.scheduled_for is None
    assert state.last_sent_at > last_sent_at


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_an_entry_committing_while_the_email_is_made_is_in_this_one_or_the_next(
    settings, mailoutbox
):
    """Found by review: entries were picked by their stamp, set before their
    transaction committed; an email put together in between missed them, and
    the next one started after them. Now a writer takes the QueueMail lock
    before it writes, so the email waits for it and lists it."""
    settings.FORUM_PREMODERATION = True
    settings.FORUM_SITE_URL = SITE
    addresses = _moderators_and_others()
    article = ArticleFactory()
    writing = threading.Event()

    def post_slowly():
        try:
            with transaction.atomic():
                services.post_comment(
                    article=article,
                    body="Slow one.",
                    author=UserFactory(username="sam"),
                )
                writing.set()
                time.sleep(1)  # committed only after the email started
        finally:
            connections.close_all()

    def send():
        try:
            writing.wait(timeout=30)
            notify.send_queue_email.call()
        finally:
            connections.close_all()

    # Scheduled in the database, not sent at the commit: this test sends.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    threads = [threading.Thread(target=post_slowly), threading.Thread(target=send)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    _one_each(mailoutbox, addresses)
    assert "sam on" in mailoutbox[0].body


def test_migrate_applies_the_task_tables_migrations():
    app_label = DBTaskResult._meta.app_label  # "django_tasks_database"
    on_disk = {
        key
        for key in MigrationLoader(connection).disk_migrations
        if key[0] == app_label
    }
    applied = set(MigrationRecorder(connection).applied_migrations())

    assert on_disk
    assert on_disk <= applied
    assert DBTaskResult._meta.db_table in connection.introspection.table_names()
    # Nothing left unapplied: `migrate --check` exits non-zero otherwise.
    call_command("migrate", check_unapplied=True, verbosity=0)


def test_a_run_with_nothing_to_send_does_not_move_the_next_email_later(
    settings, mailoutbox
):
    """Found by review: an empty run marked "sent", which delayed the next
    message by a whole interval; with no moderator to write to, entries were
    marked sent and never reported."""
    settings.FORUM_PREMODERATION = True
    sent_at = timezone.now() - timedelta(hours=1)
    QueueMail.objects.create(pk=1, last_sent_at=sent_at)

    notify.send_queue_email.call()
    # An entry, but nobody to tell yet.
    services.post_comment(article=ArticleFactory(), body="Held.", author=UserFactory())
    notify.send_queue_email.call()

    assert mailoutbox == []
    assert QueueMail.objects.get().last_sent_at == sent_at
    addresses = _moderators_and_others()
    notify.send_queue_email.call()
    _one_each(mailoutbox, addresses)
    assert "Held" not in mailoutbox[0].subject
    assert "1 comment now waits:" in mailoutbox[0].body

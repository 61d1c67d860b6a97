"""Comments: one MPTT tree per top-level comment, so each thread branch can be
locked on its own (see forum/services/)."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.urls import reverse
from django.utils import timezone
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet

from .fields import EncodableCharField, EncodableTextField


class CommentQuerySet(TreeQuerySet):
    def awaiting_moderation(self):
        """Waiting for a moderator: held for approval or hidden by reports."""
        return self.filter(status=Comment.Status.PENDING)

    def hidden_by_moderators(self):
        return self.filter(status__in=[Comment.Status.REMOVED, Comment.Status.SPAM])


# On PostgreSQL a new tree's id comes from this sequence, not from mptt's
# MAX(tree_id) + 1: two transactions that each start a tree (a reader's new
# thread, an import writing thousands) get different ids without waiting for
# each other's commit. SQLite has one writer at a time, so MAX + 1 is safe.
TREE_ID_SEQUENCE = "forum_comment_tree_id_seq"


class CommentManager(TreeManager.from_queryset(CommentQuerySet)):
    def _get_next_tree_id(self):
        return self.allocate_tree_ids(1)[0]

    def allocate_tree_ids(self, count):
        """``count`` tree ids no other transaction will be given, in order.

        On SQLite only while the caller's transaction holds the write lock
        (every write transaction does: BEGIN IMMEDIATE).
        """
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(%s) FROM generate_series(1, %s)",
                    [TREE_ID_SEQUENCE, count],
                )
                return [row[0] for row in cursor.fetchall()]
        highest = self.aggregate(highest=models.Max("tree_id"))["highest"] or 0
        return list(range(highest + 1, highest + 1 + count))


# States whose text other readers do not see; nobody edits or deletes them.
HIDDEN_STATUSES = ("removed", "spam", "deleted")


class Comment(MPTTModel):
    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        PENDING = "pending", "Awaiting moderation"
        REMOVED = "removed", "Removed"
        SPAM = "spam", "Spam"
        # Terminal: the author's choice; its text is erased (forum/services/).
        DELETED = "deleted", "Deleted by its author"

    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="comments"
    )
    parent = TreeForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comments",
    )
    author_name = EncodableCharField(
        max_length=100, blank=True, help_text="For imported and guest comments."
    )
    # An imported comment's author as the source gave them; never shown.
    author_email = EncodableCharField(max_length=254, blank=True, editable=False)
    author_url = EncodableCharField(max_length=500, blank=True, editable=False)
    body = EncodableTextField(help_text="The text as written.")
    body_html = models.TextField(help_text="Sanitised HTML, made once when written.")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PUBLISHED, db_index=True
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    moderated_at = models.DateTimeField(null=True, blank=True)

    class RemovalReason(models.TextChoices):
        SPAM = "spam", "Spam"
        ABUSE = "abuse", "Abuse or harassment"
        OFF_TOPIC = "off_topic", "Off-topic"
        MISINFORMATION = "misinformation", "Misinformation"
        ILLEGAL = "illegal", "Illegal content"
        PERSONAL = "personal", "Personal information"
        OTHER = "other", "Other"

    # Why a moderator hid it: a category readers see, and a note they do not.
    moderation_code = models.CharField(
        max_length=32, blank=True, choices=RemovalReason.choices
    )
    moderation_reason = models.CharField(
        max_length=500, blank=True, help_text="The moderator's note."
    )
    source_key = EncodableCharField(
        max_length=255,
        blank=True,
        help_text="Identity in the imported source, so re-imports recognise it.",
    )
    # What a page shows of this comment, rendered once by forum/fragments.py
    # whenever something that shows changes (forum/services/), so a page
    # assembles stored strings instead of rendering a template per comment.
    fragment = models.TextField(
        blank=True, editable=False, help_text="HTML any reader sees."
    )
    fragment_private = models.TextField(
        blank=True,
        editable=False,
        help_text="HTML its author and moderators see, when it differs.",
    )
    fragment_version = models.CharField(max_length=16, blank=True, editable=False)
    # Why the pre-moderation rules (forum/screening.py) held it, for moderators.
    held_because = models.CharField(max_length=500, blank=True, editable=False)
    # A moderator's pin: a top-level comment shown first in every order.
    pinned_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set on every comment of a subtree a moderator locked: no replies in it.
    replies_locked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = CommentManager()

    class Meta:
        permissions = [("moderate_comment", "Can moderate comments")]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "source_key"],
                condition=~models.Q(source_key=""),
                name="forum_comment_unique_source_key_per_article",
                violation_error_message="This article already has a comment with "
                "this source key.",
            )
        ]
        indexes = [
            models.Index(
                fields=["article", "tree_id", "lft"], name="forum_comment_thread_idx"
            ),
            # mptt opens a gap for a reply with UPDATE ... WHERE tree_id = %s AND
            # (lft > %s OR rght > %s); with (tree_id, lft) alone PostgreSQL reads
            # every row of the tree, with both it ORs two index ranges.
            models.Index(
                fields=["tree_id", "rght"], name="forum_comment_tree_rght_idx"
            ),
            # A thread's skeleton reads only its top-level comments, all it
            # needs of them in the index...
            models.Index(
                fields=[
                    "article",
                    "tree_id",
                    "created_at",
                    "lft",
                    "rght",
                    "level",
                    "pinned_at",
                ],
                condition=models.Q(level=0),
                name="forum_comment_roots_pin_idx",
            ),
            # ...and counts the few that are not published.
            models.Index(
                fields=["article", "status"],
                condition=~models.Q(status="published"),
                name="forum_comment_unpublished_idx",
            ),
        ]

    def __str__(self):
        return f"{self.display_name}: {self.excerpt()}"

    def get_absolute_url(self):
        return reverse(
            "forum:comment_detail",
            kwargs={"slug": self.article.slug, "pk": self.pk},
        )

    def get_thread_url(self):
        """The article page that holds this comment, scrolled to it."""
        return f"{self.article.get_absolute_url()}?comment={self.pk}#{self.anchor}"

    @property
    def anchor(self):
        return f"comment-{self.pk}"

    @property
    def display_name(self):
        if self.author_id:
            return self.author.get_username()
        return self.author_name or "A reader"

    @property
    def is_hidden(self):
        return self.status in HIDDEN_STATUSES

    @property
    def is_deleted_by_author(self):
        return self.status == self.Status.DELETED

    @property
    def public_reason(self):
        """The category readers are told, or "" when there is none to tell."""
        if self.moderation_code in ("", self.RemovalReason.OTHER):
            return ""
        return self.get_moderation_code_display()

    @property
    def moderation_summary(self):
        """What moderators are told: the category and the note."""
        return (
            " — ".join(
                part for part in (self.public_reason, self.moderation_reason) if part
            )
            or self.get_moderation_code_display()
        )

    def excerpt(self, length=80):
        text = " ".join(self.body.split())
        return text if len(text) <= length else text[: length - 1] + "…"

    def can_accept_replies(self):
        return self.status == self.Status.PUBLISHED and self.replies_locked_at is None

    def is_editable_by(self, user, *, now=None):
        window = timedelta(minutes=settings.FORUM_EDIT_WINDOW_MINUTES)
        return (
            user.is_authenticated
            and self.author_id == user.pk
            and not self.is_hidden
            and (now or timezone.now()) - self.created_at < window
        )

    def fragment_for(self, *, private):
        """The stored HTML for a viewer who may (``private``) or may not read
        past the public face of this comment."""
        return (private and self.fragment_private) or self.fragment


class ThreadStateQuerySet(models.QuerySet):
    def bump(self, article_id):
        """Add one to the article's thread version (making the row if need be)
        and return the new version. Call it inside the writing transaction."""
        table = self.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (article_id, version) VALUES (%s, 1) "
                f"ON CONFLICT (article_id) DO UPDATE SET version = {table}.version + 1 "
                "RETURNING version",
                [article_id],
            )
            return cursor.fetchone()[0]

    def version_of(self, article_id):
        return (
            self.filter(article_id=article_id).values_list("version", flat=True).first()
            or 0
        )


class ThreadState(models.Model):
    """One row per article with comments: a version every write to its thread
    bumps in the same transaction, so cached thread skeletons are keyed by it
    and never outlive a change."""

    article = models.OneToOneField(
        "articles.Article",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="thread_state",
    )
    version = models.BigIntegerField(default=0)

    objects = ThreadStateQuerySet.as_manager()

    def __str__(self):
        return f"thread of article {self.article_id} at version {self.version}"


class Report(models.Model):
    """A reader's report of a comment: one per reader and comment."""

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        ABUSE = "abuse", "Abuse or harassment"
        OFF_TOPIC = "off_topic", "Off-topic"
        MISINFORMATION = "misinformation", "Misinformation"
        ILLEGAL = "illegal", "Illegal content"
        OTHER = "other", "Something else (say what)"

    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, related_name="reports"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports"
    )
    reason = models.CharField(max_length=32, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when a moderator decides on the comment (approve, remove, spam).
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "reporter"], name="forum_report_one_per_reader"
            )
        ]

    def __str__(self):
        return f"{self.get_reason_display()} on comment {self.comment_id}"


class CommentRevision(models.Model):
    """A comment's text before an edit, for moderators to read; erased with the
    comment when its author deletes it."""

    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, related_name="revisions"
    )
    body = models.TextField()
    body_html = models.TextField()
    written_at = models.DateTimeField(help_text="When this text was written.")
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["comment", "-replaced_at", "-pk"]

    def __str__(self):
        return f"comment {self.comment_id} as of {self.written_at:%Y-%m-%d %H:%M}"


class SanctionQuerySet(models.QuerySet):
    def in_force(self, *, now=None):
        """Not lifted, and not yet run out."""
        now = now or timezone.now()
        return self.filter(lifted_at__isnull=True).filter(
            models.Q(until__isnull=True) | models.Q(until__gt=now)
        )


class Sanction(models.Model):
    """A moderator's measure against a user, in force until ``until`` (never
    ending when empty) or until lifted."""

    class Kind(models.TextChoices):
        WARN = "warn", "Warning (shown on their next visit)"
        PREMODERATE = "premoderate", "Always pre-moderate their comments"
        SUSPEND = "suspend", "Suspension (cannot post until a date)"
        BAN = "ban", "Ban (cannot post)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sanctions"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    reason = models.CharField(max_length=500)
    until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # A warning is shown once, on the next visit.
    seen_at = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)

    objects = SanctionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.user}"


class ModerationActionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The moderation log is append-only.")

    def delete(self):
        raise TypeError("The moderation log is append-only.")


class ModerationAction(models.Model):
    """One act on a comment, recorded in the transaction that does it: who,
    when, the verb, the state it left and the state it led to, and why.
    Append-only. An author's deletion is recorded without the text."""

    comment = models.ForeignKey(
        Comment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="moderation_actions",
    )
    # Kept when the comment row itself is gone (an author's deleted leaf).
    comment_number = models.PositiveBigIntegerField(db_index=True)
    # The log outlives a deleted article.
    article = models.ForeignKey(
        "articles.Article",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="moderation_actions",
    )
    verb = models.CharField(max_length=32)
    from_state = models.CharField(max_length=16)
    to_state = models.CharField(max_length=16)
    reason = models.CharField(max_length=500, blank=True, help_text="Its category.")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ModerationActionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.verb} comment {self.comment_number} by {self.actor}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("The moderation log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The moderation log is append-only.")


class WordRule(models.Model):
    """A word or phrase moderators watch for (forum/screening.py): a suspect
    one holds a comment for review, a banned one refuses it with a message."""

    class Kind(models.TextChoices):
        SUSPECT = "suspect", "Suspect: hold the comment for review"
        BANNED = "banned", "Banned: refuse the comment"

    phrase = models.CharField(
        max_length=100,
        unique=True,
        help_text="A word or a few words. Matched as whole words, in any case, "
        "through zero-width characters, accents and look-alike letters.",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    note = models.CharField(max_length=200, blank=True, help_text="For moderators.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["kind", "phrase"]

    def __str__(self):
        return self.phrase

    def clean(self):
        from .screening import normalize

        self.phrase = " ".join((self.phrase or "").split())
        if not normalize(self.phrase).strip():
            raise ValidationError({"phrase": "Write a word or a phrase."})


class QueueMail(models.Model):
    """The moderators' queue email (forum/notify.py): when the last one went
    out, and when the next is due if one is scheduled. One row."""

    last_sent_at = models.DateTimeField(null=True, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"queue email, last sent {self.last_sent_at}"


class UsernameKey(models.Model):
    """The look of an account's name (forum/services/accounts.py), unique: no
    two accounts that hold to the naming rules can look alike, even when they
    sign up at the same moment. Names made without a form (createsuperuser,
    ensure_admin, code) keep no key when their look is taken."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="username_key",
    )
    # A digest of screening.skeleton(username): fixed length, however much
    # compatibility folding lengthens a name.
    key = models.CharField(max_length=32, unique=True)

    def __str__(self):
        return self.key

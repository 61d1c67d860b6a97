"""Comments: one MPTT tree per top-level comment, so each thread branch can be
locked on its own (see forum/services.py)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet

# Recorded as the moderation reason when authors delete their own comment.
AUTHOR_DELETED_REASON = "Deleted by its author."


class CommentQuerySet(TreeQuerySet):
    def thread(self, article):
        """Every comment of an article, hidden ones included, in display order.

        Hidden comments stay in: the template shows a placeholder, so replies to
        them keep their place in the tree.
        """
        return (
            self.filter(article=article)
            .select_related("author")
            .order_by("tree_id", "lft")
        )


CommentManager = TreeManager.from_queryset(CommentQuerySet)


class Comment(MPTTModel):
    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        PENDING = "pending", "Awaiting moderation"
        REMOVED = "removed", "Removed"
        SPAM = "spam", "Spam"

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
    author_name = models.CharField(
        max_length=100, blank=True, help_text="For imported and guest comments."
    )
    body = models.TextField(help_text="The text as written.")
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
    moderation_reason = models.CharField(max_length=500, blank=True)
    source_key = models.CharField(
        max_length=255,
        blank=True,
        help_text="Identity in the imported source, so re-imports recognise it.",
    )

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
            )
        ]

    def __str__(self):
        return f"{self.display_name}: {self.excerpt()}"

    def get_absolute_url(self):
        return reverse(
            "forum:comment_detail",
            kwargs={"slug": self.article.slug, "pk": self.pk},
        )

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
        return self.status in (self.Status.REMOVED, self.Status.SPAM)

    @property
    def is_deleted_by_author(self):
        return (
            self.status == self.Status.REMOVED
            and self.author_id is not None
            and self.moderated_by_id == self.author_id
            and self.moderation_reason == AUTHOR_DELETED_REASON
        )

    def excerpt(self, length=80):
        text = " ".join(self.body.split())
        return text if len(text) <= length else text[: length - 1] + "…"

    def can_accept_replies(self):
        return self.status == self.Status.PUBLISHED

    def is_editable_by(self, user, *, now=None):
        window = timedelta(minutes=settings.FORUM_EDIT_WINDOW_MINUTES)
        return (
            user.is_authenticated
            and self.author_id == user.pk
            and not self.is_hidden
            and (now or timezone.now()) - self.created_at < window
        )

    def is_visible_to(self, user, *, can_moderate=False):
        """Whether the viewer may read this comment's text."""
        if self.status == self.Status.PUBLISHED or can_moderate:
            return True
        if self.status == self.Status.PENDING:
            return user.is_authenticated and user.pk == self.author_id
        return False

"""Articles: the pieces readers come to discuss."""

import re

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from forum.fields import (
    EncodableCharField,
    EncodableSlugField,
    EncodableTextField,
    EncodableURLField,
)

# A short line without closing punctuation, between paragraphs, is a
# subheading in the sources we import ("After the elimination of ... join").
SUBHEADING_MAX_LENGTH = 100
SENTENCE_END = re.compile(r"[.!?:;…][\s\"'”’)\]]*$")


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(
            published_at__isnull=False, published_at__lte=timezone.now()
        ).order_by("-published_at", "-pk")


class Article(models.Model):
    title = EncodableCharField(max_length=200)
    slug = EncodableSlugField(max_length=200, unique=True)
    lead = EncodableTextField(
        blank=True, help_text="Editor's note shown above the body."
    )
    lead_author = EncodableCharField(max_length=100, blank=True)
    body = EncodableTextField(help_text="Source text as written, one paragraph a line.")
    source_url = EncodableURLField(max_length=500, blank=True)
    source_key = EncodableCharField(
        max_length=255,
        unique=True,
        help_text="Stable identity of the imported source, so re-imports update.",
    )
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # A moderator's lock on the whole thread: no new comments, with a message.
    comments_closed_at = models.DateTimeField(null=True, blank=True)
    comments_closed_message = EncodableCharField(
        max_length=300,
        blank=True,
        help_text="Shown where the comment form was, e.g. why it closed.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("articles:article_detail", kwargs={"slug": self.slug})

    @cached_property
    def comments_url(self):
        """Prefix of every comment URL of this article, reversed once a page."""
        return reverse("forum:comment_create", kwargs={"slug": self.slug})

    @property
    def is_published(self):
        return self.published_at is not None and self.published_at <= timezone.now()

    @property
    def accepts_comments(self):
        return self.comments_closed_at is None

    def blocks(self):
        """The body as (kind, text) pairs, kind "p" or "h2"; templates escape."""
        blocks = []
        for line in self.body.splitlines():
            text = line.strip()
            if not text:
                continue
            is_heading = (
                blocks
                and len(text) <= SUBHEADING_MAX_LENGTH
                and not SENTENCE_END.search(text)
            )
            blocks.append(("h2" if is_heading else "p", text))
        return blocks

    def opening(self):
        """The body's first paragraph: what the article is about, for teasers
        and the page description (the lead is the editor's, not the author's)."""
        return next((text for kind, text in self.blocks() if kind == "p"), "")

"""Articles: the pieces readers come to discuss."""

import re
from html import unescape

import markdown
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import strip_tags

from forum.fields import (
    EncodableCharField,
    EncodableSlugField,
    EncodableTextField,
    EncodableURLField,
)
from forum.markup import render_article

# A short line without closing punctuation, between paragraphs, is a
# subheading in the sources we import ("After the elimination of ... join").
SUBHEADING_MAX_LENGTH = 100
SENTENCE_END = re.compile(r"[.!?:;…][\s\"'”’)\]]*$")
FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(
            published_at__isnull=False, published_at__lte=timezone.now()
        ).order_by("-published_at", "-pk")


class BodyFormat(models.TextChoices):
    TEXT = "text", "Plain text"
    HTML = "html", "HTML"
    MARKDOWN = "markdown", "Markdown"


class Article(models.Model):
    title = EncodableCharField(max_length=200)
    slug = EncodableSlugField(max_length=200, unique=True)
    lead = EncodableTextField(
        blank=True, help_text="Editor's note shown above the body."
    )
    lead_author = EncodableCharField(max_length=100, blank=True)
    author_name = EncodableCharField(
        max_length=200, blank=True, help_text="Who wrote it, as the source names them."
    )
    body = EncodableTextField(
        blank=True,
        help_text="As written: plain text one paragraph a line, or the HTML or "
        "Markdown it was imported as (body format).",
    )
    body_format = models.CharField(
        max_length=16, choices=BodyFormat.choices, default=BodyFormat.TEXT
    )
    # Made once on import by forum.markup.render_article for HTML and Markdown
    # bodies; a plain-text body is shown through blocks().
    body_html = models.TextField(blank=True, editable=False)
    source_url = EncodableURLField(max_length=500, blank=True)
    source_key = EncodableCharField(
        max_length=255,
        unique=True,
        help_text="Stable identity of the imported source, so re-imports update.",
    )
    # The file (and item) the last import read it from, to name both sides of
    # a key clash.
    source_origin = EncodableCharField(max_length=500, blank=True, editable=False)
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

    def rendered_body(self):
        """What body_html holds for this body: sanitised HTML for an HTML or
        Markdown body, nothing for plain text (blocks() shows that)."""
        if self.body_format == BodyFormat.TEXT:
            return ""
        text = self.body
        if self.body_format == BodyFormat.MARKDOWN:
            text = markdown.markdown(
                text, output_format="html", extensions=["fenced_code"]
            )
        return render_article(text)

    def opening(self):
        """The body's first paragraph: what the article is about, for teasers
        and the page description (the lead is the editor's, not the author's)."""
        if self.body_format != BodyFormat.TEXT:
            first = FIRST_PARAGRAPH.search(self.body_html)
            return (
                " ".join(unescape(strip_tags(first.group(1))).split()) if first else ""
            )
        return next((text for kind, text in self.blocks() if kind == "p"), "")

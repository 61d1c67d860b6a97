"""Articles with their comment trees written out as our JSON format or as WXR."""

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from articles.models import Article
from forum.models import Comment

from .importers.jsonfmt import FORMAT, VERSION

WXR_NAMESPACES = {
    "xmlns:excerpt": "http://wordpress.org/export/1.2/excerpt/",
    "xmlns:content": "http://purl.org/rss/1.0/modules/content/",
    "xmlns:wfw": "http://wellformedweb.org/CommentAPI/",
    "xmlns:dc": "http://purl.org/dc/elements/1.1/",
    "xmlns:wp": "http://wordpress.org/export/1.2/",
}
# WordPress's own date layout, and what it writes for "no date".
WP_DATE = "%Y-%m-%d %H:%M:%S"
WP_NO_DATE = "0000-00-00 00:00:00"
WP_APPROVED = {
    Comment.Status.PUBLISHED: "1",
    Comment.Status.PENDING: "0",
    Comment.Status.SPAM: "spam",
    Comment.Status.REMOVED: "trash",
    Comment.Status.DELETED: "trash",
}
# XML 1.0 cannot hold these characters at all, not even as references.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# A parser turns a raw carriage return into a line feed; a reference survives.
XML_ENTITIES = {"\r": "&#13;"}
REPLACEMENT = "\ufffd"
COMMENT_CHUNK = 1000


@dataclass
class ExportResult:
    articles: int = 0
    comments: int = 0


def export_json(
    *, articles: Iterable[Article], out: TextIO, include_emails: bool = False
) -> ExportResult:
    """Write ``articles`` and their comment trees to ``out`` in our JSON format
    (described in articles/importers/jsonfmt.py), one article at a time.

    Lossless: what an import of the file needs to build the same articles and
    trees, keys, states and moderators' reasons included. Readers' emails only
    with ``include_emails``.
    """
    result = ExportResult()
    header = json.dumps(
        {"format": FORMAT, "version": VERSION, "exported_at": _iso(timezone.now())}
    )
    out.write(header[:-1] + ', "articles": [')
    for article in _each(articles):
        out.write(",\n" if result.articles else "\n")
        fields = _dump(
            {
                "key": article.source_key,
                "title": article.title,
                "slug": article.slug,
                "author": article.author_name,
                "lead": article.lead,
                "lead_author": article.lead_author,
                "body": article.body,
                "body_format": article.body_format,
                "source_url": article.source_url,
                "published_at": _iso(article.published_at),
                "comments_closed_at": _iso(article.comments_closed_at),
                "comments_closed_message": article.comments_closed_message,
            }
        )
        out.write(fields[:-1] + ', "comments": [')
        count = 0
        for comment in _thread(article):
            out.write(",\n" if count else "\n")
            out.write(_dump(_comment_fields(comment, include_emails=include_emails)))
            count += 1
        out.write("\n]}" if count else "]}")
        result.articles += 1
        result.comments += count
    out.write("\n]}\n" if result.articles else "]}\n")
    return result


def export_wxr(
    *, articles: Iterable[Article], out: TextIO, include_emails: bool = False
) -> ExportResult:
    """Write ``articles`` and their comment trees to ``out`` as a WordPress
    export (WXR 1.2), one ``<item>`` per article, one article at a time.

    WordPress reads it as posts with their comments. What WordPress has no
    field for (keys, exact states, moderators' reasons, leads, body format,
    exact times) is in ``_forum_*`` post and comment meta, which our WXR
    reader takes back, so an import of the file is lossless, except for
    control characters XML cannot hold (each becomes U+FFFD): the JSON
    export keeps those too.
    """
    result = ExportResult()
    xml = _XmlWriter(out)
    site = settings.FORUM_SITE_URL
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    xml.start("rss", {"version": "2.0", **WXR_NAMESPACES})
    xml.start("channel")
    xml.element("title", site)
    xml.element("link", site)
    xml.element("description", "")
    xml.element("pubDate", _rfc822(timezone.now()))
    xml.element("language", settings.LANGUAGE_CODE)
    xml.element("wp:wxr_version", "1.2")
    xml.element("wp:base_site_url", site)
    xml.element("wp:base_blog_url", site)
    xml.element("generator", "forum export_articles")
    for article in _each(articles):
        result.articles += 1
        result.comments += _wxr_item(xml, article, include_emails=include_emails)
    xml.end("channel")
    xml.end("rss")
    out.write("\n")
    return result


def _wxr_item(xml: "_XmlWriter", article: Article, *, include_emails: bool) -> int:
    xml.start("item")
    xml.element("title", article.title)
    xml.element("link", settings.FORUM_SITE_URL + article.get_absolute_url())
    if article.published_at:
        xml.element("pubDate", _rfc822(article.published_at))
    xml.element("dc:creator", article.author_name)
    xml.element("guid", article.source_key, {"isPermaLink": "false"})
    xml.element("description", "")
    xml.element("content:encoded", article.body)
    xml.element("excerpt:encoded", "")
    xml.element("wp:post_id", str(article.pk))
    xml.element("wp:post_date", _wp_date(article.published_at, local=True))
    xml.element("wp:post_date_gmt", _wp_date(article.published_at, local=False))
    xml.element("wp:comment_status", "closed" if article.comments_closed_at else "open")
    xml.element("wp:ping_status", "closed")
    xml.element("wp:post_name", article.slug)
    xml.element("wp:status", "publish" if article.published_at else "draft")
    xml.element("wp:post_parent", "0")
    xml.element("wp:menu_order", "0")
    xml.element("wp:post_type", "post")
    xml.element("wp:post_password", "")
    xml.element("wp:is_sticky", "0")
    _meta(
        xml,
        "wp:postmeta",
        {
            "_forum_key": article.source_key,
            "_forum_lead": article.lead,
            "_forum_lead_author": article.lead_author,
            "_forum_body_format": article.body_format,
            "_forum_source_url": article.source_url,
            "_forum_published_at": _iso(article.published_at) or "",
            "_forum_comments_closed_at": _iso(article.comments_closed_at) or "",
            "_forum_comments_closed_message": article.comments_closed_message,
        },
    )
    count = 0
    for comment in _thread(article):
        fields = _comment_fields(comment, include_emails=include_emails)
        xml.start("wp:comment")
        xml.element("wp:comment_id", str(comment.pk))
        xml.element("wp:comment_author", fields["author"])
        if include_emails:
            xml.element("wp:comment_author_email", fields["email"])
        xml.element("wp:comment_author_url", fields["url"])
        xml.element("wp:comment_date", _wp_date(comment.created_at, local=True))
        xml.element("wp:comment_date_gmt", _wp_date(comment.created_at, local=False))
        xml.element("wp:comment_content", fields["body"])
        xml.element("wp:comment_approved", WP_APPROVED[comment.status])
        xml.element("wp:comment_type", "comment")
        xml.element("wp:comment_parent", str(comment.parent_id or 0))
        _meta(
            xml,
            "wp:commentmeta",
            {
                "_forum_key": fields["key"],
                "_forum_status": comment.status,
                "_forum_created_at": fields["created_at"],
                "_forum_edited_at": fields["edited_at"] or "",
                "_forum_moderation_code": comment.moderation_code,
                "_forum_moderation_reason": comment.moderation_reason,
            },
        )
        xml.end("wp:comment")
        count += 1
    xml.end("item")
    return count


def _meta(xml: "_XmlWriter", tag: str, values: dict[str, str]) -> None:
    for key, value in values.items():
        xml.start(tag)
        xml.element("wp:meta_key", key)
        xml.element("wp:meta_value", value)
        xml.end(tag)


def _each(articles: Iterable[Article]) -> Iterator[Article]:
    if isinstance(articles, QuerySet):
        # The rendered body is made again on import; no need to hold it.
        return articles.defer("body_html").iterator(chunk_size=100)
    return iter(articles)


def _thread(article: Article) -> Iterator[Comment]:
    """The article's comments depth first, siblings in thread order, read in
    chunks so a thread of any size takes the same memory."""
    return (
        Comment.objects.filter(article=article)
        .select_related("author")
        .annotate(parent_key=F("parent__source_key"))
        .defer("body_html", "fragment", "fragment_private")
        .order_by("tree_id", "lft")
        .iterator(chunk_size=COMMENT_CHUNK)
    )


def comment_key(source_key: str, pk: int) -> str:
    """A comment's key in an export: its source key, or for one written here
    its id with this site's host, so it never meets the key of a comment this
    site imported from another forum (``forum:old.example:5``)."""
    if source_key:
        return source_key
    host = urlsplit(settings.FORUM_SITE_URL).netloc or "forum"
    return f"forum:{host}:{pk}"


def _comment_fields(comment: Comment, *, include_emails: bool) -> dict[str, Any]:
    fields = {
        "key": comment_key(comment.source_key, comment.pk),
        "parent": (
            comment_key(comment.parent_key, comment.parent_id)
            if comment.parent_id
            else None
        ),
        # The name the thread shows (Comment.display_name) for site users.
        "author": comment.author.get_username()
        if comment.author_id
        else comment.author_name,
    }
    if include_emails:
        fields["email"] = (
            comment.author.email if comment.author_id else comment.author_email
        )
    fields.update(
        {
            "url": comment.author_url,
            "created_at": _iso(comment.created_at),
            "edited_at": _iso(comment.edited_at),
            "status": comment.status,
            # Its author erased it: a placeholder keeping its replies' place.
            "body": "" if comment.is_deleted_by_author else comment.body,
            "moderation_code": comment.moderation_code,
            "moderation_reason": comment.moderation_reason,
        }
    )
    return fields


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _wp_date(moment: datetime | None, *, local: bool) -> str:
    if moment is None:
        return WP_NO_DATE
    moment = timezone.localtime(moment) if local else moment.astimezone(UTC)
    return moment.strftime(WP_DATE)


def _rfc822(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


class _XmlWriter:
    """Elements written to a text stream as they come, every text escaped."""

    def __init__(self, out: TextIO):
        self._out = out
        self._depth = 0

    def start(self, tag: str, attributes: dict[str, str] | None = None) -> None:
        self._out.write(f"\n{'  ' * self._depth}<{tag}{_attributes(attributes)}>")
        self._depth += 1

    def end(self, tag: str) -> None:
        self._depth -= 1
        self._out.write(f"\n{'  ' * self._depth}</{tag}>")

    def element(
        self, tag: str, text: str, attributes: dict[str, str] | None = None
    ) -> None:
        self._out.write(
            f"\n{'  ' * self._depth}<{tag}{_attributes(attributes)}>"
            f"{_text(text)}</{tag}>"
        )


def _attributes(attributes: dict[str, str] | None) -> str:
    return "".join(
        f" {name}={quoteattr(NOT_XML.sub(REPLACEMENT, value))}"
        for name, value in (attributes or {}).items()
    )


def _text(text: str) -> str:
    return escape(NOT_XML.sub(REPLACEMENT, text), XML_ENTITIES)

"""WordPress exports (WXR 1.0 to 1.2) read as a stream of SourceArticles."""

import re
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from .base import BadArticle, SourceArticle, SourceComment, SourceError
from .xmlsource import iter_events, parse_timestamp, text_of, upper_first

# WXR 1.0, 1.1 and 1.2 differ only in the version in this namespace; the
# excerpt namespace (".../1.2/excerpt/") starts the same way.
WP_NAMESPACE = re.compile(r"http://wordpress\.org/export/\d+\.\d+/")
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"

ARTICLE_TYPES = {"post", "page"}
COMMENT_TYPES = {"", "comment"}
COMMENT_STATUSES = {
    "1": "published",
    "0": "pending",
    "spam": "spam",
    "trash": "removed",
    "post-trashed": "removed",
}
NOT_WXR = "not a WordPress export (WXR)"
# What our own export (articles/exporters.py) keeps in post and comment meta,
# where WordPress has no field for it.
FORUM_META = "_forum_"
BODY_FORMATS = {"text", "html", "markdown"}
FORUM_STATUSES = {"published", "pending", "spam", "removed", "deleted"}


def iter_wxr(fileobj: BinaryIO) -> Iterator[SourceArticle | BadArticle]:
    """Each post and page of a WXR file with its comments, in file order.

    Streams: each ``<wp:comment>`` is read into a small record of its texts at
    its end tag and dropped, and an ``<item>`` is turned into a record at its
    end tag and dropped, so memory holds one item's records at a time,
    whatever the size of the file or of one post's discussion. Attachments,
    menu items and other item types are not articles and are passed over.
    """
    wp = None
    site = link = ""
    depth = 0
    channel = None
    item = None
    item_line = 0
    # (line, texts) of the current item's comments, read as they end.
    comments: list[tuple[int, dict]] = []
    for event, element, line in iter_events(
        fileobj, events=("start-ns", "start", "end")
    ):
        if event == "start-ns":
            _prefix, uri = element
            if wp is None and WP_NAMESPACE.fullmatch(uri):
                wp = "{" + uri + "}"
        elif event == "start":
            depth += 1
            if depth == 1 and element.tag != "rss":
                raise SourceError(
                    f"Line {line}: {NOT_WXR}: the document is "
                    f"<{_local(element.tag)}>, not <rss>."
                )
            if depth == 2:
                channel = element
            elif depth == 3 and element.tag == "item":
                item, item_line, comments = element, line, []
            elif depth == 4 and item is not None and element.tag == f"{wp}comment":
                comments.append((line, {}))
        else:
            depth -= 1
            if depth == 3 and item is not None and element.tag == f"{wp}comment":
                comments[-1][1].update(_texts(element, wp=wp))
                item.remove(element)
            elif depth == 2:
                if element.tag == "item":
                    item = None
                    if wp is None:
                        raise SourceError(f"Line {item_line}: {NOT_WXR}.")
                    try:
                        article = _article(
                            element, wp=wp, line=item_line, comments=comments
                        )
                    except SourceError as error:
                        # One bad item fails alone; the next may be fine.
                        yield BadArticle(where=f"line {item_line}", error=str(error))
                        article = None
                    if article is not None:
                        article.site = site or link
                        yield article
                elif wp and element.tag == f"{wp}base_site_url":
                    site = (element.text or "").strip().rstrip("/")
                elif element.tag == "link" and not link:
                    link = (element.text or "").strip().rstrip("/")
                # Items, authors, terms: done with, so let them go.
                del channel[:]
    if wp is None:
        raise SourceError("Not a WordPress export (WXR): no WordPress namespace.")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _texts(element: Element, *, wp: str) -> dict:
    """What a ``<wp:comment>`` holds, by tag: each child's text (the first of
    a tag, as findtext reads it) and our ``_forum_*`` meta under "meta"."""
    texts = {}
    for child in element:
        texts.setdefault(child.tag, child.text or "")
    texts["meta"] = _meta(element, f"{wp}commentmeta", wp=wp)
    return texts


def _article(
    item: Element, *, wp: str, line: int, comments: list[tuple[int, dict]]
) -> SourceArticle | None:
    post_type = text_of(item, f"{wp}post_type")
    post_id = text_of(item, f"{wp}post_id").strip()
    if not post_type:
        raise SourceError(f"Line {line}: an <item> with no wp:post_type.")
    if post_type not in ARTICLE_TYPES:
        return None
    if not post_id:
        raise SourceError(f"Line {line}: an <item> with no wp:post_id.")
    where = f"line {line}, post {post_id}"
    date = text_of(item, f"{wp}post_date_gmt")
    if not date.strip() or date.startswith("0000-00-00"):
        # Drafts have no GMT date; the local one is the best there is.
        date = text_of(item, f"{wp}post_date")
    article = SourceArticle(
        system="wordpress",
        source_id=post_id,
        title=text_of(item, "title"),
        # WordPress stores non-ASCII slugs percent-encoded.
        slug=unquote(text_of(item, f"{wp}post_name").strip()),
        body=text_of(item, f"{CONTENT}encoded"),
        author=text_of(item, f"{DC}creator"),
        published_at=parse_timestamp(date, where=upper_first(where)),
        source_url=text_of(item, "link").strip(),
        status="published" if text_of(item, f"{wp}status") == "publish" else "draft",
        where=where,
    )
    _forum_article_meta(article, _meta(item, f"{wp}postmeta", wp=wp))
    seen = set()
    # Our export's key of each comment, by WordPress id.
    forum_keys: dict[str, str] = {}
    for comment_line, texts in comments:
        comment_where = f"line {comment_line}, post {post_id}"
        comment_id = texts.get(f"{wp}comment_id", "").strip()
        if not comment_id:
            raise SourceError(
                f"{upper_first(comment_where)}: a wp:comment with no wp:comment_id."
            )
        if comment_id in seen:
            raise SourceError(
                f"{upper_first(comment_where)}: comment {comment_id} appears twice."
            )
        seen.add(comment_id)
        kind = texts.get(f"{wp}comment_type", "").strip()
        if kind not in COMMENT_TYPES:
            article.skipped[kind] = article.skipped.get(kind, 0) + 1
            continue
        comment, forum_keys[comment_id] = _comment(
            texts, wp=wp, comment_id=comment_id, where=comment_where
        )
        article.comments.append(comment)
    _forum_comment_keys(article, forum_keys=forum_keys)
    return article


def _comment(
    texts: dict, *, wp: str, comment_id: str, where: str
) -> tuple[SourceComment, str]:
    """The comment, and its key in our export ("" for one from elsewhere)."""
    where = f"{where}, comment {comment_id}"
    parent = texts.get(f"{wp}comment_parent", "").strip()
    date = texts.get(f"{wp}comment_date_gmt", "")
    if not date.strip() or date.startswith("0000-00-00"):
        date = texts.get(f"{wp}comment_date", "")
    approved = texts.get(f"{wp}comment_approved", "").strip()
    comment = SourceComment(
        source_id=comment_id,
        parent_id=None if parent in ("", "0") else parent,
        author_name=texts.get(f"{wp}comment_author", ""),
        author_email=texts.get(f"{wp}comment_author_email", "").strip(),
        author_url=texts.get(f"{wp}comment_author_url", "").strip(),
        created_at=parse_timestamp(date, where=upper_first(where)),
        body=texts.get(f"{wp}comment_content", ""),
        # An unknown state is held for a moderator rather than shown.
        status=COMMENT_STATUSES.get(approved, "pending"),
        where=where,
    )
    meta = texts["meta"]
    _forum_comment_meta(comment, meta)
    return comment, meta.get("key", "").strip()


def _meta(element: Element, tag: str, *, wp: str) -> dict[str, str]:
    """Our export's ``_forum_*`` meta of a post or comment, by key."""
    meta = {}
    for entry in element.iterfind(tag):
        key = text_of(entry, f"{wp}meta_key").strip()
        if key.startswith(FORUM_META):
            meta[key.removeprefix(FORUM_META)] = text_of(entry, f"{wp}meta_value")
    return meta


def _forum_article_meta(article: SourceArticle, meta: dict[str, str]) -> None:
    where = upper_first(article.where)
    if "key" in meta:
        article.key = meta["key"].strip()
    if "body_format" in meta:
        if meta["body_format"] not in BODY_FORMATS:
            raise SourceError(
                f"{where}: _forum_body_format {meta['body_format']!r} is not one "
                f"of {', '.join(sorted(BODY_FORMATS))}."
            )
        article.body_format = meta["body_format"]
    for name in ("lead", "lead_author", "comments_closed_message"):
        if name in meta:
            setattr(article, name, meta[name])
    # The article's own source, not its address here (the item's link).
    if "source_url" in meta:
        article.source_url = meta["source_url"].strip()
    # Exact to the microsecond, where wp:post_date_gmt has whole seconds.
    if meta.get("published_at", "").strip():
        article.published_at = parse_timestamp(meta["published_at"], where=where)
    if "comments_closed_at" in meta:
        article.comments_closed_at = parse_timestamp(
            meta["comments_closed_at"], where=where
        )


def _forum_comment_meta(comment: SourceComment, meta: dict[str, str]) -> None:
    where = upper_first(comment.where)
    if "status" in meta:
        if meta["status"] not in FORUM_STATUSES:
            raise SourceError(
                f"{where}: _forum_status {meta['status']!r} is not one of "
                f"{', '.join(sorted(FORUM_STATUSES))}."
            )
        comment.status = meta["status"]
    if meta.get("created_at", "").strip():
        comment.created_at = parse_timestamp(meta["created_at"], where=where)
    if "edited_at" in meta:
        comment.edited_at = parse_timestamp(meta["edited_at"], where=where)
    comment.moderation_code = meta.get("moderation_code", "").strip()
    comment.moderation_reason = meta.get("moderation_reason", "")


def _forum_comment_keys(article: SourceArticle, *, forum_keys: dict[str, str]) -> None:
    """Comments that carry our keys are known by them, not by WordPress ids,
    so that a re-import matches the comments an earlier import made."""
    keys = {
        comment.source_id: forum_keys[comment.source_id] for comment in article.comments
    }
    if not any(keys.values()):
        return
    article.prefix_comment_ids = False
    # A parent that is not among them (a pingback, a missing comment) keeps
    # its WordPress id, for the writer to report as missing.
    keys = {
        comment_id: key or f"wordpress:{comment_id}" for comment_id, key in keys.items()
    }
    seen = set()
    for comment in article.comments:
        key = keys[comment.source_id]
        if key in seen:
            raise SourceError(
                f"{upper_first(comment.where)}: _forum_key {key!r} appears twice."
            )
        seen.add(key)
        comment.source_id = key
        if comment.parent_id is not None:
            comment.parent_id = keys.get(
                comment.parent_id, f"wordpress:{comment.parent_id}"
            )

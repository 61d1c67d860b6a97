"""Disqus XML exports read as SourceArticles: threads with their posts."""

from collections.abc import Iterator
from typing import BinaryIO
from xml.etree.ElementTree import Element

from .base import BadArticle, SourceArticle, SourceComment, SourceError
from .xmlsource import iter_events, parse_timestamp, text_of, upper_first

NS = "{http://disqus.com}"
DSQ_ID = "{http://disqus.com/disqus-internals}id"


def iter_disqus(fileobj: BinaryIO) -> Iterator[SourceArticle | BadArticle]:
    """Each thread of a Disqus export as an article with its posts as comments.

    Disqus lists every thread before any post, so nothing can be yielded
    before the end of the file: threads and post records are kept (records
    only, each element is dropped once read) and come out in thread order.
    Deleted posts stay, marked "deleted", so their replies keep their place.
    """
    threads: dict[str, SourceArticle] = {}
    # Posts by the dsq:id of their thread, with the first post's location.
    posts: dict[str, tuple[str, list[SourceComment]]] = {}
    seen_posts: set[str] = set()
    # Threads with a post that cannot be read (they fail alone), and entries
    # that belong to no thread that can be named.
    failed: dict[str, str] = {}
    bad: list[BadArticle] = []
    root = None
    depth = start_line = 0
    for event, element, line in iter_events(fileobj, events=("start", "end")):
        if event == "start":
            depth += 1
            if depth == 1:
                if element.tag != f"{NS}disqus":
                    raise SourceError(
                        f"Line {line}: not a Disqus export: the document is "
                        f"<{element.tag.rpartition('}')[2]}>, not <disqus>."
                    )
                root = element
            elif depth == 2:
                start_line = line
            continue
        depth -= 1
        if depth != 1:
            continue
        where = f"line {start_line}"
        try:
            if element.tag == f"{NS}thread":
                article = _thread(element, where=where)
                if article.source_id in threads:
                    raise SourceError(
                        f"{upper_first(where)}: thread {article.source_id} "
                        "appears twice."
                    )
                threads[article.source_id] = article
            elif element.tag == f"{NS}post":
                thread_id = _dsq_id(element.find(f"{NS}thread"))
                try:
                    comment, thread_id = _post(element, where=where)
                    if comment.source_id in seen_posts:
                        raise SourceError(
                            f"{upper_first(comment.where)}: post "
                            f"{comment.source_id} appears twice."
                        )
                except SourceError as error:
                    if not thread_id:
                        raise
                    # The post's thread fails; the other threads can land.
                    failed.setdefault(thread_id, str(error))
                    continue
                seen_posts.add(comment.source_id)
                posts.setdefault(thread_id, (comment.where, []))[1].append(comment)
        except SourceError as error:
            bad.append(BadArticle(where=where, error=str(error)))
        finally:
            # Categories and everything already read: let them go.
            del root[:]
    for thread_id, (first_where, comments) in posts.items():
        if thread_id not in threads:
            bad.append(
                BadArticle(
                    where=first_where,
                    error=f"{upper_first(first_where)}: post {comments[0].source_id} "
                    f"belongs to thread {thread_id}, which is not in the file.",
                )
            )
            continue
        threads[thread_id].comments = comments
    yield from bad
    for thread_id, article in threads.items():
        if thread_id in failed:
            yield BadArticle(where=article.where, error=failed[thread_id])
        else:
            yield article


def _dsq_id(element: Element | None) -> str:
    return "" if element is None else element.get(DSQ_ID, "").strip()


def _is_true(element: Element, tag: str) -> bool:
    return text_of(element, tag).strip().lower() == "true"


def _thread(element: Element, *, where: str) -> SourceArticle:
    thread_id = _dsq_id(element)
    if not thread_id:
        raise SourceError(f"{upper_first(where)}: a <thread> with no dsq:id.")
    where = f"{where}, thread {thread_id}"
    return SourceArticle(
        system="disqus",
        source_id=thread_id,
        title=text_of(element, f"{NS}title").strip(),
        slug="",
        # Disqus holds the discussion only; the article lives on the site.
        body="",
        author=text_of(element, f"{NS}author/{NS}name").strip(),
        published_at=parse_timestamp(
            text_of(element, f"{NS}createdAt"), where=upper_first(where)
        ),
        source_url=text_of(element, f"{NS}link").strip(),
        # A thread deleted on Disqus is not for readers; keep it, unpublished.
        status="draft" if _is_true(element, f"{NS}isDeleted") else "published",
        where=where,
        site=text_of(element, f"{NS}forum").strip(),
    )


def _post(element: Element, *, where: str) -> tuple[SourceComment, str]:
    post_id = _dsq_id(element)
    if not post_id:
        raise SourceError(f"{upper_first(where)}: a <post> with no dsq:id.")
    where = f"{where}, post {post_id}"
    thread_id = _dsq_id(element.find(f"{NS}thread"))
    if not thread_id:
        raise SourceError(f"{upper_first(where)}: the post names no thread.")
    if _is_true(element, f"{NS}isSpam"):
        status = "spam"
    elif _is_true(element, f"{NS}isDeleted"):
        status = "deleted"
    else:
        status = "published"
    author = element.find(f"{NS}author")
    name = email = ""
    if author is not None:
        name = (
            text_of(author, f"{NS}name").strip()
            or text_of(author, f"{NS}username").strip()
        )
        email = text_of(author, f"{NS}email").strip()
    comment = SourceComment(
        source_id=post_id,
        parent_id=_dsq_id(element.find(f"{NS}parent")) or None,
        author_name=name,
        author_email=email,
        author_url="",
        created_at=parse_timestamp(
            text_of(element, f"{NS}createdAt"), where=upper_first(where)
        ),
        body=text_of(element, f"{NS}message"),
        status=status,
        where=where,
    )
    return comment, thread_id

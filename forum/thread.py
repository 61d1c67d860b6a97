"""The read side of a thread: which top-level trees make a page, and that page's
HTML assembled from the fragments stored on each comment (forum/fragments.py).

A page costs a constant number of queries whatever the thread's size: the
thread's version, the page's tree structure (small columns only), and the
stored fragments of the comments it shows. The skeleton (the top-level trees in
each sort order, cut into pages) is cached under the thread's version, which
every write bumps in its own transaction (forum/services/).

What depends on the viewer never forces a template render per comment: the
viewer picks between a comment's public and private fragment, and a small JSON
blob tells static/js/thread.js which comments get edit, delete and moderator
links. Without JavaScript, a comment's own page offers every action.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from . import services
from .caching import SORTS, cached, remember, skeleton_key
from .fragments import AGO_MARKER, current_version, relative_time
from .models import HIDDEN_STATUSES, Comment, ThreadState
from .transitions import (
    MODERATOR_ACTIONS,
    actions_for,
    can_dismiss_reports,
    can_moderate,
)

DEFAULT_SORT = "oldest"
SORT_LABELS = {"oldest": "Oldest", "newest": "Newest", "best": "Best"}
# "best" weighs replies against age, as Hacker News weighs votes:
#   score = (replies + 1) / (age in hours + 2) ** BEST_GRAVITY
# where replies counts the whole subtree and age is the top-level comment's.
# Reactions join the numerator when they exist. Its order goes stale with time,
# so its cached skeleton is rebuilt after BEST_MAX_AGE seconds.
BEST_GRAVITY = 1.5
BEST_MAX_AGE = 600
SKELETON_TIMEOUT = 24 * 3600

PUBLISHED = Comment.Status.PUBLISHED
PENDING = Comment.Status.PENDING
# How a viewer sees one comment.
PUBLIC, PRIVATE, OMITTED = "public", "private", "omitted"


@dataclass(frozen=True)
class Skeleton:
    """A thread's top-level trees in one sort order, cut into pages."""

    pages: list  # of lists of tree ids, in display order
    sizes: list  # comments in each page's trees
    published: int
    built_at: float

    def page_of(self, tree_id):
        for number, trees in enumerate(self.pages, start=1):
            if tree_id in trees:
                return number
        return None


def _best_score(replies, age_seconds):
    hours = max(age_seconds, 0) / 3600
    return (replies + 1) / (hours + 2) ** BEST_GRAVITY


def build_skeleton(article_id, sort):
    """Read the article's top-level comments and cut their trees into pages of
    at most FORUM_TOP_LEVEL_PAGE_SIZE trees and, where more than one tree fits,
    at most FORUM_PAGE_COMMENT_CAP comments.

    One query over the top-level comments only (a partial index holds them):
    a tree's size is its root's (rght - lft + 1) / 2, and the published count
    is the total less the few comments that are not published (another
    partial index).
    """
    table = connection.ops.quote_name(Comment._meta.db_table)
    roots = _select(
        "tree_id, created_at, lft, rght, pinned_at, "
        f"(SELECT COUNT(*) FROM {table} WHERE article_id = %s "
        # Written as the partial index's condition is, so SQLite uses it too.
        f"AND NOT (status = '{PUBLISHED}'))",
        "article_id = %s AND level = 0",
        [article_id, article_id],
        "tree_id",
    )
    trees = [
        (tree_id, (rght - lft + 1) // 2, started)
        for tree_id, started, lft, rght, _pinned, _ in roots
    ]
    now = time.time()
    if sort == "newest":
        trees.sort(key=lambda t: (t[2], t[0]), reverse=True)
    elif sort == "best":
        trees.sort(key=lambda t: (-_best_score(t[1] - 1, now - t[2]), t[2], t[0]))
    else:
        trees.sort(key=lambda t: (t[2], t[0]))
    # Pinned trees first, most recently pinned on top; the sort keeps the
    # order within each part.
    pinned = {row[0]: row[4] for row in roots if row[4] is not None}
    if pinned:
        by_id = {t[0]: t for t in trees}
        first = sorted(pinned, key=pinned.get, reverse=True)
        trees = [by_id[i] for i in first] + [t for t in trees if t[0] not in pinned]
    page_size = settings.FORUM_TOP_LEVEL_PAGE_SIZE
    cap = settings.FORUM_PAGE_COMMENT_CAP
    pages, sizes, page, filled = [], [], [], 0
    for tree_id, size, _started in trees:
        if page and (len(page) >= page_size or filled + size > cap):
            pages.append(page)
            sizes.append(filled)
            page, filled = [], 0
        page.append(tree_id)
        filled += size
    if page or not pages:
        pages.append(page)
        sizes.append(filled)
    unpublished = roots[0][5] if roots else 0
    return Skeleton(
        pages=pages,
        sizes=sizes,
        published=sum(t[1] for t in trees) - unpublished,
        built_at=now,
    )


def skeleton(article_id, sort):
    """The cached skeleton of the thread's current version (one query for the
    version; a second, grouped one when the cache does not have it)."""
    version = ThreadState.objects.version_of(article_id)
    key = skeleton_key(article_id, version, sort)
    found = cached(key)
    if found is None or (
        sort == "best" and time.time() - found.built_at > BEST_MAX_AGE
    ):
        found = build_skeleton(article_id, sort)
        remember(key, found, SKELETON_TIMEOUT)
    return found


class Viewer:
    """What one reader may see and do; decided per comment without queries."""

    def __init__(self, user):
        self.user = user
        self.user_id = user.pk if user.is_authenticated else None
        self.is_moderator = can_moderate(user)

    def sees(self, status, author_id, is_leaf):
        if status == PUBLISHED:
            return PUBLIC
        if self.is_moderator:
            return PRIVATE
        if status == PENDING:
            if self.user_id is not None and author_id == self.user_id:
                return PRIVATE
            # Nothing hangs below it: for other readers it does not exist yet.
            return OMITTED if is_leaf else PUBLIC
        return PUBLIC


@dataclass
class Assembled:
    html: str
    shown: list  # pks, in page order


# What a page reads of each comment: its place in the tree, what decides how
# the viewer sees it, and (in the same query, unless the page's trees are
# outsized) its stored fragments. Read with plain SQL: the ORM's per-value work
# would cost more than the whole query on a page of a thousand comments.
_STRUCTURE = "id, tree_id, lft, rght, level, status, author_id, created_at"
_WITH_FRAGMENTS = _STRUCTURE + ", fragment, fragment_private, fragment_version"
# Read fragments in the structure query while the trees hold at most this many
# times the page's comment cap; past it, fetch only those the page shows.
_INLINE_FRAGMENTS_FACTOR = 2


def _select(columns, where, params, order):
    table = connection.ops.quote_name(Comment._meta.db_table)
    # created_at as whole seconds since 1970: integer arithmetic per comment
    # instead of a datetime parsed per comment.
    if connection.vendor == "postgresql":
        epoch = "CAST(FLOOR(EXTRACT(EPOCH FROM created_at)) AS BIGINT)"
    else:
        epoch = "CAST(strftime('%%s', created_at) AS INTEGER)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns.replace('created_at', epoch)} FROM {table} "
            f"WHERE {where} ORDER BY {order}",
            params,
        )
        return cursor.fetchall()


def assemble(rows, *, viewer, comments_url, focus=None, offset=0, now=None):
    """Join the page's HTML from ``rows`` (tree after tree, each in lft order;
    structure columns, then optionally the fragment columns).

    Shows at most FORUM_REPLIES_SHOWN replies under a comment, then "show N more
    replies"; stops at FORUM_MAX_DEPTH_SHOWN levels below the top (or below
    ``focus``, a comment's own page) with "continue this thread"; stops at
    FORUM_PAGE_COMMENT_CAP comments, leaving "show more" links behind. On a
    comment's own page, ``offset`` skips that many of the focus's replies.
    """
    max_depth = settings.FORUM_MAX_DEPTH_SHOWN
    replies_shown = settings.FORUM_REPLIES_SHOWN
    budget = settings.FORUM_PAGE_COMMENT_CAP
    now = int((now or timezone.now()).timestamp())
    inline = bool(rows) and len(rows[0]) > 8
    fresh = _refresh_stale(rows) if inline else {}
    sees = viewer.sees
    ages = {}
    out = []
    append = out.append
    shown = []  # (row, whether the viewer gets the private fragment)
    # Open comments with replies: [pk, rght, tree_id, children seen, shown]
    stack = []
    skip_tree = skip_below = None
    base_level = None
    for row in rows:
        tree_id = row[1]
        lft = row[2]
        if tree_id == skip_tree and lft < skip_below:
            continue
        while stack and (stack[-1][2] != tree_id or stack[-1][1] < lft):
            stack.pop()
            append("</ol></details></li>")
        pk, rght, level, status = row[0], row[3], row[4], row[5]
        if base_level is None:
            base_level = level
        descendants = (rght - lft - 1) >> 1
        seen_as = (
            PUBLIC if status == PUBLISHED else sees(status, row[6], not descendants)
        )
        if seen_as == OMITTED:
            continue
        if stack:
            parent = stack[-1]
            index = parent[3]
            parent[3] += 1
            if parent[0] == focus and index < offset:
                skip_tree, skip_below = tree_id, rght
                continue
            if parent[4] >= replies_shown or budget <= 0:
                more = (parent[1] - lft) >> 1
                append(
                    f'<li class="thread__more"><a class="thread__more-link" '
                    f'href="{comments_url}{parent[0]}/?offset={index}#replies" '
                    f'data-parent="{parent[0]}">Show {more:,} more '
                    f"{'reply' if more == 1 else 'replies'}</a></li>"
                )
                skip_tree, skip_below = tree_id, parent[1]
                continue
            parent[4] += 1
        budget -= 1
        private = seen_as == PRIVATE
        shown.append((row, private))
        append(f'<li id="comment-{pk}" class="thread__item">')
        if inline:
            if fresh and pk in fresh:
                public, private_html = fresh[pk]
            else:
                public, private_html = row[8], row[9]
            minutes = (now - row[7]) // 60
            ago = ages.get(minutes)
            if ago is None:
                ago = ages[minutes] = relative_time(minutes * 60)
            append(
                (private_html if private and private_html else public).replace(
                    AGO_MARKER, ago, 1
                )
            )
        else:
            append(pk)
        if not descendants:
            append("</li>")
        elif level - base_level + 1 >= max_depth:
            append(
                f'<p class="thread__continue"><a href="{comments_url}{pk}/">Continue '
                f"this thread ({descendants:,} "
                f"{'reply' if descendants == 1 else 'replies'})</a></p></li>"
            )
            skip_tree, skip_below = tree_id, rght
        else:
            append(
                '<details class="thread__replies" open><summary class="thread__toggle">'
                '<span class="thread__toggle-open">Hide</span><span '
                f'class="thread__toggle-closed">Show</span> {descendants:,} '
                f"{'reply' if descendants == 1 else 'replies'}</summary>"
                '<ol class="replies">'
            )
            stack.append([pk, rght, tree_id, 0, 0])
    out.extend("</ol></details></li>" for _ in stack)
    if not inline:
        _fill_fragments(out, shown, now)
    return Assembled(html="".join(out), shown=[row[0] for row, _ in shown])


def _refresh_stale(rows):
    """pk -> (public, private) for rows whose fragments an older template made."""
    version = current_version()
    stale = [row[0] for row in rows if row[10] != version]
    if not stale:
        return {}
    refreshed = services.refresh_stale_fragments(comment_ids=stale)
    return {pk: (c.fragment, c.fragment_private) for pk, c in refreshed.items()}


def _fill_fragments(out, shown, now):
    """Put the shown comments' fragments, read in one query, where ``out`` holds
    their pks (the structure was read without them)."""
    if not shown:
        return
    rows = _select(
        "id, fragment, fragment_private, fragment_version",
        f"id IN ({', '.join(['%s'] * len(shown))})",
        [row[0] for row, _ in shown],
        "id",
    )
    found = {row[0]: (row[1], row[2]) for row in rows}
    version = current_version()
    stale = [row[0] for row in rows if row[3] != version]
    if stale:
        for pk, comment in services.refresh_stale_fragments(comment_ids=stale).items():
            found[pk] = (comment.fragment, comment.fragment_private)
    html = {}
    for row, private in shown:
        public, private_html = found[row[0]]
        ago = relative_time(now - row[7])
        html[row[0]] = ((private and private_html) or public).replace(
            AGO_MARKER, ago, 1
        )
    for index, part in enumerate(out):
        if type(part) is int:
            out[index] = html[part]


def viewer_controls(*, viewer, rows, shown, exclude=()):
    """What thread.js adds to the page for this viewer: edit and delete links on
    their own comments, moderator links by each comment's state."""
    if viewer.user_id is None:
        return None
    window = settings.FORUM_EDIT_WINDOW_MINUTES * 60
    now = timezone.now().timestamp()
    visible = set(shown) - set(exclude)
    editable, deletable = [], []
    for row in rows:
        pk, status, author_id = row[0], row[5], row[6]
        if (
            pk in visible
            and author_id == viewer.user_id
            and status not in HIDDEN_STATUSES
        ):
            deletable.append(pk)
            if now - row[7] < window:
                editable.append(pk)
    controls = {"edit": editable, "delete": deletable}
    if viewer.is_moderator:
        controls["moderate"] = MODERATOR_ACTIONS
        controls["exclude"] = list(exclude)
    return controls


@dataclass
class ThreadPage:
    """One page of an article's thread, ready for the template. ``html`` is
    joined from stored, sanitised fragments and fixed markup: safe to show."""

    html: str
    shown: int  # comments on this page
    sort: str
    number: int
    count: int
    published: int
    base_url: str
    controls: dict | None

    def url(self, *, page=None, sort=None):
        page = page or self.number
        query = f"?sort={sort or self.sort}"
        if page > 1:
            query += f"&page={page}"
        return self.base_url + query + "#comments"

    @property
    def canonical_path(self):
        """This page's address without the viewer's detours (?comment=)."""
        if self.number == 1 and self.sort == DEFAULT_SORT:
            return self.base_url
        return self.url().removesuffix("#comments")

    @property
    def previous_url(self):
        return self.url(page=self.number - 1) if self.number > 1 else None

    @property
    def next_url(self):
        return self.url(page=self.number + 1) if self.number < self.count else None

    @property
    def sorts(self):
        return [
            (name, SORT_LABELS[name], self.url(page=1, sort=name), name == self.sort)
            for name in SORTS
        ]


class NotOnPage(Exception):
    """The asked-for comment is not shown on its tree's page (cut by depth or
    by the replies shown); its own page shows it."""


def thread_page(*, article, user, sort=DEFAULT_SORT, page=1, comment_id=None):
    """Page ``page`` of the article's thread in ``sort`` order, or, with
    ``comment_id``, the page that shows that comment.

    Raises Comment.DoesNotExist for a comment not in this thread, NotOnPage
    when the comment's page does not show it, and ValueError for a page number
    past the end.
    """
    sort = sort if sort in SORTS else DEFAULT_SORT
    found = skeleton(article.pk, sort)
    if comment_id is not None:
        tree_id = (
            Comment.objects.filter(pk=comment_id, article=article)
            .values_list("tree_id", flat=True)
            .first()
        )
        page = found.page_of(tree_id) if tree_id is not None else None
        if page is None:
            raise Comment.DoesNotExist(comment_id)
    if not 1 <= page <= len(found.pages):
        raise ValueError(f"no page {page}")
    trees = found.pages[page - 1]
    rows = _page_rows(
        article.pk,
        trees,
        whole_thread=len(found.pages) == 1,
        inline_fragments=found.sizes[page - 1]
        <= settings.FORUM_PAGE_COMMENT_CAP * _INLINE_FRAGMENTS_FACTOR,
    )
    viewer = Viewer(user)
    assembled = assemble(rows, viewer=viewer, comments_url=article.comments_url)
    if comment_id is not None and comment_id not in assembled.shown:
        raise NotOnPage(comment_id)
    return ThreadPage(
        # Not mark_safe()d: that copies a megabyte for the whole of a big thread;
        # the article page splices it in (articles/views.py).
        html=assembled.html,
        shown=len(assembled.shown),
        sort=sort,
        number=page,
        count=len(found.pages),
        published=found.published,
        base_url=article.get_absolute_url(),
        controls=viewer_controls(viewer=viewer, rows=rows, shown=assembled.shown),
    )


def _page_rows(article_id, trees, *, whole_thread, inline_fragments):
    """The page's trees, down to the deepest level shown, in the page's order
    (one query)."""
    if not trees:
        return []
    where = "article_id = %s AND level < %s"
    params = [article_id, settings.FORUM_MAX_DEPTH_SHOWN]
    if not whole_thread:
        where += f" AND tree_id IN ({', '.join(['%s'] * len(trees))})"
        params += trees
    columns = _WITH_FRAGMENTS if inline_fragments else _STRUCTURE
    rows = _select(columns, where, params, "tree_id, lft")
    by_tree = {tree_id: [] for tree_id in trees}
    for row in rows:
        # A tree posted since the skeleton was read waits for the next page view.
        bucket = by_tree.get(row[1])
        if bucket is not None:
            bucket.append(row)
    return [row for tree_id in trees for row in by_tree[tree_id]]


@dataclass
class Subtree:
    """A comment's own page: the comment and the replies below it."""

    html: str
    controls: dict | None


def subtree(*, comment, user, offset=0):
    """``comment`` and its replies, FORUM_MAX_DEPTH_SHOWN levels down, skipping
    its first ``offset`` replies (the target of "show N more replies")."""
    size = (comment.rght - comment.lft + 1) // 2
    inline = size <= settings.FORUM_PAGE_COMMENT_CAP * _INLINE_FRAGMENTS_FACTOR
    rows = _select(
        _WITH_FRAGMENTS if inline else _STRUCTURE,
        "tree_id = %s AND lft >= %s AND lft < %s AND level < %s",
        [
            comment.tree_id,
            comment.lft,
            comment.rght,
            comment.level + settings.FORUM_MAX_DEPTH_SHOWN,
        ],
        "lft",
    )
    viewer = Viewer(user)
    assembled = assemble(
        rows,
        viewer=viewer,
        comments_url=comment.article.comments_url,
        focus=comment.pk,
        offset=offset,
    )
    return Subtree(
        html=mark_safe(assembled.html),
        controls=viewer_controls(
            viewer=viewer, rows=rows, shown=assembled.shown, exclude=[comment.pk]
        ),
    )


def fragment_for_viewer(comment, user):
    """One comment's stored HTML as ``user`` sees it (reply and detail pages)."""
    if comment.fragment_version != current_version():
        refreshed = services.refresh_stale_fragments(comment_ids=[comment.pk])
        if comment.pk in refreshed:
            comment = refreshed[comment.pk]
    is_leaf = comment.rght - comment.lft == 1
    private = Viewer(user).sees(comment.status, comment.author_id, is_leaf) == PRIVATE
    html = comment.fragment_for(private=private)
    ago = relative_time((timezone.now() - comment.created_at).total_seconds())
    return mark_safe(html.replace(AGO_MARKER, escape(ago), 1))


def is_shown_to(comment, user):
    """Whether ``user`` sees ``comment`` at all (a pending comment without
    replies exists only for its author and moderators)."""
    is_leaf = comment.rght - comment.lft == 1
    return Viewer(user).sees(comment.status, comment.author_id, is_leaf) != OMITTED


def comment_actions(comment, user):
    """(url, label, is_moderation) for every action ``user`` may take on
    ``comment``: its own page lists them all, with or without JavaScript."""
    base = f"{comment.article.comments_url}{comment.pk}/"
    # Reply is in the comment's own fragment, for everyone.
    actions = []
    if comment.is_editable_by(user):
        actions.append((f"{base}edit/", "Edit", False))
    if user.is_authenticated and comment.author_id == user.pk and not comment.is_hidden:
        actions.append((f"{base}delete/", "Delete", False))
    if can_moderate(user):
        open_reports = comment.reports.filter(resolved_at__isnull=True).count()
        if can_dismiss_reports(state=comment.status, open_reports=open_reports):
            actions.append((f"{base}dismiss/", "Keep it (dismiss the reports)", True))
        actions += [
            (f"{base}{name}/", label, True) for name, label in actions_for(comment)
        ]
    return actions

"""Imports' writes: many comments into a thread at once, tree columns built in
memory and inserted in batches, instead of one post_comment per comment.

The caller (articles/importers/writer.py) decides what is new, what changed
and where each comment goes; this module holds the locks and does the writing,
as every other tree write in forum/services/ does.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.utils import timezone

from ..models import Comment, CommentRevision
from ..notify import queue_grew
from .tree import LOCK_STRUCTURE, _advisory_lock, _changed_thread, _lock_for_tree_write

BATCH_SIZE = 1000
HELD_ON_IMPORT = "Imported awaiting moderation (as it was in the source)."


@dataclass(eq=False)
class ImportedComment:
    """A comment to insert. ``parent`` is another ImportedComment of the same
    write, the pk of a comment already in the thread, or None (a new thread)."""

    key: str
    parent: "ImportedComment | int | None"
    author_name: str
    author_email: str
    author_url: str
    body: str
    body_html: str
    status: str
    created_at: datetime
    edited_at: datetime | None = None
    moderation_code: str = ""
    moderation_reason: str = ""
    where: str = ""
    pk: int | None = None


@dataclass
class ImportedEdit:
    """New text for an imported comment, written only if its text is still
    ``old_body`` and its author has not deleted it."""

    pk: int
    old_body: str
    body: str
    body_html: str
    edited_at: datetime | None


@dataclass
class WriteResult:
    created: int = 0
    edited: int = 0
    # New comments whose parent on the site was deleted while the import ran;
    # they went in at the top level instead.
    orphaned: list[ImportedComment] = field(default_factory=list)


def write_imported_comments(
    *,
    article_id: int,
    new: list[ImportedComment],
    edits: list[ImportedEdit] = (),
    rekeys: dict[int, str] | None = None,
    progress=None,
) -> WriteResult:
    """Insert ``new``, apply ``edits`` and ``rekeys`` (pk to new source key).

    Precondition: inside the caller's ``transaction.atomic()`` (one per
    article). Locks: the structure lock shared, and the lock of each existing
    tree this writes into, in tree order, as a reply takes it; new threads get
    tree ids from the sequence and need no lock, so readers posting elsewhere
    (new threads included) never wait for an import. Siblings keep the order of
    ``new``, after the replies already there. Statuses are as given: moderation
    on the site is the caller's to keep.
    """
    assert connection.in_atomic_block, "an import writes inside its transaction"
    result = WriteResult()
    rekeys = rekeys or {}
    _advisory_lock(LOCK_STRUCTURE, shared=True)
    existing_parents = {c.parent for c in new if isinstance(c.parent, int)}
    touched = set(existing_parents) | {edit.pk for edit in edits} | set(rekeys)
    tree_of = _trees_of(touched)
    for tree_id in sorted(set(tree_of.values())):
        _lock_for_tree_write(tree_id)
    # Under the locks: a reply's parent deleted meanwhile has no tree now.
    tree_of = _trees_of(touched)
    for comment in new:
        if isinstance(comment.parent, int) and comment.parent not in tree_of:
            comment.parent = None
            result.orphaned.append(comment)

    if any(c.status == Comment.Status.PENDING for c in new):
        # Before the queue grows, as forum.notify.queue_grew asks.
        queue_grew()
    columns, changed = _place(new, tree_of)
    for start in range(0, len(changed), BATCH_SIZE):
        Comment.objects.bulk_update(
            changed[start : start + BATCH_SIZE], ["lft", "rght"]
        )
    # Level by level, so every parent has its pk before its replies go in.
    by_level = defaultdict(list)
    for comment in new:
        by_level[columns[comment][3]].append(comment)
    for level in sorted(by_level):
        batch_all = by_level[level]
        for start in range(0, len(batch_all), BATCH_SIZE):
            batch = batch_all[start : start + BATCH_SIZE]
            rows = Comment.objects.bulk_create(
                [_row(article_id, c, columns[c]) for c in batch]
            )
            for comment, row in zip(batch, rows, strict=True):
                comment.pk = row.pk
            result.created += len(batch)
            if progress:
                progress(len(batch))
    result.edited = _apply_edits(edits)
    Comment.objects.bulk_update(
        [Comment(pk=pk, source_key=key) for pk, key in rekeys.items()],
        ["source_key"],
        BATCH_SIZE,
    )
    if new or result.edited or rekeys:
        _changed_thread(article_id)
    return result


def _trees_of(pks):
    found = {}
    pks = list(pks)
    for start in range(0, len(pks), BATCH_SIZE):
        chunk = pks[start : start + BATCH_SIZE]
        found.update(Comment.objects.filter(pk__in=chunk).values_list("pk", "tree_id"))
    return found


def _place(new, tree_of):
    """Tree columns (tree_id, lft, rght, level) for every new comment, and the
    existing comments whose lft/rght move to make room, all in memory.

    A node is an ImportedComment (new) or an int (the pk of one already there).
    """
    children = defaultdict(list)
    new_roots = []
    for comment in new:
        if comment.parent is None:
            new_roots.append(comment)
        else:
            children[comment.parent].append(comment)
    columns = {}
    tree_ids = Comment.objects.allocate_tree_ids(len(new_roots)) if new_roots else []
    for root, tree_id in zip(new_roots, tree_ids, strict=True):
        for node, (lft, rght, level) in _numbered(root, children):
            columns[node] = (tree_id, lft, rght, level)
    changed = []
    trees = sorted({tree_of[p] for p in children if isinstance(p, int)})
    for tree_id in trees:
        rows = Comment.objects.filter(tree_id=tree_id).order_by("lft")
        old = {}
        tree_children = defaultdict(list)
        root = None
        for pk, parent_id, lft, rght in rows.values_list(
            "pk", "parent_id", "lft", "rght"
        ):
            old[pk] = (lft, rght)
            if parent_id is None:
                root = pk
            else:
                tree_children[parent_id].append(pk)
        # New replies after the ones already there; their own replies below.
        for parent, kids in children.items():
            if not isinstance(parent, int):
                tree_children[parent] = kids
            elif parent in old:
                tree_children[parent].extend(kids)
        for node, (lft, rght, level) in _numbered(root, tree_children):
            if isinstance(node, int):
                if old[node] != (lft, rght):
                    changed.append(Comment(pk=node, lft=lft, rght=rght))
            else:
                columns[node] = (tree_id, lft, rght, level)
    return columns, changed


def _numbered(root, children):
    """Yield (node, (lft, rght, level)) for the tree under ``root``, depth first,
    siblings in the order ``children`` lists them."""
    lefts = {}
    counter = 1
    stack = [(root, 0, False)]
    while stack:
        node, level, closing = stack.pop()
        if closing:
            yield node, (lefts.pop(node), counter, level)
            counter += 1
            continue
        lefts[node] = counter
        counter += 1
        stack.append((node, level, True))
        stack.extend((child, level + 1, False) for child in reversed(children[node]))


def _row(article_id, comment, columns):
    tree_id, lft, rght, level = columns
    parent = comment.parent
    return Comment(
        article_id=article_id,
        parent_id=parent if isinstance(parent, int) or parent is None else parent.pk,
        tree_id=tree_id,
        lft=lft,
        rght=rght,
        level=level,
        author_name=comment.author_name,
        author_email=comment.author_email,
        author_url=comment.author_url,
        body=comment.body,
        body_html=comment.body_html,
        status=comment.status,
        created_at=comment.created_at,
        edited_at=comment.edited_at,
        moderation_code=comment.moderation_code,
        moderation_reason=comment.moderation_reason,
        held_because=HELD_ON_IMPORT if comment.status == Comment.Status.PENDING else "",
        source_key=comment.key,
        # Rendered by the first page that shows it (refresh_stale_fragments):
        # an import of 100,000 comments renders none of them up front.
        fragment_version="",
    )


def _apply_edits(edits):
    """The source's new text for comments already here, each kept as a
    revision, unless the comment changed here meanwhile or was deleted.

    A read, then writes in batches: the caller holds the locks of these
    comments' trees, which an author's edit or deletion also takes.
    """
    wanted = {edit.pk: edit for edit in edits}
    now = timezone.now()
    rows, revisions = [], []
    pks = list(wanted)
    for start in range(0, len(pks), BATCH_SIZE):
        current = (
            Comment.objects.filter(pk__in=pks[start : start + BATCH_SIZE])
            .exclude(status=Comment.Status.DELETED)
            .only("pk", "body", "body_html", "edited_at", "created_at")
        )
        for old in current:
            edit = wanted[old.pk]
            if old.body != edit.old_body:
                continue
            revisions.append(
                CommentRevision(
                    comment_id=old.pk,
                    body=old.body,
                    body_html=old.body_html,
                    written_at=old.edited_at or old.created_at,
                )
            )
            rows.append(
                Comment(
                    pk=old.pk,
                    body=edit.body,
                    body_html=edit.body_html,
                    edited_at=edit.edited_at or now,
                    fragment_version="",
                )
            )
    Comment.objects.bulk_update(
        rows, ["body", "body_html", "edited_at", "fragment_version"], BATCH_SIZE
    )
    CommentRevision.objects.bulk_create(revisions, BATCH_SIZE)
    return len(rows)

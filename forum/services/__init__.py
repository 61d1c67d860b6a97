"""Every write to comments: posting, editing, deleting, moderating, repairing.

Views, admin actions and commands call these functions; nothing else saves a
Comment. django-mptt does no locking ("it's the client code's responsibility to
ensure that calls to mptt CRUD methods are mutually exclusive"), so each tree
write here takes exactly the locks it needs:

- a new top-level comment starts a tree of its own, whose id comes from a
  sequence (forum.models.CommentManager), so it waits for no other writer;
- a reply or a hard delete takes the lock of its own tree, so writes into one
  thread are serialised and writes into different threads run side by side;
- both first take the *structure* lock in shared mode; a repair takes it
  exclusively, so it never renumbers trees under a writer's feet.

On PostgreSQL these are transaction-scoped advisory locks. SQLite has one writer
at a time: settings.py opens every transaction with BEGIN IMMEDIATE, which takes
the database write lock before the transaction reads anything.

Changes that do not touch the tree (status, text) update only their own columns,
so a stale in-memory instance can never write old lft/rght values back.

Every change that shows re-renders the comment's stored fragments
(forum/fragments.py) and, last in its transaction, bumps the thread's version,
which keys the cached skeletons forum/thread.py reads.
"""

from .accounts import claim_username, name_is_free, username_key
from .importing import (
    ImportedComment,
    ImportedEdit,
    write_imported_comments,
)
from .moderation import (
    BULK_VERBS,
    BulkResult,
    CommentsClosed,
    approve_comment,
    close_comments,
    dismiss_reports,
    lock_replies,
    mark_comment_spam,
    moderate_comments,
    pin_comment,
    remove_comment,
    reopen_comments,
    report_comment,
    restore_comment,
)
from .posting import (
    DELETE_DENIED,
    DUPLICATE_WINDOW,
    EDIT_DENIED,
    RepeatedText,
    delete_comment,
    edit_comment,
    post_comment,
)
from .sanctions import (
    PostingBarred,
    check_sanction,
    lift_sanction,
    sanction_user,
    take_warnings,
)
from .tree import (
    LOCK_AUTHOR,
    LOCK_STRUCTURE,
    LOCK_TREE,
    TreeProblem,
    delete_article,
    find_tree_problems,
    refresh_article_fragments,
    refresh_author_fragments,
    refresh_stale_fragments,
    repair_comment_trees,
)

__all__ = [
    "ImportedComment",
    "ImportedEdit",
    "write_imported_comments",
    "claim_username",
    "name_is_free",
    "username_key",
    "BULK_VERBS",
    "BulkResult",
    "dismiss_reports",
    "lock_replies",
    "moderate_comments",
    "pin_comment",
    "CommentsClosed",
    "DELETE_DENIED",
    "DUPLICATE_WINDOW",
    "EDIT_DENIED",
    "LOCK_AUTHOR",
    "LOCK_STRUCTURE",
    "LOCK_TREE",
    "PostingBarred",
    "RepeatedText",
    "TreeProblem",
    "approve_comment",
    "check_sanction",
    "close_comments",
    "delete_article",
    "delete_comment",
    "edit_comment",
    "find_tree_problems",
    "lift_sanction",
    "mark_comment_spam",
    "post_comment",
    "refresh_article_fragments",
    "refresh_author_fragments",
    "refresh_stale_fragments",
    "remove_comment",
    "reopen_comments",
    "repair_comment_trees",
    "report_comment",
    "restore_comment",
    "sanction_user",
    "take_warnings",
]

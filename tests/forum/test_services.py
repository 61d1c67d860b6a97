"""forum/services/: the only write path for comments."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test import override_settings

from forum import limits, services
from forum.models import Comment
from tests.factories import ArticleFactory, CommentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_post_comment_stores_text_as_written_and_html_made_once(article, user):
    comment = services.post_comment(
        article=article, body="  Hello <b>there</b>\nhttp://example.com  ", author=user
    )
    comment.refresh_from_db()
    assert comment.body == "Hello <b>there</b>\nhttp://example.com"
    assert comment.body_html.startswith("<p>Hello <b>there</b><br>")
    assert 'rel="nofollow ugc"' in comment.body_html
    assert comment.status == Comment.Status.PUBLISHED
    assert comment.is_root_node() and comment.author == user


def test_replies_nest_under_their_parent_at_any_depth(article, user):
    parent = CommentFactory(article=article)
    for depth in range(1, 12):
        parent = services.post_comment(
            article=article, body=f"depth {depth}", parent=parent, author=user
        )
        assert parent.level == depth
    assert services.find_tree_problems() == []


def test_each_top_level_comment_starts_its_own_tree(article):
    first, second = CommentFactory(article=article), CommentFactory(article=article)
    assert first.tree_id != second.tree_id


def test_empty_comment_is_refused(article, user):
    with pytest.raises(ValidationError) as error:
        services.post_comment(article=article, body=" \n\t ", author=user)
    assert "Write something" in str(error.value)
    assert not Comment.objects.exists()


@override_settings(FORUM_COMMENT_MAX_LENGTH=20)
def test_oversized_comment_is_refused_with_both_lengths(article, user):
    with pytest.raises(ValidationError) as error:
        services.post_comment(article=article, body="x" * 21, author=user)
    assert "at most 20 characters" in str(error.value)
    assert "has 21" in str(error.value)
    assert not Comment.objects.exists()


def test_reply_to_comment_of_another_article_is_refused(article, user):
    elsewhere = CommentFactory(article=ArticleFactory())
    with pytest.raises(ValidationError) as error:
        services.post_comment(article=article, body="hi", parent=elsewhere, author=user)
    assert "this article" in str(error.value)
    assert Comment.objects.count() == 1


def test_reply_to_removed_comment_is_refused(comment, moderator, user):
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="Rude"
    )
    with pytest.raises(ValidationError) as error:
        services.post_comment(
            article=comment.article, body="hi", parent=comment, author=user
        )
    assert "not open for replies" in str(error.value)


def test_reply_to_deleted_comment_is_refused(comment, user):
    services.delete_comment(comment=comment, user=comment.author)
    with pytest.raises(ValidationError) as error:
        services.post_comment(
            article=comment.article, body="hi", parent=comment, author=user
        )
    assert "no longer exists" in str(error.value)


def test_reply_uses_the_parents_current_place_not_a_stale_copy(article, user):
    parent = CommentFactory(article=article)
    stale = Comment.objects.get(pk=parent.pk)
    CommentFactory(parent=parent)
    CommentFactory(parent=parent)
    services.post_comment(article=article, body="late", parent=stale, author=user)
    assert services.find_tree_problems() == []
    parent.refresh_from_db()
    assert parent.get_descendant_count() == 3


@override_settings(FORUM_PREMODERATION=True)
def test_premoderation_holds_readers_comments_but_not_moderators(
    article, user, moderator
):
    assert CommentFactory(article=article, author=user).status == "pending"
    assert CommentFactory(article=article, author=moderator).status == "published"


def test_author_edits_within_the_window_and_html_is_remade(comment):
    services.edit_comment(comment=comment, editor=comment.author, body="New *text*")
    comment.refresh_from_db()
    assert comment.body == "New *text*"
    assert comment.body_html == "<p>New *text*</p>"
    assert comment.edited_at is not None


def test_edit_after_the_window_is_refused(comment):
    Comment.objects.filter(pk=comment.pk).update(
        created_at=comment.created_at - timedelta(minutes=16)
    )
    comment.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.edit_comment(comment=comment, editor=comment.author, body="late")


def test_edit_by_someone_else_is_refused(comment, other_user):
    with pytest.raises(PermissionDenied):
        services.edit_comment(comment=comment, editor=other_user, body="mine now")


def test_edit_never_writes_stale_tree_columns(comment):
    stale = Comment.objects.get(pk=comment.pk)
    CommentFactory(parent=comment)
    services.edit_comment(comment=stale, editor=stale.author, body="edited")
    assert services.find_tree_problems() == []


def test_author_deleting_a_leaf_removes_the_row_and_closes_the_gap(comment):
    leaf = CommentFactory(parent=comment)
    sibling = CommentFactory(parent=comment)
    assert services.delete_comment(comment=leaf, user=leaf.author) is True
    assert not Comment.objects.filter(pk=leaf.pk).exists()
    comment.refresh_from_db()
    assert (comment.lft, comment.rght) == (1, 4)
    assert Comment.objects.get(pk=sibling.pk).lft == 2
    assert services.find_tree_problems() == []


def test_author_deleting_a_comment_with_replies_leaves_a_placeholder(article):
    comment = CommentFactory(article=article, body="Words I take back.")
    reply = CommentFactory(parent=comment)
    assert services.delete_comment(comment=comment, user=comment.author) is False
    comment.refresh_from_db()
    assert comment.status == Comment.Status.DELETED
    assert comment.is_deleted_by_author
    # Deleting erases the text, as the delete page promises.
    assert (comment.body, comment.body_html) == ("", "")
    assert "Words I take back." not in comment.fragment_private + comment.fragment
    assert Comment.objects.get(pk=reply.pk).parent_id == comment.pk


def test_deleting_someone_elses_comment_is_refused(comment, other_user):
    with pytest.raises(PermissionDenied):
        services.delete_comment(comment=comment, user=other_user)
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_remove_needs_a_reason_and_records_who_when_why(comment, moderator):
    with pytest.raises(ValidationError):
        services.remove_comment(comment=comment, moderator=moderator, reason="  ")
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="Off topic"
    )
    comment.refresh_from_db()
    assert comment.status == Comment.Status.REMOVED
    assert comment.moderated_by == moderator
    assert comment.moderated_at is not None
    assert comment.moderation_reason == "Off topic"
    assert not comment.is_deleted_by_author


def test_moderation_by_a_reader_is_refused(comment, other_user):
    for call in (
        lambda: services.remove_comment(
            comment=comment, moderator=other_user, reason="other", note="x"
        ),
        lambda: services.approve_comment(comment=comment, moderator=other_user),
        lambda: services.mark_comment_spam(comment=comment, moderator=other_user),
        lambda: services.restore_comment(comment=comment, moderator=other_user),
    ):
        with pytest.raises(PermissionDenied):
            call()
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED


def test_moderation_walks_through_its_states(article, moderator):
    comment = CommentFactory(article=article, status=Comment.Status.PENDING)
    services.approve_comment(comment=comment, moderator=moderator)
    assert Comment.objects.get(pk=comment.pk).status == "published"
    services.mark_comment_spam(comment=comment, moderator=moderator)
    assert Comment.objects.get(pk=comment.pk).status == "spam"
    services.restore_comment(comment=comment, moderator=moderator)
    assert Comment.objects.get(pk=comment.pk).status == "published"


def test_impossible_transitions_say_why(comment, moderator):
    with pytest.raises(ValidationError) as error:
        services.approve_comment(comment=comment, moderator=moderator)
    assert "published cannot become published" in str(error.value)
    with pytest.raises(ValidationError):
        services.restore_comment(comment=comment, moderator=moderator)


def test_moderating_never_writes_stale_tree_columns(comment, moderator):
    stale = Comment.objects.get(pk=comment.pk)
    CommentFactory(parent=comment)
    services.remove_comment(
        comment=stale, moderator=moderator, reason="other", note="Rude"
    )
    assert services.find_tree_problems() == []


def test_tree_problems_are_found_and_repaired(article):
    root = CommentFactory(article=article)
    reply = CommentFactory(parent=root)
    CommentFactory(parent=reply)
    other = CommentFactory(article=article)
    Comment.objects.filter(pk=reply.pk).update(rght=99)
    Comment.objects.filter(pk=other.pk).update(tree_id=root.tree_id)
    problems = services.find_tree_problems()
    messages = " | ".join(problem.message for problem in problems)
    assert "lft/rght/level wrong" in messages
    assert "2 top-level comments" in messages
    services.repair_comment_trees()
    assert services.find_tree_problems() == []
    assert Comment.objects.get(pk=reply.pk).rght == 5


def test_a_wrong_numbering_alone_is_repaired_without_renumbering_trees(article):
    first = CommentFactory(article=article)
    second = CommentFactory(article=article)
    CommentFactory(parent=second)
    Comment.objects.filter(pk=second.pk).update(lft=7)
    [problem] = services.find_tree_problems()
    assert problem.tree_id == second.tree_id and not problem.needs_full_rebuild
    services.repair_comment_trees()
    assert services.find_tree_problems() == []
    assert Comment.objects.get(pk=first.pk).tree_id == first.tree_id
    assert Comment.objects.get(pk=second.pk).tree_id == second.tree_id


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_tree_writes_take_advisory_locks_on_postgresql(comment, user):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pid] = cursor.fetchone()
    with transaction.atomic():
        services.post_comment(
            article=comment.article, body="reply", parent=comment, author=user
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT classid, objid, mode FROM pg_locks "
                "WHERE locktype = 'advisory' AND pid = %s ORDER BY classid",
                [pid],
            )
            locks = cursor.fetchall()
    assert (services.LOCK_STRUCTURE, 0, "ShareLock") in locks
    assert (services.LOCK_TREE, comment.tree_id, "ExclusiveLock") in locks


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_new_threads_take_ids_from_the_sequence_and_no_tree_lock(article, user):
    """Two transactions starting threads at once get different tree ids: the
    second is not blocked by the first, which has not committed yet."""
    import threading

    from django.db import connections

    started = threading.Event()
    release = threading.Event()
    ids = {}

    def first():
        try:
            with transaction.atomic():
                ids["first"] = services.post_comment(
                    article=article, body="first thread", author=user
                ).tree_id
                started.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(10)
    try:
        second = services.post_comment(
            article=article, body="second", author=UserFactory()
        )
        ids["second"] = second.tree_id
    finally:
        release.set()
        thread.join()
    assert ids["first"] != ids["second"]
    assert services.find_tree_problems() == []


def test_a_repair_of_a_healthy_forum_changes_nothing(article):
    UserFactory()
    root = CommentFactory(article=article)
    CommentFactory(parent=root)
    assert services.repair_comment_trees() == []


def test_a_comment_its_author_deleted_cannot_be_restored(comment, moderator):
    CommentFactory(parent=comment)
    services.delete_comment(comment=comment, user=comment.author)
    with pytest.raises(ValidationError, match="Its author deleted"):
        services.restore_comment(comment=comment, moderator=moderator)
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.DELETED


@pytest.mark.parametrize("verb", ["spam", "remove", "approve"])
def test_no_moderator_action_leaves_an_authors_deletion(comment, moderator, verb):
    """Defect: marking an author-deleted comment as spam, then restoring it,
    published the deleted text."""
    CommentFactory(parent=comment)
    services.delete_comment(comment=comment, user=comment.author)
    act = {
        "spam": services.mark_comment_spam,
        "remove": lambda **kw: services.remove_comment(reason="other", note="x", **kw),
        "approve": services.approve_comment,
    }[verb]

    with pytest.raises(ValidationError, match="Its author deleted"):
        act(comment=comment, moderator=moderator)
    with pytest.raises(ValidationError):
        services.restore_comment(comment=comment, moderator=moderator)
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.DELETED


@pytest.mark.parametrize("status", ["removed", "spam"])
def test_author_cannot_delete_what_a_moderator_hid(comment, moderator, status):
    """Defect: the author's delete overwrote the moderator's reason, and a spam
    leaf deleted by its author vanished with the evidence."""
    if status == "removed":
        services.remove_comment(
            comment=comment, moderator=moderator, reason="other", note="Rude"
        )
    else:
        services.mark_comment_spam(comment=comment, moderator=moderator)
    stale_copy = Comment.objects.get(pk=comment.pk)
    stale_copy.status = Comment.Status.PUBLISHED  # as the view read it earlier

    with pytest.raises(PermissionDenied):
        services.delete_comment(comment=stale_copy, user=comment.author)
    comment.refresh_from_db()
    assert comment.status == status
    assert comment.moderated_by == moderator


def test_edit_decided_on_a_stale_copy_does_not_land_after_a_removal(comment, moderator):
    """Defect: the edit rule was checked on the view's copy and the UPDATE had
    no conditions, so an edit could land after a removal."""
    stale_copy = Comment.objects.get(pk=comment.pk)
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="Rude"
    )

    with pytest.raises(PermissionDenied):
        services.edit_comment(comment=stale_copy, editor=comment.author, body="Ha")
    comment.refresh_from_db()
    assert comment.body != "Ha"
    assert comment.status == Comment.Status.REMOVED


def test_under_premoderation_an_edited_comment_goes_back_to_review(
    settings, article, user, moderator
):
    settings.FORUM_PREMODERATION = True
    comment = CommentFactory(article=article, author=user)
    services.approve_comment(comment=comment, moderator=moderator)

    services.edit_comment(comment=comment, editor=user, body="Something else now.")

    comment.refresh_from_db()
    assert comment.status == Comment.Status.PENDING
    assert "Something else now." not in comment.fragment


def test_a_removed_twin_is_not_handed_back_as_posted(comment, moderator):
    """Defect: the duplicate check returned a removed twin and the reader was
    told "Your comment is posted"."""
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="Rude"
    )

    again = services.post_comment(
        article=comment.article, body=comment.body, author=comment.author
    )

    assert again.pk != comment.pk
    assert again.status == Comment.Status.PUBLISHED


def test_a_moderator_removing_their_own_comment_is_a_removal_not_a_deletion(
    article, moderator
):
    own = CommentFactory(article=article, author=moderator)
    services.remove_comment(
        comment=own, moderator=moderator, reason="other", note="Off topic"
    )
    own.refresh_from_db()
    assert not own.is_deleted_by_author


def test_a_source_key_is_unique_per_article(article):
    services.post_comment(article=article, body="one", source_key="wp:1")
    with pytest.raises(
        ValidationError, match="already has a comment with this source key"
    ):
        services.post_comment(article=article, body="two", source_key="wp:1")
    other = ArticleFactory()
    assert services.post_comment(article=other, body="two", source_key="wp:1").pk
    assert services.post_comment(article=article, body="no key").pk
    assert services.post_comment(article=article, body="no key either").pk


def test_posting_the_same_text_twice_in_a_row_keeps_one_comment(comment, user):
    first = services.post_comment(
        article=comment.article, body="Me too", parent=comment, author=user
    )
    again = services.post_comment(
        article=comment.article, body="Me too", parent=comment, author=user
    )
    assert again.pk == first.pk
    assert Comment.objects.filter(parent=comment).count() == 1
    elsewhere = services.post_comment(
        article=comment.article, body="Me too", author=user
    )
    assert elsewhere.pk != first.pk


def test_the_same_text_is_a_new_comment_once_the_duplicate_window_has_passed(
    article, user
):
    first = services.post_comment(article=article, body="Bump", author=user)
    Comment.objects.filter(pk=first.pk).update(
        created_at=first.created_at - services.DUPLICATE_WINDOW
    )
    assert services.post_comment(article=article, body="Bump", author=user).pk != (
        first.pk
    )


@pytest.mark.postgresql
def test_reply_opens_its_gap_through_the_tree_indexes_not_the_whole_tree(article):
    """mptt makes room for a reply with UPDATE ... WHERE tree_id = %s AND
    (lft > %s OR rght > %s); the (tree_id, rght) index lets PostgreSQL read only
    the rows that move instead of every row of the tree."""
    root = services.post_comment(article=article, body="A busy comment.")
    for index in range(300):
        services.post_comment(article=article, body=f"Reply {index}.", parent=root)
    root.refresh_from_db()
    target = root.rght - 1
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE forum_comment")
        cursor.execute(
            "EXPLAIN UPDATE forum_comment SET lft = lft WHERE tree_id = %s "
            "AND (lft > %s OR rght > %s)",
            [root.tree_id, target, target],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "forum_comment_tree_rght_idx" in plan, plan
    assert "Seq Scan" not in plan, plan


# Near-duplicates (issue 7, defect 1): the same text, disguised or not, in many
# places in a short while.

ZERO_WIDTH_SPACE = "\u200b"


def _repeats_allowed(settings):
    return limits.parse_rate(settings.FORUM_RATE_DUPLICATES).count


def test_the_same_text_under_thirty_parents_is_refused_after_the_limit(
    settings, article, user
):
    allowed = _repeats_allowed(settings)
    parents = [CommentFactory(article=article) for _ in range(30)]
    outcomes = []

    for parent in parents:
        try:
            services.post_comment(
                article=article,
                body="Great point, see my site.",
                parent=parent,
                author=user,
            )
        except services.RepeatedText as refused:
            outcomes.append(refused.messages[0])
        else:
            outcomes.append("posted")

    assert outcomes[:allowed] == ["posted"] * allowed
    assert len(outcomes[allowed:]) == 30 - allowed
    assert all("You have posted this text" in text for text in outcomes[allowed:])
    assert Comment.objects.filter(author=user).count() == allowed


def test_copies_differing_by_invisible_characters_count_as_the_same_text(
    settings, article, user
):
    settings.FORUM_RATE_DUPLICATES = "3/600"
    text = "Visit example.com for the real story"
    copies = [text[:n] + ZERO_WIDTH_SPACE + text[n:] for n in range(50)]

    posted = 0
    for copy in copies:
        try:
            services.post_comment(article=article, body=copy, author=user)
        except services.RepeatedText:
            continue
        posted += 1

    assert posted == 3
    assert Comment.objects.filter(author=user).count() == 3


def test_case_width_and_spacing_do_not_make_a_text_new(settings, article, user):
    settings.FORUM_RATE_DUPLICATES = "2/600"
    services.post_comment(article=article, body="Read my blog now", author=user)
    services.post_comment(article=article, body="READ  my\nblog now\u00ad", author=user)

    with pytest.raises(services.RepeatedText, match="2 times in the last 10 minutes"):
        services.post_comment(article=article, body="ｒｅａｄ my blog now", author=user)


def test_the_same_text_on_other_articles_counts_too(settings, user):
    settings.FORUM_RATE_DUPLICATES = "2/600"
    articles = [ArticleFactory() for _ in range(3)]
    services.post_comment(article=articles[0], body="Same everywhere", author=user)
    services.post_comment(article=articles[1], body="Same everywhere", author=user)

    with pytest.raises(services.RepeatedText) as refused:
        services.post_comment(article=articles[2], body="Same everywhere", author=user)
    # On the form, under the box that holds the text.
    assert list(refused.value.error_dict) == ["body"]


def test_a_double_click_still_gets_the_first_comment_back_at_the_limit(
    settings, article, user
):
    settings.FORUM_RATE_DUPLICATES = "1/600"
    first = services.post_comment(article=article, body="Only once", author=user)

    again = services.post_comment(article=article, body="Only once", author=user)

    assert again.pk == first.pk


def test_other_readers_may_post_the_same_text(settings, article):
    settings.FORUM_RATE_DUPLICATES = "1/600"
    readers = [UserFactory() for _ in range(3)]

    for reader in readers:
        services.post_comment(article=article, body="Agreed.", author=reader)

    assert Comment.objects.filter(body="Agreed.").count() == 3


def test_the_same_text_is_allowed_again_once_its_window_has_passed(
    settings, article, user
):
    settings.FORUM_RATE_DUPLICATES = "1/600"
    first = services.post_comment(article=article, body="Weekly bump", author=user)
    Comment.objects.filter(pk=first.pk).update(
        created_at=first.created_at - timedelta(seconds=601)
    )

    later = services.post_comment(
        article=ArticleFactory(), body="Weekly bump", author=user
    )

    assert later.pk != first.pk


def test_removed_copies_still_count(settings, article, user, moderator):
    settings.FORUM_RATE_DUPLICATES = "1/600"
    first = services.post_comment(article=article, body="Spammy text", author=user)
    services.mark_comment_spam(comment=first, moderator=moderator)

    with pytest.raises(services.RepeatedText):
        services.post_comment(article=ArticleFactory(), body="Spammy text", author=user)


def test_moderators_may_post_the_same_notice_anywhere(settings, article, moderator):
    settings.FORUM_RATE_DUPLICATES = "1/600"
    parents = [CommentFactory(article=article) for _ in range(3)]

    for parent in parents:
        services.post_comment(
            article=article,
            body="Please stay on topic.",
            parent=parent,
            author=moderator,
        )

    assert Comment.objects.filter(author=moderator).count() == 3


def test_repeated_text_detection_is_off_with_an_empty_rate(settings, article, user):
    settings.FORUM_RATE_DUPLICATES = ""
    parents = [CommentFactory(article=article) for _ in range(5)]

    for parent in parents:
        services.post_comment(
            article=article, body="Same again", parent=parent, author=user
        )

    assert Comment.objects.filter(author=user).count() == 5


def test_imports_are_not_checked_for_repeated_text(settings, article):
    """An import brings its comments' state; the same anonymous text in many
    places is the source's business."""
    settings.FORUM_RATE_DUPLICATES = "1/600"
    for n in range(3):
        services.post_comment(
            article=article,
            body="First!",
            author_name="someone",
            status=Comment.Status.PUBLISHED,
            source_key=f"import:{n}",
        )

    assert Comment.objects.filter(body="First!").count() == 3

"""The read side of a thread (forum/thread.py): pages, sorting, depth and reply
caps, collapsing, stored fragments and the cached skeleton."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from forum import fragments, services
from forum.models import Comment, ThreadState
from forum.thread import Viewer
from tests.factories import CommentFactory

pytestmark = pytest.mark.django_db

ITEM = re.compile(r'<li id="comment-(\d+)" class="thread__item">')


def _shown(response):
    """pks of the comments on the page, in page order."""
    assert response.status_code == 200, response.status_code
    return [int(pk) for pk in ITEM.findall(response.content.decode())]


def _chain(article, length, **kwargs):
    """``length`` comments, each replying to the one before."""
    chain = [CommentFactory(article=article, **kwargs)]
    for _ in range(length - 1):
        chain.append(CommentFactory(parent=chain[-1], **kwargs))
    return chain


def _detail(comment):
    return reverse(
        "forum:comment_detail", kwargs={"slug": comment.article.slug, "pk": comment.pk}
    )


def _age(comment, **delta):
    Comment.objects.filter(pk=comment.pk).update(
        created_at=timezone.now() - timedelta(**delta)
    )


# Who sees what.


@pytest.mark.parametrize(
    ("status", "anonymous", "author", "other", "moderator_sees"),
    [
        (Comment.Status.PUBLISHED, "public", "public", "public", "public"),
        (Comment.Status.PENDING, "omitted", "private", "omitted", "private"),
        (Comment.Status.REMOVED, "public", "public", "public", "private"),
        (Comment.Status.SPAM, "public", "public", "public", "private"),
    ],
)
def test_how_each_viewer_sees_a_comment_depends_on_its_status(
    user, other_user, moderator, status, anonymous, author, other, moderator_sees
):
    """ "public" is the fragment any reader gets (a placeholder unless the
    comment is published), "private" its text with a status badge, "omitted"
    nothing: a pending comment without replies does not exist for others."""

    def sees(viewer):
        return Viewer(viewer).sees(status, user.pk, True)

    assert sees(AnonymousUser()) == anonymous
    assert sees(user) == author
    assert sees(other_user) == other
    assert sees(moderator) == moderator_sees


# Pages.


def test_first_page_shows_the_first_top_level_comments_with_their_replies(
    client, settings, article
):
    settings.FORUM_TOP_LEVEL_PAGE_SIZE = 3
    roots = [CommentFactory(article=article) for _ in range(7)]
    reply = CommentFactory(parent=roots[1])

    first = client.get(article.get_absolute_url())
    third = client.get(article.get_absolute_url() + "?page=3")

    assert _shown(first) == [roots[0].pk, roots[1].pk, reply.pk, roots[2].pk]
    assert _shown(third) == [roots[6].pk]
    assert "Page 1 of 3" in first.content.decode()


def test_pages_link_to_each_other_with_rel_prev_and_next(client, settings, article):
    settings.FORUM_TOP_LEVEL_PAGE_SIZE = 2
    for _ in range(5):
        CommentFactory(article=article)
    url = article.get_absolute_url()

    first = client.get(url).content.decode()
    middle = client.get(url + "?page=2").content.decode()
    last = client.get(url + "?page=3").content.decode()

    assert 'rel="prev"' not in first
    assert f'<a href="{url}?sort=oldest&amp;page=2#comments" rel="next"' in first
    assert f'<a href="{url}?sort=oldest#comments" rel="prev"' in middle
    assert f'<a href="{url}?sort=oldest&amp;page=3#comments" rel="next"' in middle
    assert 'rel="next"' not in last


@pytest.mark.parametrize("page", ["0", "4", "two"])
def test_a_page_past_the_end_or_not_a_number_is_not_found(
    client, settings, article, page
):
    settings.FORUM_TOP_LEVEL_PAGE_SIZE = 2
    for _ in range(5):
        CommentFactory(article=article)

    response = client.get(article.get_absolute_url() + f"?page={page}")

    assert response.status_code == 404


def test_comment_cap_keeps_big_subtrees_from_sharing_a_page(client, settings, article):
    settings.FORUM_PAGE_COMMENT_CAP = 5
    small = CommentFactory(article=article)
    big = _chain(article, 4)
    last = CommentFactory(article=article)

    first = client.get(article.get_absolute_url())
    second = client.get(article.get_absolute_url() + "?page=2")

    # 1 + 4 fits the cap of 5; the next tree goes to the next page.
    assert _shown(first) == [small.pk] + [c.pk for c in big]
    assert _shown(second) == [last.pk]


def test_one_subtree_bigger_than_the_cap_is_cut_with_a_link_to_the_rest(
    client, settings, article
):
    settings.FORUM_PAGE_COMMENT_CAP = 4
    root = CommentFactory(article=article)
    replies = [CommentFactory(parent=root) for _ in range(6)]

    response = client.get(article.get_absolute_url())

    assert _shown(response) == [root.pk] + [r.pk for r in replies[:3]]
    assert (
        f'href="{_detail(root)}?offset=3#replies" data-parent="{root.pk}">'
        "Show 3 more replies</a>"
    ) in response.content.decode()


def test_outsized_tree_reads_only_the_fragments_it_shows(
    client, settings, article, django_assert_num_queries
):
    settings.FORUM_PAGE_COMMENT_CAP = 3
    root = CommentFactory(article=article, body="Root text.")
    replies = [CommentFactory(parent=root, body=f"Reply {n}.") for n in range(8)]
    client.get(article.get_absolute_url())

    # Article, version, structure, then the fragments of the three shown.
    with django_assert_num_queries(4):
        response = client.get(article.get_absolute_url())

    assert _shown(response) == [root.pk, replies[0].pk, replies[1].pk]
    content = response.content.decode()
    assert "Root text." in content
    assert "Reply 1." in content
    assert "Reply 2." not in content
    assert "Show 6 more replies" in content


@pytest.mark.parametrize("target", ["root", "reply"])
def test_permalink_lands_on_the_page_that_holds_the_comment(
    client, settings, article, target
):
    settings.FORUM_TOP_LEVEL_PAGE_SIZE = 2
    roots = [CommentFactory(article=article) for _ in range(5)]
    reply = CommentFactory(parent=roots[3])
    wanted = roots[3] if target == "root" else reply

    response = client.get(wanted.get_thread_url())

    assert wanted.pk in _shown(response)
    assert "Page 2 of 3" in response.content.decode()


def test_permalink_to_a_comment_below_the_depth_shown_goes_to_its_own_page(
    client, settings, article
):
    settings.FORUM_MAX_DEPTH_SHOWN = 3
    chain = _chain(article, 5)

    response = client.get(chain[4].get_thread_url())

    assert response.status_code == 302
    assert response["Location"] == _detail(chain[4])


def test_permalink_to_a_comment_of_another_article_is_not_found(
    client, article, comment
):
    other = CommentFactory()

    response = client.get(article.get_absolute_url() + f"?comment={other.pk}")

    assert response.status_code == 404


# Sorting.


def test_newest_sort_puts_the_latest_top_level_comment_first_and_keeps_replies_in_order(
    client, article
):
    old = CommentFactory(article=article)
    first_reply = CommentFactory(parent=old)
    second_reply = CommentFactory(parent=old)
    new = CommentFactory(article=article)

    response = client.get(article.get_absolute_url() + "?sort=newest")

    assert _shown(response) == [new.pk, old.pk, first_reply.pk, second_reply.pk]


def test_best_sort_weighs_replies_against_age(client, article):
    quiet_new = CommentFactory(article=article)
    lively_old = CommentFactory(article=article)
    for _ in range(6):
        CommentFactory(parent=lively_old)
    stale_old = CommentFactory(article=article)
    _age(lively_old, hours=3)
    _age(stale_old, hours=3)

    response = client.get(article.get_absolute_url() + "?sort=best")

    roots = [
        pk
        for pk in _shown(response)
        if pk in {quiet_new.pk, lively_old.pk, stale_old.pk}
    ]
    # (6+1)/(3+2)^1.5 = 0.63 > (0+1)/(0+2)^1.5 = 0.35 > (0+1)/(3+2)^1.5 = 0.09
    assert roots == [lively_old.pk, quiet_new.pk, stale_old.pk]


def test_sort_choice_is_remembered_for_the_session(client, article):
    old = CommentFactory(article=article)
    new = CommentFactory(article=article)

    client.get(article.get_absolute_url() + "?sort=newest")
    later = client.get(article.get_absolute_url())

    assert _shown(later) == [new.pk, old.pk]
    assert 'aria-current="true">Newest</a>' in later.content.decode()


def test_unknown_sort_falls_back_to_oldest(client, article):
    old = CommentFactory(article=article)
    new = CommentFactory(article=article)

    response = client.get(article.get_absolute_url() + "?sort=<script>")

    assert _shown(response) == [old.pk, new.pk]


# Depth, long subtrees, collapsing.


def test_deep_branch_stops_at_the_depth_shown_and_continues_on_its_own_page(
    client, settings, article
):
    settings.FORUM_MAX_DEPTH_SHOWN = 8
    chain = _chain(article, 15)

    thread = client.get(article.get_absolute_url())
    rest = client.get(_detail(chain[7]))

    assert _shown(thread) == [c.pk for c in chain[:8]]
    assert (
        f'<p class="thread__continue"><a href="{_detail(chain[7])}">Continue this '
        "thread (7 replies)</a></p>"
    ) in thread.content.decode()
    assert _shown(rest) == [c.pk for c in chain[7:15]]
    # The stored tree is never flattened to cap the depth.
    chain[14].refresh_from_db()
    assert chain[14].level == 14
    assert chain[14].parent_id == chain[13].pk


def test_long_list_of_replies_shows_the_first_ones_and_a_link_to_the_rest(
    client, settings, article
):
    settings.FORUM_REPLIES_SHOWN = 20
    root = CommentFactory(article=article)
    replies = [CommentFactory(parent=root) for _ in range(25)]
    nested = CommentFactory(parent=replies[22])

    thread = client.get(article.get_absolute_url())
    more = client.get(f"{_detail(root)}?offset=20")

    assert _shown(thread) == [root.pk] + [r.pk for r in replies[:20]]
    assert (
        f'href="{_detail(root)}?offset=20#replies" data-parent="{root.pk}">'
        "Show 6 more replies</a>"
    ) in thread.content.decode()
    assert _shown(more) == [root.pk] + [r.pk for r in replies[20:23]] + [nested.pk] + [
        r.pk for r in replies[23:]
    ]
    assert "thread__more" not in more.content.decode()


def test_every_subtree_collapses_without_javascript_and_says_how_many_replies(
    client, article
):
    root = CommentFactory(article=article)
    reply = CommentFactory(parent=root)
    CommentFactory(parent=reply)
    CommentFactory(parent=root)

    content = client.get(article.get_absolute_url()).content.decode()

    assert content.count('<details class="thread__replies" open>') == 2
    assert (
        '<span class="thread__toggle-closed">Show</span> 3 replies</summary>'
    ) in content
    assert '<span class="thread__toggle-closed">Show</span> 1 reply</summary>' in (
        content
    )


# What each comment shows.


def test_comment_shows_author_absolute_time_with_zone_and_relative_time(
    client, article, user
):
    comment = CommentFactory(article=article, author=user)
    _age(comment, hours=3)
    Comment.objects.filter(pk=comment.pk).update(fragment_version="")
    comment.refresh_from_db()

    content = client.get(article.get_absolute_url()).content.decode()

    stamp = timezone.localtime(comment.created_at)
    assert f'<span class="comment__author">{user.username}</span>' in content
    assert (
        f'<time datetime="{comment.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")}">'
        f"{stamp.day} {stamp:%b %Y, %H:%M} UTC</time>"
    ) in content
    assert '<span class="comment__ago">3 hours ago</span>' in content
    assert f'aria-label="Comment by {user.username}, {stamp.day} ' in content


def test_relative_time_reads_naturally():
    assert fragments.relative_time(5) == "just now"
    assert fragments.relative_time(60) == "1 minute ago"
    assert fragments.relative_time(3 * 3600 + 5) == "3 hours ago"
    assert fragments.relative_time(86400) == "1 day ago"
    assert fragments.relative_time(400 * 86400) == "1 year ago"


# Fragments are rendered when something that shows changes.


def test_edit_rerenders_the_stored_fragment(user):
    comment = CommentFactory(author=user, body="Before.")

    services.edit_comment(comment=comment, editor=user, body="After.")

    comment.refresh_from_db()
    assert "After." in comment.fragment
    assert "Before." not in comment.fragment
    assert 'class="comment__flag">edited' in comment.fragment


@pytest.mark.parametrize(
    ("act", "public", "private"),
    [
        ("remove", "Comment removed by a moderator.", "Removed: Rude"),
        ("spam", "Comment removed by a moderator: Spam.", "Spam: Spam — Rude"),
        # Its text is erased: nobody has more to see than the placeholder.
        ("author_delete", "Comment deleted by its author.", ""),
    ],
)
def test_each_status_change_rerenders_the_stored_fragments(
    moderator, act, public, private
):
    comment = CommentFactory(body="Some text.")
    CommentFactory(parent=comment)  # so an author's delete leaves a placeholder
    if act == "remove":
        services.remove_comment(
            comment=comment, moderator=moderator, reason="other", note="Rude"
        )
    elif act == "spam":
        services.mark_comment_spam(comment=comment, moderator=moderator, note="Rude")
    else:
        services.delete_comment(comment=comment, user=comment.author)

    comment.refresh_from_db()
    assert public in comment.fragment
    assert "Some text." not in comment.fragment
    assert private in comment.fragment_private
    assert ("Some text." in comment.fragment_private) is bool(private)


def test_approving_and_restoring_rerender_the_stored_fragments(moderator):
    pending = CommentFactory(body="Held.", status=Comment.Status.PENDING)
    assert "Comment awaiting moderation." in pending.fragment

    services.approve_comment(comment=pending, moderator=moderator)
    pending.refresh_from_db()
    assert "Held." in pending.fragment
    assert pending.fragment_private == ""

    services.remove_comment(
        comment=pending, moderator=moderator, reason="other", note="x"
    )
    services.restore_comment(comment=pending, moderator=moderator)
    pending.refresh_from_db()
    assert "Held." in pending.fragment
    assert "removed" not in pending.fragment


def test_renaming_a_user_rerenders_their_comments(user):
    comment = CommentFactory(author=user)
    other = CommentFactory()

    user.username = "new-name"
    user.save()

    comment.refresh_from_db()
    other_before = other.fragment
    other.refresh_from_db()
    assert '<span class="comment__author">new-name</span>' in comment.fragment
    assert other.fragment == other_before


def test_a_login_does_not_rerender_anything(client, user):
    comment = CommentFactory(author=user)
    Comment.objects.filter(pk=comment.pk).update(fragment="marker")

    client.force_login(user)
    get_user_model().objects.get(pk=user.pk).save(update_fields=["last_login"])

    comment.refresh_from_db()
    assert comment.fragment == "marker"


def test_fragment_from_an_older_template_is_rerendered_when_shown(client, article):
    comment = CommentFactory(article=article, body="Still here.")
    Comment.objects.filter(pk=comment.pk).update(
        fragment="<p>old template</p>", fragment_version="old"
    )

    content = client.get(article.get_absolute_url()).content.decode()

    comment.refresh_from_db()
    assert "old template" not in content
    assert "Still here." in content
    assert comment.fragment_version == fragments.current_version()


# The cached skeleton.


def test_every_write_bumps_the_thread_version(article, user, moderator):
    comment = CommentFactory(article=article, author=user)
    after_post = ThreadState.objects.version_of(article.pk)
    services.edit_comment(comment=comment, editor=user, body="Changed.")
    after_edit = ThreadState.objects.version_of(article.pk)
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="x"
    )
    after_removal = ThreadState.objects.version_of(article.pk)

    assert 0 < after_post < after_edit < after_removal


def test_new_comment_shows_at_once_though_the_skeleton_was_cached(client, article):
    first = CommentFactory(article=article)
    client.get(article.get_absolute_url())  # caches the skeleton

    second = CommentFactory(article=article)

    assert _shown(client.get(article.get_absolute_url())) == [first.pk, second.pk]


@pytest.mark.django_db(transaction=True)
def test_cached_skeleton_is_dropped_only_when_the_change_commits(
    client, article, django_capture_on_commit_callbacks
):
    first = CommentFactory(article=article)
    client.get(article.get_absolute_url())

    with pytest.raises(RuntimeError), transaction.atomic():
        CommentFactory(article=article, body="Rolled back.")
        raise RuntimeError("the request failed")

    response = client.get(article.get_absolute_url())
    assert _shown(response) == [first.pk]
    assert "Rolled back." not in response.content.decode()
    assert ThreadState.objects.version_of(article.pk) == 1


def test_skeleton_of_the_old_version_leaves_the_cache_on_commit(
    article, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from forum.caching import skeleton_key
    from forum.thread import skeleton

    CommentFactory(article=article)
    skeleton(article.pk, "oldest")
    old_key = skeleton_key(article.pk, 1, "oldest")
    assert cache.get(old_key) is not None

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        CommentFactory(article=article)
    assert cache.get(old_key) is not None  # not before the commit
    for callback in callbacks:
        callback()

    assert cache.get(old_key) is None


# Constant work whatever the size.


def _bulk_roots(article, count):
    """``count`` top-level comments written in one bulk insert: 10,000 through
    the services would take minutes, and a root's row is simple to get right
    (its own tree, lft 1, rght 2). One goes through the services, so the
    fragments are the real ones."""
    model = services.post_comment(article=article, body="Root.", author_name="r")
    start = Comment.objects.order_by("-tree_id").values_list("tree_id", flat=True)[0]
    Comment.objects.bulk_create(
        Comment(
            article=article,
            author_name="r",
            body=model.body,
            body_html=model.body_html,
            fragment=model.fragment,
            fragment_version=model.fragment_version,
            created_at=model.created_at,
            tree_id=start + index,
            lft=1,
            rght=2,
            level=0,
        )
        for index in range(1, count)
    )
    ThreadState.objects.bump(article.pk)


def test_first_page_runs_the_same_queries_for_10_1000_and_10000_comments(
    client, django_assert_num_queries
):
    from tests.factories import ArticleFactory

    counts = {}
    for size in (10, 1_000, 10_000):
        article = ArticleFactory()
        _bulk_roots(article, size)
        client.get(article.get_absolute_url())  # the skeleton is cached
        with django_assert_num_queries(3) as captured:
            response = client.get(article.get_absolute_url())
        counts[size] = len(captured)
        assert len(_shown(response)) == min(size, 50)
    assert counts == {10: 3, 1_000: 3, 10_000: 3}


def test_page_names_its_canonical_address(client, settings, article):
    settings.FORUM_TOP_LEVEL_PAGE_SIZE = 1
    first = CommentFactory(article=article)
    CommentFactory(article=article)
    url = article.get_absolute_url()

    by_permalink = client.get(first.get_thread_url()).content.decode()
    second = client.get(url + "?page=2").content.decode()

    assert f'<link rel="canonical" href="http://testserver{url}">' in by_permalink
    assert (
        f'<link rel="canonical" href="http://testserver{url}?sort=oldest&amp;page=2">'
    ) in second


def test_tree_posted_after_the_skeleton_was_read_does_not_break_the_page(
    client, article
):
    from forum.thread import thread_page

    first = CommentFactory(article=article)
    client.get(article.get_absolute_url())
    # A new thread committed between a reader's version read and its rows read:
    # the cached skeleton does not know its tree.
    late = CommentFactory(article=article)
    ThreadState.objects.filter(article=article).update(version=1)

    page = thread_page(article=article, user=first.author)

    assert f'id="comment-{first.pk}"' in page.html
    assert f'id="comment-{late.pk}"' not in page.html


def test_repairing_the_trees_bumps_every_thread_version(article):
    CommentFactory(article=article)
    before = ThreadState.objects.version_of(article.pk)
    Comment.objects.filter(article=article).update(rght=99)

    assert services.repair_comment_trees()

    assert ThreadState.objects.version_of(article.pk) == before + 1

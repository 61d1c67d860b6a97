"""Comment pages (forum/views.py), the thread on the article page, and sign-up."""

import json
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import Client
from django.test.html import parse_html
from django.urls import reverse
from django.utils import timezone

from forum import services
from forum.forms import HONEYPOT_FIELD, signup_stamp
from forum.models import Comment
from tests.factories import PASSWORD, ArticleFactory, CommentFactory, UserFactory
from tests.html import element

pytestmark = pytest.mark.django_db

REMOVED = "Comment removed by a moderator."
DELETED = "Comment deleted by its author."
AWAITING = "Comment awaiting moderation."
NOT_OPEN = "not open for replies"
EMPTY = "Write something before posting."

# Article; the thread's version, its page's trees with their fragments;
# logged in: session, user, the user's and the groups' permissions; for a
# moderator, the count of what waits (in the header).
THREAD_QUERIES = {"anonymous": 3, "reader": 7, "moderator": 8}
# The skeleton, when the cache does not have it.
COLD_SKELETON_QUERIES = 1
WHOLE_THREAD = {
    "FORUM_TOP_LEVEL_PAGE_SIZE": 100_000,
    "FORUM_PAGE_COMMENT_CAP": 100_000,
    "FORUM_MAX_DEPTH_SHOWN": 1_000,
    "FORUM_REPLIES_SHOWN": 100_000,
}


def _url(name, comment, article=None):
    slug = (article or comment.article).slug
    return reverse(f"forum:{name}", kwargs={"slug": slug, "pk": comment.pk})


def _create_url(article):
    return reverse("forum:comment_create", kwargs={"slug": article.slug})


def _in_thread(comment):
    return (
        f"{comment.article.get_absolute_url()}?comment={comment.pk}"
        f"#comment-{comment.pk}"
    )


def _controls(response):
    """The viewer's controls the page hands to thread.js, or None."""
    content = _text(response)
    marker = '<script id="thread-controls" type="application/json">'
    if marker not in content:
        return None
    start = content.index(marker) + len(marker)
    return json.loads(content[start : content.index("</script>", start)])


def _text(response):
    return response.content.decode()


def _nesting(response):
    """Each comment <li>'s id -> (id of the comment <li> around it, or None, and
    the class of the <ol> between the two)."""
    found = {}

    def walk(node, parent_li, ol_class):
        for child in node.children:
            if isinstance(child, str):
                continue
            attributes = dict(child.attributes)
            if child.name == "li" and attributes.get("id", "").startswith("comment-"):
                found[attributes["id"]] = (parent_li, ol_class)
                walk(child, attributes["id"], None)
            elif child.name == "ol":
                walk(child, parent_li, attributes.get("class"))
            else:
                walk(child, parent_li, ol_class)

    walk(parse_html(_text(response)), None, None)
    return found


def _build_thread(article, size, *, authors, moderator):
    """``size`` comments: roots, replies several levels deep, some removed, some
    pending leaves; all through the services."""
    comments, open_for_replies = [], []
    for i in range(size):
        parent = None
        if i % 8 and open_for_replies:
            parent = open_for_replies[(i * 7) % len(open_for_replies)]
        status = Comment.Status.PENDING if i % 23 == 22 else None
        comment = CommentFactory(
            article=article,
            parent=parent,
            author=authors[i % len(authors)],
            status=status,
        )
        comments.append(comment)
        if status is None:
            open_for_replies.append(comment)
    for comment in open_for_replies[5::31]:
        services.remove_comment(
            comment=comment, moderator=moderator, reason="other", note="Rude"
        )
    return comments


# The thread on the article page.


def test_thread_nests_each_reply_inside_its_parent(client, article):
    first = CommentFactory(article=article, body="First thread.")
    reply = CommentFactory(parent=first, body="A reply.")
    deeper = CommentFactory(parent=reply, body="A reply to the reply.")
    second_reply = CommentFactory(parent=first, body="Another reply.")
    second = CommentFactory(article=article, body="Second thread.")

    response = client.get(article.get_absolute_url())

    assert response.status_code == 200
    assert _nesting(response) == {
        first.anchor: (None, "thread"),
        reply.anchor: (first.anchor, "replies"),
        deeper.anchor: (reply.anchor, "replies"),
        second_reply.anchor: (first.anchor, "replies"),
        second.anchor: (None, "thread"),
    }
    content = _text(response)
    positions = [
        content.index(f"<p>{text}</p>")
        for text in (
            "First thread.",
            "A reply.",
            "A reply to the reply.",
            "Another reply.",
            "Second thread.",
        )
    ]
    assert positions == sorted(positions)


def test_thread_says_so_when_there_are_no_comments(client, article):
    response = client.get(article.get_absolute_url())

    assert "No comments yet. Be the first." in _text(response)


@pytest.mark.parametrize("size", [5, 500])
@pytest.mark.parametrize("viewer", ["anonymous", "reader", "moderator"])
def test_whole_thread_runs_the_same_number_of_queries_whatever_its_size(
    client,
    django_assert_num_queries,
    settings,
    article,
    user,
    other_user,
    moderator,
    viewer,
    size,
):
    for name, value in WHOLE_THREAD.items():
        setattr(settings, name, value)
    comments = _build_thread(
        article, size, authors=[user, other_user], moderator=moderator
    )
    if viewer == "reader":
        client.force_login(user)
    elif viewer == "moderator":
        client.force_login(moderator)
    client.get(article.get_absolute_url())  # caches the skeleton

    with django_assert_num_queries(THREAD_QUERIES[viewer]):
        response = client.get(article.get_absolute_url())

    assert response.status_code == 200
    shown = set(_nesting(response))
    hidden_leaves = {
        c.anchor
        for c in comments
        if c.status == Comment.Status.PENDING and c.author != _viewer(viewer, user)
    }
    if viewer == "moderator":
        hidden_leaves = set()
    assert shown == {c.anchor for c in comments} - hidden_leaves


def _viewer(name, user):
    return user if name == "reader" else None


def test_each_comment_has_one_permalink_to_its_own_page(client, comment):
    article = comment.article
    reply = CommentFactory(parent=comment)

    content = _text(client.get(article.get_absolute_url()))

    for each in (comment, reply):
        assert f'<li id="comment-{each.pk}" class="thread__item">' in content
        assert content.count(f'href="{_url("comment_detail", each)}"') == 1
        assert f'<a class="comment__time" href="{_url("comment_detail", each)}">' in (
            content
        )
    assert ">Link</a>" not in content


def test_removed_comment_shows_a_placeholder_and_keeps_its_replies(
    client, article, moderator
):
    removed = CommentFactory(article=article, body="Something rude.")
    reply = CommentFactory(parent=removed, body="Please be civil.")
    services.remove_comment(
        comment=removed, moderator=moderator, reason="other", note="Insults"
    )

    response = client.get(article.get_absolute_url())

    content = _text(response)
    assert REMOVED in content
    assert "Something rude." not in content
    assert "Insults" not in content
    assert "Please be civil." in content
    assert _nesting(response)[reply.anchor] == (removed.anchor, "replies")


def test_comment_deleted_by_its_author_shows_a_placeholder_and_keeps_its_replies(
    client, article
):
    deleted = CommentFactory(article=article, body="I regret this.")
    reply = CommentFactory(parent=deleted, body="Too late, I read it.")
    services.delete_comment(comment=deleted, user=deleted.author)

    response = client.get(article.get_absolute_url())

    content = _text(response)
    assert DELETED in content
    assert REMOVED not in content
    assert "I regret this." not in content
    assert "Too late, I read it." in content
    assert _nesting(response)[reply.anchor] == (deleted.anchor, "replies")


@pytest.mark.parametrize(
    ("viewer", "sees_it"),
    [("anonymous", False), ("other", False), ("author", True), ("moderator", True)],
)
def test_pending_comment_is_shown_to_its_author_and_moderators_only(
    client, article, user, other_user, moderator, viewer, sees_it
):
    pending = CommentFactory(
        article=article,
        author=user,
        body="Waiting my turn.",
        status=Comment.Status.PENDING,
    )
    viewers = {"other": other_user, "author": user, "moderator": moderator}
    if viewer in viewers:
        client.force_login(viewers[viewer])

    response = client.get(article.get_absolute_url())

    content = _text(response)
    assert ("Waiting my turn." in content) is sees_it
    # A pending leaf is left out, not replaced by a placeholder.
    assert AWAITING not in content
    assert (f'id="comment-{pending.pk}"' in content) is sees_it


@pytest.mark.parametrize(
    ("viewer", "sees_it"),
    [("anonymous", False), ("other", False), ("author", True), ("moderator", True)],
)
def test_pending_comment_with_replies_shows_a_placeholder_to_others(
    client, article, user, other_user, moderator, viewer, sees_it
):
    parent = CommentFactory(article=article, author=user, body="Held back.")
    reply = CommentFactory(parent=parent, author=other_user, body="A visible reply.")
    # Imports can bring a pending comment with replies; no service makes one.
    # A write outside the services must mark the stored fragment stale.
    Comment.objects.filter(pk=parent.pk).update(
        status=Comment.Status.PENDING, fragment_version=""
    )
    viewers = {"other": other_user, "author": user, "moderator": moderator}
    if viewer in viewers:
        client.force_login(viewers[viewer])

    response = client.get(article.get_absolute_url())

    content = _text(response)
    assert ("Held back." in content) is sees_it
    assert (AWAITING in content) is not sees_it
    assert "A visible reply." in content
    assert _nesting(response)[reply.anchor] == (parent.anchor, "replies")


def test_moderator_gets_the_moderation_links_that_apply(client, article, moderator):
    published = CommentFactory(article=article)
    pending = CommentFactory(article=article, status=Comment.Status.PENDING)
    removed = CommentFactory(article=article)
    services.remove_comment(
        comment=removed, moderator=moderator, reason="other", note="Spam"
    )
    client.force_login(moderator)

    response = client.get(article.get_absolute_url())

    # thread.js adds each comment's links from its data-state and this table.
    moderate = _controls(response)["moderate"]
    content = _text(response)
    for comment, state in (
        (published, "published"),
        (pending, "pending"),
        (removed, "removed"),
    ):
        assert f'data-comment="{comment.pk}" data-author="{comment.author_id}" ' in (
            content
        )
        assert f'data-state="{state}" data-mod="{state}:100"' in content
    # data-mod: the state, then top-level, pinned, replies locked.
    assert moderate["published:100"] == [
        ["remove", "Remove"],
        ["pin", "Pin"],
        ["lock", "Lock replies"],
    ]
    assert moderate["published:000"] == [["remove", "Remove"], ["lock", "Lock replies"]]
    assert moderate["published:111"] == [
        ["remove", "Remove"],
        ["unpin", "Unpin"],
        ["unlock", "Unlock replies"],
    ]
    assert moderate["pending:100"] == [
        ["approve", "Approve"],
        ["remove", "Remove"],
        ["lock", "Lock replies"],
    ]
    assert moderate["removed:100"] == [["restore", "Restore"], ["lock", "Lock replies"]]
    assert moderate["deleted:000"] == [["lock", "Lock replies"]]
    # A moderator reads removed text, with the reason.
    assert "Removed: Spam" in content


def test_comment_page_lists_the_moderation_links_that_apply(client, article, moderator):
    published = CommentFactory(article=article)
    pending = CommentFactory(article=article, status=Comment.Status.PENDING)
    removed = CommentFactory(article=article)
    services.remove_comment(
        comment=removed, moderator=moderator, reason="other", note="Spam"
    )
    client.force_login(moderator)

    def links(comment):
        content = _text(client.get(_url("comment_detail", comment)))
        return {
            name
            for name in ("comment_approve", "comment_remove", "comment_restore")
            if f'href="{_url(name, comment)}"' in content
        }

    assert links(published) == {"comment_remove"}
    assert links(pending) == {"comment_approve", "comment_remove"}
    assert links(removed) == {"comment_restore"}


@pytest.mark.parametrize("viewer", ["anonymous", "reader"])
def test_other_viewers_see_no_moderation_links(client, article, user, viewer):
    comment = CommentFactory(article=article)
    CommentFactory(article=article, author=user, status=Comment.Status.PENDING)
    if viewer == "reader":
        client.force_login(user)

    for url in (article.get_absolute_url(), _url("comment_detail", comment)):
        response = client.get(url)
        content = _text(response)
        for label in ("Remove", "Approve", "Restore"):
            assert f">{label}</a>" not in content
        assert "moderate" not in (_controls(response) or {})


def test_author_gets_edit_and_delete_links_on_their_own_comment_only(
    client, article, user
):
    own = CommentFactory(article=article, author=user)
    someone_elses = CommentFactory(article=article)
    client.force_login(user)

    controls = _controls(client.get(article.get_absolute_url()))
    own_page = _text(client.get(_url("comment_detail", own)))
    other_page = _text(client.get(_url("comment_detail", someone_elses)))

    assert controls["edit"] == [own.pk]
    assert controls["delete"] == [own.pk]
    assert f'href="{_url("comment_edit", own)}">Edit</a>' in own_page
    assert f'href="{_url("comment_delete", own)}">Delete</a>' in own_page
    assert _url("comment_edit", someone_elses) not in other_page
    assert _url("comment_delete", someone_elses) not in other_page


# One comment and its replies.


def test_comment_page_shows_the_comment_its_replies_and_a_link_up(client, article):
    root = CommentFactory(article=article, body="The root.")
    middle = CommentFactory(parent=root, body="The middle.")
    leaf = CommentFactory(parent=middle, body="The leaf.")
    CommentFactory(parent=root, body="A sibling.")

    response = client.get(_url("comment_detail", middle))

    assert response.status_code == 200
    content = _text(response)
    assert "The middle." in content
    assert "The leaf." in content
    assert "The root." not in content
    assert "A sibling." not in content
    assert f'href="{_url("comment_detail", root)}">' in content
    assert _nesting(response)[leaf.anchor] == (middle.anchor, "replies")


def test_top_level_comment_page_has_no_link_up(client, comment):
    response = client.get(_url("comment_detail", comment))

    assert response.status_code == 200
    assert "Up to the comment it replies to" not in _text(response)


@pytest.mark.parametrize("status", [Comment.Status.REMOVED, Comment.Status.PENDING])
def test_comment_page_does_not_name_the_author_of_a_hidden_comment(
    client, article, moderator, status
):
    author = UserFactory(username="hidden_author")
    comment = CommentFactory(article=article, author=author, body="Hidden words.")
    if status == Comment.Status.REMOVED:
        services.remove_comment(
            comment=comment, moderator=moderator, reason="other", note="Rude"
        )
    else:
        Comment.objects.filter(pk=comment.pk).update(status=status)

    content = _text(client.get(_url("comment_detail", comment)))

    assert "hidden_author" not in content
    assert "Hidden words." not in content
    client.force_login(moderator)
    assert "hidden_author" in _text(client.get(_url("comment_detail", comment)))


def test_comment_page_is_404_for_a_comment_of_another_article(client, comment):
    other_article = ArticleFactory()

    response = client.get(_url("comment_detail", comment, other_article))

    assert response.status_code == 404


def test_comment_page_is_404_for_a_missing_comment(client, article):
    url = reverse("forum:comment_detail", kwargs={"slug": article.slug, "pk": 999999})

    assert client.get(url).status_code == 404


# Posting and replying.


def test_anonymous_post_redirects_to_login_and_writes_nothing(client, article):
    url = _create_url(article)

    response = client.post(url, {"body": "Hello there."})

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
    assert not Comment.objects.exists()


def test_comment_page_offers_the_form_with_a_way_back_to_the_article(
    client, article, user
):
    client.force_login(user)

    response = client.get(_create_url(article))

    assert response.status_code == 200
    assert response.templates[0].name == "forum/comment_create.html"
    content = _text(response)
    assert f"Post a comment on “{article.title}”" in content
    assert f'href="{article.get_absolute_url()}#comments"' in content
    form = element(content, "form", id="comment-form")
    assert form.attrs["action"] == f"{_create_url(article)}#comment-form"
    assert element(content, "textarea").value == ""


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("  \n ", EMPTY),
        (
            "x" * 10_001,
            "Comments can be at most 10,000 characters long (this one has 10,001).",
        ),
    ],
    ids=["empty", "oversized"],
)
def test_refused_comment_is_shown_on_the_comment_page_with_its_text(
    client, settings, article, user, body, error
):
    """The page answers GET too, so going back or reloading never ends on a 405."""
    settings.FORUM_COMMENT_MAX_LENGTH = 10_000
    client.force_login(user)

    response = client.post(_create_url(article), {"body": body})

    assert response.status_code == 400
    assert response.templates[0].name == "forum/comment_create.html"
    content = _text(response)
    textarea = element(content, "textarea")
    assert textarea.value == body
    assert textarea.attrs["aria-invalid"] == "true"
    assert "id_body_error" in textarea.attrs["aria-describedby"].split()
    assert error in content[content.index('id="id_body_error"') :]
    assert client.get(_create_url(article)).status_code == 200
    assert not Comment.objects.exists()


def test_refused_reply_keeps_its_text_in_the_box(client, comment, user):
    client.force_login(user)
    body = "y" * (settings.FORUM_COMMENT_MAX_LENGTH + 1)

    response = client.post(_url("comment_reply", comment), {"body": body})

    assert response.status_code == 400
    assert element(_text(response), "textarea").value == body
    assert client.get(_url("comment_reply", comment)).status_code == 200


@pytest.mark.parametrize("endpoint", ["create", "reply"])
def test_anonymous_comment_is_kept_until_the_reader_logs_in(
    client, comment, user, endpoint
):
    """A session that ran out while the reader typed: log in, and the text is
    back in the box."""
    if endpoint == "create":
        url = _create_url(comment.article)
    else:
        url = _url("comment_reply", comment)
    text = "Typed while my session ran out.\n\nSecond <em>paragraph</em>."

    response = client.post(url, {"body": text})

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
    assert Comment.objects.count() == 1
    login_page = client.get(response["Location"])
    assert "Log in to post your comment; we kept what you wrote." in _text(login_page)
    logged_in = client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD, "next": url},
    )
    assert logged_in["Location"] == url
    form_page = client.get(url)
    assert form_page.status_code == 200
    assert element(_text(form_page), "textarea").value == text
    assert Comment.objects.count() == 1


def test_anonymous_comment_is_kept_through_signing_up(client, article):
    url = _create_url(article)
    client.post(url, {"body": "A first comment from a new reader."})

    client.post(
        reverse("signup"),
        {
            "username": "newreader",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": url,
        },
    )
    form_page = client.get(url)

    assert element(_text(form_page), "textarea").value == (
        "A first comment from a new reader."
    )


def test_kept_comment_is_forgotten_once_posted(client, article, user):
    url = _create_url(article)
    client.post(url, {"body": "Kept for later."})
    client.force_login(user)

    response = client.post(url, {"body": "Kept for later, now edited."})

    assert response.status_code == 302
    assert Comment.objects.get().body == "Kept for later, now edited."
    assert element(_text(client.get(url)), "textarea").value == ""


def test_anonymous_comment_page_sends_the_reader_to_log_in(client, article):
    url = _create_url(article)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_anonymous_comment_is_kept_only_with_a_valid_csrf_token(article):
    """A reader whose session expired still sends the CSRF cookie and the
    page's token: they outlive the session. A forged post keeps nothing."""
    client = Client(enforce_csrf_checks=True)
    url = _create_url(article)

    refused = client.post(url, {"body": "Forged."})

    assert refused.status_code == 403
    assert "Forged." not in str(dict(client.session))
    client.get(reverse("login"))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    kept = client.post(url, {"body": "Genuine.", "csrfmiddlewaretoken": token})
    assert kept.status_code == 302
    assert kept["Location"] == f"{reverse('login')}?next={url}"
    assert "Genuine." in str(dict(client.session))
    assert not Comment.objects.exists()


def test_posting_a_comment_redirects_to_it_in_the_thread(client, article, user):
    client.force_login(user)

    response = client.post(_create_url(article), {"body": "First!\n\nAnd more."})

    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _in_thread(comment)
    assert comment.article == article
    assert comment.author == user
    assert comment.parent is None
    assert comment.status == Comment.Status.PUBLISHED
    assert comment.body_html == "<p>First!</p>\n<p>And more.</p>"
    followed = client.get(response["Location"])
    assert "Your comment is posted." in _text(followed)
    assert "<p>First!</p>" in _text(followed)


def test_comment_by_a_reader_waits_for_approval_under_premoderation(
    client, settings, article, user
):
    settings.FORUM_PREMODERATION = True
    client.force_login(user)

    response = client.post(_create_url(article), {"body": "Hold me."}, follow=True)

    assert Comment.objects.get().status == Comment.Status.PENDING
    assert "will appear once a moderator approves it" in _text(response)


def test_reply_page_shows_the_comment_and_a_form(client, comment, user):
    client.force_login(user)

    response = client.get(_url("comment_reply", comment))

    assert response.status_code == 200
    content = _text(response)
    assert comment.body in content
    assert f'action="{_url("comment_reply", comment)}#comment-form"' in content
    assert '<textarea name="body"' in content


def test_reply_is_nested_under_its_parent_and_redirects_to_it(client, comment, user):
    client.force_login(user)

    response = client.post(_url("comment_reply", comment), {"body": "I agree."})

    reply = Comment.objects.get(body="I agree.")
    assert response.status_code == 302
    assert response["Location"] == _in_thread(reply)
    assert reply.parent == comment
    assert reply.level == 1
    assert reply.author == user
    thread = client.get(comment.article.get_absolute_url())
    assert _nesting(thread)[reply.anchor] == (comment.anchor, "replies")


@pytest.mark.parametrize("endpoint", ["create", "reply"])
@pytest.mark.parametrize("body", ["", "   \n\t  "], ids=["empty", "blank"])
def test_empty_comment_is_refused_with_400(client, comment, user, endpoint, body):
    client.force_login(user)
    if endpoint == "create":
        url = _create_url(comment.article)
    else:
        url = _url("comment_reply", comment)

    response = client.post(url, {"body": body})

    assert response.status_code == 400
    assert EMPTY in _text(response)
    assert Comment.objects.count() == 1


@pytest.mark.parametrize("endpoint", ["create", "reply"])
def test_oversized_comment_is_refused_with_400(client, comment, user, endpoint):
    client.force_login(user)
    limit = settings.FORUM_COMMENT_MAX_LENGTH
    if endpoint == "create":
        url = _create_url(comment.article)
    else:
        url = _url("comment_reply", comment)

    response = client.post(url, {"body": "x" * (limit + 1)})

    assert response.status_code == 400
    assert (
        f"Comments can be at most {limit:,} characters long "
        f"(this one has {limit + 1:,})."
    ) in _text(response)
    assert Comment.objects.count() == 1


def test_comment_of_exactly_the_maximum_length_is_accepted(client, article, user):
    client.force_login(user)
    body = "x" * settings.FORUM_COMMENT_MAX_LENGTH

    response = client.post(_create_url(article), {"body": body})

    assert response.status_code == 302
    assert Comment.objects.get().body == body


def test_line_breaks_count_once_against_the_length_limit(client, article, user):
    """Browsers count a line break as one character (the live counter does too)
    but send it as CRLF; the service stores LF."""
    client.force_login(user)
    limit = settings.FORUM_COMMENT_MAX_LENGTH
    stored = "\n".join(["x" * 9] * (limit // 10))
    stored += "x" * (limit - len(stored))
    sent = stored.replace("\n", "\r\n")
    assert len(stored) == limit < len(sent)

    response = client.post(_create_url(article), {"body": sent})

    assert response.status_code == 302
    assert Comment.objects.get().body == stored


def test_reply_through_another_articles_url_is_404(client, comment, user):
    client.force_login(user)
    other_article = ArticleFactory()

    response = client.post(
        _url("comment_reply", comment, other_article), {"body": "Sneaky."}
    )

    assert response.status_code == 404
    assert Comment.objects.count() == 1


def test_reply_to_a_removed_comment_is_refused_with_400(
    client, comment, user, moderator
):
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="Off topic"
    )
    client.force_login(user)

    response = client.post(_url("comment_reply", comment), {"body": "But why?"})

    assert response.status_code == 400
    assert NOT_OPEN in _text(response)
    assert Comment.objects.count() == 1


def test_reply_page_of_a_removed_comment_offers_no_form(
    client, comment, user, moderator
):
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="Off topic"
    )
    client.force_login(user)

    response = client.get(_url("comment_reply", comment))

    assert response.status_code == 200
    assert NOT_OPEN in _text(response)
    assert '<textarea name="body"' not in _text(response)
    assert comment.body not in _text(response)


def test_reply_page_of_a_removed_comment_does_not_name_its_author(
    client, article, user, moderator
):
    author = UserFactory(username="hidden_author")
    comment = CommentFactory(article=article, author=author)
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="Rude"
    )
    client.force_login(user)

    response = client.get(_url("comment_reply", comment))

    assert response.status_code == 200
    assert "hidden_author" not in _text(response)


def test_reply_to_a_missing_comment_is_404(client, article, user):
    client.force_login(user)
    url = reverse("forum:comment_reply", kwargs={"slug": article.slug, "pk": 999999})

    response = client.post(url, {"body": "Hello?"})

    assert response.status_code == 404
    assert not Comment.objects.exists()


def test_posting_without_a_csrf_token_is_refused(article, user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(_create_url(article), {"body": "No token."})

    assert response.status_code == 403
    assert not Comment.objects.exists()
    # The same request with the page's token goes through.
    client.get(article.get_absolute_url())
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        _create_url(article), {"body": "With token.", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Comment.objects.get().body == "With token."


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({}, 400),
        ({"body": "nul \x00 byte"}, 400),
        ({"body": "\r\n\r\n"}, 400),
        ({"body": ["two", "values"]}, 302),
        ({"body": "<script>alert(1)</script>"}, 302),
        ({"body": "x" * 100_000}, 400),
    ],
    ids=["no-body", "nul", "newlines-only", "repeated-field", "markup", "huge"],
)
def test_odd_comment_input_never_causes_a_server_error(
    client, comment, user, data, status
):
    client.force_login(user)

    for url in (_create_url(comment.article), _url("comment_reply", comment)):
        response = client.post(url, data)
        assert response.status_code == status
    if status == 302:
        assert "<script>" not in Comment.objects.latest("pk").body_html


def test_reply_to_a_pending_comment_is_refused_with_400(client, user):
    # Its author sees it; for other readers it does not exist (a 404, as
    # tests/test_errors.py checks for each of its pages).
    pending = CommentFactory(author=user, status=Comment.Status.PENDING)
    client.force_login(user)

    response = client.post(_url("comment_reply", pending), {"body": "Early."})

    assert response.status_code == 400
    assert NOT_OPEN in _text(response)
    assert "Early." not in Comment.objects.values_list("body", flat=True)


def test_comments_of_an_unpublished_article_are_404(client, user):
    draft = ArticleFactory(published_at=None)
    client.force_login(user)

    response = client.post(_create_url(draft), {"body": "Early bird."})

    assert response.status_code == 404
    assert not Comment.objects.exists()


# Editing.


def _age(comment, **delta):
    Comment.objects.filter(pk=comment.pk).update(
        created_at=timezone.now() - timedelta(**delta)
    )


def test_author_can_edit_within_the_window(client, user):
    comment = CommentFactory(author=user, body="Tpyo here.")
    _age(comment, minutes=settings.FORUM_EDIT_WINDOW_MINUTES - 1)
    client.force_login(user)

    page = client.get(_url("comment_edit", comment))
    response = client.post(
        _url("comment_edit", comment), {"body": "Typo fixed, see https://example.com"}
    )

    assert page.status_code == 200
    assert "Tpyo here." in _text(page)
    assert response.status_code == 302
    assert response["Location"] == _in_thread(comment)
    comment.refresh_from_db()
    assert comment.body == "Typo fixed, see https://example.com"
    assert comment.body_html == (
        '<p>Typo fixed, see <a href="https://example.com" rel="nofollow ugc">'
        "https://example.com</a></p>"
    )
    assert comment.edited_at is not None
    thread = _text(client.get(comment.article.get_absolute_url()))
    comment.refresh_from_db()
    assert (
        f'<span class="comment__flag">edited <time datetime="'
        f'{comment.edited_at.strftime("%Y-%m-%dT%H:%M:%SZ")}">'
    ) in thread


def test_edit_with_an_empty_body_is_refused_with_400(client, user):
    comment = CommentFactory(author=user, body="Keep me.")
    client.force_login(user)

    response = client.post(_url("comment_edit", comment), {"body": " "})

    assert response.status_code == 400
    assert EMPTY in _text(response)
    comment.refresh_from_db()
    assert comment.body == "Keep me."
    assert comment.edited_at is None


def test_author_cannot_edit_after_the_window(client, user):
    comment = CommentFactory(author=user, body="Set in stone.")
    _age(comment, minutes=settings.FORUM_EDIT_WINDOW_MINUTES, seconds=1)
    client.force_login(user)

    page = client.get(_url("comment_edit", comment))
    response = client.post(_url("comment_edit", comment), {"body": "Rewritten."})

    assert page.status_code == 403
    assert response.status_code == 403
    assert services.EDIT_DENIED in _text(response)
    comment.refresh_from_db()
    assert comment.body == "Set in stone."
    assert comment.edited_at is None


def test_nobody_else_can_edit_a_comment(client, comment, other_user, moderator):
    for intruder in (other_user, moderator):
        client.force_login(intruder)

        page = client.get(_url("comment_edit", comment))
        response = client.post(_url("comment_edit", comment), {"body": "Hijacked."})

        assert page.status_code == 403
        assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.body != "Hijacked."


@pytest.mark.parametrize("body", ["", "x" * 20_000], ids=["empty", "oversized"])
def test_refused_edit_is_403_whatever_the_body(client, user, other_user, body):
    comment = CommentFactory(author=user, body="Untouched.")
    client.force_login(other_user)

    response = client.post(_url("comment_edit", comment), {"body": body})

    assert response.status_code == 403
    assert services.EDIT_DENIED in _text(response)
    assert '<textarea name="body"' not in _text(response)


def test_anonymous_edit_redirects_to_login(client, comment):
    response = client.post(_url("comment_edit", comment), {"body": "Hijacked."})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    comment.refresh_from_db()
    assert comment.body != "Hijacked."


# Deleting.


def test_delete_page_asks_first_and_changes_nothing(client, user):
    comment = CommentFactory(author=user)
    client.force_login(user)

    response = client.get(_url("comment_delete", comment))

    assert response.status_code == 200
    assert "Delete your comment?" in _text(response)
    assert "It will be gone for good." in _text(response)
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_author_deleting_a_comment_without_replies_removes_the_row(client, user):
    parent = CommentFactory()
    comment = CommentFactory(parent=parent, author=user)
    client.force_login(user)

    response = client.post(_url("comment_delete", comment))

    assert response.status_code == 302
    assert response["Location"] == _in_thread(parent)
    assert not Comment.objects.filter(pk=comment.pk).exists()
    assert Comment.objects.filter(pk=parent.pk).exists()


def test_deleting_a_top_level_comment_returns_to_the_comments(client, user):
    comment = CommentFactory(author=user)
    client.force_login(user)

    response = client.post(_url("comment_delete", comment))

    assert response["Location"] == f"{comment.article.get_absolute_url()}#comments"
    assert not Comment.objects.exists()


def test_author_deleting_a_comment_with_replies_leaves_a_placeholder(client, user):
    comment = CommentFactory(author=user, body="My words.")
    reply = CommentFactory(parent=comment, body="A reply to keep.")
    client.force_login(user)

    page = client.get(_url("comment_delete", comment))
    response = client.post(_url("comment_delete", comment))

    assert "Replies to it stay" in _text(page)
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == Comment.Status.DELETED
    assert comment.body == ""
    assert Comment.objects.get(pk=reply.pk).parent_id == comment.pk
    thread = _text(client.get(comment.article.get_absolute_url()))
    assert DELETED in thread
    assert "My words." not in thread
    assert "A reply to keep." in thread


def test_nobody_else_can_delete_a_comment(client, comment, other_user, moderator):
    for intruder in (other_user, moderator):
        client.force_login(intruder)

        assert client.get(_url("comment_delete", comment)).status_code == 403
        assert client.post(_url("comment_delete", comment)).status_code == 403

    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED


# Moderating from the thread.

MODERATION_VIEWS = ["comment_remove", "comment_approve", "comment_restore"]


@pytest.mark.parametrize("view", MODERATION_VIEWS)
@pytest.mark.parametrize("viewer", ["anonymous", "reader", "staff"])
def test_moderation_pages_are_403_for_non_moderators(client, viewer, view):
    """Of a comment they see; one they cannot see is a 404 on every page, as
    tests/test_errors.py checks. Logged out, they are asked to log in."""
    comment = CommentFactory()
    CommentFactory(parent=comment)
    # Pending with a reply: everyone sees its placeholder.
    Comment.objects.filter(pk=comment.pk).update(
        status=Comment.Status.PENDING, fragment_version=""
    )
    if viewer == "reader":
        client.force_login(comment.author)
    elif viewer == "staff":
        client.force_login(UserFactory(is_staff=True))

    page = client.get(_url(view, comment))
    response = client.post(_url(view, comment), {"reason": "Because."})

    if viewer == "anonymous":
        assert page.status_code == response.status_code == 302
        assert page["Location"].startswith("/accounts/login/?next=")
    else:
        assert page.status_code == 403
        assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PENDING
    assert comment.moderated_by is None


def test_remove_page_asks_for_a_reason(client, comment, moderator):
    client.force_login(moderator)

    response = client.get(_url("comment_remove", comment))

    assert response.status_code == 200
    for code in Comment.RemovalReason.values:
        assert f'<input type="radio" name="reason" value="{code}"' in _text(response)
    assert '<input type="text" name="note"' in _text(response)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED


@pytest.mark.parametrize("reason", ["", "   "], ids=["missing", "blank"])
def test_removing_without_a_reason_is_refused_with_400(
    client, comment, moderator, reason
):
    client.force_login(moderator)

    response = client.post(_url("comment_remove", comment), {"reason": reason})

    assert response.status_code == 400
    assert "Choose a reason for the removal." in _text(response)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED


def test_removing_with_a_reason_hides_the_comment(client, comment, moderator):
    client.force_login(moderator)

    response = client.post(
        _url("comment_remove", comment),
        {"reason": "personal", "note": "Posted a phone number"},
    )

    assert response.status_code == 302
    assert response["Location"] == _in_thread(comment)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.REMOVED
    assert comment.moderated_by == moderator
    assert comment.moderated_at is not None
    assert comment.moderation_code == "personal"
    assert comment.moderation_reason == "Posted a phone number"
    client.logout()
    thread = _text(client.get(comment.article.get_absolute_url()))
    # Readers are told the category, never the note.
    assert "Comment removed by a moderator: Personal information." in thread
    assert "phone number" not in thread


def test_other_as_the_reason_needs_a_note(client, comment, moderator):
    client.force_login(moderator)

    response = client.post(_url("comment_remove", comment), {"reason": "other"})

    assert response.status_code == 400
    assert "Say why, for “other”." in _text(response)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED


def test_removing_a_removed_comment_is_refused_with_400(client, comment, moderator):
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="First"
    )
    client.force_login(moderator)

    response = client.post(_url("comment_remove", comment), {"reason": "spam"})

    assert response.status_code == 400
    assert "A comment that is removed cannot become removed." in _text(response)
    comment.refresh_from_db()
    assert comment.moderation_reason == "First"


def test_moderator_approves_a_pending_comment(client, moderator):
    comment = CommentFactory(status=Comment.Status.PENDING)
    client.force_login(moderator)

    page = client.get(_url("comment_approve", comment))
    assert page.status_code == 200
    assert "Approve this comment?" in _text(page)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PENDING

    response = client.post(_url("comment_approve", comment))

    assert response.status_code == 302
    assert response["Location"] == _in_thread(comment)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert comment.moderated_by == moderator
    assert comment.moderated_at is not None


def test_moderator_restores_a_removed_comment(client, comment, moderator):
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="Oops"
    )
    client.force_login(moderator)

    page = client.get(_url("comment_restore", comment))
    assert page.status_code == 200
    assert "Restore this comment?" in _text(page)

    response = client.post(_url("comment_restore", comment))

    assert response.status_code == 302
    assert response["Location"] == _in_thread(comment)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert comment.moderated_by == moderator
    client.logout()
    assert comment.body in _text(client.get(comment.article.get_absolute_url()))


@pytest.mark.parametrize("view", ["comment_approve", "comment_restore"])
def test_approving_or_restoring_a_published_comment_is_refused_with_400(
    client, comment, moderator, view
):
    client.force_login(moderator)

    response = client.post(_url(view, comment))

    assert response.status_code == 400
    assert "A comment that is published cannot become published." in _text(response)
    comment.refresh_from_db()
    assert comment.moderated_by is None


def test_moderating_a_comment_of_another_article_is_404(client, comment, moderator):
    client.force_login(moderator)
    other_article = ArticleFactory()

    response = client.post(
        _url("comment_remove", comment, other_article), {"reason": "Wrong page"}
    )

    assert response.status_code == 404
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED


# Accounts.


def test_signup_creates_an_account_and_logs_in(client):
    response = client.post(
        reverse("signup"),
        {
            "username": "newreader",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": "/articles/some-article/",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/articles/some-article/"
    user = get_user_model().objects.get(username="newreader")
    assert user.check_password(PASSWORD)
    assert client.session[SESSION_KEY] == str(user.pk)


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "http://evil.example"]
)
def test_signup_ignores_a_next_url_on_another_host(client, next_url):
    page = client.get(reverse("signup"), {"next": next_url})
    response = client.post(
        reverse("signup"),
        {
            "username": "newreader",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": next_url,
        },
    )

    assert '<input type="hidden" name="next" value="/">' in _text(page)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_signup_with_mismatched_passwords_is_refused_with_400(client):
    response = client.post(
        reverse("signup"),
        {"username": "newreader", "password1": PASSWORD, "password2": "different"},
    )

    assert response.status_code == 400
    assert "The two password fields didn" in _text(response)
    assert not get_user_model().objects.filter(username="newreader").exists()
    assert SESSION_KEY not in client.session


def test_login_and_logout(client, user):
    page = client.get(reverse("login"))
    response = client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD, "next": "/articles/x/"},
    )

    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == "/articles/x/"
    assert client.session[SESSION_KEY] == str(user.pk)

    assert client.get(reverse("logout")).status_code == 405
    assert SESSION_KEY in client.session
    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert SESSION_KEY not in client.session


def test_login_with_a_wrong_password_fails(client, user):
    response = client.post(
        reverse("login"), {"username": user.username, "password": "wrong"}
    )

    assert response.status_code == 200
    assert "Please enter a correct username and password." in _text(response)
    assert SESSION_KEY not in client.session


def test_a_pending_comment_without_replies_has_no_page_for_other_readers(
    client, article, user, other_user
):
    pending = CommentFactory(article=article, author=user, status="pending")
    url = _url("comment_detail", pending)
    assert client.get(url).status_code == 404
    client.force_login(other_user)
    assert client.get(url).status_code == 404
    client.force_login(user)
    assert client.get(url).status_code == 200


def test_reply_to_a_comment_removed_meanwhile_says_so_once_and_gives_the_text_back(
    client, comment, moderator, user
):
    services.remove_comment(
        comment=comment, moderator=moderator, reason="other", note="Rude"
    )
    client.force_login(user)

    response = client.post(
        _url("comment_reply", comment), {"body": "My careful answer."}
    )

    content = _text(response)
    assert response.status_code == 400
    assert content.count("not open for replies") == 1
    assert element(content, "textarea", id="kept-reply").value == "My careful answer."


def test_no_edit_or_delete_controls_on_ones_own_deleted_comment(client, article, user):
    comment = CommentFactory(article=article, author=user)
    CommentFactory(parent=comment)
    services.delete_comment(comment=comment, user=user)
    client.force_login(user)

    controls = _controls(client.get(article.get_absolute_url()))

    assert controls["edit"] == []
    assert controls["delete"] == []


# Bots: the honeypot on the comment and sign-up forms, and the sign-up form's
# minimum fill time (forum/forms.py)


def _signup_data(**extra):
    return {
        "username": "newreader",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **extra,
    }


@pytest.mark.parametrize("page", ["comment", "signup"])
def test_the_honeypot_is_out_of_sight_and_out_of_the_tab_order(
    client, article, user, page
):
    if page == "comment":
        client.force_login(user)
        url = _create_url(article)
    else:
        url = reverse("signup")

    content = _text(client.get(url))

    box = element(content, "input", name=HONEYPOT_FIELD)
    assert box.attrs["tabindex"] == "-1"
    assert box.attrs["autocomplete"] == "off"
    assert box.attrs.get("value", "") == ""
    # Screen readers still announce it, so its label says what to do.
    honeypot = content[content.index('class="honeypot"') :]
    assert "Leave this field empty" in honeypot[: honeypot.index("</label>")]


def test_the_article_pages_comment_form_has_the_honeypot_too(client, article, user):
    client.force_login(user)

    content = _text(client.get(article.get_absolute_url()))

    assert element(content, "input", name=HONEYPOT_FIELD).attrs["tabindex"] == "-1"


@pytest.mark.parametrize("where", ["comment_create", "comment_reply"])
def test_a_comment_with_the_honeypot_filled_is_refused_quietly(
    client, comment, user, where
):
    client.force_login(user)
    url = (
        _create_url(comment.article)
        if where == "comment_create"
        else _url("comment_reply", comment)
    )

    response = client.post(
        url, {"body": "Great post! Visit my shop.", HONEYPOT_FIELD: "http://shop"}
    )

    assert response.status_code == 400
    assert "honeypot" not in _text(response).lower()
    assert "could not be" in _text(response)
    assert not Comment.objects.filter(body__startswith="Great post!").exists()


def test_an_edit_with_the_honeypot_filled_changes_nothing(client, article, user):
    comment = CommentFactory(article=article, author=user, body="As I wrote it.")
    client.force_login(user)

    response = client.post(
        _url("comment_edit", comment),
        {"body": "Spam now.", HONEYPOT_FIELD: "x"},
    )

    comment.refresh_from_db()
    assert response.status_code == 400
    assert comment.body == "As I wrote it."


def test_a_sign_up_with_the_honeypot_filled_is_refused_quietly(client):
    response = client.post(
        reverse("signup"), _signup_data(**{HONEYPOT_FIELD: "http://bot.example"})
    )

    assert response.status_code == 400
    assert not get_user_model().objects.filter(username="newreader").exists()
    assert SESSION_KEY not in client.session


def test_a_sign_up_sent_right_after_the_page_loaded_is_refused(client, settings):
    settings.FORUM_SIGNUP_MIN_SECONDS = 3
    page = client.get(reverse("signup"))
    started = element(_text(page), "input", name="started").attrs["value"]

    response = client.post(reverse("signup"), _signup_data(started=started))

    assert response.status_code == 400
    assert "too quickly" in _text(response)
    assert not get_user_model().objects.filter(username="newreader").exists()
    # What they typed is still there, with a new start time to try again.
    assert element(_text(response), "input", name="username").attrs["value"] == (
        "newreader"
    )
    assert element(_text(response), "input", name="started").attrs["value"] != (started)


def test_a_sign_up_that_took_a_person_long_enough_goes_through(client, settings):
    settings.FORUM_SIGNUP_MIN_SECONDS = 3

    response = client.post(
        reverse("signup"), _signup_data(started=signup_stamp(time.time() - 5))
    )

    assert response.status_code == 302
    assert get_user_model().objects.filter(username="newreader").exists()


def test_a_sign_up_posted_without_the_page_is_refused(client, settings):
    settings.FORUM_SIGNUP_MIN_SECONDS = 3

    response = client.post(reverse("signup"), _signup_data())

    assert response.status_code == 400
    assert "try again" in _text(response)
    assert not get_user_model().objects.filter(username="newreader").exists()

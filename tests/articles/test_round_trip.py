"""An export imported into an emptied site gives back the same articles and
threads, and importing it again changes nothing."""

import io
import json

import pytest
from django.core.management import call_command

from articles.exporters import comment_key
from articles.models import Article
from forum import services
from forum.models import Comment
from tests.factories import ArticleFactory, CommentFactory, UserFactory

FORMATS = ["json", "wxr"]


@pytest.fixture
def site(db, moderator):
    """Two articles: one whose thread has replies five deep, every state (a
    removal with its reason, an author's deletion with live replies), site users
    and guests with non-ASCII names, an imported comment; one closed."""
    article = ArticleFactory(
        title="Über cats & dogs: “the debate”",
        author_name="Margit Ōkubo",
        lead="Read this <first>.",
        lead_author="Ed Itor",
        source_url="https://review.example/cats",
        body_format="html",
        body="<p>Cats &amp; dogs.</p>\n<p>Ünïcode ]]> too.</p>",
    )
    alice = UserFactory(username="Ålice", email="alice@example.org")
    bob = UserFactory(username="Bob", email="bob@example.org")
    parent = None
    for depth in range(5):
        parent = CommentFactory(
            article=article,
            parent=parent,
            author=(alice, bob)[depth % 2],
            body=f"Level {depth}: <em>ja</em> — ñ & <script>x</script>",
        )
    chain_root = Comment.objects.get(article=article, level=0)
    services.edit_comment(
        comment=chain_root, editor=alice, body="Level 0, edited: ß and ∑."
    )
    imported = services.post_comment(
        article=article,
        parent=chain_root,
        author_name="Zoë Ōkubo",
        body="Imported once, from WordPress.",
        status=Comment.Status.PUBLISHED,
        source_key="wordpress:7",
    )
    # post_comment takes no email or URL: an import stores them.
    Comment.objects.filter(pk=imported.pk).update(
        author_email="zoe@example.jp", author_url="https://zoe.example.jp"
    )
    services.post_comment(
        article=article, parent=imported, author_name="Гость", body="A guest's reply."
    )
    erased = CommentFactory(article=article, author=bob, body="I will regret this.")
    for number in range(2):
        CommentFactory(
            article=article, parent=erased, author=alice, body=f"Reply {number}."
        )
    services.delete_comment(comment=erased, user=bob)
    CommentFactory(
        article=article, author=bob, body="Held back.", status=Comment.Status.PENDING
    )
    CommentFactory(
        article=article, author=None, body="Buy watches.", status=Comment.Status.SPAM
    )
    removed = CommentFactory(article=article, author=bob, body="You are all fools.")
    services.remove_comment(
        comment=removed, moderator=moderator, reason="abuse", note="Name calling."
    )
    closed = ArticleFactory(title="Closed one", author_name="Ånother")
    CommentFactory(article=closed, author=alice, body="First and last.")
    services.close_comments(
        article=closed, moderator=moderator, message="Closed: enough said."
    )
    return [article, closed]


def _articles():
    return [
        (
            a.source_key,
            a.title,
            a.slug,
            a.body,
            a.body_format,
            a.author_name,
            a.lead,
            a.lead_author,
            a.source_url,
            a.published_at,
            a.comments_closed_at,
            a.comments_closed_message,
        )
        for a in Article.objects.order_by("source_key")
    ]


def _key(comment):
    # A comment written here is exported as forum:<id> and keeps that key.
    return comment_key(comment.source_key, comment.pk)


def _trees():
    trees = {}
    for article in Article.objects.order_by("source_key"):
        comments = (
            Comment.objects.filter(article=article)
            .select_related("author", "parent")
            .order_by("tree_id", "lft")
        )
        trees[article.source_key] = [
            (
                comment.level,
                _key(comment),
                comment.parent and _key(comment.parent),
                comment.display_name,
                comment.status,
                comment.body,
                comment.created_at,
                comment.edited_at,
                comment.moderation_code,
                comment.moderation_reason,
            )
            for comment in comments
        ]
    return trees


def _ids():
    return (
        sorted(Article.objects.values_list("pk", flat=True)),
        sorted(Comment.objects.values_list("pk", flat=True)),
    )


def _export(path, *, format):
    call_command(
        "export_articles",
        format=format,
        output=str(path),
        include_emails=True,
        stdout=io.StringIO(),
    )


def _import(path):
    call_command("import_articles", str(path), stdout=io.StringIO())


@pytest.mark.parametrize("format", FORMATS)
def test_an_export_imported_into_an_empty_site_is_the_same_site(site, tmp_path, format):
    articles, trees = _articles(), _trees()
    path = tmp_path / f"site.{format}"
    _export(path, format=format)
    for article in Article.objects.all():
        services.delete_article(article=article)
    assert not Comment.objects.exists()

    _import(path)

    assert _articles() == articles
    assert _trees() == trees
    assert max(depth for depth, *_rest in trees[site[0].source_key]) == 4
    assert Comment.objects.filter(edited_at__isnull=False).count() == 1
    assert Comment.objects.get(source_key="wordpress:7").author_email == (
        "zoe@example.jp"
    )
    assert not services.find_tree_problems()


@pytest.mark.parametrize("format", FORMATS)
def test_importing_the_same_export_again_changes_nothing(site, tmp_path, format):
    path = tmp_path / f"site.{format}"
    _export(path, format=format)
    for article in Article.objects.all():
        services.delete_article(article=article)
    _import(path)
    articles, trees, ids = _articles(), _trees(), _ids()

    _import(path)

    assert (_articles(), _trees(), _ids()) == (articles, trees, ids)


def test_a_json_export_of_the_imported_site_is_the_export_it_came_from(site, tmp_path):
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    _export(first, format="json")
    for article in Article.objects.all():
        services.delete_article(article=article)
    _import(first)

    _export(second, format="json")

    def without_time(path):
        document = json.loads(path.read_text(encoding="utf-8"))
        del document["exported_at"]
        return document

    assert without_time(second) == without_time(first)

"""The article list and the article page (articles/views.py)."""

import gzip
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from forum import services
from forum.models import Comment
from tests.factories import ArticleFactory, CommentFactory
from tests.html import element, elements

pytestmark = pytest.mark.django_db


def _detail_url(slug):
    return reverse("articles:article_detail", kwargs={"slug": slug})


def test_article_list_shows_published_articles_newest_first_in_one_query(
    client, django_assert_num_queries, moderator
):
    now = timezone.now()
    oldest = ArticleFactory(title="The oldest one", published_at=now - timedelta(3))
    newest = ArticleFactory(title="The newest one", published_at=now - timedelta(1))
    middle = ArticleFactory(title="The middle one", published_at=now - timedelta(2))
    ArticleFactory(title="A draft nobody sees", published_at=None)
    ArticleFactory(title="Scheduled for later", published_at=now + timedelta(1))
    for _ in range(3):
        CommentFactory(article=newest)
    hidden = CommentFactory(article=newest)
    services.remove_comment(
        comment=hidden, moderator=moderator, reason="other", note="Rude"
    )
    CommentFactory(article=middle, status=Comment.Status.PENDING)
    CommentFactory(article=oldest)

    with django_assert_num_queries(1):
        response = client.get(reverse("articles:article_list"))

    assert response.status_code == 200
    listed = list(response.context["articles"])
    assert listed == [newest, middle, oldest]
    assert [a.comment_count for a in listed] == [3, 0, 1]
    content = response.content.decode()
    assert "3 comments" in content
    assert "0 comments" in content
    assert "1 comment<" in content
    assert "A draft nobody sees" not in content
    assert "Scheduled for later" not in content


def test_article_list_says_so_when_there_are_no_articles(client):
    response = client.get(reverse("articles:article_list"))

    assert response.status_code == 200
    assert "No articles yet." in response.content.decode()


@pytest.mark.parametrize(
    "published_at",
    [None, timezone.now() + timedelta(days=365)],
    ids=["draft", "scheduled"],
)
def test_article_page_is_404_for_an_unpublished_article(client, published_at):
    article = ArticleFactory(published_at=published_at)

    response = client.get(_detail_url(article.slug))

    assert response.status_code == 404


def test_article_page_is_404_for_an_unknown_slug(client):
    response = client.get(_detail_url("no-such-article"))

    assert response.status_code == 404


def test_article_page_renders_lead_paragraphs_and_subheadings(client):
    article = ArticleFactory(
        title="On reading slowly",
        lead="Why we picked this essay.",
        lead_author="The editors",
        body=(
            "The first paragraph ends here.\n"
            "\n"
            "A second paragraph, also a sentence!\n"
            "After the first reading\n"
            "Then a paragraph below the subheading."
        ),
    )

    response = client.get(_detail_url(article.slug))

    assert response.status_code == 200
    content = response.content.decode()
    assert '<h1 class="article__title">On reading slowly</h1>' in content
    assert "The editors:" in content
    assert "Why we picked this essay." in content
    assert "<p>The first paragraph ends here.</p>" in content
    assert "<p>A second paragraph, also a sentence!</p>" in content
    assert "<h2>After the first reading</h2>" in content
    assert "<p>Then a paragraph below the subheading.</p>" in content


def test_article_page_escapes_the_article_text(client):
    article = ArticleFactory(body="Opening line.\n<script>alert(1)</script> it said.")

    content = client.get(_detail_url(article.slug)).content.decode()

    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt; it said." in content


def test_article_page_counts_only_published_comments(client, article, moderator):
    CommentFactory(article=article)
    CommentFactory(article=article)
    removed = CommentFactory(article=article)
    services.remove_comment(
        comment=removed, moderator=moderator, reason="other", note="Spam"
    )
    CommentFactory(article=article, status=Comment.Status.PENDING)

    response = client.get(_detail_url(article.slug))

    assert response.context["thread"].published == 2
    assert '<h2 id="comments-title" class="discussion__title">2 comments</h2>' in (
        response.content.decode()
    )


def test_article_list_teases_each_article_with_its_opening(client):
    ArticleFactory(
        lead="Peloni: why we picked this one.",
        body=f"{'word ' * 50}ends here.\nThe second paragraph.",
    )

    content = client.get(reverse("articles:article_list")).content.decode()

    assert f'<p class="article-card__teaser">{"word " * 40}…</p>' in content
    assert "Peloni" not in content
    assert "The second paragraph." not in content


def test_article_page_describes_itself_with_its_opening(client):
    opening = "An opening paragraph that goes on " + "and on " * 30 + "to the end."
    article = ArticleFactory(body=f"{opening}\nThe second paragraph.")

    content = client.get(_detail_url(article.slug)).content.decode()

    description = element(content, "meta", name="description").attrs["content"]
    assert len(description) <= 155
    assert description.endswith("…")
    assert opening.startswith(description[:-1].rstrip())


def test_article_list_describes_the_site(client):
    content = client.get(reverse("articles:article_list")).content.decode()

    description = element(content, "meta", name="description").attrs["content"]
    assert "The Reading Room" in description


def test_article_dates_are_valid_html_datetimes(client, settings):
    """HTML allows at most three digits of a second's fraction; |date:'c'
    writes six."""
    settings.TIME_ZONE = "Europe/Helsinki"
    published_at = datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)
    article = ArticleFactory(published_at=published_at)

    for url in (reverse("articles:article_list"), _detail_url(article.slug)):
        content = client.get(url).content.decode()
        [time] = elements(content, "time")
        assert time.attrs["datetime"] == "2024-05-01T12:30:15+03:00"


def test_article_page_is_sent_compressed_to_browsers_that_accept_it(client, article):
    for number in range(30):
        CommentFactory(article=article, body=f"Comment {number}, with some words.")

    plain = client.get(article.get_absolute_url())
    compressed = client.get(article.get_absolute_url(), HTTP_ACCEPT_ENCODING="gzip")

    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed["Vary"]
    assert len(compressed.content) * 3 < len(plain.content)
    assert b"Comment 29, with some words." in gzip.decompress(compressed.content)


def test_an_imported_html_article_shows_its_sanitised_html_and_a_text_description(
    client,
):
    article = ArticleFactory(
        body="<h1>Heading</h1><p>First <em>para</em> &amp; more.</p>"
        "<script>x()</script>",
        body_format="html",
    )
    article.body_html = article.rendered_body()
    article.save()

    page = client.get(article.get_absolute_url()).content.decode()

    assert "<h2>Heading</h2><p>First <em>para</em> &amp; more.</p>" in page
    assert "x()" not in page
    description = element(page, "meta", name="description")
    assert description.attrs["content"] == "First para & more."

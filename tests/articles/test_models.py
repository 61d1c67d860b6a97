"""Articles (articles/models.py)."""

import pytest

from articles.models import Article
from tests.factories import ArticleFactory


def test_opening_is_the_first_paragraph_of_the_body():
    article = Article(
        lead="Editor: not this.",
        body="\n  The first paragraph.  \nA subheading\nThe second paragraph.",
    )

    assert article.opening() == "The first paragraph."


def test_opening_of_an_empty_body_is_empty():
    assert Article(body="\n \n").opening() == ""


TEXT_FIELDS = [
    "title",
    "lead",
    "lead_author",
    "body",
    "source_url",
    "source_key",
    "comments_closed_message",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", TEXT_FIELDS)
def test_a_lone_surrogate_in_a_text_field_is_stored_as_a_replacement_character(
    name,
):
    article = ArticleFactory()
    value = "https://example.com/\ud800" if name == "source_url" else "Half \ud800"

    setattr(article, name, value)
    article.save()
    Article.objects.filter(pk=article.pk).update(**{name: value + "\udfff"})

    article.refresh_from_db()
    assert getattr(article, name) == value.replace("\ud800", "\ufffd") + "\ufffd"


@pytest.mark.django_db
def test_a_lookup_with_a_lone_surrogate_finds_what_was_stored_for_it():
    article = ArticleFactory(source_key="file:caf\udce9", slug="cafe")

    found = Article.objects.get(source_key="file:caf\udce9")
    assert found == article
    assert found.source_key == "file:caf\ufffd"


@pytest.mark.django_db
def test_full_clean_reads_a_lone_surrogate_as_a_replacement_character():
    article = Article(title="T\ud800", slug="t", body="B", source_key="k")

    article.full_clean()

    assert article.title == "T\ufffd"


def test_text_fields_keep_django_s_columns():
    """No migration for the difference: the fields deconstruct as Django's."""
    paths = {
        name: Article._meta.get_field(name).deconstruct()[1]
        for name in [*TEXT_FIELDS, "slug"]
    }

    assert paths == {
        "title": "django.db.models.CharField",
        "lead": "django.db.models.TextField",
        "lead_author": "django.db.models.CharField",
        "body": "django.db.models.TextField",
        "source_url": "django.db.models.URLField",
        "source_key": "django.db.models.CharField",
        "comments_closed_message": "django.db.models.CharField",
        "slug": "django.db.models.SlugField",
    }

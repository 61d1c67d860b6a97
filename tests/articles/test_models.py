"""Articles (articles/models.py)."""

from articles.models import Article


def test_opening_is_the_first_paragraph_of_the_body():
    article = Article(
        lead="Editor: not this.",
        body="\n  The first paragraph.  \nA subheading\nThe second paragraph.",
    )

    assert article.opening() == "The first paragraph."


def test_opening_of_an_empty_body_is_empty():
    assert Article(body="\n \n").opening() == ""

"""The addresses tests post to, by the names the URLconf gives them."""

from django.urls import reverse


def create_url(article):
    return reverse("forum:comment_create", kwargs={"slug": article.slug})


def comment_url(name, comment):
    return reverse(
        f"forum:{name}", kwargs={"slug": comment.article.slug, "pk": comment.pk}
    )

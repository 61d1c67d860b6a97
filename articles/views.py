"""Article pages: the list, and one article with its whole thread."""

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render

from forum.forms import CommentForm
from forum.models import Comment
from forum.thread import prepare_thread

from .models import Article


def article_list(request):
    articles = Article.objects.published().annotate(
        comment_count=Count(
            "comments", filter=Q(comments__status=Comment.Status.PUBLISHED)
        )
    )
    return render(request, "articles/article_list.html", {"articles": articles})


def article_detail(request, slug):
    article = get_object_or_404(Article.objects.published(), slug=slug)
    return render_article(request, article)


def render_article(request, article, *, form=None, status=200):
    """The article page; forum views re-render it with a bound, invalid form."""
    comments = prepare_thread(Comment.objects.thread(article), request.user)
    context = {
        "article": article,
        "comments": comments,
        "comment_count": sum(c.status == Comment.Status.PUBLISHED for c in comments),
        "form": form or CommentForm(),
    }
    return render(request, "articles/article_detail.html", context, status=status)

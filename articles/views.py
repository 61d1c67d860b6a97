"""Article pages: the list, and one article with a page of its thread."""

import dataclasses

from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from forum.forms import CommentForm
from forum.models import Comment
from forum.thread import DEFAULT_SORT, SORTS, NotOnPage, is_shown_to, thread_page

from .models import Article

SORT_SESSION_KEY = "thread_sort"
# Where the thread goes in the rendered page. Nothing a reader writes can
# contain it: comment text and article bodies reach the page escaped.
THREAD_MARKER = "<!--forum:thread-page-->"


def article_list(request):
    articles = Article.objects.published().annotate(
        comment_count=Count(
            "comments", filter=Q(comments__status=Comment.Status.PUBLISHED)
        )
    )
    return render(request, "articles/article_list.html", {"articles": articles})


def _sort(request):
    """?sort= when given (and remembered for the session), else the remembered
    one, else the default."""
    asked = request.GET.get("sort")
    if asked in SORTS:
        if request.session.get(SORT_SESSION_KEY, DEFAULT_SORT) != asked:
            request.session[SORT_SESSION_KEY] = asked
        return asked
    return request.session.get(SORT_SESSION_KEY, DEFAULT_SORT)


def _int_param(request, name):
    value = request.GET.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise Http404(f"{name} must be a number.") from None


def article_detail(request, slug):
    """The article with one page of its thread: ?page=N, or ?comment=ID for the
    page that holds that comment."""
    article = get_object_or_404(Article.objects.published(), slug=slug)
    comment_id = _int_param(request, "comment")
    page = _int_param(request, "page")
    try:
        thread = thread_page(
            article=article,
            user=request.user,
            sort=_sort(request),
            page=1 if page is None else page,
            comment_id=comment_id,
        )
    except Comment.DoesNotExist:
        raise Http404("No such comment in this thread.") from None
    except NotOnPage:
        # Deeper than a page shows it: its own page does. Unless the reader
        # cannot see it at all, which a redirect would give away.
        comment = (
            Comment.objects.only("status", "author_id", "lft", "rght")
            .filter(pk=comment_id)
            .first()  # None if deleted meanwhile
        )
        if comment is None or not is_shown_to(comment, request.user):
            raise Http404 from None
        return redirect("forum:comment_detail", slug=article.slug, pk=comment_id)
    except ValueError:
        raise Http404("No such page.") from None
    context = {
        # The template gets a marker for the thread's HTML, spliced in as bytes
        # below: passed through the template engine's joins and the page's
        # encoding, a megabyte of thread cost more than assembling it.
        "thread": dataclasses.replace(thread, html=mark_safe(THREAD_MARKER)),
        "article": article,
        "canonical_url": request.build_absolute_uri(thread.canonical_path),
        "form": CommentForm(),
    }
    page = render_to_string("articles/article_detail.html", context, request)
    head, marker, tail = page.partition(THREAD_MARKER)
    parts = (head, thread.html, tail) if marker else (page,)
    return HttpResponse(b"".join(part.encode() for part in parts))

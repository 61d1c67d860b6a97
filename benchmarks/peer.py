"""django-comments-xtd, the peer the thread page is measured against: the same
thread shape written into its models, the article page a site using it shows,
and a reply through its own write path (``XtdComment.save()``).

Needs benchmarks/settings.py (django-comments-xtd installed, as in .venv-bench).
"""

from collections import defaultdict

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django_comments.models import Comment as BaseComment
from django_comments_xtd.models import XtdComment

from articles.models import Article
from benchmarks.shapes import thread_shape


def article_detail(request, slug):
    """The article with its whole xtd comment tree, as the package's tutorial
    builds the page: the view passes the object, the template tags do the rest."""
    article = get_object_or_404(Article.objects.published(), slug=slug)
    return render(request, "peer/article_detail.html", {"article": article})


def tree_fields(parents):
    """Per comment of a shape, the (root, level, order, nested_count) that
    ``XtdComment.save()`` leaves once every comment is posted in index order:
    ``order`` is the place in its thread, depth first, replies in posting
    order; ``nested_count`` counts every comment below."""
    children = defaultdict(list)
    for index, parent in enumerate(parents):
        if parent is not None:
            children[parent].append(index)
    size = len(parents)
    root, level, order, nested = [0] * size, [0] * size, [0] * size, [0] * size
    for top in (i for i, parent in enumerate(parents) if parent is None):
        stack, position = [top], 0
        while stack:
            index = stack.pop()
            position += 1
            root[index], order[index] = top, position
            if index != top:
                level[index] = level[parents[index]] + 1
            stack.extend(reversed(children[index]))
    # A parent's index is always smaller than its replies'.
    for index in reversed(range(size)):
        if parents[index] is not None:
            nested[parents[index]] += nested[index] + 1
    return list(zip(root, level, order, nested, strict=True))


def build_thread(*, article, size, text, author_names=50):
    """Give ``article`` an xtd thread of the standard shape, the same text and
    authors as benchmarks.shapes.build_thread gives ours.

    Posting 10,000 comments one by one through ``XtdComment.save()`` takes
    about twenty queries each, so the rows are written in bulk with the values
    save() would have left (see tree_fields). XtdComment is a multi-table
    child of django_comments' Comment, which bulk_create cannot write, so the
    parent rows go through bulk_create and the child rows through one
    executemany.
    """
    parents = thread_shape(size)
    content_type = ContentType.objects.get_for_model(Article)
    now = timezone.now()
    with transaction.atomic():
        rows = BaseComment.objects.bulk_create(
            [
                BaseComment(
                    content_type=content_type,
                    object_pk=str(article.pk),
                    site_id=settings.SITE_ID,
                    user_name=f"reader{index % author_names}",
                    user_email=f"reader{index % author_names}@example.com",
                    comment=text,
                    submit_date=now,
                    is_public=True,
                )
                for index in range(size)
            ],
            batch_size=500,
        )
        values = [
            (row.pk, rows[top].pk, rows[index if up is None else up].pk, *rest)
            for index, (row, up, (top, *rest)) in enumerate(
                zip(rows, parents, tree_fields(parents), strict=True)
            )
        ]
        names = ["comment_ptr", "thread_id", "parent_id", "level", "order"]
        columns = [XtdComment._meta.get_field(name).column for name in names]
        columns += ["nested_count", "followup"]
        quote = connection.ops.quote_name
        sql = (
            f"INSERT INTO {quote(XtdComment._meta.db_table)} "
            f"({', '.join(map(quote, columns))}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        with connection.cursor() as cursor:
            cursor.executemany(sql, [(*row, False) for row in values])
    return [row.pk for row in rows]


def post_reply(*, article, parent_pk, body):
    """A reply the way xtd's comment view ends: one ``XtdComment.save()``."""
    XtdComment(
        content_type=ContentType.objects.get_for_model(Article),
        object_pk=str(article.pk),
        site_id=settings.SITE_ID,
        user_name="x",
        user_email="x@example.com",
        comment=body,
        parent_id=parent_pk,
        submit_date=timezone.now(),
        is_public=True,
    ).save()

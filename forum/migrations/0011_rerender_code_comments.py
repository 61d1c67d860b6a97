"""Render again the stored HTML of comments that use <code>: until now the text
inside it was escaped twice, so "<" showed as "&lt;" (forum/markup.py)."""

from django.db import migrations

BATCH = 500


def _rerender(queryset, model, render, *, extra=None):
    """Store render(body) as body_html where it differs, BATCH rows a write.
    Returns how many rows changed."""
    fields = ["body_html", *(extra or {})]
    changed, batch = 0, []
    rows = queryset.filter(body__icontains="<code").only("pk", "body", "body_html")
    for row in rows.order_by("pk").iterator(chunk_size=BATCH):
        html = render(row.body)
        if html == row.body_html:
            continue
        row.body_html = html
        for name, value in (extra or {}).items():
            setattr(row, name, value)
        batch.append(row)
        if len(batch) == BATCH:
            model.objects.bulk_update(batch, fields)
            changed += len(batch)
            batch = []
    if batch:
        model.objects.bulk_update(batch, fields)
        changed += len(batch)
    return changed


def rerender_code_comments(apps, schema_editor):
    # Today's renderer, not a copy frozen here: the point is its fixed output.
    from forum.markup import render_comment

    Comment = apps.get_model("forum", "Comment")
    CommentRevision = apps.get_model("forum", "CommentRevision")
    # An author's deletion erased the text and its HTML: it stays erased.
    _rerender(
        Comment.objects.exclude(status="deleted").exclude(body=""),
        Comment,
        render_comment,
        # The stored fragments hold the old HTML: stale ones are made again
        # when a page next shows them (forum/thread.py).
        extra={"fragment_version": ""},
    )
    # Earlier versions moderators read were rendered the same way.
    _rerender(CommentRevision.objects.exclude(body=""), CommentRevision, render_comment)


class Migration(migrations.Migration):
    dependencies = [
        ("forum", "0010_moderation_rules_pins_locks"),
    ]

    operations = [
        migrations.RunPython(rerender_code_comments, migrations.RunPython.noop),
    ]

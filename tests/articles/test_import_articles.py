"""import_articles and the bulk writer (articles/importers/writer.py,
forum/services/importing.py): keys, idempotency, the site's moderation,
missing parents, one transaction per article, and issue 8's four defects of
the old plain-text importer, each reproduced first."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from articles.importers import import_article, parse_article_text
from articles.models import Article
from forum import queue, services
from forum.models import Comment, CommentRevision
from tests.factories import ArticleFactory, CommentFactory, UserFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data" / "imports"


def _run(*args, **options):
    """Run the command; (stdout, stderr, error or None)."""
    out, err = StringIO(), StringIO()
    try:
        call_command(
            "import_articles", *map(str, args), stdout=out, stderr=err, **options
        )
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


def _wxr(path, items):
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n'
        "<channel>\n<link>https://blog.example</link>\n"
        "<wp:base_site_url>https://blog.example</wp:base_site_url>\n"
        f"{items}</channel>\n</rss>\n",
        "utf-8",
    )
    return path


def _post(post_id, comments="", *, title="A post", body="<p>Body.</p>"):
    return (
        f"<item><title>{title}</title><link>https://blog.example/?p={post_id}</link>"
        f"<wp:post_id>{post_id}</wp:post_id><wp:post_name>post-{post_id}</wp:post_name>"
        "<wp:post_type>post</wp:post_type><wp:status>publish</wp:status>"
        "<wp:post_date_gmt>2024-03-01 10:00:00</wp:post_date_gmt>"
        f"<content:encoded><![CDATA[{body}]]></content:encoded>\n{comments}</item>\n"
    )


def _comment(comment_id, *, parent="0", text=None, approved="1", date="10:00:00"):
    text = f"Comment {comment_id}." if text is None else text
    return (
        f"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>"
        f"<wp:comment_parent>{parent}</wp:comment_parent>"
        f"<wp:comment_author>Reader {comment_id}</wp:comment_author>"
        f"<wp:comment_date_gmt>2024-03-02 {date}</wp:comment_date_gmt>"
        f"<wp:comment_content><![CDATA[{text}]]></wp:comment_content>"
        f"<wp:comment_approved>{approved}</wp:comment_approved></wp:comment>\n"
    )


def _tree(article):
    """(level, key, status, body) in thread order."""
    return list(
        Comment.objects.filter(article=article)
        .order_by("tree_id", "lft")
        .values_list("level", "source_key", "status", "body")
    )


# The shipped test exports


def test_a_wordpress_export_keeps_nesting_authors_dates_and_statuses():
    out, _err, error = _run(DATA / "wordpress.xml")

    assert error is None
    article = Article.objects.get(source_key="wordpress:https://review.example/?p=12")
    assert article.body_format == "html" and "<em>never</em>" in article.body_html
    tree = {key: (level, status) for level, key, status, _body in _tree(article)}
    assert tree == {
        "wordpress:101": (0, "published"),
        "wordpress:102": (1, "published"),
        "wordpress:103": (2, "published"),
        "wordpress:104": (3, "published"),
        "wordpress:105": (4, "published"),
        "wordpress:106": (0, "pending"),
        "wordpress:107": (1, "spam"),
        "wordpress:108": (0, "removed"),
    }
    fifth = article.comments.get(source_key="wordpress:105")
    assert fifth.author_name == "Margit Håkansson"
    assert fifth.created_at.year == 2024
    assert "1 pingback entries skipped; 1 trackback entries skipped" in out
    assert services.find_tree_problems() == []


def test_held_imported_comments_wait_in_the_moderation_queue(client, moderator):
    _run(DATA / "wordpress.xml")
    client.force_login(moderator)

    held, *_rest = queue.sections()
    page = client.get(reverse("moderation_queue")).content.decode()

    assert held[0] == "Held for approval"
    assert [c.source_key for c in held[1]] == ["wordpress:106"]
    assert "Imported awaiting moderation" in page
    assert "Waiting for approval." in page


def test_a_disqus_thread_joins_the_article_imported_from_the_same_page():
    _run(DATA / "wordpress.xml")
    out, _err, error = _run(DATA / "disqus.xml")

    assert error is None
    article = Article.objects.get(source_key="wordpress:https://review.example/?p=12")
    keys = set(article.comments.values_list("source_key", flat=True))
    assert {"wordpress:101", "disqus:5001", "disqus:5005"} <= keys
    # The deleted Disqus post keeps its place, without text, above its replies.
    placeholder = article.comments.get(source_key="disqus:5002")
    assert (placeholder.status, placeholder.body) == ("deleted", "")
    assert placeholder.get_children().get().source_key == "disqus:5003"
    assert "here but no longer in the source" not in out


def test_imported_html_goes_through_the_comment_sanitiser(tmp_path):
    text = '<script>alert(1)</script><a href="javascript:x()">x</a> <b>ok</b>'
    source = _wxr(
        tmp_path / "x.xml",
        _post(1, _comment(1, text=text), body="<p>Hi<script>alert(2)</script></p>"),
    )

    _run(source)

    comment = Comment.objects.get()
    assert "<script" not in comment.body_html and "javascript:" not in comment.body_html
    assert "<b>ok</b>" in comment.body_html
    assert "<script" not in Article.objects.get().body_html


def test_the_article_page_shows_imported_comments(client, tmp_path):
    source = _wxr(tmp_path / "x.xml", _post(1, _comment(1) + _comment(2, parent="1")))
    _run(source)

    page = client.get(Article.objects.get().get_absolute_url()).content.decode()

    assert "Comment 1." in page and "Comment 2." in page
    assert "Reader 2" in page


# Repeats, newer exports, edits


def test_importing_the_same_file_again_changes_nothing(tmp_path):
    _run(DATA / "wordpress.xml", DATA / "disqus.xml")
    before = list(
        Comment.objects.order_by("pk").values_list(
            "pk", "body", "status", "tree_id", "lft", "rght", "level"
        )
    )

    out, _err, error = _run(DATA / "wordpress.xml", DATA / "disqus.xml")

    assert error is None
    assert "comments: 0 added, 0 updated, 14 unchanged" in out
    after = list(
        Comment.objects.order_by("pk").values_list(
            "pk", "body", "status", "tree_id", "lft", "rght", "level"
        )
    )
    assert after == before


def test_a_newer_export_adds_only_what_is_new_under_the_right_parents(tmp_path):
    first = _comment(1) + _comment(2, parent="1")
    _run(_wxr(tmp_path / "old.xml", _post(7, first)))
    article = Article.objects.get()
    reader = UserFactory()
    site_reply = services.post_comment(
        article=article,
        body="Written here.",
        parent=article.comments.get(source_key="wordpress:2"),
        author=reader,
    )

    newer = first + _comment(3, parent="2") + _comment(4) + _comment(5, parent="4")
    out, _err, _error = _run(_wxr(tmp_path / "new.xml", _post(7, newer)))

    assert "comments: 3 added, 0 updated, 2 unchanged" in out
    assert _tree(article) == [
        (0, "wordpress:1", "published", "Comment 1."),
        (1, "wordpress:2", "published", "Comment 2."),
        (2, "", "published", "Written here."),
        (2, "wordpress:3", "published", "Comment 3."),
        (0, "wordpress:4", "published", "Comment 4."),
        (1, "wordpress:5", "published", "Comment 5."),
    ]
    assert Comment.objects.filter(pk=site_reply.pk).exists()
    assert services.find_tree_problems() == []


def test_an_edit_in_the_source_updates_its_comment_and_keeps_a_revision(tmp_path):
    _run(_wxr(tmp_path / "a.xml", _post(7, _comment(1, text="Teh first."))))
    comment = Comment.objects.get()

    out, _err, _error = _run(
        _wxr(tmp_path / "a.xml", _post(7, _comment(1, text="The first.")))
    )

    comment.refresh_from_db()
    assert comment.body == "The first." and "The first." in comment.body_html
    assert comment.edited_at is not None
    assert CommentRevision.objects.get(comment=comment).body == "Teh first."
    assert "0 added, 1 updated, 0 unchanged" in out


def test_comments_gone_from_the_source_and_written_here_are_never_wiped(tmp_path):
    _run(_wxr(tmp_path / "a.xml", _post(7, _comment(1) + _comment(2))))
    article = Article.objects.get()
    CommentFactory(article=article, body="Mine.")

    out, _err, _error = _run(_wxr(tmp_path / "a.xml", _post(7, _comment(1))))

    assert article.comments.count() == 3
    assert "1 here but no longer in the source (kept)" in out


def test_on_conflict_skip_leaves_an_existing_article_alone(tmp_path):
    _run(_wxr(tmp_path / "a.xml", _post(7, _comment(1), title="Old")))

    out, _err, _error = _run(
        _wxr(tmp_path / "a.xml", _post(7, _comment(1) + _comment(2), title="New")),
        on_conflict="skip",
    )

    assert "skipped “Old”" in out
    assert Article.objects.get().title == "Old" and Comment.objects.count() == 1


def test_status_draft_keeps_new_articles_unpublished(tmp_path):
    _run(_wxr(tmp_path / "a.xml", _post(7)), status="draft")

    assert not Article.objects.get().is_published


# The site's moderation wins


def test_moderation_here_wins_and_a_removed_parent_still_takes_its_replies(
    tmp_path, moderator
):
    """Defect 2: when a comment's parent had been removed by a moderator, the
    parent refused replies and the whole import failed."""
    source = tmp_path / "story.txt"
    source.write_text(
        "The body. Of the story.\n\nFirst comment, long enough.\n", "utf-8"
    )
    _run(source)
    first = Comment.objects.get()
    services.remove_comment(comment=first, moderator=moderator, reason="abuse", note="")

    source.write_text(
        "The body. Of the story.\n\nFirst comment, long enough.\n"
        "@Ann Agreed, and here is why.\n",
        "utf-8",
    )
    _out, _err, error = _run(source)

    assert error is None
    first.refresh_from_db()
    assert first.status == Comment.Status.REMOVED
    reply = Comment.objects.get(parent=first)
    assert reply.body == "@Ann Agreed, and here is why."


def test_a_moderators_removal_survives_an_export_that_says_published(
    tmp_path, moderator
):
    _run(_wxr(tmp_path / "a.xml", _post(7, _comment(1, text="Rude."))))
    comment = Comment.objects.get()
    services.remove_comment(
        comment=comment, moderator=moderator, reason="abuse", note=""
    )

    _run(_wxr(tmp_path / "a.xml", _post(7, _comment(1, text="Rude!"))))

    comment.refresh_from_db()
    assert comment.status == Comment.Status.REMOVED


def test_a_comment_its_author_deleted_here_keeps_no_text_from_a_re_import(tmp_path):
    _run(_wxr(tmp_path / "a.xml", _post(7, _comment(1) + _comment(2, parent="1"))))
    comment = Comment.objects.get(source_key="wordpress:1")
    Comment.objects.filter(pk=comment.pk).update(
        status="deleted", body="", body_html=""
    )

    _run(
        _wxr(
            tmp_path / "a.xml",
            _post(7, _comment(1, text="Changed.") + _comment(2, parent="1")),
        )
    )

    comment.refresh_from_db()
    assert (comment.status, comment.body) == ("deleted", "")


# Missing parents, loops, bad articles


def test_a_comment_whose_parent_is_not_in_the_export_goes_to_the_top_and_is_named(
    tmp_path,
):
    source = _wxr(tmp_path / "a.xml", _post(7, _comment(1) + _comment(2, parent="999")))

    out, _err, error = _run(source)

    assert error is None
    orphan = Comment.objects.get(source_key="wordpress:2")
    assert orphan.parent is None
    assert "1 whose parent is not in the source put at the top level" in out
    assert "comment 2" in out


def test_a_loop_of_parents_is_cut_and_nothing_is_lost(tmp_path):
    source = _wxr(
        tmp_path / "a.xml",
        _post(7, _comment(1, parent="2") + _comment(2, parent="1") + _comment(3)),
    )

    out, _err, error = _run(source)

    assert error is None
    assert Comment.objects.count() == 3
    assert services.find_tree_problems() == []
    assert "put at the top level" in out


def test_one_bad_article_fails_alone_and_the_others_land(tmp_path):
    bad_date = _comment(5, date="not a time")
    source = _wxr(
        tmp_path / "a.xml",
        _post(1, _comment(1)) + _post(2, bad_date) + _post(3, _comment(3)),
    )

    out, err, error = _run(source)

    assert error is not None and "1 article(s) or file(s) could not be imported" in str(
        error
    )
    assert sorted(Article.objects.values_list("source_key", flat=True)) == [
        "wordpress:https://blog.example/?p=1",
        "wordpress:https://blog.example/?p=3",
    ]
    assert "a.xml (line" in err and "FAILED" in err and "post 2" in err
    assert "2 created, 1 failed" in out


def test_hostile_xml_is_refused_naming_the_file_and_line(tmp_path):
    out, err, error = _run(DATA / "billion_laughs.xml")

    assert error is not None
    assert "billion_laughs.xml: FAILED" in err and "Line 3" in err
    assert not Article.objects.exists()


def test_dry_run_reports_what_would_happen_and_writes_nothing(tmp_path):
    _run(_wxr(tmp_path / "a.xml", _post(7, _comment(1))))
    before = (Article.objects.count(), Comment.objects.count())
    newer = _wxr(
        tmp_path / "b.xml",
        _post(7, _comment(1, text="Fixed.") + _comment(2)) + _post(8, _comment(3)),
    )

    out, _err, error = _run(newer, dry_run=True)

    assert error is None
    assert "comments: 1 would be added, 1 would be updated, 0 unchanged" in out
    assert "would be created; comments: 1 would be added" in out
    assert out.splitlines()[-1].startswith("Dry run, nothing written")
    assert (Article.objects.count(), Comment.objects.count()) == before
    assert Comment.objects.get().body == "Comment 1."


def test_progress_is_plain_lines_off_a_terminal(tmp_path, monkeypatch):
    from articles.management.commands import import_articles

    monkeypatch.setattr(import_articles, "LINE_EVERY_SECONDS", 0)
    _out, err, _error = _run(DATA / "wordpress.xml")

    assert "read · " in err and "comments written" in err
    assert "\r" not in err


def test_a_folder_imports_every_file_in_it(tmp_path):
    folder = tmp_path / "exports"
    (folder / "deeper").mkdir(parents=True)
    shutil.copy(DATA / "wordpress.xml", folder / "deeper" / "wordpress.xml")
    (folder / "story.txt").write_text("A story. Told.\n\nA comment.\n", "utf-8")
    (folder / "picture.png").write_bytes(b"\x89PNG")

    out, _err, error = _run(folder)

    assert error is None
    assert Article.objects.count() == 4


# Defect 1: article keys


def test_two_files_with_one_name_in_two_folders_are_two_articles(tmp_path):
    """Defect 1: the key was file:<stem>, so b/story.txt overwrote a/story.txt."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "story.txt").write_text(
        "Rain fell in Leeds. All day.\n\nWet comment.\n", "utf-8"
    )
    (tmp_path / "b" / "story.txt").write_text(
        "Sun shone in Rome. All week.\n\nDry comment.\n", "utf-8"
    )

    _run(tmp_path / "a" / "story.txt")
    _run(tmp_path / "b" / "story.txt")

    assert sorted(Article.objects.values_list("title", flat=True)) == [
        "Rain fell in Leeds",
        "Sun shone in Rome",
    ]
    leeds = Article.objects.get(title="Rain fell in Leeds")
    assert list(leeds.comments.values_list("body", flat=True)) == ["Wet comment."]


def test_a_key_clash_is_an_error_naming_both_sources(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "story.txt").write_text("Same title. One text.\n", "utf-8")
    (tmp_path / "b" / "story.txt").write_text("Same title. Another text.\n", "utf-8")

    _run(tmp_path / "a" / "story.txt")
    _out, err, error = _run(tmp_path / "b" / "story.txt")

    assert error is not None
    assert str(tmp_path / "b" / "story.txt") in err
    assert str(tmp_path / "a" / "story.txt") in err
    assert Article.objects.get().body == "Same title. One text."


def test_a_key_clash_within_one_run_names_both_and_the_first_lands(tmp_path):
    (tmp_path / "one.md").write_text("---\ntitle: T\nkey: k\n---\nOne.\n", "utf-8")
    (tmp_path / "two.md").write_text("---\ntitle: T2\nkey: k\n---\nTwo.\n", "utf-8")

    _out, err, error = _run(tmp_path / "one.md", tmp_path / "two.md")

    assert error is not None
    assert "two.md" in err and "one.md" in err and "“k”" in err
    assert Article.objects.get().body == "One."


def test_giving_a_source_url_later_updates_the_same_article():
    """Defect 1: adding --source-url later made a second copy."""
    parsed = parse_article_text("A story. Told.\n\nA comment.\n")
    import_article(parsed, source_key="text:a-story")

    import_article(
        parsed, source_key="text:a-story", source_url="https://example.com/story"
    )

    assert Article.objects.get().source_url == "https://example.com/story"
    assert Comment.objects.count() == 1


def test_a_corrected_first_sentence_updates_the_article_it_came_from(tmp_path):
    source = tmp_path / "story.txt"
    source.write_text("Teh story. Told.\n\nA comment.\n", "utf-8")
    _run(source)
    source.write_text("The story. Told.\n\nA comment.\n", "utf-8")

    _run(source)

    assert Article.objects.get().title == "The story"
    assert Comment.objects.count() == 1


# Defect 3: plain-text comment keys


STORY = "The story. Told.\n\n"


def test_a_twin_reply_added_earlier_does_not_move_later_replies(tmp_path):
    """Defect 3: keys were text hashes with occurrence suffixes and parents list
    positions, so a third "Agree, totally." earlier in the file shifted the
    suffixes and put a new reply under the wrong parent."""
    source = tmp_path / "story.txt"
    source.write_text(
        STORY + "Cats are best.\nAgree, totally.\n\nDogs are best.\nAgree, totally.\n",
        "utf-8",
    )
    _run(source)
    dogs = Comment.objects.get(body="Dogs are best.")
    source.write_text(
        STORY
        + "Birds are best.\nAgree, totally.\n\n"
        + "Cats are best.\nAgree, totally.\n\n"
        + "Dogs are best.\nAgree, totally.\n@Bob Agree, totally, and more.\n",
        "utf-8",
    )

    out, _err, error = _run(source)

    assert error is None
    assert "comments: 3 added, 0 updated, 4 unchanged" in out
    by_parent = {
        top.body: sorted(top.get_descendants().values_list("body", flat=True))
        for top in Comment.objects.filter(parent=None)
    }
    assert by_parent == {
        "Birds are best.": ["Agree, totally."],
        "Cats are best.": ["Agree, totally."],
        "Dogs are best.": ["@Bob Agree, totally, and more.", "Agree, totally."],
    }
    assert Comment.objects.get(body="Dogs are best.").pk == dogs.pk


def test_a_typo_fixed_in_the_source_updates_the_comment_instead_of_adding_one(
    tmp_path,
):
    """Defect 3: fixing a typo in the source created a duplicate comment."""
    source = tmp_path / "story.txt"
    source.write_text(STORY + "Thsi is a long enough comment about it.\n", "utf-8")
    _run(source)
    comment = Comment.objects.get()
    source.write_text(STORY + "This is a long enough comment about it.\n", "utf-8")

    out, _err, _error = _run(source)

    assert Comment.objects.count() == 1
    comment.refresh_from_db()
    assert comment.body == "This is a long enough comment about it."
    assert "0 added, 1 updated" in out
    # And its key now follows the text, so a third run changes nothing.
    out, _err, _error = _run(source)
    assert "0 added, 0 updated, 1 unchanged" in out


def test_seed_comments_imported_under_old_keys_are_recognised(tmp_path):
    """Sites that imported the seed before keys took in the parent's key get
    no duplicates: each comment is matched by its parent and text."""
    source = tmp_path / "story.txt"
    source.write_text(STORY + "Top.\n@A A reply here.\n", "utf-8")
    _run(source)
    for number, comment in enumerate(Comment.objects.all()):
        Comment.objects.filter(pk=comment.pk).update(source_key=f"text:old{number}")

    out, _err, _error = _run(source)

    assert Comment.objects.count() == 2
    assert "0 added, 0 updated, 2 unchanged" in out


def test_html_paragraphs_of_a_disqus_post_become_paragraphs_not_visible_tags():
    _run(DATA / "disqus.xml")

    comment = Comment.objects.get(source_key="disqus:5003")

    assert comment.body.startswith("Cats &amp; only cats")
    assert "<p>" not in comment.body
    assert "&lt;p&gt;" not in comment.body_html
    assert comment.body_html.startswith("<p>Cats &amp; only cats")


def test_a_wordpress_comment_with_paragraph_tags_and_breaks_reads_as_paragraphs(
    tmp_path,
):
    text = "<p>One.<br/>Still one.</p>\n<p>Two <em>here</em>.</p>"
    _run(_wxr(tmp_path / "a.xml", _post(7, _comment(1, text=text))))

    comment = Comment.objects.get()

    assert comment.body == "One.\nStill one.\n\nTwo <em>here</em>."
    assert comment.body_html == "<p>One.<br>\nStill one.</p>\n<p>Two <em>here</em>.</p>"


def test_progress_is_a_bar_on_a_terminal():
    class Terminal(StringIO):
        def isatty(self):
            return True

    out, err = StringIO(), Terminal()
    call_command("import_articles", str(DATA / "wordpress.xml"), stdout=out, stderr=err)

    assert "\r[" in err.getvalue() and "100% read" in err.getvalue()
    # Wiped before each article's line and at the end, so no bar is left over.
    assert err.getvalue().endswith("\r\033[K")
    assert "created" in out.getvalue()


def _json_export(tmp_path, **change):
    """Our own export of one article with one comment, ``change`` applied to
    the comment."""
    import json

    article = ArticleFactory()
    CommentFactory(article=article, body="Fine.")
    path = tmp_path / "export.json"
    call_command("export_articles", "--output", str(path), stdout=StringIO())
    document = json.loads(path.read_text("utf-8"))
    document["articles"][0]["comments"][0].update(change)
    document["articles"][0]["key"] = "elsewhere:1"
    document["articles"][0]["slug"] = "elsewhere"
    services.delete_article(article=article)
    path.write_text(json.dumps(document), "utf-8")
    return path


def test_a_nul_in_imported_text_is_stored_as_a_replacement_character(tmp_path):
    _out, _err, error = _run(_json_export(tmp_path, body="Half\u0000way."))

    assert error is None
    assert Comment.objects.get().body == "Half\ufffdway."


def test_an_unknown_moderation_reason_fails_its_article_naming_the_comment(tmp_path):
    _out, err, error = _run(_json_export(tmp_path, moderation_code="x" * 40))

    assert error is not None
    assert "comments[0]" in err and "off_topic" in err and "x" * 40 in err
    assert not Article.objects.exists()

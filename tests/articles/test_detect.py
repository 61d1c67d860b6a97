"""Guessing an import file's format from its first bytes."""

from pathlib import Path

import pytest

from articles.importers.detect import HEAD_BYTES, detect_format

DATA = Path(__file__).resolve().parent.parent / "data" / "imports"


def _head(name):
    with open(DATA / name, "rb") as file:
        return file.read(HEAD_BYTES)


def test_a_wordpress_export_is_wxr():
    assert detect_format(_head("wordpress.xml")) == "wxr"


def test_a_disqus_export_is_disqus():
    assert detect_format(_head("disqus.xml")) == "disqus"


def test_a_disqus_export_after_a_byte_order_mark_and_a_comment_is_disqus():
    head = b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- dump -->\n<disqus xmlns="x">'

    assert detect_format(head) == "disqus"


def test_other_xml_goes_to_the_wxr_reader_which_says_what_is_wrong():
    assert detect_format(b'<?xml version="1.0"?>\n<feed></feed>') == "wxr"


@pytest.mark.parametrize("head", [b'{"articles": []}', b'\n  [{"title": "A"}]'])
def test_an_object_or_a_list_is_json(head):
    assert detect_format(head) == "json"


@pytest.mark.parametrize("head", [b"---\ntitle: A\n---\nBody", b"---\r\ntitle: A"])
def test_front_matter_at_the_very_start_is_markdown(head):
    assert detect_format(head) == "markdown"


@pytest.mark.parametrize(
    "head",
    [b"Editor: a note.\nThe body.", b"Body.\n---\nA rule, not front matter.", b""],
)
def test_anything_else_is_text(head):
    assert detect_format(head) == "text"

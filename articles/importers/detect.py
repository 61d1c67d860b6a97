"""Guessing an import file's format from its first few kilobytes."""

import re

HEAD_BYTES = 4096

# The root element's name, after any declaration, comments and doctype.
XML_ROOT = re.compile(rb"<(?![?!])(?:[\w.-]+:)?([\w.-]+)")


def detect_format(head: bytes) -> str:
    """ "wxr", "disqus", "json", "markdown" or "text", from a file's first bytes.

    Any XML that is not a Disqus export is taken for WXR, so that the WXR
    reader says what is wrong with it instead of the text importer taking
    markup for prose.
    """
    head = head.removeprefix(b"\xef\xbb\xbf")
    start = head.lstrip()
    if start.startswith(b"<"):
        root = XML_ROOT.search(start)
        if root and root.group(1) == b"disqus":
            return "disqus"
        return "wxr"
    if start.startswith((b"{", b"[")):
        return "json"
    # Front matter must open the file: a "---" further down is a rule.
    if head.startswith((b"---\n", b"---\r\n")):
        return "markdown"
    return "text"

"""Read a rendered page the way tests look at it: its elements with their
attributes, and what each text box holds, as a browser would show it."""

import re
from dataclasses import dataclass
from html.parser import HTMLParser


@dataclass
class Element:
    tag: str
    attrs: dict
    # Collected for <textarea> only: the text a browser puts in the box.
    value: str = ""


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.elements.append(element)
        if tag == "textarea":
            self._textarea = element

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            # HTML drops one line break right after <textarea>.
            if self._textarea.value.startswith("\n"):
                self._textarea.value = self._textarea.value[1:]
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data


def elements(content, tag=None, **attrs):
    """Every element of ``content``, or those with ``tag`` and ``attrs``."""
    collector = _Collector()
    collector.feed(content)
    collector.close()
    return [
        element
        for element in collector.elements
        if (tag is None or element.tag == tag)
        and all(element.attrs.get(name) == value for name, value in attrs.items())
    ]


def element(content, tag, **attrs):
    """The one element with ``tag`` and ``attrs``; fails on none or several."""
    found = elements(content, tag, **attrs)
    assert len(found) == 1, f"{len(found)} <{tag} {attrs}> elements in the page"
    return found[0]


def comment_fragment(content, pk):
    """Comment ``pk``'s <article> in a page's HTML; fails when it is not there."""
    match = re.search(
        rf'<article class="comment[^"]*" data-comment="{pk}".*?</article>',
        content,
        re.DOTALL,
    )
    assert match, f"comment {pk} is not on the page"
    return match.group(0)

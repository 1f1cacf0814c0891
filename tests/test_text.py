"""genre_app/text.py: dataset and user text escaped so that Markdown shows it exactly as written (checked by
rendering it with a CommonMark renderer, as the browser's Markdown would)."""

from __future__ import annotations

import html
import re

import pytest
from markdown_it import MarkdownIt

from genre_app.text import escape_markdown

RENDERER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
HOSTILE = [
    "![](https://example.invalid/beacon.png?user=visitor)",
    "Your session expired: [log in again](https://evil.example/login)",
    "tt0000001](https:evil.example) [x",
    "<img src=https://example.invalid/x.png> <b>bold</b> &amp; &#60;",
    "1. a list\n# a heading\n---\n> a quote\n- an item",
    "*emphasis* _emphasis_ `code` ~~struck~~ | a | table |",
    "<https://example.invalid/autolink> https://example.invalid/bare",
    ":red[coloured] :material/home: $x^2$ \\* a backslash",
]


def rendered_text(markdown: str) -> str:
    """The text a reader sees of rendered Markdown: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", RENDERER.render(markdown))).split())


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_renders_as_written_without_images_links_or_markup(text):
    page = RENDERER.render(escape_markdown(text))
    tags = set(re.findall(r"<(\w+)", page))
    assert tags <= {"p", "br"}, page  # no img, a, em, code, h1, ol, blockquote, table...
    assert rendered_text(escape_markdown(text)) == " ".join(text.split())


def test_escaping_leaves_plain_words_as_they_are():
    assert escape_markdown("A detective hunts a killer") == "A detective hunts a killer"

"""Dataset and user text (overviews, Ids, genre names, file names) shown as text, never as Markdown or HTML.

An overview holding ``![](https://...)`` would otherwise make every visitor's browser fetch an outside image,
and an Id holding ``](...)`` would turn a film's link into a link elsewhere. Where such text sits inside a
Markdown line (a bold label before it, a caption), escape_markdown makes every mark literal; on its own it goes
through st.text.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character: CommonMark lets a backslash make each of them literal, which also
# covers Streamlit's own marks (":red[...]", ":material/...:", "$...$" for LaTeX) and GitHub's autolinks.
MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def escape_markdown(text: object) -> str:
    """Return text that Markdown shows exactly as written: every punctuation mark backslash-escaped, and line
    breaks kept as breaks (a blank line would otherwise start a paragraph the text did not have)."""
    escaped = MARKDOWN_PUNCTUATION.sub(r"\\\1", str(text))
    return re.sub(r"\s*\n\s*", "  \n", escaped.strip())

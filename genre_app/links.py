"""Links: a page's choices kept in its address (query parameters), checked before a widget drops an unknown
value, and the films' IMDb links, built so that no Id can turn them into a link elsewhere."""

from __future__ import annotations

from urllib.parse import quote

import streamlit as st

from genre_app.text import escape_markdown

# Where IMDb shows a title; the dataset's Ids are IMDb title Ids (tt0000000).
IMDB_TITLE_URL = "https://www.imdb.com/title/{}/"

# Longest URL value quoted back in a warning (an address can hold anything).
MAX_QUOTED_URL_VALUE = 80

# --- Links you can share --------------------------------------------------------------------------------------------
# A page keeps its choices in the URL by binding each widget to a query parameter (bind="query-params", the
# widget's key naming the parameter): a copied URL opens the same view. A bound widget silently drops a value
# it does not offer; warn_about_unknown_link_values says so first.

def quote_in_code_span(value: str, limit: int) -> str:
    """Return an address value to show inside a Markdown code span: cut to ``limit`` characters, its backticks
    (which would close the span) made quotes, and its line breaks spaces (a blank line would end the span's
    paragraph, and what follows would render as Markdown)."""
    return " ".join(str(value).replace("`", "'").split())[:limit]


def warn_about_unknown_link_values(parameter: str, allowed, what: str,
                                   instead: str = "so the page shows its default instead") -> list[str]:
    """Warn about the values of a URL query parameter that the page cannot show (a link naming a model that
    is not installed here, say), before the widget bound to it falls back to its default; return them.

    ``allowed``: the values offered, or a function telling whether a value is acceptable (numbers);
    ``instead``: what the page does about it."""
    accepts = allowed if callable(allowed) else (lambda value, offered=set(map(str, allowed)): value in offered)
    unknown = [value for value in st.query_params.get_all(parameter) if not accepts(value)]
    if unknown:
        # Shown as code, cut short and without backticks: the value comes from whoever wrote the link.
        named = ", ".join(f"`{quote_in_code_span(value, 60)}`" for value in unknown)
        offered = "" if callable(allowed) else f" Available: {', '.join(map(str, allowed))}."
        st.warning(f"This link asks for {what} {named} (`{parameter}=` in the address), which this page cannot "
                   f"show here, {instead}.{offered}")
    return unknown


def is_whole_number_between(low: int, high: int | None = None):
    """Return a check that a URL value is a whole number in [low, high] (no upper bound when high is None)."""
    def accepts(value: str) -> bool:
        try:
            number = int(value)
        except ValueError:
            return False
        return number >= low and (high is None or number <= high)

    return accepts


def imdb_url(film_id: str) -> str:
    """Return the IMDb page of a film (the Id is quoted, so an odd Id cannot break the link)."""
    return IMDB_TITLE_URL.format(quote(str(film_id), safe=""))


def imdb_link(film_id: str) -> str:
    """Return a Markdown link to the film's IMDb page, labelled with its Id: the label escaped and the address
    quoted, so an Id such as ``tt1](https://elsewhere) [x`` stays one link, to IMDb, showing that Id."""
    return f"[{escape_markdown(film_id)}]({imdb_url(film_id)})"


def read_url_choice(parameter: str, is_known, what: str, fallback: str) -> str | None:
    """Return the value of the address's query parameter ``parameter`` (``?film=tt0086465``) when
    ``is_known(value)``; an unknown value is taken out of the address with a warning naming it and
    ``fallback`` (what the page shows instead), and None is returned, as when there is none."""
    value = st.query_params.get(parameter)
    if value is None:
        return None
    if is_known(value):
        return value
    # Quoted in a code span with its backticks replaced, so the address cannot inject Markdown.
    shown = quote_in_code_span(value, MAX_QUOTED_URL_VALUE)
    st.warning(f"The address asks for {what} `{shown}`, which does not exist here; {fallback}.")
    del st.query_params[parameter]
    return None

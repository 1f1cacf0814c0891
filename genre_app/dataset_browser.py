"""The Dataset browser's parts: the filters, a page of film cards, the table of every match, a film's details
dialog (its models' answers, said to be on a film they learned from or never saw) and the dataset's charts.

Every overview, Id and genre name is shown as text (genre_app.text), never as Markdown.
"""

from __future__ import annotations

import streamlit as st

from genre_app import dataset_charts, explanation_cache, films, models, posters, similar_view
from genre_app.text import escape_markdown
from genre_app.explanations import explanation_panel

PAGE_SIZE = 12
# Cards per row; each row is its own set of columns, so cards line up and keep their order on a phone.
CARDS_PER_ROW = 4
POSTER_WIDTH = 110
# Overviews on a card are cut to about this many characters (the whole one is in the film's details).
CARD_OVERVIEW_CHARACTERS = 150
# The page's views: film cards with posters, a table of every matching film, the dataset's charts.
VIEWS = ["Cards", "Table", "Charts"]
TABLE_HEIGHT = 640
# The address parameter naming the opened film.
FILM_PARAMETER = "film"
# Session key counting the film table's versions: a new key clears its selected row once the film is closed.
TABLE_VERSION = "browser-table-version"
# What the models' answers for a film are worth, by the film's split.
SPLIT_NOTES = {
    "train": "The models learned from this film (it is in the training split): their answers for it are better "
             "than they would be for a film they have never seen.",
    "validation": "The models never learned from this film (validation split: it only helped choose their "
                  "thresholds and best epoch), so their answers are honest.",
    "test": "The models never saw this film (test split), so their answers are as for a new film.",
}


def short(text: str, limit: int = CARD_OVERVIEW_CHARACTERS) -> str:
    """Return a text cut at a word boundary to about ``limit`` characters."""
    text = str(text)
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def describe_split(split: str) -> str:
    """Say what the models' answers for a film of this split are worth (they learned from training films)."""
    return SPLIT_NOTES.get(split, f"This film is in the {split} split.")


def close_film() -> None:
    """Closing the details dialog forgets the film (address and the table's selected row)."""
    st.query_params.pop(FILM_PARAMETER, None)
    st.session_state[TABLE_VERSION] = st.session_state.get(TABLE_VERSION, 0) + 1


def go_to_first_page() -> None:
    """A new filter starts from the first page of its matches."""
    st.session_state["browser-page"] = 1


@st.dialog("Film details", width="large", on_dismiss=close_film)
def show_film(dataset, film_id: str) -> None:
    """The film's poster and facts, every model's answer (computed once per film) with what it is worth for
    this film's split, explanations, and similar films on demand. A dialog reruns on its own: switching the
    explained model never reruns the page behind it."""
    film = films.find_film(dataset, film_id)
    left, right = st.columns([1, 2])
    poster = posters.show_poster(film.poster, width=220, caption=f"Poster of {film.id}", container=left)
    right.markdown(f"### {film.link}")
    right.text(film.overview)
    right.markdown("**Genres:** " + escape_markdown(", ".join(film.genres)))
    right.markdown(f"**Split:** {escape_markdown(film.split)}")
    if models.predictor().models:
        show_film_answers(film, poster, right)
    else:
        right.info("No usable model is installed; see the Home page.")
    similar_view.show_similar_to_film(dataset, film.id, key="browser-similar")


def show_film_answers(film, poster, right) -> None:
    """Every model's answer for a film, what it is worth for the film's split, and explanations."""
    result = films.film_answers(film, poster)
    # Beside the answers, what they are worth: a training film's answers flatter the models.
    (right.warning if film.split == "train" else right.info)(describe_split(film.split))
    in_use = models.predictor()
    thresholds = {loaded.name: dict(zip(loaded.genres, loaded.thresholds)) for loaded in in_use.models}
    right.markdown(films.describe_answers(result.predictions, thresholds))
    if result.predictions:
        explained = st.selectbox("Explain a model's answer", [p.model for p in result.predictions],
                                 key="browser-explain-model")
        chosen = next(p for p in result.predictions if p.model == explained)
        explanation_panel(
            explained, models.predictor().get(explained).genres, chosen.top[0] if chosen.top else None,
            lambda genre: explanation_cache.explanation(explained, poster, film.overview, genre), poster,
            key="browser-explain")


def choose_films(dataset):
    """The filters (the same keys in the cards and the table, so switching keeps them); return the matches."""
    filters = st.columns([3, 1, 3])
    chosen = filters[0].multiselect("Genres", dataset.genres, key="browser-genres", on_change=go_to_first_page)
    match = filters[1].radio("Match", ["any", "all"], horizontal=True, key="browser-match",
                             on_change=go_to_first_page)
    query = filters[2].text_input("Search overviews", placeholder="e.g. vampire", key="browser-search",
                                  on_change=go_to_first_page)
    return films.filter_films(dataset, chosen, match, query)


@st.fragment
def show_cards(dataset, rows, opened: list[str]) -> None:
    """A page of film cards, each as tall as its text (nothing clipped); paging reruns only this part."""
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = st.columns([1, 3])[0].number_input(f"Page (of {pages}; {len(rows):,} films match)", min_value=1,
                                              max_value=pages, key="browser-page")
    shown = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    clicked = None
    for start in range(0, len(shown), CARDS_PER_ROW):
        for column, row in zip(st.columns(CARDS_PER_ROW), shown[start:start + CARDS_PER_ROW]):
            film = films.film_at(dataset, row)
            with column.container(border=True, key=f"card-{film.row}"):
                posters.show_poster(film.poster, width=POSTER_WIDTH, alt=f"Poster of {film.id}")
                # Right under the poster, so the buttons of a row line up whatever the text below.
                if st.button("Open details", key=f"open-{film.id}", width="stretch"):
                    clicked = film.id
                st.markdown(f"**{film.link}** · {escape_markdown(', '.join(film.genres))}")
                st.caption(escape_markdown(short(film.overview)))
    if clicked:
        open_film(dataset, clicked, opened)


@st.fragment
def show_table(dataset, rows, opened: list[str]) -> None:
    """Every matching film, one row each: clicking a row opens the film (and reruns only this part)."""
    st.markdown(f"**{len(rows):,} films match**: click a row to open the film.")
    # A new key once the film is closed: the row clicked before is no longer selected.
    table_key = f"browser-table-{st.session_state.get(TABLE_VERSION, 0)}"
    chosen = st.dataframe(films.film_table(dataset, rows), key=table_key, hide_index=True, height=TABLE_HEIGHT,
                          on_select="rerun", selection_mode="single-row", alt="Every film matching the filters",
                          column_config={"overview": st.column_config.TextColumn("overview", width="large")})
    if chosen.selection.rows:
        open_film(dataset, str(dataset.ids[rows[chosen.selection.rows[0]]]), opened)


def open_film(dataset, film_id: str, opened: list[str]) -> None:
    """Open a film's details dialog; the address names the film, so a reload or a shared link opens it again.

    Called from the part of the page that was clicked (the cards or the table, each a fragment), so opening
    a film reruns neither the rest of the page nor the other part; ``opened`` notes it for this run."""
    st.query_params[FILM_PARAMETER] = film_id
    opened.append(film_id)
    show_film(dataset, film_id)


def show_charts(dataset) -> None:
    """The dataset's charts: films per genre, genres per film, co-occurrence, overview lengths, split sizes."""
    first, second = st.columns(2)
    first.markdown("**Films per genre**")
    first.vega_lite_chart(dataset_charts.build_films_per_genre(dataset), width="stretch", key="per-genre")
    second.markdown("**Genres per film**")
    second.vega_lite_chart(dataset_charts.build_genres_per_film(dataset), width="stretch", key="per-film")
    first.markdown("**Genre co-occurrence** (films labelled with both; a genre's own count is in the bars above)")
    first.vega_lite_chart(dataset_charts.build_cooccurrence(dataset), width="stretch", key="cooccurrence")
    second.markdown("**Overview length**")
    second.vega_lite_chart(dataset_charts.build_overview_lengths(dataset), width="stretch", key="lengths")
    st.markdown("**Films per genre in each split** (train/validation/test from a hash of the Id)")
    st.vega_lite_chart(dataset_charts.build_split_sizes(dataset), width="stretch", key="splits")

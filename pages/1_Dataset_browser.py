"""Dataset browser: filter and page through the films, open one, and read the dataset's charts."""

from __future__ import annotations

import numpy as np
import streamlit as st

from genre_app import charts, state, widgets

st.set_page_config(page_title="Dataset browser", layout="wide")
st.title("Dataset browser")

dataset, problem = state.dataset()
if dataset is None:
    st.warning(f"No dataset is available. {problem}")
    st.caption(state.data_setting_help())
    st.stop()

PAGE_SIZE = 12
# Cards per row; each row is its own set of columns, so cards line up and keep their order on a phone.
CARDS_PER_ROW = 4
# Overviews on a card are cut to about this many characters (the whole one is in the film's details).
CARD_OVERVIEW_CHARACTERS = 160


def open_film(film_id: str) -> None:
    """Open a film's details (a card's button): select it in the "Open a film" box."""
    st.session_state["browser-film"] = film_id


def short(text: str, limit: int = CARD_OVERVIEW_CHARACTERS) -> str:
    """Return a text cut at a word boundary to about ``limit`` characters."""
    text = str(text)
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"

# Only the chosen view is built: hidden tabs would still draw every chart and slow the page down.
view = st.segmented_control("View", ["Films", "Charts"], default="Films", key="view") or "Films"

if view == "Films":
    filters = st.columns([3, 1, 3])
    chosen = filters[0].multiselect("Genres", dataset.genres)
    match = filters[1].radio("Match", ["any", "all"], horizontal=True)
    query = filters[2].text_input("Search overviews", placeholder="e.g. vampire")
    mask = np.ones(dataset.num_films, dtype=bool)
    if chosen:
        columns = [dataset.genres.index(g) for g in chosen]
        selected = dataset.labels[:, columns] == 1
        mask &= selected.all(axis=1) if match == "all" else selected.any(axis=1)
    if query.strip():
        needle = query.strip().lower()
        mask &= np.array([needle in str(text).lower() for text in dataset.overviews])
    matches = np.flatnonzero(mask)
    pages = max(1, int(np.ceil(len(matches) / PAGE_SIZE)))
    page = st.number_input(f"Page (of {pages}; {len(matches):,} films match)", min_value=1, max_value=pages, value=1)
    shown = matches[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    for start in range(0, len(shown), CARDS_PER_ROW):
        for column, row in zip(st.columns(CARDS_PER_ROW), shown[start:start + CARDS_PER_ROW]):
            film = widgets.film_at(dataset, row)
            with column.container(border=True):
                widgets.show_poster(film.poster, width=120, caption=film.id)
                st.markdown(f"**{film.link}** · {', '.join(film.genres)}")
                st.caption(short(film.overview))
                st.button("Open details", key=f"open-{film.id}", on_click=open_film, args=(str(film.id),))

    if len(matches):
        st.divider()
        choices = [str(dataset.ids[row]) for row in matches[:500]]
        opened = st.session_state.get("browser-film")
        if opened is not None and opened not in choices:
            if opened in {str(dataset.ids[row]) for row in matches}:
                choices.append(opened)  # a card beyond the first 500
            else:
                del st.session_state["browser-film"]  # filtered out since it was opened
        film_id = st.selectbox("Open a film", choices, key="browser-film",
                               help="The first 500 matching films, or click a card's Open details.")
        film = widgets.find_film(dataset, film_id)
        left, right = st.columns([1, 2])
        poster = widgets.show_poster(film.poster, width=220, caption=f"Poster of {film.id}", container=left)
        right.markdown(f"### {film.link}")
        right.write(film.overview)
        right.markdown("**Genres:** " + ", ".join(film.genres))
        right.markdown(f"**Split:** {film.split}")
        predictor = state.predictor()
        if predictor.models:
            # A poster that cannot be decoded leaves the overview models to answer.
            result = predictor.predict(poster=poster, overview=film.overview)
            # One line per model, wrapped rather than cut off as a table's cells were.
            right.markdown("**What the models answer** (top 3 · genres over the model's threshold)\n\n" + "\n".join(
                f"- **{p.model}**: {', '.join(p.top)} · over threshold: {', '.join(p.predicted) or 'none'}"
                for p in result.predictions))
            if result.predictions:
                explained = right.selectbox("Explain a model's answer", [p.model for p in result.predictions],
                                            key="browser-explain-model")
                chosen = next(p for p in result.predictions if p.model == explained)
                widgets.explanation_panel(
                    explained, predictor.get(explained).genres, chosen.top[0] if chosen.top else None,
                    lambda genre: state.explanation(explained, poster, film.overview, genre),
                    poster, key="browser-explain", container=right)

else:
    first, second = st.columns(2)
    first.markdown("**Films per genre**")
    first.plotly_chart(charts.plot_films_per_genre(dataset), key="per-genre")
    second.markdown("**Genres per film**")
    second.plotly_chart(charts.plot_genres_per_film(dataset), key="per-film")
    first.markdown("**Genre co-occurrence** (films labelled with both; a genre's own count is in the bars above)")
    first.plotly_chart(charts.plot_cooccurrence(dataset), key="cooccurrence")
    second.markdown("**Overview length**")
    second.plotly_chart(charts.plot_overview_lengths(dataset), key="lengths")
    st.markdown("**Films per genre in each split** (train/validation/test from a hash of the Id)")
    st.plotly_chart(charts.plot_split_sizes(dataset), key="splits")

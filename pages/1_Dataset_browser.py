"""Dataset browser: filter and page through the films, open one, and read the dataset's charts."""

from __future__ import annotations

import numpy as np
import streamlit as st

from genre_app import charts, state

st.set_page_config(page_title="Dataset browser", layout="wide")
st.title("Dataset browser")

dataset, problem = state.dataset()
if dataset is None:
    st.warning(f"No dataset is available. {problem}")
    st.caption(state.data_setting_help())
    st.stop()

PAGE_SIZE = 12
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
    grid = st.columns(4)
    for position, row in enumerate(shown):
        film_id = str(dataset.ids[row])
        genres = [g for g, flag in zip(dataset.genres, dataset.labels[row]) if flag]
        with grid[position % 4]:
            st.image(str(dataset.poster_path(film_id)), width=120)
            st.markdown(f"**[{film_id}](https://www.imdb.com/title/{film_id}/)** · {', '.join(genres)}")
            st.caption(str(dataset.overviews[row]))

    if len(matches):
        st.divider()
        film_id = st.selectbox("Open a film", [str(dataset.ids[row]) for row in matches[:500]],
                               help="The first 500 matching films.")
        row = list(dataset.ids).index(film_id)
        left, right = st.columns([1, 2])
        left.image(str(dataset.poster_path(film_id)), width=220)
        right.markdown(f"### [{film_id}](https://www.imdb.com/title/{film_id}/)")
        right.write(str(dataset.overviews[row]))
        right.markdown("**Genres:** " + ", ".join(g for g, f in zip(dataset.genres, dataset.labels[row]) if f))
        right.markdown(f"**Split:** {dataset.splits[row]}")
        predictor = state.predictor()
        if predictor.models:
            result = predictor.predict(poster=dataset.poster_path(film_id).read_bytes(),
                                       overview=str(dataset.overviews[row]))
            right.dataframe(
                [{"model": p.model, "top 3": ", ".join(p.top), "over threshold": ", ".join(p.predicted)}
                 for p in result.predictions],
                hide_index=True,
            )

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

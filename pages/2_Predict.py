"""Predict: upload a poster and/or paste a summary; every applicable model answers side by side."""

from __future__ import annotations

import streamlit as st

from genre_app import charts, state

st.set_page_config(page_title="Predict genres", layout="wide")
st.title("Predict genres")

predictor = state.predictor()
if not predictor.models:
    st.error("No usable model artifact is installed; see the Home page.")
    st.stop()

dataset, problem = state.dataset()
sources = ["Upload a poster / paste a summary", "Pick a film from the dataset"]
source = st.radio("Input", sources, horizontal=True, disabled=dataset is None,
                  help=None if dataset else f"No dataset: {problem}")

poster, overview, true_genres = None, None, None
if source == sources[1] and dataset is not None:
    test_ids = [str(film_id) for film_id in dataset.ids[dataset.split_indices("test")]]
    film_id = st.selectbox("Film (test split: never seen in training)", test_ids)
    row = list(dataset.ids).index(film_id)
    poster = dataset.poster_path(film_id).read_bytes()
    overview = str(dataset.overviews[row])
    true_genres = [g for g, flag in zip(dataset.genres, dataset.labels[row]) if flag]
    left, right = st.columns([1, 3])
    left.image(poster, width=150)
    right.markdown(f"**[{film_id}](https://www.imdb.com/title/{film_id}/)**: {overview}")
    right.markdown("**True genres:** " + ", ".join(true_genres))
else:
    left, right = st.columns([1, 2])
    uploaded = left.file_uploader("Poster (JPEG, PNG or WebP)", type=["jpg", "jpeg", "png", "webp"],
                                  max_upload_size=20, key="poster")
    overview = right.text_area("Plot summary", height=150, key="summary",
                               placeholder="A retired hitman is pulled back in for one last job...")
    poster = uploaded.getvalue() if uploaded is not None else None
    if not overview.strip() and poster is not None:
        overview = None

if st.button("Predict", type="primary"):
    try:
        result = predictor.predict(poster=poster, overview=overview)
    except ValueError as error:
        st.error(f"Could not predict: {error}")
        st.stop()
    for note in result.notes:
        st.info(note)
    if poster is not None and source == sources[0]:
        st.image(poster, caption="Your poster", width=150)
    # At most four models side by side; more wrap onto the next row.
    per_row = 4
    columns = [column for start in range(0, len(result.predictions), per_row)
               for column in st.columns(per_row)][: len(result.predictions)]
    for column, prediction in zip(columns, result.predictions):
        loaded = predictor.get(prediction.model)
        with column:
            st.subheader(prediction.model)
            st.caption(f"input: {prediction.input_kind}")
            marks = [f"{g} ✅" if true_genres and g in true_genres else g for g in prediction.top]
            st.markdown("**Top 3:** " + ", ".join(marks))
            st.markdown("**Over tuned threshold:** " + (", ".join(prediction.predicted) or "none"))
            st.plotly_chart(charts.plot_probabilities(prediction, loaded.thresholds),
                            key=f"probabilities-{prediction.model}")

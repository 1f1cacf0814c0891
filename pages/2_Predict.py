"""Predict: upload a poster and/or paste a summary; every applicable model answers side by side."""

from __future__ import annotations

import streamlit as st

from genre_app import answers, charts, state, widgets

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

# The poster is given to the models as decoded pixels (the same safe decode they use), so what is
# shown is exactly what they saw; raw upload bytes wait for the Predict button.
poster, upload, overview, true_genres = None, None, None, None
if source == sources[1] and dataset is not None:
    test_ids = [str(film_id) for film_id in dataset.ids[dataset.split_indices("test")]]
    film = widgets.find_film(dataset, st.selectbox("Film (test split: never seen in training)", test_ids))
    overview, true_genres = film.overview, film.genres
    left, right = st.columns([1, 3])
    poster = widgets.show_poster(film.poster, width=150, caption=f"Poster of {film.id}", container=left)
    right.markdown(f"**{film.link}**: {overview}")
    right.markdown("**True genres:** " + ", ".join(true_genres))
else:
    left, right = st.columns([1, 2])
    uploaded = left.file_uploader("Poster (JPEG, PNG or WebP)", type=["jpg", "jpeg", "png", "webp"],
                                  max_upload_size=widgets.MAX_UPLOAD_MEGABYTES, key="poster")
    left.caption(widgets.upload_limits_text())
    overview = right.text_area("Plot summary", height=150, key="summary",
                               placeholder="A retired hitman is pulled back in for one last job...")
    upload = uploaded.getvalue() if uploaded is not None else None
    if not overview.strip() and upload is not None:
        overview = None

# The answers stay on screen (for the Explain controls) until the inputs change.
asked = widgets.input_fingerprint(source, poster, upload, overview)
if st.button("Predict", type="primary"):
    st.session_state["predicted_inputs"] = asked
if st.session_state.get("predicted_inputs") == asked:
    try:
        if upload is not None:
            poster = widgets.read_upload(upload)
        result = predictor.predict(poster=poster, overview=overview)
    except ValueError as error:
        st.error(f"Could not predict: {error}")
        st.stop()
    if source == sources[1] and poster is None:
        st.info("This film's poster cannot be decoded, so only the models that read the summary answer.")
    for note in result.notes:
        st.info(note)
    if upload is not None:
        widgets.show_poster(poster, width=150, caption="Your poster")
    # One recommended answer first, in plain words; every model follows for comparison.
    given = ({"poster"} if poster is not None else set()) | ({"overview"} if overview else set())
    truth = set(true_genres) if true_genres else None
    best = answers.recommend(result.predictions, {m.name: m.metadata for m in predictor.models},
                             both_given=len(given) == 2)
    if best is not None:
        with st.container(border=True):
            st.subheader("Our answer")
            st.markdown(f"This film is most likely {answers.plain_answer(best)}.")
            if truth is not None:
                st.markdown("**Against the true genres:** " + answers.hit_badges(
                    [genre for genre, _ in answers.ranked_answer(best)[0]] or best.top[:1], truth))
            figure = answers.validation_figure(predictor.get(best.model).metadata)
            st.caption(f"From {best.model} (reads the {best.input_kind.replace('both', 'poster and the summary')}): "
                       f"the best of the models that could answer, by validation macro average precision "
                       f"({figure:.2f}).")
            for doubt in answers.doubts(best, state.answer_reference(predictor.get(best.model)), poster, overview):
                st.warning(f"Low confidence: {doubt}. Treat this answer with care.")
    skipped = answers.skipped_fusions(predictor.models, given)
    if skipped:
        missing = "a poster" if "poster" not in given else "a summary"
        st.info(f"Not shown: {', '.join(skipped)}: fused models that also need {missing}. Give a poster and a "
                "summary to see their answers.")
    st.subheader("Every model, for comparison")
    st.caption("Top 3 ranks the genres by probability; a model's answer is the genres over their own tuned "
               "thresholds, so it can include a less likely genre whose threshold is low.")
    # At most four models side by side; more wrap onto the next row.
    per_row = 4
    columns = [column for start in range(0, len(result.predictions), per_row)
               for column in st.columns(per_row)][: len(result.predictions)]
    for column, prediction in zip(columns, result.predictions):
        loaded = predictor.get(prediction.model)
        with column:
            st.subheader(prediction.model)
            st.caption(f"input: {prediction.input_kind}"
                       + (" · the recommended answer" if prediction.model == getattr(best, "model", None) else ""))
            if prediction.model in answers.COURSE_MODELS:
                st.caption("The course's reference model, not the app's answer: "
                           + answers.baseline_comparison(loaded.metadata, state.baseline()) + ".")
            st.markdown("**Top 3:** " + answers.hit_badges(prediction.top, truth))
            st.markdown("**Answer:** " + answers.plain_answer(prediction))
            st.plotly_chart(charts.plot_probabilities(prediction, loaded.thresholds),
                            key=f"probabilities-{prediction.model}")
            widgets.explanation_panel(
                prediction.model, loaded.genres, prediction.top[0] if prediction.top else None,
                lambda genre, name=prediction.model: state.explanation(name, poster, overview, genre),
                poster, key=f"explain-{prediction.model}")

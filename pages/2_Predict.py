"""Predict: upload a poster and/or paste a summary, pick a test film, or click an example; every
applicable model answers side by side."""

from __future__ import annotations

import streamlit as st

from genre_app import answers, charts, state, widgets
from genre_models.examples import load_examples

st.set_page_config(page_title="Predict genres", layout="wide")
st.title("Predict genres")

predictor = state.predictor()
if not predictor.models:
    st.error("No usable model artifact is installed; see the Home page.")
    st.stop()

dataset, problem = state.dataset()
# The shipped examples work with or without a dataset (examples/, made by scripts/make_examples.py).
try:
    examples, examples_problem = load_examples(), None
except ValueError as error:
    examples, examples_problem = None, str(error)
sources = ["Upload a poster / paste a summary", "Pick a film from the dataset"]


def use_example(example_id: str) -> None:
    """Fill the inputs with an example (its poster in place of an upload, its overview as the summary)
    and ask for a prediction; runs before the page, so the widgets start with the example's values."""
    st.session_state["predict-example"] = example_id
    st.session_state["summary"] = examples.find(example_id).overview
    st.session_state["predict-source"] = sources[0]
    st.session_state["predict-requested"] = True


def drop_example() -> None:
    """A new upload replaces the example's poster: the example no longer fills the inputs."""
    st.session_state.pop("predict-example", None)


source = st.radio("Input", sources, horizontal=True, disabled=dataset is None, key="predict-source",
                  help=None if dataset else f"No dataset: {problem}")

# The poster is given to the models as decoded pixels (the same safe decode they use), so what is
# shown is exactly what they saw; raw upload bytes wait for the Predict button.
poster, upload, overview, true_genres = None, None, None, None
example = examples.find(st.session_state.get("predict-example", "")) if examples else None
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
                                  max_upload_size=widgets.MAX_UPLOAD_MEGABYTES, key="poster", on_change=drop_example)
    left.caption(widgets.upload_limits_text())
    overview = right.text_area("Plot summary", height=150, key="summary",
                               placeholder="A retired hitman is pulled back in for one last job...")
    upload = uploaded.getvalue() if uploaded is not None else None
    if example is not None and upload is None:
        poster = widgets.show_poster(example.poster, width=150, caption=f"Poster of the example {example.id}",
                                     container=left)
        # The true genres belong to the example's own overview; an edited summary is another film.
        if overview.strip() == example.overview:
            true_genres = example.genres
            right.markdown(f"**Example {widgets.imdb_link(example.id)}** (test split) · **True genres:** "
                           + ", ".join(true_genres))
        else:
            right.caption(f"The poster is the example {example.id}'s; the summary was edited, so its true genres "
                          "are not shown.")
    if not overview.strip() and (upload is not None or poster is not None):
        overview = None

# The answers stay on screen (for the Explain controls) until the inputs change.
asked = widgets.input_fingerprint(source, poster, upload, overview)
predict_clicked = st.button("Predict", type="primary")

# Examples, Gradio-style: a thumbnail and a button each; a click fills the inputs above and predicts.
if examples is not None:
    st.markdown("**Examples** (films of the test split, shipped with the app: they work without a dataset)")
    per_row = 6
    for start in range(0, len(examples.examples), per_row):
        for column, shown in zip(st.columns(per_row), examples.examples[start : start + per_row]):
            widgets.show_poster(shown.poster, width=70, caption=shown.id, container=column)
            column.button(answers.example_button_label(shown), key=f"example-{shown.id}", on_click=use_example,
                          args=(shown.id,), help=f"Fill the poster and the summary with {shown.id} and predict")
    for note in examples.notes:
        st.caption(note)
else:
    st.caption(f"No examples: {examples_problem}")

if predict_clicked or st.session_state.pop("predict-requested", False):
    st.session_state["predicted_inputs"] = asked
if st.session_state.get("predicted_inputs") == asked:
    try:
        if upload is not None:
            poster = widgets.read_upload(upload)
        result = predictor.predict(poster=poster, overview=overview)
    except ValueError as error:
        st.error(f"Could not predict: {error}")
        st.stop()
    if (source == sources[1] or example is not None) and poster is None:
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

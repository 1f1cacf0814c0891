"""Predict: upload a poster and/or paste a summary, pick a test film, or click an example; every
applicable model answers side by side, and the answers stay on screen until the next prediction."""

from __future__ import annotations

import dataclasses

import streamlit as st

from genre_app import answers, caches, charts, data, explanation_cache, films, links, models, posters, scores, widgets
from genre_app.streamlit_patches import apply_streamlit_patches
from genre_models.examples import load_examples
from genre_models.inference import check_inputs

apply_streamlit_patches()

st.set_page_config(page_title="Predict genres", layout="wide")
st.title("Predict genres")

# The models' loading bar and the page's notices each have a place that exists on every run, so the
# elements below keep their places from one run to the next: a shifted element would be drawn anew
# while the previous run's copy stays until the run ends (two Predict buttons for a moment).
loading_place, notices = st.container(), st.container()
# The models load in the background (started by the app's first page view): the inputs show at once, and
# Predict waits only until a model that reads the given inputs is in (see the answers below).
loading = models.start_loading_models()
listed, _ = models.artifact_listing()
if not listed or (loading.is_finished() and loading.error is None and not loading.predictor.models):
    notices.error("No usable model artifact is installed; see the Home page.")
    st.stop()
for line in loading.describe_unavailable():
    notices.info(f"Unavailable on this machine (an optional package is missing), so they do not answer here: "
                 f"{line}.")

dataset, problem = data.dataset()
# The shipped examples work with or without a dataset (examples/, made by scripts/make_examples.py).
try:
    examples, examples_problem = load_examples(), None
except ValueError as error:
    examples, examples_problem = None, str(error)
sources = ["Upload a poster / paste a summary", "Pick a film from the dataset"]
# Session keys: the example filling the inputs, a prediction asked for by a click or an address, the
# last answers, the film the address named when last read, and a film outside the test split opened by
# address (listed in the picker too).
EXAMPLE_KEY, REQUESTED_KEY, ANSWERED_KEY = "predict-example", "predict-requested", "predict-answered"
ADDRESS_KEY, OTHER_SPLIT_KEY = "predict-address-film", "predict-other-split-film"


def use_example(example_id: str) -> None:
    """Fill the inputs with an example (its poster in place of an upload, its overview as the summary)
    and ask for a prediction; runs before the page, so the widgets start with the example's values."""
    chosen_example = examples.find(example_id)
    if chosen_example is None:  # a button of an examples folder rebuilt since it was drawn
        return
    st.session_state[EXAMPLE_KEY] = example_id
    st.session_state["summary"] = chosen_example.overview
    st.session_state["predict-source"] = sources[0]
    st.session_state[REQUESTED_KEY] = True


def drop_example(clear_summary: bool = False) -> None:
    """Stop using the example's poster (a new upload replaces it), and its summary when asked."""
    st.session_state.pop(EXAMPLE_KEY, None)
    if clear_summary:
        st.session_state["summary"] = ""


# The address names the chosen film (/Predict?film=tt0086465): a new value opens that film and predicts.
# It is read before the widgets are drawn, so they start on that film.
addressed = st.query_params.get("film")
if addressed is not None and addressed != st.session_state.get(ADDRESS_KEY):
    st.session_state[ADDRESS_KEY] = addressed
    in_dataset = dataset is not None and films.has_film(dataset, addressed)
    request = answers.locate_film(addressed, in_dataset, examples.ids if examples else [], dataset is not None)
    if request.kind == answers.FROM_DATASET:
        drop_example()
        if dataset.splits[dataset.row_of(addressed)] != "test":
            st.session_state[OTHER_SPLIT_KEY] = addressed
        st.session_state["predict-source"] = sources[1]
        st.session_state["predict-film"] = addressed
        st.session_state[REQUESTED_KEY] = True
    elif request.kind == answers.FROM_EXAMPLES:
        use_example(addressed)
    else:
        notices.warning(request.problem)

source = st.radio("Input", sources, horizontal=True, disabled=dataset is None, key="predict-source",
                  help=None if dataset else f"No dataset: {problem}")

# The poster is given to the models as decoded pixels (the same safe decode they use), so what is
# shown is exactly what they saw; raw upload bytes wait for the Predict button.
poster, upload, overview, truth, film_id, label = None, None, None, None, None, "your input"
poster_unusable = False
example = examples.find(st.session_state.get(EXAMPLE_KEY, "")) if examples else None
if source == sources[1] and dataset is not None:
    rows = list(dataset.split_indices("test"))
    other = st.session_state.get(OTHER_SPLIT_KEY)
    if other is not None and films.has_film(dataset, other):
        rows.insert(0, dataset.row_of(other))
    listed = {str(dataset.ids[row]): answers.film_choice_label(str(dataset.ids[row]), str(dataset.overviews[row]),
                                                               str(dataset.splits[row])) for row in rows}
    chosen = st.selectbox("Film (test split: never seen in training)", list(listed), key="predict-film",
                          format_func=listed.get)
    film = films.find_film(dataset, chosen)
    overview, truth, film_id, label = film.overview, film.genres, film.id, listed[film.id]
    left, right = st.columns([1, 3])
    poster = posters.show_poster(film.poster, width=150, caption=f"Poster of {film.id}", container=left)
    poster_unusable = poster is None
    right.markdown(f"**{film.link}**: {overview}")
    right.markdown("**True genres:** " + ", ".join(truth))
    film_note = right.container()
    if film.split != "test":
        film_note.info(f"{film.id} is in the {film.split} split: the models learnt from it, so their answers "
                       "flatter them. Pick a test film for an honest check.")
    with right.form("predict-form", border=False):
        submitted = st.form_submit_button("Predict", type="primary", key="predict-submit")
else:
    left, right = st.columns([1, 2])
    uploaded = left.file_uploader("Poster (JPEG, PNG or WebP)", type=["jpg", "jpeg", "png", "webp"],
                                  max_upload_size=posters.MAX_UPLOAD_MEGABYTES, key="poster", on_change=drop_example)
    left.caption(posters.upload_limits_text())
    upload = uploaded.getvalue() if uploaded is not None else None
    example_note = right.container()
    # A form: the summary is sent with the button, and Ctrl+Enter in it predicts too (Streamlit shows
    # the shortcut in the box; no help icon, whose label would also be "Plot summary").
    with right.form("predict-form", border=False):
        overview = st.text_area("Plot summary", height=150, key="summary",
                                placeholder="A retired hitman is pulled back in for one last job...")
        submitted = st.form_submit_button("Predict", type="primary", key="predict-submit")
    if upload is not None:
        film_id, label = uploaded.name, f"your poster {uploaded.name}" + (" and summary" if overview.strip() else "")
    elif example is not None:
        poster = posters.show_poster(example.poster, width=150, caption=f"Poster of the example {example.id}",
                                     container=left)
        poster_unusable = poster is None
        # The true genres belong to the example's own overview; an edited summary makes another film.
        if overview.strip() == example.overview:
            truth, film_id, label = example.genres, example.id, f"the example {example.label}"
            example_note.markdown(f"**Example {links.imdb_link(example.id)}** (test split) · **True genres:** "
                                  + ", ".join(truth))
        else:
            label = f"the example {example.id}'s poster and your summary"
            example_note.caption(f"The poster is the example {example.id}'s; the summary was edited, so its true "
                                 "genres are not shown.")
    if not overview.strip() and (upload is not None or poster is not None):
        overview = None
    if upload is None and example is None:
        label = "your summary"

asked = caches.input_fingerprint(source, poster, upload, overview)
# The address follows the chosen film (a dataset film or the example in use), so it can be shared.
chosen_film = film_id if source == sources[1] and dataset is not None else (
    example.id if example is not None and upload is None else None)
if st.query_params.get("film") != chosen_film:
    if chosen_film is None:
        del st.query_params["film"]
    else:
        st.query_params["film"] = chosen_film
st.session_state[ADDRESS_KEY] = chosen_film
# Messages about the prediction just asked for go right under the inputs.
status = st.container()

# Examples, Gradio-style: a thumbnail and a button each; a click fills the inputs above and predicts.
if examples is not None:
    st.markdown("**Examples**: films of the test split shipped with the app (they work without a dataset); "
                "a click fills the poster and the summary and predicts.")
    per_row = 6
    for start in range(0, len(examples.examples), per_row):
        for column, shown in zip(st.columns(per_row), examples.examples[start : start + per_row]):
            posters.show_poster(shown.poster, width=70, caption=shown.id, container=column)
            column.button(answers.example_button_label(shown), key=f"example-{shown.id}", on_click=use_example,
                          args=(shown.id,), help=f"Fill the poster and the summary with {shown.label} and predict")
    for note in examples.notes:
        st.caption(note)
    clear_place = st.container()  # always there, so the answers below keep their places
    if example is not None and source == sources[0]:
        clear_place.button("Clear the example", key="predict-clear-example", on_click=drop_example, args=(True,),
                           help="Remove the example's poster and summary from the inputs")
else:
    st.caption(f"No examples: {examples_problem}")

if submitted or st.session_state.pop(REQUESTED_KEY, False):
    try:
        if upload is not None:
            poster = posters.read_upload(upload)
        given = ({"poster"} if poster is not None else set()) | ({"overview"} if overview else set())
        check_inputs(poster, overview)  # before waiting for any model
        with loading_place:
            predictor, still_loading = models.predictor_answering(given)
        result = predictor.predict(poster=poster, overview=overview)
    except ValueError as error:
        # No answer is better than the previous input's answer under a new error.
        st.session_state.pop(ANSWERED_KEY, None)
        status.error(f"Could not predict: {error}")
    else:
        st.session_state[ANSWERED_KEY] = answers.Answered(
            fingerprint=asked, label=label, poster=poster, overview=overview, result=result, film_id=film_id,
            truth=list(truth) if truth else None, poster_unusable=poster_unusable, given=given,
            uploaded=upload is not None, predictor=predictor, still_loading=still_loading)

answered = st.session_state.get(ANSWERED_KEY)
if answered is not None and answered.still_loading and loading.is_finished():
    # Answered while some models were loading: now every model is in, they all answer. Once, not as each model
    # comes in: each new set of models traces its graph anew (1-3 s each here), while this one is the set the
    # background warm-up traces too (the predictor's lock makes one wait for the other's trace).
    predictor = loading.available()  # None only when the load failed: the next Predict says why
    result = answered.result if predictor is None else \
        predictor.predict(poster=answered.poster, overview=answered.overview)
    answered = st.session_state[ANSWERED_KEY] = dataclasses.replace(
        answered, result=result, predictor=predictor or answered.predictor, still_loading=[])

# Polls while the models load, and while answers on screen wait for models (the load may have finished while
# this run predicted: the next poll reruns the page, which adds their answers).
polling = not loading.is_finished() or bool(answered is not None and answered.still_loading)


@st.fragment(run_every=1.0 if polling else None)
def show_loading() -> None:
    """While the models load: what loads now, live; the whole page reruns once every model is in (this
    polling then stops, and answers given while they loaded gain the others' answers)."""
    if loading.is_finished():
        st.rerun()
    st.caption(f":material/hourglass_top: {loading.describe()} The inputs work now; Predict answers with the "
               "models loaded by then and adds the others' answers as they come in.")


if polling:
    with loading_place:
        show_loading()

if answered is None:
    st.stop()
predictor = answered.predictor
messages = st.container()  # always there: the answers below keep their places (see notices)
if answered.still_loading:
    messages.info(f"Still loading, so not in these answers yet: {', '.join(answered.still_loading)}. Their "
                  "answers are added here once every model is in (a few seconds); the answer below may change.")
if answered.fingerprint != asked:
    messages.info(f"These answers are for {answered.label}; the inputs above have changed since. Press Predict "
                  "to answer for them.")
if answered.poster_unusable:
    messages.info("This film's poster cannot be decoded, so only the models that read the summary answer.")
for note in answered.result.notes:
    messages.info(note)
if answered.uploaded and answered.poster is not None:
    posters.show_poster(answered.poster, width=150, caption="Your poster", container=messages)
# One recommended answer first, in plain words; every model follows for comparison.
truth = set(answered.truth) if answered.truth else None
best = answers.recommend(answered.result.predictions, {m.name: m.metadata for m in predictor.models},
                         both_given=len(answered.given) == 2)
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
        for doubt in answers.doubts(best, scores.answer_reference(predictor.get(best.model)), answered.poster,
                                    answered.overview):
            st.warning(f"Low confidence: {doubt}. Treat this answer with care.")
skipped, skipped_note = answers.skipped_fusions(predictor.models, answered.given), st.container()
if skipped:
    missing = "a poster" if "poster" not in answered.given else "a summary"
    skipped_note.info(f"Not shown: {', '.join(skipped)}: fused models that read {missing}, which was not given. "
                      "Give a poster and a summary to see their answers.")
st.subheader("Every model, for comparison")
st.caption("Top 3 ranks the genres by probability; a model's answer is the genres over their own tuned "
           "thresholds, so it can include a less likely genre whose threshold is low.")
# Downloads: the lines `python -m genre_models predict` writes, and every probability as a table.
predictions = answered.result.predictions
answered_films = [(answered.film_id, predictions)]
json_column, csv_column, _ = st.columns([1, 1, 2])
json_column.download_button(
    "Download the answers (JSON lines)", answers.prediction_lines_bytes(answered_films),
    file_name=answers.download_name(answered.film_id, "jsonl"), mime="application/jsonl", key="download-answers",
    help="One line per model, as `python -m genre_models predict` writes: id, model, probabilities, predicted.")
csv_column.download_button(
    "Download the probabilities (CSV)", answers.probability_csv_bytes(answered_films),
    file_name=answers.download_name(answered.film_id, "csv"), mime="text/csv", key="download-probabilities",
    help="One row per model: what it read, its answer (the genres over its thresholds) and one probability per "
         "genre.")
# At most three models side by side; more wrap onto the next row (at four, a heading such as
# "multimodal_fusion" broke inside the word and the 25 bars were cramped).
per_row = 3
columns = [column for start in range(0, len(predictions), per_row) for column in st.columns(per_row)][
    : len(predictions)]
for column, prediction in zip(columns, predictions):
    loaded = predictor.get(prediction.model)
    with column:
        st.subheader(prediction.model)
        st.caption(f"input: {prediction.input_kind}"
                   + (" · the recommended answer" if prediction.model == getattr(best, "model", None) else ""))
        if prediction.model in answers.COURSE_MODELS:
            st.caption("The course's reference model, not the app's answer: "
                       + answers.baseline_comparison(loaded.metadata, models.baseline()) + ".")
        st.markdown("**Top 3:** " + answers.hit_badges(prediction.top, truth))
        st.markdown("**Answer:** " + answers.plain_answer(prediction))
        st.plotly_chart(charts.plot_probabilities(prediction, loaded.thresholds),
                        key=f"probabilities-{prediction.model}")
        widgets.explanation_panel(
            prediction.model, loaded.genres, prediction.top[0] if prediction.top else None,
            lambda genre, name=prediction.model: explanation_cache.explanation(name, answered.poster, answered.overview, genre),
            answered.poster, key=f"explain-{prediction.model}")

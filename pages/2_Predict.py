"""Predict: upload a poster and/or paste a summary, pick a test film, or click an example; the answer shows
beside the inputs (under them on a phone), every model's answers follow in one comparison, and they stay on
screen until the next prediction."""

from __future__ import annotations

import dataclasses

import streamlit as st

from genre_app import answer_view, predict, similar_view
from genre_app.data import dataset as read_dataset
from genre_app.models import artifact_listing, start_loading_models
from genre_app.streamlit_patches import apply_streamlit_patches

apply_streamlit_patches()

st.set_page_config(page_title="Predict genres", layout="wide")
st.title("Predict genres")

# The models' loading bar and the page's notices each have a place that exists on every run, so the elements
# below keep their places from one run to the next (a shifted element is drawn anew while the previous run's
# copy stays until the run ends: two Predict buttons for a moment).
loading_place, notices = st.container(), st.container()
# The models load in the background (started by the app's first page view): the inputs show at once, and
# Predict waits only until a model that reads the given inputs is in.
loading = start_loading_models()
listed, _ = artifact_listing()
if not listed or (loading.is_finished() and loading.error is None and not loading.predictor.models):
    notices.error("No usable model artifact is installed; see the Home page.")
    st.stop()
for line in loading.describe_unavailable():
    notices.info(f"Unavailable on this machine (an optional package is missing), so they do not answer here: "
                 f"{line}.")

dataset, problem = read_dataset()
# The shipped examples work with or without a dataset (examples/, made by scripts/make_examples.py).
examples, examples_problem = predict.read_examples()
predict.open_addressed_film(dataset, examples, notices)

# The radio's label is hidden while its options say it all (on a phone every line above the answer counts);
# without a dataset it shows, with its help saying why the dataset option is off.
source = st.radio("Input", predict.SOURCES, horizontal=True, disabled=dataset is None, key="predict-source",
                  help=None if dataset else f"No dataset: {problem}",
                  label_visibility="collapsed" if dataset else "visible")
# Inputs on the left, the answer on the right at once, in view; on a phone the columns stack: input, answer.
inputs_column, answer_column = st.columns([2, 3], gap="large")
with inputs_column:
    if source == predict.SOURCES[1] and dataset is not None:
        inputs = predict.show_film_inputs(dataset)
    else:
        inputs = predict.show_own_inputs(examples)
    status = st.container()  # why a prediction could not be made, right under the button
predict.follow_address(inputs.addressed_film)

if inputs.submitted or st.session_state.pop(predict.REQUESTED_KEY, False):
    predict.ask(inputs, loading_place, status)

answered = st.session_state.get(predict.ANSWERED_KEY)
if answered is not None and answered.still_loading and loading.is_finished():
    # Answered while some models were loading: now every model is in, they all answer. Once, not as each model
    # comes in: each new set of models traces its graph anew (1-3 s each), while this one is the set the
    # background warm-up traces too.
    predictor = loading.available()  # None only when the load failed: the next Predict says why
    result = answered.result if predictor is None else \
        predictor.predict(poster=answered.poster, overview=answered.overview)
    answered = st.session_state[predict.ANSWERED_KEY] = dataclasses.replace(
        answered, result=result, predictor=predictor or answered.predictor, still_loading=[])

# Polls while the models load, and while answers on screen wait for models.
polling = not loading.is_finished() or bool(answered is not None and answered.still_loading)


@st.fragment(run_every=1.0 if polling else None)
def show_loading() -> None:
    """While the models load: what loads now, live; the whole page reruns once every model is in."""
    if loading.is_finished():
        st.rerun()
    st.caption(f":material/hourglass_top: {loading.describe()} The inputs work now: Predict answers at once.")


if polling:
    with loading_place:
        show_loading()

with answer_column:
    if answered is None:
        st.caption("The answer appears here. Upload a poster, type a summary, or try an example below.")
    else:
        answer_view.show_answer(answered, inputs.fingerprint())
if answered is not None:
    answer_view.show_comparison(answered)
    answer_view.show_model_detail(answered)
    similar_view.show_similar_to_answered(answered, dataset)
predict.show_examples(examples, examples_problem, answered is not None)

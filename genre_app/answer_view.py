"""The Predict page's answer: one compact answer first (the recommended model's genres, each with its bar, how
sure in plain words, why on demand), then one comparison of every model, each model's detail on demand, and
the downloads. Genres and Ids are dataset or user text: escaped before any Markdown.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from genre_app import answer_charts, answers, explanations
from genre_app.answer_downloads import (
    download_name,
    prediction_lines_bytes,
    probability_csv_bytes,
)
from genre_app.explanation_cache import explanation
from genre_app.models import baseline
from genre_app.posters import show_poster
from genre_app.scores import answer_reference
from genre_app.text import escape_markdown
from genre_models.input_checks import overview_doubts, poster_doubts
from genre_models.inputs import BOTH, OVERVIEW, POSTER
from genre_models.readings import chosen_genres, percent, read_prediction, sureness


def input_doubts(prediction, poster: np.ndarray | None, overview: str | None) -> list[str]:
    """Return why the inputs the model read are unlike what the models learnt from (empty: they are alike)."""
    reads_poster, reads_overview = prediction.input_kind in (POSTER, BOTH), prediction.input_kind in (OVERVIEW, BOTH)
    return [*(poster_doubts(poster) if reads_poster else []), *(overview_doubts(overview) if reads_overview else [])]


def headline(readings: list, doubted: bool) -> str:
    """Return the answer's first line (Markdown): the predicted genres and how sure, in plain words; never a
    confident genre when the input is doubted."""
    chosen = [escape_markdown(genre) for genre in chosen_genres(readings)]
    top = readings[0]
    likeliest = f"{escape_markdown(top.genre)} ({percent(top.probability)})"
    if doubted:
        return (f"**No confident answer**: the input is unlike what the models learnt from (see below). For what "
                f"it is worth, the likeliest genre is {likeliest}.")
    if not chosen:
        return (f"**No genre reaches its bar** (unsure); the likeliest is {likeliest}, under its "
                f"{percent(top.threshold)} bar.")
    named = chosen[0] if len(chosen) == 1 else ", ".join(chosen[:-1]) + " and " + chosen[-1]
    return f"**{named}**: {sureness(readings)}."


def reading_lines(readings: list) -> str:
    """Return the reading as a Markdown list: each genre, most likely first, with its bar beside it."""
    return "\n".join(f"- {'**' + escape_markdown(r.genre) + '**' if r.chosen else escape_markdown(r.genre)} "
                     f"{percent(r.probability)}: {'over' if r.chosen else 'under'} its "
                     f"{percent(r.threshold)} bar{' (predicted)' if r.chosen else ''}" for r in readings)


def show_answer(answered, asked_fingerprint: str) -> None:
    """Show "Our answer": the recommended model's answer in plain words, its doubts, and "Why?" on demand."""
    predictor = answered.predictor
    best = answers.recommend(answered.result.predictions, {m.name: m.metadata for m in predictor.models},
                             both_given=len(answered.given) == 2)
    if best is None:
        return
    loaded = predictor.get(best.model)
    readings = read_prediction(best, loaded.thresholds)
    doubted = input_doubts(best, answered.poster, answered.overview)
    weak = answers.answer_doubts(best, answer_reference(loaded))
    with st.container(border=True):
        st.subheader("Our answer")
        st.markdown(headline(readings, bool(doubted)))
        st.markdown(reading_lines(readings))
        if answered.truth:
            chosen = chosen_genres(readings) or [readings[0].genre]
            st.markdown("**Against the true genres:** " + answers.hit_badges(chosen, set(answered.truth)))
        for doubt in doubted + weak:
            st.warning(f"Low confidence: {doubt}. Treat this answer with care.")
        figure = answers.validation_figure(loaded.metadata)
        st.caption(f"From {best.model} (reads the {best.input_kind.replace(BOTH, 'poster and the summary')}), the "
                   f"best of the models that could answer by validation macro average precision ({figure:.2f}). "
                   "A genre is predicted when its probability reaches its own bar, tuned per genre on validation.")
        if answered.uploaded and answered.poster is not None:  # after the answer: it must not push it down
            show_poster(answered.poster, width=60, caption="Your poster")
        if st.toggle("Why?", key="predict-why", help="Which words and which part of the poster pushed towards "
                                                     "the answer's first genre"):
            genre = (chosen_genres(readings) or [readings[0].genre])[0]
            try:
                explained = explanation(best.model, answered.poster, answered.overview, genre)
            except ValueError as error:
                st.info(f"No explanation: {error}")
            else:
                explanations.show_why(explained, answered.poster, key="predict-why-detail")
    show_messages(answered, asked_fingerprint)


def show_messages(answered, asked_fingerprint: str) -> None:
    """Notes about the answer: models still loading, inputs changed since, a poster that could not be read."""
    if answered.still_loading:
        st.info(f"Still loading, so not in these answers yet: {', '.join(answered.still_loading)}. Their answers "
                "are added here once every model is in (a few seconds); the answer may change.")
    if answered.fingerprint != asked_fingerprint:
        st.info(f"These answers are for {escape_markdown(answered.label)}; the inputs have changed since. Press "
                "Predict to answer for them.")
    if answered.poster_unusable:
        st.info("This film's poster cannot be decoded, so only the models that read the summary answer.")
    for note in answered.result.notes:
        st.info(note)


def show_comparison(answered) -> None:
    """One comparison of every model (models x genres, the best by validation first), the fused models left
    out, and the downloads."""
    predictor, predictions = answered.predictor, answered.result.predictions
    if not predictions:
        return
    predictions = sorted(predictions, key=lambda p: -answers.validation_figure(predictor.get(p.model).metadata))
    thresholds = {p.model: predictor.get(p.model).thresholds for p in predictions}
    st.subheader("Every model, for comparison")
    st.plotly_chart(answer_charts.plot_model_comparison(predictions, thresholds), key="predict-comparison")
    st.caption("Each cell is the model's probability for the genre; bold with a \u2713 where it reaches that "
               "model's own bar (predicted). " + escape_markdown(
                   answer_charts.describe_model_comparison(predictions, thresholds)))
    skipped = answers.skipped_fusions(predictor.models, answered.given)
    if skipped:
        missing = "a poster" if "poster" not in answered.given else "a summary"
        st.info(f"Not shown: {', '.join(skipped)}: fused models that read {missing}, which was not given. Give a "
                "poster and a summary to see their answers.")
    films = [(answered.film_id, predictions)]
    json_column, csv_column = st.columns(2)
    json_column.download_button(
        "Download the answers (JSON lines)", prediction_lines_bytes(films), key="download-answers",
        file_name=download_name(answered.film_id, "jsonl"), mime="application/jsonl",
        help="One line per model, as `python -m genre_models predict` writes: id, model, probabilities, predicted.")
    csv_column.download_button(
        "Download the probabilities (CSV)", probability_csv_bytes(films), key="download-probabilities",
        file_name=download_name(answered.film_id, "csv"), mime="text/csv",
        help="One row per model: what it read, its answer (the genres over its bars) and one probability per genre.")


def show_model_detail(answered) -> None:
    """One model's answer in detail, on demand: every genre against its bar, and its explanation."""
    predictor, predictions = answered.predictor, answered.result.predictions
    if not predictions:
        return
    with st.expander("Each model in detail: every genre, its bar, and why"):
        names = [p.model for p in predictions]
        name = st.selectbox("Model", names, key="predict-detail-model")
        prediction, loaded = predictions[names.index(name)], predictor.get(name)
        st.caption(f"Reads: {prediction.input_kind.replace(BOTH, 'the poster and the summary')}.")
        if name in answers.COURSE_MODELS:
            st.caption("The course's reference model, not the app's answer: "
                       + answers.baseline_comparison(loaded.metadata, baseline()) + ".")
        truth = set(answered.truth) if answered.truth else None
        st.markdown("**Top 3:** " + answers.hit_badges(prediction.top, truth))
        st.markdown("**Answer:** " + answers.plain_answer(prediction, loaded.thresholds))
        st.plotly_chart(answer_charts.plot_probabilities(prediction, loaded.thresholds), key="predict-detail-chart")
        st.caption(escape_markdown(answer_charts.describe_probabilities(prediction, loaded.thresholds)))
        explanations.explanation_panel(
            name, loaded.genres, prediction.top[0] if prediction.top else None,
            lambda genre: explanation(name, answered.poster, answered.overview, genre), answered.poster,
            key=f"explain-{name}")

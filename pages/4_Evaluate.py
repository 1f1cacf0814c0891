"""Evaluate: per-genre confusion matrices, P/R/F1, PR curves and live thresholds for one model."""

from __future__ import annotations

import numpy as np
import streamlit as st

from genre_app import charts, state, widgets
from genre_models.metrics import evaluate_scores

st.set_page_config(page_title="Evaluate", layout="wide")
st.title("Evaluate a model")

dataset, predictor = state.require_dataset_and_models("Evaluating")

choice = st.columns(3)
name = choice[0].selectbox("Model", predictor.model_names())
split = choice[1].selectbox("Split", ["test", "validation", "train", "all"],
                            help="Thresholds were tuned on validation; test is the honest figure.")
mode = choice[2].radio("Thresholds", ["tuned per genre", "one global threshold", "adjust one genre"])

loaded = predictor.get(name)
scoring = widgets.ScoringProgress()  # bars only for scores not shipped with the artifact (train, all)
scores = state.split_scores(name, split, progress=scoring)
scoring.clear()
tuned = loaded.thresholds.copy()
overrides = st.session_state.setdefault("threshold_overrides", {}).setdefault(name, {})
if mode == "one global threshold":
    default = float(loaded.metadata["thresholds"].get("global", 0.5))
    thresholds = np.full(len(tuned), st.slider("Threshold for every genre", 0.01, 0.99, default, 0.01))
elif mode == "adjust one genre":
    genre = st.selectbox("Genre", scores.genres)
    column = scores.genres.index(genre)
    overrides[genre] = st.slider(f"Threshold for {genre}", 0.01, 0.99,
                                 float(overrides.get(genre, tuned[column])), 0.01)
    if st.button("Reset all genres to their tuned thresholds"):
        overrides.clear()
        st.rerun()
    thresholds = np.array([overrides.get(g, t) for g, t in zip(scores.genres, tuned)])
else:
    thresholds = tuned

report = evaluate_scores(scores.labels, scores.scores, thresholds, scores.genres)
figures = st.columns(7)
for column, (label, key) in zip(figures, [
    ("micro-F1", "micro_f1"), ("macro-F1", "macro_f1"), ("samples-F1", "samples_f1"),
    ("micro AP", "micro_average_precision"), ("macro AP", "macro_average_precision"),
    ("precision@3", "precision_at_3"), ("recall@3", "recall_at_3"),
]):
    value = report[key]
    column.metric(label, "n/a" if value is None else f"{value:.3f}")
st.caption(f"{report['films']} films in the {split} split; macro figures average the "
           f"{report['genres_with_positives']} genres that have positive films in it.")

st.subheader("Per-genre confusion matrices")
st.caption("Rows: true yes/no; columns: predicted yes/no. Colour: share of the true row.")
st.plotly_chart(charts.plot_confusion_grid(report, scores.genres), key="confusion")
st.caption(charts.describe_confusion_grid(report))

st.subheader("Per-genre precision, recall and F1")
st.plotly_chart(charts.plot_precision_recall_f1(report), key="prf")
st.caption(charts.describe_precision_recall_f1(report))
with st.expander("Table"):
    st.dataframe(charts.per_genre_frame(report), hide_index=True)

st.subheader("Precision-recall curves")
by_support = [g for g in sorted(scores.genres, key=lambda g: -report["per_genre"][g]["support"])]
selected = st.multiselect("Genres", scores.genres, default=by_support[:4])
st.plotly_chart(charts.plot_precision_recall_curves(scores.labels, scores.scores, scores.genres, selected, report),
                key="pr")
st.caption(charts.describe_precision_recall_curves(report, selected))

st.subheader("Compare per-genre F1 with another model")
others = [other for other in predictor.model_names() if other != name]
if others:
    other = st.selectbox("Other model (its tuned thresholds)", others)
    other_loaded = predictor.get(other)
    other_scores = state.split_scores(other, split, progress=scoring)
    scoring.clear()
    other_report = evaluate_scores(other_scores.labels, other_scores.scores, other_loaded.thresholds,
                                   other_scores.genres)
    st.plotly_chart(charts.plot_f1_comparison({name: report, other: other_report}), key="compare")
    st.caption(charts.describe_f1_comparison({name: report, other: other_report}))

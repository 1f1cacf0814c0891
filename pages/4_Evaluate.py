"""Evaluate: per-genre confusion matrices, P/R/F1, PR curves and live thresholds for one model.

Model, split, threshold mode and genre live in the URL, so /Evaluate?model=poster_cnn&split=test&genre=Horror
opens poster_cnn on the test split with Horror's threshold to adjust.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from genre_app import answers, charts, evaluation, state, widgets
from genre_models.metrics import evaluate_scores

st.set_page_config(page_title="Evaluate", layout="wide")
st.title("Evaluate a model")

dataset, predictor = state.require_dataset_and_models("Evaluating")
# Thresholds moved genre by genre, per model: {model: {genre: threshold}}. Kept apart from the sliders' own
# state, which Streamlit forgets once a genre's slider is no longer drawn.
OVERRIDES_KEY = "threshold_overrides"


def reset_threshold_overrides(model: str) -> None:
    """Put every genre of a model back on its tuned threshold (a button's callback, run before the page)."""
    st.session_state.get(OVERRIDES_KEY, {}).pop(model, None)
    for key in [key for key in st.session_state if str(key).startswith(f"evaluate-threshold-{model}-")]:
        del st.session_state[key]


state.warn_about_unknown_link_values("model", predictor.model_names(), "the model")
state.warn_about_unknown_link_values("split", evaluation.SPLITS, "the split")
state.warn_about_unknown_link_values("thresholds", evaluation.THRESHOLD_MODES, "the thresholds")
choice = st.columns(3)
# Opens on the model with the best recorded validation macro AP (the rule Predict recommends by, over every
# model rather than those reading the inputs given), not the first in name order.
names = predictor.model_names()
recommended = answers.recommended_name(names, {model: predictor.get(model).metadata for model in names})
name = choice[0].selectbox("Model", names, index=names.index(recommended) if recommended in names else 0, key="model",
                           bind="query-params")
split = choice[1].selectbox("Split", evaluation.SPLITS, key="split", bind="query-params",
                            help="Thresholds were tuned on validation; test is the honest figure.")
# A link naming a genre opens that genre's threshold.
mode = choice[2].radio("Thresholds", evaluation.THRESHOLD_MODES, index=2 if "genre" in st.query_params else 0,
                       key="thresholds", bind="query-params")

loaded = predictor.get(name)
scoring = widgets.ScoringProgress()  # bars only for scores not shipped with the artifact (train, all)
scores = state.split_scores(name, split, progress=scoring)
scoring.clear()
tuned = loaded.thresholds.copy()
genre = None
if mode == evaluation.THRESHOLD_MODES[1]:
    default = float(loaded.metadata["thresholds"].get("global", 0.5))
    thresholds = np.full(len(tuned), st.slider("Threshold for every genre", 0.01, 0.99, default, 0.01,
                                               key=f"evaluate-global-threshold-{name}"))
elif mode == evaluation.THRESHOLD_MODES[2]:
    state.warn_about_unknown_link_values("genre", scores.genres, "the genre")
    genre = st.selectbox("Genre", scores.genres, key="genre", bind="query-params")
    overrides = st.session_state.setdefault(OVERRIDES_KEY, {}).setdefault(name, {})
    column = scores.genres.index(genre)
    # One slider per model and genre, under a stable key: its starting value (the tuned or last chosen
    # threshold) is read only when it is first drawn, so a move is never undone by a re-created slider.
    overrides[genre] = st.slider(f"Threshold for {genre}", 0.01, 0.99, float(overrides.get(genre, tuned[column])),
                                 0.01, key=f"evaluate-threshold-{name}-{genre}")
    st.button("Reset all genres to their tuned thresholds", key="evaluate-reset-thresholds",
              on_click=reset_threshold_overrides, args=(name,))
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
# Side by side, each as wide as its label.
downloads = st.container(horizontal=True)
downloads.download_button(
    "Download the report (JSON)", mime="application/json", key="evaluate-download-report",
    data=evaluation.build_report_json(report, name, split, mode, dataset.fingerprint,
                                      (loaded.metadata.get("data") or {}).get("fingerprint")),
    file_name=evaluation.build_download_name(name, split, mode, "json"),
    help="Every figure above and each genre's threshold, precision, recall, F1, AP and confusion counts, in the "
         "format of `python -m genre_models evaluate`.")
downloads.download_button(
    "Download the per-genre table (CSV)", evaluation.build_per_genre_csv(report), mime="text/csv",
    file_name=evaluation.build_download_name(name, split, mode, "csv"), key="evaluate-download-table",
    help="The table under the per-genre chart: one row per genre, at these thresholds.")

st.subheader("Per-genre confusion matrices")
st.caption("Rows: true yes/no; columns: predicted yes/no. Colour: share of the true row.")
st.plotly_chart(charts.plot_confusion_grid(report, scores.genres), key="confusion")
st.caption(charts.describe_confusion_grid(report))

st.subheader("Per-genre precision, recall and F1")
st.plotly_chart(charts.plot_precision_recall_f1(report), key="prf")
st.caption(charts.describe_precision_recall_f1(report))
with st.expander("Table"):
    st.dataframe(evaluation.build_per_genre_table(report), hide_index=True, key="evaluate-table")

st.subheader("Precision-recall curves")
by_support = sorted(scores.genres, key=lambda g: -report["per_genre"][g]["support"])
starting = list(dict.fromkeys(([genre] if genre else []) + by_support[:4]))
selected = st.multiselect("Genres", scores.genres, default=starting, key=f"evaluate-curves-{name}")
st.plotly_chart(charts.plot_precision_recall_curves(scores.labels, scores.scores, scores.genres, selected, report),
                key="pr")
st.caption(charts.describe_precision_recall_curves(report, selected))

st.subheader("Compare per-genre F1 with another model")
others = [other for other in predictor.model_names() if other != name]
if others:
    other = st.selectbox("Other model (its tuned thresholds)", others, key="evaluate-other")
    other_loaded = predictor.get(other)
    other_scores = state.split_scores(other, split, progress=scoring)
    scoring.clear()
    other_report = evaluate_scores(other_scores.labels, other_scores.scores, other_loaded.thresholds,
                                   other_scores.genres)
    st.plotly_chart(charts.plot_f1_comparison({name: report, other: other_report}), key="compare")
    st.caption(charts.describe_f1_comparison({name: report, other: other_report}))

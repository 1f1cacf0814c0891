"""Evaluate: per-genre confusion matrices, P/R/F1, PR curves and thresholds for one model.

Model, split, threshold mode and genre live in the URL, so /Evaluate?model=poster_cnn&split=test&genre=Horror
opens poster_cnn on the test split with Horror's threshold to adjust. The page's parts are in genre_app/evaluate.py.
"""

from __future__ import annotations

import streamlit as st

from genre_app import evaluate, evaluation, models
from genre_app.streamlit_patches import apply_streamlit_patches
from genre_models.metrics import evaluate_scores

apply_streamlit_patches()

st.set_page_config(page_title="Evaluate", layout="wide")
st.title("Evaluate a model")

dataset, predictor = models.require_dataset_and_models("Evaluating")
name, split, mode = evaluate.choose_view(predictor)
loaded = predictor.get(name)
scored = evaluate.read_scores(name, split)
thresholds, genre = evaluate.choose_thresholds(loaded, scored, mode, name)

report = evaluate_scores(scored.labels, scored.scores, thresholds, scored.genres)
evaluate.show_figures(report, split)
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

evaluate.show_confusion(report)
evaluate.show_per_genre(report)
evaluate.show_curves(scored, report, genre, name)
evaluate.show_comparison(predictor, name, split, report)

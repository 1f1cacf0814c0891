"""What the Evaluate page offers: its choices (splits, threshold modes) and the evaluation of the view on
screen as files to download, the report as JSON (the format of `python -m genre_models evaluate`, plus the
thresholds used) and the per-genre table as CSV (the table the page shows).

No Streamlit here: the page reads its widgets, calls these and hands the bytes to st.download_button.
"""

from __future__ import annotations

import json
import re

import pandas as pd

SPLITS = ["test", "validation", "train", "all"]
THRESHOLD_MODES = ["tuned per genre", "one global threshold", "adjust one genre"]
# The per-genre table's columns, in order: the figures, then the confusion counts behind them.
TABLE_COLUMNS = ["genre", "support", "threshold", "precision", "recall", "f1", "average_precision",
                 "true_positives", "false_positives", "false_negatives", "true_negatives"]
CONFUSION_COLUMNS = {"tp": "true_positives", "fp": "false_positives", "fn": "false_negatives",
                     "tn": "true_negatives"}


def build_per_genre_table(report: dict) -> pd.DataFrame:
    """Return one row per genre of an evaluation report (genre_models.metrics.evaluate_scores): support,
    threshold, precision, recall, F1, average precision (empty where the split has no film of the genre)
    and the confusion counts."""
    rows = []
    for genre, values in report["per_genre"].items():
        row = {"genre": genre, **{key: values[key] for key in TABLE_COLUMNS[1:7]}}
        row.update({column: values["confusion"][key] for key, column in CONFUSION_COLUMNS.items()})
        rows.append(row)
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def build_per_genre_csv(report: dict) -> bytes:
    """Return the per-genre table as CSV (UTF-8, full precision)."""
    return build_per_genre_table(report).to_csv(index=False).encode("utf-8")


def build_report_json(report: dict, model: str, split: str, threshold_mode: str, data_fingerprint: str | None,
                      training_fingerprint: str | None) -> bytes:
    """Return the evaluation report as JSON: the lines `python -m genre_models evaluate` prints (model, split,
    data fingerprint, whether it is the data the model was trained on, every figure and per-genre detail),
    plus how the thresholds were chosen (each genre's threshold is in its per-genre entry)."""
    document = {"model": model, "split": split, "data_fingerprint": data_fingerprint,
                "same_data_as_training": data_fingerprint is not None and data_fingerprint == training_fingerprint,
                "threshold_mode": threshold_mode, **report}
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def build_download_name(model: str, split: str, threshold_mode: str, extension: str) -> str:
    """Return a file name naming the view: evaluation-poster_cnn-test-tuned-per-genre.json."""
    slug = re.sub(r"[^A-Za-z0-9_]+", "-", threshold_mode).strip("-")
    return f"evaluation-{model}-{split}-{slug}.{extension}"

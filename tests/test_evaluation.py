"""genre_app/evaluation.py: the Evaluate page's downloads read back into the report's figures."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np

from genre_app import evaluation
from genre_models.metrics import evaluate_scores

GENRES = ["Drama", "Comedy", "Horror", "Western"]


def sample_report(thresholds=0.5) -> dict:
    rng = np.random.default_rng(7)
    labels = (rng.random((80, 4)) < [0.5, 0.4, 0.2, 0.0]).astype(np.int8)
    scores = np.clip(labels * 0.3 + rng.random((80, 4)) * 0.7, 0, 1)
    return evaluate_scores(labels, scores, thresholds, GENRES)


def test_the_per_genre_csv_reads_back_into_the_reports_figures():
    report = sample_report(np.array([0.4, 0.5, 0.6, 0.5]))
    rows = list(csv.DictReader(io.StringIO(evaluation.build_per_genre_csv(report).decode("utf-8"))))
    assert [row["genre"] for row in rows] == GENRES and list(rows[0]) == evaluation.TABLE_COLUMNS
    for row in rows:
        values = report["per_genre"][row["genre"]]
        for key in ("threshold", "precision", "recall", "f1"):
            assert float(row[key]) == values[key]
        assert int(row["support"]) == values["support"]
        assert int(row["true_positives"]) == values["confusion"]["tp"]
        assert int(row["false_positives"]) == values["confusion"]["fp"]
        assert int(row["false_negatives"]) == values["confusion"]["fn"]
        assert int(row["true_negatives"]) == values["confusion"]["tn"]
        # A genre with no film in the split has no average precision: an empty cell, not 0.
        assert (row["average_precision"] == "") == (values["average_precision"] is None)
    table = evaluation.build_per_genre_table(report)
    assert table["f1"].tolist() == [report["per_genre"][genre]["f1"] for genre in GENRES]


def test_the_report_json_is_the_cli_format_with_the_view_it_was_taken_from():
    report = sample_report(0.3)
    document = json.loads(evaluation.build_report_json(report, "poster_cnn", "validation", "one global threshold",
                                                       "abc123", "abc123"))
    assert {key: document[key] for key in ("model", "split", "data_fingerprint", "same_data_as_training",
                                           "threshold_mode")} == {
        "model": "poster_cnn", "split": "validation", "data_fingerprint": "abc123", "same_data_as_training": True,
        "threshold_mode": "one global threshold"}
    for key in ("films", "micro_f1", "macro_f1", "samples_f1", "precision_at_3", "recall_at_3"):
        assert math.isclose(document[key], report[key])
    assert {genre: values["threshold"] for genre, values in document["per_genre"].items()} == \
        {genre: 0.3 for genre in GENRES}
    assert document["per_genre"]["Western"]["average_precision"] is None
    other_data = json.loads(evaluation.build_report_json(report, "m", "test", "tuned per genre", "abc", "xyz"))
    assert other_data["same_data_as_training"] is False


def test_download_names_say_which_view_they_hold():
    assert evaluation.build_download_name("poster_cnn", "test", "tuned per genre", "json") == \
        "evaluation-poster_cnn-test-tuned-per-genre.json"

"""genre_app/tables.py: the models table's rows and headers."""

from __future__ import annotations

import pytest

from genre_app import tables

METADATA = {
    "name": "course_cnn", "input_kind": "poster", "thresholds": {"policy": "per_genre"},
    "metrics": {"test": {"micro_f1": 0.5, "macro_f1": 0.25, "global_threshold_micro_f1": 0.45}},
    "training": {"epochs_run": 3, "seconds": 90}, "created_at": "2026-01-01T00:00:00", "command": "x",
}


def test_model_figures_are_the_test_columns_of_the_table_row():
    figures = tables.model_figures(METADATA)
    assert figures["test micro_f1"] == 0.5 and figures["test macro_f1"] == 0.25
    assert figures["test micro_f1 (one global threshold)"] == 0.45
    assert all(key.startswith("test ") for key in figures)


@pytest.mark.parametrize("metadata", [None, [], {"metrics": {}}, "text"])
def test_model_figures_of_missing_or_damaged_metadata_are_empty(metadata):
    assert tables.model_figures(metadata) == {}


def test_metric_columns_get_readable_headers_and_three_decimals():
    settings = tables.metric_column_config(["model", "test micro_f1", "test macro_average_precision",
                                             "test micro_f1 (one global threshold)"])
    assert set(settings) == {"test micro_f1", "test macro_average_precision",
                             "test micro_f1 (one global threshold)"}
    assert settings["test macro_average_precision"]["label"] == "test macro AP"
    assert settings["test micro_f1"]["type_config"]["format"] == "%.3f"


def test_a_static_table_row_has_readable_headers_three_decimals_blanks_and_no_command():
    row = tables.format_table_row({"model": "x", "test macro_average_precision": 0.53312, "epochs": 2.0,
                                   "test micro_f1 (one global threshold)": None, "command": "python -m ..."})
    assert row == {"model": "x", "test macro AP": "0.533", "epochs": "2",
                   "test micro-F1 (one global threshold)": ""}


def test_the_baseline_row_says_what_it_always_answers():
    row = tables.baseline_row({"predicts_always": ["Comedy", "Drama"], "metrics": {"test": {"micro_f1": 0.4}},
                               "created_at": "2026-01-02T00:00:00", "command": "python -m genre_models baselines"})
    assert row["model"] == "baseline: always Comedy + Drama" and row["test micro_f1"] == 0.4
    assert row["trained"] == "2026-01-02" and tables.baseline_row(None) is None

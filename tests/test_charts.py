"""Charts of the app (genre_app.charts): figures carry the numbers they claim to show."""

from __future__ import annotations

import numpy as np

from genre_app import charts
from genre_models.dataset import load_dataset


def test_cooccurrence_counts_pairs_and_leaves_the_diagonal_blank(synthetic_dataset):
    dataset = load_dataset(synthetic_dataset)
    matrix = np.array(charts.plot_cooccurrence(dataset).data[0].z, dtype=float)
    labels = dataset.labels.astype(int)
    first, second = 0, 1
    both = int(np.sum(labels[:, first] & labels[:, second]))
    assert matrix.shape == (len(dataset.genres), len(dataset.genres))
    assert matrix[first, second] == matrix[second, first] == both
    # A genre with itself is its film count, drawn in the bars instead; here it would set the scale.
    assert np.isnan(np.diag(matrix)).all()
    assert np.nansum(matrix) == np.sum(labels.T @ labels) - np.sum(labels)


# --- Issue 18: charts a newcomer can read -----------------------------------------------------------------------

def test_probability_bars_show_percentages_and_readable_hover_text():
    from genre_models.inference import ModelPrediction

    prediction = ModelPrediction(model="m", input_kind="overview", probabilities={"Drama": 0.62, "Horror": 0.05},
                                 top=["Drama", "Horror"], predicted=["Drama"])
    figure = charts.plot_probabilities(prediction, np.array([0.4, 0.3]))
    over, below = figure.data[0], figure.data[1]
    assert list(over.text) == ["62%"] and list(below.text) == ["5%"]
    assert "%{x:.0%}" in over.hovertemplate and "over its threshold" in over.hovertemplate
    assert "below its threshold" in below.hovertemplate
    assert figure.layout.xaxis.tickformat == ".0%"


def test_learning_rate_is_on_a_log_scale():
    figure = charts.plot_learning_rate([{"epoch": 1, "learning_rate": 1e-3}, {"epoch": 2, "learning_rate": 1e-5}])
    assert figure.layout.yaxis.type == "log"


def test_curves_before_the_first_epoch_show_a_waiting_note_not_empty_axes():
    for figure in (charts.plot_epoch_curves([], "loss"), charts.plot_learning_rate([]),
                   charts.plot_batch_curve([], "loss"), charts.plot_runs_overlay({"run": []}, "val_loss")):
        assert not figure.data
        assert figure.layout.xaxis.visible is False and figure.layout.yaxis.visible is False
        assert "Waiting for the first" in figure.layout.annotations[0].text or "No finished epoch" in \
            figure.layout.annotations[0].text


def test_confusion_grid_names_its_axes():
    confusion = {"tp": 3, "fn": 1, "fp": 2, "tn": 10}
    report = {"per_genre": {genre: {"confusion": confusion} for genre in ("Drama", "Comedy")}}
    figure = charts.plot_confusion_grid(report, ["Drama", "Comedy"], columns=2)
    assert "predicted" in figure.layout.xaxis.title.text and "true" in figure.layout.yaxis.title.text
    assert figure.layout.xaxis.visible is not False and "pred. yes" in figure.layout.xaxis.ticktext
    assert "true no" in figure.layout.yaxis.ticktext

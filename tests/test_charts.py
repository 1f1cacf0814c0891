"""Charts of the app (genre_app.charts): figures carry the numbers they claim to show."""

from __future__ import annotations

import numpy as np

from genre_app import charts, train_charts
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


# --- charts a newcomer can read -----------------------------------------------------------------------

def test_learning_rate_is_on_a_log_scale():
    figure = train_charts.plot_learning_rate([{"epoch": 1, "learning_rate": 1e-3}, {"epoch": 2, "learning_rate": 1e-5}])
    assert figure.layout.yaxis.type == "log"


def test_curves_before_the_first_epoch_show_a_waiting_note_not_empty_axes():
    for figure in (train_charts.plot_epoch_curves([], "loss"), train_charts.plot_learning_rate([]),
                   train_charts.plot_batch_curve([], "loss"), train_charts.plot_runs_overlay({"run": []}, "val_loss")):
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


# --- headings that keep their words, marks for the dark theme, more than colour, captions ---------

LIGHT_BACKGROUND, DARK_BACKGROUND = "#ffffff", "#0e1117"  # Streamlit's two themes


def relative_luminance(colour: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours."""
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def colours_in(value) -> list[str]:
    """Every string under a figure's JSON whose key names a colour."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if "color" in key and isinstance(item, str):
                found.append(item.lower())
            else:
                found += colours_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found += colours_in(item)
    return found


def sample_report(seed: int = 0, threshold: float = 0.5):
    from genre_models.metrics import evaluate_scores

    rng = np.random.default_rng(seed)
    genres = ["Drama", "Comedy", "Horror", "Western"]
    labels = (rng.random((60, 4)) < [0.5, 0.4, 0.2, 0.0]).astype(np.int8)
    scores = np.clip(labels * 0.35 + rng.random((60, 4)) * 0.65, 0, 1)
    return genres, labels, scores, evaluate_scores(labels, scores, threshold, genres)


def every_figure():
    """One of each figure the pages draw, on small made-up data."""
    genres, labels, scores, report = sample_report()
    epochs = [{"epoch": 1, "loss": 0.5, "val_loss": 0.6, "learning_rate": 1e-3},
              {"epoch": 2, "loss": 0.4, "val_loss": 0.5, "learning_rate": 1e-4}]
    return [charts.plot_confusion_grid(report, genres, columns=2), charts.plot_precision_recall_f1(report),
            charts.plot_precision_recall_curves(labels, scores, genres, genres, report),
            charts.plot_f1_comparison({"a": report, "b": sample_report(1)[3]}),
            train_charts.plot_epoch_curves(epochs, "loss"), train_charts.plot_epoch_curves([], "loss"),
            train_charts.plot_batch_curve([{"loss": 0.5}, {"loss": 0.4}]), train_charts.plot_learning_rate(epochs),
            train_charts.plot_runs_overlay({"run": epochs}, "val_loss")]


def test_titles_wrap_between_words_never_inside_one():
    title = "loss per batch (running mean within the epoch) of a run with a rather long name"
    lines = charts.wrap_title(title).split("<br>")
    assert len(lines) > 1 and all(len(line) <= charts.TITLE_CHARACTERS_PER_LINE for line in lines)
    assert " ".join(lines) == title  # every word whole, in order
    # A word longer than a line stays whole on a line of its own.
    assert charts.wrap_title("Science-Fiction" * 3) == "Science-Fiction" * 3


def test_every_chart_title_is_wrapped_by_words_with_room_for_its_lines():
    titled = [figure for figure in every_figure() if figure.layout.title.text]
    assert len(titled) >= 4
    for figure in titled:
        lines = figure.layout.title.text.split("<br>")
        assert all(len(line) <= charts.TITLE_CHARACTERS_PER_LINE or " " not in line for line in lines)
        assert figure.layout.margin.t >= 20 * len(lines)
    batch = train_charts.plot_batch_curve([{"loss": 0.5}])
    assert batch.layout.title.text.replace("<br>", " ") == "loss per batch (running mean within the epoch)"


def test_no_figure_hard_codes_black_or_white():
    for figure in every_figure():
        content = figure.to_plotly_json()
        content["layout"].pop("template", None)  # Plotly's default theme: Streamlit draws with its own instead
        assert not set(colours_in(content)) & {"black", "#000", "#000000", "white", "#fff", "#ffffff"}


def test_grouped_bars_differ_by_pattern_as_well_as_colour():
    _, _, _, report = sample_report()
    for figure in (charts.plot_precision_recall_f1(report),
                   charts.plot_f1_comparison({"a": report, "b": sample_report(1)[3]})):
        patterns = [trace.marker.pattern.shape or "" for trace in figure.data]
        assert len(set(patterns)) == len(patterns)


def test_evaluation_captions_say_what_the_charts_show_with_the_reports_figures():
    genres, _, _, report = sample_report()
    present = [genre for genre in genres if report["per_genre"][genre]["support"] > 0]
    best = max(present, key=lambda genre: report["per_genre"][genre]["f1"])
    assert f"Highest F1: {best} {report['per_genre'][best]['f1']:.2f}" in charts.describe_precision_recall_f1(report)
    drama = report["per_genre"]["Drama"]
    confusion = charts.describe_confusion_grid(report)
    assert f"Drama {drama['confusion']['tp']} of {drama['support']}" in confusion and "Western" not in confusion
    curves = charts.describe_precision_recall_curves(report, ["Drama", "Western"])
    assert f"Drama: average precision {drama['average_precision']:.2f}" in curves
    assert f"precision {drama['precision']:.2f} and recall {drama['recall']:.2f}" in curves
    assert "Western: no film with it in this split" in curves
    other = sample_report(1, threshold=0.9)[3]
    ahead = sum(report["per_genre"][g]["f1"] > other["per_genre"][g]["f1"] for g in present)
    behind = sum(report["per_genre"][g]["f1"] < other["per_genre"][g]["f1"] for g in present)
    comparison = charts.describe_f1_comparison({"first": report, "second": other})
    assert f"over the {len(present)} genres with films in this split, first is ahead on {ahead}, second on " \
           f"{behind}" in comparison


def test_epoch_and_step_axes_tick_on_whole_numbers_only():
    epochs = [{"epoch": epoch, "loss": 1 / epoch, "val_loss": 1.1 / epoch, "learning_rate": 1e-3}
              for epoch in (1, 2)]
    for figure in (train_charts.plot_epoch_curves(epochs, "loss"), train_charts.plot_learning_rate(epochs),
                   train_charts.plot_batch_curve([{"loss": 0.5}, {"loss": 0.4}]),
                   train_charts.plot_runs_overlay({"run": epochs}, "val_loss")):
        assert figure.layout.xaxis.tick0 == 1 and figure.layout.xaxis.dtick == 1
    forty = [{"epoch": epoch, "loss": 1.0} for epoch in range(1, 41)]
    assert train_charts.plot_epoch_curves(forty, "loss").layout.xaxis.dtick == 5  # about eight ticks, whole

"""The report's charts as Plotly figure specs (plain dicts of data and layout, drawn by the inlined
plotly.js): no plotly Python objects are built, and numbers are rounded so a report with every
model stays a few megabytes.

The app draws similar charts with plotly graph objects (genre_app.charts); the report keeps its
own specs because genre_models may not depend on the app's package.
"""

from __future__ import annotations

import numpy as np

from genre_models.metrics import rank_precision_recall

# Decimals kept for probabilities and figures in the charts' data.
DECIMALS = 4
# Per-epoch figures drawn in the "validation figures" chart, when the history has them (models
# trained before micro/macro-F1 and PR-AUC were recorded per epoch have only the last four).
VALIDATION_FIGURES = ("val_micro_f1", "val_macro_f1", "val_pr_auc", "val_auc", "val_precision", "val_recall",
                      "val_binary_accuracy")


def round_values(values) -> list:
    """Return numbers rounded to DECIMALS as a JSON-ready list (None for missing or non-finite values)."""
    array = np.asarray(values, dtype=np.float64)
    rounded = np.round(array, DECIMALS)
    return [None if not np.isfinite(value) else float(value) for value in rounded.ravel()]


def make_layout(x_title: str, y_title: str, height: int = 360, **extra) -> dict:
    """Return a compact layout with axis titles."""
    return {"height": height, "margin": {"l": 60, "r": 20, "t": 40, "b": 60},
            # automargin: rotated genre names get room inside the chart instead of spilling below it.
            "xaxis": {"title": {"text": x_title}, "automargin": True},
            "yaxis": {"title": {"text": y_title}, "automargin": True},
            # Above the plot: below it, rotated genre names would run into it on a narrow (printed) page.
            "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}, **extra}


def plot_genre_counts(genres: list[str], labels: np.ndarray) -> dict:
    """Bar chart of films per genre, most common first."""
    counts = labels.sum(axis=0)
    order = np.argsort(-counts, kind="mergesort")
    return {"data": [{"type": "bar", "x": [genres[i] for i in order], "y": [int(counts[i]) for i in order],
                      "hovertemplate": "%{x}: %{y} films<extra></extra>"}],
            "layout": make_layout("genre", "films")}


def plot_split_genres(genres: list[str], labels: np.ndarray, splits: np.ndarray) -> dict:
    """Stacked bars of films per genre in each split."""
    data = [{"type": "bar", "name": split, "x": genres, "y": [int(v) for v in labels[splits == split].sum(axis=0)]}
            for split in ("train", "validation", "test")]
    return {"data": data, "layout": make_layout("genre", "films", barmode="stack")}


def plot_cooccurrence(genres: list[str], labels: np.ndarray) -> dict:
    """Heatmap of how many films two different genres share (the diagonal, a genre's own count, is
    left blank: Drama alone would otherwise set the colour scale)."""
    matrix = (labels.astype(np.int64).T @ labels.astype(np.int64)).astype(float)
    np.fill_diagonal(matrix, np.nan)
    z = [[None if np.isnan(value) else int(value) for value in row] for row in matrix]
    return {"data": [{"type": "heatmap", "z": z, "x": genres, "y": genres, "colorscale": "Blues",
                      "hoverongaps": False, "colorbar": {"title": {"text": "films"}},
                      "hovertemplate": "%{y} & %{x}: %{z} films<extra></extra>"}],
            "layout": {**make_layout("", "", height=560), "yaxis": {"autorange": "reversed"},
                       "margin": {"l": 90, "r": 20, "t": 20, "b": 90}}}


def plot_precision_recall_f1(report: dict) -> dict:
    """Grouped bars of each genre's precision, recall and F1 at the model's thresholds."""
    genres = list(report["per_genre"])
    data = [{"type": "bar", "name": key, "x": genres, "y": round_values([report["per_genre"][g][key] for g in genres])}
            for key in ("precision", "recall", "f1")]
    return {"data": data, "layout": make_layout("genre", "", barmode="group",
                                                yaxis={"range": [0, 1], "automargin": True})}


def plot_precision_recall_curves(labels: np.ndarray, scores: np.ndarray, genres: list[str], report: dict) -> dict:
    """Precision-recall curve of every genre with positive films, and each genre's operating point
    at its threshold (one marker trace)."""
    data, points = [], {"recall": [], "precision": [], "text": []}
    for column, genre in enumerate(genres):
        if labels[:, column].sum() == 0:
            continue
        precision, recall, _ = rank_precision_recall(labels[:, column], scores[:, column])
        data.append({"type": "scatter", "mode": "lines", "name": genre, "x": round_values(recall),
                     "y": round_values(precision), "line": {"width": 1.5},
                     "hovertemplate": f"{genre}: recall %{{x:.2f}}, precision %{{y:.2f}}<extra></extra>"})
        operating = report["per_genre"][genre]
        points["recall"].append(operating["recall"])
        points["precision"].append(operating["precision"])
        points["text"].append(genre)
    data.append({"type": "scatter", "mode": "markers", "name": "at each genre's threshold",
                 "x": round_values(points["recall"]), "y": round_values(points["precision"]), "text": points["text"],
                 "marker": {"symbol": "x", "size": 8, "color": "black"},
                 "hovertemplate": "%{text} at its threshold: recall %{x:.2f}, precision %{y:.2f}<extra></extra>"})
    return {"data": data, "layout": make_layout("recall", "precision", height=460,
                                                xaxis={"title": {"text": "recall"}, "range": [0, 1.02]},
                                                yaxis={"title": {"text": "precision"}, "range": [0, 1.02]},
                                                legend={"font": {"size": 10}, "orientation": "v"})}


def plot_epoch_figures(epochs: list[dict], keys: list[str], title: str) -> dict:
    """Lines of the given per-epoch figures of a training history."""
    xs = [record.get("epoch") for record in epochs]
    data = [{"type": "scatter", "mode": "lines+markers", "name": key, "x": xs,
             "y": round_values([record.get(key, np.nan) for record in epochs])} for key in keys]
    return {"data": data, "layout": make_layout("epoch", title, height=320)}


def plot_training_curves(epochs: list[dict]) -> list[tuple[str, dict]]:
    """Return [(caption, figure)]: the loss (training and validation) and the validation figures per
    epoch of a history's records (fileio.read_epoch_records); none without epochs (a fusion fits
    weights, not epochs)."""
    if not epochs:
        return []
    losses = [key for key in ("loss", "val_loss") if any(key in record for record in epochs)]
    validation = [key for key in VALIDATION_FIGURES if any(key in record for record in epochs)]
    curves = [("Loss per epoch (training and validation)", plot_epoch_figures(epochs, losses, "loss"))]
    if validation:
        curves.append(("Validation figures per epoch (F1, precision, recall and accuracy at a 0.5 threshold)",
                       plot_epoch_figures(epochs, validation, "")))
    return curves

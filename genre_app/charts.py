"""Plotly figures for the pages (data shaping in NumPy/pandas, no TensorFlow), and each figure's
description in words for the caption under it (a chart's text alternative).

Figures read on the light and the dark theme alike: no black or white is hard-coded, marks that must stand
out use NEUTRAL_COLOUR, and what a colour says is also said by text or a shape.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from genre_models.dataset import MovieDataset
from genre_models.metrics import rank_precision_recall

# A mid grey, legible on Streamlit's light (white) and dark (#0e1117) backgrounds: contrast 3.5:1 and 5.3:1,
# above the 3:1 that graphics need. Black threshold marks vanished on the dark theme.
NEUTRAL_COLOUR = "#888888"
# Characters per line of a chart title: a title as wide as a third of the page (the Train page's columns)
# was cut at the figure's edge, mid-word, since Plotly never wraps titles itself.
TITLE_CHARACTERS_PER_LINE = 32
# Bar patterns of a grouped bar chart's series, so they differ by shape as well as colour.
SERIES_PATTERNS = ["", "/", ".", "x", "+", "-"]


def wrap_title(text: str, characters_per_line: int = TITLE_CHARACTERS_PER_LINE) -> str:
    """Return a chart title broken into lines between words (never inside one), joined by Plotly's <br>."""
    lines = textwrap.wrap(str(text), characters_per_line, break_long_words=False, break_on_hyphens=False)
    return "<br>".join(lines) or str(text)


def title_layout(text: str) -> dict:
    """Return the layout of a titled chart: the title wrapped by words, left-aligned, and a top margin
    that fits its lines."""
    wrapped = wrap_title(text)
    return {"title": {"text": wrapped, "x": 0, "xanchor": "left", "font": {"size": 15}},
            "margin": {"t": 24 + 20 * (wrapped.count("<br>") + 1), "b": 0}}


def format_percent(value: float) -> str:
    """Return a share as a whole percentage ("62%")."""
    return f"{value:.0%}"


# Plain graph objects throughout: Plotly Express adds 50-70 ms per figure, felt on every rerun.
def axis_titles(x: str, y: str) -> dict:
    """Layout with axis titles and compact margins."""
    return {"xaxis": {"title": x}, "yaxis": {"title": y}, "margin": {"t": 20, "b": 0}, "height": 380}


def plot_films_per_genre(dataset: MovieDataset) -> go.Figure:
    """Bar chart of positive films per genre."""
    counts = pd.Series(dataset.labels.sum(axis=0), index=dataset.genres).sort_values(ascending=False)
    return go.Figure(go.Bar(x=counts.index, y=counts.values), layout=axis_titles("genre", "films"))


def plot_genres_per_film(dataset: MovieDataset) -> go.Figure:
    """Histogram of how many genres each film has."""
    counts = pd.Series(dataset.labels.sum(axis=1)).value_counts().sort_index()
    return go.Figure(go.Bar(x=counts.index.astype(str), y=counts.values), layout=axis_titles("genres per film", "films"))


def plot_cooccurrence(dataset: MovieDataset) -> go.Figure:
    """Heatmap of how often two different genres label the same film.

    The diagonal (a genre with itself, i.e. its film count) is left blank: Drama alone would
    otherwise set the colour scale and wash out every pair.
    """
    labels = dataset.labels.astype(np.int64)
    matrix = (labels.T @ labels).astype(float)
    np.fill_diagonal(matrix, np.nan)
    return go.Figure(go.Heatmap(z=matrix, x=dataset.genres, y=dataset.genres, colorscale="Blues",
                                colorbar={"title": "films"}, hoverongaps=False,
                                hovertemplate="%{y} & %{x}: %{z:.0f} films<extra></extra>"),
                     layout={"yaxis": {"autorange": "reversed"}, "margin": {"t": 20, "b": 0}, "height": 480})


def plot_overview_lengths(dataset: MovieDataset) -> go.Figure:
    """Histogram of overview lengths in words."""
    words = np.array([len(str(text).split()) for text in dataset.overviews])
    return go.Figure(go.Histogram(x=words, nbinsx=40), layout=axis_titles("words in overview", "films"))


def plot_split_sizes(dataset: MovieDataset) -> go.Figure:
    """Stacked bars of positive films per genre in each split."""
    bars = [go.Bar(x=dataset.genres, y=dataset.labels[dataset.splits == split].sum(axis=0), name=split)
            for split in ("train", "validation", "test")]
    return go.Figure(bars, layout={**axis_titles("genre", "films"), "barmode": "stack"})


def plot_confusion_grid(report: dict, genres: list[str], columns: int = 5) -> go.Figure:
    """A grid of small 2x2 confusion matrices, one per genre (rows: truth yes/no, columns: predicted yes/no).

    Drawn as one heatmap trace with blank gutters: 25 separate subplots take ~140 ms to build,
    too slow for a threshold slider that must feel live.
    """
    rows = int(np.ceil(len(genres) / columns))
    shares = np.full((rows * 3, columns * 3), np.nan)
    counts = np.full(shares.shape, "", dtype=object)
    hover = np.full(shares.shape, "", dtype=object)
    annotations = []
    cell_names = [["true yes, predicted yes", "true yes, predicted no"], ["true no, predicted yes", "true no, predicted no"]]
    for index, genre in enumerate(genres):
        top, left = (index // columns) * 3 + 1, (index % columns) * 3
        confusion = report["per_genre"][genre]["confusion"]
        matrix = np.array([[confusion["tp"], confusion["fn"]], [confusion["fp"], confusion["tn"]]])
        # Colour by share of the true row so rare genres are as readable as common ones.
        shares[top:top + 2, left:left + 2] = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        for i in range(2):
            for j in range(2):
                counts[top + i, left + j] = str(matrix[i, j])
                hover[top + i, left + j] = f"{genre}: {cell_names[i][j]}: {matrix[i, j]}"
        annotations.append({"x": left + 0.5, "y": top - 0.75, "text": genre, "showarrow": False,
                            "font": {"size": 11}, "xref": "x", "yref": "y"})
    figure = go.Figure(
        data=[go.Heatmap(z=shares, text=counts, texttemplate="%{text}", customdata=hover, colorscale="Blues",
                         zmin=0, zmax=1, showscale=False, xgap=2, ygap=2,
                         hovertemplate="%{customdata}<extra></extra>")],
        layout={"height": 150 * rows + 60, "margin": {"l": 0, "r": 0, "t": 10, "b": 0}, "annotations": annotations,
                # Each small matrix's rows and columns named on the axes: rows the truth, columns the prediction.
                "xaxis": {"title": "predicted: yes | no (each genre's columns)", "showgrid": False,
                          "zeroline": False, "tickvals": [c * 3 + j for c in range(columns) for j in (0, 1)],
                          "ticktext": ["pred. yes", "pred. no"] * columns, "tickfont": {"size": 10}},
                "yaxis": {"title": "true: yes | no (each genre's rows)", "autorange": "reversed",
                          "showgrid": False, "zeroline": False,
                          "tickvals": [r * 3 + 1 + i for r in range(rows) for i in (0, 1)],
                          "ticktext": ["true yes", "true no"] * rows, "tickfont": {"size": 10}},
                "plot_bgcolor": "rgba(0,0,0,0)"},
    )
    return figure


def per_genre_frame(report: dict) -> pd.DataFrame:
    """Per-genre precision/recall/F1/support as a table."""
    return pd.DataFrame([
        {"genre": genre, "support": values["support"], "threshold": values["threshold"],
         "precision": values["precision"], "recall": values["recall"], "f1": values["f1"],
         "average_precision": values["average_precision"]}
        for genre, values in report["per_genre"].items()
    ])


def plot_precision_recall_f1(report: dict) -> go.Figure:
    """Grouped bars of per-genre precision, recall and F1 (plain graph objects: fast enough for a live slider)."""
    frame = per_genre_frame(report)
    return go.Figure(
        data=[go.Bar(x=frame["genre"], y=frame[metric], name=metric, marker_pattern_shape=pattern)
              for metric, pattern in zip(("precision", "recall", "f1"), SERIES_PATTERNS)],
        layout={"barmode": "group", "yaxis": {"range": [0, 1]}, "height": 380, "margin": {"t": 20}},
    )


def plot_precision_recall_curves(labels: np.ndarray, scores: np.ndarray, genres: list[str],
                                 selected: list[str], report: dict) -> go.Figure:
    """Precision-recall curves for the selected genres, with each genre's operating point from ``report``.

    NumPy arrays go straight to Plotly: Python lists of hundreds of points are converted
    element by element and made the live threshold slider lag.
    """
    traces = []
    for genre in selected:
        column = genres.index(genre)
        if labels[:, column].sum() == 0:
            continue
        precision, recall, _ = rank_precision_recall(labels[:, column], scores[:, column])
        traces.append(go.Scatter(x=recall, y=precision, mode="lines", name=genre))
        operating = report["per_genre"][genre]
        traces.append(go.Scatter(x=[operating["recall"]], y=[operating["precision"]], mode="markers",
                                 name=f"{genre} @ threshold", marker={"size": 10, "symbol": "x"}))
    return go.Figure(data=traces, layout={"xaxis": {"title": "recall", "range": [0, 1.02]},
                                          "yaxis": {"title": "precision", "range": [0, 1.02]}, "height": 420})


def plot_f1_comparison(reports: dict[str, dict]) -> go.Figure:
    """Side-by-side per-genre F1 of several models."""
    bars = []
    for name, report in reports.items():
        frame = per_genre_frame(report)
        bars.append(go.Bar(x=frame["genre"], y=frame["f1"], name=name,
                           marker_pattern_shape=SERIES_PATTERNS[len(bars) % len(SERIES_PATTERNS)]))
    return go.Figure(data=bars, layout={"barmode": "group", "yaxis": {"range": [0, 1], "title": "F1"}, "height": 380,
                                        "margin": {"t": 20}})


def genres_with_films(report: dict) -> list[str]:
    """Return the report's genres that have positive films in its split (the others' figures mean nothing)."""
    return [genre for genre, values in report["per_genre"].items() if values["support"] > 0]


def describe_confusion_grid(report: dict) -> str:
    """Describe the confusion matrices in words: what each cell counts, and the genres whose films were
    found most and least often (recall)."""
    found = sorted(((values["confusion"]["tp"], values["support"], genre)
                    for genre, values in report["per_genre"].items() if values["support"] > 0),
                   key=lambda item: (-item[0] / item[1], item[2]))
    shares = [f"{genre} {hits} of {support} ({format_percent(hits / support)})" for hits, support, genre in found]
    text = (f"One 2x2 matrix per genre with films in this split ({len(found)}): rows say whether a film has the "
            "genre, columns whether the model predicted it; each cell counts films.")
    if shares:
        text += (f" Films with the genre found most often: {', '.join(shares[:3])}; "
                 f"least often: {', '.join(shares[-3:])}.")
    return text


def describe_precision_recall_f1(report: dict) -> str:
    """Describe the per-genre bars in words: the genres with the highest and the lowest F1."""
    ranked = sorted(genres_with_films(report), key=lambda genre: (-report["per_genre"][genre]["f1"], genre))
    named = [f"{genre} {report['per_genre'][genre]['f1']:.2f}" for genre in ranked]
    text = ("Precision (plain bars), recall (striped) and F1 (dotted) of each genre, from 0 to 1, at the "
            "thresholds chosen above.")
    if named:
        text += f" Highest F1: {', '.join(named[:3])}; lowest: {', '.join(named[-3:])}."
    return text


def describe_precision_recall_curves(report: dict, selected: list[str]) -> str:
    """Describe the precision-recall curves in words: each genre's average precision and where its
    threshold puts it."""
    parts = []
    for genre in selected:
        values = report["per_genre"][genre]
        if values["support"] == 0:
            parts.append(f"{genre}: no film with it in this split, so no curve")
            continue
        average = values["average_precision"]
        parts.append(f"{genre}: average precision {'n/a' if average is None else f'{average:.2f}'}, at its "
                     f"threshold precision {values['precision']:.2f} and recall {values['recall']:.2f} (the x)")
    return ("Precision against recall as each genre's threshold moves from high to low. "
            + ("; ".join(parts) if parts else "No genre chosen") + ".")


def describe_f1_comparison(reports: dict[str, dict]) -> str:
    """Describe the side-by-side F1 bars of two models in words: on how many genres each is ahead."""
    if len(reports) != 2:
        return f"Per-genre F1 of {', '.join(reports)} side by side (one bar pattern per model)."
    (first, first_report), (second, second_report) = reports.items()
    genres = [genre for genre in genres_with_films(first_report) if genre in second_report["per_genre"]]
    differences = [first_report["per_genre"][g]["f1"] - second_report["per_genre"][g]["f1"] for g in genres]
    ahead, behind = sum(d > 0 for d in differences), sum(d < 0 for d in differences)
    return (f"Per-genre F1 of {first} (plain bars) and {second} (striped): over the {len(genres)} genres with "
            f"films in this split, {first} is ahead on {ahead}, {second} on {behind}, "
            f"and they tie on {len(genres) - ahead - behind}.")

"""The Dataset browser's charts as Vega-Lite specifications (plain dicts, the counts made in NumPy).

Vega-Lite rather than Plotly here: in headless Chromium on this machine a page with the five
Plotly charts took 3-4 s to draw (Plotly's script is parsed per page, even for one chart), the
same page with Vega-Lite charts 1.5-2 s (`python -m benchmarks.dataset_browser`). The counts are
made here, so each chart sends at most a few hundred numbers, never one row per film.
"""

from __future__ import annotations

import numpy as np

from genre_models.dataset import MovieDataset

SPLITS = ("train", "validation", "test")
HEIGHT = 340


def build_chart(values: list[dict], mark: dict | str, encoding: dict, height: int = HEIGHT) -> dict:
    """Return a Vega-Lite specification holding its own data."""
    return {"data": {"values": values}, "mark": mark, "encoding": encoding, "height": height}


def build_films_per_genre(dataset: MovieDataset) -> dict:
    """Bars of the films labelled with each genre, most common first."""
    counts = dataset.labels.sum(axis=0)
    values = [{"genre": genre, "films": int(count)} for genre, count in zip(dataset.genres, counts)]
    return build_chart(values, {"type": "bar", "tooltip": True}, {
        "x": {"field": "genre", "type": "nominal", "sort": "-y", "title": "genre"},
        "y": {"field": "films", "type": "quantitative", "title": "films"}})


def build_genres_per_film(dataset: MovieDataset) -> dict:
    """Bars of how many films have 1, 2, 3... genres."""
    per_film = dataset.labels.sum(axis=1).astype(int)
    numbers, counts = np.unique(per_film, return_counts=True)
    values = [{"genres per film": int(number), "films": int(count)} for number, count in zip(numbers, counts)]
    return build_chart(values, {"type": "bar", "tooltip": True}, {
        "x": {"field": "genres per film", "type": "ordinal", "axis": {"labelAngle": 0}},
        "y": {"field": "films", "type": "quantitative"}})


def build_cooccurrence(dataset: MovieDataset) -> dict:
    """Heatmap of the films labelled with both of two different genres.

    The diagonal (a genre with itself, its film count) is left out: Drama alone would set the
    colour scale and wash out every pair.
    """
    labels = dataset.labels.astype(np.int64)
    matrix = labels.T @ labels
    values = [{"genre": first, "with": second, "films": int(matrix[i, j])}
              for i, first in enumerate(dataset.genres) for j, second in enumerate(dataset.genres) if i != j]
    order = list(dataset.genres)
    return build_chart(values, {"type": "rect", "tooltip": True}, {
        # Every genre named on both axes (Vega-Lite would drop every other label to avoid overlaps).
        "x": {"field": "with", "type": "nominal", "sort": order, "title": None, "axis": {"labelOverlap": False}},
        "y": {"field": "genre", "type": "nominal", "sort": order, "title": None, "axis": {"labelOverlap": False}},
        "color": {"field": "films", "type": "quantitative", "scale": {"scheme": "blues"}}}, height=480)


def build_overview_lengths(dataset: MovieDataset) -> dict:
    """Bars of the films per overview length in words."""
    words = np.array([len(str(text).split()) for text in dataset.overviews], dtype=int)
    numbers, counts = np.unique(words, return_counts=True)
    values = [{"words in overview": int(number), "films": int(count)} for number, count in zip(numbers, counts)]
    return build_chart(values, {"type": "bar", "tooltip": True}, {
        "x": {"field": "words in overview", "type": "quantitative", "bin": {"maxbins": 40}},
        "y": {"aggregate": "sum", "field": "films", "type": "quantitative", "title": "films"}})


def build_split_sizes(dataset: MovieDataset) -> dict:
    """Stacked bars of each genre's films in the train, validation and test splits."""
    values = []
    for split in SPLITS:
        counts = dataset.labels[dataset.splits == split].sum(axis=0)
        values.extend({"genre": genre, "split": split, "split_order": SPLITS.index(split), "films": int(count)}
                      for genre, count in zip(dataset.genres, counts))
    return build_chart(values, {"type": "bar", "tooltip": True}, {
        "x": {"field": "genre", "type": "nominal", "title": "genre"},
        "y": {"field": "films", "type": "quantitative", "stack": "zero"},
        "color": {"field": "split", "type": "nominal", "sort": list(SPLITS)},
        "order": {"field": "split_order", "type": "quantitative"}})

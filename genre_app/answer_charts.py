"""The Predict page's charts: one comparison of every model (models x genres, each cell a probability, the
genres over that model's own bar marked), and one model's every genre against its bar; each with its
description in words (the chart's text alternative).

Genres are listed as genre_models.readings.read_genres reads them (most likely first, each with its bar).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from genre_models.readings import percent, read_prediction
from genre_app.charts import NEUTRAL_COLOUR

# Probability bars over and under their genre's bar (colour, and the text beside each says it too).
OVER_COLOUR, UNDER_COLOUR = "#d62728", "#9ecae1"
# The mark of a genre over its model's bar in the comparison (a shape as well as the bold text).
CHOSEN_MARK = "\u2713"
# The comparison shows at most this many genres: those that some model predicts or ranks in its top 3.
MAX_COMPARED_GENRES = 10
# Light blues only, so the dark cell text reads on every cell, on the light and the dark theme.
COMPARISON_SCALE = [[0.0, "#f2f7fd"], [1.0, "#4a90c8"]]


def plot_probabilities(prediction, thresholds: np.ndarray) -> go.Figure:
    """Horizontal bars of every genre's probability with its bar (threshold) marked; each genre's figures are
    written in a column right of the plot ("49% · bar 52%"), so no mark prints over them; a predicted genre's
    bar is coloured and its text says "predicted", so the answer does not rest on colour alone."""
    readings = sorted(read_prediction(prediction, thresholds, least=len(prediction.probabilities)),
                      key=lambda reading: reading.probability)
    genres = [reading.genre for reading in readings]

    def bars(chosen: bool, name: str, colour: str, verdict: str) -> go.Bar:
        part = [reading for reading in readings if reading.chosen == chosen]
        return go.Bar(x=[r.probability for r in part], y=[r.genre for r in part], orientation="h", name=name,
                      marker_color=colour, customdata=[r.threshold for r in part],
                      hovertemplate=f"<b>%{{y}}</b>: %{{x:.0%}} likely<br>{verdict} (its bar %{{customdata:.0%}})"
                                    "<extra></extra>")

    figures = [f"{percent(r.probability)} · bar {percent(r.threshold)}" + (" · predicted" if r.chosen else "")
               for r in readings]
    return go.Figure(
        data=[
            bars(True, "over its bar: predicted", OVER_COLOUR, "predicted: over its bar"),
            bars(False, "under its bar", UNDER_COLOUR, "not predicted: under its bar"),
            go.Scatter(x=[r.threshold for r in readings], y=genres, mode="markers", name="the genre's bar (|)",
                       marker={"symbol": "line-ns-open", "size": 14, "color": NEUTRAL_COLOUR,
                               "line": {"width": 3, "color": NEUTRAL_COLOUR}},
                       hovertemplate="%{y}: bar %{x:.0%}<extra></extra>"),
            go.Scatter(x=[1.04] * len(readings), y=genres, mode="text", text=figures, textposition="middle right",
                       showlegend=False, hoverinfo="skip"),
        ],
        layout={"height": 24 * len(readings) + 90, "margin": {"l": 0, "r": 10, "t": 40, "b": 0},
                "xaxis": {"range": [0, 1.75], "tickformat": ".0%", "tickvals": [0, 0.25, 0.5, 0.75, 1],
                          "title": "probability"},
                "yaxis": {"categoryorder": "array", "categoryarray": genres},
                "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom"},
                "barmode": "overlay"},
    )


def describe_probabilities(prediction, thresholds: np.ndarray, shown: int = 5) -> str:
    """Describe the probability bars in words (the chart's caption): the predicted genres with their
    probability and bar, then the most likely of the others."""
    readings = read_prediction(prediction, thresholds, least=len(prediction.probabilities))
    predicted = [reading.describe() for reading in readings if reading.chosen]
    others = [f"{r.genre} {percent(r.probability)}" for r in readings if not r.chosen][:shown]
    return (f"Probability of each of the {len(readings)} genres, with its bar marked. "
            f"Over the bar (predicted): {', '.join(predicted) or 'none'}. "
            f"Most likely of the others: {', '.join(others) or 'none'}.")


def compared_genres(readings_by_model: dict[str, list]) -> list[str]:
    """Return the genres worth comparing: each model's reading (its predicted genres and at least its top 3),
    most likely on average first, at most MAX_COMPARED_GENRES."""
    seen: dict[str, list[float]] = {}
    for readings in readings_by_model.values():
        for reading in readings:
            seen.setdefault(reading.genre, []).append(reading.probability)
    return sorted(seen, key=lambda genre: -float(np.mean(seen[genre])))[:MAX_COMPARED_GENRES]


def plot_model_comparison(predictions: list, thresholds_by_model: dict[str, np.ndarray]) -> go.Figure:
    """Models (rows, in the given order) x genres (compared_genres): each cell the model's probability, a
    predicted genre's cell bold with a check mark."""
    readings = {p.model: read_prediction(p, thresholds_by_model[p.model]) for p in predictions}
    genres = compared_genres(readings)
    models = [p.model for p in predictions]
    full = {p.model: read_prediction(p, thresholds_by_model[p.model], least=len(p.probabilities))
            for p in predictions}
    cells = [[next((r for r in full[model] if r.genre == genre), None) for genre in genres] for model in models]
    values = [[np.nan if r is None else r.probability for r in row] for row in cells]
    text = [["" if r is None else (f"<b>{percent(r.probability)} {CHOSEN_MARK}</b>" if r.chosen
                                   else percent(r.probability)) for r in row] for row in cells]
    bars = [["" if r is None else percent(r.threshold) for r in row] for row in cells]
    return go.Figure(
        data=[go.Heatmap(z=values, x=genres, y=models, text=text, texttemplate="%{text}", customdata=bars,
                         textfont={"color": "#1a1a1a", "size": 12}, colorscale=COMPARISON_SCALE, zmin=0, zmax=1,
                         showscale=False, xgap=2, ygap=2,
                         hovertemplate="%{y}: %{x} %{z:.0%} (its bar %{customdata})<extra></extra>")],
        layout={"height": 30 * len(models) + 110, "margin": {"l": 0, "r": 0, "t": 10, "b": 0},
                "xaxis": {"side": "top", "tickangle": -35}, "yaxis": {"autorange": "reversed"}},
    )


def describe_model_comparison(predictions: list, thresholds_by_model: dict[str, np.ndarray]) -> str:
    """Describe the comparison in words: each model's predicted genres (or that it predicts none)."""
    said = []
    for prediction in predictions:
        chosen = [r for r in read_prediction(prediction, thresholds_by_model[prediction.model]) if r.chosen]
        said.append(f"{prediction.model}: " + (", ".join(f"{r.genre} {percent(r.probability)}" for r in chosen)
                                              or "no genre over its bar"))
    return "Each model's predicted genres (over its own bar), as in the grid: " + "; ".join(said) + "."

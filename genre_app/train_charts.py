"""The Train page's figures: per-epoch and per-batch curves, the learning rate, several runs overlaid, and the
tuned-threshold marks of a finished run (plotly graph objects; the Train page's captions live in genre_app.train)."""

from __future__ import annotations

import plotly.graph_objects as go

from genre_app.charts import NEUTRAL_COLOUR, title_layout


def smooth(values: list[float], weight: float = 0.8) -> list[float]:
    """Exponential moving average, as TensorBoard's smoothing slider."""
    smoothed, last = [], None
    for value in values:
        last = value if last is None else weight * last + (1 - weight) * value
        smoothed.append(last)
    return smoothed


def waiting_figure(title: str, note: str = "Waiting for the first epoch...", height: int = 300) -> go.Figure:
    """A chart with no data yet: its title and a note in place of empty axes."""
    return go.Figure(layout={
        **title_layout(title), "height": height,
        "xaxis": {"visible": False}, "yaxis": {"visible": False},
        "annotations": [{"text": note, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                         "font": {"size": 14, "color": NEUTRAL_COLOUR}}]})


# The F1 figures a finished run's metadata gives at its tuned thresholds, and how they are named on the curves.
TUNED_METRICS = {"micro_f1": "micro-F1", "macro_f1": "macro-F1"}
TUNED_NAME = "validation at the tuned thresholds (best checkpoint, after the run)"


def tuned_figures(metadata) -> dict | None:
    """Return a finished run's validation micro- and macro-F1 at its tuned thresholds, with the epoch of the
    checkpoint they were measured on: {"epoch", "micro_f1", "macro_f1", "policy"}; None when the metadata
    is missing or lacks them (a run still training, a failed one, a fused model with no epochs)."""
    try:
        validation = metadata["metrics"]["validation"]
        epoch = int(metadata["training"]["best_epoch"])
        figures = {name: float(validation[name]) for name in TUNED_METRICS}
    except (TypeError, KeyError, ValueError):
        return None
    policy = (metadata.get("thresholds") or {}).get("policy", "per_genre")
    return {"epoch": epoch, **figures, "policy": policy if isinstance(policy, str) else "per_genre"}


def add_tuned_marker(figure: go.Figure, tuned: dict | None, metric: str, name: str = TUNED_NAME) -> None:
    """Mark a finished run's F1 at its tuned thresholds (a star at its best checkpoint's epoch) on a
    micro-/macro-F1 chart; nothing for another metric or without the figures."""
    metric = metric.removeprefix("val_")
    if not tuned or metric not in TUNED_METRICS:
        return
    figure.add_scatter(x=[tuned["epoch"]], y=[tuned[metric]], mode="markers+text", name=name,
                       text=[f"{tuned[metric]:.2f} tuned"], textposition="top center",
                       marker={"symbol": "star", "size": 14, "color": NEUTRAL_COLOUR},
                       hovertemplate=f"{TUNED_METRICS[metric]} at the tuned thresholds, best checkpoint "
                                     "(epoch %{x}): %{y:.3f}<extra></extra>")


def whole_number_axis(count: int, title: str) -> dict:
    """An x axis of epochs or steps: ticks on whole numbers only (about eight at most), never "1.2"."""
    return {"title": title, "tick0": 1, "dtick": max(1, -(-count // 8))}


def plot_epoch_curves(epochs: list[dict], metric: str, title: str | None = None,
                      tuned: dict | None = None) -> go.Figure:
    """Train and validation curves of one metric per epoch (a waiting note before the first epoch ends);
    ``tuned`` (tuned_figures) marks a finished run's F1 at its tuned thresholds."""
    if not epochs:
        return waiting_figure(title or metric)
    figure = go.Figure()
    xs = [record["epoch"] for record in epochs]
    for key, name in ((metric, "train"), (f"val_{metric}", "validation")):
        if epochs and key in epochs[0]:
            figure.add_scatter(x=xs, y=[record.get(key) for record in epochs], mode="lines+markers", name=name)
    add_tuned_marker(figure, tuned, metric)
    figure.update_layout(**title_layout(title or metric), xaxis=whole_number_axis(len(xs), "epoch"), height=300)
    return figure


def plot_batch_curve(batches: list[dict], metric: str = "loss", weight: float = 0.8) -> go.Figure:
    """Per-batch running metric, raw and smoothed, against the global step."""
    if not batches:
        return waiting_figure(f"{metric} per batch", "Waiting for the first batch...")
    steps = list(range(1, len(batches) + 1))
    values = [record.get(metric) for record in batches]
    figure = go.Figure()
    figure.add_scatter(x=steps, y=values, mode="lines", name="per batch", opacity=0.35)
    figure.add_scatter(x=steps, y=smooth(values, weight), mode="lines", name="smoothed")
    figure.update_layout(**title_layout(f"{metric} per batch (running mean within the epoch)"),
                         xaxis=whole_number_axis(len(steps), "step"), height=300)
    return figure


def plot_learning_rate(epochs: list[dict]) -> go.Figure:
    """The learning rate per epoch, on a log scale (schedules decay it by orders of magnitude)."""
    if not epochs:
        return waiting_figure("learning rate")
    return go.Figure(go.Scatter(x=[r["epoch"] for r in epochs], y=[r.get("learning_rate") for r in epochs],
                                mode="lines+markers", hovertemplate="epoch %{x}: %{y:.2e}<extra></extra>"),
                     layout={**title_layout("learning rate (log scale)"), "xaxis": whole_number_axis(len(epochs), "epoch"),
                             "yaxis": {"type": "log", "exponentformat": "power"}, "height": 300})


def plot_runs_overlay(curves: dict[str, list[dict]], metric: str,
                      tuned: dict[str, dict | None] | None = None) -> go.Figure:
    """One metric per epoch for several runs, overlaid; on val_micro_f1 / val_macro_f1, each finished run's
    figure at its tuned thresholds is starred (``tuned``: {run: tuned_figures})."""
    if not any(curves.values()):
        return waiting_figure(metric, "No finished epoch in the chosen runs yet.", height=350)
    figure = go.Figure()
    for run_id, epochs in curves.items():
        figure.add_scatter(x=[r["epoch"] for r in epochs], y=[r.get(metric) for r in epochs], mode="lines+markers",
                           name=run_id)
        if metric.startswith("val_"):
            add_tuned_marker(figure, (tuned or {}).get(run_id), metric, name=f"{run_id}: tuned thresholds")
    longest = max(len(epochs) for epochs in curves.values())
    figure.update_layout(xaxis=whole_number_axis(longest, "epoch"), yaxis_title=metric, height=350,
                         margin={"t": 20, "b": 0})
    return figure

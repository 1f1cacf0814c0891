"""The models table (Home, Train): one row per model's metadata with readable metric headers, the baseline row."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from genre_models.metadata import TABLE_METRICS, summarize_for_table

# Readable column headers for the metric keys of genre_models.metadata.TABLE_METRICS.
METRIC_LABELS = {
    "micro_f1": "micro-F1", "macro_f1": "macro-F1", "samples_f1": "samples-F1",
    "micro_average_precision": "micro AP", "macro_average_precision": "macro AP",
    "precision_at_3": "precision@3", "recall_at_3": "recall@3",
}


def model_figures(metadata) -> dict:
    """Return the test figures of a model's table row (genre_models.metadata.summarize_for_table),
    or {} when the metadata is missing or too damaged to summarise (a run that failed, say)."""
    try:
        row = summarize_for_table(metadata)
    except (TypeError, KeyError, AttributeError):
        return {}
    return {key: value for key, value in row.items() if key.startswith("test ")}


def metric_column_config(columns) -> dict:
    """Return Streamlit column settings showing the metric columns of a table with readable headers
    and three decimals (the data keeps summarize_for_table's keys)."""
    settings = {}
    for key in TABLE_METRICS:
        label = METRIC_LABELS.get(key, key)
        for column, header in ((f"test {key}", f"test {label}"),
                               (f"test {key} (one global threshold)", f"test {label} (one global threshold)")):
            if column in columns:
                settings[column] = st.column_config.NumberColumn(header, format="%.3f")
    return settings


def show_table(rows: list[dict]) -> None:
    """Show rows that hold model figures (see model_figures) with readable metric headers."""
    frame = pd.DataFrame(rows)
    st.dataframe(frame, hide_index=True, column_config=metric_column_config(frame.columns))


def show_model_table(models: list[dict], needs_refit: dict[str, str] | None = None,
                     baseline: dict | None = None) -> None:
    """Show one row per model's metadata: summarize_for_table, the one metadata-to-row conversion; fused
    models in ``needs_refit`` are marked so (they are left out of predictions until refitted)."""
    rows = [summarize_for_table(metadata) for metadata in models]
    for row, metadata in zip(rows, models):
        # A fused model trains no network: it has no epochs, its weights are fitted on the validation films.
        row["epochs"] = "fused (no epochs)" if metadata.get("components") else \
            (str(row["epochs"]) if row["epochs"] else "")
    if needs_refit:
        for row in rows:
            row["state"] = "needs refitting" if row["model"] in needs_refit else "ready"
    extra = baseline_row(baseline)
    if extra:
        rows.append({**extra, **({"state": "reference"} if needs_refit else {})})
    # A static table, not the interactive data grid: Home's first view must be quick, and the grid
    # alone took ~0.9 s to draw in the browser. The training commands, long lines, go in an expander below it.
    st.table(pd.DataFrame([format_table_row(row) for row in rows]).set_index("model"))
    with st.expander("How each model was made (the command that trained it)"):
        st.code("\n".join(f"# {row['model']}\n{row['command']}" for row in rows if row.get("command")),
                language="bash", wrap_lines=True)


def format_table_row(row: dict) -> dict:
    """Return a models-table row for a static table: readable metric headers, figures to three decimals,
    blanks for missing values, no command (shown apart)."""
    formatted = {}
    for key, value in row.items():
        if key == "command":
            continue
        header = key
        if key.startswith("test "):
            metric = key.removeprefix("test ").removesuffix(" (one global threshold)")
            header = f"test {METRIC_LABELS.get(metric, metric)}" + (
                " (one global threshold)" if key.endswith("(one global threshold)") else "")
        if isinstance(value, float):
            value = f"{value:.3f}" if header.startswith("test ") else f"{value:g}"
        formatted[header] = "" if value is None else str(value)
    return formatted


def baseline_row(baseline: dict | None) -> dict | None:
    """Return the models table's row for the "always the most common genres" baseline
    (artifacts/baselines.json), or None when there is none."""
    if not isinstance(baseline, dict):
        return None
    test = (baseline.get("metrics") or {}).get("test") or {}
    always = " + ".join(baseline.get("predicts_always") or []) or "the most common genres"
    return {"model": f"baseline: always {always}", "input": "none (reads nothing)", "fusion of": "",
            "thresholds": "global", **{f"test {key}": test.get(key) for key in TABLE_METRICS},
            "epochs": "", "trained": str(baseline.get("created_at", ""))[:10],
            "command": baseline.get("command", "")}

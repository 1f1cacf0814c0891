"""Print the README's results table from the shipped artifacts' metadata (no number is typed by hand).

Each model's row comes from genre_models.metadata.summarize_for_table, the one metadata-to-row
conversion the app and the CLI's `models` use too; this script only formats it as Markdown.

Usage: .venv/bin/python scripts/results_table.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genre_models.artifacts import read_artifact_metadata  # noqa: E402
from genre_models.metadata import summarize_for_table  # noqa: E402

# (header, key of summarize_for_table's row) of the metric columns, in the README's order.
METRIC_COLUMNS = (
    ("micro-F1", "test micro_f1"),
    ("micro-F1 (one global threshold)", "test micro_f1 (one global threshold)"),
    ("macro-F1", "test macro_f1"),
    ("samples-F1", "test samples_f1"),
    ("macro AP", "test macro_average_precision"),
    ("micro AP", "test micro_average_precision"),
    ("recall@3", "test recall_at_3"),
)


def format_number(value) -> str:
    """Three decimals, or n/a for a figure the artifact does not record."""
    return "n/a" if value is None else f"{value:.3f}"


def describe_duration(row: dict) -> str:
    """Say how long training took, e.g. '40 epochs, 8.8 min' ('0.2 min' for a fitted fusion)."""
    epochs = f"{row['epochs']} epochs, " if row["epochs"] else ""
    minutes = "n/a" if row["minutes"] is None else f"{row['minutes']:.1f} min"
    return f"{epochs}{minutes}"


def baseline_row() -> dict:
    """Return the frequency baseline (artifacts/baselines.json) as a row shaped like the models' rows."""
    frequency = json.loads((ROOT / "artifacts" / "baselines.json").read_text())["genre_frequency"]
    test = frequency["metrics"]["test"]
    return {
        "model": "genre_frequency (baseline: always " + " + ".join(frequency["predicts_always"]) + ")",
        "input": "none", "thresholds": "global",
        **{f"test {key}": value for key, value in test.items()},
        # One threshold for every genre already, so both micro-F1 columns are the same figure.
        "test micro_f1 (one global threshold)": test["micro_f1"],
        "duration": "seconds", "command": frequency["command"],
    }


def format_row(row: dict) -> str:
    """Return one Markdown table line."""
    figures = " | ".join(format_number(row.get(key)) for _, key in METRIC_COLUMNS)
    return (f"| {row['model']} | {row['input']} | {row['thresholds'].replace('_', '-')} | {figures} | "
            f"{row['duration']} | `{row['command']}` |")


def main() -> None:
    """Print the table, then any artifact that was skipped and why."""
    models, errors = read_artifact_metadata(ROOT / "artifacts")
    rows = []
    for metadata in sorted(models, key=lambda m: m["name"]):
        row = summarize_for_table(metadata)
        rows.append({**row, "duration": describe_duration(row)})
    rows.append(baseline_row())
    headers = ["model", "input", "thresholds", *(header for header, _ in METRIC_COLUMNS),
               "training on this machine", "command"]
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print(format_row(row))
    for folder, reason in errors.items():
        print(f"\nSkipped artifact {folder}: {reason}")


if __name__ == "__main__":
    main()

"""Print the README's results table from the shipped artifacts' metadata (no number is typed by hand).

Usage: .venv/bin/python scripts/results_table.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genre_models.artifacts import read_artifact_metadata  # noqa: E402


def format_number(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main() -> None:
    models, errors = read_artifact_metadata(ROOT / "artifacts")
    rows = []
    for metadata in sorted(models, key=lambda m: m["name"]):
        test = metadata["metrics"]["test"]
        training = metadata["training"]
        epochs = f"{training['epochs_run']} epochs, " if training.get("epochs_run") else ""
        rows.append((metadata["name"], metadata["input_kind"], metadata["thresholds"].get("policy", "per_genre"), test,
                     f"{epochs}{training['seconds'] / 60:.1f} min", metadata["command"]))
    baselines = json.loads((ROOT / "artifacts" / "baselines.json").read_text())
    frequency = baselines["genre_frequency"]
    rows.append(("genre_frequency (baseline: always " + " + ".join(frequency["predicts_always"]) + ")", "none", "global",
                 {**frequency["metrics"]["test"], "global_threshold_micro_f1": frequency["metrics"]["test"]["micro_f1"]},
                 "seconds", frequency["command"]))
    print("| model | input | thresholds | micro-F1 | micro-F1 (one global threshold) | macro-F1 | samples-F1 "
          "| macro AP | micro AP | recall@3 | training on this machine | command |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, kind, policy, test, duration, command in rows:
        print(f"| {name} | {kind} | {policy.replace('_', '-')} | {format_number(test['micro_f1'])} | "
              f"{format_number(test.get('global_threshold_micro_f1'))} | {format_number(test['macro_f1'])} | "
              f"{format_number(test['samples_f1'])} | {format_number(test['macro_average_precision'])} | "
              f"{format_number(test['micro_average_precision'])} | {format_number(test['recall_at_3'])} | "
              f"{duration} | `{command}` |")
    for folder, reason in errors.items():
        print(f"\nSkipped artifact {folder}: {reason}")


if __name__ == "__main__":
    main()

"""Re-choose every installed artifact's decision thresholds with the current tuning rule, from its
stored validation scores, and re-evaluate its stored test scores once at the new thresholds.

Used when the threshold rule changes (the guard against degenerate per-genre thresholds,
genre_models.metrics.MAX_PREDICTED_RATE_RATIO) without retraining: the networks and their
probabilities are unchanged (tests/test_shipped_scores.py checks the models still produce the
stored probabilities), only the thresholds, the metrics and a note in ``thresholds.retuned`` change.
Validation alone decides; the test split is only evaluated. Usage:
    .venv/bin/python scripts/retune_thresholds.py [MODEL ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genre_models.artifacts import METADATA_FILE, list_artifact_folders  # noqa: E402
from genre_models.fileio import write_json_atomically  # noqa: E402
from genre_models.metadata import (  # noqa: E402
    choose_thresholds,
    evaluate_with_thresholds,
    utc_now,
    validate_metadata,
)
from genre_models.split_scores import read_split_scores  # noqa: E402

COMMAND = "python scripts/retune_thresholds.py"


def retune(folder: Path) -> dict:
    """Retune one artifact in place; return its old and new headline test figures."""
    metadata = json.loads((folder / METADATA_FILE).read_text())
    validation = read_split_scores(folder, metadata, "validation")
    test = read_split_scores(folder, metadata, "test")
    if validation is None or test is None:
        raise ValueError(f"{folder.name} has no usable stored validation/test scores; "
                         "run scripts/record_split_scores.py first.")
    policy = (metadata.get("recipe") or {}).get("threshold_policy") or "per_genre"
    thresholds = choose_thresholds(policy, validation.labels, validation.scores)
    thresholds["retuned"] = {"at": utc_now(), "command": COMMAND,
                             "previous_per_genre": metadata["thresholds"]["per_genre"],
                             "previous_policy": metadata["thresholds"].get("policy")}
    before = {key: metadata["metrics"]["test"][key] for key in ("micro_f1", "macro_f1")}
    metadata["thresholds"] = thresholds
    metadata["metrics"] = evaluate_with_thresholds(metadata["genres"], thresholds, validation.labels,
                                                   validation.scores, test.labels, test.scores)
    validate_metadata(metadata, folder.name)
    write_json_atomically(folder / METADATA_FILE, metadata)
    after = {key: metadata["metrics"]["test"][key] for key in ("micro_f1", "macro_f1")}
    return {"model": folder.name, "policy": thresholds["policy"], "before": before, "after": after}


def main(names: list[str]) -> None:
    folders = list_artifact_folders()
    for name in names or sorted(folders):
        print(json.dumps(retune(folders[name])))


if __name__ == "__main__":
    main(sys.argv[1:])

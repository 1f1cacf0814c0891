"""Seed averaging of poster networks, judged on the validation split alone.

Usage: .venv/bin/python scripts/average_poster_seeds.py ARTIFACT [ARTIFACT ...]
  e.g. scripts/average_poster_seeds.py artifacts/poster_cnn /tmp/poster43
(the second trained with `python -m genre_models train --model poster_cnn --seed 43 --out /tmp/poster43 ...`).

Prints, for each artifact and for the mean of their probabilities and of their log-odds: macro and micro
average precision on validation, and micro-/macro-F1 held out over 20 random halvings of validation
(thresholds tuned on one half, scored on the other; one global threshold and per-genre thresholds).
Reads only the artifacts' stored validation scores (split_scores.npz); the test split is never read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genre_models import metrics  # noqa: E402

HALVINGS = 20


def read_validation(folder: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (ids, labels, scores) of an artifact's validation split."""
    with np.load(Path(folder) / "split_scores.npz") as stored:
        return stored["validation__ids"], stored["validation__labels"], stored["validation__scores"]


def measure_average_precision(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """Return (macro AP over genres with a positive film, micro AP)."""
    present = np.flatnonzero(labels.sum(axis=0) > 0)
    macro = float(np.mean([metrics.compute_average_precision(labels[:, g], scores[:, g]) for g in present]))
    return macro, metrics.compute_average_precision(labels.ravel(), scores.ravel())


def measure_held_out_f1(labels: np.ndarray, scores: np.ndarray) -> dict[str, list[float]]:
    """Return the mean held-out (micro-F1, macro-F1) per threshold policy over random halvings."""
    generator = np.random.default_rng(0)
    results: dict[str, list] = {"global": [], "per_genre": []}
    for _ in range(HALVINGS):
        half = np.zeros(len(labels), dtype=bool)
        half[generator.permutation(len(labels))[: len(labels) // 2]] = True
        for tune, score in ((half, ~half), (~half, half)):
            tuned = metrics.tune_thresholds(labels[tune], scores[tune])
            for policy, thresholds in (("global", tuned["global"]), ("per_genre", np.asarray(tuned["per_genre"]))):
                confusion = metrics.compute_confusion(labels[score], metrics.apply_thresholds(scores[score], thresholds))
                results[policy].append(metrics.compute_micro_macro_f1(confusion, labels[score]))
    return {policy: np.round(np.mean(pairs, axis=0), 4).tolist() for policy, pairs in results.items()}


def main() -> None:
    folders = sys.argv[1:]
    if len(folders) < 2:
        raise SystemExit(__doc__)
    read = [read_validation(folder) for folder in folders]
    ids, labels, _ = read[0]
    for folder, (other_ids, other_labels, _) in zip(folders, read):
        if not (np.array_equal(ids, other_ids) and np.array_equal(labels, other_labels)):
            raise SystemExit(f"error: {folder} was scored on other validation films")
    candidates = {folder: scores for folder, (_, _, scores) in zip(folders, read)}
    stacked = np.stack(list(candidates.values()))
    candidates["mean of probabilities"] = stacked.mean(axis=0)
    candidates["mean of log-odds"] = 1 / (1 + np.exp(-metrics.compute_log_odds(stacked).mean(axis=0)))
    for name, scores in candidates.items():
        macro, micro = measure_average_precision(labels, scores)
        print(f"{name}: macro AP {macro:.4f}, micro AP {micro:.4f}, held-out (micro-F1, macro-F1) "
              f"{measure_held_out_f1(labels, scores)}")


if __name__ == "__main__":
    main()

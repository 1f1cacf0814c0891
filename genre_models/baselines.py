"""Reference figures every model is measured against: the genre-frequency baseline."""

from __future__ import annotations

import numpy as np

from genre_models.dataset import MovieDataset
from genre_models.metrics import evaluate_scores, tune_thresholds


def evaluate_frequency_baseline(dataset: MovieDataset) -> dict:
    """Baseline: every film gets each genre's training frequency as its probability.

    Thresholds are tuned on validation like any model's, so this is "always
    answer the most common genres".
    """
    train, validation, test = (dataset.split_indices(name) for name in ("train", "validation", "test"))
    frequencies = dataset.labels[train].mean(axis=0)

    def constant_scores(indices):
        return np.tile(frequencies, (len(indices), 1))

    # One shared threshold: per-genre F1 tuning would "predict" every genre for every film,
    # since a constant score can only say yes to all films or to none.
    thresholds = tune_thresholds(dataset.labels[validation], constant_scores(validation))
    report = evaluate_scores(dataset.labels[test], constant_scores(test), thresholds["global"], dataset.genres)
    predicted = [genre for genre, f in zip(dataset.genres, frequencies) if f >= thresholds["global"]]
    return {"name": "genre_frequency", "predicts_always": predicted,
            "thresholds": {"global": thresholds["global"], "policy": "global (tuned for micro-F1 on validation)"},
            "metrics": {"test": report}}

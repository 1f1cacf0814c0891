"""The genre-frequency baseline: constant scores, one validation-tuned threshold."""

from __future__ import annotations

from genre_models.baselines import evaluate_frequency_baseline
from genre_models.dataset import load_dataset


def test_the_frequency_baseline_always_answers_the_most_common_genres(synthetic_dataset):
    dataset = load_dataset(synthetic_dataset)
    baseline = evaluate_frequency_baseline(dataset)
    frequencies = dataset.labels[dataset.split_indices("train")].mean(axis=0)
    expected = [genre for genre, frequency in zip(dataset.genres, frequencies)
                if frequency >= baseline["thresholds"]["global"]]
    assert baseline["predicts_always"] == expected and expected
    test = baseline["metrics"]["test"]
    assert 0 <= test["micro_f1"] <= 1 and set(test["per_genre"]) == set(dataset.genres)

"""Metric functions against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genre_models import metrics

# Three films, three genres.
LABELS = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]])
SCORES = np.array([[0.9, 0.2, 0.4], [0.6, 0.7, 0.1], [0.3, 0.8, 0.05]])
GENRES = ["A", "B", "C"]


def test_confusion_counts_per_genre():
    predictions = metrics.apply_thresholds(SCORES, 0.5)
    # Genre A: predicted films 1,2; true films 1,3 -> TP1 FP1 FN1 TN0.
    # Genre B: predicted films 2,3; true films 2,3 -> TP2 FP0 FN0 TN1.
    # Genre C: predicted none; true film 1 -> TP0 FP0 FN1 TN2.
    np.testing.assert_array_equal(
        metrics.compute_confusion(LABELS, predictions), [[1, 1, 1, 0], [2, 0, 0, 1], [0, 0, 1, 2]]
    )


def test_f1_figures_by_hand():
    report = metrics.evaluate_scores(LABELS, SCORES, 0.5, GENRES)
    # Micro: TP 3, FP 1, FN 2 -> 6 / (6 + 3) = 2/3.
    assert report["micro_f1"] == pytest.approx(2 / 3)
    # Macro: F1(A) = 2/4 = 0.5, F1(B) = 1, F1(C) = 0 -> 0.5.
    assert report["macro_f1"] == pytest.approx(0.5)
    # Samples: film 1 {A}/{A,C} -> 2/3; film 2 {A,B}/{B} -> 2/3; film 3 {B}/{A,B} -> 2/3.
    assert report["samples_f1"] == pytest.approx(2 / 3)
    assert report["per_genre"]["A"]["confusion"] == {"tp": 1, "fp": 1, "fn": 1, "tn": 0}
    assert report["per_genre"]["A"]["precision"] == pytest.approx(0.5)
    assert report["per_genre"]["C"]["recall"] == 0.0


def test_average_precision_by_hand():
    # Genre A ranking: 0.9 (pos), 0.6 (neg), 0.3 (pos): AP = 0.5 * 1 + 0.5 * 2/3 = 5/6.
    assert metrics.compute_average_precision(LABELS[:, 0], SCORES[:, 0]) == pytest.approx(5 / 6)
    # Genre C: one positive ranked first -> 1.
    assert metrics.compute_average_precision(LABELS[:, 2], SCORES[:, 2]) == pytest.approx(1.0)
    # Ties form one threshold: both tied films count together: precision 1/2 at recall 1.
    assert metrics.compute_average_precision([1, 0], [0.5, 0.5]) == pytest.approx(0.5)
    assert math.isnan(metrics.compute_average_precision([0, 0], [0.1, 0.2]))
    report = metrics.evaluate_scores(LABELS, SCORES, 0.5, GENRES)
    # Genre B: 0.8 (pos), 0.7 (pos), 0.2 (neg) -> 1.  Macro AP = (5/6 + 1 + 1) / 3.
    assert report["macro_average_precision"] == pytest.approx((5 / 6 + 2) / 3)


def test_top_k_precision_and_recall_by_hand():
    precision, recall = metrics.compute_top_k(LABELS, SCORES, k=2)
    # Top-2: film 1 {A, C} 2 hits; film 2 {B, A} 1 hit; film 3 {B, A} 2 hits.
    assert precision == pytest.approx((2 + 1 + 2) / 6)
    assert recall == pytest.approx((2 / 2 + 1 / 1 + 2 / 2) / 3)


def test_macro_figures_skip_genres_without_positives():
    labels = np.array([[1, 0], [0, 0]])
    scores = np.array([[0.9, 0.9], [0.1, 0.1]])
    report = metrics.evaluate_scores(labels, scores, 0.5, ["A", "B"])
    assert report["genres_with_positives"] == 1
    assert report["macro_f1"] == pytest.approx(1.0)
    assert report["per_genre"]["B"]["average_precision"] is None


def test_threshold_tuning_finds_the_separating_threshold_and_guards_rare_genres():
    labels = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 0], [0, 0]])
    scores = np.array([[0.35, 0.9], [0.4, 0.1], [0.3, 0.1], [0.2, 0.1], [0.1, 0.1], [0.25, 0.1]])
    tuned = metrics.tune_thresholds(labels, scores, min_positives=3)
    # Genre A: positives at 0.3-0.4, negatives at most 0.25 -> best thresholds in (0.25, 0.30].
    assert 0.25 < tuned["per_genre"][0] <= 0.30
    # Genre B has one positive: it gets the global threshold, not one fitted to that film.
    assert tuned["per_genre"][1] == tuned["global"]


def test_a_rare_genre_never_gets_a_threshold_that_answers_it_for_nearly_every_film():
    # Genre A: 10 positives of 100 films, scored below every negative, so that without the guard
    # its F1-maximising threshold answers it for every film (F1 = 2 * 0.1 / 1.1 = 0.18; any higher
    # cut finds none of them: F1 0).
    rng = np.random.default_rng(0)
    labels = np.zeros((100, 2), dtype=int)
    labels[:10, 0] = 1
    labels[:50, 1] = 1
    genre_a = np.where(labels[:, 0] == 1, 0.03, rng.uniform(0.05, 0.3, 100))
    scores = np.column_stack([genre_a, np.where(labels[:, 1] == 1, 0.8, 0.2)])
    unguarded = metrics.tune_thresholds(labels, scores, max_rate_ratio=1000)
    assert (scores[:, 0] >= unguarded["per_genre"][0]).mean() > 0.9
    guarded = metrics.tune_thresholds(labels, scores)
    # At most twice the genre's share of films (10%) answer it, or the genre falls back to the
    # global threshold (which answers it for none here).
    assert (scores[:, 0] >= guarded["per_genre"][0]).mean() <= 2 * 0.10
    assert guarded["max_predicted_rate_ratio"] == metrics.MAX_PREDICTED_RATE_RATIO
    # A clean genre keeps its separating threshold.
    assert 0.2 < guarded["per_genre"][1] <= 0.8


@pytest.mark.parametrize("ratio", [0.5, float("nan"), float("inf")])
def test_a_predicted_rate_cap_below_one_or_not_finite_is_refused(ratio):
    with pytest.raises(ValueError, match="at least 1"):
        metrics.tune_thresholds(LABELS, SCORES, max_rate_ratio=ratio)


def test_mismatched_shapes_are_a_value_error():
    with pytest.raises(ValueError, match="same shape|one shape"):
        metrics.evaluate_scores(LABELS, SCORES[:, :2], 0.5, GENRES)


def test_a_split_without_films_has_no_figures_and_says_so():
    genres = ["Action", "Drama"]
    report = metrics.evaluate_scores(np.zeros((0, 2)), np.zeros((0, 2)), 0.5, genres, split="test")
    assert report["films"] == 0 and report["note"] == "The test split has no films."
    for key in metrics.SUMMARY_FIGURES:
        assert report[key] is None
    assert all(values[key] is None for values in report["per_genre"].values()
               for key in ("precision", "recall", "f1", "average_precision"))
    import json

    json.dumps(report, allow_nan=False)  # strict JSON: no NaN token anywhere

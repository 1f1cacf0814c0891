"""What the Compare page computes: each model's top 3 genres and hits over the test films, a sample of
those films, the hits table with its baseline row, and the sample as CSV for download.

No Streamlit here: the page reads its widgets, calls these and draws what they return.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from genre_app.answers import percent
from genre_models.dataset import MovieDataset
from genre_models.metrics import compute_top_k_hits
from genre_models.readings import percent_apart, read_genres

# How many of a model's most probable genres are compared with the true ones.
TOP_K = 3
# Columns of the hits table (the page formats the last as a percentage).
SAMPLE_HITS, SAMPLE_FILMS_HIT = "hits in sample", "films with ≥1 hit (sample)"
SPLIT_HITS_PER_FILM, SPLIT_FILMS_HIT = "hits per film (test split)", "films with ≥1 hit (test split)"


@dataclass(frozen=True)
class TopThree:
    """One model's most probable genres and hits over a split's films."""

    # Genre names in the model's column order.
    genres: list[str]
    # Film Id -> row of ``top`` and ``hits``.
    rows: dict[str, int]
    # Each film's TOP_K genre indices, most probable first.
    top: np.ndarray
    # How many of each film's TOP_K genres are true.
    hits: np.ndarray

    def genres_of(self, film_id: str) -> list[str]:
        """Return a film's top genres, most probable first."""
        return [self.genres[index] for index in self.top[self.rows[film_id]]]

    def hits_of(self, film_ids: list[str]) -> np.ndarray:
        """Return the hits of several films, in their order."""
        return self.hits[[self.rows[film_id] for film_id in film_ids]].astype(np.int64)


def rank_top_three(scored) -> TopThree:
    """Return a model's top 3 and hits from its scores over a split (a genre_models ScoredSplit)."""
    top, hits = compute_top_k_hits(scored.labels, scored.scores, k=TOP_K)
    return TopThree(genres=list(scored.genres), rows={str(film_id): row for row, film_id in enumerate(scored.ids)},
                    top=top, hits=hits)


@dataclass(frozen=True)
class ThresholdAnswer:
    """The genres a model predicts for one film (the rule Predict answers by: a genre whose probability reaches
    the model's threshold for it), each with its probability and threshold, most probable first, and the
    genres it passed over although likelier than one it predicts (under their own, higher thresholds)."""

    # (genre, probability, threshold) of each predicted genre, most probable first.
    chosen: list[tuple[str, float, float]]
    # (genre, probability, threshold) of each genre not predicted but likelier than the least likely chosen one
    # (the likeliest genre when none is chosen), most probable first.
    passed_over: list[tuple[str, float, float]]


def read_threshold_answer(probabilities: dict[str, float], bars: dict[str, float]) -> ThresholdAnswer:
    """Return a model's threshold answer for one film from its probability and threshold per genre: the one
    reading of "predicted" (genre_models.readings.read_genres), down to its last chosen genre."""
    readings = read_genres(probabilities, bars, least=1)
    return ThresholdAnswer(
        chosen=[(r.genre, r.probability, r.threshold) for r in readings if r.chosen],
        passed_over=[(r.genre, r.probability, r.threshold) for r in readings if not r.chosen])


def pick_over_thresholds(scored, thresholds) -> dict[str, ThresholdAnswer]:
    """Return, per film Id of a split's scores, the model's threshold answer (ThresholdAnswer)."""
    bars = dict(zip(scored.genres, np.asarray(thresholds, dtype=np.float64)))
    return {str(film_id): read_threshold_answer(dict(zip(scored.genres, np.asarray(row, dtype=np.float64))), bars)
            for film_id, row in zip(scored.ids, scored.scores)}


def describe_threshold_answer(answer: ThresholdAnswer) -> str:
    """Say, as text, which genres a model predicts for a film (each over its own bar), and why a likelier
    genre is not among them (under its own, higher bar)."""
    chosen = ", ".join(f"{genre} {percent(probability)} (bar {percent(bar)})"
                       for genre, probability, bar in answer.chosen) or "no genre (none reaches its bar)"
    passed = ", ".join(f"{genre} ({' under its '.join(percent_apart(probability, bar))} bar)"
                       for genre, probability, bar in answer.passed_over)
    return chosen + (f"; not {passed}" if passed else "")


def find_common_films(results: dict[str, TopThree]) -> list[str]:
    """Return the films every model scored, sorted (a model may skip a film whose poster is damaged)."""
    return sorted(set.intersection(*(set(result.rows) for result in results.values()))) if results else []


def sample_films(film_ids: list[str], size: int, seed: int) -> list[str]:
    """Return ``size`` films drawn without replacement with a seeded generator: the same seed, size and films
    give the same sample, so a shared link shows the same films."""
    if not film_ids:
        return []
    rng = np.random.default_rng(int(seed))
    return [str(film_id) for film_id in rng.choice(film_ids, size=min(int(size), len(film_ids)), replace=False)]


def find_most_common_genres(dataset: MovieDataset, count: int = TOP_K) -> list[str]:
    """Return the genres most common among the training films, most common first (ties: the dataset's order)."""
    counts = dataset.labels[dataset.splits == "train"].astype(np.int64).sum(axis=0)
    return [dataset.genres[index] for index in np.argsort(-counts, kind="stable")[:count]]


def count_baseline_hits(dataset: MovieDataset, genres: list[str], film_ids: list[str]) -> np.ndarray:
    """Return, per film, how many of ``genres`` it truly has (what always answering them scores)."""
    rows_by_id = {str(film_id): row for row, film_id in enumerate(dataset.ids)}
    rows = [rows_by_id[film_id] for film_id in film_ids if film_id in rows_by_id]
    columns = [dataset.genres.index(genre) for genre in genres]
    return dataset.labels[rows][:, columns].astype(np.int64).sum(axis=1) if rows else np.zeros(0, dtype=np.int64)


def summarize_hit_row(model: str, sample_hits: np.ndarray, split_hits: np.ndarray) -> dict:
    """Return one row of the hits table: hits over the sample and over the whole split."""
    return {"model": model, SAMPLE_HITS: int(sample_hits.sum()), SAMPLE_FILMS_HIT: int((sample_hits > 0).sum()),
            SPLIT_HITS_PER_FILM: float(np.mean(split_hits)) if len(split_hits) else 0.0,
            SPLIT_FILMS_HIT: float(np.mean(split_hits > 0)) if len(split_hits) else 0.0}


def summarize_hits(results: dict[str, TopThree], sample: list[str], common: list[str],
                   dataset: MovieDataset) -> pd.DataFrame:
    """Return the hits table: one row per model, then the baseline that always answers the training split's
    3 commonest genres, the row a model must beat. The share of films with a hit is in [0, 1]."""
    rows = [summarize_hit_row(name, result.hits_of(sample), result.hits_of(common))
            for name, result in results.items()]
    common_genres = find_most_common_genres(dataset)
    rows.append(summarize_hit_row(f"baseline: always {', '.join(common_genres)}",
                                  count_baseline_hits(dataset, common_genres, sample),
                                  count_baseline_hits(dataset, common_genres, common)))
    return pd.DataFrame(rows)


def compare_head_to_head(first: TopThree, second: TopThree, common: list[str]) -> dict[str, int]:
    """Return on how many films each of two models finds more true genres in its top 3, and the ties."""
    difference = first.hits_of(common) - second.hits_of(common)
    return {"first": int((difference > 0).sum()), "second": int((difference < 0).sum()),
            "tie": int((difference == 0).sum())}


def find_disagreements(results: dict[str, TopThree], film_ids: list[str]) -> list[str]:
    """Return the films on which the models' first choices differ."""
    return [film_id for film_id in film_ids if len({result.genres_of(film_id)[0] for result in results.values()}) > 1]


# Columns of the sample's CSV: one row per film and model.
SAMPLE_COLUMNS = ["film_id", "true_genres", "model", *(f"top_{rank}" for rank in range(1, TOP_K + 1)), "hits"]


def build_sample_csv(results: dict[str, TopThree], sample: list[str], true_genres: dict[str, list[str]]) -> bytes:
    """Return the sampled films as CSV (UTF-8): per film and model, the true genres (separated by "|"), the
    model's top 3 in order and how many of them are true, as the page shows them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SAMPLE_COLUMNS)
    for film_id in sample:
        for name, result in results.items():
            writer.writerow([film_id, "|".join(true_genres[film_id]), name, *result.genres_of(film_id),
                             int(result.hits_of([film_id])[0])])
    return buffer.getvalue().encode("utf-8")

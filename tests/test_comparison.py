"""genre_app/comparison.py: the Compare page's top 3, hits, sample, baseline row and sample CSV."""

from __future__ import annotations

import csv
import io

import numpy as np

from genre_app import comparison
from genre_models.dataset import load_dataset
from genre_models.split_scores import ScoredSplit

GENRES = ["Action", "Comedy", "Drama", "Horror"]


def scored(ids: list[str], labels, scores) -> ScoredSplit:
    return ScoredSplit(ids=np.array(ids), labels=np.array(labels, dtype=np.int8),
                       scores=np.array(scores, dtype=np.float32), genres=GENRES)


def two_models() -> dict[str, comparison.TopThree]:
    ids = ["tt1", "tt2", "tt3"]
    labels = [[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 1, 1]]
    first = scored(ids, labels, [[0.9, 0.1, 0.8, 0.2], [0.2, 0.7, 0.3, 0.1], [0.1, 0.2, 0.3, 0.4]])
    # The second model never scored tt3 (say its poster is damaged) and ranks differently.
    second = scored(ids[:2], labels[:2], [[0.1, 0.9, 0.2, 0.8], [0.6, 0.5, 0.4, 0.3]])
    return {"first": comparison.rank_top_three(first), "second": comparison.rank_top_three(second)}


def test_top_three_are_the_most_probable_genres_and_hits_count_the_true_ones():
    results = two_models()
    assert results["first"].genres_of("tt1") == ["Action", "Drama", "Horror"]
    assert list(results["first"].hits_of(["tt1", "tt2", "tt3"])) == [2, 1, 2]
    assert results["second"].genres_of("tt1") == ["Comedy", "Horror", "Drama"]
    assert list(results["second"].hits_of(["tt1", "tt2"])) == [1, 1]


def test_common_films_head_to_head_and_disagreements():
    results = two_models()
    common = comparison.find_common_films(results)
    assert common == ["tt1", "tt2"]
    assert comparison.compare_head_to_head(results["first"], results["second"], common) == \
        {"first": 1, "second": 0, "tie": 1}
    assert comparison.find_disagreements(results, common) == ["tt1", "tt2"]
    assert comparison.find_disagreements({"first": results["first"]}, common) == []


def test_a_sample_is_the_same_for_the_same_seed_and_size():
    films = [f"tt{number}" for number in range(50)]
    sample = comparison.sample_films(films, 10, seed=3)
    assert sample == comparison.sample_films(films, 10, seed=3) != comparison.sample_films(films, 10, seed=4)
    assert len(set(sample)) == 10 and set(sample) <= set(films)
    assert sorted(comparison.sample_films(films[:4], 10, seed=0)) == films[:4]  # fewer films than asked: all of them
    assert comparison.sample_films([], 10, seed=0) == []


def test_the_hits_table_ends_with_the_baseline_of_the_commonest_training_genres(synthetic_dataset):
    dataset = load_dataset(synthetic_dataset)
    test_rows = dataset.split_indices("test")
    ids = [str(dataset.ids[row]) for row in test_rows]
    labels = dataset.labels[test_rows]
    # A perfect model: its top 3 holds every true genre (at most 2 per synthetic film).
    perfect = ScoredSplit(ids=np.array(ids), labels=labels, scores=labels.astype(np.float32), genres=dataset.genres)
    results = {"perfect": comparison.rank_top_three(perfect)}
    table = comparison.summarize_hits(results, ids[:2], ids, dataset)
    commonest = comparison.find_most_common_genres(dataset)
    assert list(table["model"]) == ["perfect", f"baseline: always {', '.join(commonest)}"]
    assert table.loc[0, comparison.SAMPLE_HITS] == int(labels[:2].sum())
    assert table.loc[0, comparison.SPLIT_HITS_PER_FILM] == float(labels.sum(axis=1).mean())
    assert table.loc[0, comparison.SPLIT_FILMS_HIT] == 1.0
    train = dataset.labels[dataset.splits == "train"].sum(axis=0)
    assert sorted(train[[dataset.genres.index(g) for g in commonest]], reverse=True) == sorted(train, reverse=True)[:3]
    baseline_hits = labels[:, [dataset.genres.index(genre) for genre in commonest]].sum(axis=1)
    assert table.loc[1, comparison.SPLIT_HITS_PER_FILM] == float(baseline_hits.mean())


def test_the_sample_csv_holds_each_models_top_three_and_hits_per_film():
    results = two_models()
    truth = {"tt1": ["Action", "Drama"], "tt2": ["Comedy"]}
    rows = list(csv.DictReader(io.StringIO(comparison.build_sample_csv(results, ["tt2", "tt1"], truth).decode())))
    assert list(rows[0]) == comparison.SAMPLE_COLUMNS
    assert [(row["film_id"], row["model"]) for row in rows] == [("tt2", "first"), ("tt2", "second"),
                                                               ("tt1", "first"), ("tt1", "second")]
    for row in rows:
        top = [row["top_1"], row["top_2"], row["top_3"]]
        assert top == results[row["model"]].genres_of(row["film_id"])
        assert row["true_genres"].split("|") == truth[row["film_id"]]
        assert int(row["hits"]) == len(set(top) & set(truth[row["film_id"]]))


def test_the_threshold_answer_is_every_genre_over_its_threshold_most_probable_first():
    from types import SimpleNamespace

    scored = SimpleNamespace(ids=np.array(["a", "b"]), genres=["Drama", "Music", "War"],
                             scores=np.array([[0.49, 0.07, 0.60], [0.10, 0.01, 0.02]]))
    # Drama at 49% is under its 52% bar while Music at 7% is over its 5% one (per-genre thresholds): Drama is
    # named as passed over, with its bar.
    answers = comparison.pick_over_thresholds(scored, [0.52, 0.05, 0.5])
    assert answers["a"].chosen == [("War", 0.60, 0.5), ("Music", 0.07, 0.05)]
    assert answers["a"].passed_over == [("Drama", 0.49, 0.52)]
    # No genre over its bar: the likeliest is named with its bar.
    assert answers["b"].chosen == [] and answers["b"].passed_over == [("Drama", 0.10, 0.52)]
    assert comparison.describe_threshold_answer(answers["a"]) == \
        "War 60% (bar 50%), Music 7% (bar 5%); not Drama (49% under its 52% bar)"
    assert comparison.describe_threshold_answer(answers["b"]) == \
        "no genre (none reaches its bar); not Drama (10% under its 52% bar)"
    # Whole percentages that would read the same get a decimal.
    close = comparison.read_threshold_answer({"Drama": 0.416, "War": 0.4}, {"Drama": 0.424, "War": 0.3})
    assert comparison.describe_threshold_answer(close) == "War 40% (bar 30%); not Drama (41.6% under its 42.4% bar)"

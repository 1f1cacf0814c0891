"""genre_app/dataset_charts.py: the Dataset browser's charts count what the dataset holds."""

from __future__ import annotations

import pytest
from conftest import build_synthetic_dataset

from genre_app import dataset_charts
from genre_models.dataset import load_dataset


@pytest.fixture
def synthetic(tmp_path):
    return load_dataset(build_synthetic_dataset(tmp_path / "data", num_films=40))


def test_chart_counts_add_up_to_the_dataset(synthetic):
    labels = synthetic.labels
    per_genre = {v["genre"]: v["films"] for v in dataset_charts.build_films_per_genre(synthetic)["data"]["values"]}
    assert per_genre == {genre: int(count) for genre, count in zip(synthetic.genres, labels.sum(axis=0))}
    per_film = dataset_charts.build_genres_per_film(synthetic)["data"]["values"]
    assert sum(v["films"] for v in per_film) == synthetic.num_films
    assert sum(v["films"] * v["genres per film"] for v in per_film) == int(labels.sum())
    lengths = dataset_charts.build_overview_lengths(synthetic)["data"]["values"]
    assert sum(v["films"] for v in lengths) == synthetic.num_films
    splits = dataset_charts.build_split_sizes(synthetic)["data"]["values"]
    assert sum(v["films"] for v in splits) == int(labels.sum())
    assert {v["split"] for v in splits} == {"train", "validation", "test"}


def test_cooccurrence_counts_pairs_and_leaves_out_a_genre_with_itself(synthetic):
    values = dataset_charts.build_cooccurrence(synthetic)["data"]["values"]
    genres = synthetic.genres
    assert len(values) == len(genres) * (len(genres) - 1)
    assert all(v["genre"] != v["with"] for v in values)
    first, second = genres[0], genres[1]
    both = int(((synthetic.labels[:, 0] == 1) & (synthetic.labels[:, 1] == 1)).sum())
    assert next(v["films"] for v in values if (v["genre"], v["with"]) == (first, second)) == both

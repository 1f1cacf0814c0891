"""genre_models.dataset.splits: splits and sub-samples decided from a film's Id alone."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from conftest import read_rows, write_csv

from genre_models.config import CSV_NAME, SplitConfig
from genre_models.dataset import assign_split, load_dataset, select_films


def test_split_depends_only_on_the_id():
    ids = [f"tt{n:07d}" for n in range(2000)]
    first = {film_id: assign_split(film_id) for film_id in ids}
    # A different set of films around them never moves a film.
    second = {film_id: assign_split(film_id) for film_id in ids[::-1] + ["tt9999999"]}
    assert all(first[film_id] == second[film_id] for film_id in ids)
    counts = collections.Counter(first.values())
    assert 0.76 < counts["train"] / 2000 < 0.84
    assert 0.07 < counts["validation"] / 2000 < 0.13


def test_split_shares_follow_the_split_config():
    ids = [f"tt{n:07d}" for n in range(2000)]
    counts = collections.Counter(assign_split(film_id, SplitConfig(train_percent=50, validation_percent=25))
                                 for film_id in ids)
    assert 0.45 < counts["train"] / 2000 < 0.55
    assert 0.2 < counts["validation"] / 2000 < 0.3


def test_removing_films_keeps_every_other_films_split(synthetic_dataset):
    full = load_dataset(synthetic_dataset)
    rows = read_rows(synthetic_dataset / CSV_NAME)
    write_csv(synthetic_dataset / CSV_NAME, rows[::2])
    half = load_dataset(synthetic_dataset)
    full_splits = dict(zip(full.ids, full.splits))
    assert all(full_splits[film_id] == split for film_id, split in zip(half.ids, half.splits))


def test_select_films_is_deterministic_per_seed_and_keeps_file_order():
    ids = np.array([f"tt{n:07d}" for n in range(100)], dtype=object)
    first = select_films(ids, 10, seed=3)
    assert list(first) == list(select_films(ids, 10, seed=3))
    assert list(first) != list(select_films(ids, 10, seed=4))
    assert len(first) == 10 and list(first) == sorted(first)
    assert list(select_films(ids, None, seed=3)) == list(range(100))
    assert list(select_films(ids, 500, seed=3)) == list(range(100))


def test_select_films_refuses_a_non_positive_count():
    with pytest.raises(ValueError, match="positive"):
        select_films(np.array(["tt1", "tt2"], dtype=object), 0, seed=1)


def test_max_films_selects_a_deterministic_subset(synthetic_dataset):
    first = load_dataset(synthetic_dataset, max_films=10, seed=3)
    again = load_dataset(synthetic_dataset, max_films=10, seed=3)
    other = load_dataset(synthetic_dataset, max_films=10, seed=4)
    assert first.num_films == 10
    assert list(first.ids) == list(again.ids)
    assert list(first.ids) != list(other.ids)

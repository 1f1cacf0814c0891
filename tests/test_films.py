"""genre_app/films.py: a film's facts and link, found by Id or row; the films matching a filter and their table."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import build_synthetic_dataset

from genre_app import films, links
from genre_models.dataset import load_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return load_dataset(build_synthetic_dataset(tmp_path_factory.mktemp("films") / "data", num_films=12))


def test_true_genres_are_the_labelled_ones_in_genre_order(dataset):
    for row in range(dataset.num_films):
        expected = [g for column, g in enumerate(dataset.genres) if dataset.labels[row, column] == 1]
        assert films.true_genres(dataset, row) == expected and expected


def test_find_film_by_id_gives_its_row_and_facts(dataset):
    film_id = str(dataset.ids[5])
    film = films.find_film(dataset, film_id)
    assert film.row == 5 and film.id == film_id
    assert film.overview == dataset.overviews[5]
    assert film.genres == films.true_genres(dataset, 5)
    assert film.split == dataset.splits[5]
    assert film.poster == dataset.poster_path(film_id)
    assert film.link == links.imdb_link(film_id)
    assert films.film_at(dataset, 5) == film


def test_find_film_refuses_an_unknown_id(dataset):
    with pytest.raises(ValueError, match="tt0000000"):
        films.find_film(dataset, "tt0000000")


@pytest.fixture
def synthetic(tmp_path):
    return load_dataset(build_synthetic_dataset(tmp_path / "data", num_films=40))


def test_filter_films_by_any_or_all_genres_and_overview_words(synthetic):
    genres = synthetic.genres[:2]
    columns = synthetic.labels[:, [synthetic.genres.index(g) for g in genres]] == 1
    assert list(films.filter_films(synthetic, [], "any", "")) == list(range(synthetic.num_films))
    assert list(films.filter_films(synthetic, genres, "any", "")) == list(np.flatnonzero(columns.any(axis=1)))
    assert list(films.filter_films(synthetic, genres, "all", "")) == list(np.flatnonzero(columns.all(axis=1)))
    # Case and surrounding spaces do not matter; every match contains the words.
    found = films.filter_films(synthetic, [], "any", "  STORY number 1 ")
    assert len(found) and all("story number 1" in synthetic.overviews[row].lower() for row in found)
    assert len(films.filter_films(synthetic, [], "any", "no such words anywhere")) == 0


@pytest.mark.parametrize("genres, match, message", [(["Cartoons"], "any", "Unknown genre 'Cartoons'"),
                                                    ([], "some", "Match must be 'any' or 'all'")])
def test_filter_films_refuses_an_unknown_genre_or_match(synthetic, genres, match, message):
    with pytest.raises(ValueError, match=message):
        films.filter_films(synthetic, genres, match, "")


def test_film_table_lists_the_given_rows_in_order_with_their_genres(synthetic):
    rows = np.array([5, 2, 30])
    table = films.film_table(synthetic, rows)
    assert list(table["film"]) == [str(synthetic.ids[row]) for row in rows]
    assert list(table.index) == [0, 1, 2]  # positions, as a selected row reports them
    for position, row in enumerate(rows):
        assert table["genres"][position].split(", ") == films.true_genres(synthetic, row)
        assert table["overview"][position] == synthetic.overviews[row]
        assert table["split"][position] == synthetic.splits[row]


def test_has_film_knows_the_dataset_ids(synthetic):
    assert films.has_film(synthetic, str(synthetic.ids[3]))
    assert not films.has_film(synthetic, "tt0000000") and not films.has_film(synthetic, "")

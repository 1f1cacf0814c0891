"""genre_app/films.py: a film's facts and link, found by Id or row."""

from __future__ import annotations

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

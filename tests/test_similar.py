"""Similar films (genre_models.similar): nearest neighbours by the poster encoder and by MiniLM."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import build_synthetic_dataset

from genre_models.config import IMAGES_DIR_NAME
from genre_models.dataset import load_dataset
from genre_models.similar import (
    OVERVIEW_INDEX,
    POSTER_INDEX,
    POSTER_INDEX_SIZE,
    load_similarity_index,
    normalise_rows,
)


@pytest.fixture(scope="module")
def dataset_folder(tmp_path_factory):
    return build_synthetic_dataset(tmp_path_factory.mktemp("similar") / "synthetic", num_films=24)


@pytest.fixture(scope="module")
def poster_index(dataset_folder):
    return load_similarity_index(POSTER_INDEX, dataset_folder)


@pytest.fixture(scope="module")
def overview_index(dataset_folder):
    return load_similarity_index(OVERVIEW_INDEX, dataset_folder)


@pytest.mark.parametrize("kind", [POSTER_INDEX, OVERVIEW_INDEX])
def test_neighbours_of_a_film_leave_it_out_most_similar_first_with_their_genres(kind, request, dataset_folder):
    index = request.getfixturevalue(f"{kind}_index")
    dataset = load_dataset(dataset_folder)
    film = str(dataset.ids[3])
    found = index.find_similar_to_film(film, count=5)
    assert len(found) == 5 and film not in [neighbour.film_id for neighbour in found]
    similarities = [neighbour.similarity for neighbour in found]
    assert similarities == sorted(similarities, reverse=True) and all(-1.001 <= value <= 1.001 for value in similarities)
    # The similarity is the cosine of the two films' embeddings, and no other film is closer than the last one listed.
    row = {str(film_id): position for position, film_id in enumerate(dataset.ids)}
    cosines = index.embeddings @ index.embeddings[row[film]]
    cosines[row[film]] = -np.inf
    assert np.isclose(similarities[0], cosines.max(), atol=1e-5)
    assert np.sum(cosines > similarities[-1] + 1e-6) < 5
    for neighbour in found:
        labels = dataset.labels[row[neighbour.film_id]]
        assert neighbour.genres == tuple(genre for genre, present in zip(dataset.genres, labels) if present)


def test_an_uploaded_poster_finds_its_own_film_first(poster_index, dataset_folder):
    film = "tt1000007"
    found = poster_index.find_similar_to_input((dataset_folder / IMAGES_DIR_NAME / f"{film}.jpg").read_bytes(), count=3)
    # The upload is resized by the encoder itself, the index's poster by the poster cache (the same bilinear op).
    assert found[0].film_id == film and found[0].similarity > 0.99


def test_a_pasted_summary_finds_its_own_film_first(overview_index, dataset_folder):
    dataset = load_dataset(dataset_folder)
    found = overview_index.find_similar_to_input(str(dataset.overviews[5]), count=3)
    assert found[0].film_id == str(dataset.ids[5]) and found[0].similarity > 0.999


def test_a_second_build_reads_the_cached_poster_features(poster_index, dataset_folder, monkeypatch):
    import genre_models.image_encoder as image_encoder

    def refuse(*_arguments, **_options):
        raise AssertionError("the posters were encoded again")

    monkeypatch.setattr(image_encoder, "build_feature_extractor", refuse)
    again = load_similarity_index(POSTER_INDEX, dataset_folder)
    np.testing.assert_array_equal(again.embeddings, poster_index.embeddings)
    assert poster_index.embeddings.shape == (24, 1280)
    np.testing.assert_allclose(np.linalg.norm(poster_index.embeddings, axis=1), 1.0, atol=1e-5)


def test_poster_index_reads_posters_at_poster_effnet_size():
    from genre_models.models import get_model_spec

    # One cache of poster features serves both the model's training and the index.
    assert tuple(get_model_spec("poster_effnet").defaults.image_size) == POSTER_INDEX_SIZE


def test_bad_requests_are_refused_with_a_clear_message(poster_index, dataset_folder):
    with pytest.raises(ValueError, match="No film with the Id 'tt9'"):
        poster_index.find_similar_to_film("tt9")
    with pytest.raises(ValueError, match="at least 1"):
        poster_index.find_similar_to_film("tt1000001", count=0)
    with pytest.raises(ValueError, match="Unknown similarity index"):
        load_similarity_index("sound", dataset_folder)
    with pytest.raises(ValueError, match="poster file is empty"):
        poster_index.find_similar_to_input(b"")
    # More neighbours than films: every other film, once.
    assert len(poster_index.find_similar_to_film("tt1000001", count=100)) == 23


def test_a_zero_embedding_stays_zero():
    rows = normalise_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(rows, [[0.6, 0.8], [0.0, 0.0]])

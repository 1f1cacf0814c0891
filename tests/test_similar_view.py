"""The similar films' text (genre_app.similar_view): genres and similarity, dataset text escaped."""

from __future__ import annotations

from genre_app.similar_view import describe_neighbour
from genre_models.similar import SimilarFilm


def test_a_neighbour_is_its_genres_and_its_similarity():
    assert describe_neighbour(SimilarFilm("tt1", 0.8765, ("Drama", "Romance"))) == "Drama\\, Romance  \nsimilarity 0.88"


def test_a_neighbour_without_genres_says_so():
    assert describe_neighbour(SimilarFilm("tt1", -0.1, ())) == "no genre  \nsimilarity -0.10"


def test_genre_names_are_shown_as_text():
    shown = describe_neighbour(SimilarFilm("tt1", 0.5, ("**Sci-Fi**", "[x](https://elsewhere.example)")))
    assert shown.startswith("\\*\\*Sci\\-Fi\\*\\*\\, \\[x\\]\\(https\\:")

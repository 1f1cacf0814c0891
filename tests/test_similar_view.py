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


def test_an_index_build_keeps_its_progress_and_its_index(monkeypatch):
    from genre_app import similar_view

    def load(kind, location, progress=None):
        progress(3, 4, "Encoding posters")
        return f"index of {kind} at {location}"

    monkeypatch.setattr(similar_view, "load_similarity_index", load)
    build = similar_view.IndexBuild("poster", "/data")
    build.done.wait()
    assert build.index == "index of poster at /data" and build.problem is None
    assert build.step == (3, 4, "Encoding posters")


def test_a_failed_index_build_says_why_in_one_line(monkeypatch):
    from genre_app import similar_view

    def load(kind, location, progress=None):
        raise RuntimeError("the posters' cache folder is read-only")

    monkeypatch.setattr(similar_view, "load_similarity_index", load)
    build = similar_view.IndexBuild("poster", "/data")
    build.done.wait()
    assert build.index is None and build.problem == "the posters' cache folder is read-only"

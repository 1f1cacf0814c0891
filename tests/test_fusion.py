"""Late fusion in one module: parts, alignment by film, fusing, fitting the weights, and when a
fusion cannot run."""

from __future__ import annotations

import numpy as np
import pytest

from genre_models.fusion import (
    align_by_film,
    find_unusable_part,
    fit_weights,
    fuse_available,
    fuse_scores,
    weight_grid,
)
from genre_models.inputs import BOTH, OVERVIEW, POSTER
from genre_models.split_scores import ScoredSplit

GENRES = ["Comedy", "Drama"]


def test_weight_grid_covers_the_simplex_in_steps():
    grid = weight_grid(3, step=0.25)
    assert len(grid) == 15 and all(abs(sum(weights) - 1) < 1e-9 for weights in grid)
    assert (1.0, 0.0, 0.0) in grid and (0.25, 0.25, 0.5) in grid


def test_fused_scores_are_the_weighted_sum():
    first, second = np.array([[0.2, 0.8]]), np.array([[0.6, 0.4]])
    np.testing.assert_allclose(fuse_scores((0.25, 0.75), [first, second]), [[0.5, 0.5]])


def test_a_log_odds_fusion_is_the_sigmoid_of_the_weighted_log_odds():
    first, second = np.array([[0.9, 0.5]]), np.array([[0.5, 0.2]])
    fused = fuse_scores((0.5, 0.5), [first, second], "logits")
    log_odds = lambda p: np.log(p / (1 - p))  # noqa: E731
    expected = 1 / (1 + np.exp(-(0.5 * log_odds(np.array([0.9, 0.5])) + 0.5 * log_odds(np.array([0.5, 0.2])))))
    np.testing.assert_allclose(fused, [expected])
    # A sure part pulls further than in a mean of probabilities: 0.99 and 0.5 give 0.91, not 0.745.
    assert fuse_scores((0.5, 0.5), [np.array([[0.99]]), np.array([[0.5]])], "logits")[0, 0] == pytest.approx(
        0.909, abs=1e-3)
    sure, unsure = np.array([[0.999]]), np.array([[0.4]])
    assert fuse_scores((0.5, 0.5), [sure, unsure], "logits")[0, 0] > fuse_scores((0.5, 0.5), [sure, unsure])[0, 0]


def test_a_log_odds_fusion_survives_probabilities_of_exactly_0_and_1():
    fused = fuse_scores((0.5, 0.5), [np.array([[1.0, 0.0, 1.0]]), np.array([[0.0, 0.0, 1.0]])], "logits")
    assert np.isfinite(fused).all()
    np.testing.assert_allclose(fused, [[0.5, 1e-6, 1 - 1e-6]], atol=1e-9)


def test_one_part_with_weight_1_is_returned_unchanged_either_way():
    scores = np.array([[0.01, 0.3, 0.97]])
    for combine in ("probabilities", "logits"):
        np.testing.assert_allclose(fuse_scores((1.0, 0.0), [scores, np.full_like(scores, 0.5)], combine), scores,
                                   atol=1e-12)


def test_an_unknown_way_of_fusing_is_refused_by_name():
    with pytest.raises(ValueError, match="Unknown way of fusing 'median'"):
        fuse_scores((1.0,), [np.zeros((1, 2))], "median")


def test_parts_are_aligned_by_film_and_films_a_part_lacks_are_left_out():
    poster = ScoredSplit(np.array(["a", "b", "c"]), np.eye(3, 2), np.array([[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]]), GENRES)
    text = ScoredSplit(np.array(["c", "a"]), np.eye(2), np.array([[0.9, 0.9], [0.7, 0.7]]), GENRES)
    ids, labels, (poster_scores, text_scores) = align_by_film([poster, text])
    assert list(ids) == ["a", "c"]
    np.testing.assert_array_equal(labels, np.eye(3, 2)[[0, 2]])
    np.testing.assert_array_equal(poster_scores[:, 0], [0.1, 0.3])
    np.testing.assert_array_equal(text_scores[:, 0], [0.7, 0.9])


def test_fitted_weights_prefer_the_informative_part():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=(200, 2))
    informative = np.clip(labels * 0.6 + rng.random((200, 2)) * 0.4, 0, 1)
    noise = rng.random((200, 2))
    best, weights, search = fit_weights(labels, [noise, informative], GENRES)
    assert weights[1] >= 0.8 and best == max(value for value, _ in search)


class FakeModel:
    """The little of a LoadedModel that the fusion checks read."""

    def __init__(self, name, input_kind, components=None, created_at="t0", genres=GENRES):
        self.name, self.input_kind, self.genres = name, input_kind, genres
        self.metadata = {"created_at": created_at}
        if components is not None:
            self.metadata["components"] = components

    is_fusion = property(lambda self: "components" in self.metadata)
    parts = property(lambda self: [(p["name"], float(p["weight"])) for p in self.metadata.get("components", [])])
    combine = property(lambda self: (self.metadata.get("recipe") or {}).get("combine", "probabilities"))


def make_fusion(**part_changes):
    parts = [{"name": "poster", "weight": 0.4, "created_at": "t0"}, {"name": "text", "weight": 0.6, "created_at": "t0"}]
    return FakeModel("fused", BOTH, components=parts), {
        "poster": FakeModel("poster", POSTER, **part_changes), "text": FakeModel("text", OVERVIEW)}


@pytest.mark.parametrize("changes, reason", [
    ({}, None), ({"created_at": "t1"}, "retrained after the fusion was fitted"),
    ({"genres": ["Drama", "Comedy"]}, "other genres"), ({"components": []}, "itself a fusion"),
])
def test_a_fusion_runs_only_with_its_parts_unchanged(changes, reason):
    fusion, loaded = make_fusion(**changes)
    problem = find_unusable_part(fusion, loaded)
    assert problem is None if reason is None else reason in problem
    assert "not loaded" in find_unusable_part(fusion, {"text": loaded["text"]})


def test_a_fusion_answers_only_when_every_part_was_scored():
    fusion, _ = make_fusion()
    assert fuse_available(fusion, {"text": np.array([0.5, 0.5])}) is None
    np.testing.assert_allclose(fuse_available(fusion, {"poster": np.array([1.0, 0.0]), "text": np.array([0.0, 1.0])}),
                               [0.4, 0.6])


def test_loaded_models_say_which_inputs_and_parts_make_them_up(tiny_trained):
    from genre_models.artifacts import load_artifact

    fused = load_artifact(tiny_trained["multimodal_fusion"].artifact_dir)
    ensemble = load_artifact(tiny_trained["text_ensemble"].artifact_dir)
    network = load_artifact(tiny_trained["poster_cnn"].artifact_dir)
    assert fused.is_fusion and fused.input_kinds == {POSTER, OVERVIEW}
    assert [name for name, _ in fused.parts] == ["poster_effnet", "minilm_tuned", "tfidf_logreg"]
    assert ensemble.is_fusion and ensemble.input_kinds == {OVERVIEW} and ensemble.image_size is None
    assert not network.is_fusion and network.parts == [] and network.image_size == (128, 64)

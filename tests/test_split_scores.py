"""genre_models/split_scores.py: each artifact's validation and test scores stored beside it, used
only while they still describe the artifact and the data, and written by training."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from genre_models.artifacts import METADATA_FILE, load_artifact
from genre_models.config import PROJECT_ROOT, TrainConfig
from genre_models.metrics import evaluate_scores
from genre_models.split_scores import (
    SPLIT_SCORES_FILE,
    STORED_SPLITS,
    ScoredSplit,
    read_split_scores,
    stored_scores_problem,
    write_split_scores,
)

ARTIFACTS = PROJECT_ROOT / "artifacts"
SHIPPED = sorted(folder.name for folder in ARTIFACTS.iterdir() if (folder / METADATA_FILE).is_file())
REFERENCE = PROJECT_ROOT / "tests" / "data" / "shipped_test_scores.npz"


def metadata_of(folder) -> dict:
    return json.loads((folder / METADATA_FILE).read_text())


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_model_has_usable_split_scores_that_give_its_recorded_figures(name):
    folder = ARTIFACTS / name
    metadata = metadata_of(folder)
    for split in STORED_SPLITS:
        assert stored_scores_problem(folder, metadata, split) is None
        stored = read_split_scores(folder, metadata, split)
        assert stored.scores.dtype == np.float32 and len(stored.ids) == metadata["data"]["split_sizes"][split]
        if split not in metadata["metrics"]:
            continue  # The train split's scores are stored for the pages; no figure is recorded for it.
        report = evaluate_scores(stored.labels, stored.scores, np.asarray(metadata["thresholds"]["per_genre"]),
                                 stored.genres)
        recorded = metadata["metrics"][split]
        for key in ("micro_f1", "macro_f1", "samples_f1", "precision_at_3", "recall_at_3"):
            assert report[key] == pytest.approx(recorded[key], abs=1e-9), (split, key)
        # Ranking figures: float32 round-off between the training-time and serving-time encoders.
        assert report["macro_average_precision"] == pytest.approx(recorded["macro_average_precision"], abs=1e-4)


def test_shipped_test_scores_are_the_recorded_reference_probabilities():
    with np.load(REFERENCE) as reference:
        for name in SHIPPED:
            stored = read_split_scores(ARTIFACTS / name, metadata_of(ARTIFACTS / name), "test")
            assert list(stored.ids) == list(reference[f"{name}__ids"]), name
            assert float(np.max(np.abs(stored.scores - reference[f"{name}__scores"]))) <= 1e-6, name


@pytest.fixture
def stored_copy(tmp_path):
    """A copy of a shipped artifact's metadata and split scores (no model: only the files are read)."""
    folder = tmp_path / "course_cnn"
    folder.mkdir()
    for name in (METADATA_FILE, SPLIT_SCORES_FILE):
        shutil.copyfile(ARTIFACTS / "course_cnn" / name, folder / name)
    return folder, metadata_of(folder)


def test_scores_of_a_retrained_model_are_not_used(stored_copy):
    folder, metadata = stored_copy
    retrained = {**metadata, "created_at": "2030-01-01T00:00:00+00:00"}
    assert "another version" in stored_scores_problem(folder, retrained, "test")
    assert read_split_scores(folder, retrained, "test") is None


def test_scores_of_other_data_are_not_used(stored_copy):
    folder, metadata = stored_copy
    assert read_split_scores(folder, metadata, "test", fingerprint=metadata["data"]["fingerprint"]) is not None
    assert "other data" in stored_scores_problem(folder, metadata, "test", fingerprint="0123456789abcdef")
    assert read_split_scores(folder, metadata, "test", fingerprint="0123456789abcdef") is None


def test_all_is_the_union_of_the_stored_splits_and_needs_every_one(stored_copy):
    folder, metadata = stored_copy
    union = read_split_scores(folder, metadata, "all")
    parts = [read_split_scores(folder, metadata, split) for split in STORED_SPLITS]
    assert list(union.ids) == [film for part in parts for film in part.ids]
    np.testing.assert_array_equal(union.scores, np.concatenate([part.scores for part in parts]))
    assert len(union.ids) == metadata["data"]["films"]
    # A file written before the train split was stored holds validation and test only.
    write_split_scores(folder, metadata, {split: parts[STORED_SPLITS.index(split)] for split in ("validation", "test")},
                       metadata["data"]["fingerprint"])
    assert "no train split" in stored_scores_problem(folder, metadata, "train")
    assert read_split_scores(folder, metadata, "all") is None
    assert read_split_scores(folder, metadata, "test") is not None


@pytest.mark.parametrize("damage", [b"", b"not a zip at all", None])
def test_a_missing_or_damaged_file_means_scoring_again(stored_copy, damage):
    folder, metadata = stored_copy
    path = folder / SPLIT_SCORES_FILE
    if damage is None:
        path.unlink()
    else:
        path.write_bytes(damage)
    assert stored_scores_problem(folder, metadata, "test")
    assert read_split_scores(folder, metadata, "test") is None


def test_scores_of_a_sample_are_never_used_for_the_full_data(tmp_path):
    metadata = {"name": "m", "created_at": "now", "genres": ["A", "B"], "data": {"fingerprint": "f"}}
    split = ScoredSplit(np.array(["tt1", "tt2"], dtype=object), np.array([[1, 0], [0, 1]], dtype=np.uint8),
                        np.array([[0.9, 0.1], [0.2, 0.7]], dtype=np.float32), ["A", "B"])
    write_split_scores(tmp_path, metadata, {"test": split}, "f", max_films=64)
    assert "sample of 64 films" in stored_scores_problem(tmp_path, metadata, "test")
    write_split_scores(tmp_path, metadata, {"test": split}, "f")
    stored = read_split_scores(tmp_path, metadata, "test", fingerprint="f")
    assert list(stored.ids) == ["tt1", "tt2"] and np.array_equal(stored.scores, split.scores)
    assert np.array_equal(stored.labels, split.labels) and stored.genres == ["A", "B"]


def test_scores_in_another_genre_order_are_refused(tmp_path):
    metadata = {"name": "m", "created_at": "now", "genres": ["A", "B"]}
    split = ScoredSplit(np.array(["tt1"]), np.zeros((1, 2), np.uint8), np.zeros((1, 2), np.float32), ["B", "A"])
    with pytest.raises(ValueError, match="genre order"):
        write_split_scores(tmp_path, metadata, {"test": split}, "f")


def test_training_writes_the_scores_it_evaluated_and_they_match_a_fresh_scoring(synthetic_dataset, tmp_path):
    from genre_models.dataset import load_dataset
    from genre_models.inference import GenrePredictor
    from genre_models.scoring import score_split
    from genre_models.training import train_model

    result = train_model(TrainConfig(model_name="tfidf_logreg", data_dir=str(synthetic_dataset), epochs=1,
                                     out_dir=str(tmp_path / "tfidf_logreg"), verbose=0, command="test"))
    loaded = load_artifact(result.artifact_dir)
    dataset = load_dataset(synthetic_dataset)
    predictor = GenrePredictor([loaded])
    for split in STORED_SPLITS:
        stored = read_split_scores(loaded.folder, loaded.metadata, split, fingerprint=dataset.fingerprint)
        assert stored is not None, stored_scores_problem(loaded.folder, loaded.metadata, split, dataset.fingerprint)
        fresh = score_split(predictor, "tfidf_logreg", lambda size: dataset, split)
        assert list(stored.ids) == list(fresh.ids)
        assert np.array_equal(stored.labels, fresh.labels)
        assert np.allclose(stored.scores, fresh.scores, atol=1e-6)
        if split in loaded.metadata["metrics"]:  # No figure is recorded for the train split.
            report = evaluate_scores(stored.labels, stored.scores, loaded.thresholds, stored.genres)
            assert report["micro_f1"] == pytest.approx(loaded.metadata["metrics"][split]["micro_f1"])

    # Scored again with progress: the same probabilities, progress reported up to every film.
    calls = []
    again = score_split(predictor, "tfidf_logreg", lambda size: dataset, "all",
                        progress=lambda done, total, what: calls.append((done, total)))
    assert np.array_equal(again.scores, score_split(predictor, "tfidf_logreg", lambda size: dataset, "all").scores)
    assert calls[0] == (0, dataset.num_films) and calls[-1] == (dataset.num_films, dataset.num_films)


def test_a_fitted_fusion_writes_the_fused_scores_of_its_parts(synthetic_dataset, tmp_path):
    from genre_models.dataset import load_dataset
    from genre_models.fusion import fuse_split
    from genre_models.training import train_model

    results = {name: train_model(TrainConfig(model_name=name, data_dir=str(synthetic_dataset), epochs=1,
                                             out_dir=str(tmp_path / name), parts_dir=str(tmp_path), verbose=0,
                                             command="test"))
               for name in ("course_cnn", "course_lstm", "late_fusion")}
    fingerprint = load_dataset(synthetic_dataset).fingerprint
    fusion = load_artifact(results["late_fusion"].artifact_dir)
    for split in STORED_SPLITS:
        parts = [read_split_scores(results[name].artifact_dir, results[name].metadata, split, fingerprint)
                 for name, _ in fusion.parts]
        stored = read_split_scores(fusion.folder, fusion.metadata, split, fingerprint)
        expected = fuse_split(fusion, parts)
        assert list(stored.ids) == list(expected.ids)
        assert np.allclose(stored.scores, expected.scores, atol=1e-6)


def break_deflate_stream(path, member: str) -> None:
    """Overwrite the middle of one member's compressed data with bytes no deflate stream holds (a bad
    sector, a truncated copy patched over): zipfile raises zlib.error, not BadZipFile, on reading it."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    raw = bytearray(path.read_bytes())
    name_length, extra_length = int.from_bytes(raw[info.header_offset + 26: info.header_offset + 28], "little"), \
        int.from_bytes(raw[info.header_offset + 28: info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_length + extra_length
    raw[start: start + min(64, info.compress_size)] = b"\xff" * min(64, info.compress_size)
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("member", ["test__scores.npy", "header.npy"])
def test_an_invalid_deflate_block_means_scoring_again(stored_copy, member):
    import zlib

    folder, metadata = stored_copy
    break_deflate_stream(folder / SPLIT_SCORES_FILE, member)
    with pytest.raises(zlib.error), np.load(folder / SPLIT_SCORES_FILE) as stored:
        stored[member.removesuffix(".npy")]  # the damage this test is about
    assert read_split_scores(folder, metadata, "test") is None
    assert read_split_scores(folder, metadata, "all") is None
    if member == "header.npy":
        assert "cannot be read" in stored_scores_problem(folder, metadata, "test")

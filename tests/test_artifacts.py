"""Shipped artifacts load and predict; damaged ones are reported and skipped."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from genre_models.artifacts import (
    load_all_artifacts,
    load_artifact,
    read_artifact_metadata,
)
from genre_models.config import PROJECT_ROOT
from genre_models.inference import GenrePredictor
from genre_models.models import MODEL_REGISTRY

SHIPPED = PROJECT_ROOT / "artifacts"
# Every registry model is shipped, trained by the project's CLI on the full dataset.
SHIPPED_NAMES = sorted(MODEL_REGISTRY)


@pytest.fixture(scope="module")
def shipped_predictor():
    return GenrePredictor.from_artifacts(SHIPPED)


def test_every_shipped_artifact_is_usable(shipped_predictor):
    assert sorted(shipped_predictor.model_names()) == sorted(SHIPPED_NAMES)
    assert shipped_predictor.load_errors == {}


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_shipped_artifact_loads_and_predicts(name, shipped_predictor):
    loaded = load_artifact(SHIPPED / name)
    metadata = loaded.metadata
    assert len(loaded.genres) == 25 and len(loaded.thresholds) == 25
    for key in ("command", "seed", "data", "metrics", "versions", "recipe"):
        assert key in metadata
    assert metadata["data"]["films"] > 5000 and metadata["data"]["fingerprint"]
    assert metadata["data"]["split_sizes"]["test"] > 400
    poster = np.random.default_rng(0).integers(0, 256, (300, 150, 3), dtype=np.uint8)
    result = shipped_predictor.predict(poster=poster, overview="A detective hunts a serial killer in a rainy city.")
    prediction = next(p for p in result.predictions if p.model == name)
    assert len(prediction.probabilities) == 25 and len(prediction.top) == 3
    assert all(0 <= p <= 1 for p in prediction.probabilities.values())


def test_shipped_artifacts_stay_lean():
    total = sum(path.stat().st_size for path in SHIPPED.rglob("*") if path.is_file())
    assert total < 150 * 1024 * 1024


@pytest.mark.parametrize("folder", sorted(SHIPPED.glob("*/model.keras")), ids=lambda path: path.parent.name)
def test_shipped_models_carry_no_optimizer_state(folder, tmp_path):
    import zipfile

    import h5py

    with zipfile.ZipFile(folder) as archive:
        archive.extract("model.weights.h5", tmp_path)
    slots = []
    with h5py.File(tmp_path / "model.weights.h5") as weights:
        # An unbuilt optimizer may leave scalar counters; moment slots would be arrays.
        weights.visititems(lambda name, item: slots.append(name) if (
            "optimizer" in name and isinstance(item, h5py.Dataset) and item.shape != ()) else None)
    assert slots == []


def test_shipped_baselines_are_recorded():
    baselines = json.loads((SHIPPED / "baselines.json").read_text())
    frequency = baselines["genre_frequency"]
    assert frequency["predicts_always"] and 0 < frequency["metrics"]["test"]["micro_f1"] < 1


def test_damaged_artifacts_are_reported_and_skipped(tiny_trained, tmp_path):
    root = tmp_path / "artifacts"
    for name, result in tiny_trained.items():
        shutil.copytree(result.artifact_dir, root / name)
    (root / "course_cnn" / "model.keras").write_bytes(b"garbage")
    metadata = json.loads((root / "course_lstm" / "metadata.json").read_text())
    metadata["genres"] = metadata["genres"][:-1]
    (root / "course_lstm" / "metadata.json").write_text(json.dumps(metadata))
    (root / "empty").mkdir()

    loaded, errors = load_all_artifacts(root)

    # The fusions' own files are fine (their components are checked when a predictor is built).
    assert [m.name for m in loaded] == sorted(set(MODEL_REGISTRY) - {"course_cnn", "course_lstm"})
    assert "could not be loaded" in errors["course_cnn"]
    assert "24 genres" in errors["course_lstm"]
    assert "metadata.json is missing" in errors["empty"]
    found, listing_errors = read_artifact_metadata(root)
    # Listing reads metadata only; a damaged model file is found when loading.
    assert [m["name"] for m in found] == sorted(set(MODEL_REGISTRY) - {"course_lstm"})


def test_artifact_from_another_keras_major_is_refused(tiny_trained, tmp_path):
    folder = shutil.copytree(tiny_trained["tfidf_logreg"].artifact_dir, tmp_path / "old")
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["versions"]["keras"] = "2.15.0"
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match="Keras 2.15.0"):
        load_artifact(folder)


def test_a_broken_promoted_run_is_reported_under_its_model_name(tiny_trained, tmp_path):
    promoted = shutil.copytree(tiny_trained["course_lstm"].artifact_dir, tmp_path / "run" / "artifact")
    (promoted / "metadata.json").write_text("{ not json")
    root = tiny_trained["course_cnn"].artifact_dir.parent
    loaded, errors = load_all_artifacts(root, overrides={"course_lstm": str(promoted)})
    assert "course_lstm" in errors and "artifact" not in errors
    assert "course_lstm" not in [m.name for m in loaded]
    found, listing_errors = read_artifact_metadata(root, overrides={"course_lstm": str(promoted)})
    assert "course_lstm" in listing_errors

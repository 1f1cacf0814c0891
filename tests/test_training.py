"""Training end to end on a few real films, and atomic publication of artifacts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genre_models.artifacts import load_artifact, publish_artifact
from genre_models.config import TrainConfig
from genre_models.models import MODEL_REGISTRY
from genre_models.runs import read_json, resolve_runs_dir
from genre_models.training import make_schedule, resolve_recipe, train_model


@pytest.mark.parametrize("name", sorted(MODEL_REGISTRY))
def test_one_epoch_on_64_real_films_gives_a_loadable_artifact(tiny_trained, name):
    result = tiny_trained[name]
    files = ["history.json", "metadata.json"] + (["model.keras"] if MODEL_REGISTRY[name].builder else [])
    assert sorted(p.name for p in result.artifact_dir.iterdir()) == files
    metadata = json.loads((result.artifact_dir / "metadata.json").read_text())
    assert metadata["name"] == name and len(metadata["genres"]) == 25
    assert len(metadata["thresholds"]["per_genre"]) == 25
    assert metadata["data"]["films"] <= 64 and metadata["data"]["fingerprint"]
    assert "sha256(Id)" in metadata["data"]["split_rule"]
    assert sum(metadata["data"]["split_sizes"].values()) == metadata["data"]["films"]
    assert metadata["command"] == f"test train {name}" and metadata["seed"] == 42
    assert {"tensorflow", "keras"} <= set(metadata["versions"])
    test = metadata["metrics"]["test"]
    assert 0.0 <= test["micro_f1"] <= 1.0 and "Drama" in test["per_genre"]
    history = json.loads((result.artifact_dir / "history.json").read_text())
    if MODEL_REGISTRY[name].builder is None:
        weights = [part["weight"] for part in metadata["components"]]
        assert abs(sum(weights) - 1.0) < 1e-6 and all(w >= 0 for w in weights) and history["weight_search"]
        return
    epoch = history["epochs"][0]
    for key in ("loss", "val_loss", "binary_accuracy", "precision", "recall", "auc", "val_auc", "learning_rate"):
        assert key in epoch
    assert read_json(result.run_dir / "status.json")["state"] == "completed"
    loaded = load_artifact(result.artifact_dir)
    assert loaded.genres == metadata["genres"]


def test_publishing_is_atomic_when_saving_fails(tiny_trained, tmp_path):
    existing = tiny_trained["tfidf_logreg"].artifact_dir
    before = {p.name: p.read_bytes() for p in existing.iterdir()}
    model = load_artifact(existing).model

    def failing_save(*args, **kwargs):
        raise OSError("disk full")

    model.save = failing_save
    with pytest.raises(OSError, match="disk full"):
        publish_artifact(existing, model, {"name": "x"}, {})
    assert {p.name: p.read_bytes() for p in existing.iterdir()} == before
    assert not [p for p in existing.parent.iterdir() if ".partial-" in p.name]


def test_learning_rate_is_held_then_decays_by_exp_minus_0_01():
    schedule = make_schedule(hold_epochs=10, decay=0.01)
    assert schedule(9, 1e-4) == pytest.approx(1e-4)
    assert schedule(10, 1e-4) == pytest.approx(1e-4 * np.exp(-0.01))


def test_recipe_overrides_and_bad_values():
    defaults = MODEL_REGISTRY["course_cnn"].defaults
    recipe = resolve_recipe(defaults, TrainConfig(model_name="course_cnn", epochs=3, batch_size=8))
    assert (recipe.epochs, recipe.batch_size, recipe.learning_rate) == (3, 8, 1e-4)
    with pytest.raises(ValueError, match="epochs"):
        resolve_recipe(defaults, TrainConfig(model_name="course_cnn", epochs=0))


def test_training_failure_is_recorded_in_the_run_status(tmp_path):
    config = TrainConfig(model_name="tfidf_logreg", data_dir=str(tmp_path / "missing"), verbose=0)
    with pytest.raises(ValueError, match="not found"):
        train_model(config)
    runs = list(resolve_runs_dir().glob("*tfidf_logreg*"))
    statuses = [read_json(run / "status.json") for run in runs]
    assert any(status["state"] == "failed" and "not found" in status["error"] for status in statuses)


def test_large_poster_sets_stream_and_train_the_same(real_data_dir, tmp_path, monkeypatch):
    """Streaming from the memory-mapped cache gives the same first-epoch loss as the in-memory path."""
    losses = {}
    for name, limit in (("in_memory", "100000"), ("streamed", "0")):
        monkeypatch.setenv("GENRE_STREAM_ABOVE_MB", limit)
        result = train_model(TrainConfig(model_name="course_cnn", data_dir=str(real_data_dir), epochs=1, max_films=64,
                                         image_size=(32, 32), verbose=0, out_dir=str(tmp_path / name)))
        losses[name] = json.loads((result.artifact_dir / "history.json").read_text())["epochs"][0]["loss"]
    assert losses["streamed"] == pytest.approx(losses["in_memory"], rel=1e-3)

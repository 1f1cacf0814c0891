"""Training end to end on a few real films, and atomic publication of artifacts."""

from __future__ import annotations

import errno
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
    files = ["README.md", "history.json", "metadata.json"] + (
        ["model.keras"] if MODEL_REGISTRY[name].builder else []) + ["split_scores.npz"]
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


NETWORKS = sorted(name for name, spec in MODEL_REGISTRY.items() if not spec.is_fusion)
FUSIONS = sorted(name for name, spec in MODEL_REGISTRY.items() if spec.is_fusion)


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """A fresh, empty cache folder: nothing encoded or decoded before (a new machine)."""
    folder = tmp_path / "empty-cache"
    monkeypatch.setenv("GENRE_CACHE_DIR", str(folder))
    return folder


@pytest.mark.parametrize("name", NETWORKS)
def test_every_network_trains_one_epoch_from_an_empty_cache_on_several_batches(name, real_data_dir, empty_cache,
                                                                               tmp_path):
    """150 films are more than one encoding batch (EMBED_BATCH = 64): batches of token states trimmed
    to different lengths must still stack (minilm_tuned could not be rebuilt on a fresh machine)."""
    result = train_model(TrainConfig(model_name=name, data_dir=str(real_data_dir), epochs=1, max_films=150,
                                     verbose=0, out_dir=str(tmp_path / name), patience=0))
    loaded = load_artifact(result.artifact_dir)
    assert loaded.metadata["data"]["films"] == 150
    assert any(empty_cache.rglob("*")) or MODEL_REGISTRY[name].input_kind == "overview"


@pytest.mark.parametrize("name", FUSIONS)
def test_every_fusion_fits_from_an_empty_cache(name, tiny_trained, real_data_dir, empty_cache, tmp_path):
    parts_dir = tiny_trained["course_cnn"].artifact_dir.parent
    result = train_model(TrainConfig(model_name=name, data_dir=str(real_data_dir), max_films=150, verbose=0,
                                     out_dir=str(tmp_path / name), parts_dir=str(parts_dir)))
    assert [part["name"] for part in load_artifact(result.artifact_dir).metadata["components"]] == list(
        MODEL_REGISTRY[name].defaults.components)


@pytest.mark.parametrize("name, activity", [("minilm_tuned", "encoding overviews"),
                                            ("course_cnn", "decoding posters"), ("tfidf_logreg", "scoring films")])
def test_long_steps_refresh_the_heartbeat(name, activity, real_data_dir, empty_cache, tmp_path, monkeypatch):
    """The dead-worker check must never catch a live worker encoding, decoding or scoring."""
    from genre_models import training

    beats = []
    monkeypatch.setattr(training, "HEARTBEAT_SECONDS", 0.0)
    original = training.beat
    monkeypatch.setattr(training, "beat", lambda run_dir, **progress: (beats.append(progress),
                                                                      original(run_dir, **progress)))
    config = TrainConfig(model_name=name, data_dir=str(real_data_dir), epochs=1, max_films=80, verbose=0,
                         out_dir=str(tmp_path / name), image_size=(32, 32) if name == "course_cnn" else None)
    train_model(config)
    assert any(activity in str(beat.get("activity", "")) for beat in beats), beats[:5]


@pytest.mark.parametrize("settings, message", [
    ({"learning_rate": float("nan")}, "learning rate"), ({"learning_rate": float("inf")}, "learning rate"),
    ({"learning_rate": -1.0}, "learning rate"), ({"epochs": 0}, "epochs"), ({"batch_size": 0}, "batch size"),
    ({"image_size": (4, 4000)}, "image size"), ({"train_fraction": 0.0}, "share of training data"),
])
def test_impossible_settings_are_refused_before_anything_is_written(settings, message, real_data_dir, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv("GENRE_RUNS_DIR", str(tmp_path / "runs"))
    with pytest.raises(ValueError, match=message):
        train_model(TrainConfig(model_name="course_cnn", data_dir=str(real_data_dir), **settings))
    assert not (tmp_path / "runs").exists()


def test_an_unwritable_run_folder_is_refused_with_a_message(real_data_dir, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ValueError, match="Cannot write the run folder"):
        train_model(TrainConfig(model_name="tfidf_logreg", data_dir=str(real_data_dir), epochs=1, max_films=64,
                                run_dir=str(blocker / "run"), verbose=0))


def test_cli_train_refuses_a_nan_learning_rate_with_exit_code_2(real_data_dir, capsys):
    from genre_models.cli import main

    assert main(["train", "--model", "course_cnn", "--data-dir", str(real_data_dir), "--learning-rate", "nan"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error:") and "learning rate" in error and "\n" not in error


def test_full_disk_fails_the_run_with_that_message(real_data_dir, monkeypatch, tmp_path):
    from genre_models import runs, training

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(training, "publish_artifact", full_disk)
    config = TrainConfig(model_name="tfidf_logreg", data_dir=str(real_data_dir), epochs=1, max_films=64,
                         out_dir=str(tmp_path / "out"), verbose=0)
    with pytest.raises(OSError):
        training.train_model(config)
    failed = [run for run in runs.list_runs() if run["status"]["state"] == "failed"]
    assert failed and "No space left on device" in failed[0]["status"]["error"]
    assert not (tmp_path / "out").exists()

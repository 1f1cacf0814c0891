"""Training end to end on a few real films, and atomic publication of artifacts."""

from __future__ import annotations

import errno
import json

import numpy as np
import pytest

from genre_models import backup, runs, supervisor
from genre_models.artifacts import load_artifact, publish_artifact
from genre_models.config import TrainConfig
from genre_models.fileio import read_json
from genre_models.models import MODEL_REGISTRY
from genre_models.runs import resolve_runs_dir
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
    from genre_models import training

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(training, "publish_artifact", full_disk)
    config = TrainConfig(model_name="tfidf_logreg", data_dir=str(real_data_dir), epochs=1, max_films=64,
                         out_dir=str(tmp_path / "out"), verbose=0)
    with pytest.raises(OSError):
        training.train_model(config)
    failed = [run for run in runs.list_runs() if run.state == "failed"]
    assert failed and "No space left on device" in failed[0].status["error"]
    assert not (tmp_path / "out").exists()


# --- Resuming a stopped or crashed run ---------------------------------------------------------------

def resumable_config(real_data_dir, run_dir, **overrides) -> TrainConfig:
    """A 4-epoch tfidf_logreg run on 60 real films in ``run_dir`` (seconds per epoch)."""
    settings = {"model_name": "tfidf_logreg", "data_dir": str(real_data_dir), "epochs": 4, "max_films": 60,
                "patience": 3, "run_dir": str(run_dir), "out_dir": str(run_dir / "artifact"), "verbose": 0,
                "command": "test resume", **overrides}
    return TrainConfig(**settings)


def interrupt_at_epoch(monkeypatch, index: int, action=None) -> None:
    """Make the next run break off when its epoch ``index`` (0-based) begins: raise (a crash), or run
    ``action`` (e.g. request a stop) and go on. The schedule is what Keras calls first at an epoch's start."""
    from genre_models import training

    real = training.make_schedule

    def breaking(*args, **kwargs):
        inner = real(*args, **kwargs)

        def schedule(epoch, learning_rate):
            if epoch == index:
                if action is None:
                    raise RuntimeError("the worker crashed")
                action()
            return inner(epoch, learning_rate)

        return schedule

    monkeypatch.setattr(training, "make_schedule", breaking)


def crashed_run(real_data_dir, run_dir, monkeypatch, **overrides) -> TrainConfig:
    """Train until epoch 3 begins and crash there; return the run's config (the backup holds epochs 1-2)."""
    config = resumable_config(real_data_dir, run_dir, **overrides)
    with monkeypatch.context() as patch:
        interrupt_at_epoch(patch, 2)
        with pytest.raises(RuntimeError, match="crashed"):
            train_model(config)
    return config


def test_a_crashed_run_resumes_after_its_last_epoch_as_one_continuous_run(real_data_dir, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    config = crashed_run(real_data_dir, run_dir, monkeypatch)
    assert runs.read_status(run_dir)["state"] == "failed" and backup.has_backup(run_dir)
    assert [epoch["epoch"] for epoch in runs.read_history(run_dir)] == [1, 2]
    lines_before = len(runs.read_metrics(run_dir)[0])

    result = train_model(config, resume=True)
    history = runs.read_history(run_dir)
    assert [epoch["epoch"] for epoch in history] == [1, 2, 3, 4]  # every epoch once, none again
    batches, epochs = runs.read_metrics(run_dir)
    assert [record["epoch"] for record in epochs] == [1, 2, 3, 4]
    # The resumed process went on with epoch 3: its batch lines follow epoch 2's, none of epochs 1-2 again.
    assert [record["epoch"] for record in batches[lines_before:]] == sorted(
        record["epoch"] for record in batches[lines_before:]) and batches[lines_before]["epoch"] == 3
    assert runs.read_status(run_dir)["state"] == "completed" and not backup.has_backup(run_dir)
    # Resumed here as from the command line: the worker itself records the epoch it went on after, so the run's
    # minutes count epochs 1-2 of the crashed process as well as this one's.
    status = runs.read_run(run_dir).status
    assert status["resumed_after_epoch"] == 2
    earlier = sum(epoch["seconds"] for epoch in history[:2])
    assert runs.measure_run_seconds(status, run_dir) >= earlier > 0
    assert not (run_dir / backup.BACKUP_DIR).exists()
    loaded = load_artifact(result.artifact_dir)
    assert loaded.metadata["training"]["epochs_run"] == 4
    assert [resume["after_epoch"] for resume in loaded.metadata["training"]["resumed"]] == [2]
    assert not any("backup" in path.name or path.suffix == ".h5" for path in result.artifact_dir.rglob("*"))
    # The weights, optimizer state and learning rate came back: the curves are those of an uninterrupted run.
    straight = train_model(resumable_config(real_data_dir, tmp_path / "straight"))
    expected = json.loads((straight.artifact_dir / "history.json").read_text())["epochs"]
    for resumed, uninterrupted in zip(history, expected):
        assert resumed["val_loss"] == pytest.approx(uninterrupted["val_loss"], rel=1e-4)
        assert resumed["learning_rate"] == pytest.approx(uninterrupted["learning_rate"])


def test_a_stopped_run_keeps_its_backup_and_resumes_to_completion(real_data_dir, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    config = resumable_config(real_data_dir, run_dir)
    with monkeypatch.context() as patch:
        interrupt_at_epoch(patch, 1, action=lambda: supervisor.request_stop(run_dir))
        stopped = train_model(config)
    assert stopped.stopped and runs.read_status(run_dir)["state"] == "stopped" and backup.has_backup(run_dir)
    # Stopped before epoch 2's first step: epoch 2 is neither finished nor validated, nor recorded.
    assert [epoch["epoch"] for epoch in runs.read_history(run_dir)] == [1]
    (run_dir / runs.STOP_FILE).unlink()  # what supervisor.resume_run does before launching the worker
    result = train_model(config, resume=True)
    assert [epoch["epoch"] for epoch in runs.read_history(run_dir)] == [1, 2, 3, 4]
    assert not result.stopped and runs.read_status(run_dir)["state"] == "completed"
    assert not (run_dir / backup.BACKUP_DIR).exists()


def test_a_stop_during_the_last_epoch_leaves_that_epoch_to_resume(real_data_dir, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    config = resumable_config(real_data_dir, run_dir, patience=0)
    with monkeypatch.context() as patch:
        interrupt_at_epoch(patch, 3, action=lambda: supervisor.request_stop(run_dir))  # epoch 4 of 4 begins
        result = train_model(config)
    assert [epoch["epoch"] for epoch in runs.read_history(run_dir)] == [1, 2, 3]
    assert result.stopped and runs.read_status(run_dir)["state"] == "stopped" and backup.has_backup(run_dir)


def test_a_stop_while_the_data_loads_ends_the_run_before_training(real_data_dir, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    supervisor.request_stop(run_dir)
    result = train_model(resumable_config(real_data_dir, run_dir))
    assert result.stopped and result.artifact_dir is None and runs.read_history(run_dir) == []
    assert runs.read_status(run_dir)["state"] == "stopped" and not backup.has_backup(run_dir)


def read_events(folder) -> dict[str, list[tuple[int, float]]]:
    """Return {tag: [(step, value)]} of the TensorBoard event files in ``folder``, read back with TensorFlow."""
    import tensorflow as tf

    scalars: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                assert value.metadata.plugin_data.plugin_name in ("", "scalars")
                scalars.setdefault(value.tag, []).append((event.step, float(tf.make_ndarray(value.tensor))))
    return scalars


def test_every_run_writes_tensorboard_events_per_batch_and_per_epoch(tiny_trained):
    result = tiny_trained["course_cnn"]
    scalars = read_events(result.run_dir / runs.TENSORBOARD_DIR)
    history = runs.read_history(result.run_dir)
    for name in ("loss", "val_loss", "learning_rate", "val_micro_f1", "val_macro_f1", "val_pr_auc"):
        assert scalars[f"epoch/{name}"] == [(1, pytest.approx(history[0][name]))]
    batches = runs.read_metrics(result.run_dir)[0]
    assert [step for step, _ in scalars["batch/loss"]] == list(range(1, len(batches) + 1))
    assert [value for _, value in scalars["batch/loss"]] == pytest.approx([batch["loss"] for batch in batches])


def test_a_run_on_a_share_of_the_data_decodes_only_the_posters_it_uses(real_data_dir, tmp_path):
    decoded = []
    result = train_model(TrainConfig(model_name="course_cnn", data_dir=str(real_data_dir), epochs=1, max_films=200,
                                     train_fraction=0.2, image_size=(16, 16), verbose=0,
                                     run_dir=str(tmp_path / "run"), out_dir=str(tmp_path / "artifact")),
                         progress=lambda done, total, what: decoded.append(total) if what == "decoding posters" else None)
    sizes = result.metadata["data"]["split_sizes"]
    assert max(decoded) == sum(sizes.values()) == result.metadata["data"]["films"] < 200


def test_resuming_with_changed_settings_is_refused(real_data_dir, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    config = crashed_run(real_data_dir, run_dir, monkeypatch)
    changed = TrainConfig(**{**config.to_dict(), "epochs": 6})
    with pytest.raises(ValueError, match=r"cannot be resumed with changed settings \(epochs 4 -> 6\)"):
        train_model(changed, resume=True)
    assert runs.read_status(run_dir)["state"] == "failed" and backup.has_backup(run_dir)  # left as it was


@pytest.mark.parametrize("damage, where", [
    (lambda folder: (folder / "keras" / "latest.weights.h5").write_bytes(b"half a file"), "latest.weights.h5"),
    (lambda folder: (folder / "keras" / "training_metadata.json").write_text("{"), "training_metadata.json"),
    (lambda folder: (folder / "state.json").unlink(), "state.json"),
])
def test_a_damaged_backup_is_refused_with_a_message_naming_the_run(damage, where, real_data_dir, tmp_path,
                                                                   monkeypatch):
    run_dir = tmp_path / "broken-run"
    config = crashed_run(real_data_dir, run_dir, monkeypatch)
    damage(run_dir / backup.BACKUP_DIR)
    with pytest.raises(ValueError, match=rf"backup of run broken-run is damaged \(.*{where}"):
        train_model(config, resume=True)


def test_weights_that_do_not_fit_the_model_are_a_damaged_backup_not_a_traceback(real_data_dir, tmp_path,
                                                                              monkeypatch):
    """A readable weights file from another network fails inside Keras; the run says its backup is damaged."""
    import keras

    run_dir = tmp_path / "broken-run"
    config = crashed_run(real_data_dir, run_dir, monkeypatch)
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    other.save_weights(run_dir / backup.BACKUP_DIR / "keras" / "latest.weights.h5")
    with pytest.raises(ValueError, match="backup of run broken-run is damaged"):
        train_model(config, resume=True)
    assert "damaged" in runs.read_status(run_dir)["error"]


def test_a_fusion_or_a_completed_run_has_nothing_to_resume(real_data_dir, tmp_path):
    run_dir = tmp_path / "run"
    config = resumable_config(real_data_dir, run_dir, epochs=1)
    train_model(config)
    assert not (run_dir / backup.BACKUP_DIR).exists()
    with pytest.raises(ValueError, match="run has no training backup to resume from"):
        train_model(config, resume=True)
    with pytest.raises(ValueError, match="is a fusion"):
        train_model(TrainConfig(model_name="late_fusion", run_dir=str(run_dir)), resume=True)

"""Training runs as separate worker processes: start, stop, kill, resume, one at a time, reaped, and a dead
worker recorded by the supervisor."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from genre_models import backup, fileio, promotions, runs, supervisor
from genre_models.artifacts import load_artifact
from genre_models.config import TrainConfig


def wait_for(predicate, timeout: float = 240, interval: float = 0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("condition not reached in time")


def state_of(run_dir: Path) -> str:
    return runs.read_run(run_dir).state


def log_of(run_dir: Path) -> str:
    return (run_dir / runs.LOG_FILE).read_text(errors="replace")[-3000:]


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "runs"
    monkeypatch.setenv("GENRE_RUNS_DIR", str(folder))
    return folder


def worker_arguments(real_data_dir, **overrides) -> TrainConfig:
    settings = {"model_name": "course_cnn", "data_dir": str(real_data_dir), "epochs": 1, "max_films": 64,
                "image_size": (32, 32), "verbose": 2, **overrides}
    return TrainConfig(**settings)


def test_worker_writes_status_metrics_and_a_loadable_artifact(real_data_dir, runs_dir):
    run_dir = supervisor.start_run(worker_arguments(real_data_dir))
    assert state_of(run_dir) in runs.ACTIVE_STATES
    final = wait_for(lambda: state_of(run_dir) in runs.FINAL_STATES and state_of(run_dir))
    assert final == "completed", log_of(run_dir)
    status = runs.read_status(run_dir)
    assert status["pid"] and status["heartbeat"] and status["finished_at"] and status["model"] == "course_cnn"
    # Its duration, though the heartbeat holding the worker's count was replaced by the scoring steps after it.
    assert runs.measure_run_seconds(status, run_dir) > 0
    batches, epochs = runs.read_metrics(run_dir)
    assert batches and {"loss", "binary_accuracy", "step", "steps"} <= set(batches[0])
    assert len(epochs) == 1 and {"val_loss", "val_auc", "learning_rate"} <= set(epochs[0])
    loaded = load_artifact(run_dir / runs.ARTIFACT_DIR)
    assert loaded.metadata["recipe"]["image_size"] == [32, 32]
    assert [run.name for run in runs.list_runs()] == [run_dir.name]


def test_stop_request_ends_the_run_as_stopped_and_keeps_the_best_checkpoint(real_data_dir, runs_dir):
    run_dir = supervisor.start_run(worker_arguments(real_data_dir, epochs=500, patience=0))
    # Wait for a finished epoch, so there is a checkpoint to keep.
    wait_for(lambda: runs.read_metrics(run_dir)[1] or state_of(run_dir) in runs.FINAL_STATES)
    supervisor.request_stop(run_dir)
    final = wait_for(lambda: state_of(run_dir) in runs.FINAL_STATES and state_of(run_dir))
    assert final == "stopped", log_of(run_dir)
    assert len(runs.read_metrics(run_dir)[1]) < 500
    metadata = load_artifact(run_dir / runs.ARTIFACT_DIR).metadata
    assert metadata["training"]["stopped_by_request"] is True


def test_killed_worker_is_reported_failed_with_its_checkpoint_loadable(real_data_dir, runs_dir):
    import keras

    run_dir = supervisor.start_run(worker_arguments(real_data_dir, epochs=500, patience=0))
    wait_for(lambda: runs.read_metrics(run_dir)[1])
    supervisor.kill_run(run_dir)
    wait_for(lambda: not runs.is_worker_alive(run_dir))
    status = runs.read_run(run_dir).status
    assert status["state"] == "failed" and "ended unexpectedly" in status["error"]
    model = keras.models.load_model(run_dir / runs.CHECKPOINT_FILE)
    assert model.outputs[0].shape[-1] == 25


def test_every_worker_is_reaped_and_a_dead_one_recorded_as_failed(runs_dir):
    """A worker that ends (here at once, without writing a final state) is waited for: it never stays a <defunct>
    child of the server, and the supervisor records it as failed."""
    import sys

    run_dir = runs.create_run_dir("course_cnn", runs_dir)
    fileio.write_json_atomically(run_dir / runs.CONFIG_FILE, {"config": {}, "model": "course_cnn", "created": 0})
    runs.write_status(run_dir, "queued")
    process = supervisor.launch_worker(run_dir, [sys.executable, "-c", "pass"])
    wait_for(lambda: process.returncode is not None, timeout=60)  # set by the reaper's wait()
    assert not Path(f"/proc/{process.pid}").exists()  # no zombie left
    status = wait_for(lambda: runs.read_status(run_dir)["state"] == "failed" and runs.read_status(run_dir), 30)
    assert "ended unexpectedly" in status["error"]


def test_second_start_is_refused_naming_the_active_run(real_data_dir, runs_dir):
    first = supervisor.start_run(worker_arguments(real_data_dir, epochs=500, patience=0))
    try:
        with pytest.raises(runs.RunRefused, match=first.name):
            supervisor.start_run(worker_arguments(real_data_dir))
    finally:
        supervisor.kill_run(first)


def test_concurrent_starts_from_two_tabs_create_exactly_one_run(real_data_dir, runs_dir):
    outcomes = []

    def click():
        try:
            outcomes.append(supervisor.start_run(worker_arguments(real_data_dir, epochs=500, patience=0)))
        except runs.RunRefused as refusal:
            outcomes.append(refusal)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    started = [o for o in outcomes if isinstance(o, Path)]
    try:
        assert len(started) == 1 and len(list(runs_dir.glob("*course_cnn*"))) == 1
    finally:
        for run_dir in started:
            supervisor.kill_run(run_dir)


def test_training_can_be_turned_off(runs_dir, monkeypatch):
    monkeypatch.setenv("GENRE_TRAINING_ENABLED", "0")
    with pytest.raises(runs.RunRefused, match="turned off"):
        supervisor.start_run(TrainConfig("course_cnn"))


def test_a_fresh_app_session_shows_a_running_worker_and_its_stop_button_stops_it(real_data_dir, runs_dir,
                                                                                   monkeypatch):
    """As after a server restart or in a second tab: the page only reads the run folder."""
    from streamlit.testing.v1 import AppTest

    from genre_models.config import PROJECT_ROOT

    monkeypatch.setenv("GENRE_DATA_DIR", str(real_data_dir))
    run_dir = supervisor.start_run(worker_arguments(real_data_dir, epochs=500, patience=0))
    wait_for(lambda: runs.read_metrics(run_dir)[0])
    app = AppTest.from_file(str(PROJECT_ROOT / "pages" / "5_Train.py"), default_timeout=120)
    app.run()
    assert not app.exception
    assert any(run_dir.name in str(m.value) for m in app.markdown)
    next(button for button in app.button if button.label == "Stop training").click().run()
    final = wait_for(lambda: state_of(run_dir) in runs.FINAL_STATES and state_of(run_dir))
    assert final == "stopped", log_of(run_dir)


def test_a_damaged_status_file_neither_hides_a_live_run_nor_lets_a_second_start(real_data_dir, runs_dir):
    """The lock held by the worker, not the status file, decides whether a run is active."""
    first = supervisor.start_run(worker_arguments(real_data_dir, epochs=500, patience=0))
    try:
        wait_for(lambda: runs.read_metrics(first)[0])
        (first / runs.STATUS_FILE).write_text("{ not json")
        listed = runs.list_runs()
        assert [run.name for run in listed] == [first.name] and listed[0].state == "running"
        assert listed[0].status["model"] == "course_cnn" and listed[0].status["created"]
        with pytest.raises(runs.RunRefused, match=first.name):
            supervisor.start_run(worker_arguments(real_data_dir))
    finally:
        supervisor.kill_run(first)
    wait_for(lambda: not runs.is_worker_alive(first))
    status = runs.read_run(first).status
    assert status["state"] == "failed" and status["model"] == "course_cnn"


def test_a_fusion_started_like_the_train_page_does_fits_on_the_models_in_use(tiny_trained, real_data_dir, runs_dir,
                                                                             tmp_path, monkeypatch):
    """The worker gets --config with out_dir <run>/artifact; its parts come from the artifacts in use,
    with a promoted run in place of its shipped model (it used to look inside the run folder)."""
    import shutil

    artifacts = tmp_path / "artifacts"
    shutil.copytree(tiny_trained["course_cnn"].artifact_dir.parent, artifacts)
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(artifacts))
    promoted = runs.create_run_dir("course_lstm", runs_dir)
    shutil.copytree(tiny_trained["course_lstm"].artifact_dir, promoted / runs.ARTIFACT_DIR)
    metadata_path = promoted / runs.ARTIFACT_DIR / "metadata.json"
    metadata = fileio.read_json(metadata_path)
    metadata["created_at"] = "2099-01-01T00:00:00+00:00"  # A different training of course_lstm.
    fileio.write_json_atomically(metadata_path, metadata)
    runs.write_status(promoted, "completed")
    promotions.promote_run(promoted)
    run_dir = supervisor.start_run(TrainConfig("late_fusion", data_dir=str(real_data_dir), max_films=64, verbose=2))
    final = wait_for(lambda: state_of(run_dir) in runs.FINAL_STATES and state_of(run_dir))
    assert final == "completed", log_of(run_dir)
    parts = {part["name"]: part["created_at"] for part in load_artifact(run_dir / runs.ARTIFACT_DIR).metadata[
        "components"]}
    assert parts["course_lstm"] == "2099-01-01T00:00:00+00:00"
    assert parts["course_cnn"] == tiny_trained["course_cnn"].metadata["created_at"]


@pytest.mark.parametrize("variable, value", [("GENRE_READ_ONLY", "1"), ("GENRE_READ_ONLY", "maybe"),
                                             ("GENRE_TRAINING_ENABLED", "0"), ("GENRE_TRAINING_ENABLED", "disabled")])
def test_a_read_only_deployment_refuses_every_change_to_shared_state(variable, value, tiny_trained, runs_dir,
                                                                      monkeypatch):
    import shutil

    run_dir = runs.create_run_dir("course_cnn", runs_dir)
    shutil.copytree(tiny_trained["course_cnn"].artifact_dir, run_dir / runs.ARTIFACT_DIR)
    runs.write_status(run_dir, "completed")
    monkeypatch.setenv(variable, value)
    for action in (lambda: supervisor.start_run(TrainConfig("course_cnn")), lambda: promotions.promote_run(run_dir),
                   lambda: promotions.restore_shipped("course_cnn"), lambda: supervisor.delete_run(run_dir)):
        with pytest.raises(runs.RunRefused, match="turned off"):
            action()
    assert run_dir.exists() and promotions.read_promotions() == {}


def test_unwritable_runs_folder_refuses_the_start_with_that_message(tmp_path, monkeypatch):
    blocker = tmp_path / "runs-is-a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GENRE_RUNS_DIR", str(blocker))
    with pytest.raises(runs.RunRefused, match="Cannot create the runs folder"):
        supervisor.start_run(TrainConfig("course_cnn"))


# --- Resuming -----------------------------------------------------------------------------------------


def crashed_in_runs_folder(real_data_dir, runs_dir, monkeypatch) -> Path:
    """A tfidf_logreg run (4 epochs, 60 films) in the runs folder that crashed as its epoch 3 began."""
    from test_training import crashed_run

    run_dir = runs_dir / "20260101-000000-tfidf_logreg"
    crashed_run(real_data_dir, run_dir, monkeypatch, verbose=2)
    return run_dir


def test_resume_run_relaunches_the_worker_which_finishes_the_run(real_data_dir, runs_dir, monkeypatch):
    run_dir = crashed_in_runs_folder(real_data_dir, runs_dir, monkeypatch)
    assert supervisor.can_resume(runs.list_runs()[0])
    assert supervisor.resume_run(run_dir) == run_dir
    status = runs.read_status(run_dir)
    assert "error" not in status and status["resumed_after_epoch"] == 2
    final = wait_for(lambda: state_of(run_dir) in runs.FINAL_STATES and state_of(run_dir))
    assert final == "completed", log_of(run_dir)
    assert [epoch["epoch"] for epoch in runs.read_history(run_dir)] == [1, 2, 3, 4]
    assert [record["epoch"] for record in runs.read_metrics(run_dir)[1]] == [1, 2, 3, 4]
    assert not (run_dir / backup.BACKUP_DIR).exists() and not supervisor.can_resume(runs.list_runs()[0])
    assert load_artifact(run_dir / runs.ARTIFACT_DIR).metadata["training"]["epochs_run"] == 4
    assert "--- resumed at" in log_of(run_dir)
    with pytest.raises(runs.RunRefused, match="completed; there is nothing to resume"):
        supervisor.resume_run(run_dir)


def test_resuming_a_live_run_is_refused(real_data_dir, runs_dir, monkeypatch):
    run_dir = crashed_in_runs_folder(real_data_dir, runs_dir, monkeypatch)
    with open(run_dir / runs.LOCK_FILE, "a+") as lock:  # this process plays its live worker
        fileio.lock_file(lock)
        with pytest.raises(ValueError, match=f"Run {run_dir.name} is still running"):
            supervisor.resume_run(run_dir)
    # From the command line too: the worker finds the lock held.
    from genre_models.cli import main

    with open(run_dir / runs.LOCK_FILE, "a+") as lock:
        fileio.lock_file(lock)
        assert main(["train", "--resume", "--run-dir", str(run_dir)]) == 2


def test_resume_refusals_name_the_run_and_why(real_data_dir, runs_dir, monkeypatch):
    import json

    run_dir = crashed_in_runs_folder(real_data_dir, runs_dir, monkeypatch)
    stored = json.loads((run_dir / runs.CONFIG_FILE).read_text())
    with pytest.raises(runs.RunRefused, match=r"changed settings \(epochs 4 -> 9\)"):
        supervisor.resume_run(run_dir, TrainConfig(**{**stored["config"], "epochs": 9}))
    edited = {**stored, "config": {**stored["config"], "max_films": 80}}
    (run_dir / runs.CONFIG_FILE).write_text(json.dumps(edited))
    with pytest.raises(runs.RunRefused, match=f"Run {run_dir.name} cannot be resumed with changed settings"):
        supervisor.resume_run(run_dir)
    (run_dir / runs.CONFIG_FILE).write_text(json.dumps(stored))
    weights = run_dir / backup.BACKUP_DIR / backup.BACKUP_KERAS_DIR / backup.BACKUP_WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(runs.RunRefused, match=f"The training backup of run {run_dir.name} is damaged"):
        supervisor.resume_run(run_dir)
    monkeypatch.setenv("GENRE_READ_ONLY", "1")
    with pytest.raises(runs.RunRefused, match="Resuming training is turned off"):
        supervisor.resume_run(run_dir)
    assert runs.read_status(run_dir)["state"] == "failed"  # every refusal left the run as it was

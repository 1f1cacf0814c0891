"""The run-folder protocol: a run as its files and its lock say (read without writing), and its minutes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from genre_models import fileio, runs
from genre_models.metadata import format_utc


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "runs"
    monkeypatch.setenv("GENRE_RUNS_DIR", str(folder))
    return folder


def running_run(runs_dir: Path) -> Path:
    """A run folder whose status says running, with a lock file that no process holds (its worker is gone)."""
    run_dir = runs.create_run_dir("course_cnn", runs_dir)
    fileio.write_json_atomically(run_dir / runs.CONFIG_FILE, {"config": {}, "model": "course_cnn", "created": 0})
    runs.write_status(run_dir, "running", started_at=format_utc(time.time() - 60))
    (run_dir / runs.LOCK_FILE).write_text("")
    return run_dir


def snapshot(folder: Path) -> dict:
    return {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in sorted(folder.rglob("*")) if path.is_file()}


def test_a_run_whose_worker_is_gone_is_shown_failed_and_reading_it_writes_nothing(runs_dir):
    run_dir = running_run(runs_dir)
    before = snapshot(runs_dir)
    [run] = runs.list_runs()
    assert run.state == "failed" and run.unrecorded_death and "ended unexpectedly" in run.error
    assert not run.is_active and runs.active_runs() == []
    assert snapshot(runs_dir) == before
    assert json.loads((run_dir / runs.STATUS_FILE).read_text())["state"] == "running"


def refuse_writes_under(folder: Path, monkeypatch) -> None:
    """Make every open for writing under ``folder`` fail as on a read-only mount (EROFS), reads still work."""
    import builtins
    import errno

    real_open = builtins.open

    def read_only_open(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax+") and Path(file).resolve().is_relative_to(folder.resolve()):
            raise OSError(errno.EROFS, "Read-only file system", str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", read_only_open)


def test_the_lock_probe_reads_a_run_on_a_read_only_runs_folder(runs_dir, monkeypatch):
    run_dir = running_run(runs_dir)
    with open(run_dir / runs.LOCK_FILE, "a+") as lock:  # this process plays the live worker
        fileio.lock_file(lock)
        refuse_writes_under(runs_dir, monkeypatch)
        monkeypatch.setenv("GENRE_READ_ONLY", "1")
        [run] = runs.list_runs()
        assert run.state == "running" and run.alive
    [run] = runs.list_runs()  # the worker gone: shown failed, still without a write
    assert run.state == "failed" and run.unrecorded_death


@pytest.fixture
def read_only_mount(tmp_path):
    """A read-only bind mount of a folder (a read-only deployment's runs folder); skipped where this process
    may not mount."""
    import shutil
    import subprocess

    source, mounted = tmp_path / "source", tmp_path / "mounted"
    source.mkdir()
    mounted.mkdir()
    if shutil.which("mount") is None or subprocess.run(["mount", "--bind", str(source), str(mounted)],
                                                       capture_output=True).returncode != 0:
        pytest.skip("this process may not create a bind mount")
    try:
        yield source, mounted
    finally:
        subprocess.run(["umount", str(mounted)], capture_output=True)


def test_a_run_that_says_running_on_a_read_only_mount_is_read_without_error(read_only_mount, monkeypatch):
    import subprocess

    source, mounted = read_only_mount
    running_run(source / "runs")
    assert subprocess.run(["mount", "-o", "remount,ro,bind", str(mounted)], capture_output=True).returncode == 0
    monkeypatch.setenv("GENRE_RUNS_DIR", str(mounted / "runs"))
    monkeypatch.setenv("GENRE_READ_ONLY", "1")
    [run] = runs.list_runs()
    assert run.state == "failed" and run.unrecorded_death
    assert json.loads((mounted / "runs" / run.name / runs.STATUS_FILE).read_text())["state"] == "running"


def test_a_silent_worker_holding_its_lock_stays_active_and_is_flagged(runs_dir):
    run_dir = runs.create_run_dir("course_cnn", runs_dir)
    fileio.write_json_atomically(run_dir / runs.CONFIG_FILE, {"config": {}, "model": "course_cnn", "created": 0})
    runs.write_status(run_dir, "running")
    with open(run_dir / runs.LOCK_FILE, "a+") as handle:
        assert fileio.lock_file(handle, blocking=False)
        fileio.write_json_atomically(run_dir / runs.HEARTBEAT_FILE, {"heartbeat": time.time() - runs.STALE_SECONDS - 5})
        run = runs.read_run(run_dir)
        assert run.state == "running" and run.not_reporting


def test_read_only_accepts_clear_no_values(monkeypatch):
    from genre_models.config import read_only_reason

    for value in ("0", "false", "No", " off "):
        monkeypatch.setenv("GENRE_READ_ONLY", value)
        monkeypatch.setenv("GENRE_TRAINING_ENABLED", "yes")
        assert read_only_reason() is None


# --- How long a run took (the Train page's minutes) -------------------------------------------------------------


def ended_run(runs_dir: Path, state: str, seconds: float, **status) -> Path:
    """A run folder as a worker leaves it once ended: its start and end in status.json, and a heartbeat
    without ``elapsed`` (the scoring steps after the last epoch replace the one that held it)."""
    run_dir = runs.create_run_dir("course_cnn", runs_dir)
    fileio.write_json_atomically(run_dir / runs.CONFIG_FILE, {"config": {}, "model": "course_cnn", "created": 0})
    started = time.time() - 3600
    runs.write_status(run_dir, state, started_at=format_utc(started),
                      finished_at=format_utc(started + seconds), **status)
    fileio.write_json_atomically(run_dir / runs.HEARTBEAT_FILE, {"pid": 1, "heartbeat": started + seconds - 5,
                                                                "activity": "scoring films (499/499)"})
    return run_dir


@pytest.mark.parametrize("state", runs.FINAL_STATES)
def test_an_ended_run_is_measured_from_its_start_to_its_end(runs_dir, state):
    run_dir = ended_run(runs_dir, state, 750)
    status = runs.read_run(run_dir).status
    assert "elapsed" not in status
    assert runs.measure_run_seconds(status, run_dir) == pytest.approx(750)


def test_a_resumed_run_counts_the_epochs_its_earlier_processes_trained(runs_dir):
    import json

    run_dir = ended_run(runs_dir, "completed", 200, resumed_after_epoch=2)
    epochs = [{"epoch": 1, "seconds": 100.0}, {"epoch": 2, "seconds": 120.0}, {"epoch": 3, "seconds": 130.0}]
    (run_dir / "history.json").write_text(json.dumps({"model": "course_cnn", "epochs": epochs}))
    # This process's 200 seconds (epoch 3 included), and epochs 1 and 2 of the ones before.
    assert runs.measure_run_seconds(runs.read_run(run_dir).status, run_dir) == pytest.approx(420)


def test_a_dead_worker_ended_when_it_was_last_heard_from(runs_dir):
    run_dir = runs.create_run_dir("course_cnn", runs_dir)
    fileio.write_json_atomically(run_dir / runs.CONFIG_FILE, {"config": {}, "model": "course_cnn", "created": 0})
    runs.write_status(run_dir, "running", started_at=format_utc(time.time() - 1200))
    fileio.write_json_atomically(run_dir / runs.HEARTBEAT_FILE, {"heartbeat": time.time() - 600, "elapsed": 550})
    status = runs.read_run(run_dir).status  # noticed 10 minutes after its last heartbeat
    assert status["state"] == "failed"
    assert runs.measure_run_seconds(status, run_dir) == pytest.approx(600, abs=3)


def test_an_active_run_without_the_workers_count_is_measured_from_its_start_not_its_creation(runs_dir):
    import json

    # Created three days ago, stopped after epoch 2, resumed 5 minutes ago: still loading (no elapsed yet).
    run_dir = runs.create_run_dir("course_cnn", runs_dir)
    epochs = [{"epoch": 1, "seconds": 100.0}, {"epoch": 2, "seconds": 120.0}]
    (run_dir / "history.json").write_text(json.dumps({"model": "course_cnn", "epochs": epochs}))
    status = {"state": "running", "created": time.time() - 3 * 86400, "resumed_after_epoch": 2,
              "started_at": format_utc(time.time() - 300)}
    assert runs.measure_run_seconds(status, run_dir) == pytest.approx(300 + 220, abs=3)


def test_a_worker_dead_before_its_first_heartbeat_ended_at_its_last_status(runs_dir):
    run_dir = runs.create_run_dir("course_cnn", runs_dir)
    fileio.write_json_atomically(run_dir / runs.CONFIG_FILE, {"config": {}, "model": "course_cnn", "created": 0})
    runs.write_status(run_dir, "running", started_at=format_utc(time.time() - 1200))
    status = json.loads((run_dir / runs.STATUS_FILE).read_text())
    status["updated_at"] = format_utc(time.time() - 1100)  # its last word, 100 s after it started
    fileio.write_json_atomically(run_dir / runs.STATUS_FILE, status)
    status = runs.read_run(run_dir).status
    assert status["state"] == "failed"
    assert runs.measure_run_seconds(status, run_dir) == pytest.approx(100, abs=3)


def test_an_active_run_is_measured_from_its_workers_start_as_it_will_be_once_ended(runs_dir):
    # Not by the heartbeat's elapsed (fit's own count, missing while the data loads): the minutes never go back.
    running = {"state": "running", "elapsed": 60, "created": time.time() - 900,
               "started_at": format_utc(time.time() - 90)}
    assert runs.measure_run_seconds(running) == pytest.approx(90, abs=3)
    assert runs.measure_run_seconds({"state": "running", "elapsed": 60}) == 60  # no times: its count
    assert runs.measure_run_seconds({"state": "queued", "created": time.time() - 30}) == pytest.approx(30, abs=3)
    assert runs.measure_run_seconds({"state": "completed"}) is None


def test_the_first_estimate_counts_steps_at_the_measured_pace_not_the_start_up():
    # Epoch 1 of 3, step 5 of 50: the start-up (data, tracing) took 40 of the 45 seconds so far.
    status = {"state": "running", "epochs": 3, "epoch": 1, "step": 5, "steps": 50, "elapsed": 45.0}
    assert runs.describe_progress(status)["eta_seconds"] is None  # no pace measured yet: no estimate
    paced = {**status, "seconds_per_step": 1.0}
    assert runs.describe_progress(paced)["eta_seconds"] == pytest.approx(145)
    validated = {**paced, "epoch": 2, "step": 0, "validation_seconds": 10.0}
    assert runs.describe_progress(validated)["eta_seconds"] == pytest.approx(100 + 2 * 10)

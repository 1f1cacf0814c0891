"""Supervising training workers: starting, resuming, stopping and killing them, one lock per run, and
recording a worker that died without saying so.

Training never runs inside the web server: ``start_run`` launches ``python -m genre_models train
--config <run>/config.json`` as its own OS process, which inherits the run's lock, and a reaper thread
waits for it (so no finished worker lingers as a zombie child of the server) and records it as failed
if it ended without writing its own final state. A worker started elsewhere (the CLI, another server)
that died unrecorded is recorded by the next start, resume or delete (``record_dead_workers``).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from genre_models.backup import (
    check_backup,
    comparable_config,
    describe_config_change,
    has_backup,
)
from genre_models.config import PROJECT_ROOT, TrainConfig, read_only_reason
from genre_models.fileio import lock_file, write_json_atomically
from genre_models.metadata import utc_now
from genre_models.promotions import read_promotions
from genre_models.runs import (
    ARTIFACT_DIR,
    CONFIG_FILE,
    ENDING_KEYS,
    HEARTBEAT_FILE,
    LOCK_FILE,
    LOG_FILE,
    STOP_FILE,
    Run,
    RunRefused,
    create_run_dir,
    is_process_alive,
    is_worker_alive,
    list_runs,
    read_run,
    read_run_identity,
    read_status,
    refuse_if_read_only,
    resolve_runs_dir,
    write_status,
)

# Environment variable for how many runs may be active at once (default 1: the machine has 2 cores).
MAX_ACTIVE_RUNS_ENV = "GENRE_MAX_ACTIVE_RUNS"
# Set in a worker's environment when it inherits its run's lock from the process that started it.
INHERITED_LOCK_ENV = "GENRE_WORKER_LOCK_INHERITED"


def max_active_runs() -> int:
    """Return how many runs may be active at once."""
    try:
        return max(1, int(os.environ.get(MAX_ACTIVE_RUNS_ENV, "1")))
    except ValueError:
        return 1


def record_dead_worker(run: Run | None) -> None:
    """Record a run whose worker is gone while its files say it is active as failed (read_run shows it so;
    this writes it). Nothing on a read-only deployment, whose files stay as they are."""
    if run is None or not run.unrecorded_death or read_only_reason():
        return
    write_status(run.folder, "failed", error=run.status["error"], finished_at=run.status["finished_at"])


def record_dead_workers(root: Path) -> None:
    """Record every run in ``root`` whose worker died unrecorded (call under start_lock)."""
    for run in list_runs(root):
        record_dead_worker(run)


@contextmanager
def start_lock(root: Path):
    """Serialise run starts across processes and tabs (an exclusive lock on a file)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".start.lock", "a+", encoding="utf-8") as handle:
        lock_file(handle, blocking=True)
        yield  # Closing the file releases the lock.


def build_worker_command(run_dir: Path, resume: bool = False) -> list[str]:
    """Return the command that trains the configuration stored in ``run_dir`` (or resumes it there)."""
    if resume:
        command = [sys.executable, "-m", "genre_models", "train", "--resume", "--run-dir", str(run_dir)]
    else:
        command = [sys.executable, "-m", "genre_models", "train", "--config", str(Path(run_dir) / CONFIG_FILE)]
    # Niced where possible, so the web app stays responsive while the worker uses every core.
    return (["nice", "-n", "10"] + command) if shutil.which("nice") else command


def prepare_run(config: TrainConfig, root: Path) -> tuple[Path, list[str]]:
    """Create the run folder and store the configuration the worker will train; return both."""
    run_dir = create_run_dir(config.model_name, root)
    config = dataclasses.replace(config, run_dir=str(run_dir), out_dir=str(run_dir / ARTIFACT_DIR))
    command = build_worker_command(run_dir)
    write_json_atomically(run_dir / CONFIG_FILE, {"config": config.to_dict(), "model": config.model_name,
                                                  "command": command, "created": time.time()})
    write_status(run_dir, "queued")
    return run_dir, command


def start_run(config: TrainConfig, runs_dir: Path | None = None) -> Path:
    """Launch a training worker process for ``config`` (its run_dir and out_dir are set here).

    Refused (RunRefused) on a read-only deployment or when the active-run limit is reached;
    concurrent calls are serialised, so two tabs clicking at once create one run. The worker
    inherits its run's lock, so the run counts as active from its first instant to its last.
    """
    refuse_if_read_only("Training")
    root = runs_dir or resolve_runs_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunRefused(f"Cannot create the runs folder {root}: {error.strerror or error}.") from error
    with start_lock(root):
        record_dead_workers(root)
        refuse_if_too_many_active(root)
        try:
            run_dir, command = prepare_run(config, root)
        except OSError as error:
            raise RunRefused(f"Cannot write the run folder in {root}: {error.strerror or error}.") from error
        launch_worker(run_dir, command)
    return run_dir


def refuse_if_too_many_active(root: Path) -> None:
    """Raise RunRefused naming the active runs when no other may start (call under start_lock)."""
    active = [run for run in list_runs(root) if run.is_active]
    if len(active) >= max_active_runs():
        names = ", ".join(f"{run.name} ({run.state})" for run in active)
        raise RunRefused(f"Another training run is active: {names}. Stop it or wait for it to finish.")


def reap_worker(process: subprocess.Popen, run_dir: Path) -> threading.Thread:
    """Wait for a worker in a daemon thread, so it never stays a <defunct> child of this process, and record
    it as failed if it ended without writing its final state (killed, or crashed before it could)."""
    def wait_and_record() -> None:
        process.wait()
        # Its lock is released with its last file handle; a grandchild (nice's child) may hold it a moment.
        for _ in range(50):
            if not is_worker_alive(run_dir):
                break
            time.sleep(0.1)
        record_dead_worker(read_run(run_dir))

    thread = threading.Thread(target=wait_and_record, name=f"reaper-{run_dir.name}", daemon=True)
    thread.start()
    return thread


def launch_worker(run_dir: Path, command: list[str], append_log: bool = False, **status) -> subprocess.Popen:
    """Start ``command`` as the run's worker in its own session, holding the run's lock from its first
    instant (inherited on POSIX), its output in log.txt; record it as queued with its pid, and reap it
    when it ends (reap_worker)."""
    try:
        log = open(run_dir / LOG_FILE, "a" if append_log else "w", encoding="utf-8")
        lock = open(run_dir / LOCK_FILE, "a+", encoding="utf-8")
    except OSError as error:
        raise RunRefused(f"Cannot write the run folder {run_dir}: {error.strerror or error}.") from error
    with log, lock:
        if append_log:
            log.write(f"\n--- resumed at {utc_now()} ---\n")
            log.flush()
        lock_file(lock, blocking=True)
        inherit = os.name == "posix"
        # Its own session: the worker outlives a Streamlit restart and a closed tab.
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, pass_fds=(lock.fileno(),) if inherit else (),
            env={**os.environ, "PYTHONUNBUFFERED": "1", INHERITED_LOCK_ENV: "1" if inherit else ""})
    write_status(run_dir, "queued", pid=process.pid, **status)
    reap_worker(process, run_dir)
    return process


def can_resume(run: Run) -> bool:
    """Return whether a run is stopped or failed and holds a backup to resume."""
    return run.state in ("stopped", "failed") and has_backup(run.folder)


def resume_run(run_dir: Path, config: TrainConfig | None = None) -> Path:
    """Re-launch the worker of a stopped or failed run on its folder and settings; it goes on from the
    epoch after the last finished one (keras.callbacks.BackupAndRestore restores the model and optimizer
    weights, the run's history, metric lines and callbacks' state continue).

    Refused (RunRefused, a ValueError, naming the run) on a read-only deployment, when the run is still
    alive, when another run is active, when ``config`` differs from the stored one, and when the run has
    no backup or a damaged one."""
    refuse_if_read_only("Resuming training")
    run_dir = Path(run_dir)
    if is_worker_alive(run_dir):
        raise RunRefused(f"Run {run_dir.name} is still running; only a stopped or failed run can be resumed.")
    stored = read_run_identity(run_dir).get("config")
    if config is not None and isinstance(stored, dict) \
            and comparable_config(config.to_dict()) != comparable_config(stored):
        raise RunRefused(f"Run {run_dir.name} cannot be resumed with changed settings "
                         f"({describe_config_change(stored, config.to_dict())}); start a new run instead.")
    with start_lock(run_dir.parent):
        record_dead_workers(run_dir.parent)
        run = read_run(run_dir)
        state = run.state if run else None
        if run is not None and run.is_active:
            raise RunRefused(f"Run {run_dir.name} is still {state}; only a stopped or failed run can be resumed.")
        if state == "completed":
            raise RunRefused(f"Run {run_dir.name} completed; there is nothing to resume.")
        try:
            backup = check_backup(run_dir, stored)
        except ValueError as error:
            raise RunRefused(str(error)) from error
        refuse_if_too_many_active(run_dir.parent)
        Path(run_dir, STOP_FILE).unlink(missing_ok=True)  # the Stop that ended it must not end the resumed run
        write_json_atomically(run_dir / HEARTBEAT_FILE, {"heartbeat": time.time(),
                                                         "activity": f"resuming after epoch {backup['epoch']}"})
        launch_worker(run_dir, build_worker_command(run_dir, resume=True), append_log=True,
                      queued_at=time.time(), resumed_at=utc_now(), resumed_after_epoch=backup["epoch"],
                      forget=ENDING_KEYS)
    return run_dir


@contextmanager
def hold_worker_lock(run_dir: Path):
    """Hold the run's lock while a worker trains in it (unless it was inherited from start_run);
    raise ValueError if another live process already trains in this folder."""
    if os.environ.get(INHERITED_LOCK_ENV) == "1":
        yield
        return
    with open(Path(run_dir) / LOCK_FILE, "a+", encoding="utf-8") as handle:
        if not lock_file(handle, blocking=False):
            raise ValueError(f"Another process is already training in {run_dir}.")
        yield


def request_stop(run_dir: Path) -> None:
    """Ask a run to stop: the worker checks before each step and between its loading steps, and leaves
    the epoch in progress unfinished (its best checkpoint is kept; a resume redoes that epoch)."""
    refuse_if_read_only("Stopping runs")
    Path(run_dir, STOP_FILE).write_text(utc_now(), encoding="utf-8")


def kill_run(run_dir: Path) -> None:
    """Terminate a run's worker at once (tests and emergencies; the Stop button uses request_stop)."""
    pid = read_status(run_dir).get("pid")
    if pid and is_process_alive(pid):
        os.kill(int(pid), getattr(signal, "SIGKILL", signal.SIGTERM))  # Windows has no SIGKILL


def delete_run(run_dir: Path) -> None:
    """Delete a finished run's folder (an active run must be stopped first; a promoted one restored)."""
    refuse_if_read_only("Deleting runs")
    run_dir = Path(run_dir)
    run = read_run(run_dir)
    if run is not None and run.is_active:
        raise RunRefused(f"{run_dir.name} is still active; stop it before deleting it.")
    promoted = [name for name, folder in read_promotions(run_dir.parent).items()
                if Path(folder).resolve().is_relative_to(run_dir.resolve())]
    if promoted:
        raise RunRefused(f"{run_dir.name} is in use for {', '.join(promoted)}; restore the shipped model first.")
    shutil.rmtree(run_dir)

"""Run folders: one per training process, written as it goes and readable by any other process.

A run folder holds ``config.json`` (the TrainConfig the worker runs, plus who started it and
when; written once), ``status.json`` (the state: queued, running, completed, stopped, failed;
replaced atomically on every change of state), ``heartbeat.json`` (pid, time and progress,
refreshed every few seconds by the worker), ``worker.lock`` (locked by the worker for as long
as it lives), ``metrics.jsonl`` (one line per batch and per epoch), ``history.json``,
``best.keras`` (the best checkpoint so far), ``log.txt``, ``backup/`` while a network trains (what
resuming needs: see genre_models.backup and ``resume_run``) and, once finished, ``artifact/``.

Training never runs inside the web server: ``start_run`` launches ``python -m genre_models
train --config <run>/config.json`` as its own OS process and the dashboard only reads these
files. Whether a run is alive is decided by its lock, not by a file's content, so a damaged
status file can neither hide a live run nor let a second one start.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from genre_models.artifacts import HISTORY_FILE, METADATA_FILE
from genre_models.backup import check_backup, comparable_config, describe_config_change, has_backup
from genre_models.config import PROJECT_ROOT, TrainConfig, read_only_reason
from genre_models.fileio import (
    is_locked,
    lock_file,
    read_epoch_records,
    read_json,
    read_json_lines,
    write_json_atomically,
)
from genre_models.metadata import format_utc, utc_now

# Environment variable overriding where run folders are created.
RUNS_DIR_ENV = "GENRE_RUNS_DIR"
# Environment variable for how many runs may be active at once (default 1: the machine has 2 cores).
MAX_ACTIVE_RUNS_ENV = "GENRE_MAX_ACTIVE_RUNS"
# Set in a worker's environment when it inherits its run's lock from the process that started it.
INHERITED_LOCK_ENV = "GENRE_WORKER_LOCK_INHERITED"

STATUS_FILE = "status.json"
HEARTBEAT_FILE = "heartbeat.json"
LOCK_FILE = "worker.lock"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
CHECKPOINT_FILE = "best.keras"
STOP_FILE = "stop"
LOG_FILE = "log.txt"
ARTIFACT_DIR = "artifact"
PROMOTIONS_FILE = "promoted.json"
ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("completed", "stopped", "failed")
# Status keys of a run's previous process, dropped when it is queued again or starts again (a resumed run);
# started_at with them, so a resumed run's time is never measured from its previous process's start.
ENDING_KEYS = ("error", "finished_at", "artifact", "started_at")
# A running worker refreshes its heartbeat at least this often (seconds)...
HEARTBEAT_SECONDS = 2.0
# ...so one silent for this long is flagged as not reporting (it stays active while it holds its lock).
STALE_SECONDS = 180.0


class RunRefused(ValueError):
    """A run or a change to shared state was refused (read-only deployment, another run active);
    the message says why."""


@dataclasses.dataclass
class TrainResult:
    """What a finished training run produced."""

    # The published artifact folder; None if stopped before any epoch finished.
    artifact_dir: Path | None
    # The run folder with status, history and checkpoint.
    run_dir: Path
    # The metadata written beside the model (empty when nothing was published).
    metadata: dict
    # Whether a stop request ended training early.
    stopped: bool = False


def resolve_runs_dir() -> Path:
    """Return the folder holding run folders (env override for tests)."""
    from_env = os.environ.get(RUNS_DIR_ENV, "").strip()
    return Path(from_env).expanduser() if from_env else PROJECT_ROOT / "runs"


def refuse_if_read_only(action: str) -> None:
    """Raise RunRefused when this deployment is read-only (see config.read_only_reason)."""
    reason = read_only_reason()
    if reason:
        raise RunRefused(f"{action} is turned off: {reason}")


def max_active_runs() -> int:
    """Return how many runs may be active at once."""
    try:
        return max(1, int(os.environ.get(MAX_ACTIVE_RUNS_ENV, "1")))
    except ValueError:
        return 1


def create_run_dir(model_name: str, runs_dir: Path | None = None) -> Path:
    """Create and return a fresh, uniquely named run folder."""
    root = runs_dir or resolve_runs_dir()
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):
        suffix = f"-{attempt}" if attempt else ""
        candidate = root / f"{stamp}-{model_name}{suffix}"
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"Could not create a run folder in {root}.")


def read_run_identity(run_dir: Path) -> dict:
    """Return what config.json says about a run: its TrainConfig as a dict, model, command, creation time."""
    stored = read_json(Path(run_dir) / CONFIG_FILE, default={})
    return stored if isinstance(stored, dict) else {}


def write_status(run_dir: Path, state: str, forget: tuple[str, ...] = (), **details) -> dict:
    """Merge ``details`` into the run's status and set its state (atomically), dropping the keys in
    ``forget``. A damaged status file is replaced; the run's identity lives in config.json and is never
    lost with it."""
    status = read_json(Path(run_dir) / STATUS_FILE, default={})
    status = status if isinstance(status, dict) else {}
    for key in forget:
        status.pop(key, None)
    status.update(details)
    status.update({"state": state, "updated_at": utc_now()})
    write_json_atomically(Path(run_dir) / STATUS_FILE, status)
    return status


def beat(run_dir: Path, **progress) -> None:
    """Refresh the worker's heartbeat (pid, time and progress such as epoch and step); called by
    the worker only, from every long step. It writes heartbeat.json alone, never the status."""
    write_json_atomically(Path(run_dir) / HEARTBEAT_FILE, {"pid": os.getpid(), "heartbeat": time.time(), **progress})


def is_windows_process_alive(pid: int) -> bool:
    """Return whether a Windows process is still running. On Windows os.kill(pid, 0) is not a
    probe: any signal number terminates the process, so the process is asked for its exit code."""
    import ctypes

    query_limited_information, still_active = 0x1000, 259
    kernel = ctypes.windll.kernel32
    handle = kernel.OpenProcess(query_limited_information, False, pid)
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        return bool(kernel.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == still_active
    finally:
        kernel.CloseHandle(handle)


def is_process_alive(pid: int | None) -> bool:
    """Return whether a process exists and is not a zombie."""
    if not pid:
        return False
    if os.name == "nt":
        return is_windows_process_alive(int(pid))
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    try:
        with open(f"/proc/{int(pid)}/stat", encoding="utf-8") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True  # No /proc: trust kill(0).


def is_worker_alive(run_dir: Path) -> bool:
    """Return whether a worker process holds this run's lock (alive, whatever the files say)."""
    return is_locked(Path(run_dir) / LOCK_FILE)


def read_status(run_dir: Path) -> dict:
    """Return the run's identity, status and latest heartbeat merged into one dict (no repairs)."""
    run_dir = Path(run_dir)
    identity = read_run_identity(run_dir)
    status = read_json(run_dir / STATUS_FILE, default={})
    heartbeat = read_json(run_dir / HEARTBEAT_FILE, default={})
    merged = {"model": identity.get("model"), "command": identity.get("command"),
              "created": identity.get("created"), **(heartbeat if isinstance(heartbeat, dict) else {})}
    if isinstance(status, dict):
        merged.update(status)
    else:
        merged["status_unreadable"] = True
    return merged


def refresh_status(run_dir: Path) -> dict:
    """Return the run's status, first marking it failed if no worker holds its lock any more.

    A live worker (its lock held) stays active whatever its files say; one silent for more than
    STALE_SECONDS is flagged ``not_reporting`` so the page can offer to stop it.
    """
    run_dir = Path(run_dir)
    status = read_status(run_dir)
    if not (run_dir / CONFIG_FILE).exists() and not status.get("state"):
        return {}
    alive = is_worker_alive(run_dir)
    if alive:
        # The lock says the worker runs: a damaged status, or one still saying "queued" (start_run writes
        # it with the pid after the worker may already have reported), must not say otherwise.
        if status.get("state") not in ACTIVE_STATES or (status.get("state") == "queued" and status.get("heartbeat")):
            status["state"] = "running"
        silent = time.time() - float(status.get("heartbeat") or status.get("created") or time.time())
        status["not_reporting"] = silent > STALE_SECONDS
        return status
    if status.get("state") in FINAL_STATES:
        return status
    queued_at = status.get("queued_at") or status.get("created") or 0  # a resumed run was queued again
    if status.get("state") == "queued" and time.time() - float(queued_at) < 30 \
            and is_process_alive(status.get("pid")):
        return status  # Starting: the worker has not taken its lock yet.
    checkpoint = run_dir / CHECKPOINT_FILE
    note = " Its best checkpoint so far is kept." if checkpoint.is_file() else ""
    if has_backup(run_dir):
        note += " It can be resumed from its last finished epoch."
    reason = "the training process ended unexpectedly (killed or crashed)."
    # It ended when it was last heard from, not when a page noticed (maybe hours later): its duration says so.
    # A worker that died before its first heartbeat was last heard from when it last wrote its status.
    last_heard = min(read_time(status.get("heartbeat")) or read_time(status.get("updated_at")) or time.time(),
                     time.time())
    write_status(run_dir, "failed", error=reason + note, finished_at=format_utc(last_heard))
    return read_status(run_dir)


def read_time(value) -> float | None:
    """Return a time from a run's files (ISO 8601 text as utc_now writes it, or seconds since the epoch) in
    seconds since the epoch; None when absent or unreadable."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    return None


def measure_run_seconds(status: dict, run_dir: Path | None = None) -> float | None:
    """Return how long a run (its refreshed status) has taken, in seconds; None when its files do not say.

    While it is active: the time since its worker started (or it was queued), plus a resumed run's earlier
    epochs. Once it has ended: from its worker's start to its end (status.json's started_at, else when
    it was queued or created, to finished_at), plus, for a resumed run, the seconds of the epochs its
    earlier processes trained (as the worker counts them: backup.ResumePoint.seconds_before; read from
    ``run_dir``'s history). The heartbeat's ``elapsed`` cannot be used then: every later step (scoring,
    publishing) replaces the heartbeat without it, and a fusion never writes one; it is the fallback only
    for a run whose status has no times."""
    elapsed = status.get("elapsed")
    elapsed = float(elapsed) if isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool) else None
    active = status.get("state") in ACTIVE_STATES
    started = read_time(status.get("started_at") or status.get("queued_at") or status.get("created"))
    # An active run is measured the way it will be once ended, from its worker's start (not from when the run
    # was first created: a run resumed days later is not days old). Not by the heartbeat's ``elapsed``: that
    # counts from fit()'s start and is missing while data load or scores, so the minutes went back and forth.
    finished = time.time() if active else read_time(status.get("finished_at"))
    if started is None or finished is None:
        return elapsed
    earlier = 0.0
    resumed_after = status.get("resumed_after_epoch")
    if isinstance(resumed_after, int) and run_dir is not None:
        earlier = sum(float(record.get("seconds") or 0) for record in read_history(run_dir)
                      if isinstance(record.get("epoch"), int) and record["epoch"] <= resumed_after)
    return max(0.0, finished - started) + earlier


def request_stop(run_dir: Path) -> None:
    """Ask a run to stop after its current step (the worker polls this file)."""
    Path(run_dir, STOP_FILE).write_text(utc_now(), encoding="utf-8")


def stop_requested(run_dir: Path) -> bool:
    """Return whether a stop has been requested."""
    return Path(run_dir, STOP_FILE).exists()


def list_runs(runs_dir: Path | None = None) -> list[dict]:
    """Return every run, newest first: folder, config, refreshed status and artifact metadata."""
    root = runs_dir or resolve_runs_dir()
    try:
        folders = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
    except OSError:
        return []
    runs = []
    for folder in folders:
        status = refresh_status(folder)
        if not status:
            continue
        config = read_run_identity(folder).get("config")
        runs.append({
            "id": folder.name,
            "folder": folder,
            "config": config if isinstance(config, dict) else {},
            "status": status,
            "metadata": read_json(folder / ARTIFACT_DIR / METADATA_FILE),
        })
    return runs


def active_runs(runs_dir: Path | None = None) -> list[dict]:
    """Return the runs that are queued or running (dead workers are marked failed first)."""
    return [run for run in list_runs(runs_dir) if run["status"].get("state") in ACTIVE_STATES]


def read_metrics(run_dir: Path) -> tuple[list[dict], list[dict]]:
    """Return the run's per-batch and per-epoch metric records."""
    records = read_json_lines(Path(run_dir) / METRICS_FILE)
    return [r for r in records if r.get("kind") == "batch"], [r for r in records if r.get("kind") == "epoch"]


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
        refuse_if_too_many_active(root)
        try:
            run_dir, command = prepare_run(config, root)
        except OSError as error:
            raise RunRefused(f"Cannot write the run folder in {root}: {error.strerror or error}.") from error
        launch_worker(run_dir, command)
    return run_dir


def refuse_if_too_many_active(root: Path) -> None:
    """Raise RunRefused naming the active runs when no other may start (call under start_lock)."""
    active = active_runs(root)
    if len(active) >= max_active_runs():
        names = ", ".join(f"{run['id']} ({run['status'].get('state')})" for run in active)
        raise RunRefused(f"Another training run is active: {names}. Stop it or wait for it to finish.")


def launch_worker(run_dir: Path, command: list[str], append_log: bool = False, **status) -> None:
    """Start ``command`` as the run's worker in its own session, holding the run's lock from its first
    instant (inherited on POSIX), its output in log.txt; record it as queued with its pid."""
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


# --- Resuming a stopped or crashed run --------------------------------------------------------------------------

def can_resume(run: dict) -> bool:
    """Return whether a listed run (list_runs) is stopped or failed and holds a backup to resume."""
    return run["status"].get("state") in ("stopped", "failed") and has_backup(run["folder"])


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
        state = refresh_status(run_dir).get("state")
        if state in ACTIVE_STATES:
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


def kill_run(run_dir: Path) -> None:
    """Terminate a run's worker at once (tests and emergencies; the Stop button uses request_stop)."""
    pid = read_status(run_dir).get("pid")
    if pid and is_process_alive(pid):
        os.kill(int(pid), getattr(signal, "SIGKILL", signal.SIGTERM))  # Windows has no SIGKILL


def delete_run(run_dir: Path) -> None:
    """Delete a finished run's folder (an active run must be stopped first; a promoted one restored)."""
    refuse_if_read_only("Deleting runs")
    run_dir = Path(run_dir)
    if refresh_status(run_dir).get("state") in ACTIVE_STATES:
        raise RunRefused(f"{run_dir.name} is still active; stop it before deleting it.")
    promoted = [name for name, folder in read_promotions(run_dir.parent).items()
                if Path(folder).resolve().is_relative_to(run_dir.resolve())]
    if promoted:
        raise RunRefused(f"{run_dir.name} is in use for {', '.join(promoted)}; restore the shipped model first.")
    shutil.rmtree(run_dir)


def check_promotions(payload) -> tuple[dict[str, str], str | None]:
    """Return the valid {model name: artifact folder} entries of a promotions file and a warning
    when the file is not such a mapping (it is then ignored: the shipped models are used)."""
    if payload is None:
        return {}, None
    if not isinstance(payload, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in payload.items()):
        return {}, (f"{PROMOTIONS_FILE} in the runs folder is not a mapping of model names to folders; it is "
                    "ignored and the shipped models are used. Promote a run again to replace it.")
    return dict(payload), None


def read_promotions(runs_dir: Path | None = None) -> dict[str, str]:
    """Return {model name: artifact folder} of runs promoted over the shipped models ({} if damaged)."""
    return check_promotions(read_json((runs_dir or resolve_runs_dir()) / PROMOTIONS_FILE))[0]


def promotions_problem(runs_dir: Path | None = None) -> str | None:
    """Return a warning when the promotions file is damaged (and therefore ignored), else None."""
    path = (runs_dir or resolve_runs_dir()) / PROMOTIONS_FILE
    if path.exists() and read_json(path) is None:
        return f"{PROMOTIONS_FILE} in the runs folder is not valid JSON; it is ignored and the shipped models are used."
    return check_promotions(read_json(path))[1]


def promote_run(run_dir: Path) -> str:
    """Make a finished run's artifact the one the app uses for its model name; return the name."""
    refuse_if_read_only("Changing the models in use")
    run_dir = Path(run_dir)
    metadata = read_json(run_dir / ARTIFACT_DIR / METADATA_FILE)
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        raise RunRefused(f"{run_dir.name} has no finished artifact to use.")
    promotions = read_promotions(run_dir.parent)
    promotions[metadata["name"]] = str(run_dir / ARTIFACT_DIR)
    write_json_atomically(run_dir.parent / PROMOTIONS_FILE, promotions)
    return metadata["name"]


def restore_shipped(model_name: str, runs_dir: Path | None = None) -> None:
    """Go back to the shipped artifact for a model name."""
    refuse_if_read_only("Changing the models in use")
    root = runs_dir or resolve_runs_dir()
    promotions = read_promotions(root)
    if promotions.pop(model_name, None) is not None:
        write_json_atomically(root / PROMOTIONS_FILE, promotions)


def describe_progress(status: dict) -> dict:
    """Return a run's progress: share done (0-1), epoch/step text and the estimated seconds left."""
    epochs = int(status.get("epochs") or 0)
    epoch, step, steps = int(status.get("epoch") or 0), int(status.get("step") or 0), int(status.get("steps") or 0)
    if status.get("state") in FINAL_STATES:
        done = 1.0
    elif epochs:
        within = step / steps if steps else 1.0
        done = min(1.0, max(0.0, ((epoch - 1) + within) / epochs)) if epoch else 0.0
    else:
        done = 0.0
    elapsed = float(status.get("elapsed") or 0.0)
    eta = elapsed * (1 - done) / done if 0 < done < 1 else None
    if epochs:
        text = f"epoch {epoch}/{epochs}" + (f", step {step}/{steps}" if steps else "")
    else:
        text = str(status.get("activity") or "starting")
    return {"done": done, "text": text, "eta_seconds": eta}


# --- History and downloads --------------------------------------------------------------------------------------

def read_history(folder: Path) -> list[dict]:
    """Return the per-epoch records of a run folder or an artifact folder (its history.json; a run
    with none yet, the epochs of its metrics.jsonl). A missing or damaged file gives []; records
    without an epoch number are left out (fileio.read_epoch_records)."""
    folder = Path(folder)
    records, problem = read_epoch_records(folder / HISTORY_FILE)
    if records or (problem is None and (folder / HISTORY_FILE).exists()):
        return records
    return read_metrics(folder)[1] if (folder / METRICS_FILE).exists() else []


def replace_non_finite(value):
    """Return a JSON-ready copy with NaN and infinite floats as None (a diverged loss is NaN, which
    strict JSON readers refuse)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(key): replace_non_finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [replace_non_finite(item) for item in value]
    return value


def encode_json(document) -> bytes:
    """Return a document as indented UTF-8 JSON (non-finite floats as null, paths as text)."""
    return json.dumps(replace_non_finite(document), indent=2, default=str, allow_nan=False).encode("utf-8")


def build_history_download(run_dir: Path) -> bytes:
    """Return a run's history.json to download: its per-epoch metrics so far (a run still in its first
    epoch, or one whose file is damaged, gives its model and the epochs its metric lines hold)."""
    run_dir = Path(run_dir)
    history = read_json(run_dir / HISTORY_FILE)
    if not isinstance(history, dict) or not isinstance(history.get("epochs"), list):
        history = {"model": read_run_identity(run_dir).get("model"), "run_dir": str(run_dir),
                   "epochs": read_history(run_dir)}
    return encode_json(history)


def build_metadata_download(run_dir: Path) -> bytes:
    """Return a run folder's metadata in one JSON document to download: the settings it trained
    (config.json), its state with the latest heartbeat (status.json + heartbeat.json) and, once
    published, its artifact's metadata.json (null before)."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG_FILE).exists() and not (run_dir / STATUS_FILE).exists():
        raise ValueError(f"{run_dir} is not a run folder (it has no {CONFIG_FILE} or {STATUS_FILE}).")
    return encode_json({"run": run_dir.name, "config": read_run_identity(run_dir), "status": read_status(run_dir),
                        "artifact_metadata": read_json(run_dir / ARTIFACT_DIR / METADATA_FILE)})

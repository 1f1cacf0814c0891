"""Run folders: one per training process, written as it goes and readable by any other process.

A run folder holds ``config.json`` (the TrainConfig the worker runs, plus who started it and
when; written once), ``status.json`` (the state: queued, running, completed, stopped, failed;
replaced atomically on every change of state), ``heartbeat.json`` (pid, time and progress,
refreshed every few seconds by the worker), ``worker.lock`` (locked by the worker for as long
as it lives), ``metrics.jsonl`` (one line per batch and per epoch), ``history.json``,
``best.keras`` (the best checkpoint so far), ``log.txt``, ``tensorboard/`` (the same figures as
TensorBoard event files), ``backup/`` while a network trains (see genre_models.backup) and, once
finished, ``artifact/``.

This module is the protocol: the names, the writes a worker makes, and the reads. Reading never
writes: a run whose worker is gone while its files still say it is active is *shown* as failed
(``Run.unrecorded_death``); genre_models.supervisor records it. Whether a worker is alive is decided
by its lock, not by a file's content, so a damaged status file can neither hide a live run nor let
a second one start; the lock is probed through a read-only handle, so a read-only deployment reads
runs as they are.
"""

from __future__ import annotations

import dataclasses
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from genre_models.artifacts import HISTORY_FILE, METADATA_FILE
from genre_models.backup import has_backup
from genre_models.config import PROJECT_ROOT, read_only_reason
from genre_models.fileio import (
    lock_file,
    read_epoch_records,
    read_json,
    read_json_lines,
    write_json_atomically,
)
from genre_models.metadata import format_utc, utc_now

# Environment variable overriding where run folders are created.
RUNS_DIR_ENV = "GENRE_RUNS_DIR"

STATUS_FILE = "status.json"
HEARTBEAT_FILE = "heartbeat.json"
LOCK_FILE = "worker.lock"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
CHECKPOINT_FILE = "best.keras"
STOP_FILE = "stop"
LOG_FILE = "log.txt"
ARTIFACT_DIR = "artifact"
# TensorBoard event files of the run (`tensorboard --logdir runs` shows every run).
TENSORBOARD_DIR = "tensorboard"
ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("completed", "stopped", "failed")
# Status keys of a run's previous process, dropped when it is queued again or starts again (a resumed run);
# started_at with them, so a resumed run's time is never measured from its previous process's start.
ENDING_KEYS = ("error", "finished_at", "artifact", "started_at")
# A running worker refreshes its heartbeat at least this often (seconds)...
HEARTBEAT_SECONDS = 2.0
# ...so one silent for this long is flagged as not reporting (it stays active while it holds its lock).
STALE_SECONDS = 180.0
# A queued run whose process is alive but has not taken its lock yet is starting for at most this long.
STARTING_SECONDS = 30.0


class RunRefused(ValueError):
    """A run or a change to shared state was refused (read-only deployment, another run active);
    the message says why."""


@dataclasses.dataclass(frozen=True)
class Run:
    """One run as read from its folder: what the Train page, the CLI and the tests read."""

    # The run folder's name: the run's id in the page, its address and the CLI.
    name: str
    # The run folder.
    folder: Path
    # queued, running, completed, stopped or failed (failed too when its worker is gone unrecorded).
    state: str
    # Registry name of the model it trains (None when config.json is unreadable).
    model: str | None
    # The TrainConfig it trains, as a dict ({} when unreadable).
    config: dict
    # status.json merged over the identity and the latest heartbeat, with ``state`` as above.
    status: dict
    # The published artifact's metadata.json (None before it is published, or when damaged).
    metadata: dict | None
    # Whether a worker holds the run's lock.
    alive: bool = False
    # A live worker silent for more than STALE_SECONDS (the page offers to stop it).
    not_reporting: bool = False
    # Its worker is gone while its files say it is active: shown as failed, not yet recorded.
    unrecorded_death: bool = False

    @property
    def is_active(self) -> bool:
        """Whether it is queued or running."""
        return self.state in ACTIVE_STATES

    @property
    def error(self) -> str:
        """Why it failed ("" when it did not)."""
        return str(self.status.get("error") or "")

    @property
    def stop_requested(self) -> bool:
        """Whether a stop has been asked of it."""
        return stop_requested(self.folder)


def resolve_runs_dir() -> Path:
    """Return the folder holding run folders (env override for tests)."""
    from_env = os.environ.get(RUNS_DIR_ENV, "").strip()
    return Path(from_env).expanduser() if from_env else PROJECT_ROOT / "runs"


def refuse_if_read_only(action: str) -> None:
    """Raise RunRefused when this deployment is read-only (see config.read_only_reason)."""
    reason = read_only_reason()
    if reason:
        raise RunRefused(f"{action} is turned off: {reason}")


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
    """Return whether a worker process holds this run's lock (alive, whatever the files say).

    The lock file is opened for reading only (flock needs no write access), so the probe works on a
    read-only mount and never creates or changes a file; when even that is impossible (a lock file
    that cannot be read), the heartbeat's pid decides."""
    path = Path(run_dir) / LOCK_FILE
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return False
    except OSError:
        heartbeat = read_json(Path(run_dir) / HEARTBEAT_FILE, default={})
        return is_process_alive(heartbeat.get("pid") if isinstance(heartbeat, dict) else None)
    with handle:
        return not lock_file(handle, blocking=False)  # Closing the file releases a lock taken here.


def read_status(run_dir: Path) -> dict:
    """Return the run's identity, status and latest heartbeat merged into one dict, as the files say."""
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


def describe_death(run_dir: Path, status: dict) -> dict:
    """Return the status fields of a run whose worker died unrecorded: why, and when it was last heard from
    (not when a page noticed, maybe hours later; before its first heartbeat, its last status write)."""
    note = " Its best checkpoint so far is kept." if (Path(run_dir) / CHECKPOINT_FILE).is_file() else ""
    if has_backup(run_dir):
        note += " It can be resumed from its last finished epoch."
    last_heard = min(read_time(status.get("heartbeat")) or read_time(status.get("updated_at")) or time.time(),
                     time.time())
    return {"error": "the training process ended unexpectedly (killed or crashed)." + note,
            "finished_at": format_utc(last_heard)}


def read_run(run_dir: Path) -> Run | None:
    """Return the run in ``run_dir`` as its files and its lock say (None for a folder that is no run).

    A live worker (its lock held) stays active whatever its files say; one silent for more than
    STALE_SECONDS is flagged not_reporting. Nothing is written."""
    run_dir = Path(run_dir)
    status = read_status(run_dir)
    if not (run_dir / CONFIG_FILE).exists() and not status.get("state"):
        return None
    alive, not_reporting, dead = is_worker_alive(run_dir), False, False
    state = status.get("state")
    if alive:
        # The lock says the worker runs: a damaged status, or one still saying "queued" (start_run writes
        # it with the pid after the worker may already have reported), must not say otherwise.
        if state not in ACTIVE_STATES or (state == "queued" and status.get("heartbeat")):
            state = "running"
        silent = time.time() - float(status.get("heartbeat") or status.get("created") or time.time())
        not_reporting = silent > STALE_SECONDS
    elif state not in FINAL_STATES and not is_starting(status):
        state, dead = "failed", True
        status.update(describe_death(run_dir, status))
    status["state"] = state
    identity = read_run_identity(run_dir)
    config = identity.get("config")
    metadata = read_json(run_dir / ARTIFACT_DIR / METADATA_FILE)
    return Run(name=run_dir.name, folder=run_dir, state=state, model=status.get("model"),
               config=config if isinstance(config, dict) else {}, status=status,
               metadata=metadata if isinstance(metadata, dict) else None, alive=alive,
               not_reporting=not_reporting, unrecorded_death=dead)


def is_starting(status: dict) -> bool:
    """Return whether a queued run's process is alive but has not taken its lock yet."""
    queued_at = status.get("queued_at") or status.get("created") or 0  # a resumed run was queued again
    return status.get("state") == "queued" and time.time() - float(queued_at) < STARTING_SECONDS \
        and is_process_alive(status.get("pid"))


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
    """Return how long a run (its Run.status) has taken, in seconds; None when its files do not say.

    While it is active: the time since its worker started (or it was queued), plus a resumed run's earlier
    epochs. Once it has ended: from its worker's start to its end (status.json's started_at, else when
    it was queued or created, to finished_at), plus, for a resumed run, the seconds of the epochs its
    earlier processes trained (as the worker counts them: backup.ResumePoint.seconds_before; read from
    ``run_dir``'s history). The heartbeat's ``elapsed`` counts from fit()'s start and is missing while data
    load or the splits are scored, so it is the fallback only for a run whose status has no times."""
    elapsed = status.get("elapsed")
    elapsed = float(elapsed) if isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool) else None
    active = status.get("state") in ACTIVE_STATES
    started = read_time(status.get("started_at") or status.get("queued_at") or status.get("created"))
    finished = time.time() if active else read_time(status.get("finished_at"))
    if started is None or finished is None:
        return elapsed
    earlier = 0.0
    resumed_after = status.get("resumed_after_epoch")
    if isinstance(resumed_after, int) and run_dir is not None:
        earlier = sum(float(record.get("seconds") or 0) for record in read_history(run_dir)
                      if isinstance(record.get("epoch"), int) and record["epoch"] <= resumed_after)
    return max(0.0, finished - started) + earlier


def stop_requested(run_dir: Path) -> bool:
    """Return whether a stop has been requested (the worker polls this on every step)."""
    return Path(run_dir, STOP_FILE).exists()


def list_runs(runs_dir: Path | None = None) -> list[Run]:
    """Return every run, newest first (nothing is written: see read_run)."""
    root = runs_dir or resolve_runs_dir()
    try:
        folders = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
    except OSError:
        return []
    return [run for run in map(read_run, folders) if run is not None]


def active_runs(runs_dir: Path | None = None) -> list[Run]:
    """Return the runs that are queued or running."""
    return [run for run in list_runs(runs_dir) if run.is_active]


def read_metrics(run_dir: Path) -> tuple[list[dict], list[dict]]:
    """Return the run's per-batch and per-epoch metric records."""
    records = read_json_lines(Path(run_dir) / METRICS_FILE)
    return [r for r in records if r.get("kind") == "batch"], [r for r in records if r.get("kind") == "epoch"]


def read_history(folder: Path) -> list[dict]:
    """Return the per-epoch records of a run folder or an artifact folder (its history.json; a run
    with none yet, the epochs of its metrics.jsonl). A missing or damaged file gives []; records
    without an epoch number are left out (fileio.read_epoch_records)."""
    folder = Path(folder)
    records, problem = read_epoch_records(folder / HISTORY_FILE)
    if records or (problem is None and (folder / HISTORY_FILE).exists()):
        return records
    return read_metrics(folder)[1] if (folder / METRICS_FILE).exists() else []


def describe_progress(status: dict) -> dict:
    """Return a run's progress: share done (0-1), epoch/step text and the estimated seconds left.

    The estimate counts the steps left at the worker's measured pace (``seconds_per_step``, timed
    without each epoch's first step, which carries the graph tracing) plus a validation pass per epoch
    left (``validation_seconds``, from the last finished epoch); before the worker has measured a pace
    there is no estimate rather than one inflated by the start-up."""
    epochs = int(status.get("epochs") or 0)
    epoch, step, steps = int(status.get("epoch") or 0), int(status.get("step") or 0), int(status.get("steps") or 0)
    if status.get("state") in FINAL_STATES:
        done = 1.0
    elif epochs:
        within = step / steps if steps else 1.0
        done = min(1.0, max(0.0, ((epoch - 1) + within) / epochs)) if epoch else 0.0
    else:
        done = 0.0
    pace = status.get("seconds_per_step")
    eta = None
    if isinstance(pace, (int, float)) and pace > 0 and steps and 0 < done < 1:
        steps_left = (steps - step) + (epochs - epoch) * steps
        validation = float(status.get("validation_seconds") or 0.0)
        eta = steps_left * float(pace) + (epochs - epoch + 1) * validation
    if epochs:
        text = f"epoch {epoch}/{epochs}" + (f", step {step}/{steps}" if steps else "")
    else:
        text = str(status.get("activity") or "starting")
    return {"done": done, "text": text, "eta_seconds": eta}

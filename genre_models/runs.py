"""Run folders: one per training process, written as it goes and readable by any other process.

A run folder holds ``config.json``, ``status.json`` (state, pid, heartbeat; always
replaced atomically), ``metrics.jsonl`` (one line per batch and per epoch),
``history.json`` (per-epoch), ``best.keras`` (the best checkpoint so far, replaced
atomically), ``log.txt`` and, once finished, ``artifact/``. Training never runs
inside the web server: ``start_run`` launches ``python -m genre_models train``
as its own OS process and the dashboard only reads these files.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from genre_models.config import PROJECT_ROOT
from genre_models.data import write_bytes_atomically

# Environment variable overriding where run folders are created.
RUNS_DIR_ENV = "GENRE_RUNS_DIR"
# Environment variable that turns in-browser training off ("0", "false", "no", "off").
TRAINING_ENABLED_ENV = "GENRE_TRAINING_ENABLED"
# Environment variable for how many runs may be active at once (default 1: the machine has 2 cores).
MAX_ACTIVE_RUNS_ENV = "GENRE_MAX_ACTIVE_RUNS"

STATUS_FILE = "status.json"
HISTORY_FILE = "history.json"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
CHECKPOINT_FILE = "best.keras"
STOP_FILE = "stop"
LOG_FILE = "log.txt"
ARTIFACT_DIR = "artifact"
PROMOTIONS_FILE = "promoted.json"

ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("completed", "stopped", "failed")
# A running worker refreshes its heartbeat at least this often (seconds)...
HEARTBEAT_SECONDS = 2.0
# ...so one silent for this long is presumed dead (generous: the first epoch starts after data loading).
STALE_SECONDS = 180.0


class RunRefused(ValueError):
    """A run cannot be started (training off, another run active); the message says why."""


def resolve_runs_dir() -> Path:
    """Return the folder holding run folders (env override for tests)."""
    from_env = os.environ.get(RUNS_DIR_ENV, "").strip()
    return Path(from_env).expanduser() if from_env else PROJECT_ROOT / "runs"


def training_enabled() -> bool:
    """Return whether in-browser training is allowed on this deployment."""
    return os.environ.get(TRAINING_ENABLED_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def max_active_runs() -> int:
    """Return how many runs may be active at once."""
    try:
        return max(1, int(os.environ.get(MAX_ACTIVE_RUNS_ENV, "1")))
    except ValueError:
        return 1


def write_json_atomically(path: str | os.PathLike, payload) -> None:
    """Write JSON through a temp file + rename so readers never see half a file."""
    write_bytes_atomically(path, lambda handle: handle.write(json.dumps(payload, indent=2, default=str).encode()))


def read_json(path: str | os.PathLike, default=None):
    """Read a JSON file; return ``default`` if it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def append_json_line(path: Path, record: dict) -> None:
    """Append one JSON line (a reader may see a partial last line; read_json_lines skips it)."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def read_json_lines(path: Path) -> list[dict]:
    """Read every complete JSON line of a file."""
    records = []
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue  # A line being written right now.
    except OSError:
        pass
    return records


def utc_now() -> str:
    """Return the current UTC time in ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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


def write_status(run_dir: Path, state: str, **details) -> dict:
    """Merge ``details`` into the run's status and set its state (atomically)."""
    status = read_json(Path(run_dir) / STATUS_FILE, default={}) or {}
    status.update(details)
    status.update({"state": state, "updated_at": utc_now()})
    write_json_atomically(Path(run_dir) / STATUS_FILE, status)
    return status


def beat(run_dir: Path, state: str = "running", **details) -> dict:
    """Write the worker's status with its pid and a fresh heartbeat (called by the worker only)."""
    return write_status(run_dir, state, pid=os.getpid(), heartbeat=time.time(), **details)


def is_process_alive(pid: int | None) -> bool:
    """Return whether a process exists and is not a zombie."""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    try:
        with open(f"/proc/{int(pid)}/stat", encoding="utf-8") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True  # No /proc: trust kill(0).


def refresh_status(run_dir: Path) -> dict:
    """Return the run's status, first marking it failed if its worker is gone or silent."""
    run_dir = Path(run_dir)
    status = read_json(run_dir / STATUS_FILE, default={}) or {}
    if status.get("state") not in ACTIVE_STATES:
        return status
    heartbeat = float(status.get("heartbeat") or status.get("created", 0) or 0)
    silent = time.time() - heartbeat if heartbeat else 0.0
    if not is_process_alive(status.get("pid")):
        reason = "the training process ended unexpectedly (killed or crashed)"
    elif silent > STALE_SECONDS:
        reason = f"the training process stopped reporting ({silent:.0f} s without a heartbeat)"
    else:
        return status
    checkpoint = run_dir / CHECKPOINT_FILE
    note = " Its best checkpoint so far is kept." if checkpoint.is_file() else ""
    return write_status(run_dir, "failed", error=reason + "." + note, finished_at=utc_now())


def request_stop(run_dir: Path) -> None:
    """Ask a run to stop after its current step (the worker polls this file)."""
    Path(run_dir, STOP_FILE).write_text(utc_now(), encoding="utf-8")


def stop_requested(run_dir: Path) -> bool:
    """Return whether a stop has been requested."""
    return Path(run_dir, STOP_FILE).exists()


def list_runs(runs_dir: Path | None = None) -> list[dict]:
    """Return every run, newest first: folder, config, refreshed status and artifact metadata."""
    root = runs_dir or resolve_runs_dir()
    if not root.is_dir():
        return []
    runs = []
    for folder in sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True):
        status = refresh_status(folder)
        if not status:
            continue
        runs.append({
            "id": folder.name,
            "folder": folder,
            "config": (read_json(folder / CONFIG_FILE, default={}) or {}).get("config", {}),
            "status": status,
            "metadata": read_json(folder / ARTIFACT_DIR / "metadata.json"),
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
    with open(root / ".start.lock", "w", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_worker_command(arguments: dict, run_dir: Path) -> list[str]:
    """Return the CLI command that trains in ``run_dir``; ``arguments`` maps CLI flags to values."""
    # Niced, so the web app stays responsive while the worker uses every core.
    command = ["nice", "-n", "10", sys.executable, "-m", "genre_models", "train"]
    for flag, value in arguments.items():
        if value is None or value is False:
            continue
        command.append(f"--{flag}")
        if isinstance(value, (list, tuple)):
            command.extend(str(v) for v in value)
        elif value is not True:
            command.append(str(value))
    return command + ["--run-dir", str(run_dir), "--out", str(run_dir / ARTIFACT_DIR)]


def start_run(arguments: dict, runs_dir: Path | None = None) -> Path:
    """Launch a training worker process for ``arguments`` (CLI flags: model, epochs, ...).

    Refused (RunRefused) when training is off or the active-run limit is reached;
    concurrent calls are serialised, so two tabs clicking at once create one run.
    """
    if not training_enabled():
        raise RunRefused(f"Training is turned off on this deployment ({TRAINING_ENABLED_ENV}=0).")
    root = runs_dir or resolve_runs_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunRefused(f"Cannot create the runs folder {root}: {error.strerror or error}.") from error
    with start_lock(root):
        active = active_runs(root)
        if len(active) >= max_active_runs():
            names = ", ".join(f"{run['id']} ({run['status'].get('state')})" for run in active)
            raise RunRefused(f"Another training run is active: {names}. Stop it or wait for it to finish.")
        try:
            run_dir = create_run_dir(str(arguments["model"]), root)
            command = build_worker_command(arguments, run_dir)
            write_status(run_dir, "queued", created=time.time(), heartbeat=time.time(), command=command,
                         model=arguments["model"])
            log = open(run_dir / LOG_FILE, "w", encoding="utf-8")
        except OSError as error:
            raise RunRefused(f"Cannot write the run folder in {root}: {error.strerror or error}.") from error
        # Its own session: the worker outlives a Streamlit restart and a closed tab.
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        log.close()
        write_status(run_dir, "queued", pid=process.pid)
    return run_dir


def kill_run(run_dir: Path) -> None:
    """Terminate a run's worker at once (tests and emergencies; the Stop button uses request_stop)."""
    pid = (read_json(Path(run_dir) / STATUS_FILE, default={}) or {}).get("pid")
    if pid and is_process_alive(pid):
        os.kill(int(pid), signal.SIGKILL)


def delete_run(run_dir: Path) -> None:
    """Delete a finished run's folder (an active run must be stopped first; a promoted one restored)."""
    run_dir = Path(run_dir)
    if refresh_status(run_dir).get("state") in ACTIVE_STATES:
        raise RunRefused(f"{run_dir.name} is still active; stop it before deleting it.")
    promoted = [name for name, folder in read_promotions(run_dir.parent).items()
                if Path(folder).resolve().is_relative_to(run_dir.resolve())]
    if promoted:
        raise RunRefused(f"{run_dir.name} is in use for {', '.join(promoted)}; restore the shipped model first.")
    shutil.rmtree(run_dir)


def read_promotions(runs_dir: Path | None = None) -> dict[str, str]:
    """Return {model name: artifact folder} of runs promoted over the shipped models."""
    return read_json((runs_dir or resolve_runs_dir()) / PROMOTIONS_FILE, default={}) or {}


def promote_run(run_dir: Path) -> str:
    """Make a finished run's artifact the one the app uses for its model name; return the name."""
    run_dir = Path(run_dir)
    metadata = read_json(run_dir / ARTIFACT_DIR / "metadata.json")
    if not metadata:
        raise RunRefused(f"{run_dir.name} has no finished artifact to use.")
    promotions = read_promotions(run_dir.parent)
    promotions[metadata["name"]] = str(run_dir / ARTIFACT_DIR)
    write_json_atomically(run_dir.parent / PROMOTIONS_FILE, promotions)
    return metadata["name"]


def restore_shipped(model_name: str, runs_dir: Path | None = None) -> None:
    """Go back to the shipped artifact for a model name."""
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
    text = f"epoch {epoch}/{epochs}" + (f", step {step}/{steps}" if steps else "") if epochs else "starting"
    return {"done": done, "text": text, "eta_seconds": eta}

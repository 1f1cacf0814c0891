"""Run folders: where a training run writes its status, history and checkpoints as it goes.

A run folder is the working area of one training process; the finished model
is published from it into an artifact folder in one atomic step.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from genre_models.config import PROJECT_ROOT

# Environment variable overriding where run folders are created.
RUNS_DIR_ENV = "GENRE_RUNS_DIR"

STATUS_FILE = "status.json"
HISTORY_FILE = "history.json"
CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "best.weights.h5"


def resolve_runs_dir() -> Path:
    """Return the folder holding run folders (env override for tests)."""
    from_env = os.environ.get(RUNS_DIR_ENV, "").strip()
    return Path(from_env).expanduser() if from_env else PROJECT_ROOT / "runs"


def write_json_atomically(path: str | os.PathLike, payload) -> None:
    """Write JSON through a temp file + rename so readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as temp_file:
            json.dump(payload, temp_file, indent=2, default=str)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        # mkstemp creates 0600 files; published files must be readable like any other.
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def read_json(path: str | os.PathLike, default=None):
    """Read a JSON file; return ``default`` if it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


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
    """Record the run's state (running/completed/failed...) with pid and heartbeat time."""
    status = read_json(Path(run_dir) / STATUS_FILE, default={}) or {}
    status.update(details)
    status.update({"state": state, "pid": os.getpid(), "heartbeat": time.time(), "updated_at": utc_now()})
    write_json_atomically(Path(run_dir) / STATUS_FILE, status)
    return status

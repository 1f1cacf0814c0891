"""What leaves a run folder as a file: a run's history and metadata as JSON, and every run's per-epoch
scalars as one CSV (for a spreadsheet, pandas or an experiment tracker)."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from genre_models.artifacts import HISTORY_FILE, METADATA_FILE
from genre_models.fileio import read_json
from genre_models.runs import (
    ARTIFACT_DIR,
    CONFIG_FILE,
    STATUS_FILE,
    Run,
    list_runs,
    read_history,
    read_run_identity,
    read_status,
)

# The CSV's first columns, naming the run; every scalar any run recorded follows, in sorted order.
CSV_RUN_COLUMNS = ("run", "model", "state", "epoch")


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


def is_scalar(value) -> bool:
    """Return whether a history value is a number a CSV cell can hold (flags and texts are left out)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def build_runs_csv(all_runs: list[Run] | None = None) -> str:
    """Return every run's per-epoch scalars as CSV text: one row per (run, epoch), the run's name, model and
    state first, then one column per scalar any run recorded (empty where a run did not record it; a
    non-finite value, a diverged loss, as empty too)."""
    all_runs = list_runs() if all_runs is None else all_runs
    rows = []
    for run in all_runs:
        for record in read_history(run.folder):
            scalars = {key: value for key, value in record.items() if is_scalar(value) and key != "epoch"}
            rows.append({"run": run.name, "model": run.model or "", "state": run.state,
                         "epoch": record.get("epoch"),
                         **{key: value if math.isfinite(value) else None for key, value in scalars.items()}})
    columns = list(CSV_RUN_COLUMNS) + sorted({key for row in rows for key in row} - set(CSV_RUN_COLUMNS))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()

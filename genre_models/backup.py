"""A run's training backup: what lets a stopped or crashed run go on from its last finished epoch.

The backup is the ``backup/`` folder of a run folder (genre_models.runs). It holds
keras.callbacks.BackupAndRestore's files in ``backup/keras/`` (the model and optimizer weights and the
last finished epoch, written after every epoch by callbacks.make_backup), hard links to the best
checkpoint of the two latest improving epochs in ``backup/best/`` (keep_best_link, called by the best
checkpoint callback), and ``backup/state.json`` (the settings it was made with, the head fitted alone,
whether fit() had ended, the resumes so far).

It is made when a network starts training from its first epoch (start_backup; a fusion, or a worker of a
multi-worker cluster, has none) and removed when the run completes, or when it stopped before its first
epoch ended (remove_backup); a stopped or crashed run keeps it. Resuming (training.train_model(...,
resume=True), started by supervisor.resume_run or ``train --resume``) is refused unless check_backup finds it
whole and made with the same settings; prepare_resume then brings the run folder back to its last
backed-up epoch: the history and metric lines up to it, the best checkpoint of those epochs and early
stopping's state replayed from their val_loss. Keras restores the weights, optimizer state and learning
rate when fit() starts.

This module knows the backup's layout and nothing of run states or processes; it is imported by runs,
callbacks and training, and imports only lower layers.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from genre_models.artifacts import HISTORY_FILE
from genre_models.config import Recipe, TrainConfig
from genre_models.fileio import (
    read_json,
    read_json_lines,
    replace_file_atomically,
    write_json_atomically,
)
from genre_models.metadata import utc_now

# The training backup of a run (removed when the run completes): keras.callbacks.BackupAndRestore's files
# (model and optimizer weights, the last finished epoch) in backup/keras/, hard links to the best checkpoint
# of recent epochs in backup/best/, and backup/state.json (the settings it was made with, resumes so far).
BACKUP_DIR = "backup"
BACKUP_KERAS_DIR = "keras"
BACKUP_BEST_DIR = "best"
BACKUP_STATE_FILE = "state.json"
BACKUP_WEIGHTS_FILE = "latest.weights.h5"
BACKUP_EPOCH_FILE = "training_metadata.json"
# TrainConfig fields that may differ between the run that made a backup and the one resuming it (the run
# folder is the backup's own, whatever path names it).
RESUME_FREE_FIELDS = ("verbose", "command", "run_dir")


@dataclass
class ResumePoint:
    """Where a run goes on from: its backup's last finished epoch and what the callbacks knew then."""

    # Epochs finished and backed up (fit() goes on with the next one).
    epoch: int
    # The history's epochs up to it (later ones, trained after the last backup, are dropped).
    epochs: list[dict]
    # EarlyStopping's state after those epochs (replay_early_stopping).
    early_stopping: dict
    # Whether fit() had ended (all epochs or early stopping) before the run broke off.
    fit_finished: bool
    # The backup's state.json (settings, resumes so far, the head fitted alone).
    state: dict

    @property
    def seconds_before(self) -> float:
        """Training seconds the kept epochs took (a resumed run's time counts them)."""
        return sum(float(record.get("seconds") or 0) for record in self.epochs)

    @property
    def best_val_loss(self) -> float:
        """The lowest validation loss of the kept epochs (NaNs ignored; infinity when none)."""
        losses = [record["val_loss"] for record in self.epochs if record.get("val_loss") is not None]
        return min((loss for loss in losses if not math.isnan(loss)), default=float("inf"))


# --- The backup folder --------------------------------------------------------------------------------------------

def backup_dir(run_dir: Path) -> Path:
    """Return the run's backup folder (it may not exist)."""
    return Path(run_dir) / BACKUP_DIR


def has_backup(run_dir: Path) -> bool:
    """Return whether the run holds a backup of at least one finished epoch (it can be resumed)."""
    return (backup_dir(run_dir) / BACKUP_KERAS_DIR / BACKUP_EPOCH_FILE).is_file()


def backup_epoch(run_dir: Path) -> int | None:
    """Return the last finished epoch the run's backup holds (None without a readable one)."""
    marker = read_json(backup_dir(run_dir) / BACKUP_KERAS_DIR / BACKUP_EPOCH_FILE)
    epoch = marker.get("epoch") if isinstance(marker, dict) else None
    return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None


def backup_state_path(run_dir: Path) -> Path:
    """Return the run's backup/state.json."""
    return backup_dir(run_dir) / BACKUP_STATE_FILE


def update_backup_state(run_dir: Path, **changes) -> dict:
    """Merge ``changes`` into the backup's state.json (atomically); return it."""
    state = read_json(backup_state_path(run_dir), default={})
    state = {**(state if isinstance(state, dict) else {}), **changes}
    write_json_atomically(backup_state_path(run_dir), state)
    return state


def start_backup(run_dir: Path, config: TrainConfig) -> None:
    """Begin a fresh backup for a run training from its first epoch (an old one is removed)."""
    shutil.rmtree(backup_dir(run_dir), ignore_errors=True)
    update_backup_state(run_dir, config=config.to_dict(), model=config.model_name, created=utc_now(), resumes=[])


def remove_backup(run_dir: Path) -> None:
    """Remove the run's backup (the run completed: no optimizer state is kept), and any half-written
    checkpoint a stopped or killed segment left behind (fileio.replace_file_atomically's temp files of
    ``<name>.keras``: ``.<name>.keras.XXXXXXXX.keras``, tens of MB each)."""
    shutil.rmtree(backup_dir(run_dir), ignore_errors=True)
    for leftover in Path(run_dir).glob(".*.keras.*.keras"):
        leftover.unlink(missing_ok=True)


def link_atomically(source: Path, target: Path) -> None:
    """Replace ``target`` by a hard link to ``source`` (a copy where links are impossible), atomically."""
    with replace_file_atomically(target, suffix=".keras") as temp_path:
        temp_path.unlink()
        try:
            os.link(source, temp_path)
        except OSError:
            shutil.copyfile(source, temp_path)


def best_link(links_dir: Path, epoch: int) -> Path:
    """Return where the backup keeps the best checkpoint saved at the end of ``epoch`` (1-based)."""
    return Path(links_dir) / f"epoch-{epoch:04d}.keras"


def keep_best_link(path: Path, links_dir: Path, epoch: int) -> None:
    """Link (or, where links are impossible, copy) the checkpoint just saved into the backup as
    best_link(epoch); keep the previous link and remove older ones."""
    links_dir = Path(links_dir)
    links_dir.mkdir(parents=True, exist_ok=True)
    link_atomically(path, best_link(links_dir, epoch))
    for old in sorted(links_dir.glob("epoch-*.keras"))[:-2]:
        old.unlink(missing_ok=True)


# --- Checking a backup before resuming ----------------------------------------------------------------------------

def comparable_config(config: dict) -> dict:
    """Return a TrainConfig dict as stored in JSON (tuples as lists) without the fields a resumed run may
    change (RESUME_FREE_FIELDS)."""
    return json.loads(json.dumps({key: value for key, value in config.items() if key not in RESUME_FREE_FIELDS},
                                 default=str))


def describe_config_change(before: dict, after: dict) -> str:
    """Return the settings that differ between two TrainConfig dicts, in words."""
    before, after = comparable_config(before), comparable_config(after)
    changed = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
    return ", ".join(f"{key} {before.get(key)!r} -> {after.get(key)!r}" for key in changed)


def check_backup(run_dir: Path, config: dict | None) -> dict:
    """Return the run's backup state (backup/state.json with "epoch": the last finished epoch it holds),
    or raise ValueError naming the run when it has none, when it is damaged, or when ``config`` (the
    TrainConfig dict to resume with; supervisor.resume_run passes the one in the run's config.json, None when
    that is unreadable) is not the one the backup was made with."""
    run_dir = Path(run_dir)
    folder = backup_dir(run_dir)
    if not has_backup(run_dir):
        raise ValueError(f"Run {run_dir.name} has no training backup to resume from (a run keeps one only while "
                         "its network trains: it completed, it is a fusion, or it ended before its first epoch).")
    state = read_json(folder / BACKUP_STATE_FILE)
    marker = read_json(folder / BACKUP_KERAS_DIR / BACKUP_EPOCH_FILE)
    damaged = f"The training backup of run {run_dir.name} is damaged"
    advice = "; it cannot be resumed: start a new run with the same settings instead."
    if not isinstance(state, dict) or not isinstance(state.get("config"), dict):
        raise ValueError(f"{damaged} ({BACKUP_DIR}/{BACKUP_STATE_FILE} is missing or unreadable){advice}")
    epoch = marker.get("epoch") if isinstance(marker, dict) else None
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"{damaged} ({BACKUP_DIR}/{BACKUP_KERAS_DIR}/{BACKUP_EPOCH_FILE} is unreadable){advice}")
    weights = folder / BACKUP_KERAS_DIR / BACKUP_WEIGHTS_FILE
    try:
        import h5py

        with h5py.File(weights, "r") as handle:
            if not len(handle.keys()):
                raise OSError("it holds no weights")
    except (OSError, ValueError) as error:
        raise ValueError(f"{damaged} ({BACKUP_DIR}/{BACKUP_KERAS_DIR}/{BACKUP_WEIGHTS_FILE}: {error}){advice}") \
            from error
    if not isinstance(config, dict):
        raise ValueError(f"Run {run_dir.name} has no readable config.json; it cannot be resumed.")
    if comparable_config(config) != comparable_config(state["config"]):
        raise ValueError(f"Run {run_dir.name} cannot be resumed with changed settings "
                         f"({describe_config_change(state['config'], config)}); a resumed run trains the settings "
                         "it started with. Start a new run to train others.")
    return {**state, "epoch": epoch}


# --- Going back to the backed-up epoch ----------------------------------------------------------------------------

def replay_early_stopping(validation_losses: list, patience: int) -> dict:
    """Return the state keras.callbacks.EarlyStopping(monitor="val_loss", patience) reaches after these
    epochs' val_loss: the best value, its 0-based epoch, the epochs waited since, and whether it stopped."""
    best, best_epoch, wait, stopped = None, 0, 0, False
    for epoch, value in enumerate(validation_losses):
        if value is None:
            continue  # Keras skips an epoch with no monitored value (a NaN counts, and never improves).
        wait += 1
        if best is None or value < best:
            best, best_epoch, wait = float(value), epoch, 0
            continue
        if patience > 0 and wait >= patience and epoch > 0:
            stopped = True
    return {"best": best, "best_epoch": best_epoch, "wait": wait, "stopped": stopped}


def prepare_resume(run_dir: Path, config: TrainConfig, recipe: Recipe, *, metrics: Path,
                   checkpoint: Path) -> ResumePoint:
    """Bring a run folder back to the last epoch its backup holds, and return that point.

    ``metrics`` and ``checkpoint`` are the run's metrics.jsonl and best.keras (runs names them).
    The backup is checked (check_backup: it exists, it is readable, its settings are ``config``'s).
    history.json and metrics.jsonl keep the epochs up to it and drop anything later (an epoch
    recorded after the last backup is trained again, so no epoch appears twice and the curves read
    as one run); best.keras goes back to the best of the kept epochs (its link in backup/best/);
    early stopping's wait and best are replayed from the kept val_loss. Keras restores the model and
    optimizer weights, the learning rate with them, when fit() starts (callbacks.make_backup)."""
    backup = check_backup(run_dir, config.to_dict())
    last = backup["epoch"]
    stored = read_json(run_dir / HISTORY_FILE)
    records = stored.get("epochs") if isinstance(stored, dict) else None
    if not isinstance(records, list):  # No history.json: the epoch lines of metrics.jsonl.
        records = [r for r in read_json_lines(metrics) if r.get("kind") == "epoch"]
    kept = [r for r in records if isinstance(r, dict) and isinstance(r.get("epoch"), int) and r["epoch"] <= last]
    kept = list({r["epoch"]: r for r in kept}.values())  # one record per epoch, the latest
    if [r["epoch"] for r in kept] != list(range(1, last + 1)):
        raise ValueError(f"The training backup of run {run_dir.name} holds {last} epoch(s) but its history has "
                         f"{[r['epoch'] for r in kept]}; it cannot be resumed: start a new run instead.")
    write_json_atomically(run_dir / HISTORY_FILE, {"model": config.model_name, "run_dir": str(run_dir),
                                                   "epochs": kept})
    lines = [r for r in read_json_lines(metrics) if int(r.get("epoch") or 0) <= last]
    with replace_file_atomically(metrics, suffix=".jsonl") as temp_path:
        temp_path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    losses = [r.get("val_loss") for r in kept]
    finite = [(value, index) for index, value in enumerate(losses) if value is not None and value == value]
    if finite:
        best_epoch = min(finite)[1] + 1
        link = best_link(backup_dir(run_dir) / BACKUP_BEST_DIR, best_epoch)
        if link.is_file():
            link_atomically(link, checkpoint)
    early_stopping = replay_early_stopping(losses, recipe.patience)
    fit_finished = bool(backup.get("fit_finished")) or last >= recipe.epochs or early_stopping["stopped"]
    state = update_backup_state(run_dir, resumes=[*backup.get("resumes", []), {"after_epoch": last,
                                                                                "at": utc_now()}])
    return ResumePoint(last, kept, early_stopping, fit_finished, state)

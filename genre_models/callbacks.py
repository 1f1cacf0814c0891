"""Keras callbacks of a training run: the run recorder (metrics, history, heartbeat, stop
requests), the atomic best checkpoint, the run's backup (keras.callbacks.BackupAndRestore) and early
stopping that both carry their state over to a resumed run, and a heartbeat while a head is fitted on
its own."""

from __future__ import annotations

import math
import time
from pathlib import Path

from genre_models.artifacts import HISTORY_FILE
from genre_models.backup import keep_best_link
from genre_models.fileio import (
    append_json_line,
    replace_file_atomically,
    write_json_atomically,
)
from genre_models.runs import HEARTBEAT_SECONDS, METRICS_FILE, beat, stop_requested


def make_run_recorder(run_dir: Path, history: dict, epochs: int, elapsed_before: float = 0.0):
    """Return a callback that logs every batch and epoch, beats the heartbeat and honours stop requests.

    A resumed run passes the history so far (its epochs are kept and new ones appended) and the seconds
    its earlier processes trained (``elapsed_before``), so its progress and time left stay right."""
    import keras

    class RunRecorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.epoch_started = self.last_beat = time.time()
            self.started = self.epoch_started - elapsed_before
            self.epoch = 0
            self.stopped_by_request = False

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.epoch_started = epoch, time.time()

        def on_train_batch_end(self, batch, logs=None):
            steps = self.params.get("steps") or 0
            record = {"kind": "batch", "epoch": self.epoch + 1, "step": batch + 1, "steps": steps,
                      "time": time.time()}
            record.update({key: float(value) for key, value in (logs or {}).items()})
            append_json_line(run_dir / METRICS_FILE, record)
            if time.time() - self.last_beat >= HEARTBEAT_SECONDS:
                self.last_beat = time.time()
                beat(run_dir, epoch=self.epoch + 1, epochs=epochs, step=batch + 1, steps=steps,
                     elapsed=round(time.time() - self.started, 1))
            if stop_requested(run_dir):
                # Keras finishes this step, then leaves fit(); the best checkpoint is kept.
                self.stopped_by_request = True
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            record = {"epoch": epoch + 1, "seconds": round(time.time() - self.epoch_started, 2)}
            record["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            record.update({key: float(value) for key, value in (logs or {}).items() if key != "learning_rate"})
            if "val_loss" not in record:
                return  # Stopped mid-epoch: no validation figures for a partial epoch.
            history["epochs"].append(record)
            write_json_atomically(run_dir / HISTORY_FILE, history)
            append_json_line(run_dir / METRICS_FILE, {"kind": "epoch", "time": time.time(), **record})
            beat(run_dir, epoch=epoch + 1, epochs=epochs, elapsed=round(time.time() - self.started, 1))

    return RunRecorder()


def make_best_checkpoint(path: Path, best: float = float("inf"), links_dir: Path | None = None):
    """Return a callback saving the whole model whenever val_loss improves, via temp file + rename.

    Keras' own ModelCheckpoint writes in place, so a worker killed mid-save would
    leave a broken file; this one always leaves the last good checkpoint loadable. A resumed run
    passes the best val_loss so far. With ``links_dir`` (the run's backup), each new best is also
    hard-linked there as epoch-NNNN.keras (no copy: best.keras is replaced by rename, so the link
    keeps the old file), the previous one kept: a run killed after saving a checkpoint but before its
    backup of that epoch gets back the checkpoint of the epoch it resumes after (see backup.best_link).
    """
    import keras

    class AtomicBestCheckpoint(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best = float(best)

        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get("val_loss")
            if value is None or not value < self.best:
                return
            self.best = float(value)
            with replace_file_atomically(path, suffix=".keras") as temp_path:
                self.model.save(temp_path)
            if links_dir is not None:
                keep_best_link(path, links_dir, epoch + 1)

    return AtomicBestCheckpoint()


def make_early_stopping(patience: int, resumed: dict | None = None):
    """Return keras.callbacks.EarlyStopping on val_loss; a resumed run passes backup.replay_early_stopping's
    state of its earlier epochs, which Keras would otherwise reset (it starts a fit with no best)."""
    import keras

    class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            if resumed and resumed.get("best") is not None:
                self.best, self.best_epoch, self.wait = resumed["best"], resumed["best_epoch"], resumed["wait"]

    return ResumableEarlyStopping(monitor="val_loss", patience=patience)


def make_backup(run_dir: Path, keras_dir: Path):
    """Return keras.callbacks.BackupAndRestore keeping the model and optimizer weights and the epoch in
    ``keras_dir`` after every epoch, and restoring them when fit() starts (a resumed run). The backup is
    kept when fit() ends (a stopped run may be resumed; training removes it once the run completes), and a
    backup that cannot be restored raises a ValueError naming the run instead of Keras' traceback."""
    import keras

    class RunBackup(keras.callbacks.BackupAndRestore):
        def on_train_begin(self, logs=None):
            try:
                super().on_train_begin(logs)
            except Exception as error:  # h5py, JSON and shape errors alike: the backup is unusable.
                raise ValueError(f"The training backup of run {Path(run_dir).name} is damaged and cannot be "
                                 f"restored ({type(error).__name__}: {error}); start a new run with the same "
                                 "settings instead.") from error

    return RunBackup(backup_dir=str(keras_dir), delete_checkpoint=False)


def make_head_heartbeat(run_dir: Path):
    """Return a callback that refreshes the heartbeat while a head is fitted alone (hundreds of
    quick epochs with no run recorder)."""
    import keras

    class HeadHeartbeat(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            beat(run_dir, activity=f"fitting the head alone (epoch {epoch + 1})")

    return HeadHeartbeat()


def make_schedule(hold_epochs: int, decay: float, kind: str = "course", base_rate: float = 1e-3,
                  epochs: int = 1):
    """Return a per-epoch schedule.

    "course": keep the rate for ``hold_epochs``, then multiply by exp(-decay) each epoch.
    "cosine": from ``base_rate`` down to nearly 0 over ``epochs`` along half a cosine.
    """
    if kind == "cosine":
        def cosine(epoch: int, learning_rate: float) -> float:
            return float(base_rate * 0.5 * (1 + math.cos(math.pi * epoch / max(epochs, 1))) + base_rate * 1e-3)

        return cosine
    if kind != "course":
        raise ValueError(f"Unknown schedule {kind!r}; use 'course' or 'cosine'.")

    def schedule(epoch: int, learning_rate: float) -> float:
        return float(learning_rate if epoch < hold_epochs else learning_rate * math.exp(-decay))

    return schedule

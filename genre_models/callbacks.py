"""Keras callbacks of a training run: the run recorder (metrics, history, heartbeat, stop
requests), the atomic best checkpoint, and a heartbeat while a head is fitted on its own."""

from __future__ import annotations

import math
import time
from pathlib import Path

from genre_models.artifacts import HISTORY_FILE
from genre_models.fileio import (
    append_json_line,
    replace_file_atomically,
    write_json_atomically,
)
from genre_models.runs import HEARTBEAT_SECONDS, METRICS_FILE, beat, stop_requested


def make_run_recorder(run_dir: Path, history: dict, epochs: int):
    """Return a callback that logs every batch and epoch, beats the heartbeat and honours stop requests."""
    import keras

    class RunRecorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.started = self.epoch_started = self.last_beat = time.time()
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


def make_best_checkpoint(path: Path):
    """Return a callback saving the whole model whenever val_loss improves, via temp file + rename.

    Keras' own ModelCheckpoint writes in place, so a worker killed mid-save would
    leave a broken file; this one always leaves the last good checkpoint loadable.
    """
    import keras

    class AtomicBestCheckpoint(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best = float("inf")

        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get("val_loss")
            if value is None or not value < self.best:
                return
            self.best = float(value)
            with replace_file_atomically(path, suffix=".keras") as temp_path:
                self.model.save(temp_path)

    return AtomicBestCheckpoint()


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

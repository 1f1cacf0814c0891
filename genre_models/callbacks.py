"""Keras callbacks of a training run: the run recorder (metrics, history, heartbeat, TensorBoard events,
stop requests), the atomic best checkpoint, the run's backup (keras.callbacks.BackupAndRestore) and early
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
from genre_models.runs import (
    HEARTBEAT_SECONDS,
    METRICS_FILE,
    TENSORBOARD_DIR,
    beat,
    stop_requested,
)


class StopRequested(Exception):
    """Raised inside fit() when the user asked the run to stop: the epoch in progress is left unfinished
    (no validation pass, no checkpoint of a partial epoch); fit_network catches it."""


class EventWriter:
    """TensorBoard event files of a run (``tensorboard/`` in its folder): per-batch scalars under "batch/",
    per-epoch ones (losses, F1, PR-AUC, the learning rate) under "epoch/"; a no-op when ``enabled`` is off (a
    multi-worker run's workers other than the chief).

    Written with TensorFlow's own summary op and the scalars plugin's tag, as tf.summary.scalar writes them,
    so no TensorBoard package is needed to write them (only to view them)."""

    def __init__(self, run_dir: Path, enabled: bool = True):
        self.writer = None
        if enabled:
            import tensorflow as tf
            from tensorflow.core.framework.summary_pb2 import SummaryMetadata

            self.writer = tf.summary.create_file_writer(str(Path(run_dir) / TENSORBOARD_DIR))
            self.metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))

    def write(self, prefix: str, step: int, scalars: dict) -> None:
        """Write finite scalars at ``step`` under ``prefix``/."""
        if self.writer is None:
            return
        import tensorflow as tf

        with self.writer.as_default(step=step):
            for key, value in scalars.items():
                if isinstance(value, float) and math.isfinite(value):
                    tf.summary.write(f"{prefix}/{key}", tf.constant(value, tf.float32), metadata=self.metadata)

    def flush(self) -> None:
        """Write out what is buffered (readers see events up to here)."""
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        """Write out what is buffered and close the file (fit has ended, or was stopped)."""
        if self.writer is not None:
            self.writer.close()


def make_run_recorder(run_dir: Path, history: dict, epochs: int, elapsed_before: float = 0.0,
                      events: bool = True):
    """Return a callback that logs every batch and epoch (metrics.jsonl, history.json and, with ``events``,
    TensorBoard event files), beats the heartbeat and honours stop requests.

    A resumed run passes the history so far (its epochs are kept and new ones appended) and the seconds
    its earlier processes trained (``elapsed_before``), so its progress and time left stay right. The
    heartbeat carries the pace of a step (each epoch's first step left out: it carries the graph tracing)
    and the last validation pass's seconds, from which describe_progress estimates the time left."""
    import keras

    class RunRecorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.epoch_started = self.last_beat = time.time()
            self.started = self.epoch_started - elapsed_before
            self.epoch = 0
            self.stopped_by_request = False
            self.writer = EventWriter(run_dir, events)
            # A resumed run's batches go on from its earlier epochs' steps.
            self.global_step = len(history["epochs"]) * int(self.params.get("steps") or 0)
            self.pace = {"seconds": 0.0, "steps": 0, "validation_seconds": None}

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.epoch_started = epoch, time.time()
            self.step_started = None

        def close_events(self) -> None:
            """Close the event file once fit() has returned or was stopped (on_train_end is skipped then)."""
            if hasattr(self, "writer"):
                self.writer.close()

        def on_train_batch_begin(self, batch, logs=None):
            if stop_requested(run_dir):
                self.stopped_by_request = True
                raise StopRequested()

        def on_train_batch_end(self, batch, logs=None):
            now = time.time()
            if self.step_started is not None:
                self.pace["seconds"] += now - self.step_started
                self.pace["steps"] += 1
            self.step_started = now
            self.global_step += 1
            steps = self.params.get("steps") or 0
            record = {"kind": "batch", "epoch": self.epoch + 1, "step": batch + 1, "steps": steps, "time": now}
            record.update({key: float(value) for key, value in (logs or {}).items()})
            append_json_line(run_dir / METRICS_FILE, record)
            self.writer.write("batch", self.global_step, {key: value for key, value in record.items()
                                                          if key not in ("kind", "epoch", "step", "steps", "time")})
            if now - self.last_beat >= HEARTBEAT_SECONDS:
                self.last_beat = now
                self.writer.flush()
                beat(run_dir, epoch=self.epoch + 1, epochs=epochs, step=batch + 1, steps=steps,
                     elapsed=round(now - self.started, 1), **self.describe_pace())

        def describe_pace(self) -> dict:
            pace = {}
            if self.pace["steps"]:
                pace["seconds_per_step"] = round(self.pace["seconds"] / self.pace["steps"], 4)
            if self.pace["validation_seconds"] is not None:
                pace["validation_seconds"] = self.pace["validation_seconds"]
            return pace

        def on_epoch_end(self, epoch, logs=None):
            now = time.time()
            record = {"epoch": epoch + 1, "seconds": round(now - self.epoch_started, 2)}
            record["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            record.update({key: float(value) for key, value in (logs or {}).items() if key != "learning_rate"})
            if "val_loss" not in record:
                return  # No validation figures: not an epoch the checkpoint could be chosen from.
            if self.step_started is not None:
                self.pace["validation_seconds"] = round(now - self.step_started, 2)
            history["epochs"].append(record)
            write_json_atomically(run_dir / HISTORY_FILE, history)
            append_json_line(run_dir / METRICS_FILE, {"kind": "epoch", "time": now, **record})
            self.writer.write("epoch", epoch + 1, {key: value for key, value in record.items() if key != "epoch"})
            self.writer.flush()
            beat(run_dir, epoch=epoch + 1, epochs=epochs, elapsed=round(now - self.started, 1),
                 **self.describe_pace())

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

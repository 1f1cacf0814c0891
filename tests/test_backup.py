"""A run's training backup: going back to its last backed-up epoch, and early stopping replayed."""

from __future__ import annotations

import json

from test_training import crashed_run

from genre_models import runs
from genre_models.backup import (
    BACKUP_BEST_DIR,
    BACKUP_DIR,
    best_link,
    prepare_resume,
    replay_early_stopping,
)
from genre_models.models import MODEL_REGISTRY
from genre_models.training import resolve_recipe, train_model


def test_an_epoch_recorded_after_the_last_backup_is_trained_again_not_repeated(real_data_dir, tmp_path,
                                                                                 monkeypatch):
    """Killed between an epoch's checkpoint and history line and its backup: that epoch is dropped from the
    history and metric lines, best.keras goes back to the backed-up best, and the epoch is trained again."""
    run_dir = tmp_path / "run"
    config = crashed_run(real_data_dir, run_dir, monkeypatch)
    history = json.loads((run_dir / "history.json").read_text())
    ghost = {**history["epochs"][-1], "epoch": 3, "val_loss": 0.001}
    (run_dir / "history.json").write_text(json.dumps({**history, "epochs": history["epochs"] + [ghost]}))
    with open(run_dir / runs.METRICS_FILE, "a") as handle:
        handle.write(json.dumps({"kind": "batch", "epoch": 3, "step": 1, "steps": 1, "loss": 0.1}) + "\n")
        handle.write(json.dumps({"kind": "epoch", **ghost}) + "\n")
    (run_dir / runs.CHECKPOINT_FILE).write_bytes(b"the lost epoch's checkpoint")

    point = prepare_resume(run_dir, config, resolve_recipe(MODEL_REGISTRY["tfidf_logreg"].defaults, config),
                           metrics=run_dir / runs.METRICS_FILE, checkpoint=run_dir / runs.CHECKPOINT_FILE)
    assert point.epoch == 2 and [epoch["epoch"] for epoch in point.epochs] == [1, 2]
    best = 1 + min(range(2), key=lambda index: point.epochs[index]["val_loss"])
    link = run_dir / BACKUP_DIR / "best" / f"epoch-{best:04d}.keras"
    assert link == best_link(run_dir / BACKUP_DIR / BACKUP_BEST_DIR, best)
    assert (run_dir / runs.CHECKPOINT_FILE).read_bytes() == link.read_bytes()
    train_model(config, resume=True)
    epochs = runs.read_history(run_dir)
    assert [epoch["epoch"] for epoch in epochs] == [1, 2, 3, 4]
    assert all(epoch["val_loss"] > 0.001 for epoch in epochs)
    assert [record["epoch"] for record in runs.read_metrics(run_dir)[1]] == [1, 2, 3, 4]


def test_early_stopping_goes_on_from_the_epochs_before_the_resume():
    """The replayed state is the one Keras' EarlyStopping reaches on the same val_loss."""
    import keras

    for losses in ([0.5, 0.4, 0.45, 0.46], [0.5, 0.4, 0.45, 0.46, 0.47], [0.3, 0.2, 0.1]):
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)
        stopper.set_model(model)
        model.stop_training = False
        stopper.on_train_begin()
        for epoch, value in enumerate(losses):
            stopper.on_epoch_end(epoch, {"val_loss": value})
        assert replay_early_stopping(losses, 3) == {"best": stopper.best, "best_epoch": stopper.best_epoch,
                                                    "wait": stopper.wait, "stopped": model.stop_training}

    assert replay_early_stopping([0.5, 0.4, 0.45, 0.46], 3) == {"best": 0.4, "best_epoch": 1, "wait": 2,
                                                                "stopped": False}
    assert replay_early_stopping([0.5, 0.4, 0.45, 0.46, 0.47], 3)["stopped"] is True
    assert replay_early_stopping([], 3) == {"best": None, "best_epoch": 0, "wait": 0, "stopped": False}


def test_removing_the_backup_also_removes_half_written_checkpoints(tmp_path):
    from genre_models import backup

    (tmp_path / backup.BACKUP_DIR).mkdir()
    (tmp_path / "best.keras").write_bytes(b"kept")
    leftover = tmp_path / ".best.keras.hbv34ql_.keras"  # what a segment killed while saving leaves
    leftover.write_bytes(b"half")
    backup.remove_backup(tmp_path)
    assert not backup.backup_dir(tmp_path).exists() and not leftover.exists()
    assert (tmp_path / "best.keras").read_bytes() == b"kept"

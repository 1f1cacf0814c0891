"""Training a registry network on the dataset and publishing it as an artifact.

``train_model`` runs in a run folder (status, heartbeat, metrics; genre_models.runs) and
dispatches: a fusion is fitted by genre_models.fusion, a network by ``run_training``, which is a
short list of named steps: load the data and prepare the inputs (genre_models.training_data; a
pretrained encoder runs once per film, cached), build the network inside the distribution strategy
(genre_models.strategy), fit a fine-tuning model's
head alone first, fit the network with the recipe's schedule and the best-val_loss checkpoint,
then tune thresholds on validation, evaluate the test split once and publish.

While a network trains its run folder holds a backup (genre_models.backup, kept by
keras.callbacks.BackupAndRestore after every epoch); ``train_model(..., resume=True)`` goes on from
it after a stop or a crash (backup.prepare_resume). The backup is removed once the run completes.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genre_models.artifacts import publish_artifact
from genre_models.backup import (
    BACKUP_BEST_DIR,
    BACKUP_KERAS_DIR,
    ResumePoint,
    backup_dir,
    check_backup,
    prepare_resume,
    remove_backup,
    start_backup,
    update_backup_state,
)
from genre_models.callbacks import (
    StopRequested,
    make_backup,
    make_best_checkpoint,
    make_early_stopping,
    make_head_heartbeat,
    make_run_recorder,
    make_schedule,
)
from genre_models.config import (
    EncoderRecipe,
    PosterRecipe,
    ProgressCallback,
    Recipe,
    SettingLimit,
    TextRecipe,
    TrainConfig,
    check_training_settings,
    resolve_artifacts_dir,
)
from genre_models.fileio import write_json_atomically
from genre_models.fusion import fit_fusion
from genre_models.inputs import take_rows
from genre_models.metadata import assemble_metadata, utc_now
from genre_models.models import build_model, get_model_spec
from genre_models.pipelines import make_pipelines
from genre_models.runs import (
    CHECKPOINT_FILE,
    CONFIG_FILE,
    ENDING_KEYS,
    FINAL_STATES,
    HEARTBEAT_SECONDS,
    METRICS_FILE,
    STOP_FILE,
    beat,
    create_run_dir,
    read_status,
    stop_requested,
    write_status,
)
from genre_models.scoring import score_inputs
from genre_models.split_scores import STORED_SPLITS, scored_splits
from genre_models.strategy import check_global_batch, set_up_distribution
from genre_models.supervisor import hold_worker_lock
from genre_models.training_data import (
    load_training_data,
    make_training_targets,
    prepare_training_inputs,
)


@dataclass
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


def resolve_recipe(defaults: Recipe, config: TrainConfig) -> Recipe:
    """Return the model's recipe with the run's explicit overrides applied; refuse a value outside
    config.TRAINING_LIMITS (the limits the Train page's widgets offer) and an impossible recipe value."""
    fields = {field.name for field in dataclasses.fields(defaults)}
    overrides = {key: getattr(config, key) for key in
                 ("epochs", "batch_size", "learning_rate", "patience", "vocabulary_size", "sequence_length")
                 if key in fields and getattr(config, key) is not None}
    check_training_settings({**overrides, "image_size": config.image_size, "seed": config.seed,
                             "train_fraction": config.train_fraction})
    if config.image_size is not None and isinstance(defaults, PosterRecipe):
        overrides["image_size"] = tuple(int(side) for side in config.image_size)
    recipe = dataclasses.replace(defaults, **overrides)
    if isinstance(recipe, PosterRecipe):
        SettingLimit("teacher's share of the training targets", 0.0, 1.0).check(recipe.teacher_weight)
    if isinstance(recipe, TextRecipe):
        SettingLimit("minimum document frequency", 1, integer=True).check(recipe.min_document_frequency)
    return recipe


def with_heartbeat(run_dir: Path, progress: ProgressCallback | None) -> ProgressCallback:
    """Return a progress callback that also refreshes the run's heartbeat (at most every
    HEARTBEAT_SECONDS), so every long step (poster cache, encoding, scoring) shows the worker alive."""
    last = [0.0]

    def report(done: int, total: int, what: str) -> None:
        if progress:
            progress(done, total, what)
        if time.time() - last[0] >= HEARTBEAT_SECONDS or done >= total:
            last[0] = time.time()
            beat(run_dir, activity=f"{what} ({done}/{total})")

    return report


def train_model(config: TrainConfig, progress: ProgressCallback | None = None, resume: bool = False) -> TrainResult:
    """Train one registry model end to end and publish its artifact; return where it went.

    ``resume``: go on in ``config.run_dir`` from its backup (a stopped or crashed run, see
    backup.prepare_resume); refused with ValueError naming the run when there is none, when it is damaged or
    when ``config`` is not the one it was made with."""
    spec = get_model_spec(config.model_name)
    recipe = resolve_recipe(spec.defaults, config)  # Impossible settings are refused before anything is written.
    if spec.is_fusion and config.distribute == "multi-worker":
        raise ValueError(f"{spec.name} combines other models' probabilities and has no network to train across "
                         "workers; fit it in one process (without --distribute multi-worker).")
    if resume:
        if not config.run_dir or not (Path(config.run_dir) / CONFIG_FILE).is_file():
            raise ValueError(f"Resuming needs the folder of an earlier run; {config.run_dir or 'none'} is not one.")
        if spec.is_fusion:
            raise ValueError(f"{spec.name} is a fusion (no network, fitted in seconds); start it again instead "
                             "of resuming it.")
    run_dir = open_run_dir(config, spec.name)
    # The run folder is part of the settings a backup is checked against when the run is resumed.
    config = dataclasses.replace(config, run_dir=str(config.run_dir or run_dir))
    if not (run_dir / CONFIG_FILE).exists():  # Started from the command line: record what it trains.
        write_json_atomically(run_dir / CONFIG_FILE, {"config": config.to_dict(), "model": spec.name,
                                                      "command": config.command, "created": time.time()})
    with hold_worker_lock(run_dir):
        if resume:
            before = read_status(run_dir).get("state")
            try:
                backup = check_backup(run_dir, config.to_dict())
            except ValueError as error:
                # Refused: a stopped or failed run stays as it was; one queued by supervisor.resume_run says why.
                if before == "queued":
                    record_failure(run_dir, error)
                raise
            if before in FINAL_STATES:  # Resumed from the command line: the Stop that ended it is done with.
                (run_dir / STOP_FILE).unlink(missing_ok=True)
        # The epoch it goes on after is recorded by the worker itself, so a resume from the command line counts
        # its earlier epochs' time too (runs.measure_run_seconds); a fresh start forgets an old one.
        resumed = {"resumed_after_epoch": backup["epoch"]} if resume else {}
        write_status(run_dir, "running", started_at=utc_now(), **resumed,
                     forget=ENDING_KEYS + (() if resume else ("resumed_after_epoch",)))
        try:
            beat(run_dir, activity="resuming" if resume else "starting")
            reporter = with_heartbeat(run_dir, progress)
            if spec.is_fusion:
                result = fit_fusion(spec, recipe, config, run_dir, reporter)
            else:
                result = run_training(spec, recipe, config, run_dir, reporter, resume=resume)
        except BaseException as error:
            record_failure(run_dir, error)
            raise
        state = "stopped" if result.stopped else "completed"
        write_status(run_dir, state, artifact=str(result.artifact_dir) if result.artifact_dir else None,
                     finished_at=utc_now())
    return result


def open_run_dir(config: TrainConfig, model_name: str) -> Path:
    """Return the run folder (given, or a new one under runs/), refusing with ValueError one that
    cannot be written, and check that the artifact's destination can be written too."""
    destination = Path(config.out_dir) if config.out_dir else resolve_artifacts_dir() / model_name
    try:
        run_dir = Path(config.run_dir) if config.run_dir else create_run_dir(model_name)
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomically(run_dir / ".write-check", {})
        (run_dir / ".write-check").unlink()
    except OSError as error:
        where = config.run_dir or "the runs folder"
        raise ValueError(f"Cannot write the run folder {where}: {error.strerror or error}.") from error
    parent = destination.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise ValueError(f"Cannot write the artifact to {destination}: {parent} is not writable.")
    return run_dir


def record_failure(run_dir: Path, error: BaseException) -> None:
    """Mark the run failed with a readable reason (the traceback goes to the log)."""
    message = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
    try:
        write_status(run_dir, "failed", error=message or type(error).__name__, finished_at=utc_now())
    except OSError:
        # The disk may be the problem; the dashboard then reports the process as gone.
        sys.stderr.write(f"could not record the failure in {run_dir}: {message}\n")


def fit_head_alone(model, head_features: np.ndarray, labels: np.ndarray, splits: dict, recipe: EncoderRecipe,
                   run_dir: Path) -> dict:
    """Fit a fine-tuning model's nested "head" alone on the frozen encoder's pooled features;
    return what happened (epochs, best epoch and loss) for the metadata.

    Fine-tuning rates are far too small for a randomly initialised head (it needed 6+ epochs of
    full forward/backward passes to catch up); on fixed features it converges in seconds.
    """
    import keras

    from genre_models.multilabel import make_loss

    head = model.get_layer("head")
    # A wrapper sharing the head's layers is compiled and fitted, so the head itself (saved inside the
    # model) carries no optimizer or compile state of its own.
    wrapper = keras.Model(head.inputs, head.outputs, name="head_alone")
    wrapper.compile(optimizer=keras.optimizers.Adam(recipe.head_learning_rate), loss=make_loss(recipe.loss))
    stopper = keras.callbacks.EarlyStopping(patience=recipe.head_patience, restore_best_weights=True)
    history = wrapper.fit(
        head_features[splits["train"]], labels[splits["train"]].astype(np.float32),
        validation_data=(head_features[splits["validation"]], labels[splits["validation"]].astype(np.float32)),
        epochs=recipe.head_epochs, batch_size=64, verbose=0, callbacks=[stopper, make_head_heartbeat(run_dir)],
    )
    losses = history.history["val_loss"]
    return {"epochs_run": len(losses), "best_epoch": int(np.argmin(losses)) + 1, "best_val_loss": float(min(losses))}


def fit_network(model, pipelines: tuple, recipe: Recipe, config: TrainConfig, run_dir: Path,
                resume: ResumePoint | None = None, backup: bool = True,
                events: bool = True) -> tuple[dict, object]:
    """Fit with the recipe's schedule, early stopping, the atomic best-val_loss checkpoint and the
    run's backup; return the per-epoch history and the recorder (which knows whether a stop was
    requested). A resumed run goes on after ``resume.epoch`` (restored by the backup callback). A stop
    request leaves the epoch in progress unfinished (StopRequested), so the run ends after its current
    step, not after the rest of the epoch and its validation. ``events``: write TensorBoard event files
    (every process but a multi-worker run's non-chief workers)."""
    import keras

    kept = list(resume.epochs) if resume else []
    history = {"model": config.model_name, "run_dir": str(run_dir), "epochs": kept}
    recorder = make_run_recorder(run_dir, history, recipe.epochs,
                                 elapsed_before=resume.seconds_before if resume else 0.0, events=events)
    best = resume.best_val_loss if resume else float("inf")
    links = backup_dir(run_dir) / BACKUP_BEST_DIR if backup else None
    # The checkpoint goes first: an epoch is announced only once its checkpoint is safely on disk; the
    # backup comes after the recorder and early stopping, so a backed-up epoch is always in the history.
    callbacks = [
        make_best_checkpoint(run_dir / CHECKPOINT_FILE, best=best, links_dir=links),
        recorder,
        keras.callbacks.LearningRateScheduler(make_schedule(recipe.hold_epochs, recipe.decay, recipe.schedule,
                                                            recipe.learning_rate, recipe.epochs)),
    ]
    if recipe.patience > 0:
        callbacks.append(make_early_stopping(recipe.patience, resume.early_stopping if resume else None))
    if backup:
        callbacks.append(make_backup(run_dir, backup_dir(run_dir) / BACKUP_KERAS_DIR))
    train_data, validation_data = pipelines
    if resume and resume.fit_finished:
        # Training had ended before the run broke off (while publishing): nothing is trained again.
        recorder.stopped_by_request = False
        return history, recorder
    try:
        model.fit(train_data, validation_data=validation_data, epochs=recipe.epochs,
                  callbacks=callbacks, verbose=config.verbose, shuffle=False)
    except StopRequested:
        pass  # recorder.stopped_by_request says so; the finished epochs and their checkpoint are kept.
    finally:
        recorder.close_events()
    if backup and not recorder.stopped_by_request:
        update_backup_state(run_dir, fit_finished=True)
    return history, recorder


def run_training(spec, recipe: Recipe, config: TrainConfig, run_dir: Path, progress: ProgressCallback,
                 resume: bool = False) -> TrainResult:
    """Train a network in named steps (see the module docstring) and publish it (``resume``: go on from
    the run's backup)."""
    import keras

    started = time.time()
    # First: a multi-worker strategy must exist before TensorFlow runs anything in this process.
    distribution = set_up_distribution(config, recipe, run_dir)
    # Workers of a cluster have no backup (resuming one alone would leave its peers behind).
    backup = distribution.cluster is None
    point = prepare_resume(run_dir, config, recipe, metrics=run_dir / METRICS_FILE,
                           checkpoint=run_dir / CHECKPOINT_FILE) if resume else None
    if backup and point is None:
        start_backup(run_dir, config)
    dataset, splits = load_training_data(spec, recipe, config, progress)
    check_global_batch(distribution, splits, recipe.batch_size)
    inputs, head_features = prepare_training_inputs(spec, recipe, dataset, progress)
    if stop_requested(run_dir):
        # Asked to stop while its data loaded: nothing was trained in this process.
        if point is None:
            remove_backup(run_dir)
        return TrainResult(artifact_dir=None, run_dir=run_dir, metadata={}, stopped=True)
    targets = make_training_targets(recipe, config, dataset, splits, progress)
    keras.utils.set_random_seed(config.seed)
    with distribution.guard():
        with distribution.scope():
            model = build_model(spec, dataset.num_genres, recipe, recipe.learning_rate,
                                training_texts=dataset.overviews[splits["train"]])
        head_facts = (point.state.get("head_fitted_alone") or {}) if point else {}
        if head_features is not None and point is None:
            progress(0, 1, "fitting the head on the frozen encoder's features")
            with distribution.scope():
                head_facts = fit_head_alone(model, head_features, dataset.labels, splits, recipe, run_dir)
            if backup:
                update_backup_state(run_dir, head_fitted_alone=head_facts)
        # (A resumed run's head comes back with the rest of the weights from the backup.)
        pipelines = make_pipelines(spec, inputs, dataset, splits, distribution, config.seed, targets=targets)
        distribution.build_before_fit(model, pipelines[1])
        history, recorder = fit_network(model, pipelines, recipe, config, run_dir, resume=point, backup=backup,
                                        events=distribution.is_chief)
    if not history["epochs"]:
        # Stopped before the first epoch ended: there is no validated model to publish, nor epoch to resume.
        remove_backup(run_dir)
        return TrainResult(artifact_dir=None, run_dir=run_dir, metadata={}, stopped=recorder.stopped_by_request)
    model = keras.models.load_model(run_dir / CHECKPOINT_FILE)
    validation_losses = [epoch["val_loss"] for epoch in history["epochs"]]
    training_facts = {
        "epochs_run": len(history["epochs"]), "best_epoch": int(np.argmin(validation_losses)) + 1,
        "best_val_loss": float(np.min(validation_losses)),
        "seconds": round(time.time() - started + (point.seconds_before if point else 0.0), 1),
        "run_dir": run_dir.name, "stopped_by_request": recorder.stopped_by_request,
        **({"resumed": point.state.get("resumes", [])} if point else {}),
        "distribution": distribution.describe(config.distribute),
        **({"head_fitted_alone": head_facts} if head_facts else {}),
    }
    # Every split is scored and stored with the artifact (split_scores.py), so no page re-runs it.
    scores = {split: score_inputs(model, take_rows(inputs, splits[split]), progress=progress)
              for split in STORED_SPLITS}
    metadata = assemble_metadata(
        spec, recipe, config, dataset, splits,
        validation_scores=scores["validation"], test_scores=scores["test"], training_facts=training_facts,
    )
    if isinstance(recipe, EncoderRecipe):
        from genre_models.encoders import describe_encoder

        metadata["encoder"] = describe_encoder(recipe.encoder, recipe.tuned_layers,
                                               getattr(recipe, "image_size", None))
    destination = Path(config.out_dir) if config.out_dir else resolve_artifacts_dir() / spec.name
    if not distribution.is_chief:
        # Only the chief publishes; another worker writes the same artifact to a temporary folder
        # (every worker runs the same steps) and removes it.
        with tempfile.TemporaryDirectory(prefix=f"genre-{spec.name}-worker{distribution.cluster.position}-") as scratch:
            publish_artifact(Path(scratch) / spec.name, model, metadata, history,
                             split_scores=scored_splits(dataset, splits, scores))
        chief = distribution.cluster.leader
        sys.stderr.write(f"{distribution.cluster.whoami()} finished; only the chief ({chief.job} {chief.index} at "
                         f"{chief.address}) publishes the artifact, so nothing was written to {destination} here\n")
        return TrainResult(artifact_dir=None, run_dir=run_dir, metadata=metadata, stopped=recorder.stopped_by_request)
    publish_artifact(destination, model, metadata, history, split_scores=scored_splits(dataset, splits, scores))
    if not recorder.stopped_by_request:
        remove_backup(run_dir)  # Completed: the optimizer state is not kept. A stopped run keeps it to resume.
    return TrainResult(artifact_dir=destination, run_dir=run_dir, metadata=metadata,
                       stopped=recorder.stopped_by_request)

"""Training a registry network on the dataset and publishing it as an artifact.

``train_model`` runs in a run folder (status, heartbeat, metrics; genre_models.runs) and
dispatches: a fusion is fitted by genre_models.fusion, a network by ``run_training``, which is a
short list of named steps: load the data, prepare the inputs (a pretrained encoder runs once per
film, cached), build the network inside the distribution strategy, fit a fine-tuning model's
head alone first, fit the network with the recipe's schedule and the best-val_loss checkpoint,
then tune thresholds on validation, evaluate the test split once and publish.

While a network trains its run folder holds a backup (genre_models.backup, kept by
keras.callbacks.BackupAndRestore after every epoch); ``train_model(..., resume=True)`` goes on from
it after a stop or a crash (backup.prepare_resume). The backup is removed once the run completes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
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
    make_backup,
    make_best_checkpoint,
    make_early_stopping,
    make_head_heartbeat,
    make_run_recorder,
    make_schedule,
)
from genre_models.config import (
    DISTRIBUTE_CHOICES,
    EncoderRecipe,
    PosterRecipe,
    ProgressCallback,
    Recipe,
    TextRecipe,
    TrainConfig,
    resolve_artifacts_dir,
)
from genre_models.dataset import MovieDataset, load_dataset, select_films
from genre_models.fileio import write_json_atomically
from genre_models.fusion import fit_fusion, locate_models_in_use
from genre_models.inputs import (
    OVERVIEW,
    model_inputs_for,
    take_rows,
)
from genre_models.metadata import assemble_metadata, utc_now
from genre_models.models import build_model, get_model_spec
from genre_models.pipelines import make_pipelines
from genre_models.runs import (
    CHECKPOINT_FILE,
    CONFIG_FILE,
    ENDING_KEYS,
    HEARTBEAT_SECONDS,
    FINAL_STATES,
    METRICS_FILE,
    STOP_FILE,
    TrainResult,
    beat,
    create_run_dir,
    hold_worker_lock,
    read_status,
    write_status,
)
from genre_models.scoring import score_inputs
from genre_models.split_scores import STORED_SPLITS, scored_splits


def check_number(name: str, value: float, low: float, high: float = math.inf, integer: bool = False) -> None:
    """Raise ValueError unless ``value`` is a finite number in [low, high] (and whole, if asked)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high or (integer and value != int(value)):
        bounds = f"at least {low:g}" if high == math.inf else f"between {low:g} and {high:g}"
        raise ValueError(f"The {name} must be a {'whole ' if integer else ''}number {bounds}; got {value!r}.")


def resolve_recipe(defaults: Recipe, config: TrainConfig) -> Recipe:
    """Return the model's recipe with the run's explicit overrides applied; refuse impossible values."""
    fields = {field.name for field in dataclasses.fields(defaults)}
    overrides = {key: getattr(config, key) for key in
                 ("epochs", "batch_size", "learning_rate", "patience", "vocabulary_size", "sequence_length")
                 if key in fields and getattr(config, key) is not None}
    if config.image_size is not None and isinstance(defaults, PosterRecipe):
        overrides["image_size"] = tuple(int(side) for side in config.image_size)
    recipe = dataclasses.replace(defaults, **overrides)
    check_number("number of epochs", recipe.epochs, 1, integer=True)
    check_number("batch size", recipe.batch_size, 1, integer=True)
    check_number("early-stopping patience", recipe.patience, 0, integer=True)
    if not (isinstance(recipe.learning_rate, (int, float)) and math.isfinite(recipe.learning_rate)
            and 0 < recipe.learning_rate <= 10):
        raise ValueError(f"The learning rate must be a finite number above 0 (e.g. 0.001); got {recipe.learning_rate!r}.")
    if isinstance(recipe, PosterRecipe):
        for side in recipe.image_size:
            check_number("image size", side, 8, 1024, integer=True)
        check_number("teacher's share of the training targets", recipe.teacher_weight, 0.0, 1.0)
    if isinstance(recipe, TextRecipe):
        check_number("vocabulary size", recipe.vocabulary_size, 10, integer=True)
        check_number("sequence length", recipe.sequence_length, 1, integer=True)
        check_number("minimum document frequency", recipe.min_document_frequency, 1, integer=True)
    check_number("share of training data", config.train_fraction, 0.0001, 1.0)
    return recipe


def make_strategy(name: str, cluster=None):
    """Return the tf.distribute strategy for a name (None for "none"), or raise ValueError.

    "multi-worker" joins the cluster TF_CONFIG describes (or ``cluster``, a
    genre_models.distribute.Cluster), waiting a bounded time for every peer; it must run before
    TensorFlow runs anything in the process (see genre_models.distribute)."""
    import tensorflow as tf

    if name == "none":
        return None
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        # Without GPUs, mirror over the logical CPU devices (tests split the CPU into two).
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multi-worker":
        from genre_models.distribute import join_cluster, read_cluster

        return join_cluster(cluster or read_cluster())
    raise ValueError(f"Unknown distribution strategy {name!r}; choose one of {', '.join(DISTRIBUTE_CHOICES)}.")


@dataclass
class Distribution:
    """The distribution strategy of a run and what it implies for batching."""

    # The tf.distribute strategy, or None (one device).
    strategy: object
    # Replicas training in sync (over every worker).
    replicas: int
    # Films per optimisation step across all replicas (the recipe's batch size is per replica).
    global_batch: int
    # Under multi-worker: the cluster and this worker's place in it (genre_models.distribute.Cluster).
    cluster: object = None

    @property
    def is_chief(self) -> bool:
        """Whether this process publishes the artifact (always, unless it is a non-chief worker)."""
        return self.cluster is None or self.cluster.is_chief

    def scope(self):
        """Return the context in which variables must be created."""
        return self.strategy.scope() if self.strategy else contextlib.nullcontext()

    def guard(self):
        """Return the context turning a lost peer's TensorFlow error into a one-line ValueError."""
        from genre_models.distribute import peer_failures_as_errors

        return peer_failures_as_errors(self.cluster)

    def describe(self, name: str) -> dict:
        """Return what the metadata records about it."""
        described = {"strategy": name, "replicas": self.replicas, "global_batch_size": self.global_batch}
        if self.cluster is not None:
            described.update(per_replica_batch_size=self.global_batch // self.replicas, **self.cluster.describe())
        return described

    def build_before_fit(self, model, validation_data) -> None:
        """Build the model's optimizer, loss and metric state on one local batch.

        Keras 3 (3.15) builds them under a strategy from the first batch averaged across the
        replicas (strategy.reduce("MEAN")), which fails on text inputs under
        MultiWorkerMirroredStrategy; everything is built here instead and fit/evaluate's own
        build step, which would find nothing left to build, is skipped. The batch comes from the
        validation pipeline: drawing from the training one would advance its reshuffling, and
        the epochs would no longer see the films in the order a one-process run sees them."""
        if self.strategy is None:
            return
        batch = next(iter(validation_data.take(1)))
        with self.scope():
            model._symbolic_build(data_batch=batch)
        model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None


def set_up_distribution(config: TrainConfig, recipe: Recipe, run_dir: Path | None = None) -> Distribution:
    """Return the run's strategy and global batch. Called before anything else touches
    TensorFlow (multi-worker requires it); a worker records its place in the cluster in the
    run's status (worker_index, workers, chief) before waiting for its peers."""
    cluster = None
    if config.distribute == "multi-worker":
        from genre_models.distribute import Timeouts, describe_tasks, read_cluster

        cluster, timeouts = read_cluster(), Timeouts.from_env()
        if run_dir is not None:
            write_status(run_dir, "running", **cluster.describe())
            beat(run_dir, activity=f"{cluster.whoami()}: waiting up to {timeouts.peer_wait:g} s for "
                                   f"{describe_tasks(cluster.peers())}")
    strategy = make_strategy(config.distribute, cluster)
    replicas = strategy.num_replicas_in_sync if strategy else 1
    return Distribution(strategy, replicas, recipe.batch_size * replicas, cluster)


def check_global_batch(distribution: Distribution, splits: dict[str, np.ndarray], batch_size: int) -> None:
    """Refuse splits smaller than one global batch (replicas need equal shares of every batch, so
    a distributed run drops the last partial one)."""
    for name in ("train", "validation"):
        if distribution.replicas > 1 and len(splits[name]) < distribution.global_batch:
            raise ValueError(f"The {name} split has {len(splits[name])} films, fewer than one global batch "
                             f"({distribution.global_batch} = {batch_size} x {distribution.replicas} replicas).")


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
                # Refused: a stopped or failed run stays as it was; one queued by runs.resume_run says why.
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


def load_training_data(spec, recipe: Recipe, config: TrainConfig,
                       progress: ProgressCallback) -> tuple[MovieDataset, dict[str, np.ndarray]]:
    """Load the dataset (posters at the recipe's size for a poster model) and its split indices,
    the training split cut to the configured share."""
    image_size = recipe.image_size if isinstance(recipe, PosterRecipe) else None
    dataset = load_dataset(config.data_dir, image_size=image_size, max_films=config.max_films, seed=config.seed,
                           progress=progress)
    splits = {name: dataset.split_indices(name) for name in ("train", "validation", "test")}
    if config.train_fraction < 1.0:
        count = max(1, round(config.train_fraction * len(splits["train"])))
        splits["train"] = splits["train"][select_films(dataset.ids[splits["train"]], count, config.seed)]
    empty = [name for name, indices in splits.items() if len(indices) == 0]
    if empty:
        raise ValueError(f"The {', '.join(empty)} split(s) are empty; use more films (--max-films).")
    return dataset, splits


def make_training_targets(recipe: Recipe, config: TrainConfig, dataset: MovieDataset, splits: dict,
                          progress: ProgressCallback) -> np.ndarray | None:
    """Return the training targets of a distilled poster network, or None to train on the labels.

    The teacher (an overview model in use) scores the training films' overviews; their targets
    become (1 - w) * labels + w * teacher probabilities. Validation and test rows keep the true
    labels, so the checkpoint, the thresholds and the reported figures are judged on them alone.
    """
    if not isinstance(recipe, PosterRecipe) or not recipe.teacher or recipe.teacher_weight == 0:
        return None
    from genre_models.artifacts import load_artifact
    from genre_models.scoring import score_dataset

    folders = locate_models_in_use(config)
    if recipe.teacher not in folders:
        raise ValueError(f"The teacher model {recipe.teacher} is not installed; train it first.")
    teacher = load_artifact(folders[recipe.teacher], listed_as=recipe.teacher)
    if teacher.input_kind != OVERVIEW or teacher.is_fusion:
        raise ValueError(f"The teacher {recipe.teacher} must be an overview network.")
    missing = sorted(set(dataset.genres) - set(teacher.genres))
    if missing:
        raise ValueError(f"The teacher {recipe.teacher} does not predict {', '.join(missing)}.")
    progress(0, 1, f"scoring the training overviews with the teacher {recipe.teacher}")
    train_rows = splits["train"]
    teacher_scores = score_dataset(teacher, dataset.subset(train_rows))
    # The teacher's genre order may differ from the dataset's columns: align by name.
    teacher_scores = teacher_scores[:, [teacher.genres.index(genre) for genre in dataset.genres]]
    targets = dataset.labels.astype(np.float32)
    weight = float(recipe.teacher_weight)
    targets[train_rows] = (1 - weight) * targets[train_rows] + weight * teacher_scores
    progress(1, 1, f"scoring the training overviews with the teacher {recipe.teacher}")
    return targets


def prepare_training_inputs(spec, recipe: Recipe, dataset: MovieDataset, progress: ProgressCallback):
    """Return (the network's inputs for every film, features to fit a fine-tuning head on or None).

    A pretrained encoder (or its frozen bottom) runs once per film, cached on disk; the network
    then trains on its output."""
    inputs = model_inputs_for(spec.input_kind, dataset)
    if not isinstance(recipe, EncoderRecipe):
        return inputs, None
    from genre_models.encoders import ENCODERS, POSTER_ENCODER, check_encoder_packages, encode_for_training

    if ENCODERS[recipe.encoder]["reads"] == POSTER_ENCODER:
        from genre_models.image_encoder import embed_posters

        check_encoder_packages(recipe.encoder)
        return embed_posters(ENCODERS[recipe.encoder]["variant"], inputs, recipe.image_size, dataset.fingerprint,
                             dataset.ids, progress=progress), None

    return encode_for_training(recipe.encoder, recipe.tuned_layers, inputs, dataset.fingerprint, progress=progress)


def fit_head_alone(model, head_features: np.ndarray, labels: np.ndarray, splits: dict, recipe: EncoderRecipe,
                   run_dir: Path) -> dict:
    """Fit a fine-tuning model's nested "head" alone on the frozen encoder's pooled features;
    return what happened (epochs, best epoch and loss) for the metadata.

    Fine-tuning rates are far too small for a randomly initialised head (it needed 6+ epochs of
    full forward/backward passes to catch up); on fixed features it converges in seconds.
    """
    import keras

    from genre_models.models import make_loss

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
                resume: ResumePoint | None = None, backup: bool = True) -> tuple[dict, object]:
    """Fit with the recipe's schedule, early stopping, the atomic best-val_loss checkpoint and the
    run's backup; return the per-epoch history and the recorder (which knows whether a stop was
    requested). A resumed run goes on after ``resume.epoch`` (restored by the backup callback)."""
    import keras

    kept = list(resume.epochs) if resume else []
    history = {"model": config.model_name, "run_dir": str(run_dir), "epochs": kept}
    recorder = make_run_recorder(run_dir, history, recipe.epochs,
                                 elapsed_before=resume.seconds_before if resume else 0.0)
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
    model.fit(train_data, validation_data=validation_data, epochs=recipe.epochs,
              callbacks=callbacks, verbose=config.verbose, shuffle=False)
    if recorder.stopped_by_request and len(history["epochs"]) >= recipe.epochs:
        # The stop came during the last epoch, which Keras still ends with its validation and records: nothing
        # is left to train, so the run completed (its backup goes; no Resume is offered for nothing).
        recorder.stopped_by_request = False
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
        history, recorder = fit_network(model, pipelines, recipe, config, run_dir, resume=point, backup=backup)
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

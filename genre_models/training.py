"""Training a registry model on the dataset and publishing it as an artifact.

The recipe is the course's: batch 64, best-val_loss checkpoint, learning rate
held then decayed by exp(-decay) per epoch, optional early stopping. After
training, per-genre thresholds are tuned on the validation split and the test
split is evaluated once; everything is recorded in the artifact metadata.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genre_models.artifacts import publish_artifact
from genre_models.config import DISTRIBUTE_CHOICES, ModelDefaults, SplitConfig, TrainConfig, resolve_artifacts_dir
from genre_models.data import MovieDataset, ProgressCallback, load_dataset, replace_file_atomically, select_films
from genre_models.inference import model_inputs_for, prepare_network_inputs, score_inputs, take_rows
from genre_models.metrics import choose_threshold_policy, evaluate_scores, tune_thresholds
from genre_models.models import POSTER, build_model, get_model_spec
from genre_models.runs import (
    CHECKPOINT_FILE,
    CONFIG_FILE,
    HEARTBEAT_SECONDS,
    HISTORY_FILE,
    METRICS_FILE,
    append_json_line,
    beat,
    create_run_dir,
    stop_requested,
    utc_now,
    write_json_atomically,
)

# Metrics kept from the full evaluation report in the validation summary.
SUMMARY_KEYS = (
    "films", "micro_f1", "macro_f1", "samples_f1", "micro_average_precision",
    "macro_average_precision", "precision_at_3", "recall_at_3",
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


def resolve_recipe(defaults: ModelDefaults, config: TrainConfig) -> ModelDefaults:
    """Return the model's recipe with the run's explicit overrides applied."""
    overrides = {
        key: getattr(config, key)
        for key in ("epochs", "batch_size", "learning_rate", "patience", "vocabulary_size", "sequence_length")
        if getattr(config, key) is not None
    }
    if config.image_size is not None and defaults.image_size is not None:
        overrides["image_size"] = tuple(int(side) for side in config.image_size)
    recipe = dataclasses.replace(defaults, **overrides)
    if recipe.epochs < 1 or recipe.batch_size < 1 or recipe.learning_rate <= 0 or recipe.patience < 0:
        raise ValueError("epochs and batch size must be at least 1, the learning rate positive, patience >= 0.")
    if recipe.image_size is not None and not all(8 <= side <= 1024 for side in recipe.image_size):
        raise ValueError("The image size must be between 8 and 1024 pixels per side.")
    if recipe.vocabulary_size < 10 or recipe.sequence_length < 1:
        raise ValueError("The vocabulary needs at least 10 tokens and the sequence at least 1.")
    if not 0.0 < config.train_fraction <= 1.0:
        raise ValueError("The share of training data must be above 0 and at most 1.")
    return recipe


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


def make_strategy(name: str):
    """Return the tf.distribute strategy for a name (None for "none"), or raise ValueError."""
    import tensorflow as tf

    if name == "none":
        return None
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        # Without GPUs, mirror over the logical CPU devices (tests split the CPU into two).
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multi-worker":
        if not os.environ.get("TF_CONFIG"):
            raise ValueError("multi-worker training needs the TF_CONFIG environment variable (see the README).")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"Unknown distribution strategy {name!r}; choose one of {', '.join(DISTRIBUTE_CHOICES)}.")


# Training posters above this many megabytes are streamed from the memory-mapped cache instead of
# being copied into memory (the real training split is 52 MB at 64x64 and 322 MB at 224x112).
STREAM_ABOVE_MB_ENV = "GENRE_STREAM_ABOVE_MB"
DEFAULT_STREAM_ABOVE_MB = 400


def posters_should_stream(posters: np.ndarray, training_films: int) -> bool:
    """Return whether the training posters are too large to copy into memory."""
    limit = float(os.environ.get(STREAM_ABOVE_MB_ENV, DEFAULT_STREAM_ABOVE_MB))
    per_film = int(np.prod(posters.shape[1:])) * posters.dtype.itemsize
    return per_film * training_films > limit * 1024 * 1024


def make_tf_dataset(inputs: np.ndarray, labels: np.ndarray, batch_size: int, shuffle: bool, seed: int,
                    drop_remainder: bool = False, rows: np.ndarray | None = None):
    """Return a batched, prefetched tf.data pipeline.

    With ``rows``, ``inputs`` is the whole (memory-mapped) poster array and only the
    given rows are used: each batch is gathered from it when needed, so the training
    split is never copied into memory as a whole. Otherwise ``inputs`` are in memory.
    """
    import tensorflow as tf

    labels = labels.astype(np.float32)
    if rows is None:
        pipeline = tf.data.Dataset.from_tensor_slices((prepare_network_inputs(inputs), labels))
        if shuffle:
            pipeline = pipeline.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
        return pipeline.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)

    def gather(batch_rows):
        return np.asarray(inputs[np.asarray(batch_rows)])

    def read_batch(batch_rows, batch_labels):
        images = tf.numpy_function(gather, [batch_rows], tf.uint8)
        images.set_shape([None, *inputs.shape[1:]])
        return images, batch_labels

    pipeline = tf.data.Dataset.from_tensor_slices((np.asarray(rows, dtype=np.int64), labels))
    if shuffle:
        pipeline = pipeline.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)
    pipeline = pipeline.batch(batch_size, drop_remainder=drop_remainder)
    return pipeline.map(read_batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def warm_up_head(model, head_features: np.ndarray, labels: np.ndarray, splits: dict, recipe: ModelDefaults) -> dict:
    """Fit a fine-tuning model's nested "head" alone on the frozen encoder's pooled features.

    Fine-tuning rates are far too small for a randomly initialised head (it needed 6+ epochs of
    full forward/backward passes to catch up); on fixed features it converges in seconds.
    """
    import keras

    from genre_models.models import make_loss

    head = model.get_layer("head")
    # A wrapper sharing the head's layers is compiled and fitted, so the head itself (saved inside the
    # model) carries no optimizer or compile state of its own.
    warm_start = keras.Model(head.inputs, head.outputs, name="head_warm_start")
    warm_start.compile(optimizer=keras.optimizers.Adam(recipe.extra.get("head_learning_rate", 1e-3)),
                       loss=make_loss(recipe.loss))
    stopper = keras.callbacks.EarlyStopping(patience=recipe.extra.get("head_patience", 15), restore_best_weights=True)
    history = warm_start.fit(
        head_features[splits["train"]], labels[splits["train"]].astype(np.float32),
        validation_data=(head_features[splits["validation"]], labels[splits["validation"]].astype(np.float32)),
        epochs=recipe.extra.get("head_epochs", 300), batch_size=64, verbose=0, callbacks=[stopper],
    )
    losses = history.history["val_loss"]
    return {"epochs_run": len(losses), "best_epoch": int(np.argmin(losses)) + 1, "best_val_loss": float(min(losses))}


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


def collect_versions() -> dict:
    """Return the library versions an artifact depends on."""
    import keras
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def summarize(report: dict) -> dict:
    """Return the headline figures of an evaluation report."""
    return {key: report[key] for key in SUMMARY_KEYS}


def train_model(config: TrainConfig, progress: ProgressCallback | None = None) -> TrainResult:
    """Train one registry model end to end and publish its artifact; return where it went."""
    spec = get_model_spec(config.model_name)
    run_dir = Path(config.run_dir) if config.run_dir else create_run_dir(spec.name)
    run_dir.mkdir(parents=True, exist_ok=True)
    beat(run_dir, "running", model=spec.name, started_at=utc_now())
    try:
        recipe = resolve_recipe(spec.defaults, config)
        write_json_atomically(run_dir / CONFIG_FILE, {"config": config.to_dict(), "recipe": dataclasses.asdict(recipe)})
        runner = run_training if spec.builder is not None else run_late_fusion
        result = runner(spec, recipe, config, run_dir, progress)
    except BaseException as error:
        message = f"{type(error).__name__}: {error}" if not isinstance(error, ValueError) else str(error)
        try:
            beat(run_dir, "failed", error=message or type(error).__name__, finished_at=utc_now())
        except OSError:
            # The disk may be the problem; the dashboard then reports the process as gone.
            sys.stderr.write(f"could not record the failure in {run_dir}: {message}\n")
        raise
    state = "stopped" if result.stopped else "completed"
    beat(run_dir, state, artifact=str(result.artifact_dir) if result.artifact_dir else None, finished_at=utc_now())
    return result


def run_training(spec, recipe: ModelDefaults, config: TrainConfig, run_dir: Path,
                 progress: ProgressCallback | None) -> TrainResult:
    """The body of train_model, separated so failures can be recorded in the run status."""
    import keras

    started = time.time()
    dataset = load_dataset(
        config.data_dir,
        image_size=recipe.image_size if spec.input_kind == POSTER else None,
        max_films=config.max_films,
        seed=config.seed,
        progress=progress,
    )
    splits = {name: dataset.split_indices(name) for name in ("train", "validation", "test")}
    if config.train_fraction < 1.0:
        keep = select_films(dataset.ids[splits["train"]], max(1, round(config.train_fraction * len(splits["train"]))),
                            config.seed)
        splits["train"] = splits["train"][keep]
    empty = [name for name, indices in splits.items() if len(indices) == 0]
    if empty:
        raise ValueError(f"The {', '.join(empty)} split(s) are empty; use more films (--max-films).")
    inputs = model_inputs_for(spec.input_kind, dataset)
    tuned_layers = int(recipe.extra.get("tuned_layers") or 0) if spec.encoder else 0
    head_features = None
    if spec.encoder:
        from genre_models.encoders import encode_for_training

        # The frozen encoder (or its frozen bottom) runs once per film, cached; the network trains on its output.
        inputs, head_features = encode_for_training(spec.encoder, tuned_layers, inputs, dataset.fingerprint,
                                                    progress=progress)
    keras.utils.set_random_seed(config.seed)
    strategy = make_strategy(config.distribute)
    replicas = strategy.num_replicas_in_sync if strategy else 1
    # Variables (the model's, and the warm-start optimizer's) are created inside the strategy's scope.
    strategy_scope = strategy.scope if strategy else contextlib.nullcontext
    # The recipe's batch size is per replica; each step consumes one global batch across replicas.
    global_batch = recipe.batch_size * replicas
    with strategy_scope():
        model = build_model(spec, dataset.num_genres, recipe, recipe.learning_rate,
                            training_texts=dataset.overviews[splits["train"]])

    # Replicas need equal shares of every batch, so a distributed run drops the last partial batch
    # (validation figures for thresholds and metadata are computed afterwards on every film).
    uneven = replicas > 1
    for name in ("train", "validation"):
        if uneven and len(splits[name]) < global_batch:
            raise ValueError(f"The {name} split has {len(splits[name])} films, fewer than one global batch "
                             f"({global_batch} = {recipe.batch_size} x {replicas} replicas).")
    stream = spec.input_kind == POSTER and posters_should_stream(inputs, len(splits["train"]))

    def pipeline(split: str, shuffle: bool):
        # Large poster sets are read batch by batch from the memory-mapped cache; small ones (the real
        # dataset) are copied into memory, which keeps epochs as fast as a bare fit on arrays.
        if stream:
            return make_tf_dataset(inputs, dataset.labels[splits[split]], global_batch, shuffle, config.seed,
                                   drop_remainder=uneven, rows=splits[split])
        return make_tf_dataset(take_rows(inputs, splits[split]), dataset.labels[splits[split]], global_batch,
                               shuffle, config.seed, drop_remainder=uneven)

    warm_start = {}
    if head_features is not None:
        if progress:
            progress(0, 1, "fitting the head on the frozen encoder's features")
        with strategy_scope():
            warm_start = warm_up_head(model, head_features, dataset.labels, splits, recipe)
    train_data = pipeline("train", shuffle=True)
    validation_data = pipeline("validation", shuffle=False)
    history = {"model": spec.name, "run_dir": str(run_dir), "epochs": []}
    checkpoint_path = run_dir / CHECKPOINT_FILE
    recorder = make_run_recorder(run_dir, history, recipe.epochs)
    # The checkpoint goes first: an epoch is announced only once its checkpoint is safely on disk.
    callbacks = [
        make_best_checkpoint(checkpoint_path),
        recorder,
        keras.callbacks.LearningRateScheduler(make_schedule(recipe.hold_epochs, recipe.decay, recipe.schedule,
                                                            recipe.learning_rate, recipe.epochs)),
    ]
    if recipe.patience > 0:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=recipe.patience))
    model.fit(train_data, validation_data=validation_data, epochs=recipe.epochs,
              callbacks=callbacks, verbose=config.verbose, shuffle=False)
    if not history["epochs"]:
        # Stopped before the first epoch ended: there is no validated model to publish.
        return TrainResult(artifact_dir=None, run_dir=run_dir, metadata={}, stopped=recorder.stopped_by_request)
    model = keras.models.load_model(checkpoint_path)

    validation_losses = [epoch["val_loss"] for epoch in history["epochs"]]
    training_facts = {
        "epochs_run": len(history["epochs"]),
        "best_epoch": int(np.argmin(validation_losses)) + 1,
        "best_val_loss": float(np.min(validation_losses)),
        "seconds": round(time.time() - started, 1),
        "run_dir": run_dir.name,
        **({"head_warm_start": warm_start} if warm_start else {}),
    }
    metadata = assemble_metadata(
        spec, recipe, config, dataset, splits,
        validation_scores=score_inputs(model, take_rows(inputs, splits["validation"])),
        test_scores=score_inputs(model, take_rows(inputs, splits["test"])),
        training_facts=training_facts,
    )
    destination = Path(config.out_dir) if config.out_dir else resolve_artifacts_dir() / spec.name
    metadata["training"]["stopped_by_request"] = recorder.stopped_by_request
    metadata["training"]["distribution"] = {"strategy": config.distribute, "replicas": replicas,
                                            "global_batch_size": global_batch}
    if spec.encoder:
        from genre_models.encoders import describe_encoder

        metadata["encoder"] = describe_encoder(spec.encoder, tuned_layers)
    publish_artifact(destination, model, metadata, history)
    return TrainResult(artifact_dir=destination, run_dir=run_dir, metadata=metadata,
                       stopped=recorder.stopped_by_request)


def assemble_metadata(spec, recipe: ModelDefaults, config: TrainConfig, dataset: MovieDataset,
                      splits: dict[str, np.ndarray], validation_scores: np.ndarray, test_scores: np.ndarray,
                      training_facts: dict, extra: dict | None = None) -> dict:
    """Tune thresholds on validation, evaluate the test split once, and gather the artifact metadata."""
    validation_labels = dataset.labels[splits["validation"]]
    if recipe.threshold_policy == "auto":
        thresholds = choose_threshold_policy(validation_labels, validation_scores)
        policy_note = (f"chosen on validation by 2-fold cross-validation (mean of micro- and macro-F1 on the "
                       f"held-out half: {thresholds['cross_validated_mean_f1']}), then tuned on all of validation")
    else:
        thresholds = {**tune_thresholds(validation_labels, validation_scores), "policy": "per_genre"}
        policy_note = ("each genre's F1-maximising threshold on the validation split; genres with fewer than "
                       f"{thresholds['min_positives']} validation positives use the global micro-F1-maximising "
                       "threshold")
    per_genre = np.asarray(thresholds["per_genre"])
    test_labels = dataset.labels[splits["test"]]
    test_report = evaluate_scores(test_labels, test_scores, per_genre, dataset.genres)
    test_report["global_threshold_micro_f1"] = evaluate_scores(
        test_labels, test_scores, thresholds["global"], dataset.genres)["micro_f1"]
    return {
        "format": 1,
        "name": spec.name,
        "input_kind": spec.input_kind,
        "description": spec.description,
        "genres": dataset.genres,
        "thresholds": {**thresholds, "policy_note": policy_note},
        "command": config.command,
        "seed": config.seed,
        "config": config.to_dict(),
        "recipe": dataclasses.asdict(recipe),
        "data": describe_data(dataset, splits),
        "training": {**training_facts, "finished_at": utc_now()},
        "metrics": {
            "validation": summarize(evaluate_scores(validation_labels, validation_scores, per_genre, dataset.genres)),
            "test": test_report,
        },
        "versions": collect_versions(),
        "created_at": utc_now(),
        **(extra or {}),
    }


def weight_grid(count: int, step: float = 0.05) -> list[tuple[float, ...]]:
    """Return every weight vector of ``count`` non-negative multiples of ``step`` summing to 1."""
    units = int(round(1 / step))

    def split(remaining: int, parts: int):
        if parts == 1:
            yield (remaining,)
            return
        for first in range(remaining + 1):
            for rest in split(remaining - first, parts - 1):
                yield (first, *rest)

    return [tuple(round(unit * step, 4) for unit in combo) for combo in split(units, count)]


def run_late_fusion(spec, recipe: ModelDefaults, config: TrainConfig, run_dir: Path,
                    progress: ProgressCallback | None) -> TrainResult:
    """Fit a late fusion of shipped artifacts: the component weights are chosen on validation.

    The weights maximise the mean of micro and macro average precision (threshold-free,
    so they do not chase the thresholds tuned afterwards), over a grid in steps of 0.05.
    """
    from genre_models.artifacts import load_artifact
    from genre_models.inference import fuse_scores, image_size_of

    started = time.time()
    # Components live beside the fused artifact (the shipped folder unless --out says otherwise).
    artifacts_root = Path(config.out_dir).parent if config.out_dir else resolve_artifacts_dir()
    components = [load_artifact(artifacts_root / name) for name in recipe.extra["components"]]
    if any("components" in c.metadata for c in components):
        raise ValueError("A late fusion combines networks, not other fusions.")
    poster_sizes = {image_size_of(c) for c in components if c.input_kind == POSTER}
    if len(poster_sizes) > 1:
        raise ValueError("A late fusion may combine poster models of one image size only.")
    dataset = load_dataset(config.data_dir, image_size=next(iter(poster_sizes), None),
                           max_films=config.max_films, seed=config.seed, progress=progress)
    if any(dataset.genres != c.genres for c in components):
        raise ValueError("The components were trained on other genre columns than this dataset has.")
    splits = {name: dataset.split_indices(name) for name in ("train", "validation", "test")}
    scores = {
        split: [score_inputs(c.model, model_inputs_for(c.input_kind, dataset)[splits[split]]) for c in components]
        for split in ("validation", "test")
    }
    validation_labels = dataset.labels[splits["validation"]]
    search = []
    for weights in weight_grid(len(components)):
        report = evaluate_scores(validation_labels, fuse_scores(weights, scores["validation"]), 0.5, dataset.genres)
        search.append(((report["micro_average_precision"] + report["macro_average_precision"]) / 2, weights))
    best_score, weights = max(search)
    history = {"model": spec.name, "run_dir": str(run_dir), "epochs": [],
               "weight_search": [{"weights": list(w), "validation_mean_ap": float(v)} for v, w in search]}
    write_json_atomically(run_dir / HISTORY_FILE, history)
    metadata = assemble_metadata(
        spec, recipe, config, dataset, splits,
        validation_scores=fuse_scores(weights, scores["validation"]),
        test_scores=fuse_scores(weights, scores["test"]),
        training_facts={"seconds": round(time.time() - started, 1), "run_dir": run_dir.name, "epochs_run": 0},
        extra={
            "components": [{"name": c.name, "input_kind": c.input_kind, "weight": float(w),
                            "created_at": c.metadata.get("created_at")} for c, w in zip(components, weights)],
            "validation_mean_ap": float(best_score),
        },
    )
    destination = Path(config.out_dir) if config.out_dir else artifacts_root / spec.name
    publish_artifact(destination, None, metadata, history)
    return TrainResult(artifact_dir=destination, run_dir=run_dir, metadata=metadata)


def describe_data(dataset: MovieDataset, splits: dict[str, np.ndarray]) -> dict:
    """Return the data facts recorded in an artifact: fingerprint, split rule and sizes, load report."""
    return {
        "fingerprint": dataset.fingerprint,
        "folder_name": dataset.folder.name,
        "films": dataset.num_films,
        "split_rule": SplitConfig().describe(),
        "split_sizes": {name: int(len(indices)) for name, indices in splits.items()},
        "load_report": dataset.report.to_dict(),
    }


def evaluate_frequency_baseline(dataset: MovieDataset) -> dict:
    """Baseline: every film gets each genre's training frequency as its probability.

    Thresholds are tuned on validation like any model's, so this is "always
    answer the most common genres".
    """
    train, validation, test = (dataset.split_indices(name) for name in ("train", "validation", "test"))
    frequencies = dataset.labels[train].mean(axis=0)

    def constant_scores(indices):
        return np.tile(frequencies, (len(indices), 1))

    # One shared threshold: per-genre F1 tuning would "predict" every genre for every film,
    # since a constant score can only say yes to all films or to none.
    thresholds = tune_thresholds(dataset.labels[validation], constant_scores(validation))
    report = evaluate_scores(dataset.labels[test], constant_scores(test), thresholds["global"], dataset.genres)
    predicted = [genre for genre, f in zip(dataset.genres, frequencies) if f >= thresholds["global"]]
    return {"name": "genre_frequency", "predicts_always": predicted,
            "thresholds": {"global": thresholds["global"], "policy": "global (tuned for micro-F1 on validation)"},
            "metrics": {"test": report}}

"""Training input pipelines: tf.data datasets over in-memory inputs, or batches gathered from the
memory-mapped poster cache when the training posters are too large to copy into memory."""

from __future__ import annotations

import os

import numpy as np

from genre_models.dataset import MovieDataset
from genre_models.inputs import prepare_network_inputs, take_rows

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


def make_pipelines(spec, inputs, dataset: MovieDataset, splits: dict, distribution, seed: int,
                   targets: np.ndarray | None = None) -> tuple:
    """Return the training and validation tf.data pipelines. Large poster sets are read batch by
    batch from the memory-mapped cache; small ones (the real dataset) are copied into memory.
    ``targets`` (one row per film) replaces the labels when given (distillation's soft targets)."""
    stream = not isinstance(inputs, dict) and inputs.dtype == np.uint8 and posters_should_stream(
        inputs, len(splits["train"]))
    uneven = distribution.replicas > 1

    def pipeline(split: str, shuffle: bool):
        labels = (dataset.labels if targets is None else targets)[splits[split]]
        if stream:
            return make_tf_dataset(inputs, labels, distribution.global_batch, shuffle, seed,
                                   drop_remainder=uneven, rows=splits[split])
        return make_tf_dataset(take_rows(inputs, splits[split]), labels, distribution.global_batch, shuffle, seed,
                               drop_remainder=uneven)

    return pipeline("train", shuffle=True), pipeline("validation", shuffle=False)

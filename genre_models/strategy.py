"""The distribution strategy of a training run (none, mirrored over this machine's devices, or
multi-worker over a TF_CONFIG cluster) and what it implies for batching, building and publishing."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genre_models.config import DISTRIBUTE_CHOICES, Recipe, TrainConfig
from genre_models.runs import beat, write_status


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

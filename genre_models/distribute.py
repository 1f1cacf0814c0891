"""Training across processes or machines (``train --distribute multi-worker``).

A worker learns its cluster from the TF_CONFIG environment variable (``read_cluster``), joins it
through TensorFlow's MultiWorkerMirroredStrategy (``join_cluster``) and turns a lost peer into a
one-line ValueError (``peer_failures_as_errors``), which the run records as its failure reason.

TensorFlow connects the workers through a coordination service led by the chief (the "chief"
task, else worker 0). It is configured here before the strategy exists, so that:

- at start-up every worker waits at most ``GENRE_PEER_WAIT_SECONDS`` (default 120) for all the
  others to join (a barrier); the one left waiting then says which peer (host:port) never came;
- every worker sends heartbeats to the leader; one silent for ``GENRE_PEER_HEARTBEAT_SECONDS``
  (default 30: killed, crashed, machine gone) aborts the survivors' collective operations, so
  their ``fit`` raises instead of waiting forever. A peer that is killed while the others wait for
  it in an all-reduce is usually noticed at once (its connection is refused).

TensorFlow requires the strategy to be created before the process runs any TensorFlow operation,
so training creates it first, before it loads data. TensorFlow also catches SIGTERM in such a
process (as a preemption notice); the default (the process ends) is put back once it has joined.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

TF_CONFIG_ENV = "TF_CONFIG"
# Seconds a worker waits at start-up for every peer to join before it gives up naming them.
PEER_WAIT_ENV = "GENRE_PEER_WAIT_SECONDS"
DEFAULT_PEER_WAIT_SECONDS = 120.0
# Seconds without a heartbeat after which a peer counts as gone and the others stop.
PEER_HEARTBEAT_ENV = "GENRE_PEER_HEARTBEAT_SECONDS"
DEFAULT_PEER_HEARTBEAT_SECONDS = 30.0
# Optional bound (seconds) on one all-reduce, for a peer alive but stuck; unset: no bound
# (a slow epoch on one machine must not fail the run).
COLLECTIVE_TIMEOUT_ENV = "GENRE_COLLECTIVE_TIMEOUT_SECONDS"
# The task types a worker may have (TensorFlow's parameter-server jobs are another strategy).
TASK_TYPES = ("chief", "worker")
EXAMPLE = ('{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
           '"task": {"type": "worker", "index": 0}}')
TASK_NAME = re.compile(r"/job:(\w+)/(?:replica:\d+/)?task:(\d+)")


@dataclass(frozen=True)
class Task:
    """One process of the cluster."""

    # "chief" or "worker".
    job: str
    # Its index within its job.
    index: int
    # host:port it listens on.
    address: str

    @property
    def name(self) -> str:
        """TensorFlow's name for it, e.g. /job:worker/replica:0/task:1."""
        return f"/job:{self.job}/replica:0/task:{self.index}"


@dataclass(frozen=True)
class Cluster:
    """The workers of a multi-worker run and which one this process is."""

    # Every task, the chief first (the "chief" task, else worker 0), then the workers in order.
    tasks: tuple[Task, ...]
    # This process's place in ``tasks`` (0 = the chief).
    position: int

    @property
    def me(self) -> Task:
        """This process's task."""
        return self.tasks[self.position]

    @property
    def size(self) -> int:
        """How many workers train together."""
        return len(self.tasks)

    @property
    def is_chief(self) -> bool:
        """Whether this worker is the chief (the one that publishes the artifact)."""
        return self.position == 0

    @property
    def leader(self) -> Task:
        """The task leading TensorFlow's coordination service (the chief)."""
        return self.tasks[0]

    def peers(self) -> list[Task]:
        """Every task but this one."""
        return [task for task in self.tasks if task != self.me]

    def whoami(self) -> str:
        """E.g. "worker 1 of 2 (localhost:2345)"."""
        return f"worker {self.position} of {self.size} ({self.me.address})"

    def describe(self) -> dict:
        """What a run's status and an artifact's metadata record about the cluster."""
        return {"worker_index": self.position, "workers": self.size, "chief": self.is_chief,
                "task": f"{self.me.job}:{self.me.index}", "cluster": [task.address for task in self.tasks]}

    def tasks_named_in(self, message: str, after: str | None = None) -> list[Task]:
        """Return the peers TensorFlow names in an error message (only after ``after`` if given
        and present), else the peers whose port appears in it (TensorFlow may write 127.0.0.1
        for localhost)."""
        if after and after in message:
            message = message.split(after, 1)[1]
        by_name = {(task.job, task.index): task for task in self.peers()}
        named = [by_name[(job, int(index))] for job, index in TASK_NAME.findall(message)
                 if (job, int(index)) in by_name]
        if not named:
            named = [task for task in self.peers() if re.search(rf":{task.address.rsplit(':', 1)[1]}\b", message)]
        return list(dict.fromkeys(named))


def describe_tasks(tasks: list[Task]) -> str:
    """E.g. "worker 1 at localhost:2345" or "worker 1 at a:1 and worker 2 at b:2"."""
    words = [f"{task.job} {task.index} at {task.address}" for task in tasks]
    return " and ".join(words) if words else "a peer"


def read_cluster(environ=None) -> Cluster:
    """Return the cluster TF_CONFIG describes and this process's place in it; raise ValueError
    saying what is wrong with a missing or malformed TF_CONFIG."""
    environ = os.environ if environ is None else environ
    raw = environ.get(TF_CONFIG_ENV, "").strip()
    if not raw:
        raise ValueError(f"multi-worker training needs the {TF_CONFIG_ENV} environment variable describing "
                         f"the cluster, e.g. {EXAMPLE} (see the README).")
    try:
        payload = json.loads(raw)
    except ValueError as error:
        raise ValueError(f"{TF_CONFIG_ENV} is not valid JSON ({error}); expected e.g. {EXAMPLE}.") from None
    cluster = payload.get("cluster") if isinstance(payload, dict) else None
    task = payload.get("task") if isinstance(payload, dict) else None
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise ValueError(f"{TF_CONFIG_ENV} needs a \"cluster\" and a \"task\" object, e.g. {EXAMPLE}.")
    unsupported = sorted(set(cluster) - set(TASK_TYPES))
    if unsupported:
        raise ValueError(f"{TF_CONFIG_ENV} names job(s) {', '.join(unsupported)}; multi-worker training uses "
                         "only \"worker\" (and optionally one \"chief\").")
    tasks = []
    for job in TASK_TYPES:
        addresses = cluster.get(job, [])
        if not isinstance(addresses, list) or not all(isinstance(item, str) for item in addresses):
            raise ValueError(f"{TF_CONFIG_ENV}: cluster.{job} must be a list of \"host:port\" strings.")
        for index, address in enumerate(addresses):
            host, _, port = address.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{TF_CONFIG_ENV}: {address!r} in cluster.{job} is not \"host:port\".")
            tasks.append(Task(job, index, address))
    if not tasks:
        raise ValueError(f"{TF_CONFIG_ENV} lists no worker, e.g. {EXAMPLE}.")
    if len(cluster.get("chief", [])) > 1:
        raise ValueError(f"{TF_CONFIG_ENV}: a cluster has at most one chief.")
    repeated = sorted({task.address for task in tasks if [t.address for t in tasks].count(task.address) > 1})
    if repeated:
        raise ValueError(f"{TF_CONFIG_ENV}: {', '.join(repeated)} is listed twice; every worker needs its own port.")
    job, index = task.get("type"), task.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int):
        raise ValueError(f"{TF_CONFIG_ENV}: task.index must be a whole number; got {index!r}.")
    for position, candidate in enumerate(tasks):
        if (candidate.job, candidate.index) == (job, index):
            return Cluster(tuple(tasks), position)
    raise ValueError(f"{TF_CONFIG_ENV}: this task ({job!r}, index {index}) is not in the cluster "
                     f"({', '.join(f'{t.job} {t.index}' for t in tasks)}).")


def seconds_from_env(name: str, default: float | None) -> float | None:
    """Return a positive number of seconds from an environment variable (``default`` if unset)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a number of seconds above 0; got {raw!r}.")
    return value


@dataclass(frozen=True)
class Timeouts:
    """How long a worker waits for its peers (seconds)."""

    # At start-up, for every peer to join.
    peer_wait: float = DEFAULT_PEER_WAIT_SECONDS
    # Without a heartbeat, before a peer counts as gone.
    heartbeat: float = DEFAULT_PEER_HEARTBEAT_SECONDS
    # For one all-reduce; None: unbounded.
    collective: float | None = None

    @classmethod
    def from_env(cls) -> Timeouts:
        """Read the GENRE_PEER_* / GENRE_COLLECTIVE_* variables (ValueError if malformed)."""
        return cls(seconds_from_env(PEER_WAIT_ENV, DEFAULT_PEER_WAIT_SECONDS),
                   seconds_from_env(PEER_HEARTBEAT_ENV, DEFAULT_PEER_HEARTBEAT_SECONDS),
                   seconds_from_env(COLLECTIVE_TIMEOUT_ENV, None))


def configure_coordination(cluster: Cluster, timeouts: Timeouts) -> bool:
    """Set up TensorFlow's coordination service with this run's timeouts before the strategy
    starts it; return False if this TensorFlow offers no such setting (its defaults then apply:
    an hour's wait for peers)."""
    try:
        from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
        from tensorflow.python.eager import context
    except ImportError:
        return False
    jobs = [coordination_config_pb2.CoordinatedJob(name=job, num_tasks=sum(t.job == job for t in cluster.tasks))
            for job in TASK_TYPES if any(t.job == job for t in cluster.tasks)]
    try:
        context.context().configure_coordination_service(
            service_type="standalone", service_leader=cluster.leader.name, coordinated_jobs=jobs,
            cluster_register_timeout_in_ms=int(timeouts.peer_wait * 1000),
            heartbeat_timeout_in_ms=int(timeouts.heartbeat * 1000))
        # Without this, only the workers (not the leader) bound their wait for the others.
        context.context().coordination_service.cluster_register_with_barrier = True
    except (AttributeError, TypeError, ValueError):
        return False
    return True


def average_logs_across_workers() -> bool:
    """Make Keras average each step's logs (loss, metrics) across the workers' replicas.

    Keras 3 (checked on 3.15) reduces them under MultiWorkerMirroredStrategy with
    ``strategy.reduce("MEAN", value, axis=0)``, which also averages along the value's first axis
    and fails on the scalar loss ("Invalid reduction dimension 0 for input with 0 dimensions"),
    so ``fit`` could not run at all; ``axis=None`` averages across replicas only, as Keras does on
    one machine. Return whether the fix is in place (False if this Keras has no such function)."""
    try:
        from keras.src import tree
        from keras.src.backend.tensorflow import trainer
    except ImportError:
        return False
    original = getattr(trainer, "reduce_per_replica", None)
    across_workers = getattr(trainer, "_collective_all_reduce_multi_worker", None)
    if original is None or across_workers is None:
        return False
    if getattr(original, "averages_across_workers", False):
        return True

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and across_workers(strategy):
            return tree.map_structure(lambda value: strategy.reduce("MEAN", value, axis=None), values)
        return original(values, strategy, reduction)

    reduce_per_replica.averages_across_workers = True
    trainer.reduce_per_replica = reduce_per_replica
    return True


def let_sigterm_stop_the_worker() -> None:
    """Give SIGTERM its default effect again (the process ends; its peers then stop with an error).

    TensorFlow catches SIGTERM in a multi-worker process as a preemption notice, which nothing
    here acts on: ``kill`` and ``timeout`` would otherwise leave the worker training."""
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except ValueError:
        pass  # Not the main thread: leave signals alone.


def join_cluster(cluster: Cluster, timeouts: Timeouts | None = None):
    """Create the MultiWorkerMirroredStrategy of this worker, waiting at most ``peer_wait``
    seconds for every peer; raise ValueError naming the peers that never joined."""
    import tensorflow as tf

    timeouts = timeouts or Timeouts.from_env()
    configure_coordination(cluster, timeouts)
    average_logs_across_workers()
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeouts.collective)
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
        let_sigterm_stop_the_worker()
        return strategy
    except RuntimeError as error:
        if "startup" not in str(error):
            raise
        raise ValueError("multi-worker training must start before TensorFlow runs anything in its process; "
                         "start each worker with python -m genre_models train --distribute multi-worker.") from None
    except tf.errors.OpError as error:
        message = error.message or str(error)
        missing = cluster.tasks_named_in(message, after="timed out task names:")
        if not missing:
            missing = [cluster.leader] if not cluster.is_chief else cluster.peers()
        raise ValueError(
            f"{cluster.whoami()} waited {timeouts.peer_wait:g} s for its peers and could not reach "
            f"{describe_tasks(missing)}; start the same command there (TF_CONFIG task "
            f"{{\"type\": \"{missing[0].job}\", \"index\": {missing[0].index}}}), check the address and the "
            f"firewall, or wait longer with {PEER_WAIT_ENV}.") from None


# TensorFlow errors that mean a peer is gone, and words of other errors' messages that say so.
LOST_PEER_ERRORS = ("UnavailableError", "DeadlineExceededError", "AbortedError")
CONNECTION_WORDS = ("onnection refused", "reset by peer", "failed to connect", "Socket closed", "Broken pipe")
LOST_PEER_WORDS = ("Collective ops is aborted", "heartbeat", "coordination service", *CONNECTION_WORDS)


@contextmanager
def peer_failures_as_errors(cluster: Cluster | None, timeouts: Timeouts | None = None) -> Iterator[None]:
    """Turn the error a collective operation raises when a peer is gone into a one-line
    ValueError naming it (the run records it as its failure reason)."""
    if cluster is None:
        yield
        return
    import tensorflow as tf

    try:
        yield
    except tf.errors.OpError as error:
        message = error.message or str(error)
        if type(error).__name__ not in LOST_PEER_ERRORS and not any(word in message for word in LOST_PEER_WORDS):
            raise
        lost = cluster.tasks_named_in(message, after="stopped sending heartbeats")
        how = ("stopped sending heartbeats" if "heartbeat" in message
               else "dropped its connection" if any(word in message for word in CONNECTION_WORDS)
               else "did not answer in time" if isinstance(error, tf.errors.DeadlineExceededError)
               else f"could not be reached ({type(error).__name__})")
        everyone = "both workers" if cluster.size == 2 else f"all {cluster.size} workers"
        raise ValueError(
            f"{cluster.whoami()} lost {describe_tasks(lost)} during training: it {how} (killed, crashed or "
            f"unreachable). This run stopped and is marked failed; start {everyone} again.") from None

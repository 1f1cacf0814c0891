"""Multi-worker training as a cluster runs it, on this machine: two worker processes of
``python -m genre_models train --distribute multi-worker``, each with its own TF_CONFIG naming
both on localhost ports, against one process with the same global batch and seed.

Usage: python -m benchmarks.multiworker [--data-dir DIR] [--models tfidf_logreg course_cnn]
                                        [--max-films 451] [--epochs 2] [--batch-size 8]

Per model it prints the wall time of the pair and of each worker (process start to exit, and the
seconds spent in fit), the global batch, whether the two workers' final weights are identical,
the one-process run's time and the chief's test figures next to the one-process run's.

451 films (the default) split into 368 training and 48 validation films, both multiples of the
global batch 16: a distributed run drops a last partial batch (replicas need equal shares), so
with these sizes both runs see exactly the same batches. tests/test_distribute.py uses the same
helpers.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_FIGURES = ("micro_f1", "macro_f1", "macro_average_precision", "recall_at_3")
# Films and per-worker batch of the default scenario (see the module docstring).
MAX_FILMS = 451
PER_WORKER_BATCH = 8
WORKERS = 2
# Extra training flags per model: posters at 32x32 keep the poster model quick.
MODEL_FLAGS = {"course_cnn": ["--image-size", "32", "32"], "poster_cnn": ["--image-size", "32", "32"]}


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct TCP ports free on the loopback interface right now."""
    sockets = []
    try:
        for _ in range(count):
            handle = socket.socket()
            handle.bind(("127.0.0.1", 0))
            sockets.append(handle)
        return [handle.getsockname()[1] for handle in sockets]
    finally:
        for handle in sockets:
            handle.close()


def tf_config(ports: list[int], index: int) -> str:
    """Return the TF_CONFIG of worker ``index`` in a cluster of localhost workers on ``ports``."""
    return json.dumps({"cluster": {"worker": [f"localhost:{port}" for port in ports]},
                       "task": {"type": "worker", "index": index}})


@dataclass
class Process:
    """One ``python -m genre_models train`` process and where it writes."""

    name: str
    process: subprocess.Popen
    folder: Path
    started: float
    ended: float | None = None
    returncode: int | None = None
    env: dict = field(default_factory=dict)

    @property
    def run_dir(self) -> Path:
        return self.folder / "run"

    @property
    def out_dir(self) -> Path:
        return self.folder / "artifact"

    @property
    def stdout(self) -> str:
        return (self.folder / "stdout.txt").read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return (self.folder / "stderr.txt").read_text(encoding="utf-8", errors="replace")

    @property
    def seconds(self) -> float | None:
        return None if self.ended is None else round(self.ended - self.started, 1)

    def result(self) -> dict | None:
        """The JSON line the CLI printed on success, or None."""
        lines = [line for line in self.stdout.splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else None

    def status(self) -> dict:
        """The run folder's status.json."""
        return json.loads((self.run_dir / "status.json").read_text(encoding="utf-8"))

    def fit_seconds(self) -> float:
        """Seconds spent in the epochs of fit, from the run's history."""
        history = json.loads((self.run_dir / "history.json").read_text(encoding="utf-8"))
        return round(sum(epoch["seconds"] for epoch in history["epochs"]), 1)

    def wait(self, timeout: float) -> int | None:
        """Wait for the process to end (None if it is still running after ``timeout``)."""
        try:
            self.returncode = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self.ended = self.ended or time.time()
        return self.returncode

    def kill(self) -> None:
        """End the process at once (SIGKILL) if it still runs."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.ended = self.ended or time.time()


def start_train(name: str, root: Path, train_args: list[str], env: dict | None = None) -> Process:
    """Start ``python -m genre_models train`` with its own run folder and --out under root/name."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "genre_models", "train", *train_args,
               "--run-dir", str(folder / "run"), "--out", str(folder / "artifact")]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with open(folder / "stdout.txt", "w") as stdout, open(folder / "stderr.txt", "w") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                   env=full_env)
    return Process(name, process, folder, time.time(), env=env or {})


def start_workers(root: Path, train_args: list[str], count: int = WORKERS, env: dict | None = None,
                  ports: list[int] | None = None) -> list[Process]:
    """Start ``count`` multi-worker processes on localhost, each with its own TF_CONFIG and TMPDIR."""
    ports = ports or free_ports(count)
    workers = []
    for index in range(count):
        scratch = root / f"worker{index}" / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        workers.append(start_train(f"worker{index}", root, [*train_args, "--distribute", "multi-worker"],
                                   env={**(env or {}), "TF_CONFIG": tf_config(ports, index), "TMPDIR": str(scratch)}))
    return workers


def wait_all(processes: list[Process], timeout: float) -> None:
    """Wait for every process, killing them all if any is still running after ``timeout`` seconds."""
    deadline = time.time() + timeout
    for process in processes:
        if process.wait(max(1.0, deadline - time.time())) is None:
            for other in processes:
                other.kill()
            raise TimeoutError(f"{process.name} still ran after {timeout:g} s:\n{process.stderr[-2000:]}")


def training_args(model: str, max_films: int, epochs: int, batch_size: int, data_dir: str | None) -> list[str]:
    """The flags shared by the workers and the one-process run (except the batch size)."""
    args = ["--model", model, "--max-films", str(max_films), "--epochs", str(epochs), "--patience", "0",
            "--seed", "42", "--batch-size", str(batch_size), *MODEL_FLAGS.get(model, [])]
    return args + (["--data-dir", data_dir] if data_dir else [])


def model_weights(path: Path) -> list:
    """The weights of a saved Keras model."""
    import keras

    return keras.models.load_model(path, compile=False).get_weights()


def largest_difference(first: list, second: list) -> float:
    """The largest absolute difference between two models' weights (inf if shaped differently)."""
    import numpy as np

    if len(first) != len(second) or any(a.shape != b.shape for a, b in zip(first, second)):
        return float("inf")
    return max((float(np.max(np.abs(a.astype(np.float64) - b))) for a, b in zip(first, second) if a.size), default=0.0)


def run_scenario(model: str, root: Path, max_films: int = MAX_FILMS, epochs: int = 2,
                 batch_size: int = PER_WORKER_BATCH, data_dir: str | None = None, timeout: float = 540,
                 at_once: bool = False) -> dict:
    """Train ``model`` on two workers, then in one process (same global batch and seed; at the
    same time as the workers if ``at_once``); return what both produced. Raises RuntimeError if a
    process failed."""
    started = time.time()
    workers = start_workers(root, training_args(model, max_films, epochs, batch_size, data_dir))
    single_args = training_args(model, max_films, epochs, batch_size * WORKERS, data_dir)
    if at_once:
        single = start_train("single", root, single_args)
        wait_all([*workers, single], timeout)
    else:
        wait_all(workers, timeout)
        single = start_train("single", root, single_args)
        wait_all([single], timeout)
    for process in [*workers, single]:
        if process.returncode != 0:
            raise RuntimeError(f"{process.name} of {model} ended with {process.returncode}:\n{process.stderr[-3000:]}")
    chief = json.loads((workers[0].out_dir / "metadata.json").read_text(encoding="utf-8"))
    reference = json.loads((single.out_dir / "metadata.json").read_text(encoding="utf-8"))
    chief_weights = model_weights(workers[0].out_dir / "model.keras")
    return {
        "model": model, "workers": workers, "single": single,
        "pair_seconds": round(max(worker.ended for worker in workers) - started, 1),
        "chief_metadata": chief, "single_metadata": reference,
        "worker_weights_difference": max(largest_difference(chief_weights, model_weights(worker.run_dir / "best.keras"))
                                         for worker in workers),
        "single_weights_difference": largest_difference(chief_weights, model_weights(single.out_dir / "model.keras")),
        "test": {name: (chief["metrics"]["test"][name], reference["metrics"]["test"][name]) for name in TEST_FIGURES},
    }


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="the dataset (default: $GENRE_DATA_DIR)")
    parser.add_argument("--models", nargs="+", default=["tfidf_logreg", "course_cnn"])
    parser.add_argument("--max-films", type=int, default=MAX_FILMS)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=PER_WORKER_BATCH, help="per worker")
    args = parser.parse_args()
    summary = []
    with tempfile.TemporaryDirectory(prefix="multiworker-") as scratch:
        # Runs and caches of the benchmark stay out of the repository.
        os.environ.setdefault("GENRE_RUNS_DIR", str(Path(scratch) / "runs"))
        for model in args.models:
            result = run_scenario(model, Path(scratch) / model, args.max_films, args.epochs, args.batch_size,
                                  args.data_dir)
            workers, single = result["workers"], result["single"]
            distribution = result["chief_metadata"]["training"]["distribution"]
            sizes = result["chief_metadata"]["data"]["split_sizes"]
            print(f"{model}: {result['chief_metadata']['data']['films']} films (train {sizes['train']}, validation "
                  f"{sizes['validation']}, test {sizes['test']}), {args.epochs} epochs", flush=True)
            print(f"  two workers: {result['pair_seconds']:.1f} s wall for the pair; "
                  + "; ".join(f"worker {i}: {w.seconds:.1f} s process, {w.fit_seconds():.1f} s in fit"
                              for i, w in enumerate(workers)))
            print(f"  one process (after the pair): {single.seconds:.1f} s process, {single.fit_seconds():.1f} s in fit")
            print(f"  global batch {distribution['global_batch_size']} = {distribution['per_replica_batch_size']} "
                  f"per worker x {distribution['workers']} workers; both workers' final weights identical: "
                  f"{result['worker_weights_difference'] == 0.0} (largest difference "
                  f"{result['worker_weights_difference']:.3g}); chief vs one process: largest weight difference "
                  f"{result['single_weights_difference']:.3g}")
            for name, (chief, reference) in result["test"].items():
                print(f"  test {name:<24} chief {chief:.4f}   one process {reference:.4f}   "
                      f"difference {chief - reference:+.4f}")
            summary.append({"model": model, "pair_s": result["pair_seconds"],
                            "worker_s": [w.seconds for w in workers], "worker_fit_s": [w.fit_seconds() for w in workers],
                            "single_s": single.seconds, "single_fit_s": single.fit_seconds(),
                            "global_batch": distribution["global_batch_size"],
                            "weights_identical": result["worker_weights_difference"] == 0.0,
                            "weights_vs_single": result["single_weights_difference"],
                            "test": result["test"]})
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

"""Training under tf.distribute: the mirrored path on a CPU split into two logical devices, and the
multi-worker path as a cluster runs it: worker processes of the CLI on localhost ports, their faults."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from genre_models.config import PROJECT_ROOT, TrainConfig
from genre_models.strategy import make_strategy
from genre_models.training import train_model

# Logical devices must be configured before TensorFlow initialises, so this runs in a fresh process.
MIRRORED_SCRIPT = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from genre_models.config import TrainConfig
    from genre_models.training import train_model
    result = train_model(TrainConfig(model_name="course_cnn", data_dir=sys.argv[1], epochs=1, max_films=64,
                                     image_size=(32, 32), batch_size=2, distribute="mirrored", verbose=0,
                                     out_dir=sys.argv[2]))
    print("RESULT " + json.dumps(result.metadata["training"]["distribution"]))
""")


def test_mirrored_training_on_two_logical_cpus_scales_the_global_batch(real_data_dir, tmp_path):
    completed = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT, str(real_data_dir), str(tmp_path / "artifact")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT "))
    assert json.loads(line[len("RESULT "):]) == {"strategy": "mirrored", "replicas": 2, "global_batch_size": 4}
    assert (tmp_path / "artifact" / "model.keras").is_file()


def test_multi_worker_without_tf_config_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        make_strategy("multi-worker")


def test_unknown_strategy_is_refused(real_data_dir, tmp_path):
    with pytest.raises(ValueError, match="Unknown distribution strategy"):
        train_model(TrainConfig(model_name="tfidf_logreg", data_dir=str(real_data_dir), max_films=64,
                                distribute="horovod", out_dir=str(tmp_path / "x"), verbose=0))


# --- Multi-worker: two worker processes of the CLI on localhost, as a cluster runs them. ---------------------
# The helpers (free ports, TF_CONFIG per worker, a run folder, --out and TMPDIR each) are the benchmark's.

# Tolerances on the chief's test figures against one process with the same global batch and seed.
# tfidf_logreg has no randomness but the shuffle: measured identical (every figure and every weight; the
# split sizes of 451 films are multiples of the global batch, so both runs see the same batches); 1e-4 only
# leaves room for another float summation order. course_cnn's dropout draws its masks per replica, so
# its steps differ from the first one: measured differences 0.013 (micro and macro F1, thresholds tuned on
# 48 validation films), 0.005 (recall@3), 0.0007 (macro AP) after 2 epochs; 0.05 allows for that noise.
SCENARIOS = {"tfidf_logreg": 1e-4, "course_cnn": 0.05}


@pytest.mark.parametrize("model", SCENARIOS)
def test_two_worker_processes_train_like_one_process(model, real_data_dir, tmp_path):
    import numpy as np

    from benchmarks.multiworker import (
        MAX_FILMS,
        PER_WORKER_BATCH,
        TEST_FIGURES,
        run_scenario,
    )
    from genre_models.artifacts import load_artifact
    from genre_models.config import IMAGES_DIR_NAME
    from genre_models.inference import GenrePredictor

    result = run_scenario(model, tmp_path, data_dir=str(real_data_dir), timeout=400, at_once=True)
    chief, worker = result["workers"]
    metadata = result["chief_metadata"]

    # The global batch is the per-worker batch x 2, and no partial batch was dropped.
    distribution = metadata["training"]["distribution"]
    assert distribution["global_batch_size"] == PER_WORKER_BATCH * 2
    assert {key: distribution[key] for key in ("strategy", "replicas", "per_replica_batch_size", "workers",
                                               "worker_index", "chief")} == {
        "strategy": "multi-worker", "replicas": 2, "per_replica_batch_size": PER_WORKER_BATCH, "workers": 2,
        "worker_index": 0, "chief": True}
    sizes = metadata["data"]["split_sizes"]
    assert metadata["data"]["films"] == MAX_FILMS
    assert sizes["train"] % 16 == 0 and sizes["validation"] % 16 == 0, sizes

    # Only the chief publishes; the other worker's temporary artifact is gone.
    assert (chief.out_dir / "model.keras").is_file()
    assert not worker.out_dir.exists()
    assert list((worker.folder / "tmp").iterdir()) == []
    assert "only the chief" in worker.stderr
    # Each run's status says which of the workers it was (what the Train page shows).
    assert chief.status()["state"] == worker.status()["state"] == "completed"
    assert (chief.status()["worker_index"], worker.status()["worker_index"]) == (0, 1)
    assert chief.status()["workers"] == worker.status()["workers"] == 2
    assert worker.status().get("artifact") is None

    # Both workers end with the same weights (the chief's published model and the other's best checkpoint).
    assert result["worker_weights_difference"] == 0.0

    # The chief's artifact loads and predicts.
    predictor = GenrePredictor([load_artifact(chief.out_dir)])
    if model == "course_cnn":
        from PIL import Image

        poster = Image.open(next((real_data_dir / IMAGES_DIR_NAME).glob("*.jpg")))
        answer = predictor.predict(poster=poster)
    else:
        answer = predictor.predict(overview="A retired hit man is pulled back for one last job in Paris.")
    [prediction] = answer.predictions
    assert len(prediction.probabilities) == len(metadata["genres"])
    assert all(0.0 <= value <= 1.0 for value in prediction.probabilities.values())

    # The chief's test figures agree with one process trained with the same global batch and seed.
    tolerance = SCENARIOS[model]
    for name in TEST_FIGURES:
        chief_value, single_value = result["test"][name]
        assert abs(chief_value - single_value) <= tolerance, (name, chief_value, single_value)
    if model == "tfidf_logreg":
        assert result["single_weights_difference"] <= 1e-5
    assert np.isfinite(metadata["training"]["best_val_loss"])


def error_lines(process) -> list[str]:
    """The CLI's own error lines (TensorFlow's C++ log lines around them are not the CLI's)."""
    return [line for line in process.stderr.splitlines() if line.startswith("error: ")]


def test_a_killed_worker_ends_its_peer_with_a_clear_error(real_data_dir, tmp_path):
    from benchmarks.multiworker import start_workers, training_args

    args = training_args("tfidf_logreg", 451, 200, 8, str(real_data_dir))
    env = {"GENRE_PEER_HEARTBEAT_SECONDS": "10"}
    # Two clusters at once: one loses its non-chief worker, the other its chief (which leads TensorFlow's
    # coordination service).
    clusters = {victim: start_workers(tmp_path / f"lose{victim}", args, env=env) for victim in (1, 0)}
    processes = [process for workers in clusters.values() for process in workers]
    try:
        killed_at = {}
        deadline = time.time() + 240
        while len(killed_at) < len(clusters) and time.time() < deadline:
            for victim, workers in clusters.items():
                metrics = workers[1 - victim].run_dir / "metrics.jsonl"
                if victim not in killed_at and metrics.is_file() and '"kind": "batch"' in metrics.read_text():
                    workers[victim].kill()  # Training has started: a collective step is under way.
                    killed_at[victim] = time.time()
            time.sleep(0.2)
        assert len(killed_at) == len(clusters), "training never started"
        for victim, workers in clusters.items():
            survivor = workers[1 - victim]
            assert survivor.wait(120) == 2, survivor.stderr[-3000:]
            # Bounded: a heartbeat timeout (10 s) plus the time to notice, not a hang.
            assert survivor.ended - killed_at[victim] < 60
            [line] = error_lines(survivor)
            lost = workers[victim]
            address = json.loads(lost.env["TF_CONFIG"])["cluster"]["worker"][victim]
            assert f"lost worker {victim} at {address} during training" in line
            status = survivor.status()
            assert status["state"] == "failed" and status["error"] == line.removeprefix("error: ")
            assert not survivor.out_dir.exists()
    finally:
        for process in processes:
            process.kill()


def test_a_worker_without_its_peer_waits_a_bounded_time_and_names_it(real_data_dir, tmp_path):
    from benchmarks.multiworker import free_ports, start_train, tf_config, training_args

    args = [*training_args("tfidf_logreg", 200, 1, 8, str(real_data_dir)), "--distribute", "multi-worker"]
    # Worker 0 leads the cluster (it waits for the others to register), worker 1 looks for the leader.
    alone = {}
    for index in (0, 1):
        ports = free_ports(2)
        alone[index] = (ports, start_train(f"alone{index}", tmp_path, args, env={
            "TF_CONFIG": tf_config(ports, index), "GENRE_PEER_WAIT_SECONDS": "5"}))
    try:
        for index, (ports, process) in alone.items():
            assert process.wait(120) == 2, process.stderr[-3000:]
            assert process.seconds < 90
            [line] = error_lines(process)
            peer = 1 - index
            assert f"waited 5 s for its peers and could not reach worker {peer} at localhost:{ports[peer]}" in line
            status = process.status()
            assert status["state"] == "failed" and "could not reach" in status["error"]
            assert (status["worker_index"], status["workers"]) == (index, 2)
    finally:
        for _, process in alone.values():
            process.kill()


@pytest.mark.parametrize("tf_config, message", [
    ("not json", "not valid JSON"),
    ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "ps"),
    ('{"cluster": {"worker": ["a:1", "b"]}, "task": {"type": "worker", "index": 0}}', "'b'"),
    ('{"cluster": {"worker": ["a:1", "a:1"]}, "task": {"type": "worker", "index": 0}}', "listed twice"),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}', "not in the cluster"),
])
def test_a_malformed_tf_config_is_a_clear_error(tf_config, message):
    from genre_models.distribute import read_cluster

    with pytest.raises(ValueError, match=message):
        read_cluster({"TF_CONFIG": tf_config})


def test_the_cluster_knows_its_chief_and_names_peers_from_tensorflow_messages():
    from genre_models.distribute import read_cluster

    config = {"cluster": {"chief": ["c:1"], "worker": ["w0:2", "w1:3"]}, "task": {"type": "worker", "index": 1}}
    cluster = read_cluster({"TF_CONFIG": json.dumps(config)})
    assert (cluster.position, cluster.size, cluster.is_chief, cluster.leader.address) == (2, 3, False, "c:1")
    assert cluster.describe()["worker_index"] == 2
    unhealthy = ("Error reported from /job:worker/task:1: The following tasks are unhealthy (stopped sending "
                 "heartbeats):\n/job:chief/replica:0/task:0")
    assert [task.address for task in cluster.tasks_named_in(unhealthy, after="stopped sending heartbeats")] == ["c:1"]
    assert [task.address for task in cluster.tasks_named_in("ipv4:127.0.0.1:2: Connection refused")] == ["w0:2"]


def test_timeouts_come_from_the_environment(monkeypatch):
    from genre_models.distribute import Timeouts

    monkeypatch.setenv("GENRE_PEER_WAIT_SECONDS", "7.5")
    monkeypatch.delenv("GENRE_PEER_HEARTBEAT_SECONDS", raising=False)
    assert (Timeouts.from_env().peer_wait, Timeouts.from_env().heartbeat) == (7.5, 30.0)
    monkeypatch.setenv("GENRE_PEER_WAIT_SECONDS", "soon")
    with pytest.raises(ValueError, match="GENRE_PEER_WAIT_SECONDS"):
        Timeouts.from_env()


def test_a_fusion_is_not_fitted_across_workers(real_data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["localhost:1", "localhost:2"]}, '
                                    '"task": {"type": "worker", "index": 1}}')
    with pytest.raises(ValueError, match="one process"):
        train_model(TrainConfig(model_name="late_fusion", data_dir=str(real_data_dir), distribute="multi-worker",
                                out_dir=str(tmp_path / "x"), verbose=0))
    assert not (tmp_path / "x").exists()

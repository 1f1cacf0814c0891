"""Training under tf.distribute: the mirrored path on a CPU split into two logical devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from genre_models.config import PROJECT_ROOT, TrainConfig
from genre_models.training import make_strategy, train_model

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

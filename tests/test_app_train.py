"""The Train page's logic without Streamlit's test runner (genre_app.train): the remembered form, the limits the
widgets offer, the kept checkpoint and the tuned figures in words, what a stop and an ended run are told, and how
long a model takes to train."""

from __future__ import annotations

import pytest
from app_testing import make_fake_run

from genre_app import train
from genre_models import runs
from genre_models.config import PROJECT_ROOT, TRAINING_LIMITS


def test_the_form_remembers_each_models_last_settings(tmp_path):
    train.remember_form_settings({"model_name": "course_cnn", "epochs": 3, "data_dir": "/data", "command": "x"},
                                 tmp_path)
    train.remember_form_settings({"model_name": "course_lstm", "epochs": 7}, tmp_path)
    stored = train.read_form_settings(tmp_path)
    assert stored["model"] == "course_lstm"
    assert stored["models"] == {"course_cnn": {"model_name": "course_cnn", "epochs": 3},
                                "course_lstm": {"model_name": "course_lstm", "epochs": 7}}
    (tmp_path / train.FORM_FILE).write_text("[not a form]")
    assert train.read_form_settings(tmp_path) == {}


def test_a_last_setting_outside_the_workers_limits_falls_back_to_the_default():
    high = TRAINING_LIMITS["epochs"].high
    assert train.last_used({"epochs": 12}, "epochs", 40) == 12
    assert train.last_used({"epochs": high + 1}, "epochs", 40) == 40
    assert train.last_used({"epochs": "many"}, "epochs", 40) == 40
    assert train.last_used({"height": 4}, "height", 64, limit="image_size") == 64
    assert train.bounds_of("learning_rate") == (TRAINING_LIMITS["learning_rate"].low, 1.0)
    assert all(isinstance(bound, int) for bound in train.bounds_of("batch_size"))


def test_the_kept_checkpoint_is_the_lowest_validation_loss():
    epochs = [{"epoch": 1, "val_loss": 0.5, "val_micro_f1": 0.2}, {"epoch": 2, "val_loss": 0.3, "val_micro_f1": 0.3},
              {"epoch": 3, "val_loss": float("nan")}, {"epoch": 4, "val_loss": 0.4, "val_micro_f1": 0.45}]
    assert train.find_checkpoint_epoch(epochs) == 2 and train.find_checkpoint_epoch([]) is None
    note = train.describe_checkpoint(epochs)
    assert note.startswith("The run keeps the checkpoint of epoch 2") and "at epoch 4 (0.450)" in note
    assert "peaks elsewhere" not in train.describe_checkpoint(epochs[:2])


@pytest.mark.parametrize("tuned_micro, word", [(0.39, "higher than"), (0.2, "lower than")])
def test_the_tuned_figures_are_compared_with_the_same_epoch_at_one_half(tuned_micro, word):
    tuned = {"epoch": 2, "micro_f1": tuned_micro, "macro_f1": 0.1, "policy": "per_genre"}
    text = train.describe_tuned(tuned, [{"epoch": 2, "val_micro_f1": 0.3, "val_macro_f1": 0.1}])
    assert f"micro-F1 {tuned_micro:.3f}, {word} the 0.300 the curve shows at 0.5" in text
    assert "macro-F1 0.100, the same as the 0.100" in text
    assert train.describe_tuned(None, []) == ""


def test_ended_runs_are_named_with_their_state_and_the_newest_shown(tmp_path):
    make_fake_run(tmp_path, "20260101-000000-course_cnn", "stopped", 1)
    make_fake_run(tmp_path, "20260102-000000-course_cnn", "completed", 1)
    listed = runs.list_runs(tmp_path)
    message, shown = train.describe_ended(["20260101-000000-course_cnn", "20260102-000000-course_cnn"], listed)
    assert message == "Run 20260101-000000-course_cnn stopped, 20260102-000000-course_cnn completed."
    assert shown == "20260102-000000-course_cnn"
    assert train.describe_ended([], listed) == (None, None)
    assert train.describe_ended(["20260103-000000-gone"], listed) == ("Run 20260103-000000-gone ended.", None)


def test_a_stop_says_what_it_waits_for(tmp_path):
    loading = runs.read_run(make_fake_run(tmp_path, "20260101-000000-course_cnn", "running", 0))
    training = runs.read_run(make_fake_run(tmp_path, "20260102-000000-course_cnn", "running", 1, steps=3))
    assert "before any training" in train.describe_stop(loading)
    assert "before its next training step" in train.describe_stop(training)


def test_run_rows_read_the_run_records(tmp_path):
    folder = make_fake_run(tmp_path, "20260101-000000-course_cnn", "failed", 1, error="out of memory")
    [row] = train.run_rows(runs.list_runs(tmp_path), {"course_cnn": str(folder / runs.ARTIFACT_DIR)})
    assert (row["run"], row["model"], row["status"], row["in use"], row["error"]) == (
        folder.name, "course_cnn", "failed", "yes", "out of memory")


def test_training_time_is_scaled_from_the_shipped_models_own_epochs():
    artifacts = PROJECT_ROOT / "artifacts"
    per_epoch, share = train.read_epoch_seconds("course_cnn", artifacts)
    assert per_epoch > 0 and share == 1.0
    assert train.estimate_training_seconds("course_cnn", 10, 0.1, artifacts) == pytest.approx(per_epoch)
    assert train.estimate_training_seconds("late_fusion", 1, 1.0, artifacts) is None  # no epochs
    quick = train.list_quick_models({"course_cnn": 40, "poster_cnn": 25}, 0.1, artifacts)
    expected = [name for name, epochs in {"course_cnn": 40, "poster_cnn": 25}.items()
                if train.read_epoch_seconds(name, artifacts)[0] * 0.1 * epochs <= train.ABOUT_A_MINUTE_SECONDS]
    assert quick == expected and "poster_cnn" not in quick


def test_worker_descriptions_name_the_chief():
    assert "the chief: it publishes" in train.describe_worker({"worker_index": 0, "workers": 2, "chief": True})
    assert "worker 1 of 2" in train.describe_worker({"worker_index": 1, "workers": 2, "chief": False})


def test_the_metric_names_are_words_not_keys():
    assert all("_" not in name for name in train.METRIC_NAMES.values())
    assert train.choose_default_metric({"a": [{"val_loss": 1}]}) == "val_loss"
    assert train.choose_default_metric({"a": [{"val_macro_f1": 1}]}) == "val_macro_f1"

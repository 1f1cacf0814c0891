"""What leaves a run folder as a file: a run's history and metadata as JSON (no NaN), and every run's per-epoch
scalars as one CSV (the Train page's download and `python -m genre_models runs --csv`)."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from app_testing import make_fake_run

from genre_models import run_exports, runs
from genre_models.config import PROJECT_ROOT


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "runs"
    folder.mkdir()
    monkeypatch.setenv("GENRE_RUNS_DIR", str(folder))
    return folder


def test_history_download_is_the_runs_history_file(runs_dir):
    folder = make_fake_run(runs_dir, "20260101-000000-course_cnn", "completed", 2)
    history = {"model": "course_cnn", "run_dir": str(folder), "epochs": runs.read_metrics(folder)[1]}
    (folder / "history.json").write_text(json.dumps(history))
    assert json.loads(run_exports.build_history_download(folder)) == history


def test_history_download_of_a_run_without_history_file_uses_its_metric_lines(runs_dir):
    folder = make_fake_run(runs_dir, "20260101-000000-course_cnn", "running", 2)
    downloaded = json.loads(run_exports.build_history_download(folder))
    assert downloaded["model"] == "course_cnn"
    assert [epoch["epoch"] for epoch in downloaded["epochs"]] == [1, 2]


def test_downloads_write_a_diverged_loss_as_null_not_nan(runs_dir):
    folder = make_fake_run(runs_dir, "20260101-000000-course_cnn", "failed", 0)
    (folder / "history.json").write_text('{"model": "course_cnn", "epochs": [{"epoch": 1, "loss": NaN}]}')
    raw = run_exports.build_history_download(folder)
    assert b"NaN" not in raw
    assert json.loads(raw)["epochs"][0]["loss"] is None


def test_metadata_download_holds_config_status_and_artifact_metadata(runs_dir):
    import shutil

    folder = make_fake_run(runs_dir, "20260101-000000-course_cnn", "completed", 2, elapsed=90)
    downloaded = json.loads(run_exports.build_metadata_download(folder))
    assert downloaded["run"] == folder.name and downloaded["artifact_metadata"] is None
    assert downloaded["config"]["config"]["model_name"] == "course_cnn"
    assert downloaded["status"]["state"] == "completed" and downloaded["status"]["elapsed"] == 90
    shutil.copytree(PROJECT_ROOT / "artifacts" / "course_cnn", folder / runs.ARTIFACT_DIR)
    downloaded = json.loads(run_exports.build_metadata_download(folder))
    assert downloaded["artifact_metadata"] == json.loads((PROJECT_ROOT / "artifacts" / "course_cnn" /
                                                          "metadata.json").read_text())


def test_metadata_download_of_a_folder_that_is_no_run_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is not a run folder"):
        run_exports.build_metadata_download(tmp_path)


def test_every_runs_per_epoch_scalars_as_one_csv(runs_dir):
    older = make_fake_run(runs_dir, "20260101-000000-course_cnn", "completed", 2)
    newer = make_fake_run(runs_dir, "20260102-000000-course_cnn", "failed", 1)
    (newer / "history.json").write_text(json.dumps({"model": "course_cnn", "epochs": [
        {"epoch": 1, "loss": float("nan"), "val_loss": 0.5, "val_micro_f1": 0.3, "note": "text is left out"}]}))
    rows = list(csv.DictReader(io.StringIO(run_exports.build_runs_csv())))
    assert [(row["run"], row["state"], row["epoch"]) for row in rows] == [
        (newer.name, "failed", "1"), (older.name, "completed", "1"), (older.name, "completed", "2")]
    assert list(rows[0])[:4] == ["run", "model", "state", "epoch"] and "note" not in rows[0]
    assert rows[0]["loss"] == "" and float(rows[0]["val_micro_f1"]) == 0.3  # NaN as empty, never "nan"
    assert rows[1]["val_micro_f1"] == "" and float(rows[2]["val_loss"]) == pytest.approx(0.45 / 2)
    assert all(not value or math.isfinite(float(value)) for row in rows for key, value in row.items()
               if key not in ("run", "model", "state"))


def test_no_runs_give_a_csv_of_its_header_alone(runs_dir):
    assert run_exports.build_runs_csv() == "run,model,state,epoch\n"

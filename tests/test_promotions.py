"""The models in use: promoting a run over a shipped model, restoring it, a damaged promotions file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from genre_models import promotions, runs, supervisor


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "runs"
    monkeypatch.setenv("GENRE_RUNS_DIR", str(folder))
    return folder


def test_promote_restore_and_delete(tiny_trained, runs_dir):
    run_dir = runs.create_run_dir("course_lstm", runs_dir)
    shutil.copytree(tiny_trained["course_lstm"].artifact_dir, run_dir / runs.ARTIFACT_DIR)
    runs.write_status(run_dir, "completed")
    assert promotions.promote_run(run_dir) == "course_lstm"
    assert promotions.read_promotions() == {"course_lstm": str(run_dir / runs.ARTIFACT_DIR)}
    with pytest.raises(runs.RunRefused, match="restore the shipped model"):
        supervisor.delete_run(run_dir)
    promotions.restore_shipped("course_lstm")
    assert promotions.read_promotions() == {}
    supervisor.delete_run(run_dir)
    assert not run_dir.exists()


def test_a_damaged_promotions_file_is_ignored_with_a_warning(runs_dir):
    runs_dir.mkdir(parents=True)
    for payload in ('["course_cnn"]', '{"course_cnn": 3}', "not json"):
        (runs_dir / promotions.PROMOTIONS_FILE).write_text(payload)
        assert promotions.read_promotions() == {}
        assert "ignored" in promotions.promotions_problem()


def test_is_in_use_matches_the_run_folder_not_a_name_prefix(tmp_path):
    promoted = {"course_cnn": str(tmp_path / "20260101-000000-course_cnn-2" / runs.ARTIFACT_DIR)}
    assert promotions.is_in_use(tmp_path / "20260101-000000-course_cnn-2", promoted)
    assert not promotions.is_in_use(tmp_path / "20260101-000000-course_cnn", promoted)

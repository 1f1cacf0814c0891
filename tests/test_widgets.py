"""genre_app/widgets.py: what is left there until its owners move it (the explanations view is tested in
tests/test_explain.py)."""

from __future__ import annotations

from genre_app import widgets
from genre_models import runs


def test_is_in_use_matches_the_run_folder_not_a_name_prefix(tmp_path):
    promoted = {"course_cnn": str(tmp_path / "20260101-000000-course_cnn-2" / runs.ARTIFACT_DIR)}
    assert widgets.is_in_use(tmp_path / "20260101-000000-course_cnn-2", promoted)
    assert not widgets.is_in_use(tmp_path / "20260101-000000-course_cnn", promoted)

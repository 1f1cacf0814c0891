"""Fast to first use (issue 15): Home lists the artifacts from their metadata alone, the models load in a
background thread that says what it loads, and a damaged model shows once its load has failed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

from genre_app import state
from genre_models.artifacts import read_artifact_metadata
from genre_models.config import PROJECT_ROOT

TIMEOUT = 180
SHIPPED = {metadata["name"] for metadata in read_artifact_metadata(PROJECT_ROOT / "artifacts")[0]}


@pytest.fixture
def two_artifacts(tmp_path, monkeypatch):
    """An artifacts folder with a copy of tfidf_logreg and of course_cnn whose model.keras is damaged."""
    root = tmp_path / "artifacts"
    for name in ("tfidf_logreg", "course_cnn"):
        shutil.copytree(PROJECT_ROOT / "artifacts" / name, root / name)
    (root / "course_cnn" / "model.keras").write_bytes(b"not a keras archive")
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(root))
    return root


def test_listing_the_artifacts_imports_no_tensorflow():
    # Home lists the models this way; importing TensorFlow alone takes seconds.
    code = ("import sys; from genre_app import state, widgets; models, errors = state.artifact_listing(); "
            "widgets.unusable_fusions(models); assert len(models) >= 9 and not errors, errors; "
            "print(sorted(name for name in ('tensorflow', 'keras') if name in sys.modules))")
    finished = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              env={"GENRE_ARTIFACTS_DIR": str(PROJECT_ROOT / "artifacts"), "PATH": "/usr/bin:/bin",
                                   "PYTHONPATH": str(PROJECT_ROOT)}, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip().splitlines()[-1] == "[]"


def test_the_background_load_reports_each_step_and_the_models_it_could_not_load(two_artifacts):
    loading = state.ModelLoading(two_artifacts, {}, warm_up=False)
    assert loading.names == ["course_cnn", "tfidf_logreg"]
    predictor = loading.result(timeout=TIMEOUT)
    assert loading.is_finished() and loading.fraction() == 1.0
    assert predictor.model_names() == ["tfidf_logreg"]
    assert "course_cnn" in predictor.load_errors
    assert loading.describe().startswith("2 models loaded in ")


def test_while_loading_the_status_names_the_step(two_artifacts, monkeypatch):
    from genre_models import artifacts

    gate, real_load = threading.Event(), artifacts.load_all_artifacts

    def load_after_the_gate(*args, **kwargs):
        gate.wait(TIMEOUT)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(artifacts, "load_all_artifacts", load_after_the_gate)
    loading = state.ModelLoading(two_artifacts, {}, warm_up=False)
    try:
        first = loading.order[0]  # the order Predict needs them in (state.loading_order): tfidf_logreg here
        assert sorted(loading.order) == ["course_cnn", "tfidf_logreg"]
        for _ in range(600):  # TensorFlow's import comes first; then the gate holds the first model
            if loading.current == first:
                break
            time.sleep(0.1)
        assert loading.describe().startswith(f"Loading the models: {first} (1 of 2), ")
        assert loading.fraction() == pytest.approx(1 / 3)
        with pytest.raises(TimeoutError):
            loading.result(timeout=0.1)
    finally:
        gate.set()
    assert loading.result(timeout=TIMEOUT).model_names() == ["tfidf_logreg"]


def test_the_warm_up_traces_the_graphs_before_a_user_predicts(two_artifacts):
    loading = state.ModelLoading(two_artifacts, {})
    predictor = loading.result(timeout=TIMEOUT)
    loading.thread.join(TIMEOUT)
    traced = predictor.tracing_count()
    assert traced >= 1  # the overview's graph (tfidf_logreg reads overviews; no poster model loaded)
    predictor.predict(overview="Two friends rob a bank and flee to Mexico.")
    assert predictor.tracing_count() == traced  # the user's first prediction traced nothing


def test_home_lists_the_models_while_they_load_then_reports_the_damaged_one(small_real_dataset, two_artifacts,
                                                                           monkeypatch):
    from genre_models import artifacts

    monkeypatch.setenv("GENRE_DATA_DIR", str(small_real_dataset))
    gate, real_load = threading.Event(), artifacts.load_all_artifacts
    monkeypatch.setattr(artifacts, "load_all_artifacts", lambda *a, **k: gate.wait(TIMEOUT) and real_load(*a, **k))
    state.get_model_loading.clear()
    try:
        app = AppTest.from_file(str(PROJECT_ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
        app.run()
        assert not app.exception, [error.value for error in app.exception]
        # Both models are listed from their metadata; neither has loaded.
        assert set(app.table[0].value.index) >= {"course_cnn", "tfidf_logreg"}
        assert [bar.proto.text for bar in app.get("progress")][0].startswith("Loading the models: ")
        assert not app.error
    finally:
        gate.set()
    state.start_loading_models().result(timeout=TIMEOUT)
    app.run()
    assert not app.exception, [error.value for error in app.exception]
    assert not app.get("progress")
    assert any("2 models loaded in" in caption.value for caption in app.caption)
    assert [error.value for error in app.error if "course_cnn" in error.value][0].startswith(
        "Skipped artifact `course_cnn`:")
    state.get_model_loading.clear()


def test_a_head_start_delays_the_load_until_a_page_hurries_it(two_artifacts):
    loading = state.ModelLoading(two_artifacts, {}, warm_up=False, head_start=600)
    try:
        time.sleep(0.5)
        assert loading.steps_done == 0 and not loading.is_finished()  # still waiting: TensorFlow not imported
    finally:
        loading.hurry()
    assert loading.result(timeout=TIMEOUT).model_names() == ["tfidf_logreg"]
    assert loading.seconds < TIMEOUT

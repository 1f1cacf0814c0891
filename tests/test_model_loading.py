"""Fast to first use: Home lists the artifacts from their metadata alone, the models load in a
background thread that says what it loads, and a damaged model shows once its load has failed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

from genre_app import model_loading, models
from genre_models import fileio, promotions
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
    code = ("import sys; from genre_app import models, refits; found, errors = models.artifact_listing(); "
            "refits.unusable_fusions(found); assert len(found) >= 9 and not errors, errors; "
            "print(sorted(name for name in ('tensorflow', 'keras') if name in sys.modules))")
    finished = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              env={"GENRE_ARTIFACTS_DIR": str(PROJECT_ROOT / "artifacts"), "PATH": "/usr/bin:/bin",
                                   "PYTHONPATH": str(PROJECT_ROOT)}, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip().splitlines()[-1] == "[]"


def test_the_background_load_reports_each_step_and_the_models_it_could_not_load(two_artifacts):
    loading = model_loading.ModelLoading(two_artifacts, {}, warm_up=False)
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
    loading = model_loading.ModelLoading(two_artifacts, {}, warm_up=False)
    try:
        first = loading.order[0]  # the order Predict needs them in (model_loading.loading_order): tfidf_logreg here
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
    loading = model_loading.ModelLoading(two_artifacts, {})
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
    models.get_model_loading.clear()
    try:
        app = AppTest.from_file(str(PROJECT_ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
        app.run()
        assert not app.exception, [error.value for error in app.exception]
        # Both models are listed from their metadata; neither has loaded.
        assert set(app.table[1].value.index) >= {"course_cnn", "tfidf_logreg"}  # the full table
        assert [bar.proto.text for bar in app.get("progress")][0].startswith("Loading the models: ")
        assert not app.error
    finally:
        gate.set()
    models.start_loading_models().result(timeout=TIMEOUT)
    app.run()
    assert not app.exception, [error.value for error in app.exception]
    assert not app.get("progress")
    assert any("2 models loaded in" in caption.value for caption in app.caption)
    assert [error.value for error in app.error if "course_cnn" in error.value][0].startswith(
        "Skipped artifact `course_cnn`:")
    models.get_model_loading.clear()


def test_a_head_start_delays_the_load_until_a_page_hurries_it(two_artifacts):
    loading = model_loading.ModelLoading(two_artifacts, {}, warm_up=False, head_start=600)
    try:
        time.sleep(0.5)
        assert loading.steps_done == 0 and not loading.is_finished()  # still waiting: TensorFlow not imported
    finally:
        loading.hurry()
    assert loading.result(timeout=TIMEOUT).model_names() == ["tfidf_logreg"]
    assert loading.seconds < TIMEOUT


def test_promotions_are_a_sorted_hashable_key_and_ignore_a_damaged_file(monkeypatch, tmp_path):
    monkeypatch.setenv("GENRE_RUNS_DIR", str(tmp_path))
    fileio.write_json_atomically(tmp_path / promotions.PROMOTIONS_FILE, {"b": "/x/b", "a": "/x/a"})
    assert models.promotions() == (("a", "/x/a"), ("b", "/x/b"))
    hash(models.promotions())
    (tmp_path / promotions.PROMOTIONS_FILE).write_text('["not", "a", "mapping"]')
    assert models.promotions() == ()


# --- Loading the models in an order that answers the Predict page soon -------------------------------------

def metadata(name: str, kind: str, figure: float, parts: tuple[str, ...] = (), encoder: bool = False) -> dict:
    found = {"name": name, "input_kind": kind, "metrics": {"validation": {"macro_average_precision": figure}}}
    if parts:
        found["components"] = [{"name": part} for part in parts]
    if encoder:
        found["encoder"] = {"name": "minilm"}
    return found


def test_the_recommended_models_load_first_cheap_before_an_encoder_and_fusions_after_their_parts():
    found = [metadata("a_poster", "poster", 0.20), metadata("b_poster", "poster", 0.25),
             metadata("c_text", "overview", 0.40), metadata("d_encoder", "overview", 0.50, encoder=True),
             metadata("e_other_encoder", "overview", 0.45, encoder=True), metadata("f_slow_text", "overview", 0.19),
             metadata("g_fused_both", "both", 0.55, parts=("b_poster", "d_encoder")),
             metadata("h_fused_text", "overview", 0.52, parts=("c_text", "d_encoder")),
             metadata("i_course_fusion", "both", 0.23, parts=("a_poster", "f_slow_text"))]
    names = [m["name"] for m in found] + ["z_damaged"]  # no valid metadata: it fails to load, last
    order = model_loading.loading_order(names, found)
    # A summary alone: h_fused_text is recommended, its cheap part first; an example (both inputs):
    # g_fused_both's poster part; then the encoder they share, and the fusions as soon as their parts are in.
    assert order[:5] == ["c_text", "b_poster", "d_encoder", "g_fused_both", "h_fused_text"]
    assert order[5:] == ["a_poster", "f_slow_text", "i_course_fusion", "e_other_encoder", "z_damaged"]


def test_the_shipped_models_load_in_the_order_the_predict_page_needs_them():
    from genre_models.artifacts import list_artifact_folders, read_artifact_metadata
    from genre_models.config import PROJECT_ROOT

    artifacts = PROJECT_ROOT / "artifacts"
    order = model_loading.loading_order(list(list_artifact_folders(artifacts)), read_artifact_metadata(artifacts)[0])
    assert sorted(order) == sorted(list_artifact_folders(artifacts))
    # A summary alone first: text_ensemble's cheap part, the MiniLM encoder, the fusion right after; then
    # multimodal_fusion's poster part (on the pretrained poster encoder) and the fusion.
    assert order[:5] == ["tfidf_logreg", "minilm_tuned", "text_ensemble", "poster_effnet", "multimodal_fusion"]

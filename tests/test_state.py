"""genre_app/state.py: the Streamlit hook it replaces, the dataset location and cache key, the
promotions key, and the messages saying how to provide the dataset."""

from __future__ import annotations

import inspect
import os
import sys
import types

import pytest
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from conftest import build_synthetic_dataset
from genre_app import state
from genre_models import runs
from genre_models.config import CSV_NAME


def test_streamlit_still_has_the_hook_that_state_replaces():
    """Fails when a Streamlit upgrade removes or stops calling _clean_problem_modules: the app would then
    clear the Keras session after every rerun again (150-350 ms each), and state.py must be updated."""
    assert hasattr(script_runner, "_clean_problem_modules"), (
        "streamlit.runtime.scriptrunner.script_runner._clean_problem_modules is gone: find the new hook")
    assert "_clean_problem_modules" in inspect.getsource(script_runner.ScriptRunner), (
        "Streamlit's ScriptRunner no longer calls _clean_problem_modules: find the new hook")
    assert state.keep_keras_session_between_reruns() is True


def test_a_missing_hook_is_reported_not_ignored(monkeypatch, caplog):
    monkeypatch.delattr(script_runner, "_clean_problem_modules")
    assert state.keep_keras_session_between_reruns() is False
    assert "_clean_problem_modules" in caplog.text


def test_a_rerun_does_not_clear_the_keras_session(monkeypatch):
    """Behaviour, not just the attribute: a script run leaves a loaded Keras alone."""
    cleared = []
    fake_keras = types.SimpleNamespace(backend=types.SimpleNamespace(clear_session=lambda: cleared.append(1)))
    monkeypatch.setitem(sys.modules, "keras", fake_keras)

    def app():
        import streamlit as st

        import genre_app.state  # noqa: F401  (importing it replaces the hook)

        st.write("hello")

    app_test = AppTest.from_function(app)
    app_test.run()
    app_test.run()
    assert not app_test.exception
    assert cleared == []


def test_data_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GENRE_DATA_DIR", str(tmp_path / "films"))
    assert state.data_location() == tmp_path / "films"


def test_data_stamp_changes_when_the_csv_is_replaced(tmp_path):
    folder = build_synthetic_dataset(tmp_path / "data", num_films=12)
    before = state.data_stamp(folder)
    csv_path = folder / CSV_NAME
    stat = csv_path.stat()
    csv_path.write_text(csv_path.read_text())
    os.utime(csv_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert state.data_stamp(folder) not in (before, "missing")
    assert state.data_stamp(tmp_path / "nothing-here") == "missing"


def test_dataset_returns_a_message_instead_of_raising(monkeypatch, tmp_path):
    monkeypatch.setenv("GENRE_DATA_DIR", str(tmp_path / "nothing-here"))
    data, problem = state.dataset()
    assert data is None and problem


def test_dataset_loads_the_configured_folder(monkeypatch, tmp_path):
    folder = build_synthetic_dataset(tmp_path / "data", num_films=12)
    monkeypatch.setenv("GENRE_DATA_DIR", str(folder))
    data, problem = state.dataset()
    assert problem is None and data.num_films == 12


def test_promotions_are_a_sorted_hashable_key_and_ignore_a_damaged_file(monkeypatch, tmp_path):
    monkeypatch.setenv("GENRE_RUNS_DIR", str(tmp_path))
    runs.write_json_atomically(tmp_path / runs.PROMOTIONS_FILE, {"b": "/x/b", "a": "/x/a"})
    assert state.promotions() == (("a", "/x/a"), ("b", "/x/b"))
    hash(state.promotions())
    (tmp_path / runs.PROMOTIONS_FILE).write_text('["not", "a", "mapping"]')
    assert state.promotions() == ()


@pytest.mark.parametrize("read_only, mentions_upload", [("0", True), ("1", False)])
def test_data_setting_help_names_the_setting_and_offers_upload_only_when_allowed(monkeypatch, read_only,
                                                                                  mentions_upload):
    monkeypatch.setenv("GENRE_DATA_DIR", "/somewhere/Multimodal_IMDB_dataset")
    monkeypatch.setenv("GENRE_READ_ONLY", read_only)
    text = state.data_setting_help()
    assert "GENRE_DATA_DIR=/somewhere/Multimodal_IMDB_dataset" in text
    assert ("upload the zip" in text) is mentions_upload


# --- Loading the models in an order that answers the Predict page soon (issue 15) ------------------------------

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
    order = state.loading_order(names, found)
    # A summary alone: h_fused_text is recommended, its cheap part first; an example (both inputs):
    # g_fused_both's poster part; then the encoder they share, and the fusions as soon as their parts are in.
    assert order[:5] == ["c_text", "b_poster", "d_encoder", "g_fused_both", "h_fused_text"]
    assert order[5:] == ["a_poster", "f_slow_text", "i_course_fusion", "e_other_encoder", "z_damaged"]


def test_the_shipped_models_load_in_the_order_the_predict_page_needs_them():
    from genre_models.artifacts import list_artifact_folders, read_artifact_metadata
    from genre_models.config import PROJECT_ROOT

    artifacts = PROJECT_ROOT / "artifacts"
    order = state.loading_order(list(list_artifact_folders(artifacts)), read_artifact_metadata(artifacts)[0])
    assert sorted(order) == sorted(list_artifact_folders(artifacts))
    # A summary alone first: text_ensemble's cheap part, the MiniLM encoder, the fusion right after; then
    # multimodal_fusion's poster part (on the pretrained poster encoder) and the fusion.
    assert order[:5] == ["tfidf_logreg", "minilm_tuned", "text_ensemble", "poster_effnet", "multimodal_fusion"]

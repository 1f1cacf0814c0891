"""genre_app/streamlit_patches.py: the Streamlit hook it replaces, applied by an explicit call and never on
import (tests/test_navigation.py checks the other patch)."""

from __future__ import annotations

import inspect
import pkgutil
import subprocess
import sys
import types

from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

import genre_app
from genre_app import streamlit_patches
from genre_models.config import PROJECT_ROOT


def test_streamlit_still_has_the_hook_that_the_patch_replaces():
    """Fails when a Streamlit upgrade removes or stops calling _clean_problem_modules: the app would then
    clear the Keras session after every rerun again (150-350 ms each), and streamlit_patches.py must be updated."""
    assert hasattr(script_runner, "_clean_problem_modules"), (
        "streamlit.runtime.scriptrunner.script_runner._clean_problem_modules is gone: find the new hook")
    assert "_clean_problem_modules" in inspect.getsource(script_runner.ScriptRunner), (
        "Streamlit's ScriptRunner no longer calls _clean_problem_modules: find the new hook")
    assert streamlit_patches.keep_keras_session_between_reruns() is True


def test_a_missing_hook_is_reported_not_ignored(monkeypatch, caplog):
    monkeypatch.delattr(script_runner, "_clean_problem_modules")
    assert streamlit_patches.keep_keras_session_between_reruns() is False
    assert "_clean_problem_modules" in caplog.text


def test_a_rerun_does_not_clear_the_keras_session(monkeypatch):
    """Behaviour, not just the attribute: a script run leaves a loaded Keras alone."""
    cleared = []
    fake_keras = types.SimpleNamespace(backend=types.SimpleNamespace(clear_session=lambda: cleared.append(1)))
    monkeypatch.setitem(sys.modules, "keras", fake_keras)

    def app():
        import streamlit as st

        from genre_app.streamlit_patches import apply_streamlit_patches

        apply_streamlit_patches()

        st.write("hello")

    app_test = AppTest.from_function(app)
    app_test.run()
    app_test.run()
    assert not app_test.exception
    assert cleared == []


def test_importing_the_app_modules_patches_nothing():
    """Every genre_app module imported (as a page does) leaves Streamlit's hook and page mode as they were:
    the patches are applied only by apply_streamlit_patches()."""
    names = [f"genre_app.{module.name}" for module in pkgutil.iter_modules(genre_app.__path__)]
    code = ("import importlib, sys; from streamlit.runtime.scriptrunner import script_runner; "
            "from streamlit.runtime.pages_manager import PagesManager; "
            "hook = script_runner._clean_problem_modules; legacy = PagesManager.uses_pages_directory; "
            f"[importlib.import_module(name) for name in {names!r}]; "
            "assert script_runner._clean_problem_modules is hook, 'the Keras hook was replaced on import'; "
            "assert PagesManager.uses_pages_directory == legacy, 'the page mode was switched on import'; "
            "from genre_app.streamlit_patches import apply_streamlit_patches; apply_streamlit_patches(); "
            "assert script_runner._clean_problem_modules is not hook; print('ok')")
    finished = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert finished.stdout.strip().splitlines()[-1] == "ok"

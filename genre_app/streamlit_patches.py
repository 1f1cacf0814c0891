"""The two Streamlit patches the app relies on, applied by an explicit call at the top of every page.

Applied by ``apply_streamlit_patches()`` (streamlit_app.py and each script in pages/ call it before drawing
anything), never on import: importing a genre_app module changes nothing in Streamlit.
"""

from __future__ import annotations

import logging
import threading

import streamlit as st

# Set once this process has switched Streamlit's legacy pages/ mode off (run_through_the_apps_navigation).
NAVIGATION_SWITCHED = threading.Event()


def keep_keras_session_between_reruns() -> bool:
    """Stop Streamlit from calling keras.backend.clear_session() after every script run; return
    whether the hook was found and replaced.

    Streamlit does so to protect apps that build a new Keras model on each rerun; the call
    runs a full garbage collection and TensorFlow reset, 150-350 ms per rerun with our models
    loaded, which made every slider move lag. This app builds no model in the server (models
    are loaded once and cached; training runs in separate worker processes), so there is
    nothing to clear. The hook is private to Streamlit: tests/test_streamlit_patches.py fails when an upgrade
    removes it, and the server logs a warning, so the slowdown cannot come back silently.
    """
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:
        script_runner = None
    if script_runner is None or not hasattr(script_runner, "_clean_problem_modules"):
        logging.getLogger(__name__).warning(
            "Streamlit no longer has script_runner._clean_problem_modules; every rerun may now clear the "
            "Keras session (150-350 ms). Find the new hook and update genre_app/streamlit_patches.py.")
        return False
    script_runner._clean_problem_modules = lambda: None
    return True


def run_through_the_apps_navigation() -> None:
    """Make the entry point's st.navigation serve every page from the first visit on.

    Streamlit serves the pages/ folder the legacy way (each script on its own, a sidebar listing the file
    names under "streamlit app") until some run has called st.navigation. So a server's first visitor
    opening a page's address (a shared link to /Evaluate, say) skipped streamlit_app.py altogether. Every
    page calls this first: on the process's first run it switches the legacy mode off and reruns, and the
    rerun goes through streamlit_app.py to the same page, address and query included. The switch is
    Streamlit's own class attribute (st.navigation sets it the same way); tests/test_navigation.py fails when
    an upgrade renames it. Once per process, as Streamlit switches: AppTest sets the attribute back for every
    run, and a switch (with its rerun) in a later run would drop that run's button clicks.
    """
    if NAVIGATION_SWITCHED.is_set():
        return
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    context = get_script_run_ctx()
    if PagesManager.uses_pages_directory and context is not None:
        NAVIGATION_SWITCHED.set()
        PagesManager.uses_pages_directory = False
        # The entry point calls st.navigation itself later in this run: no rerun for it (it cost Home's first
        # visit a second start of its script).
        if context.page_script_hash != context.pages_manager.main_script_hash:
            st.rerun()


def apply_streamlit_patches() -> None:
    """Apply both patches (each page calls this first): keep the Keras session between reruns, and serve
    every page through the app's navigation from the first visit on."""
    keep_keras_session_between_reruns()
    run_through_the_apps_navigation()

"""The models the pages use, loaded once per server process (genre_app.model_loading in the background):
the predictor with a progress bar while it loads, the artifacts' metadata without loading, the baseline, and
the stop a page makes when the dataset or the models are missing."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from genre_app.data import data_setting_help, dataset
from genre_app.model_loading import ModelLoading
from genre_models.artifacts import read_artifact_metadata
from genre_models.config import resolve_artifacts_dir
from genre_models.promotions import read_promotions


@st.cache_resource(show_spinner=False, max_entries=4)
def get_model_loading(artifacts_dir: str, promoted: tuple[tuple[str, str], ...] = (),
                      _head_start: float = 0.0) -> ModelLoading:
    """Start loading every artifact in the background, promoted runs replacing theirs; return the loading
    (cached: one load per server process and set of artifacts; the head start is not part of the key)."""
    return ModelLoading(Path(artifacts_dir), dict(promoted), head_start=_head_start)


def get_predictor(artifacts_dir: str, promoted: tuple[tuple[str, str], ...] = ()):
    """Return the predictor of every artifact, waiting (without a progress bar) for the background load.

    For code inside cached functions, where anything drawn would be replayed on every cache hit; pages
    call predictor(), which shows the progress.
    """
    loading = get_model_loading(artifacts_dir, promoted)
    loading.hurry()
    return loading.result()


# How long a load started by a page that does not need the models (Home, say) waits before importing
# TensorFlow. The import holds Python's lock for ~3 s of CPU and, started at once, delayed Home's first
# drawing from ~2.8 s to ~4.5 s after the server started; a page that needs the models cuts the wait short
# (hurry). Measured with benchmarks.first_use (load 1.6-2.8, medians of 3): no head start, Home 4.5 s and
# the first prediction 7.0 s; 1.0 s, 3.1 s and 7.1 s; 1.5 s, 2.8 s and 6.9 s; 2.0 s, 3.0 s and 7.5 s.
HOME_HEAD_START_SECONDS = 1.5


def start_loading_models(head_start: float = 0.0) -> ModelLoading:
    """Start loading the configured artifacts in the background (once: later calls return the same loading).

    ``head_start``: seconds to wait first, for a page that does not need the models itself; a call without
    one (a page that needs them) ends any head start still running."""
    loading = get_model_loading(str(resolve_artifacts_dir()), promotions(), _head_start=head_start)
    if not head_start:
        loading.hurry()
    return loading


def promotions() -> tuple[tuple[str, str], ...]:
    """Return the promoted training runs as a hashable cache key."""
    return tuple(sorted(read_promotions().items()))


def predictor():
    """Return the cached predictor for the configured artifacts folder and promotions; while the models
    are still loading, a progress bar says which one loads (the page waits for them)."""
    loading = start_loading_models()
    wait_with_progress(loading, loading.is_finished)
    return loading.result()


def wait_with_progress(loading: ModelLoading, done) -> None:
    """Wait until ``done()`` (checked every 0.1 s), with a progress bar saying which model loads meanwhile;
    forget a failed load, so the next page view tries again instead of keeping the failure."""
    if not done():
        bar = st.progress(loading.fraction(), text=loading.describe())
        while not done():
            loading.finished.wait(0.1)
            bar.progress(loading.fraction(), text=loading.describe())
        bar.empty()
    if loading.error is not None:
        get_model_loading.clear()


def predictor_answering(given) -> tuple[object, list[str]]:
    """Return the predictor of the models loaded so far once one of them can answer inputs of these kinds
    ({"poster"}, {"overview"} or both; a progress bar meanwhile), and the models still loading that would
    answer them too (the Predict page names them and adds their answers when they are in). Raises the
    load's error if it failed."""
    loading = start_loading_models()
    wait_with_progress(loading, lambda: loading.can_answer(given))
    if loading.error is not None:
        raise loading.error
    still_loading = loading.still_loading(given)
    if still_loading:
        loading.ask_for(given)
    return loading.available(), still_loading


def artifact_listing() -> tuple[list[dict], dict[str, str]]:
    """Return the models' metadata and the errors of unusable artifacts (cheap: no model loading)."""
    return read_artifact_metadata(resolve_artifacts_dir(), dict(promotions()))


@st.cache_data(show_spinner=False, max_entries=4)
def get_baseline(path: str, stamp: float) -> dict | None:
    """Return the genre-frequency baseline of artifacts/baselines.json, or None when absent or damaged."""
    from genre_models.fileio import read_json

    content = read_json(path)
    return content.get("genre_frequency") if isinstance(content, dict) else None


def baseline() -> dict | None:
    """Return the "always the most common genres" baseline recorded beside the shipped artifacts."""
    path = resolve_artifacts_dir() / "baselines.json"
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return None
    return get_baseline(str(path), stamp)


def require_dataset_and_models(activity: str):
    """Return (dataset, predictor) or stop the page with a message saying what is missing and how to fix it."""
    data, problem = dataset()
    if data is None:
        st.warning(f"{activity} needs the dataset. {problem}")
        st.caption(data_setting_help())
        st.stop()
    loaded = predictor()
    if not loaded.models:
        st.error("No usable model artifact is installed; see the Home page.")
        st.stop()
    return data, loaded

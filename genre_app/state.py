"""Cached resources shared by the pages: models, datasets and per-split scores.

Everything heavy (TensorFlow import, model loading, poster decoding, scoring a
split) happens once per server process, not on every rerun. The models load in a
background thread (ModelLoading), started by the first page view, so Home opens
without waiting for TensorFlow and a page that needs the models shows which one loads.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

import streamlit as st

from genre_models.artifacts import (
    describe_unavailable, find_unavailable_models, list_artifact_folders, list_part_names, read_artifact_metadata,
)
from genre_models.config import (
    CSV_NAME,
    DATA_DIR_ENV,
    DEFAULT_DATA_DIR,
    PROJECT_ROOT,
    read_only_reason,
    resolve_artifacts_dir,
    resolve_data_dir,
)
from genre_models.promotions import read_promotions
from genre_models.dataset import DatasetError, MovieDataset, load_dataset, locate_dataset
from genre_models.inputs import OVERVIEW, POSTER, kinds_read_by

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def keep_keras_session_between_reruns() -> bool:
    """Stop Streamlit from calling keras.backend.clear_session() after every script run; return
    whether the hook was found and replaced.

    Streamlit does so to protect apps that build a new Keras model on each rerun; the call
    runs a full garbage collection and TensorFlow reset, 150-350 ms per rerun with our models
    loaded, which made every slider move lag. This app builds no model in the server (models
    are loaded once and cached; training runs in separate worker processes), so there is
    nothing to clear. The hook is private to Streamlit: tests/test_state.py fails when an upgrade
    removes it, and the server logs a warning, so the slowdown cannot come back silently.
    """
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:
        script_runner = None
    if script_runner is None or not hasattr(script_runner, "_clean_problem_modules"):
        logging.getLogger(__name__).warning(
            "Streamlit no longer has script_runner._clean_problem_modules; every rerun may now clear the "
            "Keras session (150-350 ms). Find the new hook and update genre_app/state.py.")
        return False
    script_runner._clean_problem_modules = lambda: None
    return True


keep_keras_session_between_reruns()


def run_through_the_apps_navigation() -> None:
    """Make the entry point's st.navigation serve every page from the first visit on.

    Streamlit serves the pages/ folder the legacy way (each script on its own, a sidebar listing the file
    names under "streamlit app") until some run has called st.navigation. So a server's first visitor
    opening a page's address (a shared link to /Evaluate, say) skipped streamlit_app.py altogether. Every
    page imports this module: on that first run it switches the legacy mode off and reruns, and the rerun
    goes through streamlit_app.py to the same page, address and query included. The switch is Streamlit's
    own class attribute (st.navigation sets it the same way); tests/test_navigation.py fails when an
    upgrade renames it.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    context = get_script_run_ctx()
    if PagesManager.uses_pages_directory and context is not None:
        PagesManager.uses_pages_directory = False
        # The entry point calls st.navigation itself later in this run: no rerun for it (it cost Home's first
        # visit a second start of its script).
        if context.page_script_hash != context.pages_manager.main_script_hash:
            st.rerun()


run_through_the_apps_navigation()


def data_location() -> Path:
    """Return the configured dataset location (GENRE_DATA_DIR, else the default folder)."""
    return resolve_data_dir()


def data_stamp(folder: Path) -> str:
    """Return a cache key part that changes when the dataset's CSV is replaced."""
    try:
        csv_path = locate_dataset(folder) / CSV_NAME
        return f"{csv_path}:{csv_path.stat().st_mtime_ns}"
    except (DatasetError, OSError):
        return "missing"


# What the background load predicts once the models are in, so the first prediction of each input
# combination does not wait for TensorFlow to trace its graph (~3 s each on this machine's 2 cores).
WARM_UP_OVERVIEW = "A detective hunts a killer through a rainy city."
# The inputs the Predict page is most likely to get first: a typed summary, then an example (poster and summary),
# then a poster alone. The models recommended for them load first (loading_order).
LIKELY_INPUTS = (frozenset({OVERVIEW}), frozenset({POSTER, OVERVIEW}), frozenset({POSTER}))


def loading_order(names: list[str], found: list[dict]) -> list[str]:
    """Return the artifacts' names in the order to load them, so the Predict page's first answers come soon.

    First the parts of the models the Predict page would recommend (genre_app.answers.recommend's choice:
    the best by validation macro AP, a fused model when both inputs are given) for the inputs in
    LIKELY_INPUTS, in that order of inputs, the cheap ones before a model on a pretrained encoder (the first
    of those imports keras-hub, ~2 s); then the other networks, cheap first; each fused model right after
    its last part (it loads in no time). Names without valid metadata (they fail to load) come last.
    ``found``: read_artifact_metadata's metadata."""
    from genre_app.answers import validation_figure

    by_name = {metadata["name"]: metadata for metadata in found if metadata.get("name") in names}

    def parts(name: str) -> list[str]:
        return list_part_names(by_name[name]) or [name]

    wanted: dict[str, int] = {}  # network -> the first likely input it answers as part of the recommended model
    for rank, given in enumerate(LIKELY_INPUTS):
        candidates = [name for name in by_name if kinds_read_by(by_name[name].get("input_kind")) <= given]
        if len(given) > 1:
            candidates = [name for name in candidates if kinds_read_by(by_name[name].get("input_kind")) == given] or candidates
        if candidates:
            best = max(candidates, key=lambda name: validation_figure(by_name[name]))
            for part in parts(best):
                wanted.setdefault(part, rank)
    networks = [name for name in by_name if not by_name[name].get("components")]
    networks.sort(key=lambda name: (name not in wanted, "encoder" in by_name[name], wanted.get(name, 0),
                                    names.index(name)))
    order: list[str] = []
    fusions = [name for name in by_name if by_name[name].get("components")]
    for name in networks:
        order.append(name)
        for fusion in fusions:
            if fusion not in order and set(parts(fusion)) <= set(order):
                order.append(fusion)
    return order + [name for name in names if name not in order]


class ModelLoading:
    """Every artifact loading in a background thread, one model after the other (loading_order), into a
    GenrePredictor.

    Pages read how far it is (``describe``, ``fraction``), wait for it with ``result``, or use the models
    loaded so far with ``available`` (the Predict page answers with them and names the ones still loading,
    ``still_loading``). Once the models are in, the thread goes on to trace the predictor's graphs for an
    overview, a poster and both (the predictor's own lock makes a page's first prediction wait for, not
    repeat, a trace).
    """

    def __init__(self, artifacts_dir: Path, overrides: dict[str, str], warm_up: bool = True,
                 head_start: float = 0.0):
        self.artifacts_dir, self.overrides = Path(artifacts_dir), dict(overrides)
        # Seconds the load waits before importing TensorFlow, unless a page needing the models hurries it
        # (see HOME_HEAD_START_SECONDS).
        self.head_start = head_start
        self.hurried = threading.Event()
        self.names = list(list_artifact_folders(self.artifacts_dir, self.overrides))
        # From the metadata alone (no model loaded): the inputs each model needs, and which ones this machine
        # cannot run for want of an optional package (never "still loading").
        found, _ = read_artifact_metadata(self.artifacts_dir, self.overrides)
        self.kinds = {metadata["name"]: kinds_read_by(metadata.get("input_kind")) for metadata in found}
        self.unavailable = find_unavailable_models(found)  # name -> why
        self.order = loading_order(self.names, found)
        # What loads now ("TensorFlow" while it is imported, then each model's name); None once finished.
        self.current: str | None = "TensorFlow"
        self.loaded_count = 0
        # Steps of the progress bar done: TensorFlow's import, then one per artifact.
        self.steps_done = 0
        # The models loaded so far and the load errors so far (changed under self.lock).
        self.models, self.errors = [], {}
        self.lock = threading.Lock()
        self.snapshot = (0, None)  # (models tried, predictor of those loaded) made by available()
        self.asked: list[frozenset[str]] = []  # inputs answered while loading (ask_for), warmed up first
        self.predictor = None
        self.error: BaseException | None = None
        self.started = time.perf_counter()
        self.seconds: float | None = None
        self.finished = threading.Event()
        self.warm_up = warm_up
        # Not a daemon (said explicitly: a thread inherits the flag of the one starting it, and Streamlit's script
        # threads are daemons): a process ending while TensorFlow imports or traces in it aborts ("terminate
        # called..."); the process waits for the load and the warm-up instead.
        self.thread = threading.Thread(target=self.run, name="genre-model-loading", daemon=False)
        self.thread.start()

    def hurry(self) -> None:
        """Skip what is left of the head start: a page needs the models now."""
        self.hurried.set()

    def load_one(self, name: str):
        """Load one artifact; return (loaded models, errors by name), as load_all_artifacts does."""
        from genre_models.artifacts import load_all_artifacts

        return load_all_artifacts(self.artifacts_dir, names=[name], overrides=self.overrides)

    def run(self) -> None:
        """Load every artifact (the thread's body), then warm the predictor's graphs up."""
        try:
            self.hurried.wait(self.head_start)
            import tensorflow  # noqa: F401 - the first and longest step, named on its own

            self.steps_done = 1
            for number, name in enumerate(self.order):
                self.current = name
                loaded, problems = self.load_one(name)
                with self.lock:
                    self.models += loaded
                    self.errors.update(problems)
                self.loaded_count = number + 1
                self.steps_done = number + 2
            self.predictor = self.predictor_of(self.models, self.errors)
        except BaseException as error:  # noqa: BLE001 - handed to the page that waits, which shows it
            self.error = error
        finally:
            self.seconds = time.perf_counter() - self.started
            self.current = None
            self.finished.set()
        if self.warm_up and self.predictor is not None:
            self.warm_up_predictions()

    def predictor_of(self, models: list, errors: dict):
        """Return a GenrePredictor of these models and load errors, both in name order, whatever order they
        loaded in (every page lists them so)."""
        from genre_models.inference import GenrePredictor

        def rank(name: str) -> int:
            return self.names.index(name) if name in self.names else len(self.names)

        return GenrePredictor(sorted(models, key=lambda loaded: rank(loaded.name)),
                              dict(sorted(errors.items(), key=lambda item: rank(item[0]))))

    def available(self):
        """Return a GenrePredictor of the models loaded so far (every model's once finished), or None while
        none has loaded; made once per model loaded, when asked (its graphs trace on its first prediction)."""
        if self.predictor is not None or self.is_finished():
            return self.predictor
        with self.lock:
            tried = len(self.models) + len(self.errors)
            if not self.models:
                return None
            if self.snapshot[0] != tried:
                self.snapshot = (tried, self.predictor_of(self.models, self.errors))
            return self.snapshot[1]

    def can_answer(self, given) -> bool:
        """Return whether a model loaded so far reads only inputs in ``given`` (or every load is over)."""
        if self.is_finished():
            return True
        with self.lock:
            return any(loaded.input_kinds <= set(given) for loaded in self.models)

    def still_loading(self, given) -> list[str]:
        """Return the models not loaded yet that would answer inputs of these kinds, in loading order (none
        this machine cannot run)."""
        if self.is_finished():
            return []
        with self.lock:
            tried = {loaded.name for loaded in self.models} | set(self.errors)
        return [name for name in self.order if name not in tried and name not in self.unavailable
                and self.kinds.get(name, frozenset({"?"})) <= set(given)]

    def describe_unavailable(self) -> list[str]:
        """Return one line per reason models cannot run on this machine: the loaded predictor's once there is
        one, until then what the metadata says (genre_models.artifacts.find_unavailable_models)."""
        if self.predictor is not None:
            return self.predictor.describe_unavailable()
        return describe_unavailable(self.unavailable)

    def ask_for(self, given) -> None:
        """Note that a page answered inputs of these kinds while the models loaded: it will predict them again
        once every model is in, so the warm-up traces their graph first."""
        kinds = frozenset(given)
        if kinds and kinds not in self.asked:
            self.asked.append(kinds)

    def warm_up_predictions(self) -> None:
        """Predict once for an overview, both and a poster (the inputs pages asked for while the models loaded
        first), so each graph is traced before a user asks."""
        import numpy as np

        poster = np.full((300, 150, 3), 128, dtype=np.uint8)
        for kinds in dict.fromkeys([*self.asked, *LIKELY_INPUTS]):
            inputs = {"poster": poster if POSTER in kinds else None,
                      "overview": WARM_UP_OVERVIEW if OVERVIEW in kinds else None}
            try:
                self.predictor.predict(**inputs)
            except Exception as error:  # noqa: BLE001 - a page's own prediction will report the same problem
                logging.getLogger(__name__).warning("Warming up the models failed: %s", error)
                return

    def is_finished(self) -> bool:
        """Return whether every model has loaded (or the load failed)."""
        return self.finished.is_set()

    def fraction(self) -> float:
        """Return the share of the load done (TensorFlow's import counts as one step, each artifact as one)."""
        return 1.0 if self.is_finished() else self.steps_done / (len(self.names) + 1)

    def describe(self) -> str:
        """Say what loads now, for a progress bar or a status line."""
        if self.is_finished():
            return f"{len(self.names)} models loaded in {self.seconds:.1f} s."
        step = "importing TensorFlow" if self.current == "TensorFlow" else \
            f"{self.current} ({min(self.loaded_count + 1, len(self.names))} of {len(self.names)})"
        return f"Loading the models: {step}, {time.perf_counter() - self.started:.0f} s so far..."

    def result(self, timeout: float | None = None):
        """Return the predictor once loaded (waiting up to ``timeout`` seconds, None: no limit); raise the
        load's error if it failed."""
        if not self.finished.wait(timeout):
            raise TimeoutError(f"the models are still loading after {timeout} s")
        if self.error is not None:
            raise self.error
        return self.predictor


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


@st.cache_resource(show_spinner="Reading the dataset...", max_entries=8)
def get_dataset(location: str, image_size: tuple[int, int] | None, stamp: str) -> MovieDataset:
    """Load (and cache) the dataset at a location, optionally with posters at a size."""
    return load_dataset(location, image_size=image_size)


def dataset(image_size: tuple[int, int] | None = None) -> tuple[MovieDataset | None, str | None]:
    """Return the configured dataset, or None and a message saying how to provide it."""
    location = data_location()
    try:
        return get_dataset(str(location), image_size, data_stamp(location)), None
    except DatasetError as error:
        return None, str(error)


class ServerCache:
    """Results kept for the server's life, as st.cache_resource keeps them, for work that draws its progress
    while it runs: st.cache_resource replays whatever its function drew on every later hit, so a scoring's
    progress bars came back, finished and never cleared, on each later page view that read those scores.

    One computation per key at a time (a second caller of the same key waits for the first's result);
    past ``max_entries`` the least recently used entry goes. ``clear()`` forgets every entry.
    """

    def __init__(self, compute, max_entries: int):
        self.compute, self.max_entries = compute, max_entries
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        self.key_locks: dict = {}

    def __call__(self, *key, progress=None):
        """Return ``compute(*key, progress=progress)``, computed once per key."""
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
            key_lock = self.key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self.lock:
                if key in self.entries:
                    return self.entries[key]
            value = self.compute(*key, progress=progress)
            with self.lock:
                self.entries[key] = value
                while len(self.entries) > self.max_entries:
                    self.entries.popitem(last=False)
                self.key_locks.pop(key, None)
        return value

    def clear(self) -> None:
        """Forget every entry (a new dataset was imported, say)."""
        with self.lock:
            self.entries.clear()


def score_split_of(model_name: str, location: str, split: str, stamp: str, artifacts_dir: str,
                   promoted: tuple[tuple[str, str], ...] = (), progress=None):
    """Return one model's scores on one split (get_split_scores caches them, so threshold changes never re-run
    the model).

    The validation and test scores shipped beside the artifact (split_scores.npz) are read when
    they still match the artifact and this dataset (genre_models.split_scores); anything else is
    scored here, chunk by chunk, calling ``progress(model, films done, films in total)``.
    """
    from genre_models.scoring import read_or_score_split, score_split

    models = get_predictor(artifacts_dir, promoted)
    loaded = models.get(model_name)
    def score():
        return score_split(
            models, model_name,
            dataset_for=lambda image_size: get_dataset(location, image_size, stamp),
            split=split,
            score_part=lambda name: get_split_scores(name, location, split, stamp, artifacts_dir, promoted,
                                                     progress=progress),
            progress=(lambda done, total, what: progress(model_name, done, total)) if progress else None,
        )

    fingerprint = get_dataset(location, None, stamp).fingerprint
    return read_or_score_split(loaded.folder, loaded.metadata, split, fingerprint, score)[0]


# Scores by (model, dataset location, split, data stamp, artifacts folder, promotions).
get_split_scores = ServerCache(score_split_of, max_entries=32)


def split_scores(model_name: str, split: str, progress=None):
    """Return the cached scores of a model on a split of the configured dataset; ``progress(model,
    done, total)`` hears of any scoring that must run (widgets.ScoringProgress shows it)."""
    location = data_location()
    return get_split_scores(model_name, str(location), split, data_stamp(location), str(resolve_artifacts_dir()),
                            promotions(), progress=progress)


@st.cache_resource(show_spinner=False, max_entries=64)
def get_answer_reference(folder: str, created_at: str | None, _metadata: dict):
    """Return how decisive a model was on its validation films (genre_app.answers.Reference), from
    the split scores shipped with it; None when it has none usable."""
    from genre_app.answers import reference_from_scores
    from genre_models.split_scores import read_split_scores

    stored = read_split_scores(folder, _metadata, "validation")
    return None if stored is None else reference_from_scores(stored.labels, stored.scores)


def answer_reference(loaded):
    """Return the cached validation reference of a loaded model (see get_answer_reference)."""
    return get_answer_reference(str(loaded.folder), loaded.metadata.get("created_at"), loaded.metadata)


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


def import_dataset_zip(uploaded_bytes: bytes, progress) -> Path:
    """Install an uploaded dataset zip as the default data folder; return that folder.

    genre_models.dataset.import_dataset_zip does the work (checks, a staging folder of
    its own, a load before anything is replaced, one swap; a DatasetError saying why
    otherwise, with the previous dataset as it was); here the cached dataset and
    scores are forgotten so every page reads the new data.
    """
    # Imported under another name: this wrapper keeps the name the pages call.
    from genre_models.dataset import import_dataset_zip as install_dataset_zip

    folder = install_dataset_zip(uploaded_bytes, PROJECT_ROOT / DEFAULT_DATA_DIR, progress=progress)
    get_dataset.clear()
    get_split_scores.clear()
    return folder


def data_setting_help() -> str:
    """Return how the dataset location is configured, for display."""
    current = os.environ.get(DATA_DIR_ENV)
    where = f"`{DATA_DIR_ENV}={current}`" if current else f"not set, so the default `{DEFAULT_DATA_DIR}` is used"
    # A read-only deployment offers no zip import, so only the setting is suggested.
    upload = "" if read_only_reason() else ", or upload the zip on the Home page"
    return (
        f"The dataset location comes from the `{DATA_DIR_ENV}` environment variable ({where}). "
        f"To change it, restart the app with `{DATA_DIR_ENV}=/path/to/Multimodal_IMDB_dataset` "
        f"(a folder or the .zip){upload}."
    )


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


# --- Links you can share (issue 14) ------------------------------------------------------------------------------
# A page keeps its choices in the URL by binding each widget to a query parameter (bind="query-params", the
# widget's key naming the parameter): a copied URL opens the same view. A bound widget silently drops a value
# it does not offer; warn_about_unknown_link_values says so first.

def warn_about_unknown_link_values(parameter: str, allowed, what: str,
                                   instead: str = "so the page shows its default instead") -> list[str]:
    """Warn about the values of a URL query parameter that the page cannot show (a link naming a model that
    is not installed here, say), before the widget bound to it falls back to its default; return them.

    ``allowed``: the values offered, or a function telling whether a value is acceptable (numbers);
    ``instead``: what the page does about it."""
    accepts = allowed if callable(allowed) else (lambda value, offered=set(map(str, allowed)): value in offered)
    unknown = [value for value in st.query_params.get_all(parameter) if not accepts(value)]
    if unknown:
        # Shown as code, cut short and without backticks: the value comes from whoever wrote the link.
        named = ", ".join(f"`{value[:60].replace('`', chr(39))}`" for value in unknown)
        offered = "" if callable(allowed) else f" Available: {', '.join(map(str, allowed))}."
        st.warning(f"This link asks for {what} {named} (`{parameter}=` in the address), which this page cannot "
                   f"show here, {instead}.{offered}")
    return unknown


def is_whole_number_between(low: int, high: int | None = None):
    """Return a check that a URL value is a whole number in [low, high] (no upper bound when high is None)."""
    def accepts(value: str) -> bool:
        try:
            number = int(value)
        except ValueError:
            return False
        return number >= low and (high is None or number <= high)

    return accepts


# --- Explanations (issue 13) ------------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=4)
def get_explainer(artifacts_dir: str, promoted: tuple[tuple[str, str], ...] = ()):
    """Return the explainer of the cached predictor's models (its traced functions are built once)."""
    from genre_models.explain import Explainer

    return Explainer(get_predictor(artifacts_dir, promoted).models)


@st.cache_data(show_spinner="Explaining...", max_entries=256)
def get_explanation(model_name: str, poster_key: str | None, overview: str | None, genre: str, artifacts_dir: str,
                    promoted: tuple[tuple[str, str], ...] = (), _poster=None):
    """Explain one model's genre for one input; cached per (model, poster digest, overview, genre, models)."""
    return get_explainer(artifacts_dir, promoted).explain(model_name, poster=_poster, overview=overview, genre=genre)


def explanation(model_name: str, poster, overview: str | None, genre: str):
    """Return why a model gave a genre its probability for this input, computed once per (model, input,
    genre); only the inputs the model reads are used. Raises ValueError (a missing input, say)."""
    from genre_models.inputs import OVERVIEW, POSTER, fingerprint_poster

    kinds = predictor().get(model_name).input_kinds
    poster = poster if POSTER in kinds and poster is not None else None
    overview = overview if OVERVIEW in kinds else None
    poster_key = fingerprint_poster(poster)
    return get_explanation(model_name, poster_key, overview, genre, str(resolve_artifacts_dir()), promotions(),
                           _poster=poster)

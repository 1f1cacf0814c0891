"""The models loading in a background thread, in the order that makes the Predict page's first answers come
soon (ModelLoading, loading_order).

Home opens without waiting for TensorFlow, and a page that needs the models shows which one loads.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from genre_models.artifacts import (
    describe_unavailable, find_unavailable_models, list_artifact_folders, list_part_names, read_artifact_metadata,
)
from genre_models.inputs import OVERVIEW, POSTER, kinds_read_by

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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

"""Predicting genres for one film: every loaded model behind one call (GenrePredictor.predict).

Single films go through scoring.make_network_call traced once per input combination, never
``model.predict`` (which sets up a whole input pipeline per call); models on one pretrained encoder
share it. Fused models are computed from their parts' scores by genre_models.fusion. Whole splits
and folders are scored by genre_models.scoring.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from genre_models.artifacts import (
    LoadedModel,
    describe_fusion_unavailable,
    describe_unavailable,
    is_unavailable,
    load_all_artifacts,
)
from genre_models.fusion import find_unusable_part, fuse_available
from genre_models.inputs import (
    MAX_OVERVIEW_CHARACTERS,
    OVERVIEW,
    POSTER,
    prepare_overview,
    prepare_poster,
)
from genre_models.scoring import (  # noqa: F401  (record_split_scores, score_split: re-exported for scripts)
    make_network_call,
    record_split_scores,
    score_split,
)

# How many genres a "top k" shows.
TOP_K = 3


@dataclass
class ModelPrediction:
    """One model's answer for one film."""

    # Model name.
    model: str
    # What the model reads: POSTER, OVERVIEW or BOTH.
    input_kind: str
    # Probability per genre, in the model's genre order.
    probabilities: dict[str, float]
    # The TOP_K most probable genres, most probable first.
    top: list[str]
    # Genres whose probability reaches the model's tuned threshold.
    predicted: list[str]


@dataclass
class PredictionResult:
    """Every applicable model's answer for one film, plus notes for the user."""

    # Answers, one per model that had its input.
    predictions: list[ModelPrediction] = field(default_factory=list)
    # Notes such as "the summary was truncated".
    notes: list[str] = field(default_factory=list)


def describe_scores(loaded: LoadedModel, probabilities: np.ndarray) -> ModelPrediction:
    """Turn one film's probability vector into a ModelPrediction."""
    order = np.argsort(-probabilities, kind="mergesort")
    return ModelPrediction(
        model=loaded.name,
        input_kind=loaded.input_kind,
        probabilities={genre: float(p) for genre, p in zip(loaded.genres, probabilities)},
        top=[loaded.genres[i] for i in order[:TOP_K]],
        predicted=[genre for genre, p, t in zip(loaded.genres, probabilities, loaded.thresholds) if p >= t],
    )


def make_shared_encoder_calls(networks: list[LoadedModel]) -> list[tuple[list[str], Callable]]:
    """Return [(model names, call(texts) -> {name: probabilities})], one per pretrained encoder read
    by two or more of the networks (see scoring.make_shared_encoder_call)."""
    groups = {}
    for loaded in networks:
        encoder = loaded.metadata.get("encoder")
        if encoder and loaded.input_kind == OVERVIEW:
            groups.setdefault(encoder["name"], {})[loaded.name] = (loaded.model, encoder)
    if not any(len(wrapped) > 1 for wrapped in groups.values()):
        return []
    from genre_models.scoring import make_shared_encoder_call

    calls = []
    for name, wrapped in groups.items():
        call = make_shared_encoder_call(name, wrapped) if len(wrapped) > 1 else None
        if call is not None:
            calls.append((list(wrapped), call))
    return calls


class GenrePredictor:
    """Every loaded model behind one call: predict(poster=..., overview=...)."""

    def __init__(self, models: list[LoadedModel], load_errors: dict[str, str] | None = None):
        errors = dict(load_errors or {})
        # Models this machine cannot run for want of an optional package (their artifacts are sound), by
        # model name, with the reason; fused models with such a part included. Shown apart from damage.
        self.unavailable = {name: reason for name, reason in errors.items() if is_unavailable(reason)}
        # Artifacts that could not be loaded (damaged, incompatible) or fused models that cannot run, by
        # model name, with the reason.
        self.load_errors = {name: reason for name, reason in errors.items() if not is_unavailable(reason)}
        self.models = self.drop_unusable_fusions(models)
        self._networks = [loaded for loaded in self.models if not loaded.is_fusion]
        self._calls = {loaded.name: make_network_call(loaded.model) for loaded in self._networks}
        # Models on one pretrained encoder, run together by predict: [(names, call(texts) -> {name: probabilities})].
        self._shared_calls = make_shared_encoder_calls(self._networks)
        # Traced functions, each traced once (lazily, on first use) and then called as a concrete
        # function: one per input combination for predict, one per network for score_one.
        self._functions, self._concrete = {}, {}
        self._tracing = threading.Lock()

    def drop_unusable_fusions(self, models: list[LoadedModel]) -> list[LoadedModel]:
        """Keep a fused model only if its parts are loaded and unchanged since it was fitted; one whose
        part is unavailable on this machine is unavailable too, not broken."""
        by_name = {m.name: m for m in models}
        usable = []
        for loaded in models:
            problem = find_unusable_part(loaded, by_name) if loaded.is_fusion else None
            missing = [part for part, _ in loaded.parts if part in self.unavailable]
            if problem and missing:
                self.unavailable[loaded.name] = describe_fusion_unavailable(missing)
            elif problem:
                self.load_errors[loaded.name] = problem
            else:
                usable.append(loaded)
        return usable

    @classmethod
    def from_artifacts(cls, root=None, names: list[str] | None = None,
                       overrides: dict[str, str] | None = None) -> GenrePredictor:
        """Load the shipped artifacts (or the named ones; ``overrides``: promoted runs) into a predictor."""
        models, errors = load_all_artifacts(root, names, overrides)
        return cls(models, errors)

    def model_names(self, input_kind: str | None = None) -> list[str]:
        """Return the loaded models' names, optionally only those of one input kind."""
        return [m.name for m in self.models if input_kind is None or m.input_kind == input_kind]

    def describe_unavailable(self) -> list[str]:
        """Return one line per reason models are unavailable on this machine, naming them (empty: none)."""
        return describe_unavailable(self.unavailable)

    def get(self, name: str) -> LoadedModel:
        """Return a loaded model by name, or raise ValueError (saying why, for one that did not load)."""
        for loaded in self.models:
            if loaded.name == name:
                return loaded
        if name in self.unavailable:
            raise ValueError(f"{name} is not available on this machine: {self.unavailable[name]}.")
        if name in self.load_errors:
            raise ValueError(f"{name} could not be loaded: {self.load_errors[name].removeprefix(name + ': ')}")
        raise ValueError(f"No shipped model named {name!r}; available: {', '.join(self.model_names()) or 'none'}.")

    def traced(self, key, names: list[str], kinds: list[str]):
        """Return the concrete function computing the named networks' probabilities from a dict of
        input tensors by kind (tracing it the first time): every network in one graph, so the
        independent networks run side by side on TensorFlow's threads, with no Python in between,
        and models on one encoder share its frozen layers."""
        import tensorflow as tf

        if key not in self._concrete:
            with self._tracing:
                if key not in self._concrete:
                    steps, alone = [], list(names)
                    for group, call in self._shared_calls:
                        if set(group) <= set(alone):
                            steps.append((OVERVIEW, call))
                            alone = [name for name in alone if name not in group]
                    for name in alone:
                        steps.append((self.get(name).input_kind, lambda x, name=name: {name: self._calls[name](x)}))
                    specs = {kind: tf.TensorSpec([None, None, None, 3], tf.uint8) if kind == POSTER
                             else tf.TensorSpec([None, 1], tf.string) for kind in kinds}
                    function = tf.function(lambda inputs: {name: output for kind, step in steps
                                                           for name, output in step(inputs[kind]).items()})
                    self._functions[key] = function
                    self._concrete[key] = function.get_concrete_function(specs)
        return self._concrete[key]

    def tracing_count(self) -> int:
        """Return how many times this predictor's functions were traced (a diagnostic: at most one
        per input combination and per network scored alone, whatever the inputs' sizes)."""
        return sum(function.experimental_get_tracing_count() for function in self._functions.values())

    def score_one(self, loaded: LoadedModel, model_input: np.ndarray | str) -> np.ndarray:
        """Return one film's probabilities from one network, via the traced function."""
        tensor = as_batch_of_one(loaded.input_kind, model_input)
        function = self.traced(("one", loaded.name), [loaded.name], [loaded.input_kind])
        return function({loaded.input_kind: tensor})[loaded.name].numpy()[0]

    def predict(self, poster=None, overview: str | None = None) -> PredictionResult:
        """Predict with every model whose input is given; raise ValueError on unusable input."""
        check_inputs(poster, overview)
        result = PredictionResult()
        inputs = {}
        if poster is not None:
            inputs[POSTER] = prepare_poster(poster)
        if overview is not None:
            text, truncated = prepare_overview(overview)
            inputs[OVERVIEW] = text
            if truncated:
                result.notes.append(f"The summary was cut to its first {MAX_OVERVIEW_CHARACTERS:,} characters.")
        kinds = sorted(inputs)
        names = [loaded.name for loaded in self._networks if loaded.input_kind in inputs]
        scores = {}
        if names:
            function = self.traced(("all", *kinds), names, kinds)
            outputs = function({kind: as_batch_of_one(kind, value) for kind, value in inputs.items()})
            scores = {name: outputs[name].numpy()[0] for name in names}
        for loaded in self._networks:
            if loaded.name in scores:
                result.predictions.append(describe_scores(loaded, scores[loaded.name]))
        for loaded in self.models:
            fused = fuse_available(loaded, scores) if loaded.is_fusion else None
            if fused is not None:
                result.predictions.append(describe_scores(loaded, fused))
        return result


def check_inputs(poster=None, overview: str | None = None) -> None:
    """Raise ValueError (saying what to give) unless a poster or a non-empty summary is given; what
    GenrePredictor.predict checks first, for callers that check before any model has loaded."""
    if poster is None and (overview is None or not str(overview).strip()):
        if overview is not None:
            prepare_overview(overview)  # Raises the "summary is empty" message.
        raise ValueError("Give a poster, a summary, or both.")


def as_batch_of_one(input_kind: str, model_input: np.ndarray | str):
    """Return one film's prepared input as the batch of one a network reads."""
    import tensorflow as tf

    if input_kind == POSTER:
        return tf.convert_to_tensor(model_input[None])
    return tf.constant([[model_input]])

"""Predicting genres: fast single-film prediction for the app and split scoring for evaluation.

Single films go through a traced ``model(x, training=False)`` call, never ``model.predict``
(which sets up a whole input pipeline per call). Fused models are computed from their parts'
scores by genre_models.fusion.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from genre_models.artifacts import (
    LoadedModel,
    describe_fusion_unavailable,
    describe_unavailable,
    is_unavailable,
    load_all_artifacts,
)
from genre_models.config import ProgressCallback
from genre_models.dataset import MovieDataset
from genre_models.fusion import find_unusable_part, fuse_available, fuse_split
from genre_models.inputs import (
    MAX_OVERVIEW_CHARACTERS,
    OVERVIEW,
    POSTER,
    model_inputs_for,
    prepare_overview,
    prepare_poster,
    score_inputs,
)
from genre_models.split_scores import STORED_SPLITS, ScoredSplit, write_split_scores

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


def score_dataset(loaded: LoadedModel, dataset: MovieDataset) -> np.ndarray:
    """Return a network's probabilities for every film of a dataset (not for fusions)."""
    if loaded.is_fusion:
        raise ValueError("A fused model is scored from its parts' scores; use score_split.")
    return score_inputs(loaded.model, model_inputs_for(loaded.input_kind, dataset))


def score_split(predictor: GenrePredictor, name: str, dataset_for: Callable, split: str,
                score_part: Callable | None = None) -> ScoredSplit:
    """Score a split of the dataset with any loaded model, fused ones included.

    ``dataset_for(image_size)`` returns the dataset loaded at a poster size (None: no posters);
    ``score_part(name)`` may supply cached part scores (the app's cache). Labels are taken in the
    model's genre order, by column name, whatever the order of the dataset's columns.
    """
    loaded = predictor.get(name)
    if not loaded.is_fusion:
        dataset = dataset_for(loaded.image_size)
        subset = dataset.subset(dataset.split_indices(split))
        labels = subset.labels_for(loaded.genres)
        return ScoredSplit(subset.ids, labels, score_dataset(loaded, subset), list(loaded.genres))
    scorer = score_part or (lambda part: score_split(predictor, part, dataset_for, split))
    return fuse_split(loaded, [scorer(part) for part, _ in loaded.parts])


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


def make_network_call(model) -> Callable:
    """Return ``call(x)``: the network's probabilities for a batch of its raw inputs, to be traced.

    A network that reads its overview as zero-padded token ids through a masking embedding, with only
    recurrent layers (given that mask) reading the token axis (course_lstm), is run on the tokens
    up to the batch's last real one: masked steps leave every recurrent state unchanged, so the
    probabilities are the same (bit for bit) while a 25-token overview no longer steps through 64.
    Every other network is called whole.
    """
    rest = split_after_token_ids(model)
    if rest is None:
        return lambda x: model(x, training=False)
    vectorize, rest = rest

    def call(x):
        import tensorflow as tf

        tokens = vectorize(x)
        positions = tf.range(1, tf.shape(tokens)[1] + 1, dtype=tf.int32)[None, :]
        last = tf.reduce_max(tf.where(tf.not_equal(tokens, 0), positions, 0))
        return rest(tokens[:, : tf.maximum(last, 1)], training=False)

    return call


def split_after_token_ids(model):
    """Return (token-id layer, the rest of the network as a model) when cutting trailing padding
    from the token ids cannot change the output (see make_network_call), else None.

    The network must read one overview through a TextVectorization layer (int ids, padded at the
    end with 0), and whatever reads the token axis must be a masking embedding (mask_zero), the
    mask itself (ids != 0), or a recurrent layer given that mask; its outputs have no token axis.
    """
    import keras

    try:
        config = model.get_config()
        operations = {operation.name: operation for operation in model.operations}
        vectorize = model.layers[1]
    except (AttributeError, NotImplementedError, IndexError, KeyError, TypeError):
        return None
    if (len(model.inputs) != 1 or not isinstance(vectorize, keras.layers.TextVectorization)
            or vectorize.get_config()["output_mode"] != "int"):
        return None
    token_axis = {vectorize.name}  # operations whose output has the token axis
    for layer_config in config["layers"]:
        operation = operations.get(layer_config["name"])
        if operation is vectorize or isinstance(operation, keras.layers.InputLayer):
            continue
        nodes = layer_config["inbound_nodes"]
        if operation is None or len(nodes) != 1:
            return None
        arguments = [*nodes[0]["args"], *nodes[0]["kwargs"].values()]
        sources = {argument["config"]["keras_history"][0] for argument in arguments
                   if isinstance(argument, dict) and "keras_history" in argument.get("config", {})}
        if not sources & token_axis:
            continue
        if isinstance(operation, keras.layers.Embedding) and operation.mask_zero:
            token_axis.add(operation.name)
        elif layer_config["class_name"] == "NotEqual" and list(nodes[0]["args"][1:]) == [0]:
            token_axis.add(operation.name)
        elif isinstance(operation, (keras.layers.Bidirectional, keras.layers.RNN)) and "mask" in nodes[0]["kwargs"]:
            if len(operation.output.shape) > 2:
                token_axis.add(operation.name)
        else:
            return None
    outputs = config["output_layers"]  # [name, node, tensor] for one output, a list of them for several
    if {output[0] for output in ([outputs] if isinstance(outputs[0], str) else outputs)} & token_axis:
        return None
    rest = keras.Model(vectorize.output, model.outputs)
    rest.input_spec = keras.InputSpec(shape=(None, None))  # any number of tokens
    return vectorize, rest


def make_shared_encoder_calls(networks: list[LoadedModel]) -> list[tuple[list[str], Callable]]:
    """Return [(model names, call(texts) -> {name: probabilities})], one per pretrained encoder read
    by two or more of the networks (see encoders.make_shared_encoder_call)."""
    groups = {}
    for loaded in networks:
        encoder = loaded.metadata.get("encoder")
        if encoder and loaded.input_kind == OVERVIEW:
            groups.setdefault(encoder["name"], {})[loaded.name] = (loaded.model, encoder)
    if not any(len(wrapped) > 1 for wrapped in groups.values()):
        return []
    from genre_models.encoders import make_shared_encoder_call

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


def open_image_bytes(raw: bytes) -> Image.Image:
    """Open encoded image bytes as a PIL image (for display), raising ValueError if unreadable."""
    try:
        image = Image.open(io.BytesIO(raw))
        image.load()
        return image
    except OSError as error:
        raise ValueError(f"not a readable image ({error})") from error


def score_split_with_progress(predictor, name: str, dataset_for: Callable, split: str,
                              score_part: Callable | None = None,
                              progress: ProgressCallback | None = None) -> ScoredSplit:
    """Score a split with a loaded model like ``inference.score_split`` (same calls, same
    probabilities), reporting ``progress(films done, films in total, what)`` after each chunk.

    ``dataset_for(image_size)`` returns the dataset at a poster size; ``score_part(name)`` may
    supply a fusion's part scores (cached); without it the parts are scored here.
    """
    loaded = predictor.get(name)
    if loaded.is_fusion:
        scorer = score_part or (lambda part: score_split_with_progress(predictor, part, dataset_for, split,
                                                                       progress=progress))
        return fuse_split(loaded, [scorer(part) for part, _ in loaded.parts])
    dataset = dataset_for(loaded.image_size)
    subset = dataset.subset(dataset.split_indices(split))
    if progress:
        progress(0, subset.num_films, "scoring films")
    scores = score_inputs(loaded.model, model_inputs_for(loaded.input_kind, subset), progress=progress)
    return ScoredSplit(subset.ids, subset.labels_for(loaded.genres), scores, list(loaded.genres))


def record_split_scores(predictor, dataset_for: Callable, names: list[str] | None = None,
                        splits: tuple[str, ...] = STORED_SPLITS,
                        progress: Callable[[str, int, int, str], None] | None = None) -> dict[str, Path]:
    """Score ``splits`` with every loaded model (or the named ones) and write each model's
    split_scores.npz into its artifact folder; return {model: file}. Each network is scored once
    per split, fusions are fused from their parts' scores. ``progress(model, done, total, what)``."""
    fingerprint = dataset_for(None).fingerprint
    cache: dict[tuple[str, str], ScoredSplit] = {}

    def scored(name: str, split: str) -> ScoredSplit:
        if (name, split) not in cache:
            report = (lambda done, total, what: progress(name, done, total, f"{split}: {what}")) if progress else None
            cache[(name, split)] = score_split_with_progress(
                predictor, name, dataset_for, split, score_part=lambda part: scored(part, split), progress=report)
        return cache[(name, split)]

    written = {}
    for name in names or predictor.model_names():
        loaded = predictor.get(name)
        written[name] = write_split_scores(loaded.folder, loaded.metadata,
                                           {split: scored(name, split) for split in splits}, fingerprint)
    return written

"""Predicting genres: batch scoring for evaluation and fast single-film prediction for the app.

Single films go through a traced ``model(x, training=False)`` call, never
``model.predict`` (which sets up a whole input pipeline per call).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from genre_models.artifacts import LoadedModel, load_all_artifacts
from genre_models.data import MovieDataset, check_poster_size, decode_poster, image_to_rgb
from genre_models.models import OVERVIEW, POSTER

# Overviews are one or two sentences; far longer input is cut before tokenising so it stays fast.
MAX_OVERVIEW_CHARACTERS = 5_000
# How many genres a "top k" shows.
TOP_K = 3


@dataclass
class ModelPrediction:
    """One model's answer for one film."""

    # Model name.
    model: str
    # POSTER or OVERVIEW.
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


def prepare_poster(poster) -> np.ndarray:
    """Return an RGB uint8 array from a PIL image, an array or encoded bytes; raise ValueError otherwise."""
    if isinstance(poster, (bytes, bytearray, memoryview)):
        if not poster:
            raise ValueError("The poster file is empty.")
        try:
            return decode_poster(bytes(poster))
        except ValueError as error:
            raise ValueError(f"The poster could not be used: {error}.") from error
    if isinstance(poster, Image.Image):
        check_poster_size(*poster.size)
        return image_to_rgb(poster)
    array = np.asarray(poster)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or min(array.shape[:2]) < 1:
        raise ValueError(f"A poster must be an RGB image; got an array of shape {array.shape}.")
    if array.dtype != np.uint8:
        raise ValueError("A poster array must hold uint8 pixel values (0-255).")
    return np.ascontiguousarray(array[..., :3])


def prepare_overview(overview: str) -> tuple[str, bool]:
    """Return the overview ready for a text model and whether it was truncated; refuse empty text."""
    if not isinstance(overview, str):
        raise ValueError("The summary must be text.")
    # Lone surrogates cannot be encoded for TensorFlow; replace them rather than fail.
    cleaned = overview.encode("utf-8", errors="replace").decode("utf-8").strip()
    if not cleaned:
        raise ValueError("The summary is empty; paste a sentence or two about the film.")
    truncated = len(cleaned) > MAX_OVERVIEW_CHARACTERS
    return (cleaned[:MAX_OVERVIEW_CHARACTERS] if truncated else cleaned), truncated


def model_inputs_for(input_kind: str, dataset: MovieDataset) -> np.ndarray:
    """Return the array a model of this input kind reads from a dataset."""
    if input_kind == POSTER:
        if dataset.posters is None:
            raise ValueError("This dataset was loaded without posters; load it with the model's image size.")
        return dataset.posters
    return np.asarray(dataset.overviews, dtype=object).reshape(-1, 1)


def take_rows(inputs, rows):
    """Return the given rows (indices or a slice) of a model's inputs: one array, or a dict of arrays (several inputs)."""
    if isinstance(inputs, dict):
        return {key: value[rows] for key, value in inputs.items()}
    return inputs[rows]


def prepare_network_inputs(inputs):
    """Return a model's inputs as its network takes them: overviews as str rather than Python
    objects, and half-precision caches (encoder token states) widened to float32."""

    def prepare(array: np.ndarray) -> np.ndarray:
        if array.dtype == object:
            return array.astype(str)
        return array.astype(np.float32) if array.dtype == np.float16 else array

    if isinstance(inputs, dict):
        return {key: prepare(value) for key, value in inputs.items()}
    return prepare(inputs)


def score_inputs(model, inputs, batch_size: int = 256) -> np.ndarray:
    """Return the model's probabilities for a batch of same-shaped inputs (an array, or a dict of
    arrays for a model with several inputs), in chunks."""
    import tensorflow as tf

    count = len(next(iter(inputs.values()))) if isinstance(inputs, dict) else len(inputs)
    outputs = []
    for start in range(0, count, batch_size):
        chunk = prepare_network_inputs(take_rows(inputs, slice(start, start + batch_size)))
        outputs.append(np.asarray(model(tf.nest.map_structure(tf.constant, chunk), training=False)))
    if not outputs:
        return np.zeros((0, model.outputs[0].shape[-1]), dtype=np.float32)
    return np.concatenate(outputs).astype(np.float32)


def image_size_of(loaded: LoadedModel) -> tuple[int, int] | None:
    """Return the poster size a model's dataset must be loaded at (None for text models)."""
    size = loaded.metadata.get("recipe", {}).get("image_size")
    return tuple(size) if loaded.input_kind == POSTER and size else None


def score_dataset(loaded: LoadedModel, dataset: MovieDataset) -> np.ndarray:
    """Return a loaded model's probabilities for every film of a dataset (not for fused models)."""
    if is_fusion(loaded):
        raise ValueError("A fused model is scored from its components' scores; use fuse_scores.")
    return score_inputs(loaded.model, model_inputs_for(loaded.input_kind, dataset))


def fuse_scores(weights, component_scores) -> np.ndarray:
    """Late fusion: the weighted sum of component models' probabilities (weights sum to 1)."""
    return sum(weight * np.asarray(scores, dtype=np.float64) for weight, scores in zip(weights, component_scores))


def is_fusion(loaded: LoadedModel) -> bool:
    """Return whether a loaded model is a late fusion of other models (it has no network of its own)."""
    return loaded.model is None and "components" in loaded.metadata


def fusion_parts(fusion: LoadedModel) -> list[tuple[str, float]]:
    """Return a fused model's (component name, weight) pairs."""
    return [(part["name"], float(part["weight"])) for part in fusion.metadata["components"]]


@dataclass
class ScoredSplit:
    """One model's probabilities over one split of a dataset, with the labels, aligned by film."""

    # Film Ids in row order.
    ids: np.ndarray
    # True multi-hot labels.
    labels: np.ndarray
    # Predicted probabilities.
    scores: np.ndarray
    # Genre names in column order.
    genres: list[str]


def score_split(predictor: GenrePredictor, name: str, dataset_for, split: str, score_component=None) -> ScoredSplit:
    """Score a split of the dataset with any loaded model, fused ones included.

    ``dataset_for(image_size)`` returns the dataset loaded at a poster size (None: no
    posters); ``score_component(name)`` may supply cached component scores (the app's cache).
    """
    loaded = predictor.get(name)
    if not is_fusion(loaded):
        dataset = dataset_for(image_size_of(loaded))
        subset = dataset.subset(dataset.split_indices(split))
        return ScoredSplit(subset.ids, subset.labels, score_dataset(loaded, subset), subset.genres)
    scorer = score_component or (lambda component: score_split(predictor, component, dataset_for, split))
    parts = [(scorer(component), weight) for component, weight in fusion_parts(loaded)]
    # Films whose poster could not be read are absent from a poster model's split: keep common films.
    common = set.intersection(*(set(part.ids) for part, _ in parts))
    first = parts[0][0]
    keep = np.array([film_id in common for film_id in first.ids], dtype=bool)
    ids = first.ids[keep]
    aligned = []
    for part, _ in parts:
        rows = {film_id: row for row, film_id in enumerate(part.ids)}
        aligned.append(part.scores[[rows[film_id] for film_id in ids]])
    fused = fuse_scores([weight for _, weight in parts], aligned)
    return ScoredSplit(ids, first.labels[keep], fused, first.genres)


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


class GenrePredictor:
    """Every loaded model behind one call: predict(poster=..., overview=...)."""

    def __init__(self, models: list[LoadedModel], load_errors: dict[str, str] | None = None):
        import tensorflow as tf

        # Artifacts that could not be loaded (or fused models that cannot run), by model name, with the reason.
        self.load_errors = dict(load_errors or {})
        self.models = self.drop_unusable_fusions(models)
        self._functions = {}
        for loaded in self.models:
            if is_fusion(loaded):
                continue
            if loaded.input_kind == POSTER:
                signature = [tf.TensorSpec([None, None, None, 3], tf.uint8)]
            else:
                signature = [tf.TensorSpec([None, 1], tf.string)]
            # Traced once per model: later calls skip Python-level layer dispatch.
            self._functions[loaded.name] = tf.function(
                lambda x, model=loaded.model: model(x, training=False), input_signature=signature
            )

    def drop_unusable_fusions(self, models: list[LoadedModel]) -> list[LoadedModel]:
        """Keep a fused model only if its components are loaded and unchanged since it was fitted."""
        by_name = {m.name: m for m in models}
        usable = []
        for loaded in models:
            if is_fusion(loaded):
                for details in loaded.metadata["components"]:
                    component = by_name.get(details["name"])
                    if component is None:
                        self.load_errors[loaded.name] = f"its component {details['name']} is not loaded"
                        break
                    if component.metadata.get("created_at") != details.get("created_at"):
                        self.load_errors[loaded.name] = (
                            f"its component {details['name']} was retrained after the fusion was fitted; "
                            "refit it with: python -m genre_models train --model " + loaded.name)
                        break
                else:
                    usable.append(loaded)
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

    def get(self, name: str) -> LoadedModel:
        """Return a loaded model by name, or raise ValueError."""
        for loaded in self.models:
            if loaded.name == name:
                return loaded
        raise ValueError(f"No shipped model named {name!r}; available: {', '.join(self.model_names()) or 'none'}.")

    def score_one(self, loaded: LoadedModel, model_input: np.ndarray | str) -> np.ndarray:
        """Return one film's probabilities from one model, via the traced function."""
        import tensorflow as tf

        if loaded.input_kind == POSTER:
            tensor = tf.constant(model_input[None])
        else:
            tensor = tf.constant([[model_input]])
        return self._functions[loaded.name](tensor).numpy()[0]

    def predict(self, poster=None, overview: str | None = None) -> PredictionResult:
        """Predict with every model whose input is given; raise ValueError on unusable input."""
        if poster is None and (overview is None or not str(overview).strip()):
            if overview is not None:
                prepare_overview(overview)  # Raises the "summary is empty" message.
            raise ValueError("Give a poster, a summary, or both.")
        result = PredictionResult()
        inputs = {}
        if poster is not None:
            inputs[POSTER] = prepare_poster(poster)
        if overview is not None:
            text, truncated = prepare_overview(overview)
            inputs[OVERVIEW] = text
            if truncated:
                result.notes.append(f"The summary was cut to its first {MAX_OVERVIEW_CHARACTERS:,} characters.")
        scores = {}
        for loaded in self.models:
            if not is_fusion(loaded) and loaded.input_kind in inputs:
                scores[loaded.name] = self.score_one(loaded, inputs[loaded.input_kind])
                result.predictions.append(describe_scores(loaded, scores[loaded.name]))
        for loaded in self.models:
            parts = fusion_parts(loaded) if is_fusion(loaded) else []
            if parts and all(name in scores for name, _ in parts):
                fused = fuse_scores([w for _, w in parts], [scores[name] for name, _ in parts])
                result.predictions.append(describe_scores(loaded, fused))
        return result


def open_image_bytes(raw: bytes) -> Image.Image:
    """Open encoded image bytes as a PIL image (for display), raising ValueError if unreadable."""
    try:
        image = Image.open(io.BytesIO(raw))
        image.load()
        return image
    except OSError as error:
        raise ValueError(f"not a readable image ({error})") from error

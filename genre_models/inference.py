"""Predicting genres: fast single-film prediction for the app and split scoring for evaluation.

Single films go through a traced ``model(x, training=False)`` call, never ``model.predict``
(which sets up a whole input pipeline per call). Fused models are computed from their parts'
scores by genre_models.fusion.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from genre_models.artifacts import LoadedModel, load_all_artifacts
from genre_models.dataset import MovieDataset
from genre_models.fusion import ScoredSplit, find_unusable_part, fuse_available, fuse_split
from genre_models.inputs import (
    MAX_OVERVIEW_CHARACTERS,
    OVERVIEW,
    POSTER,
    model_inputs_for,
    prepare_overview,
    prepare_poster,
    score_inputs,
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


class GenrePredictor:
    """Every loaded model behind one call: predict(poster=..., overview=...)."""

    def __init__(self, models: list[LoadedModel], load_errors: dict[str, str] | None = None):
        import tensorflow as tf

        # Artifacts that could not be loaded (or fused models that cannot run), by model name, with the reason.
        self.load_errors = dict(load_errors or {})
        self.models = self.drop_unusable_fusions(models)
        self._functions = {}
        for loaded in self.models:
            if loaded.is_fusion:
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
        """Keep a fused model only if its parts are loaded and unchanged since it was fitted."""
        by_name = {m.name: m for m in models}
        usable = []
        for loaded in models:
            problem = find_unusable_part(loaded, by_name) if loaded.is_fusion else None
            if problem:
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

    def get(self, name: str) -> LoadedModel:
        """Return a loaded model by name, or raise ValueError."""
        for loaded in self.models:
            if loaded.name == name:
                return loaded
        raise ValueError(f"No shipped model named {name!r}; available: {', '.join(self.model_names()) or 'none'}.")

    def score_one(self, loaded: LoadedModel, model_input: np.ndarray | str) -> np.ndarray:
        """Return one film's probabilities from one network, via the traced function."""
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
            if not loaded.is_fusion and loaded.input_kind in inputs:
                scores[loaded.name] = self.score_one(loaded, inputs[loaded.input_kind])
                result.predictions.append(describe_scores(loaded, scores[loaded.name]))
        for loaded in self.models:
            fused = fuse_available(loaded, scores) if loaded.is_fusion else None
            if fused is not None:
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

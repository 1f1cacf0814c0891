"""What a network trains on: the films of each split (the training split cut to the run's share), the
inputs the network reads (a pretrained encoder's output, cached) and the training targets (the labels, or
a distilled blend with a teacher's probabilities)."""

from __future__ import annotations

import dataclasses

import numpy as np

from genre_models.config import (
    EncoderRecipe,
    PosterRecipe,
    ProgressCallback,
    Recipe,
    TrainConfig,
)
from genre_models.dataset import MovieDataset, load_dataset, select_films
from genre_models.dataset.posters import load_posters
from genre_models.fusion import locate_models_in_use
from genre_models.inputs import OVERVIEW, model_inputs_for


def load_training_data(spec, recipe: Recipe, config: TrainConfig,
                       progress: ProgressCallback) -> tuple[MovieDataset, dict[str, np.ndarray]]:
    """Load the dataset and its split indices, the training split cut to the configured share; a poster
    model's posters are decoded (at the recipe's size) for the films the run uses only, so a run on a
    share of the data does not first decode every poster."""
    dataset = load_dataset(config.data_dir, max_films=config.max_films, seed=config.seed, progress=progress)
    splits = {name: dataset.split_indices(name) for name in ("train", "validation", "test")}
    if config.train_fraction < 1.0:
        count = max(1, round(config.train_fraction * len(splits["train"])))
        splits["train"] = splits["train"][select_films(dataset.ids[splits["train"]], count, config.seed)]
    if isinstance(recipe, PosterRecipe):
        dataset, splits = keep_films_with_posters(dataset, splits, recipe.image_size, progress)
    empty = [name for name, indices in splits.items() if len(indices) == 0]
    if empty:
        raise ValueError(f"The {', '.join(empty)} split(s) are empty; use more films (--max-films).")
    return dataset, splits


def keep_films_with_posters(dataset: MovieDataset, splits: dict[str, np.ndarray], image_size: tuple[int, int],
                            progress: ProgressCallback) -> tuple[MovieDataset, dict[str, np.ndarray]]:
    """Return the dataset cut to the films of ``splits`` with their posters decoded (through the cache), films
    whose poster cannot be decoded dropped (and reported), and the splits renumbered to the cut dataset."""
    used = np.sort(np.concatenate(list(splits.values())))
    films = dataset.subset(used)
    posters, failures = load_posters(films.folder, films.ids.tolist(), tuple(image_size), films.fingerprint,
                                     progress=progress)
    for film_id, reason in failures.items():
        dataset.report.add_dropped(reason, film_id)
    dataset.report.films_kept -= len(failures)
    decodable = np.array([film_id not in failures for film_id in films.ids], dtype=bool)
    films = dataclasses.replace(films.subset(np.flatnonzero(decodable)), posters=posters)
    renumbered = np.full(dataset.num_films, -1)
    renumbered[used[decodable]] = np.arange(int(decodable.sum()))
    return films, {name: renumbered[indices][renumbered[indices] >= 0] for name, indices in splits.items()}


def make_training_targets(recipe: Recipe, config: TrainConfig, dataset: MovieDataset, splits: dict,
                          progress: ProgressCallback) -> np.ndarray | None:
    """Return the training targets of a distilled poster network, or None to train on the labels.

    The teacher (an overview model in use) scores the training films' overviews; their targets
    become (1 - w) * labels + w * teacher probabilities. Validation and test rows keep the true
    labels, so the checkpoint, the thresholds and the reported figures are judged on them alone.
    """
    if not isinstance(recipe, PosterRecipe) or not recipe.teacher or recipe.teacher_weight == 0:
        return None
    from genre_models.artifacts import load_artifact
    from genre_models.scoring import score_dataset

    folders = locate_models_in_use(config)
    if recipe.teacher not in folders:
        raise ValueError(f"The teacher model {recipe.teacher} is not installed; train it first.")
    teacher = load_artifact(folders[recipe.teacher], listed_as=recipe.teacher)
    if teacher.input_kind != OVERVIEW or teacher.is_fusion:
        raise ValueError(f"The teacher {recipe.teacher} must be an overview network.")
    missing = sorted(set(dataset.genres) - set(teacher.genres))
    if missing:
        raise ValueError(f"The teacher {recipe.teacher} does not predict {', '.join(missing)}.")
    progress(0, 1, f"scoring the training overviews with the teacher {recipe.teacher}")
    train_rows = splits["train"]
    teacher_scores = score_dataset(teacher, dataset.subset(train_rows))
    # The teacher's genre order may differ from the dataset's columns: align by name.
    teacher_scores = teacher_scores[:, [teacher.genres.index(genre) for genre in dataset.genres]]
    targets = dataset.labels.astype(np.float32)
    weight = float(recipe.teacher_weight)
    targets[train_rows] = (1 - weight) * targets[train_rows] + weight * teacher_scores
    progress(1, 1, f"scoring the training overviews with the teacher {recipe.teacher}")
    return targets


def prepare_training_inputs(spec, recipe: Recipe, dataset: MovieDataset, progress: ProgressCallback):
    """Return (the network's inputs for every film, features to fit a fine-tuning head on or None).

    A pretrained encoder (or its frozen bottom) runs once per film, cached on disk; the network
    then trains on its output."""
    inputs = model_inputs_for(spec.input_kind, dataset)
    if not isinstance(recipe, EncoderRecipe):
        return inputs, None
    from genre_models.encoder_cache import encode_for_training
    from genre_models.encoders import ENCODERS, POSTER_ENCODER, check_encoder_packages

    if ENCODERS[recipe.encoder]["reads"] == POSTER_ENCODER:
        from genre_models.image_encoder import embed_posters

        check_encoder_packages(recipe.encoder)
        return embed_posters(ENCODERS[recipe.encoder]["variant"], inputs, recipe.image_size, dataset.fingerprint,
                             dataset.ids, progress=progress), None

    return encode_for_training(recipe.encoder, recipe.tuned_layers, inputs, dataset.fingerprint, progress=progress)

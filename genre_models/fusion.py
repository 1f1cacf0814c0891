"""Late fusion, in one place: a fused model's parts and weights, aligning the parts' scores by
film, fusing them, and fitting the weights on the validation split.

A fusion has no network: its artifact's metadata lists its parts (``components``: name, input
kind, weight, and the part's ``created_at`` when the weights were fitted) and its probabilities
are the weighted sum of the parts' probabilities, or (``recipe.combine == "logits"``) the sigmoid of
the weighted sum of their log-odds. The predictor, split scoring, the CLI and
training all call these functions; ``LoadedModel.is_fusion`` / ``.parts`` / ``.input_kinds``
answer "which inputs and which parts make up this model?".
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from genre_models.artifacts import (
    HISTORY_FILE,
    LoadedModel,
    list_artifact_folders,
    load_artifact,
    publish_artifact,
)
from genre_models.config import (
    COMBINE_MODES,
    COMBINE_PROBABILITIES,
    FusionRecipe,
    ProgressCallback,
    TrainConfig,
    resolve_artifacts_dir,
)
from genre_models.dataset import load_dataset
from genre_models.fileio import write_json_atomically
from genre_models.inputs import POSTER, model_inputs_for
from genre_models.metadata import assemble_metadata
from genre_models.metrics import compute_log_odds, evaluate_scores
from genre_models.promotions import read_promotions
from genre_models.scoring import score_inputs
from genre_models.split_scores import (
    STORED_SPLITS,
    ScoredSplit,
    read_split_scores,
    scored_splits,
)

if TYPE_CHECKING:  # training imports this module to fit fusions
    from genre_models.training import TrainResult

# Step of the grid the fusion weights are searched on.
WEIGHT_STEP = 0.05


def check_combine(combine: str) -> str:
    """Return ``combine`` if it names a way of fusing; raise ValueError otherwise."""
    if combine not in COMBINE_MODES:
        raise ValueError(f"Unknown way of fusing {combine!r}: use one of {', '.join(COMBINE_MODES)}.")
    return combine


def fuse_scores(weights, part_scores, combine: str = COMBINE_PROBABILITIES) -> np.ndarray:
    """Late fusion (weights sum to 1): the weighted sum of the parts' probabilities, or with
    ``combine="logits"`` the sigmoid of the weighted sum of their log-odds."""
    if check_combine(combine) == COMBINE_PROBABILITIES:
        return sum(weight * np.asarray(scores, dtype=np.float64) for weight, scores in zip(weights, part_scores))
    log_odds = sum(weight * compute_log_odds(scores) for weight, scores in zip(weights, part_scores))
    return 1.0 / (1.0 + np.exp(-log_odds))


def fuse_available(fusion: LoadedModel, scores: dict[str, np.ndarray]) -> np.ndarray | None:
    """Return a fusion's probabilities from its parts' probabilities (one film or a batch of
    aligned rows), or None when a part has not been scored (its input is missing)."""
    if not all(name in scores for name, _ in fusion.parts):
        return None
    return fuse_scores([weight for _, weight in fusion.parts], [scores[name] for name, _ in fusion.parts],
                       fusion.combine)


def align_by_film(parts: list[ScoredSplit]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Return (ids, labels, each part's scores) for the films every part scored, in the first
    part's order (a film whose poster could not be read is absent from a poster model's split)."""
    common = set.intersection(*(set(part.ids) for part in parts))
    first = parts[0]
    keep = np.array([film_id in common for film_id in first.ids], dtype=bool)
    ids = first.ids[keep]
    aligned = []
    for part in parts:
        rows = {film_id: row for row, film_id in enumerate(part.ids)}
        aligned.append(part.scores[[rows[film_id] for film_id in ids]])
    return ids, first.labels[keep], aligned


def fuse_split(fusion: LoadedModel, part_splits: list[ScoredSplit]) -> ScoredSplit:
    """Return a fusion's scores over a split from its parts' scored splits (in fusion.parts order)."""
    ids, labels, aligned = align_by_film(part_splits)
    fused = fuse_scores([weight for _, weight in fusion.parts], aligned, fusion.combine)
    return ScoredSplit(ids, labels, fused, part_splits[0].genres)


def find_unusable_part(fusion: LoadedModel, loaded_by_name: dict[str, LoadedModel]) -> str | None:
    """Return why a fusion cannot run with these loaded models (a part missing, or retrained
    after the weights were fitted), or None when every part is there unchanged."""
    for details in fusion.metadata["components"]:
        part = loaded_by_name.get(details["name"])
        if part is None:
            return f"its part {details['name']} is not loaded"
        if part.is_fusion:
            return f"its part {details['name']} is itself a fusion; a fusion combines networks"
        if part.metadata.get("created_at") != details.get("created_at"):
            return (f"its part {details['name']} was retrained after the fusion was fitted; refit it on the "
                    f"Train page or with: python -m genre_models train --model {fusion.name}")
        if part.genres != fusion.genres:
            return f"its part {details['name']} predicts other genres than the fusion was fitted on"
    return None


def weight_grid(count: int, step: float = WEIGHT_STEP) -> list[tuple[float, ...]]:
    """Return every weight vector of ``count`` non-negative multiples of ``step`` summing to 1."""
    units = int(round(1 / step))

    def split(remaining: int, parts: int):
        if parts == 1:
            yield (remaining,)
            return
        for first in range(remaining + 1):
            for rest in split(remaining - first, parts - 1):
                yield (first, *rest)

    return [tuple(round(unit * step, 4) for unit in combo) for combo in split(units, count)]


def fit_weights(labels: np.ndarray, part_scores: list[np.ndarray], genres: list[str],
                combine: str = COMBINE_PROBABILITIES
                ) -> tuple[float, tuple[float, ...], list[tuple[float, tuple[float, ...]]]]:
    """Return (best mean AP, its weights, every (mean AP, weights) tried) on validation data.

    The weights maximise the mean of micro and macro average precision (threshold-free, so they
    do not chase the thresholds tuned afterwards), over a grid in steps of WEIGHT_STEP.
    """
    search = []
    for weights in weight_grid(len(part_scores)):
        report = evaluate_scores(labels, fuse_scores(weights, part_scores, combine), 0.5, genres)
        search.append(((report["micro_average_precision"] + report["macro_average_precision"]) / 2, weights))
    best_score, best_weights = max(search)
    return best_score, best_weights, search


def locate_models_in_use(config: TrainConfig) -> dict[str, Path]:
    """Return the artifact folders a training run builds on (a fusion's parts, a distilled model's
    teacher): ``config.parts_dir`` when given, otherwise the models in use (the shipped folder, with
    promoted training runs in place of theirs)."""
    if config.parts_dir:
        return list_artifact_folders(Path(config.parts_dir))
    return list_artifact_folders(overrides=read_promotions())


def load_parts(recipe: FusionRecipe, config: TrainConfig) -> list[LoadedModel]:
    """Load the artifacts a fusion combines (see locate_models_in_use)."""
    folders = locate_models_in_use(config)
    missing = [name for name in recipe.components if name not in folders]
    if missing:
        raise ValueError(f"The fusion's part(s) {', '.join(missing)} are not installed; train them first.")
    parts = [load_artifact(folders[name], listed_as=name) for name in recipe.components]
    if any(part.is_fusion for part in parts):
        raise ValueError("A late fusion combines networks, not other fusions.")
    if len({part.image_size for part in parts if part.input_kind == POSTER}) > 1:
        raise ValueError("A late fusion may combine poster models of one image size only.")
    return parts


def score_part_on_split(part: LoadedModel, dataset, rows: np.ndarray, split: str) -> np.ndarray:
    """Return a part's probabilities for the given rows of the dataset, in row order: its stored
    split scores when they describe this part and this data (split_scores.py), else a fresh scoring.

    The stored scores are what the part's network returned for these films (same model version,
    same data fingerprint), so reading them only saves minutes of MiniLM scoring."""
    stored = read_split_scores(part.folder, part.metadata, split, dataset.fingerprint)
    if stored is not None:
        position = {film: index for index, film in enumerate(stored.ids)}
        wanted = dataset.ids[rows]
        if all(film in position for film in wanted) and list(stored.genres) == list(dataset.genres):
            return stored.scores[[position[film] for film in wanted]]
    return score_inputs(part.model, model_inputs_for(part.input_kind, dataset)[rows])


def fit_fusion(spec, recipe: FusionRecipe, config: TrainConfig, run_dir: Path,
               progress: ProgressCallback | None) -> TrainResult:
    """Fit a late fusion of installed artifacts: weights and thresholds chosen on validation."""
    started = time.time()
    check_combine(recipe.combine)
    parts = load_parts(recipe, config)
    image_size = next((part.image_size for part in parts if part.input_kind == POSTER), None)
    dataset = load_dataset(config.data_dir, image_size=image_size, max_films=config.max_films, seed=config.seed,
                           progress=progress)
    if any(dataset.genres != part.genres for part in parts):
        raise ValueError("The parts were trained on other genre columns than this dataset has.")
    splits = {name: dataset.split_indices(name) for name in ("train", "validation", "test")}
    scores = {split: [score_part_on_split(part, dataset, splits[split], split) for part in parts]
              for split in STORED_SPLITS}
    best_score, weights, search = fit_weights(dataset.labels[splits["validation"]], scores["validation"],
                                              dataset.genres, recipe.combine)
    history = {"model": spec.name, "run_dir": str(run_dir), "epochs": [],
               "weight_search": [{"weights": list(w), "validation_mean_ap": float(v)} for v, w in search]}
    write_json_atomically(run_dir / HISTORY_FILE, history)
    metadata = assemble_metadata(
        spec, recipe, config, dataset, splits,
        validation_scores=fuse_scores(weights, scores["validation"], recipe.combine),
        test_scores=fuse_scores(weights, scores["test"], recipe.combine),
        training_facts={"seconds": round(time.time() - started, 1), "run_dir": run_dir.name, "epochs_run": 0},
        extra={
            "components": [{"name": part.name, "input_kind": part.input_kind, "weight": float(weight),
                            "created_at": part.metadata.get("created_at")} for part, weight in zip(parts, weights)],
            "validation_mean_ap": float(best_score),
        },
    )
    home = Path(config.parts_dir) if config.parts_dir else resolve_artifacts_dir()
    destination = Path(config.out_dir) if config.out_dir else home / spec.name
    fused = {split: fuse_scores(weights, scores[split], recipe.combine) for split in scores}

    publish_artifact(destination, None, metadata, history, split_scores=scored_splits(dataset, splits, fused))
    from genre_models.training import TrainResult

    return TrainResult(artifact_dir=destination, run_dir=run_dir, metadata=metadata)

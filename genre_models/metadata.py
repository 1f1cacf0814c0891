"""What an artifact records about itself (``metadata.json``): assembled once after training, and
checked against one schema whenever it is read.

Assembling: thresholds are tuned on the validation split, the test split is evaluated once, and
the config, recipe, data fingerprint, versions and command are gathered. Checking: every field a
loader or a page relies on is validated with a message naming the artifact and the field, so one
damaged or hand-edited file disables that artifact only.
"""

from __future__ import annotations

import dataclasses
import math
import platform
from datetime import datetime, timezone

import numpy as np

from genre_models.config import (
    COMBINE_MODES,
    COMBINE_PROBABILITIES,
    Recipe,
    SplitConfig,
    TrainConfig,
)
from genre_models.dataset import MovieDataset
from genre_models.inputs import INPUT_KINDS
from genre_models.metrics import (
    MAX_PREDICTED_RATE_RATIO,
    choose_threshold_policy,
    evaluate_scores,
    tune_thresholds,
)

# Version of the metadata layout; bumped when it changes incompatibly.
METADATA_FORMAT = 1
# Metrics kept from the full evaluation report in the validation summary.
SUMMARY_KEYS = (
    "films", "micro_f1", "macro_f1", "samples_f1", "micro_average_precision",
    "macro_average_precision", "precision_at_3", "recall_at_3",
)
# Headline test figures shown in tables (Home, Train page, CLI `models`, the README table).
TABLE_METRICS = ("micro_f1", "macro_f1", "samples_f1", "micro_average_precision", "macro_average_precision",
                 "precision_at_3", "recall_at_3")


class MetadataError(ValueError):
    """A metadata.json does not match the schema; the message names the field."""


def utc_now() -> str:
    """Return the current UTC time in ISO 8601."""
    return format_utc(datetime.now(timezone.utc).timestamp())


def format_utc(seconds: float) -> str:
    """Return seconds since the epoch as the project writes times (ISO 8601, UTC, whole seconds)."""
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")


def collect_versions() -> dict:
    """Return the library versions an artifact depends on."""
    import keras
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def summarize(report: dict) -> dict:
    """Return the headline figures of an evaluation report."""
    return {key: report[key] for key in SUMMARY_KEYS}


def describe_data(dataset: MovieDataset, splits: dict[str, np.ndarray]) -> dict:
    """Return the data facts recorded in an artifact: fingerprint, split rule and sizes, load report."""
    return {
        "fingerprint": dataset.fingerprint,
        "folder_name": dataset.folder.name,
        "films": dataset.num_films,
        "split_rule": SplitConfig().describe(),
        "split_sizes": {name: int(len(indices)) for name, indices in splits.items()},
        "load_report": dataset.report.to_dict(),
    }


def choose_thresholds(policy: str, validation_labels: np.ndarray, validation_scores: np.ndarray) -> dict:
    """Return the thresholds of a policy ("per_genre" or "auto"), tuned on the validation split,
    with a note saying how."""
    guard = (f"a genre's threshold may not predict it for more than {MAX_PREDICTED_RATE_RATIO:g}x as many "
             "validation films as have it")
    if policy == "auto":
        thresholds = choose_threshold_policy(validation_labels, validation_scores)
        note = (f"chosen on validation by 2-fold cross-validation (mean of micro- and macro-F1 on the "
                f"held-out half: {thresholds['cross_validated_mean_f1']}), then tuned on all of validation; "
                f"{guard}")
    else:
        thresholds = {**tune_thresholds(validation_labels, validation_scores), "policy": "per_genre"}
        note = ("each genre's F1-maximising threshold on the validation split; genres with fewer than "
                f"{thresholds['min_positives']} validation positives use the global micro-F1-maximising "
                f"threshold; {guard}")
    return {**thresholds, "policy_note": note}


def evaluate_with_thresholds(genres: list[str], thresholds: dict, validation_labels: np.ndarray,
                             validation_scores: np.ndarray, test_labels: np.ndarray,
                             test_scores: np.ndarray) -> dict:
    """Return the metadata's "metrics": validation summary and the full test report at the chosen
    per-genre thresholds, with the test micro-F1 at the one global threshold beside it."""
    per_genre = np.asarray(thresholds["per_genre"])
    test_report = evaluate_scores(test_labels, test_scores, per_genre, genres)
    test_report["global_threshold_micro_f1"] = evaluate_scores(
        test_labels, test_scores, thresholds["global"], genres)["micro_f1"]
    return {
        "validation": summarize(evaluate_scores(validation_labels, validation_scores, per_genre, genres)),
        "test": test_report,
    }


def assemble_metadata(spec, recipe: Recipe, config: TrainConfig, dataset: MovieDataset,
                      splits: dict[str, np.ndarray], validation_scores: np.ndarray, test_scores: np.ndarray,
                      training_facts: dict, extra: dict | None = None) -> dict:
    """Tune thresholds on validation, evaluate the test split once, and gather the artifact metadata."""
    validation_labels = dataset.labels[splits["validation"]]
    thresholds = choose_thresholds(recipe.threshold_policy, validation_labels, validation_scores)
    return {
        "format": METADATA_FORMAT,
        "name": spec.name,
        "input_kind": spec.input_kind,
        "description": spec.description,
        "genres": dataset.genres,
        "thresholds": thresholds,
        "command": config.command,
        "seed": config.seed,
        "config": config.to_dict(),
        "recipe": {"family": type(recipe).__name__, **dataclasses.asdict(recipe)},
        "data": describe_data(dataset, splits),
        "training": {**training_facts, "finished_at": utc_now()},
        "metrics": evaluate_with_thresholds(dataset.genres, thresholds, validation_labels, validation_scores,
                                            dataset.labels[splits["test"]], test_scores),
        "versions": collect_versions(),
        "created_at": utc_now(),
        **(extra or {}),
    }


def is_number(value) -> bool:
    """Return whether a JSON value is a finite real number (not a bool, not a string)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_components(metadata: dict, where: str) -> None:
    """Validate a fusion's list of parts: names, non-negative weights, no self-reference, no repeats."""
    parts = metadata["components"]
    if not isinstance(parts, list) or not parts:
        raise MetadataError(f"{where}: 'components' must be a non-empty list of parts.")
    names = []
    for part in parts:
        if not isinstance(part, dict) or not isinstance(part.get("name"), str) or not part["name"]:
            raise MetadataError(f"{where}: every part in 'components' needs a name.")
        if not is_number(part.get("weight")) or part["weight"] < 0:
            raise MetadataError(f"{where}: the weight of part {part['name']} must be a non-negative number, "
                                f"not {part.get('weight')!r}.")
        if part["name"] == metadata["name"]:
            raise MetadataError(f"{where}: a fusion cannot list itself as a part.")
        if part.get("input_kind") not in (None, *INPUT_KINDS):
            raise MetadataError(f"{where}: part {part['name']} has an unknown input kind {part['input_kind']!r}.")
        names.append(part["name"])
    if len(set(names)) != len(names):
        raise MetadataError(f"{where}: a part is listed twice in 'components'.")
    recipe = metadata.get("recipe")
    combine = recipe.get("combine", COMBINE_PROBABILITIES) if isinstance(recipe, dict) else COMBINE_PROBABILITIES
    if combine not in COMBINE_MODES:
        raise MetadataError(f"{where}: recipe.combine must be one of {', '.join(COMBINE_MODES)}, not {combine!r}.")


def check_thresholds(thresholds, num_genres: int, where: str) -> None:
    """Validate the thresholds: a global number and one number in [0, 1] per genre."""
    if not isinstance(thresholds, dict):
        raise MetadataError(f"{where}: 'thresholds' must be an object with 'global' and 'per_genre'.")
    per_genre = thresholds.get("per_genre")
    if not isinstance(per_genre, list) or len(per_genre) != num_genres:
        count = len(per_genre) if isinstance(per_genre, list) else "no list of"
        raise MetadataError(f"{where}: {count} thresholds for {num_genres} genres.")
    if not all(is_number(value) and 0 <= value <= 1 for value in [*per_genre, thresholds.get("global")]):
        raise MetadataError(f"{where}: every threshold must be a number between 0 and 1.")


def validate_metadata(metadata, where: str, keras_version: str | None = None) -> dict:
    """Return the metadata if it matches the schema every loader and page relies on; raise
    MetadataError naming the first field that does not (``where`` names the artifact)."""
    if not isinstance(metadata, dict):
        raise MetadataError(f"{where}: metadata.json is missing or not a JSON object.")
    for key, kind in (("name", str), ("input_kind", str), ("genres", list), ("thresholds", dict),
                      ("versions", dict)):
        if not isinstance(metadata.get(key), kind):
            raise MetadataError(f"{where}: metadata.json lacks '{key}' or it is not a {kind.__name__}.")
    if not metadata["name"].strip():
        raise MetadataError(f"{where}: the model name is empty.")
    if metadata["input_kind"] not in INPUT_KINDS:
        raise MetadataError(f"{where}: unknown input kind {metadata['input_kind']!r}.")
    genres = metadata["genres"]
    if not genres or not all(isinstance(g, str) and g for g in genres) or len(set(genres)) != len(genres):
        raise MetadataError(f"{where}: 'genres' must be a non-empty list of distinct names.")
    check_thresholds(metadata["thresholds"], len(genres), where)
    if "components" in metadata:
        check_components(metadata, where)
    for key in ("recipe", "metrics", "training", "data", "encoder"):
        if key in metadata and not isinstance(metadata[key], dict):
            raise MetadataError(f"{where}: '{key}' must be an object.")
    size = (metadata.get("recipe") or {}).get("image_size")
    if metadata["input_kind"] == "poster" and "components" not in metadata and not (
            isinstance(size, list) and len(size) == 2 and all(isinstance(s, int) and 8 <= s <= 1024 for s in size)):
        raise MetadataError(f"{where}: a poster model needs recipe.image_size as [height, width].")
    if keras_version is not None:
        saved_major = str(metadata["versions"].get("keras", "0")).split(".")[0]
        if saved_major != keras_version.split(".")[0]:
            raise MetadataError(f"{where}: saved with Keras {metadata['versions'].get('keras')}, "
                                f"this installation has Keras {keras_version}.")
    return metadata


def summarize_for_table(metadata: dict) -> dict:
    """Return one table row for a model: name, input, test figures, training time and command
    (Home, the Train page, the CLI's `models` and the README table all show this)."""
    test = (metadata.get("metrics") or {}).get("test") or {}
    training = metadata.get("training") or {}
    seconds = training.get("seconds")
    return {
        "model": metadata["name"],
        "input": metadata["input_kind"],
        "fusion of": ", ".join(part["name"] for part in metadata.get("components", [])),
        "thresholds": (metadata.get("thresholds") or {}).get("policy", "per_genre"),
        **{f"test {key}": test.get(key) for key in TABLE_METRICS},
        "test micro_f1 (one global threshold)": test.get("global_threshold_micro_f1"),
        "epochs": training.get("epochs_run") or None,
        "minutes": round(seconds / 60, 1) if is_number(seconds) else None,
        "trained": str(metadata.get("created_at", ""))[:10],
        "command": metadata.get("command", ""),
    }

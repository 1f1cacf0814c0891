"""Each model's validation and test probabilities, stored beside its artifact (``split_scores.npz``).

Scoring a split means running a network over every film of it: seconds for the CNNs, minutes for
the MiniLM models on two CPU cores (their transformer runs for every overview). The Evaluate and
Compare pages read these files instead, in milliseconds. A file is used only while it still
describes its artifact and the data at hand:

- it names the same model, genres and ``created_at`` as the artifact's metadata (a retrained or
  refitted model writes a new metadata, so its old scores are never shown with it);
- it was scored on data with the same fingerprint as the dataset at hand (or, with no dataset
  configured, as the data the artifact was trained on), in full (not a ``--max-films`` sample).

Otherwise the caller scores the split again (``score_split_with_progress``, chunk by chunk with a
progress callback). Probabilities are stored as float32, the dtype the networks return, so the
figures computed from a file are those of a fresh scoring.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from genre_models.config import ProgressCallback
from genre_models.fileio import write_bytes_atomically
from genre_models.fusion import ScoredSplit, fuse_split
from genre_models.inputs import model_inputs_for, score_inputs

# The file beside model.keras / metadata.json.
SPLIT_SCORES_FILE = "split_scores.npz"
# The splits stored: what Evaluate and Compare open on (train and "all" are scored on demand).
STORED_SPLITS = ("validation", "test")
# Version of the file's layout.
SPLIT_SCORES_FORMAT = 1


def describe_scores_for(metadata: dict, fingerprint: str | None, max_films: int | None = None) -> dict:
    """Return the header that ties a split-scores file to its artifact and its data."""
    return {
        "format": SPLIT_SCORES_FORMAT,
        "model": metadata["name"],
        "created_at": metadata.get("created_at"),
        "genres": list(metadata["genres"]),
        "data_fingerprint": fingerprint,
        "max_films": max_films,
    }


def write_split_scores(folder: str | os.PathLike, metadata: dict, splits: dict[str, ScoredSplit],
                       fingerprint: str | None, max_films: int | None = None) -> Path:
    """Write ``{split: ScoredSplit}`` into the artifact folder (atomically); return the file's path.

    ``fingerprint`` is the data's (MovieDataset.fingerprint); ``max_films`` the sample size the
    films were drawn with, if any (such a file is never used for the full dataset).
    """
    arrays = {"header": np.array(json.dumps(describe_scores_for(metadata, fingerprint, max_films)))}
    for split, scored in splits.items():
        if list(scored.genres) != list(metadata["genres"]):
            raise ValueError(f"The {split} scores are in another genre order than {metadata['name']} predicts.")
        arrays[f"{split}__ids"] = np.asarray(scored.ids).astype(str)
        arrays[f"{split}__labels"] = np.asarray(scored.labels, dtype=np.uint8)
        arrays[f"{split}__scores"] = np.asarray(scored.scores, dtype=np.float32)
    path = Path(folder) / SPLIT_SCORES_FILE
    write_bytes_atomically(path, lambda handle: np.savez_compressed(handle, **arrays))
    return path


def scored_splits(dataset, splits: dict[str, np.ndarray], scores: dict[str, np.ndarray]) -> dict[str, ScoredSplit]:
    """Return {split: ScoredSplit} from a dataset's split rows and a network's scores of them (the
    network predicts the dataset's genres in its column order, as a freshly trained one does)."""
    return {split: ScoredSplit(dataset.ids[splits[split]], dataset.labels[splits[split]], scores[split],
                               list(dataset.genres)) for split in scores}


def write_published_scores(folder: str | os.PathLike, metadata: dict, splits: dict[str, ScoredSplit]) -> Path:
    """Write a new artifact's split scores, tied to the data and sample its metadata records."""
    return write_split_scores(folder, metadata, splits, (metadata.get("data") or {}).get("fingerprint"),
                              (metadata.get("config") or {}).get("max_films"))


def read_header(path: Path) -> dict:
    """Return a split-scores file's header, or raise ValueError when it cannot be read."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            return json.loads(str(stored["header"]))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"{path.name} cannot be read ({type(error).__name__})") from error


def stored_scores_problem(folder: str | os.PathLike, metadata: dict, split: str,
                          fingerprint: str | None = None) -> str | None:
    """Return why the stored scores of ``split`` cannot stand for a fresh scoring of this artifact
    (``metadata``) on the data with ``fingerprint`` (None: no dataset at hand, so the data the
    artifact was trained on), or None when they can."""
    path = Path(folder) / SPLIT_SCORES_FILE
    if not path.is_file():
        return f"no {SPLIT_SCORES_FILE} beside the artifact"
    try:
        header = read_header(path)
    except ValueError as error:
        return str(error)
    expected = fingerprint or (metadata.get("data") or {}).get("fingerprint")
    if header.get("format") != SPLIT_SCORES_FORMAT:
        return f"{SPLIT_SCORES_FILE} has format {header.get('format')!r}, not {SPLIT_SCORES_FORMAT}"
    if header.get("model") != metadata.get("name") or header.get("created_at") != metadata.get("created_at"):
        return f"{SPLIT_SCORES_FILE} was written for another version of the model (created {header.get('created_at')})"
    if header.get("genres") != list(metadata.get("genres", [])):
        return f"{SPLIT_SCORES_FILE} lists other genres than the model"
    if header.get("max_films") is not None:
        return f"{SPLIT_SCORES_FILE} was scored on a sample of {header['max_films']} films"
    if header.get("data_fingerprint") != expected:
        return f"{SPLIT_SCORES_FILE} was scored on other data (fingerprint {header.get('data_fingerprint')})"
    with np.load(path, allow_pickle=False) as stored:
        if f"{split}__scores" not in stored.files:
            return f"{SPLIT_SCORES_FILE} holds no {split} split"
    return None


def read_split_scores(folder: str | os.PathLike, metadata: dict, split: str,
                      fingerprint: str | None = None) -> ScoredSplit | None:
    """Return the stored scores of a split when they still describe this artifact and data (see
    stored_scores_problem), else None (the caller scores the split)."""
    if stored_scores_problem(folder, metadata, split, fingerprint) is not None:
        return None
    try:
        with np.load(Path(folder) / SPLIT_SCORES_FILE, allow_pickle=False) as stored:
            ids = stored[f"{split}__ids"].astype(object)
            labels = stored[f"{split}__labels"]
            scores = stored[f"{split}__scores"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError):
        return None
    if scores.shape != (len(ids), len(metadata["genres"])) or labels.shape != scores.shape:
        return None
    return ScoredSplit(ids, labels, scores, list(metadata["genres"]))


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

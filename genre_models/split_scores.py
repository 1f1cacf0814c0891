"""Each model's validation and test probabilities, stored beside its artifact (``split_scores.npz``).

Scoring a split means running a network over every film of it: seconds for the CNNs, minutes for
the MiniLM models on two CPU cores (their transformer runs for every overview). The Evaluate and
Compare pages read these files instead, in milliseconds. A file is used only while it still
describes its artifact and the data at hand:

- it names the same model, genres and ``created_at`` as the artifact's metadata (a retrained or
  refitted model writes a new metadata, so its old scores are never shown with it);
- it was scored on data with the same fingerprint as the dataset at hand (or, with no dataset
  configured, as the data the artifact was trained on), in full (not a ``--max-films`` sample).

Otherwise the caller scores the split again (``scoring.read_or_score_split``, chunk by chunk with a
progress callback). Probabilities are stored as float32, the dtype the networks return, so the
figures computed from a file are those of a fresh scoring.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genre_models.fileio import write_bytes_atomically

# The file beside model.keras / metadata.json.
SPLIT_SCORES_FILE = "split_scores.npz"
# The splits stored: every film of the data the model was trained on, so Evaluate and Compare open
# any split (and "all", their union) without running a model. The train split is where the models
# fit, so its figures are optimistic; it is stored for the dataset view, not for judging a model.
STORED_SPLITS = ("train", "validation", "test")
# Version of the file's layout.
SPLIT_SCORES_FORMAT = 1
# What numpy and zipfile raise for a damaged file: a truncated copy, a bad sector (zlib.error from an
# invalid deflate block), a garbled header. Each means "score the split again", never a crash.
READ_ERRORS = (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError, zlib.error)


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
    except READ_ERRORS as error:
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
    try:
        with np.load(path, allow_pickle=False) as stored:
            if f"{split}__scores" not in stored.files:
                return f"{SPLIT_SCORES_FILE} holds no {split} split"
    except READ_ERRORS as error:
        return f"{SPLIT_SCORES_FILE} cannot be read ({type(error).__name__})"
    return None


def read_split_scores(folder: str | os.PathLike, metadata: dict, split: str,
                      fingerprint: str | None = None) -> ScoredSplit | None:
    """Return the stored scores of a split when they still describe this artifact and data (see
    stored_scores_problem), else None (the caller scores the split). "all" is the union of the
    stored splits, when every one of them is stored."""
    if split == "all":
        parts = [read_split_scores(folder, metadata, name, fingerprint) for name in STORED_SPLITS]
        if any(part is None for part in parts):
            return None
        return ScoredSplit(np.concatenate([part.ids for part in parts]),
                           np.concatenate([part.labels for part in parts]),
                           np.concatenate([part.scores for part in parts]), list(metadata["genres"]))
    if stored_scores_problem(folder, metadata, split, fingerprint) is not None:
        return None
    try:
        with np.load(Path(folder) / SPLIT_SCORES_FILE, allow_pickle=False) as stored:
            ids = stored[f"{split}__ids"].astype(object)
            labels = stored[f"{split}__labels"]
            scores = stored[f"{split}__scores"]
    except READ_ERRORS:
        return None
    if scores.shape != (len(ids), len(metadata["genres"])) or labels.shape != scores.shape:
        return None
    return ScoredSplit(ids, labels, scores, list(metadata["genres"]))

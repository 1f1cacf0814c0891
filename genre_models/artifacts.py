"""Shipped model artifacts: a folder per model with model.keras, metadata.json and history.json.

Loaders rebuild everything (genre order, thresholds, input kind) from the
metadata; an artifact that is incomplete or incompatible is reported and
skipped, never half-loaded.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genre_models.config import resolve_artifacts_dir
from genre_models.data import replace_directory
from genre_models.models import INPUT_KINDS
from genre_models.runs import read_json, write_json_atomically

MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"
HISTORY_FILE = "history.json"
# Bumped when the metadata layout changes incompatibly.
METADATA_FORMAT = 1
# Metadata keys a loader needs.
REQUIRED_KEYS = ("name", "input_kind", "genres", "thresholds", "versions")


class ArtifactError(ValueError):
    """An artifact is missing, incomplete or incompatible; the message says which and why."""


@dataclass
class LoadedModel:
    """A model ready to predict, with everything its metadata says about it."""

    # Artifact (and registry) name.
    name: str
    # POSTER or OVERVIEW.
    input_kind: str
    # Genre names in output order.
    genres: list[str]
    # Decision threshold per genre, in genre order.
    thresholds: np.ndarray
    # The full metadata.json content.
    metadata: dict
    # The Keras model (preprocessing included); None for a late fusion, which reuses its components.
    model: object
    # Folder it was loaded from.
    folder: Path


def check_metadata(metadata: dict, folder: Path) -> None:
    """Raise ArtifactError if metadata lacks what a loader needs or was written by an incompatible Keras."""
    import keras

    missing = [key for key in REQUIRED_KEYS if key not in metadata]
    if missing:
        raise ArtifactError(f"{folder.name}: metadata.json lacks {', '.join(missing)}.")
    if metadata["input_kind"] not in INPUT_KINDS:
        raise ArtifactError(f"{folder.name}: unknown input kind {metadata['input_kind']!r}.")
    genres, thresholds = metadata["genres"], metadata["thresholds"].get("per_genre", [])
    if not genres or len(thresholds) != len(genres):
        raise ArtifactError(f"{folder.name}: {len(thresholds)} thresholds for {len(genres)} genres.")
    saved_major = str(metadata["versions"].get("keras", "0")).split(".")[0]
    if saved_major != keras.__version__.split(".")[0]:
        raise ArtifactError(
            f"{folder.name}: saved with Keras {metadata['versions'].get('keras')}, "
            f"this installation has Keras {keras.__version__}."
        )


def load_artifact(folder: str | os.PathLike) -> LoadedModel:
    """Load one artifact folder, or raise ArtifactError saying what is wrong with it."""
    import keras

    folder = Path(folder)
    metadata = read_json(folder / METADATA_FILE)
    if not isinstance(metadata, dict):
        raise ArtifactError(f"{folder.name}: metadata.json is missing or not valid JSON.")
    check_metadata(metadata, folder)
    if "components" in metadata:
        parts = metadata["components"]
        if not isinstance(parts, list) or not parts or not all({"name", "weight"} <= set(p) for p in parts):
            raise ArtifactError(f"{folder.name}: a fused model's metadata must list its components and weights.")
        return LoadedModel(name=metadata["name"], input_kind=metadata["input_kind"], genres=list(metadata["genres"]),
                           thresholds=np.asarray(metadata["thresholds"]["per_genre"], dtype=np.float64),
                           metadata=metadata, model=None, folder=folder)
    model_path = folder / MODEL_FILE
    if not model_path.is_file():
        raise ArtifactError(f"{folder.name}: {MODEL_FILE} is missing.")
    try:
        model = keras.models.load_model(model_path, compile=False)
    except Exception as error:  # Keras raises many types for a damaged file; all mean "unusable".
        raise ArtifactError(f"{folder.name}: {MODEL_FILE} could not be loaded ({type(error).__name__}: {error}).") from error
    if metadata.get("encoder"):
        from genre_models.encoders import wrap_with_encoder

        try:
            model = wrap_with_encoder(model, metadata["encoder"])
        except ValueError as error:
            raise ArtifactError(f"{folder.name}: {error}") from error
    num_outputs = model.outputs[0].shape[-1]
    if num_outputs != len(metadata["genres"]):
        raise ArtifactError(f"{folder.name}: the model has {num_outputs} outputs for {len(metadata['genres'])} genres.")
    return LoadedModel(
        name=metadata["name"],
        input_kind=metadata["input_kind"],
        genres=list(metadata["genres"]),
        thresholds=np.asarray(metadata["thresholds"]["per_genre"], dtype=np.float64),
        metadata=metadata,
        model=model,
        folder=folder,
    )


def list_artifact_folders(root: Path | None = None, overrides: dict[str, str] | None = None) -> dict[str, Path]:
    """Return {model name: artifact folder} in name order: every folder under the root, and
    ``overrides`` mapping a name to a folder used instead (a promoted training run)."""
    root = Path(root) if root else resolve_artifacts_dir()
    folders = {}
    if root.is_dir():
        folders = {child.name: child for child in root.iterdir() if child.is_dir() and not child.name.startswith(".")}
    for name, folder in (overrides or {}).items():
        if Path(folder).is_dir():
            folders[name] = Path(folder)
    return {name: folders[name] for name in sorted(folders)}


def read_artifact_metadata(root: Path | None = None, overrides: dict[str, str] | None = None
                           ) -> tuple[list[dict], dict[str, str]]:
    """Return the metadata of every valid artifact (without loading models) and errors by model name."""
    found, errors = [], {}
    for name, folder in list_artifact_folders(root, overrides).items():
        metadata = read_json(folder / METADATA_FILE)
        try:
            if not isinstance(metadata, dict):
                raise ArtifactError(f"{folder.name}: metadata.json is missing or not valid JSON.")
            check_metadata(metadata, folder)
            if "components" not in metadata and not (folder / MODEL_FILE).is_file():
                raise ArtifactError(f"{folder.name}: {MODEL_FILE} is missing.")
        except ArtifactError as error:
            errors[name] = str(error)
            continue
        found.append(metadata)
    return found, errors


def load_all_artifacts(root: Path | None = None, names: list[str] | None = None,
                       overrides: dict[str, str] | None = None) -> tuple[list[LoadedModel], dict[str, str]]:
    """Load every valid artifact (or the named ones); return them and the errors of the others."""
    loaded, errors = [], {}
    for name, folder in list_artifact_folders(root, overrides).items():
        if names is not None and name not in names:
            continue
        try:
            loaded.append(load_artifact(folder))
        except ArtifactError as error:
            errors[name] = str(error)
    return loaded, errors


def publish_artifact(destination: Path, model, metadata: dict, history: dict) -> Path:
    """Write model + metadata + history into a staging folder, then swap it in atomically.

    The optimizer state is left out (the model is re-compiled without it) to
    keep the repository lean; a crash at any point leaves the previous artifact.
    """
    import keras

    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
    try:
        if model is not None:
            # A fresh, unbuilt optimizer carries no slot variables into the file.
            model.compile(optimizer=keras.optimizers.Adam(), loss="binary_crossentropy")
            model.save(staging / MODEL_FILE)
        write_json_atomically(staging / HISTORY_FILE, history)
        write_json_atomically(staging / METADATA_FILE, metadata)
        replace_directory(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return destination

"""Shipped model artifacts: a folder per model with model.keras, metadata.json and history.json.

Loaders rebuild everything (genre order, thresholds, input kind, parts of a fusion) from the
metadata, checked against one schema (genre_models.metadata); an artifact that is incomplete or
incompatible is reported and skipped, never half-loaded, and the others keep working.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genre_models.cards import read_baselines, write_model_card
from genre_models.config import resolve_artifacts_dir
from genre_models.fileio import read_json, write_folder_atomically, write_json_atomically
from genre_models.inputs import BOTH, OVERVIEW, POSTER
from genre_models.metadata import MetadataError, validate_metadata
from genre_models.split_scores import write_published_scores

MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"
HISTORY_FILE = "history.json"


class ArtifactError(ValueError):
    """An artifact is missing, incomplete or incompatible; the message says which and why."""


@dataclass
class LoadedModel:
    """A model ready to predict, with everything its metadata says about it."""

    # Artifact (and registry) name.
    name: str
    # What it reads: POSTER, OVERVIEW or BOTH.
    input_kind: str
    # Genre names in output order.
    genres: list[str]
    # Decision threshold per genre, in genre order.
    thresholds: np.ndarray
    # The full metadata.json content.
    metadata: dict
    # The Keras model (preprocessing included); None for a fusion, which combines its parts' scores.
    model: object
    # Folder it was loaded from.
    folder: Path

    @property
    def is_fusion(self) -> bool:
        """Whether this model fuses other models' probabilities (it has no network of its own)."""
        return "components" in self.metadata

    @property
    def parts(self) -> list[tuple[str, float]]:
        """A fusion's (part name, weight) pairs in order; empty for a network."""
        return [(part["name"], float(part["weight"])) for part in self.metadata.get("components", [])]

    @property
    def input_kinds(self) -> set[str]:
        """The inputs a prediction needs: {POSTER}, {OVERVIEW} or both."""
        return {POSTER, OVERVIEW} if self.input_kind == BOTH else {self.input_kind}

    @property
    def image_size(self) -> tuple[int, int] | None:
        """The poster size a dataset must be loaded at for this network (None: no posters)."""
        size = (self.metadata.get("recipe") or {}).get("image_size")
        return tuple(size) if self.input_kind == POSTER and not self.is_fusion and size else None


def installed_keras_version() -> str:
    """Return the installed Keras version, read from its package metadata: importing keras imports
    TensorFlow (seconds), which listing the artifacts from their metadata (the Home page) must not wait for."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("keras")
    except PackageNotFoundError:  # not installed as a package (a source checkout on the path, say)
        import keras

        return keras.__version__


def check_metadata(metadata, folder: Path, listed_as: str | None = None) -> dict:
    """Return the folder's metadata if it matches the schema and this Keras; raise ArtifactError."""
    try:
        validate_metadata(metadata, folder.name, installed_keras_version())
    except MetadataError as error:
        raise ArtifactError(str(error)) from error
    if listed_as is not None and metadata["name"] != listed_as:
        raise ArtifactError(f"{folder.name}: its metadata names the model {metadata['name']!r}, but it is installed "
                            f"as {listed_as!r} (a copied folder?); rename one so each name is used once.")
    if "components" not in metadata and not (folder / MODEL_FILE).is_file():
        raise ArtifactError(f"{folder.name}: {MODEL_FILE} is missing.")
    return metadata


def load_network(folder: Path, metadata: dict):
    """Load a non-fusion artifact's Keras model (putting its encoder back in front), or raise ArtifactError."""
    import keras

    try:
        model = keras.models.load_model(folder / MODEL_FILE, compile=False)
    except Exception as error:  # Keras raises many types for a damaged file; all mean "unusable".
        raise ArtifactError(f"{folder.name}: {MODEL_FILE} could not be loaded ({type(error).__name__}: {error}).") from error
    if metadata.get("encoder"):
        from genre_models.encoders import wrap_with_encoder

        try:
            model = wrap_with_encoder(model, metadata["encoder"])
        except (ValueError, KeyError, TypeError) as error:
            raise ArtifactError(f"{folder.name}: its encoder could not be attached ({error})") from error
    num_outputs = model.outputs[0].shape[-1]
    if num_outputs != len(metadata["genres"]):
        raise ArtifactError(f"{folder.name}: the model has {num_outputs} outputs for {len(metadata['genres'])} genres.")
    return model


def load_artifact(folder: str | os.PathLike, listed_as: str | None = None) -> LoadedModel:
    """Load one artifact folder, or raise ArtifactError saying what is wrong with it."""
    folder = Path(folder)
    metadata = check_metadata(read_json(folder / METADATA_FILE), folder, listed_as)
    model = None if "components" in metadata else load_network(folder, metadata)
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
    try:
        if root.is_dir():
            folders = {child.name: child for child in root.iterdir() if child.is_dir() and not child.name.startswith(".")}
    except OSError:
        folders = {}  # An unreadable folder holds no usable artifact; callers report "none found".
    for name, folder in (overrides or {}).items():
        if Path(folder).is_dir():
            folders[name] = Path(folder)
    return {name: folders[name] for name in sorted(folders)}


def read_artifact_metadata(root: Path | None = None, overrides: dict[str, str] | None = None
                           ) -> tuple[list[dict], dict[str, str]]:
    """Return the metadata of every valid artifact (without loading models) and errors by model name."""
    found, errors = [], {}
    for name, folder in list_artifact_folders(root, overrides).items():
        try:
            found.append(check_metadata(read_json(folder / METADATA_FILE), folder, listed_as=name))
        except ArtifactError as error:
            errors[name] = str(error)
    return found, errors


def load_all_artifacts(root: Path | None = None, names: list[str] | None = None,
                       overrides: dict[str, str] | None = None) -> tuple[list[LoadedModel], dict[str, str]]:
    """Load every valid artifact (or the named ones); return them and the errors of the others."""
    loaded, errors = [], {}
    for name, folder in list_artifact_folders(root, overrides).items():
        if names is not None and name not in names:
            continue
        try:
            loaded.append(load_artifact(folder, listed_as=name))
        except ArtifactError as error:
            errors[name] = str(error)
    return loaded, errors


def publish_artifact(destination: Path, model, metadata: dict, history: dict, split_scores: dict | None = None) -> Path:
    """Write model + metadata + history into a staging folder, then swap it in atomically.

    The optimizer state is left out (the model is re-compiled without it) to
    keep the repository lean; a crash at any point leaves the previous artifact.
    ``split_scores`` ({split: fusion.ScoredSplit}, the validation and test scores computed for the
    metadata) are written beside it (genre_models.split_scores), so pages need not score them again.
    The model card (README.md, genre_models.cards) is written from the metadata with them.
    """
    import keras

    with write_folder_atomically(destination) as staging:
        if model is not None:
            # A fresh, unbuilt optimizer carries no slot variables into the file.
            model.compile(optimizer=keras.optimizers.Adam(), loss="binary_crossentropy")
            model.save(staging / MODEL_FILE)
        write_json_atomically(staging / HISTORY_FILE, history)
        write_json_atomically(staging / METADATA_FILE, metadata)
        if split_scores:
            write_published_scores(staging, metadata, split_scores)
        # The model card (README.md) is generated from the metadata, so it is always in step with it;
        # the baselines it quotes are those beside the destination folder.
        write_model_card(staging, metadata, read_baselines(destination))
    return Path(destination)

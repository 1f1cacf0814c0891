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
from genre_models.config import COMBINE_PROBABILITIES, resolve_artifacts_dir
from genre_models.fileio import (
    read_json,
    write_folder_atomically,
    write_json_atomically,
)
from genre_models.inputs import POSTER, kinds_read_by
from genre_models.metadata import MetadataError, validate_metadata
from genre_models.split_scores import write_published_scores

MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"
HISTORY_FILE = "history.json"


class ArtifactError(ValueError):
    """An artifact is missing, incomplete or incompatible; the message says which and why."""


class ModelUnavailableError(ArtifactError):
    """The artifact is sound, but this machine lacks an optional package it needs (the MiniLM models
    without keras-hub or tensorflow-text): unavailable here, not damaged. ``reason`` says what is missing."""

    def __init__(self, folder_name: str, reason: str):
        super().__init__(f"{folder_name}: {reason}")
        self.reason = reason


class UnavailableReason(str):
    """The reason recorded for a model that is unavailable on this machine (ModelUnavailableError), as
    opposed to a damaged artifact's. A str, so the {model: reason} mappings every caller passes on keep
    it as it is, and genre_models.inference.GenrePredictor can tell the two apart (is_unavailable)."""


def is_unavailable(reason: str) -> bool:
    """Return whether a load error means "a package this machine lacks", not "a damaged artifact"."""
    return isinstance(reason, UnavailableReason)


def describe_fusion_unavailable(parts: list[str]) -> UnavailableReason:
    """Return why a fused model is unavailable when some of its parts are."""
    return UnavailableReason(f"need {', '.join(parts)}, which this machine cannot run")


def describe_unavailable(unavailable: dict[str, str]) -> list[str]:
    """Return one line per reason, the models it keeps from running first: e.g. 'minilm_mlp,
    minilm_tuned: need keras-hub and tensorflow-text, which are not installed (...)'."""
    by_reason: dict[str, list[str]] = {}
    for name, reason in unavailable.items():
        by_reason.setdefault(str(reason), []).append(name)
    return [f"{', '.join(names)}: {reason}" for reason, names in by_reason.items()]


def list_part_names(metadata: dict) -> list[str]:
    """Return the names of a fused model's parts from its metadata (empty for a network)."""
    return [part.get("name") for part in metadata.get("components") or [] if isinstance(part, dict)]


def find_unavailable_models(found: list[dict]) -> dict[str, UnavailableReason]:
    """Return {model: why this machine cannot run it} from valid artifacts' metadata alone (fused models
    whose parts cannot run included). Only checks that the optional packages are present, importing none
    of them (for listings that must stay fast); loading the model imports them and catches a broken one."""
    from genre_models.encoders import EncoderUnavailableError, check_encoder_packages

    unavailable = {}
    for metadata in found:
        encoder = metadata.get("encoder")
        if encoder and "components" not in metadata:
            try:
                check_encoder_packages(encoder["name"], import_them=False)
            except EncoderUnavailableError as error:
                unavailable[metadata["name"]] = UnavailableReason(str(error))
            except (ValueError, KeyError, TypeError):
                continue  # an unknown encoder: loading reports the artifact as incompatible
    for metadata in found:
        missing = [part for part in list_part_names(metadata) if part in unavailable]
        if missing:
            unavailable[metadata["name"]] = describe_fusion_unavailable(missing)
    return unavailable


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
    def combine(self) -> str:
        """How a fusion combines its parts' probabilities: "probabilities" or "logits" (see fusion.fuse_scores;
        fusions made before the choice existed combine probabilities)."""
        return (self.metadata.get("recipe") or {}).get("combine") or COMBINE_PROBABILITIES

    @property
    def input_kinds(self) -> frozenset[str]:
        """The inputs a prediction needs: {POSTER}, {OVERVIEW} or both."""
        return kinds_read_by(self.input_kind)

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
    """Load a non-fusion artifact's Keras model (putting its encoder back in front); raise
    ModelUnavailableError when this machine lacks a package it needs, ArtifactError when it is unusable."""
    import keras

    encoder = metadata.get("encoder")
    if encoder:
        from genre_models.encoders import (
            EncoderUnavailableError,
            check_encoder_packages,
        )

        # Checked before the file is read: a tuned encoder's layers are keras-hub classes, which Keras
        # could not rebuild without keras-hub and would report as a damaged file.
        try:
            check_encoder_packages(encoder["name"])
        except EncoderUnavailableError as error:
            raise ModelUnavailableError(folder.name, str(error)) from error
        except (ValueError, KeyError, TypeError) as error:
            raise ArtifactError(f"{folder.name}: its encoder could not be attached ({error})") from error
    try:
        model = keras.models.load_model(folder / MODEL_FILE, compile=False)
    except Exception as error:  # Keras raises many types for a damaged file; all mean "unusable".
        raise ArtifactError(f"{folder.name}: {MODEL_FILE} could not be loaded ({type(error).__name__}: {error}).") from error
    if encoder:
        from genre_models.encoders import wrap_with_encoder

        try:
            model = wrap_with_encoder(model, encoder)
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
    """Load every valid artifact (or the named ones); return them and the errors of the others (an
    UnavailableReason for a model this machine lacks a package for, see is_unavailable)."""
    loaded, errors = [], {}
    for name, folder in list_artifact_folders(root, overrides).items():
        if names is not None and name not in names:
            continue
        try:
            loaded.append(load_artifact(folder, listed_as=name))
        except ModelUnavailableError as error:
            errors[name] = UnavailableReason(error.reason)
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

"""The dataset the pages read: where it is configured, the cached load, how to change it, and the zip import."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from genre_models.config import (
    CSV_NAME, DATA_DIR_ENV, DEFAULT_DATA_DIR, PROJECT_ROOT, read_only_reason, resolve_data_dir,
)
from genre_models.dataset import DatasetError, MovieDataset, load_dataset, locate_dataset


def data_location() -> Path:
    """Return the configured dataset location (GENRE_DATA_DIR, else the default folder)."""
    return resolve_data_dir()


def data_stamp(folder: Path) -> str:
    """Return a cache key part that changes when the dataset's CSV is replaced."""
    try:
        csv_path = locate_dataset(folder) / CSV_NAME
        return f"{csv_path}:{csv_path.stat().st_mtime_ns}"
    except (DatasetError, OSError):
        return "missing"


@st.cache_resource(show_spinner="Reading the dataset...", max_entries=8)
def get_dataset(location: str, image_size: tuple[int, int] | None, stamp: str) -> MovieDataset:
    """Load (and cache) the dataset at a location, optionally with posters at a size."""
    return load_dataset(location, image_size=image_size)


def dataset(image_size: tuple[int, int] | None = None) -> tuple[MovieDataset | None, str | None]:
    """Return the configured dataset, or None and a message saying how to provide it."""
    location = data_location()
    try:
        return get_dataset(str(location), image_size, data_stamp(location)), None
    except DatasetError as error:
        return None, str(error)


def import_dataset_zip(uploaded_bytes: bytes, progress) -> Path:
    """Install an uploaded dataset zip as the default data folder; return that folder.

    genre_models.dataset.import_dataset_zip does the work (checks, a staging folder of
    its own, a load before anything is replaced, one swap; a DatasetError saying why
    otherwise, with the previous dataset as it was); here the cached dataset and
    scores are forgotten so every page reads the new data.
    """
    # Imported under another name: this wrapper keeps the name the pages call.
    from genre_models.dataset import import_dataset_zip as install_dataset_zip

    folder = install_dataset_zip(uploaded_bytes, PROJECT_ROOT / DEFAULT_DATA_DIR, progress=progress)
    from genre_app.scores import get_split_scores

    get_dataset.clear()
    get_split_scores.clear()
    return folder


def data_setting_help() -> str:
    """Return how the dataset location is configured, for display."""
    current = os.environ.get(DATA_DIR_ENV)
    where = f"`{DATA_DIR_ENV}={current}`" if current else f"not set, so the default `{DEFAULT_DATA_DIR}` is used"
    # A read-only deployment offers no zip import, so only the setting is suggested.
    upload = "" if read_only_reason() else ", or upload the zip on the Home page"
    return (
        f"The dataset location comes from the `{DATA_DIR_ENV}` environment variable ({where}). "
        f"To change it, restart the app with `{DATA_DIR_ENV}=/path/to/Multimodal_IMDB_dataset` "
        f"(a folder or the .zip){upload}."
    )

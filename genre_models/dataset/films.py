"""The whole dataset: MovieDataset (validated films, labels, splits, optional posters), load_dataset,
and import_dataset_zip, which installs a dataset zip only once it loads."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genre_models.config import (
    CSV_NAME,
    ProgressCallback,
    SplitConfig,
    ZipLimits,
    resolve_cache_dir,
)
from genre_models.dataset.archive import (
    extract_zip_safely,
    find_dataset_folder,
    locate_dataset,
)
from genre_models.dataset.catalog import (
    ID_COLUMN,
    OVERVIEW_COLUMN,
    DatasetError,
    DatasetReport,
    compute_fingerprint,
    read_catalog,
)
from genre_models.dataset.posters import load_posters, poster_path, poster_problem
from genre_models.dataset.splits import SPLIT_NAMES, assign_split, select_films
from genre_models.fileio import lock_file, replace_directory


@dataclass
class MovieDataset:
    """Validated films with labels, splits and (optionally) decoded posters."""

    # Folder the films were read from.
    folder: Path
    # Genre names in label-column order.
    genres: list[str]
    # Film Ids, shape (num_films,).
    ids: np.ndarray
    # Overviews, shape (num_films,), dtype object (str).
    overviews: np.ndarray
    # Multi-hot labels, shape (num_films, num_genres), uint8.
    labels: np.ndarray
    # Split name per film ("train", "validation" or "test").
    splits: np.ndarray
    # Content fingerprint of the data (CSV bytes + poster names and sizes).
    fingerprint: str
    # What was dropped and why.
    report: DatasetReport
    # Decoded posters, shape (num_films, height, width, 3), uint8; None when not loaded.
    posters: np.ndarray | None = None

    @property
    def num_films(self) -> int:
        """Number of films kept."""
        return len(self.ids)

    @property
    def num_genres(self) -> int:
        """Number of genre columns."""
        return len(self.genres)

    def poster_path(self, film_id: str) -> Path:
        """Return the poster file of a film."""
        return poster_path(self.folder, film_id)

    def split_indices(self, split: str) -> np.ndarray:
        """Return the row indices of a split ("train", "validation", "test" or "all")."""
        if split == "all":
            return np.arange(self.num_films)
        if split not in SPLIT_NAMES:
            raise ValueError(f"Unknown split {split!r}; choose one of {', '.join(SPLIT_NAMES)} or 'all'.")
        return np.flatnonzero(self.splits == split)

    def labels_for(self, genres: list[str]) -> np.ndarray:
        """Return the labels with columns in ``genres``' order (a model's genre order), matched by
        name whatever the order of the CSV's columns; raise ValueError naming any missing genre."""
        missing = [genre for genre in genres if genre not in self.genres]
        if missing:
            raise ValueError(f"The dataset has no column for the genre(s) {', '.join(missing)} that the model "
                             f"predicts; its genre columns are {', '.join(self.genres)}.")
        return self.labels[:, [self.genres.index(genre) for genre in genres]]

    def row_of(self, film_id: str) -> int:
        """Return the row of a film by Id, or raise ValueError."""
        rows = np.flatnonzero(self.ids == film_id)
        if not len(rows):
            raise ValueError(f"No film with Id {film_id!r} in this dataset.")
        return int(rows[0])

    def subset(self, indices: np.ndarray) -> MovieDataset:
        """Return a dataset holding only the given rows (same genres, report and fingerprint)."""
        return MovieDataset(
            folder=self.folder,
            genres=self.genres,
            ids=self.ids[indices],
            overviews=self.overviews[indices],
            labels=self.labels[indices],
            splits=self.splits[indices],
            fingerprint=self.fingerprint,
            report=self.report,
            posters=None if self.posters is None else self.posters[indices],
        )


def load_dataset(
    path: str | os.PathLike,
    image_size: tuple[int, int] | None = None,
    max_films: int | None = None,
    seed: int = 42,
    split_config: SplitConfig = SplitConfig(),
    progress: ProgressCallback | None = None,
) -> MovieDataset:
    """Load and validate a course-format dataset (folder or zip).

    With ``image_size`` posters are decoded (through the cache) and films whose
    poster is missing or undecodable are dropped; without it only the files'
    presence is checked. Problems are reported in ``dataset.report``, never raised,
    unless nothing valid is left.
    """
    folder = locate_dataset(path, progress=progress)
    report = DatasetReport()
    table, genres = read_catalog(folder, report, require_labels=True)

    problems = [poster_problem(folder, film_id) for film_id in table[ID_COLUMN]]
    for film_id, problem in zip(table[ID_COLUMN], problems):
        if problem is not None:
            report.add_dropped(problem, film_id)
    table = table[np.array([problem is None for problem in problems], dtype=bool)].reset_index(drop=True)
    fingerprint = compute_fingerprint(folder)

    selected = select_films(table[ID_COLUMN].to_numpy(), max_films, seed)
    table = table.iloc[selected].reset_index(drop=True)

    posters = None
    if image_size is not None:
        ids = table[ID_COLUMN].tolist()
        posters, failures = load_posters(folder, ids, tuple(image_size), fingerprint, progress=progress)
        decodable = np.array([film_id not in failures for film_id in ids], dtype=bool)
        for film_id, reason in failures.items():
            report.add_dropped(reason, film_id)
        table = table[decodable].reset_index(drop=True)

    if table.empty:
        raise DatasetError(f"No valid film in {folder}: " + "; ".join(report.summary_lines()))
    labels = table[genres].astype(np.uint8).to_numpy()
    report.films_kept = len(table)
    report.empty_genres = [genre for genre, count in zip(genres, labels.sum(axis=0)) if count == 0]
    ids = table[ID_COLUMN].to_numpy(dtype=object)
    return MovieDataset(
        folder=folder,
        genres=genres,
        ids=ids,
        overviews=table[OVERVIEW_COLUMN].to_numpy(dtype=object),
        labels=labels,
        splits=np.array([assign_split(film_id, split_config) for film_id in ids], dtype=object),
        fingerprint=fingerprint,
        report=report,
        posters=posters,
    )


@contextmanager
def exclusive_swap(target: Path) -> Iterator[None]:
    """Hold a lock on swapping ``target`` (threads and processes alike), so two imports that finish
    together replace the dataset one after the other. The lock file lives in the cache folder,
    not beside the data, so the data folder holds nothing but datasets."""
    key = hashlib.sha256(str(target.resolve()).encode("utf-8", errors="surrogateescape")).hexdigest()[:16]
    lock_path = resolve_cache_dir() / "locks" / f"dataset-import-{key}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+", encoding="utf-8") as handle:
        lock_file(handle)  # Released when the file is closed.
        yield


def import_dataset_zip(
    source: str | os.PathLike | bytes,
    target: str | os.PathLike,
    progress: ProgressCallback | None = None,
    limits: ZipLimits = ZipLimits(),
) -> Path:
    """Install the dataset in a zip (its path or its bytes) as the folder ``target``; return ``target``.

    The zip is extracted into a staging folder of this import's own beside ``target``
    (so two imports at once never share one), the dataset folder is found in it (at
    the zip's root or one folder down) and loaded, so a zip whose CSV is unusable is
    refused before anything is replaced; then that folder replaces ``target`` in one
    step, under a lock, so of two imports the last one wins and each is whole. The
    staging folder is removed on every path; a failed import leaves the previous
    dataset as it was. Every failure is a DatasetError that says why.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.import-", dir=target.parent))
    except OSError as error:
        raise DatasetError(f"Cannot write the dataset into {target.parent}: {error.strerror or error}.") from error
    try:
        extracted = extract_zip_safely(source, staging / "extracted", limits=limits, progress=progress)
        folder = find_dataset_folder(extracted, label="The zip")
        if folder is None:
            raise DatasetError(f"No {CSV_NAME} in the zip, at its root or one folder down; upload "
                               "Multimodal_IMDB_dataset.zip as downloaded.")
        load_dataset(folder)
        with exclusive_swap(target):
            replace_directory(folder, target)
    except OSError as error:
        raise DatasetError(f"Could not install the dataset at {target}: {error.strerror or error}.") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target

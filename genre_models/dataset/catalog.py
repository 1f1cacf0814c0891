"""The course CSV: reading it, validating every row, and what loading found (DatasetReport).

Columns are ``Id, Genre, <genre 0/1 columns>, Overview`` in the course format; rows that cannot
be used are dropped with a reason per kind, never silently.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from genre_models.config import CSV_NAME, IMAGES_DIR_NAME

# Columns of the course CSV that are not genres.
ID_COLUMN = "Id"
OVERVIEW_COLUMN = "Overview"
GENRE_LIST_COLUMN = "Genre"
NON_GENRE_COLUMNS = {ID_COLUMN, OVERVIEW_COLUMN, GENRE_LIST_COLUMN}

# Reasons a film is dropped; keys of DatasetReport.dropped.
REASON_DUPLICATE = "duplicate Id"
REASON_BAD_ID = "invalid Id"
REASON_EMPTY_OVERVIEW = "empty overview"
REASON_NO_GENRE = "no genre"
REASON_BAD_LABEL = "label not 0/1"
REASON_MISSING_POSTER = "missing poster"
REASON_BAD_POSTER = "undecodable poster"


class DatasetError(ValueError):
    """The dataset could not be found or read; the message says what to do."""


@dataclass
class DatasetReport:
    """What was found while loading, for the CLI, the app and artifact metadata."""

    # Rows in the CSV before any check.
    rows_read: int = 0
    # Films kept after every check.
    films_kept: int = 0
    # Dropped Ids per reason.
    dropped: dict[str, list[str]] = field(default_factory=dict)
    # Genre columns that have no positive film among the kept ones.
    empty_genres: list[str] = field(default_factory=list)
    # Other notes (encoding fallbacks and the like).
    notes: list[str] = field(default_factory=list)

    def add_dropped(self, reason: str, film_id: str) -> None:
        """Record that a film was dropped for a reason."""
        self.dropped.setdefault(reason, []).append(str(film_id))

    def dropped_counts(self) -> dict[str, int]:
        """Return the number of dropped films per reason."""
        return {reason: len(ids) for reason, ids in self.dropped.items()}

    def summary_lines(self) -> list[str]:
        """Return human-readable lines describing the problems found."""
        lines = [f"{self.films_kept} films kept of {self.rows_read} rows read"]
        for reason, ids in self.dropped.items():
            examples = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
            lines.append(f"dropped {len(ids)} film(s): {reason} ({examples})")
        if self.empty_genres:
            lines.append("genres with no positive film (kept): " + ", ".join(self.empty_genres))
        lines.extend(self.notes)
        return lines

    def to_dict(self) -> dict:
        """Return a JSON-serialisable summary (counts and a few example Ids per reason)."""
        return {
            "rows_read": self.rows_read,
            "films_kept": self.films_kept,
            "dropped": {reason: {"count": len(ids), "examples": ids[:5]} for reason, ids in self.dropped.items()},
            "empty_genres": list(self.empty_genres),
            "notes": list(self.notes),
        }


def read_csv_table(csv_path: Path, report: DatasetReport) -> pd.DataFrame:
    """Read the CSV as strings; fall back to Latin-1 (with a note) if it is not UTF-8."""
    raw = csv_path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        report.notes.append(f"{csv_path.name} is not valid UTF-8; read it as Latin-1.")
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise DatasetError(f"{csv_path.name} is not a readable CSV file ({error}).") from error


def genre_columns_of(table: pd.DataFrame) -> list[str]:
    """Return the genre columns: every column except Id, Genre and Overview, in file order."""
    return [column for column in table.columns if column not in NON_GENRE_COLUMNS]


def is_safe_film_id(film_id: str) -> bool:
    """Return whether an Id can name a poster file without leaving the Images folder."""
    return bool(film_id) and film_id not in (".", "..") and not any(ch in film_id for ch in "/\\\0")


def read_catalog(folder: Path, report: DatasetReport, require_labels: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """Read and validate the CSV; return the kept rows and the genre names.

    With ``require_labels`` (training, evaluation) rows with no genre or a label
    other than 0/1 are dropped and missing label columns are an error; without it
    (prediction on any folder) only Id and Overview are needed.
    """
    csv_path = Path(folder) / CSV_NAME
    if not csv_path.is_file():
        raise DatasetError(f"{csv_path} does not exist.")
    table = read_csv_table(csv_path, report)
    table.columns = [str(column).strip() for column in table.columns]
    missing = [column for column in (ID_COLUMN, OVERVIEW_COLUMN) if column not in table.columns]
    genres = genre_columns_of(table)
    if missing or (require_labels and not genres):
        wanted = "Id, Genre, <one 0/1 column per genre>, Overview"
        absent = ", ".join(missing) if missing else "genre columns"
        raise DatasetError(f"{csv_path.name} lacks the expected columns ({absent} missing); expected {wanted}.")
    report.rows_read = len(table)
    table[ID_COLUMN] = table[ID_COLUMN].str.strip()
    table[OVERVIEW_COLUMN] = table[OVERVIEW_COLUMN].fillna("").astype(str)

    keep = np.ones(len(table), dtype=bool)
    seen: set[str] = set()
    label_values = table[genres].apply(lambda column: column.str.strip()) if genres else None
    for row_index, film_id in enumerate(table[ID_COLUMN]):
        if not is_safe_film_id(film_id):
            report.add_dropped(REASON_BAD_ID, film_id or f"row {row_index + 2}")
            keep[row_index] = False
        elif film_id in seen:
            report.add_dropped(REASON_DUPLICATE, film_id)
            keep[row_index] = False
        else:
            seen.add(film_id)
    overview_empty = table[OVERVIEW_COLUMN].str.strip() == ""
    if require_labels:
        valid_labels = label_values.isin(["0", "1"]).all(axis=1).to_numpy()
        has_genre = (label_values == "1").any(axis=1).to_numpy()
    for row_index in np.flatnonzero(keep):
        film_id = table[ID_COLUMN].iat[row_index]
        if overview_empty.iat[row_index] and require_labels:
            reason = REASON_EMPTY_OVERVIEW
        elif require_labels and not valid_labels[row_index]:
            reason = REASON_BAD_LABEL
        elif require_labels and not has_genre[row_index]:
            reason = REASON_NO_GENRE
        else:
            continue
        report.add_dropped(reason, film_id)
        keep[row_index] = False
    kept = table[keep].reset_index(drop=True)
    return kept, genres


def compute_fingerprint(folder: Path) -> str:
    """Return a content fingerprint: the CSV bytes plus every poster's name and size."""
    digest = hashlib.sha256((Path(folder) / CSV_NAME).read_bytes())
    images = Path(folder) / IMAGES_DIR_NAME
    if images.is_dir():
        for entry in sorted(os.scandir(images), key=lambda e: e.name):
            digest.update(f"{entry.name}:{entry.stat().st_size};".encode())
    return digest.hexdigest()[:16]

"""Loading, validating, splitting and caching the Multimodal IMDB dataset.

The course format is a folder holding ``IMDB_overview_genres.csv`` (columns
``Id, Genre, <genre 0/1 columns>, Overview``) and ``Images/<Id>.jpg``; users may
also hand us the ``Multimodal_IMDB_dataset.zip`` they downloaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from struct import error as struct_error

import numpy as np
import pandas as pd
from PIL import Image, ImageOps

from genre_models.config import (
    CSV_NAME,
    IMAGES_DIR_NAME,
    SplitConfig,
    ZipLimits,
    resolve_cache_dir,
)

# Columns of the course CSV that are not genres.
ID_COLUMN = "Id"
OVERVIEW_COLUMN = "Overview"
GENRE_LIST_COLUMN = "Genre"
NON_GENRE_COLUMNS = {ID_COLUMN, OVERVIEW_COLUMN, GENRE_LIST_COLUMN}
SPLIT_NAMES = ("train", "validation", "test")

# Reasons a film is dropped; keys of DatasetReport.dropped.
REASON_DUPLICATE = "duplicate Id"
REASON_BAD_ID = "invalid Id"
REASON_EMPTY_OVERVIEW = "empty overview"
REASON_NO_GENRE = "no genre"
REASON_BAD_LABEL = "label not 0/1"
REASON_MISSING_POSTER = "missing poster"
REASON_BAD_POSTER = "undecodable poster"

# Image formats a poster may be in, decided from the file's content (never its name).
POSTER_FORMATS = ("JPEG", "PNG", "WEBP")
# Posters above this many pixels are refused before decoding in full (the course posters have 45,000).
MAX_POSTER_PIXELS = 40_000_000
# Longest and shortest accepted side in pixels.
MAX_POSTER_SIDE = 12_000
MIN_POSTER_SIDE = 8
# Pillow's own bomb limit: the warning (turned into an error) fires above it, before decoding.
Image.MAX_IMAGE_PIXELS = MAX_POSTER_PIXELS

# Reports progress as (done, total, what is being done).
ProgressCallback = Callable[[int, int, str], None]


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


# ---------------------------------------------------------------------------
# Locating the dataset (folder, nested folder or zip)
# ---------------------------------------------------------------------------


def poster_path(folder: Path, film_id: str) -> Path:
    """Return where the course format keeps a film's poster."""
    return Path(folder) / IMAGES_DIR_NAME / f"{film_id}.jpg"


def find_dataset_folder(path: Path) -> Path | None:
    """Return the folder holding the CSV: the path itself or one level down; None if absent."""
    path = Path(path)
    if (path / CSV_NAME).is_file():
        return path
    if path.is_dir():
        candidates = sorted(child for child in path.iterdir() if child.is_dir() and (child / CSV_NAME).is_file())
        if candidates:
            return candidates[0]
    return None


def locate_dataset(path: str | os.PathLike, progress: ProgressCallback | None = None) -> Path:
    """Return the dataset folder for a folder or zip path, extracting zips into the cache.

    Raises DatasetError with what to do when nothing usable is there.
    """
    path = Path(path).expanduser()
    if path.is_file() and zipfile.is_zipfile(path):
        return extract_cached_zip(path, progress=progress)
    if path.is_dir():
        folder = find_dataset_folder(path)
        if folder is not None:
            return folder
        raise DatasetError(
            f"No {CSV_NAME} found in {path} or its sub-folders. Point the data setting at the "
            "Multimodal_IMDB_dataset folder or its zip."
        )
    sibling_zip = path.with_suffix(".zip")
    if not path.exists() and sibling_zip.is_file():
        return locate_dataset(sibling_zip, progress=progress)
    if path.is_file():
        raise DatasetError(f"{path} is neither a dataset folder nor a zip file.")
    raise DatasetError(
        f"Dataset not found at {path}. Download Multimodal_IMDB_dataset(.zip), then pass --data-dir "
        "or set the GENRE_DATA_DIR environment variable to its location."
    )


def extract_cached_zip(zip_path: Path, progress: ProgressCallback | None = None) -> Path:
    """Extract a dataset zip once into the cache (keyed by its name, size and mtime)."""
    zip_stat = zip_path.stat()
    key_source = f"{zip_path.resolve()}|{zip_stat.st_size}|{zip_stat.st_mtime_ns}"
    key = hashlib.sha256(key_source.encode()).hexdigest()[:16]
    target = resolve_cache_dir() / "datasets" / key
    if not target.is_dir():
        extract_zip_safely(zip_path, target, progress=progress)
    folder = find_dataset_folder(target)
    if folder is None:
        raise DatasetError(f"The zip {zip_path.name} holds no {CSV_NAME} at its root or one folder down.")
    return folder


def check_zip_member(info: zipfile.ZipInfo, limits: ZipLimits) -> None:
    """Raise DatasetError if a zip entry could escape the target folder or is a bomb."""
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise DatasetError(f"The zip holds a symbolic link ({name!r}); refusing to extract it.")
    normalised = name.replace("\\", "/")
    parts = [part for part in normalised.split("/") if part not in ("", ".")]
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":") or ".." in parts:
        raise DatasetError(f"The zip entry {name!r} points outside the extraction folder; refusing it.")
    if info.compress_size > 0 and info.file_size / info.compress_size > limits.max_compression_ratio:
        raise DatasetError(f"The zip entry {name!r} expands suspiciously ({info.file_size} bytes); refusing it.")


def extract_zip_safely(
    zip_path: str | os.PathLike,
    target: str | os.PathLike,
    limits: ZipLimits = ZipLimits(),
    progress: ProgressCallback | None = None,
) -> Path:
    """Extract a zip into ``target`` without letting any entry escape it, within size limits.

    Everything is checked before a byte is written, written into a temporary
    folder beside the target and renamed into place at the end, so a refused or
    failed extraction leaves an existing target untouched.
    """
    zip_path, target = Path(zip_path), Path(target)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as error:
        raise DatasetError(f"{zip_path.name} is not a readable zip file ({error}).") from error
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_entries:
            raise DatasetError(f"The zip has {len(members)} entries; at most {limits.max_entries} are accepted.")
        total_bytes = sum(info.file_size for info in members)
        if total_bytes > limits.max_total_bytes:
            raise DatasetError(
                f"The zip would unpack to {total_bytes / 1e6:.0f} MB; at most "
                f"{limits.max_total_bytes / 1e6:.0f} MB are accepted."
            )
        for info in members:
            check_zip_member(info, limits)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
        try:
            written = 0
            for index, info in enumerate(members):
                destination = staging.joinpath(*[p for p in info.filename.replace("\\", "/").split("/") if p])
                if not destination.resolve().is_relative_to(staging.resolve()):
                    raise DatasetError(f"The zip entry {info.filename!r} points outside the extraction folder.")
                if info.is_dir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, open(destination, "wb") as sink:
                    # Count real bytes: a forged header must not let an entry exceed the budget.
                    while chunk := source.read(1 << 20):
                        written += len(chunk)
                        if written > limits.max_total_bytes:
                            raise DatasetError("The zip unpacks to more data than it declares; refusing it.")
                        sink.write(chunk)
                if progress:
                    progress(index + 1, len(members), "extracting")
            replace_directory(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return target


def replace_directory(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``, replacing an existing folder only once ``new`` is complete."""
    # mkdtemp creates 0700 folders; the published folder must be readable like any other.
    os.chmod(new, 0o755)
    if target.exists():
        backup = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, backup)
        os.replace(new, target)
        shutil.rmtree(backup, ignore_errors=True)
    else:
        os.replace(new, target)


# ---------------------------------------------------------------------------
# Reading and validating the CSV
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Splits, fingerprints, sub-sampling
# ---------------------------------------------------------------------------


def bucket_of(film_id: str, salt: str = "") -> int:
    """Return a stable bucket 0-99 from a film Id (and an optional salt)."""
    return int(hashlib.sha256(f"{salt}{film_id}".encode()).hexdigest(), 16) % 100


def assign_split(film_id: str, split_config: SplitConfig = SplitConfig()) -> str:
    """Return the split of a film; depends only on its Id, so adding films moves no other."""
    bucket = bucket_of(film_id)
    if bucket < split_config.train_percent:
        return "train"
    if bucket < split_config.train_percent + split_config.validation_percent:
        return "validation"
    return "test"


def compute_fingerprint(folder: Path) -> str:
    """Return a content fingerprint: the CSV bytes plus every poster's name and size."""
    digest = hashlib.sha256((Path(folder) / CSV_NAME).read_bytes())
    images = Path(folder) / IMAGES_DIR_NAME
    if images.is_dir():
        for entry in sorted(os.scandir(images), key=lambda e: e.name):
            digest.update(f"{entry.name}:{entry.stat().st_size};".encode())
    return digest.hexdigest()[:16]


def select_films(ids: np.ndarray, max_films: int | None, seed: int) -> np.ndarray:
    """Return indices of at most ``max_films`` films, chosen by a seeded hash of their Id."""
    if max_films is None or max_films >= len(ids):
        return np.arange(len(ids))
    if max_films <= 0:
        raise ValueError("max_films must be a positive number of films.")
    order = sorted(range(len(ids)), key=lambda i: hashlib.sha256(f"{seed}:{ids[i]}".encode()).hexdigest())
    return np.sort(np.array(order[:max_films]))


# ---------------------------------------------------------------------------
# Posters: decoding and the on-disk cache
# ---------------------------------------------------------------------------


def image_to_rgb(image: Image.Image) -> np.ndarray:
    """Convert any decoded image to RGB uint8: grayscale, palette, RGBA, CMYK and 16-bit included."""
    image = ImageOps.exif_transpose(image)  # Phones store portraits sideways plus an EXIF flag.
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16/32-bit grey: scale to 8 bits instead of letting convert() clip everything to white.
        wide = np.asarray(image, dtype=np.int64)
        peak = max(int(wide.max()), 1)
        scale = 255.0 / (65535 if peak > 255 else 255)
        image = Image.fromarray(np.clip(wide * scale, 0, 255).astype(np.uint8), mode="L")
    elif image.mode == "F":
        image = Image.fromarray(np.clip(np.asarray(image), 0, 255).astype(np.uint8), mode="L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent areas become white, as a poster on a page would show them.
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        image = background
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def check_poster_size(width: int, height: int) -> None:
    """Refuse absurd dimensions from the header alone, before any pixel is decoded."""
    if width < MIN_POSTER_SIDE or height < MIN_POSTER_SIDE:
        raise ValueError(f"the image is only {width}x{height} pixels; a poster needs at least "
                         f"{MIN_POSTER_SIDE} pixels per side")
    if width > MAX_POSTER_SIDE or height > MAX_POSTER_SIDE or width * height > MAX_POSTER_PIXELS:
        raise ValueError(f"the image is {width}x{height} pixels, far larger than a poster "
                         f"(at most {MAX_POSTER_SIDE} per side and {MAX_POSTER_PIXELS // 1_000_000} megapixels)")


def decode_poster(source: str | os.PathLike | bytes) -> np.ndarray:
    """Decode a poster file or bytes into an RGB uint8 array; raise ValueError if it is not a usable image.

    Only the formats in POSTER_FORMATS are tried (decided by content, not by the
    file name), the size is checked from the header before decoding, and
    Pillow's decompression-bomb warning is an error.
    """
    if isinstance(source, bytes) and not source:
        raise ValueError("the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            handle = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
            with handle, Image.open(handle, formats=POSTER_FORMATS) as image:
                check_poster_size(*image.size)
                image.load()
                return image_to_rgb(image)
    except Image.UnidentifiedImageError as error:
        raise ValueError(f"not a readable image (accepted: {', '.join(POSTER_FORMATS)})") from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValueError("the image declares far more pixels than a poster has "
                         "(refused as a possible decompression bomb)") from error
    except (OSError, SyntaxError, EOFError, struct_error, ZeroDivisionError, IndexError, TypeError) as error:
        # Damaged files make Pillow's decoders raise many kinds of errors; all mean "unusable".
        raise ValueError(f"not a readable image ({type(error).__name__}: {error})") from error


def resize_poster(image: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Resize one RGB array exactly as the models' Resizing layer does (bilinear, no antialias)."""
    import tensorflow as tf

    scaled = tf.image.resize(image, image_size, method="bilinear", antialias=False).numpy()
    return np.clip(np.round(scaled), 0, 255).astype(np.uint8)


def poster_cache_key(folder: Path, ids: list[str], image_size: tuple[int, int], fingerprint: str) -> str:
    """Return the cache key: size, data fingerprint and every poster's mtime (edits invalidate it)."""
    digest = hashlib.sha256(f"{image_size}|{fingerprint}".encode())
    for film_id in ids:
        try:
            digest.update(f"{film_id}:{poster_path(folder, film_id).stat().st_mtime_ns};".encode())
        except OSError:
            digest.update(f"{film_id}:missing;".encode())
    return digest.hexdigest()[:20]


@contextmanager
def replace_file_atomically(path: str | os.PathLike, suffix: str = ".tmp"):
    """Yield a temp file path beside ``path`` to write; when the block ends normally the file is
    made readable (0644; mkstemp creates 0600) and renamed onto ``path`` in one step, otherwise
    it is removed. Readers (and a crash) never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(handle)
    try:
        yield Path(temp_name)
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_bytes_atomically(path: str | os.PathLike, writer: Callable[[io.BufferedWriter], None]) -> None:
    """Write a file through ``writer`` (given an open binary file), synced to disk before it
    replaces ``path`` (replace_file_atomically)."""
    with replace_file_atomically(path) as temp_path, open(temp_path, "wb") as temp_file:
        writer(temp_file)
        temp_file.flush()
        os.fsync(temp_file.fileno())


def load_posters(
    folder: Path,
    ids: list[str],
    image_size: tuple[int, int],
    fingerprint: str,
    progress: ProgressCallback | None = None,
) -> tuple[np.ndarray, dict[str, str]]:
    """Return resized posters for ``ids`` (uint8, memory-mapped) and the Ids whose poster failed, with why.

    Posters are decoded and resized one at a time straight into an on-disk .npy
    keyed by size and data, so neither the first load nor any later one holds
    the whole dataset in memory; later loads only map the file.
    """
    cache_dir = resolve_cache_dir() / "posters"
    key = poster_cache_key(folder, ids, image_size, fingerprint)
    array_path, index_path = cache_dir / f"{key}.npy", cache_dir / f"{key}.json"
    if array_path.is_file() and index_path.is_file():
        index = json.loads(index_path.read_text())
        return np.load(array_path, mmap_mode="r"), index["failures"]

    with replace_file_atomically(array_path, suffix=".npy") as temp_path:
        posters = np.lib.format.open_memmap(temp_path, mode="w+", dtype=np.uint8, shape=(len(ids), *image_size, 3))
        failures, kept = {}, 0
        for number, film_id in enumerate(ids):
            path = poster_path(folder, film_id)
            if not path.is_file():
                failures[film_id] = REASON_MISSING_POSTER
            else:
                try:
                    posters[kept] = resize_poster(decode_poster(path), image_size)
                    kept += 1
                except ValueError:
                    failures[film_id] = REASON_BAD_POSTER
            if progress and (number % 100 == 0 or number == len(ids) - 1):
                progress(number + 1, len(ids), "decoding posters")
        posters.flush()
        del posters
        if kept < len(ids):
            shrink_npy_rows(temp_path, kept)
    write_bytes_atomically(index_path, lambda out: out.write(json.dumps({"failures": failures}).encode()))
    return np.load(array_path, mmap_mode="r"), failures


def shrink_npy_rows(path: Path, rows: int) -> None:
    """Keep only the first ``rows`` rows of a .npy file, copying in chunks (bounded memory)."""
    source = np.load(path, mmap_mode="r")
    smaller = path.with_name(path.name + ".rows")
    target = np.lib.format.open_memmap(smaller, mode="w+", dtype=source.dtype, shape=(rows, *source.shape[1:]))
    for start in range(0, rows, 1024):
        target[start : start + 1024] = source[start : min(start + 1024, rows)]
    target.flush()
    del target, source
    os.replace(smaller, path)


# ---------------------------------------------------------------------------
# The whole dataset
# ---------------------------------------------------------------------------


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

    has_poster = np.array([poster_path(folder, film_id).is_file() for film_id in table[ID_COLUMN]], dtype=bool)
    for film_id in table[ID_COLUMN][~has_poster]:
        report.add_dropped(REASON_MISSING_POSTER, film_id)
    table = table[has_poster].reset_index(drop=True)
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

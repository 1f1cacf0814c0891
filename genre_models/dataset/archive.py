"""Finding the dataset: a folder, a folder one level down, or the course zip (extracted safely).

No zip entry may leave the extraction folder (absolute paths, "..", symbolic links), sizes and
entry counts are bounded, and extraction happens in a staging folder swapped in at the end.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from pathlib import Path

from genre_models.config import CSV_NAME, ProgressCallback, ZipLimits, resolve_cache_dir
from genre_models.dataset.catalog import DatasetError
from genre_models.fileio import write_folder_atomically


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
        with write_folder_atomically(target) as staging:
            written = 0
            for index, info in enumerate(members):
                written = extract_member(archive, info, staging, written, limits)
                if progress:
                    progress(index + 1, len(members), "extracting")
    return target


def extract_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, staging: Path, written: int,
                   limits: ZipLimits) -> int:
    """Write one checked zip entry under ``staging``; return the bytes written so far in all."""
    destination = staging.joinpath(*[p for p in info.filename.replace("\\", "/").split("/") if p])
    if not destination.resolve().is_relative_to(staging.resolve()):
        raise DatasetError(f"The zip entry {info.filename!r} points outside the extraction folder.")
    if info.is_dir():
        destination.mkdir(parents=True, exist_ok=True)
        return written
    destination.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(info) as source, open(destination, "wb") as sink:
        # Count real bytes: a forged header must not let an entry exceed the budget.
        while chunk := source.read(1 << 20):
            written += len(chunk)
            if written > limits.max_total_bytes:
                raise DatasetError("The zip unpacks to more data than it declares; refusing it.")
            sink.write(chunk)
    return written

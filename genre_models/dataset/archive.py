"""Finding the dataset: a folder, a folder one level down, or the course zip (extracted safely).

No zip entry may leave the extraction folder (absolute paths, "..", symbolic links), sizes and
entry counts are bounded, and extraction happens in a staging folder swapped in at the end.
Every way a zip can be unusable (not a zip, encrypted, damaged, an unsupported compression, a
name the file system refuses, a file and a folder with one name) ends as a DatasetError that
says so, for the Home page and the CLI alike, never as another Python error.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from genre_models.config import CSV_NAME, ProgressCallback, ZipLimits, resolve_cache_dir
from genre_models.dataset.catalog import MAX_FILE_NAME_BYTES, DatasetError
from genre_models.fileio import write_folder_atomically

# Errors Python's zipfile and its decompressors raise for a damaged or unsupported archive
# (a bad checksum, a truncated stream, a forged header); OSError is handled on its own.
ZIP_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError,
                   RuntimeError, zlib.error, struct.error)
# Names of compression methods a zip may use that Python cannot unpack (APPNOTE section 4.4.5).
COMPRESSION_NAMES = {6: "Implode", 8: "Deflate", 9: "Deflate64", 12: "bzip2", 14: "LZMA", 93: "Zstandard",
                     95: "XZ", 98: "PPMd", 99: "WinZip AES"}
# The flag bit that marks an encrypted entry.
ENCRYPTED_FLAG = 0x1


def supported_compressions() -> set[int]:
    """Return the compression methods this Python can unpack (bzip2 and LZMA need optional modules)."""
    methods = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
    for method, module in ((zipfile.ZIP_BZIP2, "bz2"), (zipfile.ZIP_LZMA, "lzma")):
        with contextlib.suppress(ImportError):
            __import__(module)
            methods.add(method)
    return methods


def find_dataset_folder(path: Path, label: str | None = None) -> Path | None:
    """Return the folder holding the CSV: the path itself or one level down; None if absent.

    Two or more datasets one level down are refused naming each (DatasetError): which one the user
    meant is unknown, and a silent pick (say a backup sample sorted first) would train and evaluate
    on other data than intended. ``label`` names the location in that message (a zip's name; default
    the path)."""
    path = Path(path)
    if (path / CSV_NAME).is_file():
        return path
    if path.is_dir():
        candidates = sorted(child for child in path.iterdir() if child.is_dir() and (child / CSV_NAME).is_file())
        if len(candidates) > 1:
            names = ", ".join(candidate.name for candidate in candidates)
            where = label or str(path)
            fix = ("keep one of them in the zip" if label else
                   f"point the data setting at the one you mean (for instance {candidates[0]})")
            raise DatasetError(f"{where} holds {len(candidates)} datasets one folder down ({names}); {fix}.")
        if candidates:
            return candidates[0]
    return None


def locate_dataset(path: str | os.PathLike, progress: ProgressCallback | None = None) -> Path:
    """Return the dataset folder for a folder or zip path, extracting zips into the cache.

    Raises DatasetError with what to do when nothing usable is there.
    """
    path = Path(path).expanduser()
    try:
        is_zip = path.is_file() and zipfile.is_zipfile(path)
        is_folder = path.is_dir()
    except OSError as error:  # A name too long, a folder without permission.
        raise DatasetError(f"Cannot read the dataset location {path}: {error.strerror or error}.") from error
    if is_zip:
        return extract_cached_zip(path, progress=progress)
    if is_folder:
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
    folder = find_dataset_folder(target, label=f"The zip {zip_path.name}")
    if folder is None:
        raise DatasetError(f"The zip {zip_path.name} holds no {CSV_NAME} at its root or one folder down.")
    return folder


def entry_parts(name: str) -> list[str]:
    """Return the path components of a zip entry name ("\\" counts as a separator, "." is dropped)."""
    return [part for part in name.replace("\\", "/").split("/") if part not in ("", ".")]


def check_zip_member(info: zipfile.ZipInfo, limits: ZipLimits) -> None:
    """Raise DatasetError if a zip entry could escape the target folder, is a bomb, or cannot be
    unpacked here (encrypted, an unsupported compression, a name too long for the file system)."""
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise DatasetError(f"The zip holds a symbolic link ({name!r}); refusing to extract it.")
    normalised = name.replace("\\", "/")
    parts = entry_parts(name)
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":") or ".." in parts:
        raise DatasetError(f"The zip entry {name!r} points outside the extraction folder; refusing it.")
    if info.flag_bits & ENCRYPTED_FLAG:
        raise DatasetError(f"The zip entry {name!r} is encrypted (password-protected); create the zip again "
                           "without a password.")
    if info.compress_type not in supported_compressions():
        method = COMPRESSION_NAMES.get(info.compress_type, f"method {info.compress_type}")
        raise DatasetError(f"The zip entry {name!r} uses {method} compression, which cannot be unpacked here; "
                           "create the zip again with ordinary (Deflate) compression.")
    longest = max(parts, key=lambda part: len(part.encode("utf-8")), default="")
    if len(longest.encode("utf-8")) > MAX_FILE_NAME_BYTES:
        raise DatasetError(f"The zip entry {name[:60]!r}... has a name too long for the file system "
                           f"({len(longest.encode('utf-8'))} bytes; at most {MAX_FILE_NAME_BYTES}).")
    if info.compress_size > 0 and info.file_size / info.compress_size > limits.max_compression_ratio:
        raise DatasetError(f"The zip entry {name!r} expands suspiciously ({info.file_size} bytes); refusing it.")


def check_zip_layout(members: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip in which one path is both a file and a folder ("Images" and "Images/x.jpg"):
    it cannot be written to any file system, and which one was meant is unknown."""
    files, folders = set(), set()
    for info in members:
        parts = tuple(entry_parts(info.filename))
        folders.update(parts[:depth] for depth in range(1, len(parts)))
        if parts:
            (folders if info.is_dir() else files).add(parts)
    clashes = sorted(files & folders)
    if clashes:
        raise DatasetError(f"The zip holds {'/'.join(clashes[0])!r} as both a file and a folder; it cannot be "
                           "extracted. Create the zip again from the dataset folder.")


@contextlib.contextmanager
def open_zip(source: str | os.PathLike | bytes, label: str) -> Iterator[zipfile.ZipFile]:
    """Open a zip from a path or its bytes; raise DatasetError if it is not a readable zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
    except (OSError, *ZIP_READ_ERRORS) as error:
        raise DatasetError(f"{label} is not a readable zip file ({error}).") from error
    with archive:
        yield archive


def extract_zip_safely(
    source: str | os.PathLike | bytes,
    target: str | os.PathLike,
    limits: ZipLimits = ZipLimits(),
    progress: ProgressCallback | None = None,
) -> Path:
    """Extract a zip (a path or its bytes) into ``target`` without letting any entry escape it,
    within size limits; raise DatasetError, saying why, for any zip that cannot be used.

    Everything is checked before a byte is written, written into a temporary
    folder beside the target and renamed into place at the end, so a refused or
    failed extraction leaves an existing target untouched and no temporary folder.
    """
    target = Path(target)
    label = "The uploaded zip" if isinstance(source, (bytes, bytearray)) else Path(source).name
    with open_zip(source, label) as archive:
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
        check_zip_layout(members)
        try:
            with write_folder_atomically(target) as staging:
                written = 0
                for index, info in enumerate(members):
                    written = extract_member(archive, info, staging, written, limits)
                    if progress:
                        progress(index + 1, len(members), "extracting")
        except OSError as error:  # The folder beside the target could not be made or swapped in.
            raise DatasetError(f"Could not extract the zip into {target.parent}: {error.strerror or error}.") from error
    return target


def extract_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, staging: Path, written: int,
                   limits: ZipLimits) -> int:
    """Write one checked zip entry under ``staging``; return the bytes written so far in all.

    Reading errors (a bad checksum, a truncated or corrupt stream) and writing errors (a full
    disk, a name the file system refuses) become a DatasetError naming the entry.
    """
    destination = staging.joinpath(*entry_parts(info.filename))
    try:
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
    except DatasetError:
        raise
    except OSError as error:
        raise DatasetError(f"Could not extract the zip entry {info.filename!r}: {error.strerror or error}.") from error
    except ZIP_READ_ERRORS as error:
        raise DatasetError(f"The zip entry {info.filename!r} is damaged and cannot be read ({error}); "
                           "download or create the zip again.") from error
    return written

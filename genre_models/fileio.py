"""Atomic file and folder writes, and tolerant JSON reads: the one place every module writes through.

Readers in other processes (the app reading a training run, a second tab) and a crash at any
moment must never see half a file or half a folder: files are written beside their target and
renamed onto it, folders are built in a staging folder and swapped in.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replace_file_atomically(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
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


def write_json_atomically(path: str | os.PathLike, payload) -> None:
    """Write JSON through a temp file + rename so readers never see half a file."""
    write_bytes_atomically(path, lambda handle: handle.write(json.dumps(payload, indent=2, default=str).encode()))


def read_json(path: str | os.PathLike, default=None):
    """Read a JSON file; return ``default`` if it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def append_json_line(path: Path, record: dict) -> None:
    """Append one JSON line (a reader may see a partial last line; read_json_lines skips it)."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def read_json_lines(path: Path) -> list[dict]:
    """Read every complete JSON line of a file."""
    records = []
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue  # A line being written right now.
    except OSError:
        pass
    return records


def replace_directory(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``, replacing an existing folder only once ``new`` is complete."""
    # mkdtemp creates 0700 folders; the published folder must be readable like any other.
    os.chmod(new, 0o755)
    if target.exists():
        # A name of its own (not just the pid), so two threads replacing one folder never collide.
        backup = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, backup / "previous")
        os.replace(new, target)
        shutil.rmtree(backup, ignore_errors=True)
    else:
        os.replace(new, target)


@contextmanager
def write_folder_atomically(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a staging folder beside ``target`` to fill; when the block ends normally it replaces
    ``target`` in one step, otherwise it is removed and ``target`` stays as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        yield staging
        replace_directory(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def lock_file(handle, blocking: bool = True) -> bool:
    """Take an exclusive lock on an open file (released when the file is closed or the process
    ends); return False if ``blocking`` is off and another process holds it. POSIX uses flock,
    Windows msvcrt.locking on the first byte."""
    if os.name == "nt":
        import msvcrt

        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        return True
    except BlockingIOError:
        return False


def is_locked(path: str | os.PathLike) -> bool:
    """Return whether another process holds the exclusive lock on ``path`` (False if it does not exist)."""
    try:
        handle = open(path, "r+", encoding="utf-8")
    except OSError:
        return False
    with handle:
        return not lock_file(handle, blocking=False)  # Closing the file releases a lock taken here.


def read_epoch_records(path: str | os.PathLike) -> tuple[list[dict], str | None]:
    """Return the per-epoch records of a history.json (``{"epochs": [{"epoch": 1, ...}, ...]}``) and
    a note when some or all of it was ignored for its shape (None when it is sound or absent).

    The file is written by training, but a copy, an edit or another tool can leave valid JSON of
    another shape (a list, ``{"epochs": 5}``, records without an epoch number): every reader
    (report, Train page, run downloads) gets only records with a whole epoch number, never a KeyError.
    """
    path = Path(path)
    if not path.exists():
        return [], None
    history = read_json(path)
    if not isinstance(history, dict) or not isinstance(history.get("epochs"), list):
        return [], f"{path} is not a training history (an object with a list of epochs); it was ignored."
    records = [record for record in history["epochs"]
               if isinstance(record, dict) and isinstance(record.get("epoch"), int)
               and not isinstance(record.get("epoch"), bool)]
    if len(records) < len(history["epochs"]):
        skipped = len(history["epochs"]) - len(records)
        return records, f"{path}: {skipped} of its {len(history['epochs'])} epoch records have no epoch number; they were ignored."
    return records, None

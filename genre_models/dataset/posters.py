"""Posters: safe decoding (format allow-list, size checks before decoding, bombs refused, huge
JPEGs decoded at reduced scale) and the on-disk cache of resized posters (a memory-mapped .npy
per size and data, rebuilt when damaged)."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import logging
import math
import os
import stat
import tempfile
import warnings
from pathlib import Path
from struct import error as struct_error

import numpy as np
from PIL import Image, ImageOps

from genre_models.config import (
    CACHE_DIR_ENV,
    IMAGES_DIR_NAME,
    ProgressCallback,
    resolve_cache_dir,
)
from genre_models.dataset.catalog import (
    REASON_BAD_POSTER,
    REASON_MISSING_POSTER,
    REASON_UNREADABLE_POSTER,
)
from genre_models.fileio import replace_file_atomically, write_bytes_atomically

# Image formats a poster may be in, decided from the file's content (never its name).
POSTER_FORMATS = ("JPEG", "PNG", "WEBP")
# Posters above this many pixels are refused before decoding in full (the course posters have 45,000).
MAX_POSTER_PIXELS = 40_000_000
# Longest and shortest accepted side in pixels.
MAX_POSTER_SIDE = 12_000
MIN_POSTER_SIDE = 8
# Pillow's own bomb limit: the warning (turned into an error) fires above it, before decoding.
Image.MAX_IMAGE_PIXELS = MAX_POSTER_PIXELS
# A JPEG larger than this is decoded at a reduced scale (1/2, 1/4 or 1/8, by the JPEG decoder
# itself) to no fewer pixels than this: 4x the largest poster any model reads (224x112), so no
# model loses detail, while a 40-megapixel photo costs a fraction of the memory and time. The
# dataset's 150x300 posters are far below it and decode exactly as they always did.
REDUCE_JPEG_ABOVE_PIXELS = 4 * 224 * 112
# Limits for posters uploaded in the app: the file size (the widget's limit, enforced again on
# the server) and the pixels decoded (checked from the header, after a JPEG's reduction). A
# 40-megapixel PNG compresses to about 115 KB yet takes about 1 GB of memory to decode.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_PIXELS = 8_000_000
# Most scans a JPEG may hold. A progressive JPEG's decoder goes over the whole image once per scan,
# so a 1 MB file repeating one scan 28,000 times costs a minute of CPU whatever its pixel count;
# real encoders write 1 (baseline) to about 10 (libjpeg's progressive script; mozjpeg's optimised
# ones stay under 20), so this leaves a wide margin and bounds the work per poster.
MAX_JPEG_SCANS = 100
# The bytes that start a JPEG scan (its SOS marker); entropy-coded data never holds them.
JPEG_SCAN_MARKER = b"\xff\xda"


def poster_path(folder: Path, film_id: str) -> Path:
    """Return where the course format keeps a film's poster."""
    return Path(folder) / IMAGES_DIR_NAME / f"{film_id}.jpg"


def poster_problem(folder: Path, film_id: str) -> str | None:
    """Return why a film's poster cannot be used without opening it (a drop reason), or None.

    Looking a file up can fail in other ways than "not there" (a name too long for the file
    system, a folder without permission, a link loop); each is a reason to drop the film, never
    an error that takes a page or a command down.
    """
    try:
        mode = poster_path(folder, film_id).stat().st_mode
    except FileNotFoundError:
        return REASON_MISSING_POSTER
    except (OSError, ValueError):  # ValueError: a NUL byte in the name.
        return REASON_UNREADABLE_POSTER
    return None if stat.S_ISREG(mode) else REASON_MISSING_POSTER


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


def reduce_large_jpeg(image: Image.Image) -> None:
    """Ask the JPEG decoder for a reduced scale when the image is far larger than any model needs.

    ``Image.draft`` picks the largest of the decoder's 1/2, 1/4, 1/8 scales that still gives at
    least the requested size, so the result keeps at least REDUCE_JPEG_ABOVE_PIXELS pixels and
    its aspect ratio; other formats and smaller JPEGs are left as they are.
    """
    width, height = image.size
    if image.format != "JPEG" or width * height <= REDUCE_JPEG_ABOVE_PIXELS:
        return
    scale = math.sqrt(REDUCE_JPEG_ABOVE_PIXELS / (width * height))
    image.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))


def decode_poster(source: str | os.PathLike | bytes, max_pixels: int | None = None) -> np.ndarray:
    """Decode a poster file or bytes into an RGB uint8 array; raise ValueError if it is not a usable image.

    Only the formats in POSTER_FORMATS are tried (decided by content, not by the
    file name), the size is checked from the header before decoding, Pillow's
    decompression-bomb warning is an error, and a JPEG far larger than a poster is
    decoded at reduced scale (reduce_large_jpeg). ``max_pixels`` is a lower cap for
    uploads (MAX_UPLOAD_PIXELS): it bounds the pixels actually decoded, so a large
    phone photo (a JPEG, reduced) passes while a huge PNG is refused before decoding.
    """
    if isinstance(source, bytes) and not source:
        raise ValueError("the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            handle = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
            with handle, Image.open(handle, formats=POSTER_FORMATS) as image:
                check_poster_size(*image.size)
                if image.format == "JPEG":
                    check_jpeg_scans(handle)
                reduce_large_jpeg(image)
                check_pixel_cap(*image.size, max_pixels)
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


def check_jpeg_scans(handle) -> None:
    """Refuse a JPEG with more than MAX_JPEG_SCANS scans (a scan bomb), counted from its bytes in
    chunks before any is decoded; the file position is left where it was."""
    position, scans, previous = handle.tell(), 0, b""
    handle.seek(0)
    while scans <= MAX_JPEG_SCANS and (chunk := handle.read(1 << 20)):
        scans += (previous[-1:] + chunk).count(JPEG_SCAN_MARKER)  # one byte of overlap: a marker across chunks
        previous = chunk
    handle.seek(position)
    if scans > MAX_JPEG_SCANS:
        raise ValueError(f"the JPEG holds more than {MAX_JPEG_SCANS} scans (real encoders write at most about 20); "
                         "decoding it would take minutes, so it is refused as a possible decompression bomb. "
                         "Save the image again as an ordinary JPEG or PNG")


def check_pixel_cap(width: int, height: int, max_pixels: int | None) -> None:
    """Refuse an image that would decode to more than ``max_pixels`` pixels (None: no cap)."""
    if max_pixels is not None and width * height > max_pixels:
        raise ValueError(f"the image is {width}x{height} pixels ({width * height / 1e6:.1f} megapixels); "
                         f"uploaded posters may have at most {max_pixels / 1e6:.0f} megapixels "
                         "(JPEG photos are reduced before this check)")


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


def read_poster_cache(array_path: Path, index_path: Path, ids: list[str],
                      image_size: tuple[int, int]) -> tuple[np.ndarray, dict[str, str]] | None:
    """Return the cached posters and failures, or None when the cache is absent or damaged.

    A cache cut short (a full disk, a killed process, a copy that stopped) or garbled must
    not fail every load: the index must be a mapping of this load's Ids to reasons and the
    array a uint8 .npy of exactly one row per poster that decoded. A truncated array fails
    to map; a damaged header fails to parse. Anything else means "rebuild it".
    """
    if not (array_path.is_file() and index_path.is_file()):
        return None
    try:
        failures = json.loads(index_path.read_text(encoding="utf-8"))["failures"]
        posters = np.load(array_path, mmap_mode="r")
    except Exception:  # noqa: BLE001 - the cache is derived data: whatever fails to read it (numpy's
        # header parser alone raises ValueError, SyntaxError, tokenize errors...) means "rebuild".
        return None
    wanted_ids = set(ids)
    if not isinstance(failures, dict) or not all(
            film_id in wanted_ids and isinstance(reason, str) for film_id, reason in failures.items()):
        return None
    if posters.dtype != np.uint8 or posters.shape != (len(ids) - len(failures), *image_size, 3):
        return None
    return posters, failures


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
    the whole dataset in memory; later loads only map the file. A damaged cache
    (read_poster_cache) is rebuilt in place.
    """
    cache_dir = resolve_cache_dir() / "posters"
    key = poster_cache_key(folder, ids, image_size, fingerprint)
    array_path, index_path = cache_dir / f"{key}.npy", cache_dir / f"{key}.json"
    cached = read_poster_cache(array_path, index_path, ids, image_size)
    if cached is not None:
        return cached
    problem = check_folder_writable(cache_dir)
    if problem is None:
        try:
            return write_poster_cache(array_path, index_path, folder, ids, image_size, progress)
        except OSError as error:  # A disk that fills up while the cache is written.
            problem = error.strerror or type(error).__name__
    # A read-only install or a full disk must not stop the app: the posters are decoded into
    # memory instead (~130 MB for every film at 128x64), again on every load, and the user is told why.
    logging.getLogger(__name__).warning(
        "The poster cache folder %s cannot be written (%s); posters are decoded into memory on every load. "
        "Set %s to a writable folder to keep them between loads.", cache_dir, problem, CACHE_DIR_ENV)
    posters = np.empty((len(ids), *image_size, 3), dtype=np.uint8)
    failures, kept = decode_posters_into(posters, folder, ids, image_size, progress)
    return posters[:kept], failures


def write_poster_cache(array_path: Path, index_path: Path, folder: Path, ids: list[str], image_size: tuple[int, int],
                       progress: ProgressCallback | None) -> tuple[np.ndarray, dict[str, str]]:
    """Decode the posters into a new cache (array and index) and return them mapped from it; raise
    OSError, leaving no file behind, when the disk cannot hold it.

    Every block of the array is reserved before it is mapped (reserve_file_space): a page written
    through a map into a sparse file on a full disk kills the process with SIGBUS (the whole
    Streamlit server) instead of raising an error.
    """
    with replace_file_atomically(array_path, suffix=".npy") as temp_path:
        posters = np.lib.format.open_memmap(temp_path, mode="w+", dtype=np.uint8, shape=(len(ids), *image_size, 3))
        reserve_file_space(temp_path, posters.offset)
        failures, kept = decode_posters_into(posters, folder, ids, image_size, progress)
        posters.flush()
        del posters
        if kept < len(ids):
            shrink_npy_rows(temp_path, kept)
    try:
        write_bytes_atomically(index_path, lambda out: out.write(json.dumps({"failures": failures}).encode()))
    except OSError:
        array_path.unlink(missing_ok=True)  # An array without its index is never read: do not keep 65 MB of it.
        raise
    return np.load(array_path, mmap_mode="r"), failures


def reserve_file_space(path: Path, data_offset: int) -> None:
    """Give every byte of a (sparse) file its disk blocks now, raising OSError (ENOSPC) when the disk
    cannot hold it: posix_fallocate where the system and file system have it, else zeros written
    from ``data_offset`` (the bytes after a .npy header, still zero) to the end."""
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        try:
            os.posix_fallocate(handle.fileno(), 0, size)
            return
        except AttributeError:  # Not a POSIX system.
            pass
        except OSError as error:
            if error.errno not in (errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
        handle.seek(data_offset)
        zeros = bytes(1 << 20)
        for start in range(data_offset, size, len(zeros)):
            handle.write(zeros[: min(len(zeros), size - start)])
        handle.flush()
        os.fsync(handle.fileno())


def check_folder_writable(folder: Path) -> str | None:
    """Return why files cannot be created in ``folder`` (made if missing), or None when they can."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        return error.strerror or type(error).__name__
    return None


def decode_posters_into(posters: np.ndarray, folder: Path, ids: list[str], image_size: tuple[int, int],
                        progress: ProgressCallback | None) -> tuple[dict[str, str], int]:
    """Decode and resize every readable poster into the next row of ``posters``; return (the Ids whose
    poster failed, with why; the number of rows filled)."""
    failures, kept = {}, 0
    for number, film_id in enumerate(ids):
        problem = poster_problem(folder, film_id)
        if problem is not None:
            failures[film_id] = problem
        else:
            try:
                posters[kept] = resize_poster(decode_poster(poster_path(folder, film_id)), image_size)
                kept += 1
            except ValueError:
                failures[film_id] = REASON_BAD_POSTER
        if progress and (number % 100 == 0 or number == len(ids) - 1):
            progress(number + 1, len(ids), "decoding posters")
    return failures, kept


def shrink_npy_rows(path: Path, rows: int) -> None:
    """Keep only the first ``rows`` rows of a .npy file, copying in chunks (bounded memory)."""
    source = np.load(path, mmap_mode="r")
    smaller = path.with_name(path.name + ".rows")
    try:
        target = np.lib.format.open_memmap(smaller, mode="w+", dtype=source.dtype, shape=(rows, *source.shape[1:]))
        reserve_file_space(smaller, target.offset)
        for start in range(0, rows, 1024):
            target[start : start + 1024] = source[start : min(start + 1024, rows)]
        target.flush()
        del target, source
        os.replace(smaller, path)
    except BaseException:
        smaller.unlink(missing_ok=True)
        raise

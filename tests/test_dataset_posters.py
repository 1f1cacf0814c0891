"""genre_models.dataset.posters: safe decoding at reduced size and the memory-mapped poster cache."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

import genre_models.dataset as dataset_package
from genre_models.config import IMAGES_DIR_NAME, resolve_cache_dir
from genre_models.dataset import catalog, load_dataset
from genre_models.dataset import posters as poster_module


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def noisy_image(width: int, height: int, seed: int = 0) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


# --- Decoding ---------------------------------------------------------------------------------------


def test_upload_limits_are_exported():
    assert dataset_package.MAX_UPLOAD_BYTES == 20 * 1024 * 1024
    assert dataset_package.MAX_UPLOAD_PIXELS < poster_module.MAX_POSTER_PIXELS


def test_a_dataset_sized_poster_decodes_exactly_as_pillow_does():
    raw = encode(noisy_image(150, 300), "JPEG", quality=90)
    expected = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))
    np.testing.assert_array_equal(poster_module.decode_poster(raw), expected)


def test_a_huge_jpeg_is_decoded_at_reduced_scale(monkeypatch):
    raw = encode(Image.new("RGB", (4000, 6000), (200, 30, 30)), "JPEG")
    decoded = poster_module.decode_poster(raw)
    height, width, _ = decoded.shape
    assert (height, width) != (6000, 4000)
    # Never below the reduction threshold, so any model still gets more pixels than it reads.
    assert height * width >= poster_module.REDUCE_JPEG_ABOVE_PIXELS
    assert height / width == pytest.approx(1.5, rel=0.01)
    assert np.abs(decoded[height // 2, width // 2].astype(int) - (200, 30, 30)).max() <= 3


def test_max_pixels_refuses_a_large_png_from_its_header_before_decoding(monkeypatch):
    raw = encode(Image.new("L", (4000, 3000)), "PNG", optimize=True)  # 12 megapixels in a few kilobytes

    def no_decode(*args, **kwargs):
        raise AssertionError("the image was decoded before its size was checked")

    monkeypatch.setattr(Image.Image, "load", no_decode)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_decode)
    with pytest.raises(ValueError, match="megapixels"):
        poster_module.decode_poster(raw, max_pixels=poster_module.MAX_UPLOAD_PIXELS)


def test_max_pixels_counts_the_reduced_size_of_a_jpeg():
    # A 24-megapixel photo decodes at a fraction of that, so it fits the upload cap.
    raw = encode(Image.new("RGB", (4000, 6000), (10, 120, 10)), "JPEG")
    decoded = poster_module.decode_poster(raw, max_pixels=poster_module.MAX_UPLOAD_PIXELS)
    assert decoded.shape[0] * decoded.shape[1] <= poster_module.MAX_UPLOAD_PIXELS


def test_max_pixels_lets_a_poster_sized_image_through():
    raw = encode(noisy_image(300, 600), "PNG")
    assert poster_module.decode_poster(raw, max_pixels=poster_module.MAX_UPLOAD_PIXELS).shape == (600, 300, 3)


@pytest.mark.parametrize("content, message", [(b"", "empty"), (b"GIF89a not allowed", "not a readable image")])
def test_unusable_bytes_are_a_value_error(content, message):
    with pytest.raises(ValueError, match=message):
        poster_module.decode_poster(content)


# --- Poster lookup ----------------------------------------------------------------------------------


def test_poster_problem_reports_unstatable_paths_instead_of_raising(tmp_path):
    (tmp_path / IMAGES_DIR_NAME).mkdir()
    assert poster_module.poster_problem(tmp_path, "t" * 300) == catalog.REASON_UNREADABLE_POSTER
    assert poster_module.poster_problem(tmp_path, "tt1") == catalog.REASON_MISSING_POSTER
    (tmp_path / IMAGES_DIR_NAME / "tt2.jpg").mkdir()  # a folder named like a poster
    assert poster_module.poster_problem(tmp_path, "tt2") == catalog.REASON_MISSING_POSTER
    (tmp_path / IMAGES_DIR_NAME / "tt3.jpg").write_bytes(b"x")
    assert poster_module.poster_problem(tmp_path, "tt3") is None


def test_load_posters_reports_a_poster_that_cannot_be_looked_up(synthetic_dataset):
    ids = ["tt1000000", "t" * 300]
    posters, failures = poster_module.load_posters(synthetic_dataset, ids, (16, 8), "fingerprint")
    assert posters.shape == (1, 16, 8, 3)
    assert failures == {"t" * 300: catalog.REASON_UNREADABLE_POSTER}


def test_corrupt_posters_are_skipped_and_reported(synthetic_dataset):
    posters = sorted((synthetic_dataset / IMAGES_DIR_NAME).iterdir())
    posters[0].write_bytes(posters[0].read_bytes()[:100])
    posters[1].write_bytes(b"")
    dataset = load_dataset(synthetic_dataset, image_size=(16, 8))
    assert dataset.report.dropped_counts() == {catalog.REASON_BAD_POSTER: 2}
    assert dataset.num_films == 38


# --- The poster cache -------------------------------------------------------------------------------


def test_second_load_reads_posters_from_cache(synthetic_dataset, monkeypatch):
    first = load_dataset(synthetic_dataset, image_size=(16, 8))

    def fail_decode(*args, **kwargs):
        raise AssertionError("posters were decoded again instead of read from the cache")

    monkeypatch.setattr(poster_module, "decode_poster", fail_decode)
    second = load_dataset(synthetic_dataset, image_size=(16, 8))
    np.testing.assert_array_equal(first.posters, second.posters)
    # A poster edited in place invalidates the cache (its mtime is part of the key).
    poster = synthetic_dataset / IMAGES_DIR_NAME / f"{first.ids[0]}.jpg"
    os.utime(poster, ns=(poster.stat().st_atime_ns, poster.stat().st_mtime_ns + 10**9))
    with pytest.raises(AssertionError, match="decoded again"):
        load_dataset(synthetic_dataset, image_size=(16, 8))


def test_an_unwritable_cache_folder_decodes_the_posters_into_memory(synthetic_dataset, tmp_path, monkeypatch,
                                                                    caplog):
    """A read-only install or a cache path through a file costs the cache, not the dataset."""
    size = (15, 7)
    cached = np.array(load_dataset(synthetic_dataset, image_size=size).posters)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GENRE_CACHE_DIR", str(blocker / "cache"))  # no folder can be made under a file
    with caplog.at_level("WARNING"):
        uncached = load_dataset(synthetic_dataset, image_size=size)
    np.testing.assert_array_equal(uncached.posters, cached)
    assert uncached.num_films == 40
    assert "cannot be written" in caplog.text and "GENRE_CACHE_DIR" in caplog.text


def test_an_unwritable_encoder_cache_only_logs(tmp_path, caplog):
    from genre_models.encoder_cache import write_cache_file

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with caplog.at_level("WARNING"):
        write_cache_file(blocker / "embeddings" / "x.npy", lambda handle: np.save(handle, np.zeros(3)))
    assert "Could not cache" in caplog.text


def cache_files(first_poster_size: tuple[int, int]) -> list:
    """Return the cache's .npy and .json files for posters of one size (newest first)."""
    folder = resolve_cache_dir() / "posters"
    found = []
    for array_path in folder.glob("*.npy"):
        try:
            shape = np.load(array_path, mmap_mode="r").shape
        except Exception:  # noqa: BLE001 - damaged by an earlier case of the test below
            continue
        if shape[1:3] == first_poster_size:
            found.append((array_path, array_path.with_suffix(".json")))
    return sorted(found, key=lambda pair: -pair[0].stat().st_mtime_ns)


@pytest.mark.parametrize("damage", ["truncate both", "garble both", "index not a mapping", "array header"])
def test_a_damaged_poster_cache_is_rebuilt(synthetic_dataset, damage):
    size = (17, 9)  # a size no other test uses, so the cache files are this test's own
    first = np.array(load_dataset(synthetic_dataset, image_size=size).posters)
    array_path, index_path = cache_files(size)[0]
    if damage == "truncate both":
        array_path.write_bytes(array_path.read_bytes()[: array_path.stat().st_size // 2])
        index_path.write_bytes(index_path.read_bytes()[:5])
    elif damage == "garble both":
        array_path.write_bytes(b"\x93NUMPY garbage" + os.urandom(64))
        index_path.write_bytes(os.urandom(32))
    elif damage == "index not a mapping":
        index_path.write_text('["failures"]')
    else:
        raw = bytearray(array_path.read_bytes())
        raw[10:40] = b"{'descr': '|u1', 'shape': (1,"
        array_path.write_bytes(bytes(raw))
    again = load_dataset(synthetic_dataset, image_size=size)
    np.testing.assert_array_equal(again.posters, first)
    # The rebuilt cache serves the next load as it should.
    np.testing.assert_array_equal(load_dataset(synthetic_dataset, image_size=size).posters, first)


def test_cached_posters_match_the_models_resizing_layer(synthetic_dataset):
    """Training reads cached posters; serving resizes inside the model. Both must agree."""
    import keras

    dataset = load_dataset(synthetic_dataset, image_size=(16, 8))
    raw = poster_module.decode_poster(synthetic_dataset / IMAGES_DIR_NAME / f"{dataset.ids[0]}.jpg")
    in_model = np.asarray(keras.layers.Resizing(16, 8)(raw[None].astype("float32")))[0]
    assert np.abs(in_model - dataset.posters[0].astype("float32")).max() <= 0.5 + 1e-4


# --- JPEG scan bombs --------------------------------------------------------------------------------


def jpeg_scans(raw: bytes) -> list[tuple[int, int]]:
    """Return (start, end) of each scan of a JPEG: its SOS segment and the entropy-coded data after it."""
    scans, position = [], 2
    while raw[position + 1] != 0xD9:
        end = position + 2 + int.from_bytes(raw[position + 2: position + 4], "big")
        if raw[position + 1] == 0xDA:
            # Entropy-coded data ends at the first 0xFF that is neither stuffing (FF 00) nor a restart marker.
            while raw[(end := raw.index(b"\xff", end)) + 1] == 0 or 0xD0 <= raw[end + 1] <= 0xD7:
                end += 2
            scans.append((position, end))
        position = end
    return scans


def scan_bomb(size=(1000, 1000), copies=3000) -> bytes:
    """A flat grey progressive JPEG with its first AC scan repeated: small, valid, and slow to decode."""
    raw = encode(Image.new("RGB", size, (128, 128, 128)), "JPEG", progressive=True, quality=90)
    scans = jpeg_scans(raw)
    start, end = scans[1]
    return raw[: scans[-1][1]] + raw[start:end] * copies + b"\xff\xd9"


def test_a_jpeg_scan_bomb_is_refused_before_decoding_in_every_path(synthetic_dataset, tmp_path):
    import time

    from genre_models.batch import decode_chunk_posters
    from genre_models.inputs import prepare_poster

    bomb = scan_bomb()
    started = time.process_time()
    with pytest.raises(ValueError, match=r"more than 100 scans .* refused as a possible decompression bomb"):
        poster_module.decode_poster(bomb)
    with pytest.raises(ValueError, match=r"The poster could not be used: the JPEG holds more than 100 scans"):
        prepare_poster(bomb)  # an upload, an explain --poster
    (tmp_path / "bomb.jpg").write_bytes(bomb)
    with pytest.raises(ValueError, match="more than 100 scans"):
        poster_module.decode_poster(tmp_path / "bomb.jpg")
    posters = sorted((synthetic_dataset / IMAGES_DIR_NAME).iterdir())
    posters[0].write_bytes(bomb)
    dataset = load_dataset(synthetic_dataset, image_size=(16, 8))  # a dataset poster, an imported zip's
    assert dataset.report.dropped_counts() == {catalog.REASON_BAD_POSTER: 1}
    skipped = {}
    decode_chunk_posters(synthetic_dataset, [posters[0].stem, posters[1].stem], skipped)  # the CLI's predict
    assert skipped == {posters[0].stem: catalog.REASON_BAD_POSTER}
    # Refused from a count of its bytes: far less work than decoding a single copy of the bomb.
    assert time.process_time() - started < 5


@pytest.mark.parametrize("options", [{"progressive": True}, {"progressive": True, "optimize": True}, {}])
def test_ordinary_jpegs_pass_the_scan_limit(options):
    raw = encode(noisy_image(300, 450), "JPEG", quality=85, **options)
    assert len(jpeg_scans(raw)) <= 10
    np.testing.assert_array_equal(poster_module.decode_poster(raw), np.asarray(Image.open(io.BytesIO(raw)).convert("RGB")))


# What the child process of the full-disk test runs: load every poster with the cache on a 1 MB
# file system (the cache needs 1.5 MB), then list what the cache folder holds.
FULL_DISK_SCRIPT = """
import json, logging, os, sys
from pathlib import Path
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
from genre_models.dataset import load_dataset
dataset = load_dataset(sys.argv[1], image_size=(160, 80))
cache = Path(os.environ["GENRE_CACHE_DIR"])
print(json.dumps({"shape": list(dataset.posters.shape), "sum": int(dataset.posters.sum()),
                  "left": sorted(str(path.relative_to(cache)) for path in cache.rglob("*") if path.is_file())}))
"""


def run_on_a_full_file_system(script: str, arguments: list[str], mount_point) -> "subprocess.CompletedProcess":
    """Run a Python script in a private mount namespace where ``mount_point`` is a 1 MB tmpfs (as root,
    or through a user namespace); skip when this machine allows neither."""
    import shutil
    import subprocess
    import sys

    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to mount a small file system")
    namespace = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "--map-root-user", "--mount"]
    probe = subprocess.run([*namespace, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"this machine allows no private mount namespace ({probe.stderr.decode().strip()})")
    shell = f'mount -t tmpfs -o size=1m tmpfs "$1" && shift && exec "$@"'
    return subprocess.run([*namespace, "sh", "-c", shell, "sh", str(mount_point), sys.executable, "-c", script,
                           *arguments], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "GENRE_CACHE_DIR": str(mount_point / "cache")})


def test_a_full_disk_under_the_poster_cache_costs_only_the_cache(synthetic_dataset, tmp_path):
    """Blocks running out while the cache is written: no SIGBUS (it killed the whole server), the
    posters decoded into memory, and no temp file left to fill the disk for later loads."""
    import json

    mount_point = tmp_path / "small"
    mount_point.mkdir()
    finished = run_on_a_full_file_system(FULL_DISK_SCRIPT, [str(synthetic_dataset)], mount_point)
    assert finished.returncode == 0, (finished.returncode, finished.stderr[-2000:])
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    expected = load_dataset(synthetic_dataset, image_size=(160, 80)).posters
    assert result["shape"] == list(expected.shape) and result["sum"] == int(expected.sum())
    assert result["left"] == []
    assert "cannot be written (No space left on device)" in finished.stderr

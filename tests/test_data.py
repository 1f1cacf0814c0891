"""Data loading, validation, zips, splits and the poster cache."""

from __future__ import annotations

import collections
import os
import shutil
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import GENRES, read_rows, write_csv
from genre_models import fileio
from genre_models.dataset import catalog
from genre_models.dataset import posters as poster_module
from genre_models.config import CSV_NAME, IMAGES_DIR_NAME, ZipLimits
from genre_models.dataset import DatasetError, assign_split, extract_zip_safely, load_dataset, locate_dataset


def test_loads_synthetic_dataset_with_posters(synthetic_dataset):
    dataset = load_dataset(synthetic_dataset, image_size=(16, 8))
    assert dataset.num_films == 40
    assert dataset.genres == GENRES
    assert dataset.labels.shape == (40, len(GENRES))
    assert dataset.posters.shape == (40, 16, 8, 3) and dataset.posters.dtype == np.uint8
    assert set(dataset.splits) <= {"train", "validation", "test"}
    # Western has no positive film: kept in the genre list, reported.
    assert dataset.report.empty_genres == ["Western"]
    assert dataset.report.dropped == {}


def test_bad_rows_are_dropped_with_a_reason_each(synthetic_dataset):
    rows = read_rows(synthetic_dataset / CSV_NAME)
    rows[1]["Overview"] = "   "
    for genre in GENRES:
        rows[2][genre] = "0"
    rows[3]["Action"] = "7"
    rows.append(dict(rows[4]))  # duplicate Id
    rows[5]["Id"] = "../etc/passwd"
    write_csv(synthetic_dataset / CSV_NAME, rows)
    (synthetic_dataset / IMAGES_DIR_NAME / f"{rows[6]['Id']}.jpg").unlink()
    (synthetic_dataset / IMAGES_DIR_NAME / f"{rows[7]['Id']}.jpg").write_bytes(b"not a jpeg at all")

    dataset = load_dataset(synthetic_dataset, image_size=(16, 8))

    counts = dataset.report.dropped_counts()
    assert counts == {
        catalog.REASON_EMPTY_OVERVIEW: 1,
        catalog.REASON_NO_GENRE: 1,
        catalog.REASON_BAD_LABEL: 1,
        catalog.REASON_DUPLICATE: 1,
        catalog.REASON_BAD_ID: 1,
        catalog.REASON_MISSING_POSTER: 1,
        catalog.REASON_BAD_POSTER: 1,
    }
    assert dataset.report.dropped[catalog.REASON_BAD_POSTER] == [rows[7]["Id"]]
    assert dataset.num_films == 40 - 6  # the duplicate row was an extra 41st row
    assert len(set(dataset.ids)) == dataset.num_films
    assert any("undecodable poster" in line for line in dataset.report.summary_lines())


def test_csv_without_expected_columns_is_a_clear_value_error(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / CSV_NAME).write_text("Id,Title\ntt1,Something\n")
    with pytest.raises(ValueError, match="lacks the expected columns.*Overview"):
        load_dataset(folder)


def test_folder_with_nothing_valid_is_a_clear_error(synthetic_dataset):
    shutil.rmtree(synthetic_dataset / IMAGES_DIR_NAME)
    with pytest.raises(DatasetError, match="No valid film"):
        load_dataset(synthetic_dataset)


def test_missing_dataset_says_how_to_configure_it(tmp_path):
    with pytest.raises(DatasetError, match="GENRE_DATA_DIR"):
        locate_dataset(tmp_path / "nowhere")


def make_zip(path: Path, folder: Path, prefix: str) -> Path:
    """Zip a dataset folder, placing it under ``prefix`` inside the archive."""
    with zipfile.ZipFile(path, "w") as archive:
        for file in folder.rglob("*"):
            archive.write(file, prefix + file.relative_to(folder).as_posix())
    return path


@pytest.mark.parametrize("prefix", ["", "Multimodal_IMDB_dataset/"])
def test_zip_with_dataset_at_root_or_one_level_down_loads(synthetic_dataset, tmp_path, prefix):
    archive = make_zip(tmp_path / "Multimodal_IMDB_dataset.zip", synthetic_dataset, prefix)
    dataset = load_dataset(archive)
    assert dataset.num_films == 40
    assert dataset.fingerprint == load_dataset(synthetic_dataset).fingerprint


def test_zip_with_parent_path_entry_is_refused_and_target_untouched(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep.txt").write_text("previous dataset")
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("ok.txt", "fine")
        handle.writestr("../escaped.txt", "gotcha")
    with pytest.raises(DatasetError, match="outside"):
        extract_zip_safely(archive, target)
    assert not (tmp_path / "escaped.txt").exists()
    assert (target / "keep.txt").read_text() == "previous dataset"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.zip", "target"]


def test_zip_with_absolute_path_or_symlink_is_refused(tmp_path):
    absolute = tmp_path / "absolute.zip"
    with zipfile.ZipFile(absolute, "w") as handle:
        handle.writestr("/tmp/absolute.txt", "x")
    with pytest.raises(DatasetError, match="outside"):
        extract_zip_safely(absolute, tmp_path / "a")
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as handle:
        info = zipfile.ZipInfo("Images/link.jpg")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        handle.writestr(info, "/etc/passwd")
    with pytest.raises(DatasetError, match="symbolic link"):
        extract_zip_safely(link, tmp_path / "b")


def test_zip_bomb_is_refused_by_size_and_entry_limits(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as handle:
        handle.writestr("zeros.bin", b"\0" * (5 * 1024 * 1024))
    with pytest.raises(DatasetError, match="expands suspiciously|unpack to"):
        extract_zip_safely(bomb, tmp_path / "out")
    with pytest.raises(DatasetError, match="unpack to"):
        extract_zip_safely(bomb, tmp_path / "out", ZipLimits(max_total_bytes=1024 * 1024, max_compression_ratio=1e9))
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as handle:
        for index in range(20):
            handle.writestr(f"f{index}.txt", "x")
    with pytest.raises(DatasetError, match="entries"):
        extract_zip_safely(many, tmp_path / "out", ZipLimits(max_entries=10))
    assert not (tmp_path / "out").exists()


def test_split_depends_only_on_the_id():
    ids = [f"tt{n:07d}" for n in range(2000)]
    first = {film_id: assign_split(film_id) for film_id in ids}
    # A different set of films around them never moves a film.
    second = {film_id: assign_split(film_id) for film_id in ids[::-1] + ["tt9999999"]}
    assert all(first[film_id] == second[film_id] for film_id in ids)
    counts = collections.Counter(first.values())
    assert 0.76 < counts["train"] / 2000 < 0.84
    assert 0.07 < counts["validation"] / 2000 < 0.13


def test_removing_films_keeps_every_other_films_split(synthetic_dataset):
    full = load_dataset(synthetic_dataset)
    rows = read_rows(synthetic_dataset / CSV_NAME)
    write_csv(synthetic_dataset / CSV_NAME, rows[::2])
    half = load_dataset(synthetic_dataset)
    full_splits = dict(zip(full.ids, full.splits))
    assert all(full_splits[film_id] == split for film_id, split in zip(half.ids, half.splits))


def test_max_films_selects_a_deterministic_subset(synthetic_dataset):
    first = load_dataset(synthetic_dataset, max_films=10, seed=3)
    again = load_dataset(synthetic_dataset, max_films=10, seed=3)
    other = load_dataset(synthetic_dataset, max_films=10, seed=4)
    assert first.num_films == 10
    assert list(first.ids) == list(again.ids)
    assert list(first.ids) != list(other.ids)


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


def test_cached_posters_match_the_models_resizing_layer(synthetic_dataset):
    """Training reads cached posters; serving resizes inside the model. Both must agree."""
    import keras

    dataset = load_dataset(synthetic_dataset, image_size=(16, 8))
    raw = poster_module.decode_poster(synthetic_dataset / IMAGES_DIR_NAME / f"{dataset.ids[0]}.jpg")
    in_model = np.asarray(keras.layers.Resizing(16, 8)(raw[None].astype("float32")))[0]
    assert np.abs(in_model - dataset.posters[0].astype("float32")).max() <= 0.5 + 1e-4


def test_real_dataset_loads_with_expected_shape(real_data_dir):
    dataset = load_dataset(real_data_dir)
    assert dataset.num_films == 5325
    assert dataset.num_genres == 25
    assert set(dataset.report.empty_genres) == {"Documentary", "News", "Reality-TV", "Short"}
    sizes = collections.Counter(dataset.splits)
    assert abs(sizes["train"] / 5325 - 0.8) < 0.02
    assert abs(sizes["test"] / 5325 - 0.1) < 0.02


def test_atomic_replacement_publishes_readable_files_and_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "cache" / "scores.bin"
    fileio.write_bytes_atomically(target, lambda handle: handle.write(b"first"))
    assert target.read_bytes() == b"first"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # mkstemp's 0600 would hide it from other users

    def fail_halfway(handle):
        handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        fileio.write_bytes_atomically(target, fail_halfway)
    assert target.read_bytes() == b"first"  # the old file is untouched
    assert sorted(path.name for path in target.parent.iterdir()) == ["scores.bin"]  # no temp file left

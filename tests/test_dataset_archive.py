"""genre_models.dataset.archive: finding the dataset and extracting zips safely.

Every damaged or hostile zip must end as a DatasetError (a message for the Home page, exit
status 2 on the CLI), never as another Python error, and must leave nothing behind.
"""

from __future__ import annotations

import io
import shutil
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from genre_models.cli import main
from genre_models.config import PROJECT_ROOT, ZipLimits
from genre_models.dataset import (
    DatasetError,
    extract_zip_safely,
    load_dataset,
    locate_dataset,
)


def make_zip(path: Path, folder: Path, prefix: str) -> Path:
    """Zip a dataset folder, placing it under ``prefix`` inside the archive."""
    with zipfile.ZipFile(path, "w") as archive:
        for file in folder.rglob("*"):
            archive.write(file, prefix + file.relative_to(folder).as_posix())
    return path


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    """Return a stored (uncompressed) zip holding ``entries``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def patch_headers(raw: bytes, flag_bits: int = 0, compress_type: int | None = None) -> bytes:
    """Set flag bits and/or the compression method in every local and central header of a zip
    (Python's zipfile cannot write encrypted or Deflate64 entries, so tests forge them)."""
    patched = bytearray(raw)
    # (signature, offset of the flag bits, offset of the compression method) per header kind.
    for signature, flag_offset, method_offset in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        start = patched.find(signature)
        while start != -1:
            flags = struct.unpack_from("<H", patched, start + flag_offset)[0]
            struct.pack_into("<H", patched, start + flag_offset, flags | flag_bits)
            if compress_type is not None:
                struct.pack_into("<H", patched, start + method_offset, compress_type)
            start = patched.find(signature, start + 4)
    return bytes(patched)


CONTENT = b"a poster that is not really one " * 8


def encrypted_zip() -> bytes:
    return patch_headers(zip_bytes({"Images/tt1.jpg": CONTENT}), flag_bits=0x1)


def bad_crc_zip() -> bytes:
    raw = zip_bytes({"Images/tt1.jpg": CONTENT})
    return raw.replace(CONTENT, CONTENT.upper(), 1)  # same length, so only the checksum disagrees


def deflate64_zip() -> bytes:
    return patch_headers(zip_bytes({"Images/tt1.jpg": CONTENT}), compress_type=9)


def file_and_folder_zip() -> bytes:
    return zip_bytes({"Images": b"a file named like the folder", "Images/tt1.jpg": CONTENT})


def long_name_zip() -> bytes:
    return zip_bytes({"Images/" + "t" * 300 + ".jpg": CONTENT})


DAMAGED_ZIPS = {
    "encrypted member": (encrypted_zip, "encrypted"),
    "bad CRC": (bad_crc_zip, "damaged"),
    "Deflate64": (deflate64_zip, "Deflate64"),
    "file and folder with one name": (file_and_folder_zip, "both a file and a folder"),
    "300-character entry name": (long_name_zip, "too long"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGED_ZIPS))
def test_damaged_zips_are_a_dataset_error_and_leave_nothing_behind(tmp_path, kind):
    build, message = DAMAGED_ZIPS[kind]
    archive = tmp_path / "damaged.zip"
    archive.write_bytes(build())
    target = tmp_path / "out" / "dataset"
    with pytest.raises(DatasetError, match=message):
        extract_zip_safely(archive, target)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("kind", sorted(DAMAGED_ZIPS))
def test_cli_with_a_damaged_zip_exits_2_with_one_line(tmp_path, kind, capsys):
    build, message = DAMAGED_ZIPS[kind]
    archive = tmp_path / "Multimodal_IMDB_dataset.zip"
    archive.write_bytes(build())
    assert main(["baselines", "--data-dir", str(archive), "--out", str(tmp_path / "baselines.json")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error:") and message in error[0]


def test_evaluate_with_a_damaged_zip_exits_2(tmp_path, monkeypatch, capsys):
    # One small shipped model is enough: the data is read after the models are loaded.
    shutil.copytree(PROJECT_ROOT / "artifacts" / "tfidf_logreg", tmp_path / "artifacts" / "tfidf_logreg")
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    archive = tmp_path / "bad.zip"
    archive.write_bytes(bad_crc_zip())
    assert main(["evaluate", "--model", "tfidf_logreg", "--data-dir", str(archive)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("error: ")


def test_missing_dataset_says_how_to_configure_it(tmp_path):
    with pytest.raises(DatasetError, match="GENRE_DATA_DIR"):
        locate_dataset(tmp_path / "nowhere")


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    bogus = tmp_path / "data.zip"
    bogus.write_bytes(b"PK\x03\x04 and then nothing sensible")
    with pytest.raises(DatasetError, match="neither a dataset folder nor a zip|not a readable zip"):
        locate_dataset(bogus)


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


def test_zip_given_as_bytes_extracts_like_a_file(tmp_path):
    target = extract_zip_safely(zip_bytes({"Images/tt1.jpg": CONTENT}), tmp_path / "out")
    assert (target / "Images" / "tt1.jpg").read_bytes() == CONTENT


def test_two_datasets_one_folder_down_are_refused_naming_both(synthetic_dataset, tmp_path):
    parent = tmp_path / "downloads"
    shutil.copytree(synthetic_dataset, parent / "Multimodal_IMDB_dataset")
    shutil.copytree(synthetic_dataset, parent / "A_backup_sample")
    with pytest.raises(DatasetError, match=r"holds 2 datasets one folder down \(A_backup_sample, "
                                           r"Multimodal_IMDB_dataset\); point the data setting at the one you mean"):
        locate_dataset(parent)
    assert locate_dataset(parent / "Multimodal_IMDB_dataset") == parent / "Multimodal_IMDB_dataset"


def test_a_zip_of_two_datasets_is_refused_naming_both(synthetic_dataset, tmp_path):
    from genre_models.dataset import import_dataset_zip

    parent = tmp_path / "both"
    shutil.copytree(synthetic_dataset, parent / "Multimodal_IMDB_dataset")
    shutil.copytree(synthetic_dataset, parent / "A_backup_sample")
    archive = make_zip(tmp_path / "both.zip", parent, "")
    with pytest.raises(DatasetError, match=r"The zip both.zip holds 2 datasets one folder down "
                                           r"\(A_backup_sample, Multimodal_IMDB_dataset\); keep one of them in the zip"):
        load_dataset(archive)
    installed = tmp_path / "data" / "Multimodal_IMDB_dataset"
    with pytest.raises(DatasetError, match=r"The zip holds 2 datasets one folder down"):
        import_dataset_zip(archive.read_bytes(), installed)
    assert not installed.exists()

"""genre_app/data.py: the dataset location and cache key, and the messages saying how to provide the dataset."""

from __future__ import annotations

import os

import pytest
from conftest import build_synthetic_dataset

from genre_app import data
from genre_models.config import CSV_NAME


def test_data_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GENRE_DATA_DIR", str(tmp_path / "films"))
    assert data.data_location() == tmp_path / "films"


def test_data_stamp_changes_when_the_csv_is_replaced(tmp_path):
    folder = build_synthetic_dataset(tmp_path / "data", num_films=12)
    before = data.data_stamp(folder)
    csv_path = folder / CSV_NAME
    stat = csv_path.stat()
    csv_path.write_text(csv_path.read_text())
    os.utime(csv_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert data.data_stamp(folder) not in (before, "missing")
    assert data.data_stamp(tmp_path / "nothing-here") == "missing"


def test_dataset_returns_a_message_instead_of_raising(monkeypatch, tmp_path):
    monkeypatch.setenv("GENRE_DATA_DIR", str(tmp_path / "nothing-here"))
    found, problem = data.dataset()
    assert found is None and problem


def test_dataset_loads_the_configured_folder(monkeypatch, tmp_path):
    folder = build_synthetic_dataset(tmp_path / "data", num_films=12)
    monkeypatch.setenv("GENRE_DATA_DIR", str(folder))
    found, problem = data.dataset()
    assert problem is None and found.num_films == 12


@pytest.mark.parametrize("read_only, mentions_upload", [("0", True), ("1", False)])
def test_data_setting_help_names_the_setting_and_offers_upload_only_when_allowed(monkeypatch, read_only,
                                                                                  mentions_upload):
    monkeypatch.setenv("GENRE_DATA_DIR", "/somewhere/Multimodal_IMDB_dataset")
    monkeypatch.setenv("GENRE_READ_ONLY", read_only)
    text = data.data_setting_help()
    assert "GENRE_DATA_DIR=/somewhere/Multimodal_IMDB_dataset" in text
    assert ("upload the zip" in text) is mentions_upload

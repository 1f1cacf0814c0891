"""Shared fixtures: synthetic datasets built on the fly and a small copy of the real one.

The real dataset is never committed: it is read from $GENRE_DATA_DIR (CI points
it at ../shared/datasets/Multimodal_IMDB_dataset). Tests that need it skip when
it is absent locally, and fail under CI, where its absence is a set-up error.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from genre_models.config import CSV_NAME, DATA_DIR_ENV, IMAGES_DIR_NAME, PROJECT_ROOT  # noqa: E402

GENRES = ["Action", "Comedy", "Drama", "Horror", "Romance", "Western"]
WORDS = {
    "Action": "explosion chase gun fight hero mission",
    "Comedy": "funny wacky laugh prank silly friends",
    "Drama": "family loss grief struggle life father",
    "Horror": "ghost haunted blood scream demon night",
    "Romance": "love kiss wedding heart couple paris",
}


@pytest.fixture(scope="session", autouse=True)
def isolated_paths(tmp_path_factory):
    """Keep caches and runs written by tests out of the repository, session fixtures included."""
    base = tmp_path_factory.getbasetemp()
    saved = {name: os.environ.get(name) for name in ("GENRE_CACHE_DIR", "GENRE_RUNS_DIR")}
    os.environ["GENRE_CACHE_DIR"] = str(base / "cache")
    os.environ["GENRE_RUNS_DIR"] = str(base / "runs")
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def write_poster(path: Path, seed: int, size=(30, 60), fmt="JPEG") -> None:
    """Write a small random poster image."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, format=fmt)


def build_synthetic_dataset(folder: Path, num_films: int = 40, seed: int = 0) -> Path:
    """Write a course-format dataset: CSV with 6 genre columns (Western never positive) + posters."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for index in range(num_films):
        film_id = f"tt{1000000 + index}"
        labels = {genre: 0 for genre in GENRES}
        chosen = rng.choice(GENRES[:-1], size=rng.integers(1, 3), replace=False)
        for genre in chosen:
            labels[genre] = 1
        overview = " ".join(WORDS[g] for g in chosen) + f" story number {index}."
        rows.append({"Id": film_id, "Genre": str(list(chosen)), **labels, "Overview": overview})
        write_poster(folder / IMAGES_DIR_NAME / f"{film_id}.jpg", seed * 1000 + index)
    write_csv(folder / CSV_NAME, rows)
    return folder


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> None:
    """Write rows as a course-format CSV."""
    columns = columns or ["Id", "Genre", *GENRES, "Overview"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def damage_rows(rows: list[dict]) -> list[dict]:
    """Damage a synthetic dataset's rows, one of each kind a loader must drop: an empty overview
    (row 1), no genre (row 2), a label that is not 0/1 (row 3), a duplicate Id (row 4 repeated at
    the end) and an Id leaving the Images folder (row 5). Returns the rows (changed in place)."""
    rows[1]["Overview"] = "   "
    for genre in GENRES:
        rows[2][genre] = "0"
    rows[3]["Action"] = "7"
    rows.append(dict(rows[4]))
    rows[5]["Id"] = "../etc/passwd"
    return rows


def read_rows(path: Path) -> list[dict]:
    """Read a CSV into dict rows."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def synthetic_dataset(tmp_path) -> Path:
    """A fresh 40-film synthetic dataset folder."""
    return build_synthetic_dataset(tmp_path / "synthetic")


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real dataset folder from $GENRE_DATA_DIR; skip locally when absent, fail under CI."""
    value = os.environ.get(DATA_DIR_ENV, "")
    folder = Path(value) if value else PROJECT_ROOT / "data" / "Multimodal_IMDB_dataset"
    if not (folder / CSV_NAME).is_file():
        message = f"real dataset not found at {folder}; set {DATA_DIR_ENV}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture(scope="session")
def small_real_dataset(real_data_dir, tmp_path_factory) -> Path:
    """A copy of the first 96 films of the real dataset (CSV rows + posters) in a temp folder."""
    return copy_real_films(real_data_dir, tmp_path_factory.mktemp("small_real") / "Multimodal_IMDB_dataset",
                           lambda rows: rows[:96])


def copy_real_films(source: Path, folder: Path, choose) -> Path:
    """Copy the CSV rows ``choose(rows)`` of a real dataset and their posters into a new dataset folder."""
    (folder / IMAGES_DIR_NAME).mkdir(parents=True)
    with open(source / CSV_NAME, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames
        rows = choose(list(reader))
    write_csv(folder / CSV_NAME, rows, columns)
    for row in rows:
        name = f"{row['Id']}.jpg"
        shutil.copyfile(source / IMAGES_DIR_NAME / name, folder / IMAGES_DIR_NAME / name)
    return folder


@pytest.fixture(scope="session")
def tiny_trained(real_data_dir, tmp_path_factory):
    """One artifact per registry model, each trained 1 epoch on 64 real films (shared by tests)."""
    from genre_models.config import TrainConfig
    from genre_models.models import MODEL_REGISTRY
    from genre_models.training import train_model

    root = tmp_path_factory.mktemp("tiny_artifacts")
    results = {}
    # Networks first: a fused model is fitted from their artifacts (parts_dir: these, not the shipped ones).
    for name in sorted(MODEL_REGISTRY, key=lambda n: (MODEL_REGISTRY[n].is_fusion, n)):
        config = TrainConfig(model_name=name, data_dir=str(real_data_dir), epochs=1, max_films=64,
                             out_dir=str(root / name), verbose=0, command=f"test train {name}",
                             parts_dir=str(root))
        results[name] = train_model(config)
    return results


@pytest.fixture
def tiny_artifacts_dir(tiny_trained, monkeypatch) -> Path:
    """Point the artifacts setting at the tiny trained artifacts."""
    root = next(iter(tiny_trained.values())).artifact_dir.parent
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(root))
    return root


def copy_dataset(source: Path, destination: Path) -> Path:
    """Copy a dataset folder so a test may damage it."""
    shutil.copytree(source, destination)
    return destination


@pytest.fixture(scope="session")
def train_only_dataset(real_data_dir, tmp_path_factory) -> Path:
    """30 real films whose Ids all hash into the train split: its validation and test splits are empty."""
    from genre_models.dataset.splits import assign_split

    return copy_real_films(real_data_dir, tmp_path_factory.mktemp("train_only") / "Multimodal_IMDB_dataset",
                           lambda rows: [row for row in rows if assign_split(row["Id"]) == "train"][:30])

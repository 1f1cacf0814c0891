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


def point_the_app_at(data_dir, monkeypatch) -> None:
    """Make the app read this dataset folder and the shipped artifacts."""
    monkeypatch.setenv("GENRE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(PROJECT_ROOT / "artifacts"))


@pytest.fixture
def app_env(small_real_dataset, monkeypatch):
    """The app reads the small real dataset and the shipped artifacts."""
    point_the_app_at(small_real_dataset, monkeypatch)
    return small_real_dataset


@pytest.fixture(scope="session")
def damaged_dataset(small_real_dataset, tmp_path_factory):
    """A copy of the small real dataset where every other film of the grid's first page and of the test
    split (the first test film included) has a damaged poster: 0-byte, GIF, 16-bit PNG or truncated.

    Returns the folder and {film Id: kind of damage}.
    """
    from app_testing import DAMAGE_KINDS, damaged_poster_bytes

    from genre_models.dataset import load_dataset

    folder = copy_dataset(small_real_dataset, tmp_path_factory.mktemp("damaged") / small_real_dataset.name)
    dataset = load_dataset(folder)
    test_rows = list(dataset.split_indices("test"))
    chosen = sorted(set(range(0, 12, 2)) | set(test_rows[::2]))
    damage = {}
    for number, row in enumerate(chosen):
        film_id = str(dataset.ids[row])
        damage[film_id] = DAMAGE_KINDS[number % len(DAMAGE_KINDS)]
        path = dataset.poster_path(film_id)
        path.write_bytes(damaged_poster_bytes(damage[film_id], path.read_bytes()))
    return {"folder": folder, "damage": damage, "ids": [str(film_id) for film_id in dataset.ids]}


@pytest.fixture
def damaged_env(damaged_dataset, monkeypatch):
    """The app reads the damaged copy and the shipped artifacts."""
    point_the_app_at(damaged_dataset["folder"], monkeypatch)
    return damaged_dataset


@pytest.fixture
def full_env(real_data_dir, monkeypatch):
    point_the_app_at(real_data_dir, monkeypatch)
    return real_data_dir


@pytest.fixture
def offered_files(monkeypatch):
    """Read the bytes a download button offers: AppTest keeps them in an in-memory media store of its own,
    kept here (a subclass that remembers each store it makes) so a test can fetch a button's file."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.testing.v1 import AppTest, app_test

    stores = []

    class KeptMediaFileStorage(MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            stores.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", KeptMediaFileStorage)

    def read(app: AppTest, label: str) -> bytes:
        button = next(button for button in app.get("download_button") if button.proto.label == label)
        return stores[-1].get_file(button.proto.url.rsplit("/", 1)[-1]).content

    return read


@pytest.fixture
def no_scoring(real_data_dir, monkeypatch):
    """The full real dataset with the shipped artifacts, and any scoring of a split made to fail:
    what opens must come from the artifacts' split_scores.npz files."""
    from genre_models import scoring

    def refuse(*args, **kwargs):
        raise AssertionError("a split was scored instead of read from split_scores.npz")

    point_the_app_at(real_data_dir, monkeypatch)
    monkeypatch.setattr(scoring, "score_split", refuse)
    return real_data_dir


@pytest.fixture(scope="session")
def hostile_dataset(small_real_dataset, tmp_path_factory) -> dict:
    """A copy of the small real dataset whose text is written to inject Markdown: every overview holds an
    outside image and a link elsewhere, and the first film (a test film, first on the browser's first page)
    has an Id that would turn its IMDb link into a link elsewhere. Returns the folder and that Id."""
    from app_testing import BEACON_OVERVIEW, EVIL_ID

    from genre_models.dataset.splits import assign_split

    folder = copy_dataset(small_real_dataset, tmp_path_factory.mktemp("hostile") / small_real_dataset.name)
    rows = read_rows(folder / CSV_NAME)
    # The first Id of this shape that hashes into the test split (Compare samples test films only).
    candidates = (EVIL_ID.replace("tt0000001", f"tt{number:07d}") for number in range(1, 500))
    evil_id = next(candidate for candidate in candidates if assign_split(candidate) == "test")
    test_rows = [row for row in rows if assign_split(row["Id"]) == "test"]
    first = test_rows[0]
    (folder / IMAGES_DIR_NAME / f"{first['Id']}.jpg").rename(folder / IMAGES_DIR_NAME / f"{evil_id}.jpg")
    first["Id"] = evil_id
    for row in rows:
        row["Overview"] = f"{row['Overview']} {BEACON_OVERVIEW}"
    write_csv(folder / CSV_NAME, [first] + [row for row in rows if row is not first], list(rows[0]))
    return {"folder": folder, "evil_id": evil_id}


@pytest.fixture
def hostile_env(hostile_dataset, monkeypatch) -> dict:
    """The app reads the hostile copy and the shipped artifacts."""
    point_the_app_at(hostile_dataset["folder"], monkeypatch)
    return hostile_dataset


# --- Run folders for the Train page's tests (and Home's refit notice) ---------------------------------------

@pytest.fixture
def fake_runs(tmp_path, monkeypatch, tiny_trained):
    """Three run folders: finished (with an artifact), running (this process holds its lock), failed."""
    import shutil
    import time

    from app_testing import make_fake_run

    from genre_models import fileio, runs

    root = tmp_path / "runs"
    monkeypatch.setenv("GENRE_RUNS_DIR", str(root))
    finished = make_fake_run(root, "20260101-000000-course_cnn", "completed", 3, elapsed=90)
    shutil.copytree(tiny_trained["course_cnn"].artifact_dir, finished / runs.ARTIFACT_DIR)
    # "Running": its worker is this test process, which holds the run's lock, with a fresh heartbeat.
    running = make_fake_run(root, "20260102-000000-course_cnn", "running", 2, pid=os.getpid(),
                            heartbeat=time.time() + 3600, epoch=3, epochs=5, step=1, steps=3, elapsed=60)
    make_fake_run(root, "20260103-000000-course_cnn", "failed", 1, error="the training process ended unexpectedly")
    with open(running / runs.LOCK_FILE, "a+") as lock:
        fileio.lock_file(lock)
        yield {"root": root, "finished": finished, "running": running}


@pytest.fixture
def promoted_run(fake_runs):
    """The finished fake run promoted over the shipped course_cnn, so 'Restore shipped' is offered."""
    from genre_models import promotions

    promotions.promote_run(fake_runs["finished"])
    return fake_runs


@pytest.fixture
def runs_root(tmp_path, monkeypatch):
    """An empty runs folder of the app's own."""
    root = tmp_path / "runs"
    root.mkdir()
    monkeypatch.setenv("GENRE_RUNS_DIR", str(root))
    return root


@pytest.fixture
def live_run(runs_root):
    """A run whose worker (this test process, holding its lock) has reported epoch 2 of 5 in its heartbeat
    while its status file still says "queued", as start_run wrote it."""
    import time

    from app_testing import make_fake_run

    from genre_models import fileio, runs

    folder = make_fake_run(runs_root, "20260104-000000-course_cnn", "queued", 1, pid=os.getpid(),
                           queued_at=time.time() - 120)  # launched 2 minutes ago
    fileio.write_json_atomically(folder / runs.HEARTBEAT_FILE, {
        "pid": os.getpid(), "heartbeat": time.time() + 3600, "epoch": 2, "epochs": 5, "step": 1, "steps": 3,
        "elapsed": 120.0})
    with open(folder / runs.LOCK_FILE, "a+") as lock:
        fileio.lock_file(lock)
        yield folder


@pytest.fixture
def replaced_fusion_part(app_env, runs_root):
    """course_cnn promoted from a run (a copy of the shipped one, retrained later): late_fusion, fitted on
    the shipped course_cnn, needs refitting."""
    import json
    import shutil

    from app_testing import make_fake_run

    from genre_models import promotions, runs

    folder = make_fake_run(runs_root, "20260106-000000-course_cnn", "completed", 2, elapsed=90)
    shutil.copytree(PROJECT_ROOT / "artifacts" / "course_cnn", folder / runs.ARTIFACT_DIR)
    metadata_path = folder / runs.ARTIFACT_DIR / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    metadata["created_at"] = "2026-11-23T10:00:00+00:00"
    metadata_path.write_text(json.dumps(metadata))
    promotions.promote_run(folder)
    return folder

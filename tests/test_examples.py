"""genre_models/examples.py and scripts/make_examples.py: the shipped demo films are test-split films of
the real dataset, rebuilt identically by the script; a damaged examples.json is a clear ValueError and
a broken poster costs only that poster."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import make_examples
import numpy as np
import pytest
from PIL import Image

from genre_models.config import IMAGES_DIR_NAME
from genre_models.dataset import load_dataset
from genre_models.examples import (
    EXAMPLES_DIR,
    EXAMPLES_FILE,
    load_examples,
    resolve_examples_dir,
    start_of,
)

# The folder is committed: it must stay small.
MAX_FOLDER_BYTES = 3 * 1024 * 1024


def folder_bytes(folder: Path) -> int:
    return sum(file.stat().st_size for file in folder.rglob("*") if file.is_file())


def test_the_shipped_examples_load_small_and_complete():
    examples = load_examples(EXAMPLES_DIR)
    assert len(examples.examples) == make_examples.DEFAULT_COUNT
    assert not examples.notes
    assert len(set(examples.ids)) == len(examples.ids)
    for example in examples.examples:
        assert example.overview and example.genres and set(example.genres) <= set(examples.genres)
        height, width = example.poster.shape[:2]
        assert width <= make_examples.MAX_POSTER_SIZE[0] and height <= make_examples.MAX_POSTER_SIZE[1]
        assert example.label.startswith(example.id) and example.title is None
    # Chosen to span genres, not a dozen dramas.
    assert len({genre for example in examples.examples for genre in example.genres}) >= 12
    assert folder_bytes(EXAMPLES_DIR) < MAX_FOLDER_BYTES
    readme = (EXAMPLES_DIR / "README.md").read_text()
    assert "test split" in readme and "scripts/make_examples.py" in readme and "sha256(Id) % 100" in readme


def test_the_shipped_examples_are_test_films_of_the_real_dataset(real_data_dir):
    dataset = load_dataset(real_data_dir)
    for example in load_examples(EXAMPLES_DIR).examples:
        row = dataset.row_of(example.id)
        assert dataset.splits[row] == "test"
        assert example.overview == str(dataset.overviews[row]).strip()
        assert example.genres == [g for g, flag in zip(dataset.genres, dataset.labels[row]) if flag]
        # The course posters are already small JPEGs: copied byte for byte, so an example predicts
        # exactly as its dataset film does.
        assert example.poster_file.read_bytes() == dataset.poster_path(example.id).read_bytes()


def test_the_script_rebuilds_the_shipped_folder_identically(real_data_dir, tmp_path):
    out = tmp_path / "examples"
    assert make_examples.main(["--data-dir", str(real_data_dir), "--out", str(out)]) == 0
    shipped = sorted(file.relative_to(EXAMPLES_DIR) for file in EXAMPLES_DIR.rglob("*") if file.is_file())
    rebuilt = sorted(file.relative_to(out) for file in out.rglob("*") if file.is_file())
    assert rebuilt == shipped
    for name in shipped:
        assert (out / name).read_bytes() == (EXAMPLES_DIR / name).read_bytes(), name
    # Another seed, another dozen; the folder is replaced whole (no poster of the old set is left).
    assert make_examples.main(["--data-dir", str(real_data_dir), "--out", str(out), "--seed", "1"]) == 0
    other = load_examples(out)
    assert other.ids != load_examples(EXAMPLES_DIR).ids
    assert sorted(path.stem for path in (out / "posters").iterdir()) == sorted(other.ids)


def test_the_script_says_why_when_there_is_no_dataset(tmp_path, capsys):
    assert make_examples.main(["--data-dir", str(tmp_path / "nothing"), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert not (tmp_path / "out").exists()


def test_choosing_films_is_seeded_and_spans_the_genres():
    labels = np.zeros((60, 6), dtype=np.uint8)
    labels[:50, 0] = 1  # a common genre
    for genre in range(1, 6):
        labels[50 + 2 * (genre - 1), genre] = 1  # each rare genre on a few films
    chosen = make_examples.choose_varied_films(labels, 6, seed=3)
    assert chosen == make_examples.choose_varied_films(labels, 6, seed=3)
    assert len(set(chosen)) == 6
    assert labels[chosen].any(axis=0).all()  # every genre shown, not six of the common one
    assert make_examples.choose_varied_films(labels, 100, seed=3) != chosen  # all films, when asked for more
    with pytest.raises(ValueError, match="positive"):
        make_examples.choose_varied_films(labels, 0, seed=3)


def test_posters_larger_than_the_course_size_are_shrunk(tmp_path):
    big = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (900, 600, 3), dtype=np.uint8)).save(big)
    shrunk = tmp_path / "shrunk.jpg"
    shrunk.write_bytes(make_examples.poster_bytes(big))
    with Image.open(shrunk) as image:
        assert image.format == "JPEG" and image.size == (150, 225)


@pytest.fixture
def examples_copy(tmp_path) -> Path:
    """A copy of the shipped examples a test may damage."""
    return Path(shutil.copytree(EXAMPLES_DIR, tmp_path / "examples"))


def rewrite(folder: Path, change) -> None:
    path = folder / EXAMPLES_FILE
    content = json.loads(path.read_text())
    change(content)
    path.write_text(json.dumps(content))


@pytest.mark.parametrize("change, message", [
    (lambda c: c["films"][0].update(id="../../etc/passwd"), "no usable id"),
    (lambda c: c["films"][1].update(id=c["films"][0]["id"]), "appears twice"),
    (lambda c: c["films"][0].update(overview="  "), "has no overview"),
    (lambda c: c["films"][0].update(genres=["Drama", "Cooking"]), "missing from the genre list: Cooking"),
    (lambda c: c["films"][0].update(genres=[]), "genres must be a non-empty list"),
    (lambda c: c["films"][0].update(title=7), "title must be text or null"),
    (lambda c: c.update(films=[]), "lists no films"),
    (lambda c: c.update(films=[3]), "film 1 is not a JSON object"),
    (lambda c: c.update(genres="Drama"), "genres must be a non-empty list"),
    (lambda c: c.update(format=99), "this version reads format 1"),
])
def test_a_damaged_examples_file_is_a_clear_value_error(examples_copy, change, message):
    rewrite(examples_copy, change)
    with pytest.raises(ValueError, match="damaged") as error:
        load_examples(examples_copy)
    assert message in str(error.value) and "scripts/make_examples.py" in str(error.value)


@pytest.mark.parametrize("content, message", [(b"{not json", "not valid JSON"), (b"[1, 2]", "no JSON object"),
                                              (b"\xff\xfe\x00", "not UTF-8"), (b"", "not valid JSON")])
def test_an_unreadable_examples_file_is_a_clear_value_error(examples_copy, content, message):
    (examples_copy / EXAMPLES_FILE).write_bytes(content)
    with pytest.raises(ValueError, match=message):
        load_examples(examples_copy)


def test_missing_examples_say_how_to_build_them(tmp_path):
    with pytest.raises(ValueError, match="No examples: .* does not exist.*make_examples.py"):
        load_examples(tmp_path)


@pytest.mark.parametrize("damage, reason", [
    (lambda poster: poster.write_bytes(b""), "not a readable image"),
    (lambda poster: poster.write_bytes(b"GIF89a not a poster"), "not a readable image"),
    (lambda poster: poster.unlink(), "the file is missing"),
])
def test_a_broken_poster_is_skipped_with_a_note(examples_copy, damage, reason):
    first = load_examples(examples_copy).examples[0]
    damage(examples_copy / "posters" / f"{first.id}.jpg")
    examples = load_examples(examples_copy)
    assert examples.examples[0].id == first.id and examples.examples[0].poster is None
    assert examples.examples[0].overview == first.overview  # it still predicts from its overview
    assert all(example.poster is not None for example in examples.examples[1:])
    assert len(examples.notes) == 1 and first.id in examples.notes[0] and reason in examples.notes[0]


def test_a_poster_path_leaving_the_folder_is_ignored(examples_copy, real_data_dir):
    outside = real_data_dir / IMAGES_DIR_NAME / f"{load_examples(examples_copy).ids[0]}.jpg"
    rewrite(examples_copy, lambda c: c["films"][0].update(poster=str(outside)))
    examples = load_examples(examples_copy)
    assert examples.examples[0].poster is None and "outside the examples folder" in examples.notes[0]


def test_the_examples_folder_can_be_configured(examples_copy, monkeypatch):
    assert resolve_examples_dir() == EXAMPLES_DIR
    monkeypatch.setenv("GENRE_EXAMPLES_DIR", str(examples_copy))
    assert resolve_examples_dir() == examples_copy
    assert load_examples().ids == load_examples(EXAMPLES_DIR).ids


def test_labels_use_the_start_of_the_overview():
    assert start_of("one two three four five six seven eight nine") == "one two three four five six seven eight…"
    assert start_of("short story", words=5) == "short story"

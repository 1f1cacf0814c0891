"""Build examples/: a dozen films of the dataset's TEST split with their posters, for the app's demo
(the Predict page offers them whether or not a dataset is configured). Usage:

    .venv/bin/python scripts/make_examples.py --data-dir ../shared/datasets/Multimodal_IMDB_dataset

The films are chosen deterministically (seeded): the test split's films in a seeded random order,
then greedily the film whose genres are least covered by those already chosen, so the dozen spans
many genres instead of twelve dramas. Only films whose poster decodes are candidates. Posters are
copied as they are when already a JPEG within MAX_POSTER_SIZE (the course's are 150x300, so an
example predicts exactly as its dataset film does) and otherwise shrunk to fit it and saved as
JPEG at JPEG_QUALITY. The folder (examples.json, posters/, README.md) replaces the old one in one step.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genre_models.config import PROJECT_ROOT, SplitConfig, resolve_data_dir  # noqa: E402
from genre_models.dataset import decode_poster, load_dataset  # noqa: E402
from genre_models.examples import EXAMPLES_FILE, FORMAT_VERSION, POSTERS_DIR  # noqa: E402
from genre_models.fileio import write_folder_atomically  # noqa: E402

DEFAULT_COUNT = 12
DEFAULT_SEED = 0
# Largest poster kept in examples/ (width, height): the course posters' own size.
MAX_POSTER_SIZE = (150, 300)
JPEG_QUALITY = 85
DATASET_NAME = "the Multimodal IMDB dataset of the course (public; IMDB_overview_genres.csv and Images/)"
SOURCE = f"{DATASET_NAME}, films of its test split only"


def choose_varied_films(labels: np.ndarray, count: int, seed: int) -> list[int]:
    """Return the rows of ``count`` films chosen to span many genres, the same for the same seed.

    The films are taken in a seeded random order; each step picks the first film (in that order)
    with the highest sum over its genres of 1 / (1 + films already chosen with that genre), so a
    genre not yet shown counts fully and a third Drama counts a third.
    """
    labels = np.asarray(labels, dtype=np.float64)
    if count <= 0:
        raise ValueError("count must be a positive number of films.")
    order = np.random.default_rng(seed).permutation(len(labels))
    covered = np.zeros(labels.shape[1])
    chosen: list[int] = []
    for _ in range(min(count, len(labels))):
        candidates = [row for row in order if row not in chosen]
        gains = labels[candidates] @ (1.0 / (1.0 + covered))
        best = candidates[int(np.argmax(gains))]  # argmax keeps the first of equal gains
        chosen.append(int(best))
        covered += labels[best]
    return chosen


def poster_bytes(path: Path) -> bytes:
    """Return the poster file for examples/: the original when it is a JPEG within MAX_POSTER_SIZE, else
    the poster shrunk to fit it as a JPEG (raises ValueError when it cannot be decoded)."""
    original = path.read_bytes()
    pixels = decode_poster(original)
    with Image.open(io.BytesIO(original)) as image:
        is_jpeg = image.format == "JPEG"
    height, width = pixels.shape[:2]
    if is_jpeg and width <= MAX_POSTER_SIZE[0] and height <= MAX_POSTER_SIZE[1]:
        return original
    smaller = Image.fromarray(pixels)
    smaller.thumbnail(MAX_POSTER_SIZE)
    buffer = io.BytesIO()
    smaller.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def describe_split_rule(split_config: SplitConfig = SplitConfig()) -> str:
    """Return the split rule in words, from the settings the package splits by."""
    validation_end = split_config.train_percent + split_config.validation_percent
    return (f"sha256(Id) % 100: 0-{split_config.train_percent - 1} train, {split_config.train_percent}-"
            f"{validation_end - 1} validation, {validation_end}-99 test (genre_models.dataset.splits)")


def readme_text(content: dict, total_bytes: int) -> str:
    """Return examples/README.md: where the films come from and how the folder was made."""
    lines = [
        "# Example films for the demo",
        "",
        f"{len(content['films'])} films of the **test split** of {DATASET_NAME}, "
        "so the app's Predict page can show clickable examples (poster, overview, every model's answer and "
        "the true genres) even where no dataset is configured. No model was trained or tuned on them.",
        "",
        f"- Split rule: {content['split_rule']}.",
        f"- Made by `{content['made_by']}` (the films are chosen with a seed, to span many genres; see the "
        "script's docstring). Run it again to rebuild this folder; it replaces it in one step.",
        "- `examples.json`: each film's Id, title (null: the CSV has none, so the app labels a film by its Id "
        "and the start of its overview), overview and true genres, and the list of all genres.",
        f"- `{POSTERS_DIR}/`: the posters, copied as they are (JPEG, at most "
        f"{MAX_POSTER_SIZE[0]}x{MAX_POSTER_SIZE[1]}; larger ones would be shrunk to fit and saved at quality "
        f"{JPEG_QUALITY}). The whole folder is {total_bytes / 1024:.0f} KB.",
        "",
        "| Id | genres | overview |",
        "|---|---|---|",
    ]
    lines += [f"| {film['id']} | {', '.join(film['genres'])} | {film['overview'].replace('|', '/')} |"
              for film in content["films"]]
    return "\n".join(lines) + "\n"


def make_examples(data_dir: Path, out: Path, count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> dict:
    """Build the examples folder ``out`` from the dataset at ``data_dir``; return examples.json's content."""
    dataset = load_dataset(data_dir)
    test_rows = dataset.split_indices("test")
    posters, usable = {}, []
    for row in test_rows:
        film_id = str(dataset.ids[row])
        try:
            posters[film_id] = poster_bytes(dataset.poster_path(film_id))
            usable.append(row)
        except (ValueError, OSError):
            continue  # a film whose poster cannot be used is no example
    usable = np.array(usable, dtype=int)
    rows = usable[choose_varied_films(dataset.labels[usable], count, seed)]
    films = [{"id": str(dataset.ids[row]), "title": None, "overview": str(dataset.overviews[row]).strip(),
              "genres": [genre for genre, flag in zip(dataset.genres, dataset.labels[row]) if flag],
              "poster": f"{POSTERS_DIR}/{dataset.ids[row]}.jpg"} for row in rows]
    content = {"format": FORMAT_VERSION, "source": SOURCE, "split": "test", "split_rule": describe_split_rule(),
               "made_by": f"python scripts/make_examples.py --count {count} --seed {seed} --data-dir <dataset>",
               "genres": list(dataset.genres), "films": films}
    with write_folder_atomically(out) as staging:
        (staging / POSTERS_DIR).mkdir()
        for film in films:
            (staging / film["poster"]).write_bytes(posters[film["id"]])
        (staging / EXAMPLES_FILE).write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
        total = sum(file.stat().st_size for file in staging.rglob("*") if file.is_file())
        (staging / "README.md").write_text(readme_text(content, total), encoding="utf-8")
    return content


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="the dataset (folder or zip); default: GENRE_DATA_DIR, then data/")
    parser.add_argument("--out", default=str(PROJECT_ROOT / "examples"), help="folder to write (replaced)")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="number of films")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the films' order")
    args = parser.parse_args(argv)
    try:
        content = make_examples(resolve_data_dir(args.data_dir), Path(args.out), args.count, args.seed)
    except ValueError as error:  # DatasetError is a ValueError too
        print(f"error: {error}", file=sys.stderr)
        return 2
    genres = sorted({genre for film in content["films"] for genre in film["genres"]})
    print(f"wrote {len(content['films'])} examples to {args.out}, spanning {len(genres)} genres: {', '.join(genres)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The demo examples shipped in ``examples/``: a dozen films of the dataset's test split with their
posters, so the app can predict (and show the true genres) with no dataset configured.

``scripts/make_examples.py`` builds the folder from a copy of the dataset; ``load_examples`` reads it
back and checks every field, because the folder is a file anyone can edit: a damaged
``examples.json`` is a ValueError saying what is wrong, and a poster that is missing or cannot be
decoded costs only that poster (the example keeps its overview, with a note), never the page.

``examples.json``::

    {"format": 1, "source": "...", "split": "test", "split_rule": "...", "made_by": "...",
     "genres": [every genre, in the dataset's order],
     "films": [{"id": "tt0086465", "title": null, "overview": "...", "genres": ["Comedy"],
                "poster": "posters/tt0086465.jpg"}, ...]}

``title`` is null for the course dataset, whose CSV has no title column: examples are labelled by
their Id and the start of their overview instead.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genre_models.config import PROJECT_ROOT
from genre_models.dataset import decode_poster

# Where the app finds the shipped examples, unless GENRE_EXAMPLES_DIR names another folder (tests
# point it at a damaged copy).
EXAMPLES_DIR = PROJECT_ROOT / "examples"
EXAMPLES_DIR_ENV = "GENRE_EXAMPLES_DIR"
EXAMPLES_FILE = "examples.json"
POSTERS_DIR = "posters"
# The layout version of examples.json this code reads (and make_examples.py writes).
FORMAT_VERSION = 1
# An example's Id names its poster file and goes into URLs, so it is kept to safe characters
# (the dataset's Ids are IMDb title Ids, tt0000000).
SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Words of the overview that label an example with no title.
LABEL_WORDS = 8
# examples.json is a few kB; anything far larger is not ours and is refused before parsing.
MAX_EXAMPLES_FILE_BYTES = 1_000_000


@dataclass(eq=False)
class Example:
    """One shipped example film."""

    # IMDb title Id.
    id: str
    # The film's title, when the source has one (the course dataset has none).
    title: str | None
    # Its plot summary.
    overview: str
    # The genres it is labelled with, in the dataset's genre order.
    genres: list[str]
    # The poster as RGB pixels, None when its file is missing or damaged.
    poster: np.ndarray | None
    # The poster file it was read from (None when the example has none usable).
    poster_file: Path | None

    @property
    def label(self) -> str:
        """A short name for buttons and captions: the title, else the Id and the overview's first words."""
        return self.title or f"{self.id} · {start_of(self.overview)}"


@dataclass
class ExampleSet:
    """The examples of one folder, with where they come from and what was skipped."""

    # The examples, in the file's order.
    examples: list[Example]
    # Every genre of the source dataset, in its order.
    genres: list[str]
    # Where the films come from (the dataset, its split and the script that made the folder).
    source: str
    # What could not be used, one sentence each (a broken poster, say).
    notes: list[str] = field(default_factory=list)

    def find(self, film_id: str) -> Example | None:
        """Return the example with this Id, or None."""
        return next((example for example in self.examples if example.id == str(film_id)), None)

    @property
    def ids(self) -> list[str]:
        """The examples' Ids, in order."""
        return [example.id for example in self.examples]


def start_of(text: str, words: int = LABEL_WORDS) -> str:
    """Return the first words of a text, with an ellipsis when it goes on."""
    parts = str(text).split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def damaged(path: Path, problem: str) -> ValueError:
    """Return the error for a damaged examples file, saying which file and what is wrong."""
    return ValueError(f"The examples file {path} is damaged: {problem}. Rebuild it with "
                      "scripts/make_examples.py --data-dir <the dataset>.")


def read_examples_file(path: Path) -> dict:
    """Return examples.json parsed, or raise ValueError saying why it cannot be read."""
    try:
        if path.stat().st_size > MAX_EXAMPLES_FILE_BYTES:
            raise damaged(path, f"it is {path.stat().st_size:,} bytes, far larger than a dozen films take")
        content = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ValueError(f"No examples: {path} does not exist (build it with scripts/make_examples.py).") from error
    except UnicodeDecodeError as error:
        raise damaged(path, "it is not UTF-8 text") from error
    except json.JSONDecodeError as error:
        raise damaged(path, f"it is not valid JSON ({error.msg}, line {error.lineno})") from error
    except OSError as error:
        raise ValueError(f"The examples file {path} cannot be read: {error.strerror or error}.") from error
    if not isinstance(content, dict):
        raise damaged(path, "it holds no JSON object")
    if content.get("format") != FORMAT_VERSION:
        raise damaged(path, f"its format is {content.get('format')!r}; this version reads format {FORMAT_VERSION}")
    return content


def check_text_list(path: Path, value, what: str) -> list[str]:
    """Return a non-empty list of non-empty strings, or raise ValueError naming the field."""
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item.strip() for item in value):
        raise damaged(path, f"{what} must be a non-empty list of names")
    return value


def check_film(path: Path, number: int, film, genres: list[str], seen: set[str]) -> dict:
    """Return one film entry once every field is usable, or raise ValueError naming the film and field."""
    if not isinstance(film, dict):
        raise damaged(path, f"film {number} is not a JSON object")
    film_id = film.get("id")
    if not isinstance(film_id, str) or not SAFE_ID.match(film_id):
        raise damaged(path, f"film {number} has no usable id ({film_id!r}: letters, digits, - and _ only)")
    where = f"film {film_id}"
    if film_id in seen:
        raise damaged(path, f"{where} appears twice")
    seen.add(film_id)
    overview = film.get("overview")
    if not isinstance(overview, str) or not overview.strip():
        raise damaged(path, f"{where} has no overview")
    film_genres = check_text_list(path, film.get("genres"), f"{where}'s genres")
    unknown = [genre for genre in film_genres if genre not in genres]
    if unknown:
        raise damaged(path, f"{where} has genres missing from the genre list: {', '.join(unknown)}")
    title = film.get("title")
    if title is not None and not isinstance(title, str):
        raise damaged(path, f"{where}'s title must be text or null")
    poster = film.get("poster")
    if poster is not None and not isinstance(poster, str):
        raise damaged(path, f"{where}'s poster must be a file name or null")
    title = title.strip() if title and title.strip() else None
    return {"id": film_id, "title": title, "overview": overview.strip(),
            "genres": [genre for genre in genres if genre in film_genres], "poster": poster}


def read_example_poster(folder: Path, name: str | None, film_id: str) -> tuple[np.ndarray | None, Path | None,
                                                                               str | None]:
    """Return (pixels, file, None), or (None, None, why not) for a missing, misplaced or damaged poster."""
    if name is None:
        return None, None, f"Example {film_id} has no poster; it predicts from its overview alone."
    file = (folder / name).resolve()
    if not file.is_relative_to(folder.resolve()):
        return None, None, f"Example {film_id}'s poster {name!r} lies outside the examples folder; it is ignored."
    if not file.is_file():
        problem = "the file is missing"
    else:
        try:
            return decode_poster(file), file, None
        except (ValueError, OSError) as error:
            problem = str(error)
    return None, None, (f"Example {film_id}'s poster ({name}) was skipped: {problem}. The example predicts from "
                        "its overview alone.")


def resolve_examples_dir() -> Path:
    """Return the examples folder: GENRE_EXAMPLES_DIR when set, else the shipped examples/."""
    configured = os.environ.get(EXAMPLES_DIR_ENV, "").strip()
    return Path(configured).expanduser() if configured else EXAMPLES_DIR


def load_examples(folder: str | Path | None = None) -> ExampleSet:
    """Read and check the examples of a folder (default: resolve_examples_dir()); raise ValueError when
    examples.json is missing or damaged.

    A poster that cannot be used is left out with a note in ``notes`` (its example keeps its overview).
    """
    folder = Path(folder) if folder is not None else resolve_examples_dir()
    path = folder / EXAMPLES_FILE
    content = read_examples_file(path)
    genres = check_text_list(path, content.get("genres"), "genres")
    films = content.get("films")
    if not isinstance(films, list) or not films:
        raise damaged(path, "it lists no films")
    seen: set[str] = set()
    checked = [check_film(path, number, film, genres, seen) for number, film in enumerate(films, start=1)]
    examples, notes = [], []
    for film in checked:
        pixels, file, note = read_example_poster(folder, film["poster"], film["id"])
        if note:
            notes.append(note)
        examples.append(Example(id=film["id"], title=film["title"], overview=film["overview"], genres=film["genres"],
                                poster=pixels, poster_file=file))
    source = content.get("source") if isinstance(content.get("source"), str) else "unknown source"
    return ExampleSet(examples=examples, genres=genres, source=source, notes=notes)

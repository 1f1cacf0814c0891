"""The dataset's films as the pages show them: a film's facts, the films matching a filter and their table,
and every model's answers for a film (cached)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from genre_app.caches import input_fingerprint
from genre_app.comparison import describe_threshold_answer, read_threshold_answer
from genre_app.links import imdb_link
from genre_app.models import get_predictor, predictor, promotions
from genre_app.text import escape_markdown
from genre_models.config import resolve_artifacts_dir
from genre_models.dataset import MovieDataset


def true_genres(dataset: MovieDataset, row: int) -> list[str]:
    """Return the genres a dataset row is labelled with, in the dataset's genre order."""
    return [genre for genre, flag in zip(dataset.genres, dataset.labels[row]) if flag]


@dataclass(frozen=True)
class Film:
    """One film of the dataset, with what the pages show about it."""

    # IMDb title Id.
    id: str
    # Row in the dataset's arrays.
    row: int
    # One- or two-sentence plot summary.
    overview: str
    # The genres it is labelled with.
    genres: list[str]
    # Split it belongs to ("train", "validation" or "test").
    split: str
    # Its poster file (which may be missing or damaged: show it with show_poster).
    poster: Path

    @property
    def link(self) -> str:
        """Markdown link to the film's IMDb page."""
        return imdb_link(self.id)


def film_at(dataset: MovieDataset, row: int) -> Film:
    """Return the film at a dataset row."""
    film_id = str(dataset.ids[row])
    return Film(id=film_id, row=int(row), overview=str(dataset.overviews[row]), genres=true_genres(dataset, row),
                split=str(dataset.splits[row]), poster=dataset.poster_path(film_id))


def has_film(dataset: MovieDataset, film_id: str) -> bool:
    """Return whether the dataset has a film with this Id."""
    return bool(np.any(dataset.ids == str(film_id)))


def find_film(dataset: MovieDataset, film_id: str) -> Film:
    """Return the film with an Id (raises ValueError when the dataset has none)."""
    return film_at(dataset, dataset.row_of(str(film_id)))


def filter_films(dataset: MovieDataset, genres: list[str], match: str, query: str) -> np.ndarray:
    """Return the rows of the films labelled with any (``match="any"``) or all (``"all"``) of ``genres``
    whose overview contains ``query`` (ignoring case); no genre or an empty query filters nothing.
    Raises ValueError for an unknown genre or match."""
    if match not in ("any", "all"):
        raise ValueError(f"Match must be 'any' or 'all', not {match!r}.")
    unknown = [genre for genre in genres if genre not in dataset.genres]
    if unknown:
        raise ValueError(f"Unknown genre {unknown[0]!r}; the dataset's genres are {', '.join(dataset.genres)}.")
    mask = np.ones(dataset.num_films, dtype=bool)
    if genres:
        labelled = dataset.labels[:, [dataset.genres.index(genre) for genre in genres]] == 1
        mask &= labelled.all(axis=1) if match == "all" else labelled.any(axis=1)
    needle = str(query).strip().lower()
    if needle:
        mask &= np.array([needle in str(text).lower() for text in dataset.overviews], dtype=bool)
    return np.flatnonzero(mask)


@st.cache_resource(show_spinner=False, max_entries=4)
def get_film_catalogue(fingerprint: str, _dataset: MovieDataset) -> pd.DataFrame:
    """Return one line per film (Id, genres, split, overview), built once per dataset."""
    genres = np.asarray(_dataset.genres, dtype=object)
    return pd.DataFrame({
        "film": [str(film_id) for film_id in _dataset.ids],
        "genres": [", ".join(genres[row == 1]) for row in np.asarray(_dataset.labels)],
        "split": [str(split) for split in _dataset.splits],
        "overview": [str(text) for text in _dataset.overviews],
    })


def film_table(dataset: MovieDataset, rows: np.ndarray) -> pd.DataFrame:
    """Return the table of the films at ``rows`` (in that order, numbered from 0)."""
    return get_film_catalogue(dataset.fingerprint, dataset).iloc[np.asarray(rows, dtype=int)].reset_index(drop=True)


@st.cache_data(show_spinner="The models are reading the film...", max_entries=256)
def get_film_answers(film_id: str, inputs: str, models: tuple[tuple[str, str], ...], artifacts_dir: str,
                     promoted: tuple[tuple[str, str], ...], _poster: np.ndarray | None, _overview: str):
    """Return every model's answers (genre_models.inference.PredictionResult) for a dataset film; cached
    per film, digest of its inputs, and the models in use with their creation times."""
    return get_predictor(artifacts_dir, promoted).predict(poster=_poster, overview=_overview)


def film_answers(film: Film, poster: np.ndarray | None):
    """Return every model's answers for a dataset film, computed once per film and set of models: paging,
    searching or opening the film again never runs the models again, and a retrained or promoted model
    (a new creation time) does. A poster that cannot be decoded leaves the overview models to answer."""
    models = tuple((loaded.name, str(loaded.metadata.get("created_at"))) for loaded in predictor().models)
    return get_film_answers(film.id, input_fingerprint(poster, film.overview), models, str(resolve_artifacts_dir()),
                            promotions(), _poster=poster, _overview=film.overview)


def describe_answers(predictions: list, thresholds: dict[str, dict[str, float]]) -> str:
    """Return every model's answer as Markdown, one line each (wrapped, never cut off as table cells were):
    the genres it predicts (each over its own bar, as Predict answers), why a likelier genre is not among
    them, then its top 3. ``thresholds``: {model: {genre: threshold}}. Genre names are escaped (they come
    from the data)."""
    lines = []
    for prediction in predictions:
        answer = read_threshold_answer(prediction.probabilities, thresholds[prediction.model])
        top = ", ".join(f"{genre} {prediction.probabilities[genre]:.0%}" for genre in prediction.top)
        lines.append(f"- **{prediction.model}**: predicts "
                     f"{escape_markdown(describe_threshold_answer(answer))} · top 3: {escape_markdown(top)}")
    return ("**What the models answer** (the genres each predicts: those over its own bar, as on Predict · its "
            "top 3)\n\n" + "\n".join(lines))

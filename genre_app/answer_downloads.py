"""The downloads of the Predict page's answers: the lines ``python -m genre_models predict`` writes (the same
line function) and a table of every probability, with safe file names."""

from __future__ import annotations

import json
import re

import pandas as pd

from genre_models.batch import encode_line, prediction_line

# First columns of the downloaded probability table; one column per genre follows.
PROBABILITY_COLUMNS = ["film", "model", "input", "predicted"]


def prediction_lines_bytes(films: list[tuple[str | None, list]]) -> bytes:
    """Return every model's answer for each (film Id or None, predictions) as JSON lines, exactly as
    ``python -m genre_models predict`` writes them (genre_models.batch.prediction_line)."""
    return b"".join(encode_line(prediction_line(film_id, prediction))
                    for film_id, predictions in films for prediction in predictions)


def probability_table(films: list[tuple[str | None, list]]) -> pd.DataFrame:
    """Return the probabilities as a table of films x models (rows) x genres (columns), each row with
    what the model read and its answer (the genres over its thresholds) as a JSON list.

    Wide, not one row per genre: a genre is called "N/A", which pandas and spreadsheets read back
    as a missing value in a cell but keep as it is in a header; the answer is a JSON list for the same
    reason (``["N/A"]`` stays text)."""
    genres = list(dict.fromkeys(genre for _, predictions in films for prediction in predictions
                                for genre in prediction.probabilities))
    rows = [{"film": film_id, "model": prediction.model, "input": prediction.input_kind,
             "predicted": json.dumps(prediction.predicted, ensure_ascii=False), **prediction.probabilities}
            for film_id, predictions in films for prediction in predictions]
    return pd.DataFrame(rows, columns=[*PROBABILITY_COLUMNS, *genres])


def probability_csv_bytes(films: list[tuple[str | None, list]]) -> bytes:
    """Return probability_table as UTF-8 CSV (numbers written in full: they read back exactly)."""
    return probability_table(films).to_csv(index=False).encode("utf-8")


def download_name(film_id: str | None, extension: str) -> str:
    """Return the file name of a download: "genres-<film>.<extension>", the film's Id (or uploaded file's
    name) reduced to safe characters, "genres-input" for a summary alone."""
    stem = str(film_id or "").rsplit(".", 1)[0]  # an uploaded file's own extension goes
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[:60]
    return f"genres-{stem or 'input'}.{extension}"

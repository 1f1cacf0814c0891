"""The one reading of "predicted" that every view of a model's answer shares (the app's pages, the report).

A genre is predicted when its probability reaches its own tuned threshold (its "bar", genre_models.inference),
so a less likely genre can be predicted while a likelier one is not. ``read_genres`` lists the genres most
likely first, down to the last one over its bar (and to at least three), each with its bar: a reader never
sees a less likely genre chosen without the likelier ones, and why they were not, above it.

Plain text, no Markdown: a page escapes the genre names (dataset text) before any Markdown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


def percent(probability: float) -> str:
    """Return a probability as a whole percentage ("<1%" below one half percent)."""
    return "<1%" if probability < 0.005 else f"{probability:.0%}"


@dataclass(frozen=True)
class GenreReading:
    """One genre of a model's answer, read against the model's own tuned threshold for it (its "bar")."""

    # The genre's name (dataset text: escape it before Markdown).
    genre: str
    # The model's probability for it.
    probability: float
    # The model's tuned threshold for it: the genre is predicted when the probability reaches it.
    threshold: float

    @property
    def chosen(self) -> bool:
        """Whether the genre is predicted: its probability reaches its bar (as genre_models.inference)."""
        return self.probability >= self.threshold

    def describe(self) -> str:
        """Return the genre with its bar, as plain text: "Drama 49%, under its 52% bar"."""
        side = "over" if self.chosen else "under"
        probability, bar = percent_apart(self.probability, self.threshold)
        return f"{self.genre} {probability}, {side} its {bar} bar"


def percent_apart(probability: float, bar: float) -> tuple[str, str]:
    """Return a probability and its bar as percentages, with a decimal when whole percentages would read the
    same ("41.6%" under "42.4%", not "42%" under "42%")."""
    if percent(probability) != percent(bar):
        return percent(probability), percent(bar)
    return f"{probability:.1%}", f"{bar:.1%}"


def read_genres(probabilities: Mapping[str, float], thresholds: Mapping[str, float] | Sequence[float],
                least: int = 3) -> list[GenreReading]:
    """Return the one reading of "predicted" every page shows: genres most likely first, down to the last
    genre over its bar and to at least ``least`` genres, each with its bar.

    A genre is predicted when its probability reaches its own tuned threshold, so a less likely genre can
    be predicted while a likelier one is not; listing by probability with each bar beside it means a reader
    never sees the less likely genre chosen without the likelier one and its reason ("under its 52% bar")
    above it. ``thresholds`` is a genre -> threshold mapping or a sequence in ``probabilities``' order."""
    if not isinstance(thresholds, Mapping):
        thresholds = dict(zip(probabilities, np.asarray(thresholds, dtype=np.float64)))
    readings = sorted((GenreReading(genre, float(p), float(thresholds[genre])) for genre, p in probabilities.items()),
                      key=lambda reading: -reading.probability)
    last_chosen = max((number for number, reading in enumerate(readings) if reading.chosen), default=-1)
    return readings[: max(last_chosen + 1, least)]


def read_prediction(prediction, thresholds, least: int = 3) -> list[GenreReading]:
    """Return read_genres for a genre_models.inference.ModelPrediction and its model's thresholds."""
    return read_genres(prediction.probabilities, thresholds, least)


def chosen_genres(readings: list[GenreReading]) -> list[str]:
    """Return the predicted genres of a reading, most likely first."""
    return [reading.genre for reading in readings if reading.chosen]


def describe_readings(readings: list[GenreReading]) -> str:
    """Return a reading as one line of plain text: "Drama 72%, over its 40% bar · Music 7%, over ..."."""
    return " · ".join(reading.describe() for reading in readings)


def sureness(readings: list[GenreReading]) -> str:
    """Return how sure the answer is, in plain words, from its most likely genre and whether any is chosen."""
    if not chosen_genres(readings):
        return "unsure: no genre reaches its bar"
    top = readings[0].probability
    return "fairly sure" if top >= 0.7 else "leaning" if top >= 0.4 else "unsure"

"""Answers a newcomer can read: which model to trust first, in plain words, and when not to trust it.

Pure functions over the package's predictions and metadata (no Streamlit, no TensorFlow), used by
the Predict and Compare pages and tested in tests/test_answers.py:

- ``recommend``: the best fused model when both inputs are given, else the best model for the
  given input, "best" by its recorded validation macro average precision (threshold-free, and
  validation, not test, so the choice does not peek at the honest figures);
- ``plain_answer``: a model's genres in words with percentages; the genres over their tuned
  thresholds lead, ranked by probability, so "most likely" and "predicted" never contradict;
- ``COURSE_MODELS``: the course's reference models, shown beside the "always the most common
  genres" baseline so nobody takes their answer for the app's;
- ``doubts``: reasons to doubt an answer: probabilities that barely move away from each genre's
  base rate (less than on 95% of validation films), an overview far longer than the dataset's or
  with hardly any ordinary English words, a poster with almost no detail (a plain colour or
  gradient);
- ``example_button_label``: what an example's button says (its title, else its overview's first words);
- ``Answered``: what the Predict page last answered, kept in the session so the answers stay on screen
  when another widget changes; ``film_choice_label``: a film in the film picker (Id and first words);
- ``locate_film``: where the film an address asks for (``/Predict?film=tt0086465``) is found, or why
  it is not, in words safe to show;
- ``prediction_lines_bytes`` and ``probability_csv_bytes``: the downloads of the answers, as the CLI's
  ``predict`` lines (the same line function) and as a table of probabilities.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field

import json
import re

import numpy as np
import pandas as pd
from PIL import Image

from genre_models.batch import encode_line, prediction_line
from genre_models.examples import start_of
from genre_models.inputs import BOTH

# The course's own models, reproduced as taught (reference figures, not the app's best answers).
COURSE_MODELS = ("course_cnn", "course_lstm", "late_fusion")
# Words of an untitled example's overview on its button (the thumbnails are narrow).
EXAMPLE_BUTTON_WORDS = 5
# The validation figure a recommendation is chosen by.
RECOMMENDATION_METRIC = "macro_average_precision"
# A film whose probabilities stray from the base rates less than on this share of validation
# films gets a low-confidence notice.
LOW_CONFIDENCE_QUANTILE = 0.05
# The dataset's overviews have 1-68 words (median 26); far longer text is unlike anything seen.
LONGEST_TRAINING_OVERVIEW_WORDS = 68
TOO_LONG_FACTOR = 3
# Ordinary words: 15-40% of a dataset overview's words (0.5th percentile 15%) are among these.
COMMON_WORDS = frozenset(
    "the a an of and to in is his her he she their they with for on at by from who as that it its when but after "
    "into this be are was has have will one two life young man woman new".split())
MIN_COMMON_SHARE = 0.05
MIN_WORDS_FOR_TEXT_CHECK = 8
# Mean difference between neighbouring pixels at 64x64: dataset posters 5.4-43 (0.5th percentile
# 14.3); a plain gradient scores about 4.
MIN_POSTER_DETAIL = 8.0


def validation_figure(metadata: dict) -> float:
    """Return the model's recorded validation macro AP (-inf when it has none, or a NaN that max() would
    otherwise keep whenever it came first)."""
    value = ((metadata.get("metrics") or {}).get("validation") or {}).get(RECOMMENDATION_METRIC)
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else float("-inf")


def recommended_name(names: list[str], metadata_by_name: dict[str, dict]) -> str | None:
    """Return the model to open a page on: the best recorded validation macro AP (None when no name)."""
    return max(names, key=lambda name: validation_figure(metadata_by_name.get(name, {})), default=None)


def recommend(predictions: list, metadata_by_name: dict[str, dict], both_given: bool):
    """Return the prediction to lead with: the best fused model (input BOTH) when both inputs are
    given and one answered, else the best of those that answered; None when none did."""
    candidates = [p for p in predictions if p.input_kind == BOTH] if both_given else []
    candidates = candidates or list(predictions)
    if not candidates:
        return None
    return max(candidates, key=lambda p: validation_figure(metadata_by_name.get(p.model, {})))


def skipped_fusions(models: list, given_kinds: set[str]) -> list[str]:
    """Return the fused models that did not answer because one of their inputs is missing."""
    return [m.name for m in models if m.is_fusion and not m.input_kinds <= given_kinds]


def percent(probability: float) -> str:
    """Return a probability as a whole percentage ("<1%" below one half percent)."""
    return "<1%" if probability < 0.005 else f"{probability:.0%}"


def ranked_answer(prediction) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """Return (genres over their tuned thresholds, the next most likely up to three in all), each
    as (genre, probability), most probable first."""
    ranked = sorted(prediction.probabilities.items(), key=lambda item: -item[1])
    chosen = set(prediction.predicted)
    over = [(genre, p) for genre, p in ranked if genre in chosen]
    others = [(genre, p) for genre, p in ranked if genre not in chosen][: max(0, 3 - len(over))]
    return over, others


def plain_answer(prediction) -> str:
    """Return the answer in words, e.g. "**Drama** (72%) and **Romance** (41%)"."""
    over, others = ranked_answer(prediction)

    def listed(pairs):
        words = [f"**{genre}** ({percent(p)})" for genre, p in pairs]
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

    if over:
        text = listed(over)
        return text + (f"; next most likely {listed(others)}" if others else "")
    return f"no genre reaches its threshold; the most likely are {listed(others)}"


@dataclass(frozen=True)
class Reference:
    """How decisive a model's answers were on validation films (from its stored split scores)."""

    # Each genre's share of validation films (the base rate), in the model's genre order.
    base_rates: np.ndarray
    # The LOW_CONFIDENCE_QUANTILE of the validation films' distance from the base rates.
    low_distance: float


def distance_from_base_rates(probabilities: np.ndarray, base_rates: np.ndarray) -> np.ndarray:
    """Return the mean absolute difference between probabilities and base rates (per film)."""
    return np.abs(np.asarray(probabilities, dtype=np.float64) - base_rates).mean(axis=-1)


def reference_from_scores(labels: np.ndarray, scores: np.ndarray) -> Reference:
    """Return a model's Reference from its validation labels and probabilities."""
    base_rates = np.asarray(labels, dtype=np.float64).mean(axis=0)
    distances = distance_from_base_rates(scores, base_rates)
    return Reference(base_rates, float(np.quantile(distances, LOW_CONFIDENCE_QUANTILE)))


def overview_doubts(overview: str | None) -> list[str]:
    """Return why an overview does not look like the dataset's plot summaries (empty: it does)."""
    if not overview:
        return []
    words = str(overview).split()
    doubts = []
    if len(words) > TOO_LONG_FACTOR * LONGEST_TRAINING_OVERVIEW_WORDS:
        doubts.append(f"the summary has {len(words):,} words; the models learnt from summaries of at most "
                      f"{LONGEST_TRAINING_OVERVIEW_WORDS} words")
    if len(words) >= MIN_WORDS_FOR_TEXT_CHECK:
        share = np.mean([word.lower().strip(".,;:!?()\"'") in COMMON_WORDS for word in words])
        if share < MIN_COMMON_SHARE:
            doubts.append("the summary has hardly any ordinary English words (is it text about a film?)")
    return doubts


def poster_detail(pixels: np.ndarray) -> float:
    """Return the mean difference between neighbouring pixels of the poster shrunk to 64x64."""
    small = np.asarray(Image.fromarray(np.asarray(pixels, dtype=np.uint8)).convert("RGB").resize((64, 64)),
                       dtype=np.float32)
    return float(np.abs(np.diff(small, axis=0)).mean() + np.abs(np.diff(small, axis=1)).mean())


def poster_doubts(pixels: np.ndarray | None) -> list[str]:
    """Return why an image does not look like a poster (empty: it does, by this simple measure)."""
    if pixels is None:
        return []
    if poster_detail(pixels) < MIN_POSTER_DETAIL:
        return ["the image has almost no detail (a plain colour or a gradient?), unlike the posters the models "
                "learnt from"]
    return []


def answer_doubts(prediction, reference: Reference | None) -> list[str]:
    """Return why a model's answer is weak: probabilities hardly away from the genres' base rates."""
    if reference is None:
        return []
    probabilities = np.array(list(prediction.probabilities.values()))
    if len(probabilities) != len(reference.base_rates):
        return []
    if distance_from_base_rates(probabilities, reference.base_rates) < reference.low_distance:
        return [f"{prediction.model}'s probabilities stay close to how common each genre is, less decisive "
                f"than on {1 - LOW_CONFIDENCE_QUANTILE:.0%} of the validation films"]
    return []


def doubts(prediction, reference: Reference | None, poster: np.ndarray | None, overview: str | None) -> list[str]:
    """Return every reason to doubt an answer (input unlike the training data, or an indecisive answer)."""
    reads_poster = prediction.input_kind in ("poster", BOTH)
    reads_overview = prediction.input_kind in ("overview", BOTH)
    return [*(poster_doubts(poster) if reads_poster else []), *(overview_doubts(overview) if reads_overview else []),
            *answer_doubts(prediction, reference)]


def hit_badges(genres: list[str], truth: set[str] | None) -> str:
    """Return genres as Markdown, each marked by text, colour and shape: a bold green "hit" badge for a
    true genre, a grey "wrong" badge otherwise, then an orange "missed" badge for each true genre the
    answer left out (no emoji: they render as empty boxes without an emoji font)."""
    if truth is None:
        return ", ".join(genres)
    given = " ".join(f":green-badge[**hit** · {genre}]" if genre in truth else f":gray-badge[wrong · {genre}]"
                     for genre in genres)
    missed = " ".join(f":orange-badge[missed · {genre}]" for genre in sorted(truth) if genre not in genres)
    return " ".join(part for part in (given, missed) if part)


def baseline_comparison(metadata: dict, baseline: dict | None) -> str:
    """Return a course model's test figures beside the "always the most common genres" baseline's."""
    test = (metadata.get("metrics") or {}).get("test") or {}
    if not baseline or "micro_f1" not in test:
        return ""
    figures = (baseline.get("metrics") or {}).get("test") or {}
    always = " + ".join(baseline.get("predicts_always") or []) or "the most common genres"
    return (f"test micro-F1 {test['micro_f1']:.2f} and macro-F1 {test['macro_f1']:.2f}; answering always "
            f"{always} scores {figures.get('micro_f1', float('nan')):.2f} and {figures.get('macro_f1', float('nan')):.2f}")


def example_button_label(example) -> str:
    """Return what an example's button says: its title, else the first words of its overview (a film is
    recognised by its story; its Id is under the thumbnail)."""
    return example.title or start_of(example.overview, EXAMPLE_BUTTON_WORDS)


def film_choice_label(film_id: str, overview: str, split: str = "test") -> str:
    """Return how the film picker lists a film: its Id and the first words of its overview (and its split,
    when it is not the test split the picker offers)."""
    return f"{film_id} · {start_of(overview)}" + ("" if split == "test" else f" ({split} split)")


# Where a film asked for by the address is found.
FROM_DATASET, FROM_EXAMPLES = "dataset", "example"
# Longest part of an address quoted back in a warning (an address can hold anything).
MAX_QUOTED_ADDRESS = 80


@dataclass(frozen=True)
class FilmRequest:
    """Where the film an address asks for is found (FROM_DATASET, FROM_EXAMPLES or None) and, when not
    found, why not (a sentence to show)."""

    kind: str | None
    problem: str | None = None


def quote_address_value(value: str) -> str:
    """Return part of an address as a Markdown code span: cut short, without backticks or control
    characters, so whatever a link holds shows as text."""
    cleaned = "".join(character for character in str(value) if character.isprintable()).replace("`", "'")
    shown = cleaned[:MAX_QUOTED_ADDRESS] + ("…" if len(cleaned) > MAX_QUOTED_ADDRESS else "")
    return f"`{shown}`" if shown.strip() else "(an empty Id)"


def locate_film(film_id: str, in_dataset: bool, example_ids, has_dataset: bool) -> FilmRequest:
    """Return where the film an address asks for is found: the configured dataset first (any split), else
    the shipped examples; or why it cannot be opened."""
    if in_dataset:
        return FilmRequest(FROM_DATASET)
    if film_id in set(example_ids):
        return FilmRequest(FROM_EXAMPLES)
    where = ("in the dataset or among the examples" if has_dataset
             else "among the examples (no dataset is configured, so only they can be opened by address)")
    return FilmRequest(None, f"The address asks for the film {quote_address_value(film_id)}, which is not {where}. "
                             "The page starts with empty inputs instead.")


@dataclass
class Answered:
    """The inputs the Predict page last answered and every model's answers, kept in the session so they
    stay on screen (and explainable) when another widget changes, until the next prediction."""

    # Digest of the inputs as they were (genre_app.widgets.input_fingerprint), to tell when they change.
    fingerprint: str
    # How the page names what was answered ("tt0086465 · A snobbish investor...", "your poster").
    label: str
    # The poster as the models saw it (RGB pixels), None when none was given or it could not be decoded.
    poster: np.ndarray | None
    # The summary as given, None when none was.
    overview: str | None
    # Every model's answers (genre_models.inference.PredictionResult).
    result: object
    # The film's Id (a dataset film or an example), the uploaded file's name, or None: the "id" of the
    # downloaded prediction lines.
    film_id: str | None = None
    # The film's true genres, when known (a dataset film or an unedited example).
    truth: list[str] | None = None
    # A film (dataset or example) whose poster could not be decoded: only the text models answered.
    poster_unusable: bool = False
    # The inputs the models could read: {"poster", "overview"} or one of them.
    given: set[str] = field(default_factory=set)
    # Whether the poster was uploaded (shown with the answers; a film's poster is shown with the film).
    uploaded: bool = False
    # The genre_models.inference.GenrePredictor that answered (its models' genres, thresholds and metadata).
    predictor: object = None
    # The models still loading when it answered that would answer these inputs too (the page adds their answers
    # when they are in); empty when every model had loaded.
    still_loading: list[str] = field(default_factory=list)


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

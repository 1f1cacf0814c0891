"""Answers a newcomer can read: which model to trust first, one reading of "predicted", in plain words, and
when not to trust an answer.

Pure functions over the package's predictions and metadata (no TensorFlow), used by the Predict page and meant
for every page that shows a model's answer (Compare, Dataset browser, the report); tested in
tests/test_answers.py:

- ``recommend``: the best fused model when both inputs are given, else the best model for the given input,
  "best" by its recorded validation macro average precision (threshold-free, and validation, not test, so the
  choice does not peek at the honest figures);
- ``plain_answer``: a model's answer as Markdown in the one reading of "predicted"
  (genre_models.readings.read_prediction: each genre with its own bar, most likely first);
- ``COURSE_MODELS``: the course's reference models, shown beside the "always the most common genres"
  baseline so nobody takes their answer for the app's;
- ``answer_doubts``: probabilities that barely move away from each genre's base rate (less than on 95% of
  validation films); the inputs' own doubts are genre_models.input_checks';
- ``hit_badges``: genres marked against the true genres (escaped: genre names are dataset text);
- ``example_button_label``: an example's button (its genres and the start of its summary);
  ``film_choice_label``: a film in the film picker (Id and first words).
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import numpy as np

from genre_app.text import escape_markdown
from genre_models.examples import start_of
from genre_models.inputs import BOTH
from genre_models.readings import percent, read_prediction

# The course's own models, reproduced as taught (reference figures, not the app's best answers).
COURSE_MODELS = ("course_cnn", "course_lstm", "late_fusion")
# Words of an example's overview on its button, after its genres, in lines of at most EXAMPLE_BUTTON_LINE
# characters (the width of a button in a row of three).
EXAMPLE_BUTTON_WORDS, EXAMPLE_BUTTON_LINE = 8, 26
# The validation figure a recommendation is chosen by.
RECOMMENDATION_METRIC = "macro_average_precision"
# A film whose probabilities stray from the base rates less than on this share of validation
# films gets a low-confidence notice.
LOW_CONFIDENCE_QUANTILE = 0.05


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


def plain_answer(prediction, thresholds) -> str:
    """Return the answer as Markdown, genres escaped: the predicted genres in bold, each genre with its bar,
    most likely first (read_genres), e.g. "**Drama** 72% (over its 40% bar), Romance 49% (under its 52% bar)
    and **Music** 9% (over its 5% bar)"."""
    words = [(f"**{escape_markdown(r.genre)}**" if r.chosen else escape_markdown(r.genre))
             + f" {percent(r.probability)} ({'over' if r.chosen else 'under'} its {percent(r.threshold)} bar)"
             for r in read_prediction(prediction, thresholds)]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


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


def hit_badges(genres: list[str], truth: set[str] | None) -> str:
    """Return genres as Markdown, each marked by text, colour and shape: a bold green "hit" badge for a
    true genre, a grey "wrong" badge otherwise, then an orange "missed" badge for each true genre the
    answer left out (no emoji: they render as empty boxes without an emoji font)."""
    if truth is None:
        return ", ".join(escape_markdown(genre) for genre in genres)
    given = " ".join(f":green-badge[**hit** · {escape_markdown(genre)}]" if genre in truth
                     else f":gray-badge[wrong · {escape_markdown(genre)}]" for genre in genres)
    missed = " ".join(f":orange-badge[missed · {escape_markdown(genre)}]" for genre in sorted(truth)
                      if genre not in genres)
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
    """Return what an example's button says, as plain text in short lines (a button cuts a long line short): its
    title when it has one, its genres, then the start of its summary (a film is recognised by its kind and its
    story; its Id is under the thumbnail)."""
    story = textwrap.wrap(start_of(example.overview, EXAMPLE_BUTTON_WORDS), EXAMPLE_BUTTON_LINE)
    return "\n".join([*([example.title] if example.title else []), ", ".join(example.genres), *story])


def film_choice_label(film_id: str, overview: str, split: str = "test") -> str:
    """Return how the film picker lists a film: its Id and the first words of its overview (and its split,
    when it is not the test split the picker offers)."""
    return f"{film_id} · {start_of(overview)}" + ("" if split == "test" else f" ({split} split)")

"""genre_models/readings.py: the one reading of "predicted": genres most likely first down to the last one over
its own bar, each with its bar, in plain words."""

from __future__ import annotations

from genre_models import readings
from genre_models.inference import ModelPrediction

PROBABILITIES = {"Drama": 0.72, "Romance": 0.41, "Comedy": 0.30, "Horror": 0.02}
THRESHOLDS = {"Drama": 0.52, "Romance": 0.30, "Comedy": 0.35, "Horror": 0.01}


def prediction(model: str, kind: str, probabilities: dict[str, float], predicted: list[str]) -> ModelPrediction:
    top = sorted(probabilities, key=lambda g: -probabilities[g])[:3]
    return ModelPrediction(model, kind, probabilities, top, predicted)


def test_one_reading_lists_genres_by_probability_each_with_its_own_bar():
    read = readings.read_genres(PROBABILITIES, THRESHOLDS)
    # Horror (2%) is over its 1% bar: the reading goes down to it, so Comedy (30%, under its 35% bar) is
    # seen above it with its reason, never a less likely genre chosen over a likelier one without a word.
    assert [r.genre for r in read] == ["Drama", "Romance", "Comedy", "Horror"]
    assert [r.chosen for r in read] == [True, True, False, True]
    assert read[2].describe() == "Comedy 30%, under its 35% bar"
    assert read[3].describe() == "Horror 2%, over its 1% bar"
    assert readings.chosen_genres(read) == ["Drama", "Romance", "Horror"]
    # The reported case: Drama 49% under its 52% bar, Music 7% over its 5% bar.
    said = readings.describe_readings(readings.read_genres({"Drama": 0.49, "Music": 0.07, "War": 0.01},
                                                         {"Drama": 0.52, "Music": 0.05, "War": 0.5}))
    assert said == "Drama 49%, under its 52% bar · Music 7%, over its 5% bar · War 1%, under its 50% bar"


def test_a_reading_shows_at_least_three_genres_and_takes_thresholds_in_genre_order():
    nothing = readings.read_genres(PROBABILITIES, [0.9, 0.9, 0.9, 0.9])
    assert [r.genre for r in nothing] == ["Drama", "Romance", "Comedy"] and not readings.chosen_genres(nothing)
    assert readings.sureness(nothing) == "unsure: no genre reaches its bar"
    assert readings.sureness(readings.read_genres(PROBABILITIES, THRESHOLDS)) == "fairly sure"
    # A prediction is read with its model's thresholds, in the model's genre order.
    read = readings.read_prediction(prediction("m", "overview", PROBABILITIES, ["Drama"]), [0.5, 0.5, 0.5, 0.5])
    assert [r.genre for r in read if r.chosen] == ["Drama"] and len(read) == 3

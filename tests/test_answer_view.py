"""genre_app/answer_view.py's words: the answer's first line (never a confident genre when the input is
doubted) and the reading as a list, each genre with its bar (the page itself: tests/test_page_predict.py)."""

from __future__ import annotations

import numpy as np

from genre_app import answer_view
from genre_models.inference import ModelPrediction
from genre_models.readings import read_genres

PROBABILITIES = {"Drama": 0.49, "Music": 0.07, "War": 0.75}
THRESHOLDS = {"Drama": 0.52, "Music": 0.05, "War": 0.5}


def test_the_headline_names_the_predicted_genres_and_how_sure():
    readings = read_genres(PROBABILITIES, THRESHOLDS)
    assert answer_view.headline(readings, doubted=False) == "**War and Music**: fairly sure."
    nothing = read_genres(PROBABILITIES, {"Drama": 0.9, "Music": 0.9, "War": 0.9})
    assert answer_view.headline(nothing, doubted=False) == ("**No genre reaches its bar** (unsure); the likeliest "
                                                            "is War (75%), under its 90% bar.")


def test_a_doubted_input_never_gets_a_confident_headline():
    said = answer_view.headline(read_genres(PROBABILITIES, THRESHOLDS), doubted=True)
    assert said.startswith("**No confident answer**") and "sure" not in said and "War (75%)" in said


def test_the_reading_lists_each_genre_with_its_bar_the_passed_over_one_with_its_reason():
    lines = answer_view.reading_lines(read_genres(PROBABILITIES, THRESHOLDS)).splitlines()
    assert lines == ["- **War** 75%: over its 50% bar (predicted)", "- Drama 49%: under its 52% bar",
                     "- **Music** 7%: over its 5% bar (predicted)"]


def test_input_doubts_concern_only_what_the_model_reads():
    noise = np.random.default_rng(0).integers(0, 256, (450, 300, 3), dtype=np.uint8)
    text_model = ModelPrediction("m", "overview", PROBABILITIES, ["War"], ["War"])
    poster_model = ModelPrediction("m", "poster", PROBABILITIES, ["War"], ["War"])
    assert answer_view.input_doubts(text_model, noise, "A plot about a war.") == []
    assert "random noise" in answer_view.input_doubts(poster_model, noise, None)[0]

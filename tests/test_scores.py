"""genre_app/scores.py: the progress of a scoring that must run."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from genre_app import scores

TIMEOUT = 30


def test_progress_text_says_films_done_of_total_and_the_time_left():
    assert scores.progress_text("minilm_tuned", 0, 5325, 0.0) == \
        "Scoring with minilm_tuned: 0 / 5,325 films, estimating the time left"
    # 512 films in 20 s: 4,813 left at the same pace is about 188 s.
    assert scores.progress_text("minilm_tuned", 512, 5325, 20.0) == \
        "Scoring with minilm_tuned: 512 / 5,325 films, about 3 min 08 s left"
    assert scores.progress_text("course_cnn", 499, 499, 1.2) == "course_cnn: 499 / 499 films scored in 1 s"


def scoring_progress_app():
    from genre_app import scores

    progress = scores.ScoringProgress()
    progress("course_cnn", 0, 499)
    progress("course_cnn", 256, 499)
    progress("course_lstm", 0, 499)


def test_scoring_progress_draws_one_bar_per_model():
    app = AppTest.from_function(scoring_progress_app, default_timeout=TIMEOUT)
    app.run()
    assert not app.exception
    bars = app.get("progress")
    assert len(bars) == 2
    assert "course_cnn: 256 / 499 films" in bars[0].proto.text and "course_lstm: 0 / 499" in bars[1].proto.text


def test_durations_read_as_people_say_them():
    assert [scores.format_duration(seconds) for seconds in (-3, 0, 59.4, 60, 130, 3725)] == \
        ["0 s", "0 s", "59 s", "1 min 00 s", "2 min 10 s", "62 min 05 s"]

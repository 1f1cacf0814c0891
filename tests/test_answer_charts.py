"""The Predict page's charts (genre_app.answer_charts): every genre against its own bar with its figures clear
of the marks, one comparison of every model, and their descriptions in words."""

from __future__ import annotations

import numpy as np
from test_charts import DARK_BACKGROUND, LIGHT_BACKGROUND, colours_in, contrast

from genre_app import answer_charts
from genre_app.charts import NEUTRAL_COLOUR
from genre_models.inference import ModelPrediction

THRESHOLDS = np.array([0.5, 0.3, 0.4, 0.4])


def sample_prediction(model: str = "m", probabilities=None):
    probabilities = probabilities or {"Drama": 0.62, "Horror": 0.05, "Comedy": 0.3, "Action": 0.45}
    ranked = sorted(probabilities, key=lambda genre: -probabilities[genre])
    chosen = [genre for genre, t in zip(probabilities, THRESHOLDS) if probabilities[genre] >= t]
    return ModelPrediction(model=model, input_kind="overview", probabilities=probabilities, top=ranked[:3],
                           predicted=chosen)


def test_probability_bars_say_each_genres_figure_and_bar_in_a_column_clear_of_the_marks():
    figure = answer_charts.plot_probabilities(sample_prediction(), THRESHOLDS)
    over, under, marks, figures = figure.data
    assert list(over.y) == ["Action", "Drama"] and list(under.y) == ["Horror", "Comedy"]
    assert "over its bar" in over.hovertemplate and "under its bar" in under.hovertemplate
    assert "predicted" in over.name and "predicted" not in under.name
    # The figures sit right of 100%, where no bar or threshold mark can reach them.
    assert min(figures.x) > 1 and max(marks.x) <= 1
    assert list(figures.text) == ["5% · bar 30%", "30% · bar 40%", "45% · bar 40% · predicted",
                                  "62% · bar 50% · predicted"]
    assert list(marks.x) == [0.3, 0.4, 0.4, 0.5]  # every genre's bar, in the bars' order
    for background in (LIGHT_BACKGROUND, DARK_BACKGROUND):
        assert contrast(marks.marker.color, background) >= 3 and contrast(NEUTRAL_COLOUR, background) >= 3
    assert figure.layout.xaxis.tickformat == ".0%"


def test_probability_caption_lists_the_predicted_genres_with_their_bars():
    text = answer_charts.describe_probabilities(sample_prediction(), THRESHOLDS)
    assert "Over the bar (predicted): Drama 62%, over its 50% bar, Action 45%, over its 40% bar." in text
    assert "Most likely of the others: Comedy 30%, Horror 5%." in text


def test_one_comparison_of_every_model_marks_each_models_own_predictions():
    first = sample_prediction("first")
    second = sample_prediction("second", {"Drama": 0.2, "Horror": 0.9, "Comedy": 0.35, "Action": 0.1})
    thresholds = {"first": THRESHOLDS, "second": THRESHOLDS}
    figure = answer_charts.plot_model_comparison([first, second], thresholds)
    grid = figure.data[0]
    assert list(grid.y) == ["first", "second"]
    genres = list(grid.x)
    assert set(genres) == {"Drama", "Horror", "Comedy", "Action"}
    row = dict(zip(genres, grid.text[1]))
    assert row["Horror"] == "<b>90% \u2713</b>" and row["Drama"] == "20%"  # second's own bars
    assert dict(zip(genres, grid.z[0]))["Drama"] == 0.62
    said = answer_charts.describe_model_comparison([first, second], thresholds)
    assert "first: Drama 62%, Action 45%" in said and "second: Horror 90%" in said
    content = figure.to_plotly_json()
    content["layout"].pop("template", None)
    assert not set(colours_in(content)) & {"black", "#000", "#000000", "white", "#fff", "#ffffff"}


def test_the_comparison_keeps_at_most_ten_genres():
    probabilities = {f"genre {number}": number / 30 for number in range(25)}
    many = [sample_prediction(f"m{number}", dict(probabilities)) for number in range(3)]
    figure = answer_charts.plot_model_comparison(many, {p.model: np.full(25, 0.95) for p in many})
    assert len(figure.data[0].x) <= answer_charts.MAX_COMPARED_GENRES

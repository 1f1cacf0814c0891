"""The Evaluate page (AppTest): confusion matrices and live thresholds, the shipped scores read rather than
scored, the progress of a scoring that must run, the pages' message when the dataset is missing; stable
slider keys, links that open the same view, and the downloads of the view on screen."""

from __future__ import annotations

import csv
import io
import json

import pytest
from app_testing import (
    INPUT_WIDGETS,
    check_the_page_asks_for_the_dataset,
    open_page,
    per_genre_table,
    run_page,
    shown_metrics,
    texts,
    warnings,
)

from genre_app.text import escape_markdown
from genre_models.config import PROJECT_ROOT

EVALUATE = "pages/4_Evaluate.py"


def apply_threshold(app, key: str, value: float) -> None:
    """Move a threshold slider and press its form's button (a move alone applies nothing)."""
    app.slider(key=key).set_value(value)
    next(button for button in app.button if button.label == "Apply this threshold").click().run()


def test_evaluate_confusion_matrices_and_live_threshold(app_env):
    app = run_page("pages/4_Evaluate.py")
    assert "Per-genre confusion matrices" in texts(app)
    assert len(app.get("plotly_chart")) == 4
    before = {m.label: m.value for m in app.metric}
    app.radio[0].set_value("one global threshold").run()
    apply_threshold(app, app.slider[0].key, 0.05)
    assert not app.exception
    after = {m.label: m.value for m in app.metric}
    assert before["micro-F1"] != after["micro-F1"]
    assert before["micro AP"] == after["micro AP"]  # ranking metrics do not depend on thresholds


def test_evaluate_reads_the_shipped_scores_of_the_validation_and_test_splits(no_scoring):
    app = run_page(EVALUATE)
    assert not app.get("progress")
    assert "544 films in the validation split" in texts(app)
    app.selectbox(key="split").set_value("test").run()
    assert not app.exception and "499 films in the test split" in texts(app)


def test_scoring_that_must_run_reports_films_done_per_model(app_env, monkeypatch):
    from genre_app import scores

    calls = []
    original = scores.ScoringProgress.__call__
    monkeypatch.setattr(scores.ScoringProgress, "__call__",
                        lambda self, name, done, total: (calls.append((name, done, total)),
                                                         original(self, name, done, total)))
    scores.get_split_scores.clear()  # the small dataset is not the one the shipped scores were made on
    run_page("pages/4_Evaluate.py")
    by_model = {}
    for name, done, total in calls:
        by_model.setdefault(name, []).append((done, total))
    assert by_model  # Evaluate's model and the model it is compared with
    for name, steps in by_model.items():
        assert steps[0][0] == 0 and steps[-1][0] == steps[-1][1] > 0, (name, steps)


def test_evaluate_without_the_dataset_says_how_to_provide_it(tmp_path, monkeypatch):
    check_the_page_asks_for_the_dataset(EVALUATE, "Evaluating needs the dataset", tmp_path, monkeypatch)


def test_every_input_widget_has_a_key(full_env):
    app = open_page(EVALUATE, thresholds="adjust one genre")
    widgets = [widget for kind in INPUT_WIDGETS for widget in app.get(kind)]
    assert len(widgets) >= 5
    assert [widget.label for widget in widgets if not widget.key] == []


def test_the_genre_threshold_slider_keeps_its_identity_and_value_over_two_moves(full_env):
    app = open_page(EVALUATE, model="poster_cnn", thresholds="adjust one genre", genre="Horror")
    slider = app.slider(key="evaluate-threshold-poster_cnn-Horror")
    identity, tuned = slider.id, slider.value
    for value in (0.3, 0.6):
        apply_threshold(app, "evaluate-threshold-poster_cnn-Horror", value)
        assert not app.exception, [error.value for error in app.exception]
        moved = app.slider(key="evaluate-threshold-poster_cnn-Horror")
        assert (moved.id, moved.value) == (identity, value)
        table = per_genre_table(app).set_index("genre")
        assert table.loc["Horror", "threshold"] == value
    # Another widget's rerun leaves it where it was.
    app.multiselect(key="evaluate-curves-poster_cnn").set_value(["Horror"]).run()
    assert app.slider(key="evaluate-threshold-poster_cnn-Horror").value == 0.6
    # Away to another genre and back: the moved threshold is still there; the other genre kept its own.
    app.selectbox(key="genre").set_value("Drama").run()
    assert app.slider(key="evaluate-threshold-poster_cnn-Drama").value != 0.6
    app.selectbox(key="genre").set_value("Horror").run()
    assert app.slider(key="evaluate-threshold-poster_cnn-Horror").value == 0.6
    # Reset puts the tuned threshold back.
    app.button(key="evaluate-reset-thresholds").click().run()
    assert not app.exception, [error.value for error in app.exception]
    assert app.slider(key="evaluate-threshold-poster_cnn-Horror").value == tuned


def test_the_global_threshold_slider_sticks_and_moves_the_figures(full_env):
    app = open_page(EVALUATE, model="tfidf_logreg", thresholds="one global threshold")
    key = "evaluate-global-threshold-tfidf_logreg"
    identity = app.slider(key=key).id
    figures = []
    for value in (0.2, 0.7):
        apply_threshold(app, key, value)
        assert (app.slider(key=key).id, app.slider(key=key).value) == (identity, value)
        figures.append(shown_metrics(app))
    assert figures[0]["micro-F1"] != figures[1]["micro-F1"]
    assert figures[0]["micro AP"] == figures[1]["micro AP"]  # a ranking figure: thresholds do not move it


def test_an_evaluate_link_opens_its_model_split_and_genre(full_env):
    app = open_page(EVALUATE, model="poster_cnn", split="validation", genre="Horror")
    assert not warnings(app)
    assert (app.selectbox(key="model").value, app.selectbox(key="split").value) == ("poster_cnn", "validation")
    assert app.radio(key="thresholds").value == "adjust one genre" and app.selectbox(key="genre").value == "Horror"
    assert [slider.label for slider in app.slider] == ["Threshold for Horror"]
    assert "544 films in the validation split" in [caption.value for caption in app.caption][0]
    assert app.multiselect(key="evaluate-curves-poster_cnn").value[0] == "Horror"  # its curve first
    # The widgets keep those values: the address stays the link.
    assert (app.query_params["model"], app.query_params["genre"]) == ("poster_cnn", "Horror")


def test_an_evaluate_link_with_unknown_values_warns_and_shows_the_defaults(full_env):
    app = open_page(EVALUATE, model="no_such_model", split="holdout", thresholds="whatever", genre="Cowboys")
    shown = warnings(app)
    assert any("`no_such_model`" in text and "course_cnn" in text for text in shown)
    assert any("`holdout`" in text for text in shown) and any("`whatever`" in text for text in shown)
    # The page's default model: the best by validation macro AP, as Predict recommends.
    assert (app.selectbox(key="model").value, app.selectbox(key="split").value) == ("multimodal_fusion", "validation")
    # The genre named in the link still opens the genre view, at the first genre, with its own warning.
    assert app.radio(key="thresholds").value == "adjust one genre"
    assert any("`Cowboys`" in text for text in shown) and app.selectbox(key="genre").value == "Action"


def test_evaluate_offers_the_report_and_table_of_the_view_on_screen(full_env, offered_files):
    app = open_page(EVALUATE, model="poster_cnn", split="validation", thresholds="one global threshold")
    apply_threshold(app, "evaluate-global-threshold-poster_cnn", 0.25)
    document = json.loads(offered_files(app, "Download the report (JSON)"))
    assert (document["model"], document["split"], document["threshold_mode"]) == \
        ("poster_cnn", "validation", "one global threshold")
    assert document["same_data_as_training"] is True
    shown = shown_metrics(app)
    for label, key in (("micro-F1", "micro_f1"), ("macro-F1", "macro_f1"), ("samples-F1", "samples_f1"),
                       ("micro AP", "micro_average_precision"), ("macro AP", "macro_average_precision"),
                       ("precision@3", "precision_at_3"), ("recall@3", "recall_at_3")):
        assert f"{document[key]:.3f}" == shown[label]
    assert {values["threshold"] for values in document["per_genre"].values()} == {0.25}
    table = per_genre_table(app)
    rows = list(csv.DictReader(io.StringIO(offered_files(app, "Download the per-genre table (CSV)").decode())))
    assert [row["genre"] for row in rows] == list(table["genre"]) == list(document["per_genre"])
    for row, (_, shown_row) in zip(rows, table.iterrows()):
        assert float(row["f1"]) == shown_row["f1"] == document["per_genre"][row["genre"]]["f1"]
        assert int(row["true_positives"]) == shown_row["true_positives"]
        assert float(row["threshold"]) == 0.25


def test_progress_bars_of_a_scoring_do_not_come_back_on_the_next_view(small_real_dataset, monkeypatch):
    # The small dataset is not the one the shipped scores were made on: both models score its test films.
    from genre_app import scores

    monkeypatch.setenv("GENRE_DATA_DIR", str(small_real_dataset))
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(PROJECT_ROOT / "artifacts"))
    scores.get_split_scores.clear()
    drawn = []
    original = scores.score_split_of
    monkeypatch.setattr(scores.get_split_scores, "compute",
                        lambda *key, progress=None: drawn.append(key[0]) or original(*key, progress=progress))
    first = open_page(EVALUATE, model="tfidf_logreg")
    assert drawn == ["tfidf_logreg", "course_cnn"]  # the model and the one it is compared with
    again = open_page(EVALUATE, model="tfidf_logreg")
    assert drawn == ["tfidf_logreg", "course_cnn"]  # read from the cache this time
    # Nothing of the first view's scoring is drawn again (st.cache_resource replayed its finished bars).
    assert [bar.proto.text for bar in again.get("progress")] == []
    assert [metric.value for metric in again.metric] == [metric.value for metric in first.metric]


def test_matrices_leave_out_the_genres_with_no_film_and_say_which(app_env):
    app = run_page(EVALUATE)
    report_genres = per_genre_table(app)
    empty = list(report_genres[report_genres["support"] == 0]["genre"])
    assert empty  # the small dataset's validation split lacks several genres
    grid = app.get("plotly_chart")[0]
    annotations = [note["text"] for note in json.loads(grid.proto.spec)["layout"]["annotations"]]
    assert sorted(annotations) == sorted(set(report_genres["genre"]) - set(empty))
    left_out = next(caption.value for caption in app.caption if str(caption.value).startswith("Left out"))
    assert all(escape_markdown(genre) in left_out for genre in empty)


def test_the_page_opens_on_the_validation_split_for_tuning(app_env):
    app = run_page(EVALUATE)
    assert app.selectbox(key="split").value == "validation"


@pytest.mark.parametrize("mode", ["one global threshold", "adjust one genre"])
def test_a_threshold_slider_applies_with_its_form_button_not_at_each_step(app_env, mode):
    app = open_page(EVALUATE, thresholds=mode)
    slider = next(slider for slider in app.slider if slider.label.startswith("Threshold for"))
    # In a form: the browser sends its value when the form's button is pressed, not at each arrow-key step.
    assert slider.proto.form_id
    assert any(button.proto.form_id == slider.proto.form_id for button in app.get("button")
               if button.label == "Apply this threshold")

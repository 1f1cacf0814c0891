"""Compare and Evaluate pages (AppTest, the full dataset and the shipped artifacts, whose stored test and
validation scores open both pages in a fraction of a second):

- stable widget keys (issue 15): Evaluate's threshold sliders keep their identity and value as they move;
- links you can share (issue 14): the view lives in the URL; an unknown value is a warning and the default;
- downloads (issue 14): what the buttons offer reads back into the figures the page shows.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from genre_app.answers import hit_badges
from genre_models.artifacts import read_artifact_metadata
from genre_models.config import PROJECT_ROOT

TIMEOUT = 300
COMPARE, EVALUATE = "pages/3_Compare.py", "pages/4_Evaluate.py"
SHIPPED = sorted(metadata["name"] for metadata in read_artifact_metadata(PROJECT_ROOT / "artifacts")[0])
# Widgets a user sets; buttons included (their key is what a rerun finds them by).
INPUT_WIDGETS = ("selectbox", "multiselect", "slider", "radio", "number_input", "toggle", "checkbox", "button",
                 "text_input")


@pytest.fixture
def full_env(real_data_dir, monkeypatch):
    monkeypatch.setenv("GENRE_DATA_DIR", str(real_data_dir))
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(PROJECT_ROOT / "artifacts"))
    return real_data_dir


@pytest.fixture
def offered_files(monkeypatch):
    """Read the bytes a download button offers: AppTest keeps them in an in-memory media store of its own,
    kept here (a subclass that remembers each store it makes) so a test can fetch a button's file."""
    from streamlit.testing.v1 import app_test

    stores = []

    class KeptMediaFileStorage(MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            stores.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", KeptMediaFileStorage)

    def read(app: AppTest, label: str) -> bytes:
        button = next(button for button in app.get("download_button") if button.proto.label == label)
        return stores[-1].get_file(button.proto.url.rsplit("/", 1)[-1]).content

    return read


def open_page(path: str, **query) -> AppTest:
    app = AppTest.from_file(str(PROJECT_ROOT / path), default_timeout=TIMEOUT)
    for name, value in query.items():
        app.query_params[name] = value
    app.run()
    assert not app.exception, [error.value for error in app.exception]
    return app


def warnings(app: AppTest) -> list[str]:
    return [warning.value for warning in app.warning]


def shown_metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def per_genre_table(app: AppTest):
    """Evaluate's per-genre table (its only dataframe; AppTest does not expose a dataframe's key)."""
    assert len(app.dataframe) == 1
    return app.dataframe[0].value


def sampled_film_ids(app: AppTest) -> list[str]:
    return [toggle.key.removeprefix("compare-explain-") for toggle in app.toggle
            if toggle.key.startswith("compare-explain-")]


# --- Stable widget keys -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [COMPARE, EVALUATE])
def test_every_input_widget_has_a_key(full_env, path):
    app = open_page(path, **({"thresholds": "adjust one genre"} if path == EVALUATE else {}))
    widgets = [widget for kind in INPUT_WIDGETS for widget in app.get(kind)]
    assert len(widgets) >= 5
    assert [widget.label for widget in widgets if not widget.key] == []


def test_the_genre_threshold_slider_keeps_its_identity_and_value_over_two_moves(full_env):
    app = open_page(EVALUATE, model="poster_cnn", thresholds="adjust one genre", genre="Horror")
    slider = app.slider(key="evaluate-threshold-poster_cnn-Horror")
    identity, tuned = slider.id, slider.value
    for value in (0.3, 0.6):
        app.slider(key="evaluate-threshold-poster_cnn-Horror").set_value(value).run()
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
        app.slider(key=key).set_value(value).run()
        assert (app.slider(key=key).id, app.slider(key=key).value) == (identity, value)
        figures.append(shown_metrics(app))
    assert figures[0]["micro-F1"] != figures[1]["micro-F1"]
    assert figures[0]["micro AP"] == figures[1]["micro AP"]  # a ranking figure: thresholds do not move it


# --- Links you can share ------------------------------------------------------------------------------------------

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
    assert (app.selectbox(key="model").value, app.selectbox(key="split").value) == ("multimodal_fusion", "test")
    # The genre named in the link still opens the genre view, at the first genre, with its own warning.
    assert app.radio(key="thresholds").value == "adjust one genre"
    assert any("`Cowboys`" in text for text in shown) and app.selectbox(key="genre").value == "Action"


def test_a_compare_link_opens_its_models_and_sample(full_env):
    app = open_page(COMPARE, models=["course_cnn", "minilm_tuned"], films="5", seed="3")
    assert not warnings(app)
    assert app.multiselect(key="models").value == ["course_cnn", "minilm_tuned"]
    assert list(app.dataframe[0].value["model"])[:2] == ["course_cnn", "minilm_tuned"]
    sample = sampled_film_ids(app)
    assert len(sample) == 5
    # The same link opens the same films; another seed others.
    assert sampled_film_ids(open_page(COMPARE, models=["course_cnn", "minilm_tuned"], films="5", seed="3")) == sample
    assert sampled_film_ids(open_page(COMPARE, films="5", seed="4")) != sample


def test_a_compare_link_can_open_the_two_model_focus(full_env):
    app = open_page(COMPARE, **{"compare-focus": "true", "model_a": "poster_cnn", "model_b": "tfidf_logreg"})
    assert app.toggle(key="compare-focus").value is True
    assert (app.selectbox(key="model_a").value, app.selectbox(key="model_b").value) == ("poster_cnn", "tfidf_logreg")
    assert list(app.dataframe[0].value["model"])[:2] == ["poster_cnn", "tfidf_logreg"]
    assert any("Head to head" in str(markdown.value) for markdown in app.markdown)


def test_a_compare_link_with_unknown_values_warns_and_keeps_what_it_can(full_env):
    app = open_page(COMPARE, models=["course_cnn", "bogus"], films="500", seed="minus one")
    shown = warnings(app)
    assert any("`bogus`" in text for text in shown) and any("`500`" in text for text in shown)
    assert any("`minus one`" in text for text in shown)
    assert app.multiselect(key="models").value == ["course_cnn"]
    assert (app.number_input(key="films").value, app.number_input(key="seed").value) == (10, 0)
    app = open_page(COMPARE, **{"compare-focus": "true", "model_a": "nothing"})
    assert any("`nothing`" in text for text in warnings(app)) and app.selectbox(key="model_a").value == "course_cnn"


# --- Downloads ----------------------------------------------------------------------------------------------------

def test_evaluate_offers_the_report_and_table_of_the_view_on_screen(full_env, offered_files):
    app = open_page(EVALUATE, model="poster_cnn", split="validation", thresholds="one global threshold")
    app.slider(key="evaluate-global-threshold-poster_cnn").set_value(0.25).run()
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


def test_compare_offers_the_sample_with_each_models_top_three_and_hits(full_env, offered_files):
    app = open_page(COMPARE, models=["course_lstm", "minilm_tuned"], films="4", seed="1")
    rows = list(csv.DictReader(io.StringIO(offered_files(app, "Download the sample (CSV)").decode())))
    sample = sampled_film_ids(app)
    assert [(row["film_id"], row["model"]) for row in rows] == \
        [(film_id, model) for film_id in sample for model in ("course_lstm", "minilm_tuned")]
    lines = [str(markdown.value) for markdown in app.markdown]
    for row in rows:
        top, truth = [row["top_1"], row["top_2"], row["top_3"]], set(row["true_genres"].split("|"))
        # The page draws this model's line for this film with the same three genres, in the same order.
        assert f"**{row['model']}:** " + hit_badges(top, truth) in lines
        assert int(row["hits"]) == len(set(top) & truth)
    aggregate = app.dataframe[0].value.set_index("model")
    for model in ("course_lstm", "minilm_tuned"):
        assert sum(int(row["hits"]) for row in rows if row["model"] == model) == aggregate.loc[model, "hits in sample"]


# --- Scoring that must run ----------------------------------------------------------------------------------------

def test_progress_bars_of_a_scoring_do_not_come_back_on_the_next_view(small_real_dataset, monkeypatch):
    # The small dataset is not the one the shipped scores were made on: both models score its test films.
    from genre_app import state

    monkeypatch.setenv("GENRE_DATA_DIR", str(small_real_dataset))
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(PROJECT_ROOT / "artifacts"))
    state.get_split_scores.clear()
    drawn = []
    original = state.score_split_of
    monkeypatch.setattr(state.get_split_scores, "compute",
                        lambda *key, progress=None: drawn.append(key[0]) or original(*key, progress=progress))
    first = open_page(EVALUATE, model="tfidf_logreg")
    assert drawn == ["tfidf_logreg", "course_cnn"]  # the model and the one it is compared with
    again = open_page(EVALUATE, model="tfidf_logreg")
    assert drawn == ["tfidf_logreg", "course_cnn"]  # read from the cache this time
    # Nothing of the first view's scoring is drawn again (st.cache_resource replayed its finished bars).
    assert [bar.proto.text for bar in again.get("progress")] == []
    assert [metric.value for metric in again.metric] == [metric.value for metric in first.metric]

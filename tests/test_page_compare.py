"""The Compare page (AppTest, the small real dataset and the shipped artifacts): sampled test films, hits
against the true genres, the baseline row, the two-model focus, damaged posters, explanations on demand;
links that open the same view and the sample as CSV (on the full dataset, whose shipped scores open it fast)."""

from __future__ import annotations

import csv
import io

import pytest
from app_testing import (
    INPUT_WIDGETS,
    SHIPPED,
    TIMEOUT,
    check_the_page_asks_for_the_dataset,
    genre_pickers,
    heatmap_images,
    open_page,
    poster_placeholders,
    run_page,
    sampled_film_ids,
    texts,
    tinted_overviews,
    warnings,
)
from streamlit.testing.v1 import AppTest

from genre_app.answers import hit_badges
from genre_app.text import escape_markdown
from genre_models.config import PROJECT_ROOT

COMPARE = "pages/3_Compare.py"


def test_compare_samples_films_and_marks_hits(app_env):
    app = run_page("pages/3_Compare.py")
    summary = app.dataframe[0].value
    assert set(summary["model"]) - {m for m in summary["model"] if m.startswith("baseline: ")} == SHIPPED
    content = texts(app)
    assert "sampled test films" in content and ("**hit** ·" in content or "wrong ·" in content or "missed ·" in content)
    assert "✅" not in content and "❌" not in content  # emoji render as empty boxes without an emoji font
    assert "Disagreement" in content
    app.number_input[1].set_value(7).run()
    assert not app.exception


@pytest.mark.parametrize("text_only", [False, True])
def test_compare_shows_films_with_damaged_posters(damaged_env, text_only):
    app = AppTest.from_file(str(PROJECT_ROOT / "pages/3_Compare.py"), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    if text_only:  # Text models score every film, so damaged posters are among the sampled films.
        app.multiselect[0].set_value(["minilm_mlp", "tfidf_logreg"])
    app.number_input[0].set_value(30).run()
    assert not app.exception, [e.value for e in app.exception]
    assert "sampled test films" in texts(app)
    if text_only:
        assert poster_placeholders(app)


def test_compare_explains_a_sampled_film_on_demand(app_env):
    app = run_page("pages/3_Compare.py")
    toggles = [t for t in app.toggle if t.key.startswith("compare-explain-")]
    sampled = int(next(s.value for s in app.subheader if "sampled test films" in s.value).split()[0])
    assert len(toggles) == sampled > 1 and not tinted_overviews(app)
    film_id = toggles[0].key.removeprefix("compare-explain-")
    app.selectbox(key=f"compare-model-{film_id}").set_value("multimodal_fusion")
    app.toggle(key=f"compare-explain-{film_id}").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    assert "Pull on the fused log-odds" in texts(app) and "Share of the fused probability" not in texts(app)
    assert len(heatmap_images(app)) == 1 and tinted_overviews(app)
    # Only the film asked about is explained.
    assert len(genre_pickers(app)) == 1


def test_compare_has_a_baseline_row_percentages_and_a_two_model_focus(app_env):
    app = run_page("pages/3_Compare.py")
    aggregate = app.dataframe[0].value
    baseline = aggregate[aggregate["model"].str.startswith("baseline: always")]
    assert len(baseline) == 1 and "Drama" in baseline["model"].iloc[0]
    # The share of films with a hit is a percentage (0-100), not a fraction.
    assert aggregate["films with ≥1 hit (test split)"].max() > 1
    app.toggle(key="compare-focus").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    focused = app.dataframe[0].value
    assert list(focused["model"])[:2] == ["course_cnn", "course_lstm"] and len(focused) == 3
    assert "Head to head" in texts(app)


def test_every_input_widget_has_a_key(full_env):
    app = open_page(COMPARE)
    widgets = [widget for kind in INPUT_WIDGETS for widget in app.get(kind)]
    assert len(widgets) >= 5
    assert [widget.label for widget in widgets if not widget.key] == []


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
        assert f"**{row['model']}** · top 3: " + hit_badges([escape_markdown(genre) for genre in top],
                                                            {escape_markdown(genre) for genre in truth}) in lines
        assert int(row["hits"]) == len(set(top) & truth)
    aggregate = app.dataframe[0].value.set_index("model")
    for model in ("course_lstm", "minilm_tuned"):
        assert sum(int(row["hits"]) for row in rows if row["model"] == model) == aggregate.loc[model, "hits in sample"]


def test_compare_on_the_test_split_reads_the_shipped_scores(no_scoring):
    app = run_page(COMPARE)
    assert not app.get("progress")
    assert set(app.dataframe[0].value["model"]) >= SHIPPED


def test_compare_without_the_dataset_says_how_to_provide_it(tmp_path, monkeypatch):
    check_the_page_asks_for_the_dataset(COMPARE, "Comparing needs the dataset", tmp_path, monkeypatch)


def test_hostile_overviews_and_ids_are_shown_as_text(hostile_env):
    from app_testing import assert_no_markdown_injection

    # Every test film sampled: the film whose Id is written to inject a link is among them.
    app = open_page(COMPARE, films="100", models=["tfidf_logreg", "poster_cnn"])
    assert hostile_env["evil_id"] in sampled_film_ids(app)
    assert_no_markdown_injection(app)
    assert any("%5D%28https%3Aevil.example" in str(m.value) for m in app.markdown)


def test_each_film_shows_the_top_three_and_the_threshold_answer_labelled(full_env):
    from genre_app import comparison, models, scores

    app = open_page(COMPARE, models=["course_lstm", "late_fusion"], films="3", seed="2")
    predictor = models.predictor()
    captions = [str(caption.value) for caption in app.caption]
    for name in ("course_lstm", "late_fusion"):
        chosen = comparison.pick_over_thresholds(scores.split_scores(name, "test"), predictor.get(name).thresholds)
        for film_id in sampled_film_ids(app):
            said = escape_markdown(f"{name} predicts (over its thresholds, as on Predict): "
                                   + comparison.describe_threshold_answer(chosen[film_id]))
            assert said in captions
    assert any("**course_lstm** · top 3: " in str(m.value) for m in app.markdown)

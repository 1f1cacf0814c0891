"""The Home page (AppTest, the small real dataset and the shipped artifacts): what to do first, the pages, the
short models table with the recommended model and the baseline, details on demand, the zip import."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from app_testing import READ_ONLY_SETTINGS, SHIPPED, button_labelled, run_page, texts


def test_home_leads_with_what_to_do_first_and_links_every_page(app_env):
    from genre_app.navigation import list_pages

    app = run_page("streamlit_app.py")
    assert app.info[0].value.startswith("**Start here:**") and "Predict" in app.info[0].value
    links = app.get("page_link")
    # The "start here" link to Predict, then one link per page, each with its whole title.
    assert (links[0].proto.label, links[0].proto.page) == ("Try an example on Predict", "Predict")
    assert [link.proto.label for link in links[1:]] == [entry.title for entry in list_pages()]
    # The first thing said about the data is what was found, not how the folder is configured.
    assert app.success[0].value.startswith("**96 films**, **25 genres**")
    setting = next(expander for expander in app.expander if expander.label.startswith("Where the data comes from"))
    assert "GENRE_DATA_DIR" in setting.caption[0].value


def test_home_shows_a_short_models_table_with_the_recommended_model_and_the_baseline(app_env):
    from genre_app.answers import recommended_name
    from genre_app.home import RECOMMENDED_MARK
    from genre_models.artifacts import read_artifact_metadata
    from genre_models.config import PROJECT_ROOT

    app = run_page("streamlit_app.py")
    short = app.table[0].value  # a static table: quick to draw on a first visit
    assert list(short.columns) == ["reads", "micro-F1", "macro-F1", "macro AP"]
    found = read_artifact_metadata(PROJECT_ROOT / "artifacts")[0]
    recommended = recommended_name([m["name"] for m in found], {m["name"]: m for m in found})
    assert short.index[0] == f"{recommended} {RECOMMENDED_MARK}"
    assert [name for name in short.index if RECOMMENDED_MARK in name] == [short.index[0]]
    assert {name.removesuffix(f" {RECOMMENDED_MARK}") for name in short.index[:-1]} == SHIPPED
    assert short.index[-1].startswith("baseline: always") and short.loc[short.index[-1], "reads"] == "nothing"
    assert all(0 < float(value) <= 1 for value in short["macro AP"])
    # Every column and the commands on demand, in an expander.
    details = next(expander for expander in app.expander if expander.label.startswith("Every figure"))
    full = details.table[0].value
    assert SHIPPED <= set(full.index)
    assert {"input", "test micro-F1", "test macro-F1", "test macro AP", "epochs"} <= set(full.columns)
    assert "command" not in full.columns
    assert "python -m genre_models train --model poster_cnn" in app.code[0].value  # the commands, apart


def test_home_without_dataset_says_how_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GENRE_DATA_DIR", str(tmp_path / "nothing-here"))
    app = run_page("streamlit_app.py")
    assert "No dataset yet" in texts(app)
    assert app.get("file_uploader")


def test_home_refuses_a_malicious_zip_and_keeps_going(app_env, monkeypatch, tmp_path):
    from genre_app import data

    monkeypatch.setattr(data, "PROJECT_ROOT", tmp_path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../escape.txt", "x")
    app = run_page("streamlit_app.py")
    app.get("file_uploader")[0].set_value(("evil.zip", buffer.getvalue(), "application/zip")).run()
    app.button[0].click().run()
    assert not app.exception
    assert any("not imported" in e.value for e in app.error)
    assert not (tmp_path.parent / "escape.txt").exists()


@pytest.mark.parametrize("variable, value", READ_ONLY_SETTINGS)
def test_home_read_only_offers_no_zip_import(app_env, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    app = run_page("streamlit_app.py")
    assert not app.get("file_uploader")
    assert "Import this zip" not in [button.label for button in app.button]
    assert "Importing a dataset is turned off" in texts(app)


def test_home_without_dataset_read_only_says_how_to_configure_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GENRE_DATA_DIR", str(tmp_path / "nothing-here"))
    monkeypatch.setenv("GENRE_READ_ONLY", "yes")
    app = run_page("streamlit_app.py")
    assert "No dataset yet" in texts(app) and "GENRE_DATA_DIR" in texts(app)
    assert not app.get("file_uploader")


def test_home_marks_a_fusion_whose_part_was_replaced_as_needing_refit(app_env, replaced_fusion_part, monkeypatch):
    from genre_models import supervisor

    started = []
    monkeypatch.setattr(supervisor, "start_run", lambda config: started.append(config) or replaced_fusion_part.parent / "x")
    app = run_page("streamlit_app.py")
    assert not [error for error in app.error if "late_fusion" in error.value]
    assert "late_fusion (needs refitting)" in app.table[0].value.index
    table = app.table[1].value
    assert table.loc["late_fusion", "state"] == "needs refitting"
    assert table.loc["multimodal_fusion", "state"] == "ready"
    assert "late_fusion needs refitting" in texts(app)
    button_labelled(app, "Refit late_fusion").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert [config.model_name for config in started] == ["late_fusion"]
    assert Path(started[0].data_dir) == Path(app_env)


def test_home_guides_the_figures_and_lists_the_baseline(app_env):
    app = run_page("streamlit_app.py")
    table = app.table[1].value
    baseline = [name for name in table.index if name.startswith("baseline: always")]
    assert baseline == ["baseline: always Comedy + Drama"]
    assert float(table.loc[baseline[0], "test micro-F1"]) > 0
    assert table.loc["late_fusion", "epochs"] == "fused (no epochs)" and table.loc["course_cnn", "epochs"] == "40"
    guide = [expander for expander in app.expander if expander.label == "How to read these figures"]
    assert guide and "macro-F1" in guide[0].markdown[0].value and "average precision" in guide[0].markdown[0].value
    # Genres no film has are information, not a problem.
    assert any("For your information" in info.value and "no film" in info.value for info in app.info)
    assert not any("genres with no positive film" in str(m.value) for m in app.markdown)

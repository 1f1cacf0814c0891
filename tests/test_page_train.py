"""The Train page (issues 14 and 15): the chosen run kept in the address (?run=<id>), polling only while a
run is active, honest live curves, the shipped models' curves, and a run's downloads."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from test_app_pages import make_fake_run

from genre_models.config import PROJECT_ROOT

PAGE = str(PROJECT_ROOT / "pages" / "5_Train.py")
TIMEOUT = 120


@pytest.fixture
def runs_root(small_real_dataset, tmp_path, monkeypatch):
    """The small real dataset, the shipped artifacts and an empty runs folder of the app's own."""
    monkeypatch.setenv("GENRE_DATA_DIR", str(small_real_dataset))
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(PROJECT_ROOT / "artifacts"))
    root = tmp_path / "runs"
    root.mkdir()
    monkeypatch.setenv("GENRE_RUNS_DIR", str(root))
    return root


@pytest.fixture
def finished_runs(runs_root):
    """Two finished runs, the newest listed first."""
    older = make_fake_run(runs_root, "20260101-000000-course_cnn", "completed", 2, elapsed=90)
    newer = make_fake_run(runs_root, "20260102-000000-course_cnn", "completed", 3, elapsed=120)
    return {"older": older, "newer": newer}


def open_train(run: str | None = None) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    if run is not None:
        app.query_params["run"] = run
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


# --- The chosen run in the address (issue 14) ---------------------------------------------------------------------

def test_the_address_chooses_the_run(finished_runs):
    app = open_train(finished_runs["older"].name)
    assert app.selectbox(key="manage").value == finished_runs["older"].name
    assert not app.warning


def test_choosing_a_run_puts_it_in_the_address(finished_runs):
    app = open_train()
    assert app.selectbox(key="manage").value == finished_runs["newer"].name  # the newest by default
    app.selectbox(key="manage").set_value(finished_runs["older"].name).run()
    assert not app.exception
    assert app.query_params["run"] == finished_runs["older"].name


def test_an_unknown_run_in_the_address_warns_and_shows_the_newest(finished_runs):
    app = open_train("20990101-000000-nothing")
    assert any("20990101-000000-nothing" in w.value and "does not exist" in w.value for w in app.warning)
    assert "run" not in app.query_params
    assert app.selectbox(key="manage").value == finished_runs["newer"].name


def test_an_unknown_run_without_any_run_warns_without_failing(runs_root):
    app = open_train("20990101-000000-nothing")
    assert any("there are no runs yet" in w.value for w in app.warning)


def test_deleting_the_addressed_run_takes_it_out_of_the_address(finished_runs):
    app = open_train(finished_runs["older"].name)
    next(b for b in app.button if b.label == "Delete run").click().run()
    next(b for b in app.button if b.label == "Yes, delete it").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not finished_runs["older"].exists()
    assert "run" not in app.query_params
    assert not app.warning
    assert app.selectbox(key="manage").value == finished_runs["newer"].name

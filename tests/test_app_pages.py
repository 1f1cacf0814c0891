"""AppTest for every page: shipped artifacts + a small real dataset folder; no exceptions, key elements shown."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from genre_models.config import PROJECT_ROOT

TIMEOUT = 120


@pytest.fixture
def app_env(small_real_dataset, monkeypatch):
    """The app reads the small real dataset and the shipped artifacts."""
    monkeypatch.setenv("GENRE_DATA_DIR", str(small_real_dataset))
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", os.environ.get("TEST_ARTIFACTS_OVERRIDE", str(PROJECT_ROOT / "artifacts")))
    return small_real_dataset


def run_page(path: str) -> AppTest:
    app = AppTest.from_file(str(PROJECT_ROOT / path), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def texts(app: AppTest) -> str:
    """All markdown, captions and headings of a page as one string."""
    parts = [e.value for e in (*app.markdown, *app.caption, *app.subheader, *app.title, *app.success,
                               *app.warning, *app.info)]
    return "\n".join(str(p) for p in parts)


def jpeg_bytes(size=(150, 300)) -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_home_shows_dataset_models_and_links(app_env):
    app = run_page("streamlit_app.py")
    content = texts(app)
    assert "96 films" in content and "25 genres" in content
    assert "GENRE_DATA_DIR" in content
    models = app.dataframe[0].value
    assert {"course_cnn", "course_lstm", "tfidf_logreg"} <= set(models["model"])
    assert len(app.get("page_link")) == 4


def test_home_without_dataset_says_how_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GENRE_DATA_DIR", str(tmp_path / "nothing-here"))
    app = run_page("streamlit_app.py")
    assert "No dataset yet" in texts(app)
    assert app.get("file_uploader")


def test_home_refuses_a_malicious_zip_and_keeps_going(app_env, monkeypatch, tmp_path):
    import genre_app.state as app_state

    monkeypatch.setattr(app_state, "PROJECT_ROOT", tmp_path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../escape.txt", "x")
    app = run_page("streamlit_app.py")
    app.get("file_uploader")[0].set_value(("evil.zip", buffer.getvalue(), "application/zip")).run()
    app.button[0].click().run()
    assert not app.exception
    assert any("not imported" in e.value for e in app.error)
    assert not (tmp_path.parent / "escape.txt").exists()


def test_dataset_browser_grid_filters_and_charts(app_env):
    app = run_page("pages/1_Dataset_browser.py")
    assert len(app.get("image")) == 12 + 1  # a page of posters plus the opened film
    assert "imdb.com/title/" in texts(app)
    app.multiselect[0].set_value(["Drama"]).run()
    assert not app.exception
    assert "films match" in app.number_input[0].label
    app.text_input[0].input("zzzz-no-such-word").run()
    assert "0 films match" in app.number_input[0].label
    assert len(app.get("plotly_chart")) == 5


def test_predict_with_uploaded_poster_and_summary(app_env):
    app = run_page("pages/2_Predict.py")
    app.get("file_uploader")[0].set_value(("poster.jpg", jpeg_bytes(), "image/jpeg"))
    app.text_area[0].input("A detective hunts a serial killer through a rainy city.")
    app.button[0].click().run()
    assert not app.exception
    shown = [s.value for s in app.subheader]
    assert {"course_cnn", "course_lstm", "tfidf_logreg"} <= set(shown)
    assert "Top 3:" in texts(app)
    assert len(app.get("plotly_chart")) == 3


@pytest.mark.parametrize("payload", [b"this is not an image", b"", b"\xff\xd8\xff\xe0 truncated"])
def test_predict_bad_upload_shows_an_error_not_a_traceback(app_env, payload):
    app = run_page("pages/2_Predict.py")
    app.get("file_uploader")[0].set_value(("poster.jpg", payload, "image/jpeg"))
    app.button[0].click().run()
    assert not app.exception
    assert app.error and "Could not predict" in app.error[0].value


def test_predict_empty_input_is_refused_with_a_message(app_env):
    app = run_page("pages/2_Predict.py")
    app.text_area[0].input("   ")
    app.button[0].click().run()
    assert not app.exception
    assert app.error and "empty" in app.error[0].value


def test_predict_from_a_dataset_film_shows_true_genres(app_env):
    app = run_page("pages/2_Predict.py")
    app.radio[0].set_value("Pick a film from the dataset").run()
    app.button[0].click().run()
    assert not app.exception
    assert "True genres:" in texts(app)
    assert len(app.get("plotly_chart")) == 3


def test_compare_samples_films_and_marks_hits(app_env):
    app = run_page("pages/3_Compare.py")
    summary = app.dataframe[0].value
    assert set(summary["model"]) == {"course_cnn", "course_lstm", "tfidf_logreg"}
    content = texts(app)
    assert "sampled test films" in content and ("✅" in content or "❌" in content)
    assert "Disagreement" in content
    app.number_input[1].set_value(7).run()
    assert not app.exception


def test_evaluate_confusion_matrices_and_live_threshold(app_env):
    app = run_page("pages/4_Evaluate.py")
    assert "Per-genre confusion matrices" in texts(app)
    assert len(app.get("plotly_chart")) == 4
    before = {m.label: m.value for m in app.metric}
    app.radio[0].set_value("one global threshold").run()
    app.slider[0].set_value(0.05).run()
    assert not app.exception
    after = {m.label: m.value for m in app.metric}
    assert before["micro-F1"] != after["micro-F1"]
    assert before["micro AP"] == after["micro AP"]  # ranking metrics do not depend on thresholds

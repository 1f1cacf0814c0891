"""The Report page (AppTest): the download button names the file it saves (the building itself is tested in
tests/test_report.py)."""

from __future__ import annotations

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from genre_models.config import PROJECT_ROOT

TIMEOUT = 300


@pytest.fixture
def saved_names(monkeypatch) -> list[str]:
    """The file names of the files the page offers (AppTest keeps them in an in-memory store of its own)."""
    from streamlit.testing.v1 import app_test

    names = []

    class NamingMediaFileStorage(MemoryMediaFileStorage):
        def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
            names.append(filename)
            return super().load_and_get_id(path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", NamingMediaFileStorage)
    return names


@pytest.mark.parametrize("split", ["validation", "test"])
def test_the_download_button_names_the_file_it_saves(app_env, saved_names, split):
    app = AppTest.from_file(str(PROJECT_ROOT / "pages" / "6_Report.py"), default_timeout=TIMEOUT)
    app.run()
    app.multiselect[0].set_value(["tfidf_logreg"])
    app.selectbox[0].set_value(split)
    app.number_input[0].set_value(0)
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    (button,) = app.get("download_button")
    assert saved_names[-1] == f"genre-report-{split}.html"
    assert button.proto.label == f"Download {saved_names[-1]}"

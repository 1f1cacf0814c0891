"""genre_app/messages.py: refusals and file errors shown as messages, and the read-only deployment's notices."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from genre_models import promotions

TIMEOUT = 30


def refusing_app(kind):
    from genre_app import messages
    from genre_models import runs

    with messages.errors_shown():
        if kind == "refused":
            raise runs.RunRefused("Deleting runs is turned off: this deployment is read-only")
        raise PermissionError(13, "Permission denied", "/runs/x")
    import streamlit as st

    st.write("the page goes on")


@pytest.mark.parametrize("kind, message", [("refused", "turned off"), ("file system", "Permission denied")])
def test_errors_shown_turns_refusals_and_file_errors_into_messages(kind, message):
    app = AppTest.from_function(refusing_app, args=(kind,), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception
    assert message in app.error[0].value
    assert app.markdown[0].value == "the page goes on"


def read_only_app():
    from genre_app import messages

    messages.read_only_notice("Importing a dataset")


@pytest.mark.parametrize("variable, value, read_only", [
    ("GENRE_READ_ONLY", "1", True), ("GENRE_READ_ONLY", "0", False),
    ("GENRE_TRAINING_ENABLED", "disabled", True), ("GENRE_TRAINING_ENABLED", "1", False),
])
def test_read_only_notice(monkeypatch, variable, value, read_only):
    monkeypatch.delenv("GENRE_READ_ONLY", raising=False)
    monkeypatch.delenv("GENRE_TRAINING_ENABLED", raising=False)
    monkeypatch.setenv(variable, value)
    app = AppTest.from_function(read_only_app, default_timeout=TIMEOUT)
    app.run()
    assert not app.exception
    assert bool(app.info) is read_only
    if read_only:
        assert app.info[0].value.startswith("Importing a dataset is turned off: ")


def damaged_promotions_app():
    from genre_app import messages

    messages.warn_if_promotions_damaged()


def test_warn_if_promotions_damaged(monkeypatch, tmp_path):
    monkeypatch.setenv("GENRE_RUNS_DIR", str(tmp_path))
    app = AppTest.from_function(damaged_promotions_app, default_timeout=TIMEOUT)
    app.run()
    assert not app.warning
    (tmp_path / promotions.PROMOTIONS_FILE).write_text("[1, 2]")
    app.run()
    assert promotions.PROMOTIONS_FILE in app.warning[0].value

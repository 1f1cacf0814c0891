"""Helpers of the pages' AppTests (a plain module: `from app_testing import run_page, texts`); the fixture
app_env is in conftest.py."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from genre_models import fileio
from genre_models.artifacts import read_artifact_metadata
from genre_models.config import PROJECT_ROOT

TIMEOUT = 120
# Pages opened on the full dataset (their first view reads the shipped scores of 5,325 films).
FULL_DATA_TIMEOUT = 300
# Every shipped model; each answers when both a poster and a summary are given.
SHIPPED = {metadata["name"] for metadata in read_artifact_metadata(PROJECT_ROOT / "artifacts")[0]}
# Dataset text written to inject Markdown: an image fetched from an outside host, a link elsewhere, and an Id
# that would turn the film's IMDb link into a link elsewhere.
BEACON_OVERVIEW = ("A quiet town. ![](https://example.invalid/beacon.png?user=visitor) "
                   "[log in again](https://evil.example)")
EVIL_ID = "tt0000001](https:evil.example) [x"


def run_page(path: str) -> AppTest:
    """Run a page (a path under the project root) once and check it raised nothing."""
    if "Predict" in path:
        from genre_app import models

        # Every model answers a prediction once the background load is over (one made while models load
        # answers with those loaded so far: tests/test_page_predict.py).
        models.start_loading_models().result()
    app = AppTest.from_file(str(PROJECT_ROOT / path), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def texts(app: AppTest) -> str:
    """All markdown, captions and headings of a page as one string."""
    parts = [e.value for e in (*app.markdown, *app.caption, *app.subheader, *app.title, *app.success,
                               *app.warning, *app.info)]
    return "\n".join(str(p) for p in parts)


def markdown_sources(app: AppTest) -> list[str]:
    """Every piece of a page that Streamlit renders as Markdown (text elements, alerts, labels of expanders
    and buttons, table cells are not Markdown)."""
    elements = [*app.markdown, *app.caption, *app.subheader, *app.title, *app.header, *app.success,
                *app.warning, *app.info, *app.error]
    labels = [*app.expander, *app.button]
    return [str(element.value) for element in elements] + [str(element.label) for element in labels]


def assert_no_markdown_injection(app: AppTest) -> None:
    """Fail when any Markdown the page renders holds a live image, a link elsewhere or an Id's fake link."""
    for source in markdown_sources(app):
        assert "![](" not in source, source
        assert "](https://evil.example" not in source and "](https:evil.example" not in source, source


def jpeg_bytes(size=(150, 300)) -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, format="JPEG")
    return buffer.getvalue()


def damaged_poster_bytes(kind: str, original: bytes) -> bytes:
    """Bytes of a poster damaged in one of the ways seen in the wild (all saved under the .jpg name)."""
    if kind == "empty":
        return b""
    if kind == "truncated":
        return original[: len(original) // 3]
    buffer = io.BytesIO()
    if kind == "gif":
        Image.new("RGB", (100, 150), (200, 30, 30)).save(buffer, format="GIF")
    elif kind == "16-bit png":
        wide = (np.arange(150 * 100, dtype=np.uint16).reshape(150, 100) * 4).astype(np.uint16)
        Image.fromarray(wide, mode="I;16").save(buffer, format="PNG")
    return buffer.getvalue()


DAMAGE_KINDS = ("empty", "gif", "16-bit png", "truncated")


def is_undecodable(damaged: dict, film_id: str) -> bool:
    """Whether a film's poster was damaged beyond decoding (a 16-bit PNG decodes, scaled to 8 bits)."""
    return damaged["damage"].get(film_id, "16-bit png") != "16-bit png"


def poster_placeholders(app: AppTest) -> list[str]:
    """The texts shown in place of posters that could not be decoded."""
    return [c.value for c in app.caption if "Poster not shown" in str(c.value)]


def tinted_overviews(app: AppTest) -> list[str]:
    """The overviews shown with their words tinted by an explanation (HTML)."""
    return [str(m.value) for m in app.markdown if "explained-word" in str(m.value)]


def heatmap_images(app: AppTest) -> list:
    """The posters shown with a Grad-CAM heatmap over them."""
    return [image for image in app.get("image") if any("Grad-CAM" in str(c) for c in image.captions)]


def genre_pickers(app: AppTest) -> list:
    return [box for box in app.selectbox if box.label == "Genre to explain"]


# Both spellings turn every action that changes shared state off.
READ_ONLY_SETTINGS = [("GENRE_READ_ONLY", "1"), ("GENRE_TRAINING_ENABLED", "disabled")]


# Widgets a user sets; buttons included (their key is what a rerun finds them by).
INPUT_WIDGETS = ("selectbox", "multiselect", "slider", "radio", "number_input", "toggle", "checkbox", "button",
                 "text_input")


def open_page(path: str, **query) -> AppTest:
    app = AppTest.from_file(str(PROJECT_ROOT / path), default_timeout=FULL_DATA_TIMEOUT)
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


def check_the_page_asks_for_the_dataset(path: str, said: str, tmp_path, monkeypatch) -> None:
    """Open a page with no dataset at the configured place: a warning saying ``said`` and how to set it."""
    monkeypatch.setenv("GENRE_DATA_DIR", str(tmp_path / "nothing-here"))
    app = run_page(path)
    assert any(said in warning.value for warning in app.warning), [warning.value for warning in app.warning]
    assert "GENRE_DATA_DIR" in texts(app)


def make_fake_run(root, run_id: str, state: str, epochs_done: int, **status):
    """A run folder as a worker leaves it: status, metric lines, optionally an artifact."""
    import json
    import time

    from genre_models import runs

    folder = root / run_id
    folder.mkdir(parents=True)
    lines = []
    for epoch in range(1, epochs_done + 1):
        for step in range(1, 4):
            lines.append({"kind": "batch", "epoch": epoch, "step": step, "steps": 3, "loss": 0.5 / (epoch + step)})
        lines.append({"kind": "epoch", "epoch": epoch, "loss": 0.4 / epoch, "val_loss": 0.45 / epoch,
                      "binary_accuracy": 0.9, "val_binary_accuracy": 0.88, "auc": 0.8, "val_auc": 0.78,
                      "precision": 0.5, "val_precision": 0.4, "recall": 0.3, "val_recall": 0.2,
                      "learning_rate": 1e-4})
    (folder / runs.METRICS_FILE).write_text("".join(json.dumps(line) + "\n" for line in lines))
    fileio.write_json_atomically(folder / runs.CONFIG_FILE, {"config": {"model_name": "course_cnn", "epochs": 5},
                                                           "model": "course_cnn", "created": time.time()})
    runs.write_status(folder, state, **status)
    return folder


def button_labelled(app: AppTest, label: str):
    return next(button for button in app.button if button.label == label)

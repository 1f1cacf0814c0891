"""genre_app/widgets.py: a film's facts and IMDb link, the safe poster display, the upload limit,
the model table rows, and the messages of a read-only deployment."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import build_synthetic_dataset
from genre_app import widgets
from genre_models import promotions
from genre_models.dataset import load_dataset

TIMEOUT = 30


def encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def sixteen_bit_png() -> bytes:
    wide = np.random.default_rng(0).integers(0, 65535, (90, 60), dtype=np.uint16)
    return encoded(Image.fromarray(wide, mode="I;16"), "PNG")


def rgb_jpeg() -> bytes:
    return encoded(Image.fromarray(np.random.default_rng(1).integers(0, 256, (90, 60, 3), dtype=np.uint8)), "JPEG")


# Posters that cannot be decoded, as found in the wild (each saved under a .jpg name).
UNDECODABLE = {
    "0-byte": b"",
    "GIF": encoded(Image.new("RGB", (60, 90)), "GIF"),
    "truncated JPEG": rgb_jpeg()[:200],
    "text": b"not an image at all",
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return load_dataset(build_synthetic_dataset(tmp_path_factory.mktemp("widgets") / "data", num_films=12))


# --- Films ------------------------------------------------------------------------------------------------------

def test_imdb_link_points_at_the_title_page():
    assert widgets.imdb_url("tt0111161") == "https://www.imdb.com/title/tt0111161/"
    assert widgets.imdb_link("tt0111161") == "[tt0111161](https://www.imdb.com/title/tt0111161/)"


def test_imdb_url_quotes_an_odd_id_so_the_link_stays_on_imdb():
    assert widgets.imdb_url("../x y)") == "https://www.imdb.com/title/..%2Fx%20y%29/"


def test_true_genres_are_the_labelled_ones_in_genre_order(dataset):
    for row in range(dataset.num_films):
        expected = [g for column, g in enumerate(dataset.genres) if dataset.labels[row, column] == 1]
        assert widgets.true_genres(dataset, row) == expected and expected


def test_find_film_by_id_gives_its_row_and_facts(dataset):
    film_id = str(dataset.ids[5])
    film = widgets.find_film(dataset, film_id)
    assert film.row == 5 and film.id == film_id
    assert film.overview == dataset.overviews[5]
    assert film.genres == widgets.true_genres(dataset, 5)
    assert film.split == dataset.splits[5]
    assert film.poster == dataset.poster_path(film_id)
    assert film.link == widgets.imdb_link(film_id)
    assert widgets.film_at(dataset, 5) == film


def test_find_film_refuses_an_unknown_id(dataset):
    with pytest.raises(ValueError, match="tt0000000"):
        widgets.find_film(dataset, "tt0000000")


# --- Posters ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(UNDECODABLE))
def test_read_poster_gives_a_reason_instead_of_raising(tmp_path, kind):
    path = tmp_path / "tt1.jpg"
    path.write_bytes(UNDECODABLE[kind])
    for source in (path, UNDECODABLE[kind]):
        pixels, problem = widgets.read_poster(source)
        assert pixels is None and problem


def test_read_poster_of_a_missing_file_gives_a_reason(tmp_path):
    pixels, problem = widgets.read_poster(tmp_path / "missing.jpg")
    assert pixels is None and problem


def test_read_poster_converts_a_16_bit_png_as_the_models_do():
    pixels, problem = widgets.read_poster(sixteen_bit_png())
    assert problem is None
    assert pixels.dtype == np.uint8 and pixels.shape == (90, 60, 3)
    assert pixels.max() > 200  # scaled to 8 bits, not clipped to white or black
    assert pixels.min() < 50


def show_poster_app(source, caption):
    from genre_app import widgets

    widgets.show_poster(source, width=100, caption=caption)


@pytest.mark.parametrize("kind", sorted(UNDECODABLE))
def test_show_poster_shows_a_placeholder_for_an_undecodable_poster(kind):
    app = AppTest.from_function(show_poster_app, args=(UNDECODABLE[kind], "Poster of tt1"),
                                default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.get("image")
    assert "Poster not shown" in app.caption[0].value and "Poster of tt1" in app.caption[0].value


@pytest.mark.parametrize("source", [sixteen_bit_png(), rgb_jpeg()], ids=["16-bit PNG", "JPEG"])
def test_show_poster_shows_a_decodable_poster_with_its_caption(source):
    app = AppTest.from_function(show_poster_app, args=(source, "Poster of tt1"), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.get("image")[0].captions == ["Poster of tt1"]


def test_show_poster_without_a_poster_says_so():
    app = AppTest.from_function(show_poster_app, args=(None, None), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception and "no poster" in app.caption[0].value


def test_read_upload_refuses_too_many_bytes_before_decoding(monkeypatch):
    def must_not_decode(*arguments, **keywords):
        raise AssertionError("decoded an upload over the size limit")

    monkeypatch.setattr(widgets, "decode_poster", must_not_decode)
    with pytest.raises(ValueError, match=f"{widgets.MAX_UPLOAD_MEGABYTES} MB"):
        widgets.read_upload(b"\xff" * (widgets.MAX_UPLOAD_BYTES + 1))


def test_read_upload_decodes_a_poster_under_the_limits():
    assert widgets.read_upload(sixteen_bit_png()).shape == (90, 60, 3)


def test_read_upload_refuses_a_png_over_the_upload_pixel_cap_that_a_dataset_poster_may_have():
    from genre_models.dataset.posters import MAX_POSTER_PIXELS

    side = int(np.sqrt(widgets.MAX_UPLOAD_PIXELS)) + 100
    assert side * side < MAX_POSTER_PIXELS  # allowed in the data, refused as an upload
    with pytest.raises(ValueError, match="megapixels"):
        widgets.read_upload(encoded(Image.new("L", (side, side)), "PNG"))


def test_upload_limits_text_states_both_limits():
    text = widgets.upload_limits_text()
    assert f"{widgets.MAX_UPLOAD_MEGABYTES} MB" in text and "megapixels" in text


# --- Models -----------------------------------------------------------------------------------------------------

METADATA = {
    "name": "course_cnn", "input_kind": "poster", "thresholds": {"policy": "per_genre"},
    "metrics": {"test": {"micro_f1": 0.5, "macro_f1": 0.25, "global_threshold_micro_f1": 0.45}},
    "training": {"epochs_run": 3, "seconds": 90}, "created_at": "2026-01-01T00:00:00", "command": "x",
}


def test_model_figures_are_the_test_columns_of_the_table_row():
    figures = widgets.model_figures(METADATA)
    assert figures["test micro_f1"] == 0.5 and figures["test macro_f1"] == 0.25
    assert figures["test micro_f1 (one global threshold)"] == 0.45
    assert all(key.startswith("test ") for key in figures)


@pytest.mark.parametrize("metadata", [None, [], {"metrics": {}}, "text"])
def test_model_figures_of_missing_or_damaged_metadata_are_empty(metadata):
    assert widgets.model_figures(metadata) == {}


def test_metric_columns_get_readable_headers_and_three_decimals():
    settings = widgets.metric_column_config(["model", "test micro_f1", "test macro_average_precision",
                                             "test micro_f1 (one global threshold)"])
    assert set(settings) == {"test micro_f1", "test macro_average_precision",
                             "test micro_f1 (one global threshold)"}
    assert settings["test macro_average_precision"]["label"] == "test macro AP"
    assert settings["test micro_f1"]["type_config"]["format"] == "%.3f"


def read_only_app():
    from genre_app import widgets

    widgets.read_only_notice("Importing a dataset")


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
    from genre_app import widgets

    widgets.warn_if_promotions_damaged()


def test_warn_if_promotions_damaged(monkeypatch, tmp_path):
    monkeypatch.setenv("GENRE_RUNS_DIR", str(tmp_path))
    app = AppTest.from_function(damaged_promotions_app, default_timeout=TIMEOUT)
    app.run()
    assert not app.warning
    (tmp_path / promotions.PROMOTIONS_FILE).write_text("[1, 2]")
    app.run()
    assert promotions.PROMOTIONS_FILE in app.warning[0].value


def test_progress_text_says_films_done_of_total_and_the_time_left():
    assert widgets.progress_text("minilm_tuned", 0, 5325, 0.0) == \
        "Scoring with minilm_tuned: 0 / 5,325 films, estimating the time left"
    # 512 films in 20 s: 4,813 left at the same pace is about 188 s.
    assert widgets.progress_text("minilm_tuned", 512, 5325, 20.0) == \
        "Scoring with minilm_tuned: 512 / 5,325 films, about 3 min 08 s left"
    assert widgets.progress_text("course_cnn", 499, 499, 1.2) == "course_cnn: 499 / 499 films scored in 1 s"


def scoring_progress_app():
    from genre_app import widgets as page_widgets

    progress = page_widgets.ScoringProgress()
    progress("course_cnn", 0, 499)
    progress("course_cnn", 256, 499)
    progress("course_lstm", 0, 499)


def test_scoring_progress_draws_one_bar_per_model():
    app = AppTest.from_function(scoring_progress_app, default_timeout=TIMEOUT)
    app.run()
    assert not app.exception
    bars = app.get("progress")
    assert len(bars) == 2
    assert "course_cnn: 256 / 499 films" in bars[0].proto.text and "course_lstm: 0 / 499" in bars[1].proto.text

"""genre_models.inputs: posters and summaries as users give them (bad input, abuse and fuzzing),
turned into what a network reads; each defence has a test that builds the bad input itself."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from genre_models.config import IMAGES_DIR_NAME
from genre_models.dataset import posters as poster_module
from genre_models.inputs import (
    MAX_OVERVIEW_CHARACTERS,
    prepare_overview,
    prepare_poster,
)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


# --- Poster uploads -----------------------------------------------------------------------------


def test_non_image_with_an_image_name_is_refused():
    with pytest.raises(ValueError, match="not a readable image"):
        prepare_poster(b"%PDF-1.4 this is a document renamed poster.jpg")


def test_zero_byte_upload_is_refused():
    with pytest.raises(ValueError, match="empty"):
        prepare_poster(b"")


def test_truncated_jpeg_is_refused():
    whole = encode(Image.new("RGB", (150, 300), (10, 20, 30)), "JPEG")
    with pytest.raises(ValueError, match="could not be used"):
        prepare_poster(whole[: len(whole) // 3])


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_formats_outside_the_allow_list_are_refused_whatever_the_name(fmt):
    with pytest.raises(ValueError, match="accepted: JPEG, PNG, WEBP"):
        prepare_poster(encode(Image.new("RGB", (40, 80)), fmt))


@pytest.mark.parametrize("size", [(20_000, 10), (10, 13_000), (3, 300)])
def test_absurd_dimensions_are_refused_before_decoding(size, monkeypatch):
    raw = encode(Image.new("L", size), "PNG")

    def no_full_decode(self, *args, **kwargs):
        raise AssertionError("the image was decoded in full before its size was checked")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_full_decode)
    with pytest.raises(ValueError, match="pixels"):
        prepare_poster(raw)


def test_decompression_bomb_is_refused():
    # 9000 x 9000 grey pixels (81 MP) compress to a few tens of kilobytes.
    bomb = encode(Image.new("L", (9000, 9000)), "PNG", optimize=True)
    assert len(bomb) < 200_000
    started = time.perf_counter()
    with pytest.raises(ValueError, match="far (larger|more pixels) than a poster"):
        prepare_poster(bomb)
    assert time.perf_counter() - started < 5  # refused from the header, not after decoding 81 MP


def test_pillow_bomb_warning_is_an_error_even_below_our_own_limits(monkeypatch):
    monkeypatch.setattr(poster_module, "MAX_POSTER_SIDE", 100_000)
    monkeypatch.setattr(poster_module, "MAX_POSTER_PIXELS", 10**12)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000)
    with pytest.raises(ValueError, match="decompression bomb"):
        prepare_poster(encode(Image.new("L", (100, 100)), "PNG"))


@pytest.mark.parametrize("mode, fmt", [("L", "PNG"), ("RGBA", "PNG"), ("P", "PNG"), ("CMYK", "JPEG"),
                                       ("I;16", "PNG"), ("LA", "PNG"), ("RGB", "WEBP")])
def test_odd_modes_are_converted_not_rejected(mode, fmt):
    image = Image.new(mode, (40, 80))
    decoded = prepare_poster(encode(image, fmt))
    assert decoded.shape == (80, 40, 3) and decoded.dtype == np.uint8


def test_sixteen_bit_grey_is_scaled_not_clipped_to_white():
    ramp = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16)
    decoded = prepare_poster(encode(Image.fromarray(ramp), "PNG"))
    assert decoded.min() < 10 and 200 < decoded.max() <= 255 and len(np.unique(decoded)) > 100


def test_exif_orientation_is_honoured():
    landscape = Image.new("RGB", (80, 40), (200, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    decoded = prepare_poster(encode(landscape, "JPEG", exif=exif.tobytes()))
    assert decoded.shape == (80, 40, 3)  # shown upright: portrait


# --- Summaries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t  \r\n"])
def test_empty_summary_is_refused(text):
    with pytest.raises(ValueError, match="empty"):
        prepare_overview(text)


def test_a_megabyte_of_text_is_truncated_quickly():
    started = time.perf_counter()
    text, truncated = prepare_overview("lorem ipsum " * 90_000)
    assert time.perf_counter() - started < 1.0
    assert truncated and len(text) == MAX_OVERVIEW_CHARACTERS


# --- Fuzzing ---------------------------------------------------------------------------------------


def decode_or_refuse(raw: bytes) -> None:
    """A clean result or a clean refusal, nothing else."""
    try:
        poster = prepare_poster(raw)
    except ValueError:
        return
    assert poster.ndim == 3 and poster.shape[2] == 3 and poster.dtype == np.uint8


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_fuzz_random_bytes_through_poster_validation(raw):
    decode_or_refuse(raw)


@pytest.fixture(scope="module")
def real_poster_bytes(real_data_dir) -> bytes:
    return next((real_data_dir / IMAGES_DIR_NAME).glob("*.jpg")).read_bytes()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fuzz_mutated_real_posters(real_poster_bytes, drawn):
    raw = bytearray(real_poster_bytes)
    for _ in range(drawn.draw(st.integers(1, 20))):
        position = drawn.draw(st.integers(0, len(raw) - 1))
        raw[position] = drawn.draw(st.integers(0, 255))
    if drawn.draw(st.booleans()):
        raw = raw[: drawn.draw(st.integers(0, len(raw)))]
    decode_or_refuse(bytes(raw))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, blacklist_categories=()), max_size=2000))
def test_fuzz_random_unicode_through_the_text_path(text):
    try:
        cleaned, _ = prepare_overview(text)
    except ValueError as refusal:
        assert "empty" in str(refusal)
        return
    cleaned.encode("utf-8")  # always encodable for TensorFlow
    assert cleaned.strip() and len(cleaned) <= MAX_OVERVIEW_CHARACTERS


def test_unicode_reaches_a_real_text_model(tiny_trained):
    from genre_models.inference import GenrePredictor

    predictor = GenrePredictor.from_artifacts(tiny_trained["course_lstm"].artifact_dir.parent, names=["course_lstm"])
    for text in ["🎬🍿 explosions!", "مغامرة في الصحراء", "\u202eevil\u202c", "a\x00b\x07c", "\ud83d lone surrogate"]:
        assert len(predictor.predict(overview=text).predictions[0].probabilities) == 25

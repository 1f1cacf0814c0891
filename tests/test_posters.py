"""genre_app/posters.py: the safe poster display and the upload's limits."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from genre_app import posters

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


@pytest.mark.parametrize("kind", sorted(UNDECODABLE))
def test_read_poster_gives_a_reason_instead_of_raising(tmp_path, kind):
    path = tmp_path / "tt1.jpg"
    path.write_bytes(UNDECODABLE[kind])
    for source in (path, UNDECODABLE[kind]):
        pixels, problem = posters.read_poster(source)
        assert pixels is None and problem


def test_read_poster_of_a_missing_file_gives_a_reason(tmp_path):
    pixels, problem = posters.read_poster(tmp_path / "missing.jpg")
    assert pixels is None and problem


def test_read_poster_converts_a_16_bit_png_as_the_models_do():
    pixels, problem = posters.read_poster(sixteen_bit_png())
    assert problem is None
    assert pixels.dtype == np.uint8 and pixels.shape == (90, 60, 3)
    assert pixels.max() > 200  # scaled to 8 bits, not clipped to white or black
    assert pixels.min() < 50


def show_poster_app(source, caption):
    from genre_app import posters

    posters.show_poster(source, width=100, caption=caption)


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

    monkeypatch.setattr(posters, "decode_poster", must_not_decode)
    with pytest.raises(ValueError, match=f"{posters.MAX_UPLOAD_MEGABYTES} MB"):
        posters.read_upload(b"\xff" * (posters.MAX_UPLOAD_BYTES + 1))


def test_read_upload_decodes_a_poster_under_the_limits():
    assert posters.read_upload(sixteen_bit_png()).shape == (90, 60, 3)


def test_read_upload_refuses_a_png_over_the_upload_pixel_cap_that_a_dataset_poster_may_have():
    from genre_models.dataset.posters import MAX_POSTER_PIXELS

    side = int(np.sqrt(posters.MAX_UPLOAD_PIXELS)) + 100
    assert side * side < MAX_POSTER_PIXELS  # allowed in the data, refused as an upload
    with pytest.raises(ValueError, match="megapixels"):
        posters.read_upload(encoded(Image.new("L", (side, side)), "PNG"))


def test_upload_limits_text_states_both_limits():
    text = posters.upload_limits_text()
    assert f"{posters.MAX_UPLOAD_MEGABYTES} MB" in text and "megapixels" in text

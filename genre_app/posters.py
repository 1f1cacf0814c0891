"""Posters shown safely: decoded through the models' own checks, sent at most twice their display width, and a
short text in place of one that cannot be shown; the upload's limits."""

from __future__ import annotations

import os

import numpy as np
import streamlit as st
from PIL import Image

from genre_app.text import escape_markdown
from genre_models.dataset import MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS, decode_poster

# Posters are sent to the browser at most this many times their display width: enough for sharp
# display on high-density screens, far less than a 12,000-pixel upload.
DISPLAY_SCALE = 2
# The upload limit in the unit the upload widget takes (MB).
MAX_UPLOAD_MEGABYTES = MAX_UPLOAD_BYTES // 2**20


def read_poster(source: str | os.PathLike | bytes | np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """Return a poster as RGB pixels through the models' own safe decode, or None and why it is unusable.

    A missing, empty, damaged or unsupported file (GIF, say) gives a reason instead of an exception;
    16-bit and transparent images are converted exactly as the models see them.
    """
    if isinstance(source, np.ndarray):
        return source, None
    try:
        return decode_poster(source), None
    except ValueError as error:
        return None, str(error)


def read_upload(raw: bytes) -> np.ndarray:
    """Decode an uploaded poster or raise ValueError saying why not.

    The size limit is checked here, on the server, before any decoding: the upload widget's own
    limit is only enforced by the browser, which a script can bypass.
    """
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ValueError(f"the file is {len(raw) / 2**20:.1f} MB; posters up to {MAX_UPLOAD_MEGABYTES} MB "
                         "are accepted")
    return decode_poster(raw, max_pixels=MAX_UPLOAD_PIXELS)


def upload_limits_text() -> str:
    """Say which uploads are accepted, for the upload widget's caption."""
    return (f"JPEG, PNG or WebP up to {MAX_UPLOAD_MEGABYTES} MB and {MAX_UPLOAD_PIXELS / 1e6:g} megapixels; "
            "large JPEGs are decoded at reduced size, 16-bit and transparent images are converted.")


def show_poster(source: str | os.PathLike | bytes | np.ndarray | None, width: int, caption: str | None = None,
                container=None, alt: str | None = None) -> np.ndarray | None:
    """Show a poster at a width, or a short text in its place when it cannot be decoded; return its pixels.

    Every poster the app shows goes through here, so a bad file costs one placeholder, never the page.
    The caption is also passed as the image's alternative text (a caption alone is not one); ``alt`` gives
    one to a poster shown without a caption.
    """
    container = container or st
    pixels, problem = (None, "no poster") if source is None else read_poster(source)
    if pixels is None:
        container.caption(escape_markdown(f"🖼️ Poster not shown: {problem}." + (f" ({caption})" if caption else "")))
        return None
    thumbnail = Image.fromarray(pixels)
    thumbnail.thumbnail((width * DISPLAY_SCALE, width * DISPLAY_SCALE * 4))
    container.image(thumbnail, width=width, caption=caption, alt=alt or caption or "Film poster")
    return pixels

"""Is this input like what the models learnt from? Plain, measurable properties of a poster and a summary.

Each check names its reason in words a user understands; the thresholds are set from the dataset's own
posters and summaries so that they almost never warn (measured by benchmarks/poster_checks.py, figures in
the README). No Streamlit, no TensorFlow: the Predict page and the CLI can both call these.

- ``poster_measures``: aspect ratio, detail, noise (how unrelated neighbouring pixels are), and the marks of
  a page of text (paper, no colour, rows of small dark strokes down the page) of an image;
- ``poster_doubts``: the reasons an image does not look like a poster (empty: it does);
- ``overview_doubts``: the reasons a text does not look like one of the dataset's plot summaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

# Side of the square the image is shrunk to before measuring (enough for each property, and fast).
MEASURE_SIDE = 64
# Posters are upright (the dataset's are all stored at 150x300, width / height 0.5; printed posters are about
# 0.67); an image this much wider than tall is a photo or a screenshot.
MAX_POSTER_ASPECT = 1.15
# Mean difference between neighbouring pixels at 64x64: dataset posters 4.4-78 (0.1th percentile 8.6); a
# plain gradient scores about 4.
MIN_POSTER_DETAIL = 8.0
# Correlation of each pixel's brightness with its right and lower neighbours at 64x64: dataset posters
# 0.49-0.99 (0.1th percentile 0.62); random noise is near 0.
MIN_NEIGHBOUR_CORRELATION = 0.25
# A page of text (a photo of one included): mostly paper, hardly any colour, and rows of small dark strokes
# spread down the whole page with blank rows between them. All of these together: 2 of the dataset's 5,325
# posters (a few white posters with credits), against every page of text we tried.
# A pixel is paper when this bright (mean of its channels, 0-255) and colourless (channels within 30).
PAPER_BRIGHTNESS, PAPER_COLOUR_SPREAD = 190, 30
MIN_PAGE_PAPER_SHARE = 0.5
MAX_PAGE_SATURATION = 0.15
# Share of colourful pixels (saturation over 0.35 and not dark): under 1% on a page of text.
MAX_PAGE_COLOURFUL_SHARE = 0.01
# Rows are read at TEXT_SIDE x TEXT_SIDE: ink is anything 60 darker than the paper (the 90th percentile of
# brightness); a text row crosses ink at least TEXT_ROW_CROSSINGS times; a blank row has almost no ink.
TEXT_SIDE = 256
INK_BELOW_PAPER = 60
TEXT_ROW_CROSSINGS = 12
MIN_TEXT_ROW_SHARE, MIN_BLANK_ROW_SHARE = 0.25, 0.25
MIN_PAGE_INK_SHARE, MAX_PAGE_INK_SHARE = 0.03, 0.25
# The page is cut into this many horizontal bands; text rows must be in at least MIN_TEXT_BANDS of them.
TEXT_BANDS, MIN_TEXT_BANDS = 8, 6
# The dataset's overviews have 1-68 words (median 26); far longer text is unlike anything seen.
LONGEST_TRAINING_OVERVIEW_WORDS = 68
TOO_LONG_FACTOR = 3
# Ordinary words: 15-40% of a dataset overview's words (0.5th percentile 15%) are among these.
COMMON_WORDS = frozenset(
    "the a an of and to in is his her he she their they with for on at by from who as that it its when but after "
    "into this be are was has have will one two life young man woman new".split())
MIN_COMMON_SHARE = 0.05
MIN_WORDS_FOR_TEXT_CHECK = 8


@dataclass(frozen=True)
class PosterMeasures:
    """The properties of an image the poster checks read."""

    # Width / height of the image as given.
    aspect: float
    # Mean absolute difference between neighbouring pixels at 64x64 (0-510).
    detail: float
    # Mean correlation of a pixel's brightness with its right and lower neighbours at 64x64 (-1 to 1; 1 for
    # a flat image, where nothing varies).
    neighbour_correlation: float
    # Share of near-white, colourless pixels (at 64x64).
    paper_share: float
    # Mean saturation (max - min channel, over the max), 0-1, and the share of clearly colourful pixels.
    saturation: float
    colourful_share: float
    # At 256x256: share of dark ("ink") pixels, of rows crossing ink often (text rows), of rows with almost
    # no ink (blank rows), and how many of the 8 horizontal bands hold a text row.
    ink_share: float
    text_row_share: float
    blank_row_share: float
    text_bands: int

def correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Return the correlation of two equally shaped arrays (1 when either does not vary)."""
    first, second = first.ravel() - first.mean(), second.ravel() - second.mean()
    spread = float(np.sqrt((first * first).sum() * (second * second).sum()))
    return float((first * second).sum() / spread) if spread > 1e-9 else 1.0


def text_rows(pixels: np.ndarray) -> tuple[float, float, float, int]:
    """Return (ink share, text-row share, blank-row share, bands with a text row) of an image read in grey."""
    grey = np.asarray(Image.fromarray(pixels).convert("L").resize((TEXT_SIDE, TEXT_SIDE)), dtype=np.float32)
    ink = grey < np.percentile(grey, 90) - INK_BELOW_PAPER
    crossings = np.abs(np.diff(ink.astype(np.int8), axis=1)).sum(axis=1)
    is_text_row = crossings >= TEXT_ROW_CROSSINGS
    bands = int(is_text_row.reshape(TEXT_BANDS, -1).any(axis=1).sum())
    return float(ink.mean()), float(is_text_row.mean()), float((ink.sum(axis=1) <= 1).mean()), bands


def poster_measures(pixels: np.ndarray) -> PosterMeasures:
    """Return the measured properties of an RGB image (height, width, 3)."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    height, width = pixels.shape[:2]
    small = np.asarray(Image.fromarray(pixels).convert("RGB").resize((MEASURE_SIDE, MEASURE_SIDE)),
                       dtype=np.float32)
    brightness = small.mean(axis=2)
    highest, lowest = small.max(axis=2), small.min(axis=2)
    spread = highest - lowest
    saturation = spread / np.maximum(highest, 1.0)
    ink_share, text_row_share, blank_row_share, text_bands = text_rows(pixels)
    return PosterMeasures(
        aspect=width / max(height, 1),
        detail=float(np.abs(np.diff(small, axis=0)).mean() + np.abs(np.diff(small, axis=1)).mean()),
        neighbour_correlation=(correlation(brightness[:, :-1], brightness[:, 1:])
                               + correlation(brightness[:-1], brightness[1:])) / 2,
        paper_share=float(((brightness >= PAPER_BRIGHTNESS) & (spread <= PAPER_COLOUR_SPREAD)).mean()),
        saturation=float(saturation.mean()), colourful_share=float(((saturation > 0.35) & (highest > 60)).mean()),
        ink_share=ink_share, text_row_share=text_row_share, blank_row_share=blank_row_share, text_bands=text_bands,
    )


def looks_like_a_text_page(measures: PosterMeasures) -> bool:
    """Return whether the measures are those of a page of text: paper, no colour, rows of text down the page."""
    return (measures.paper_share > MIN_PAGE_PAPER_SHARE and measures.saturation < MAX_PAGE_SATURATION
            and measures.colourful_share < MAX_PAGE_COLOURFUL_SHARE
            and measures.text_row_share >= MIN_TEXT_ROW_SHARE and measures.blank_row_share >= MIN_BLANK_ROW_SHARE
            and MIN_PAGE_INK_SHARE <= measures.ink_share <= MAX_PAGE_INK_SHARE
            and measures.text_bands >= MIN_TEXT_BANDS)


def poster_doubts(pixels: np.ndarray | None) -> list[str]:
    """Return why an image does not look like a poster (empty: it does, by these simple measures)."""
    if pixels is None:
        return []
    measures = poster_measures(pixels)
    doubts = []
    if measures.aspect > MAX_POSTER_ASPECT:
        doubts.append(f"the image is wider than tall ({measures.aspect:.2f} : 1, like a photo or a screenshot); "
                      "film posters are upright")
    if measures.detail < MIN_POSTER_DETAIL:
        doubts.append("the image has almost no detail (a plain colour or a gradient?), unlike the posters the "
                      "models learnt from")
    elif measures.neighbour_correlation < MIN_NEIGHBOUR_CORRELATION:
        doubts.append("the image looks like random noise: its neighbouring pixels are unrelated, unlike in any "
                      "poster the models learnt from")
    elif looks_like_a_text_page(measures):
        doubts.append("the image looks like a page of text (mostly white paper and dark ink, no colour), not "
                      "a poster")
    return doubts


def overview_doubts(overview: str | None) -> list[str]:
    """Return why an overview does not look like the dataset's plot summaries (empty: it does)."""
    if not overview:
        return []
    words = str(overview).split()
    doubts = []
    if len(words) > TOO_LONG_FACTOR * LONGEST_TRAINING_OVERVIEW_WORDS:
        doubts.append(f"the summary has {len(words):,} words; the models learnt from summaries of at most "
                      f"{LONGEST_TRAINING_OVERVIEW_WORDS} words")
    if len(words) >= MIN_WORDS_FOR_TEXT_CHECK:
        share = np.mean([word.lower().strip(".,;:!?()\"'") in COMMON_WORDS for word in words])
        if share < MIN_COMMON_SHARE:
            doubts.append("the summary has hardly any ordinary English words (is it text about a film?)")
    return doubts

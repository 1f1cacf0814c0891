"""The explanations view: why a model gave a genre its probability, first in plain words (which words and
which part of the poster pushed towards the genre), then the technical detail (the tinted summary, the
Grad-CAM heatmap, a fused model's parts), on the Predict, Compare and Dataset browser pages.

The explanations themselves are computed by genre_models.explain (cached by the app); this module only
shows them. Words and genres are dataset or user text: escaped before any Markdown or HTML.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from genre_app.text import escape_markdown
from genre_app.posters import DISPLAY_SCALE
from genre_models.metrics import compute_log_odds

# Word tints: what raises the explained genre, and what lowers it (a pair told apart with colour blindness).
RAISES_RGB = (230, 97, 1)
LOWERS_RGB = (33, 102, 172)
# Strongest tint (alpha) of the word with the largest weight.
MAX_TINT = 0.8
WEIGHT_UNITS = {
    "probability": "a word's weight is how much the genre's probability falls when the word is removed",
    "logit": "a word's weight is its exact share of the genre's logit: the weights add up to the logit minus "
             "the bias",
}


def escape_html_text(text: str) -> str:
    """Return text safe inside HTML and Markdown: letters, digits and spaces as they are, every other
    character as a numeric entity (so neither tags nor Markdown or LaTeX marks survive)."""
    return "".join(character if character.isalnum() or character == " " else f"&#{ord(character)};"
                   for character in str(text))


def tint(weight: float, scale: float) -> str:
    """Return the CSS background of a word of this weight (the largest |weight| is ``scale``)."""
    red, green, blue = RAISES_RGB if weight >= 0 else LOWERS_RGB
    alpha = MAX_TINT * min(abs(weight) / scale, 1.0) if scale > 0 else 0.0
    return f"rgba({red}, {green}, {blue}, {alpha:.2f})"


def tinted_overview_html(explanation) -> str:
    """Return the explained overview as one HTML line: each word (escaped) on its tint, its weight as a
    tooltip, the text between words kept as single spaces."""
    weights = np.asarray(explanation.weights, dtype=np.float64)
    scale = float(np.abs(weights).max()) if len(weights) else 0.0
    pieces = []
    for number, (word, weight) in enumerate(zip(explanation.words, weights)):
        if number:
            pieces.append(" ")
        pieces.append(f'<span class="explained-word" title="{weight:+.4f}" style="background-color: '
                      f'{tint(weight, scale)}; border-radius: 0.3rem; padding: 0.05rem 0.2rem;">'
                      f"{escape_html_text(word)}</span>")
    return f'<div style="line-height: 2;">{"".join(pieces)}</div>'


def word_legend_html(genre: str, unit: str | None) -> str:
    """Return the legend of the word tints (both colours, named) and what a weight means."""

    def swatch(rgb) -> str:
        return (f'<span style="background-color: rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, {MAX_TINT}); '
                'border-radius: 0.3rem; padding: 0 0.6rem;">&nbsp;</span>')

    genre = escape_html_text(genre)
    meaning = escape_html_text(WEIGHT_UNITS.get(unit or "", ""))
    return (f'<div style="font-size: 0.85rem;">{swatch(RAISES_RGB)} raises {genre} &nbsp; {swatch(LOWERS_RGB)} '
            f"lowers {genre} &nbsp; (the stronger the tint, the larger the effect; {meaning})</div>")


def show_heatmap(explanation, poster: np.ndarray, width: int, key: str, container=None) -> None:
    """Show the Grad-CAM heatmap over the poster, with an opacity slider and a legend."""
    from genre_models.explain import overlay_heatmap

    container = container or st
    opacity = container.slider("Heatmap opacity", 0.0, 1.0, 0.5, 0.05, key=f"{key}-opacity")
    thumbnail = Image.fromarray(np.asarray(poster, dtype=np.uint8))
    thumbnail.thumbnail((width * DISPLAY_SCALE, width * DISPLAY_SCALE * 4))
    description = f"Grad-CAM heatmap: where the poster raised {explanation.genre} for {explanation.model}"
    container.image(overlay_heatmap(np.asarray(thumbnail), explanation.heatmap, opacity), width=width,
                    caption=description, alt=description)
    container.caption("Dark blue: no influence; yellow to red: what raised the genre most (gradient of its logit "
                      "on the network's last convolution, scaled to the poster).")


def show_explanation(explanation, poster: np.ndarray | None, key: str, container=None, width: int = 200) -> None:
    """Show an explanation: the poster heatmap, the tinted overview with its legend, a fused model's
    shares and each part's own explanation (in bordered boxes, never expanders, which cannot nest)."""
    container = container or st
    genre = escape_markdown(explanation.genre)
    container.markdown(f"**Why {genre} ({explanation.probability:.0%})** · {explanation.method}")
    for note in explanation.notes:
        container.caption(note)
    if explanation.parts and explanation.pulls is not None:
        # A fusion of log-odds: a part below 50% pulls the genre down, so "shares" of the probability would
        # mislead; each input's weighted log-odds says which way and how hard it pulls.
        pulls = explanation.pulls
        container.markdown(f"**Pull on the fused log-odds** (weight x each part's log-odds; + raises "
                           f"{genre}, - lowers it): poster {pulls['poster']:+.2f} · "
                           f"overview {pulls['overview']:+.2f}")
        container.dataframe(pd.DataFrame([{"part": part.name, "input": part.input_kind, "weight": part.weight,
                                           f"P({explanation.genre})": part.probability,
                                           "weighted log-odds": part.weight * float(compute_log_odds(part.probability))}
                                          for part in explanation.parts]),
                            hide_index=True, key=f"{key}-parts")
    elif explanation.parts:
        shares = explanation.shares
        container.markdown(f"**Share of the fused probability:** poster {shares['poster']:.0%} · "
                           f"overview {shares['overview']:.0%}")
        container.progress(min(max(shares["poster"], 0.0), 1.0),
                           text=f"poster {shares['poster']:.0%} / overview {shares['overview']:.0%}")
        container.dataframe(pd.DataFrame([{"part": part.name, "input": part.input_kind, "weight": part.weight,
                                           f"P({explanation.genre})": part.probability, "share": part.share}
                                          for part in explanation.parts]),
                            hide_index=True, key=f"{key}-parts")
    if explanation.heatmap is not None and poster is not None and not explanation.parts:
        show_heatmap(explanation, poster, width, key, container)
    if explanation.words is not None and not explanation.parts:
        container.markdown(tinted_overview_html(explanation), unsafe_allow_html=True)
        container.markdown(word_legend_html(explanation.genre, explanation.weight_unit), unsafe_allow_html=True)
    if explanation.parts and explanation.words is not None:
        container.markdown("**Words, for the fused probability** (the text parts' occlusion, weighted):")
        container.markdown(tinted_overview_html(explanation), unsafe_allow_html=True)
        container.markdown(word_legend_html(explanation.genre, explanation.weight_unit), unsafe_allow_html=True)
    for part in explanation.part_explanations:
        box = container.container(border=True)
        box.markdown(f"**{escape_markdown(part.model)}**: its own explanation")
        show_explanation(part, poster, key=f"{key}-{part.model}", container=box, width=width)


def explanation_panel(model_name: str, genres: list[str], top_genre: str | None, explain, poster: np.ndarray | None,
                      key: str, container=None, width: int = 200) -> None:
    """The Explain control of a model: a toggle, computed only when switched on; a genre picker that
    starts on the model's top genre; the explanation (``explain(genre)``, cached by the caller).
    A missing input is a message, not an error."""
    container = container or st
    if not container.toggle("Explain", key=key, help=f"Show why {model_name} gave a genre its probability"):
        return
    # One container (CSS class st-key-<key>-panel) holds everything the explanation shows.
    panel = container.container(key=f"{key}-panel")
    default = genres.index(top_genre) if top_genre in genres else 0
    genre = panel.selectbox("Genre to explain", genres, index=default, key=f"{key}-genre-{top_genre}")
    try:
        explained = explain(genre)
    except ValueError as error:
        panel.info(f"No explanation: {error}")
        return
    show_explanation(explained, poster, key=key, container=panel, width=width)


# Words named in the plain reading, each way.
WORDS_NAMED = 3
# Parts of the poster, by where its heat is: rows of the 3x3 grid, then columns.
POSTER_ROWS, POSTER_COLUMNS = ("top", "middle", "bottom"), ("left", "centre", "right")


def quoted_words(pairs: list[tuple[str, float]]) -> str:
    """Return words as a quoted, comma-separated list: '"war", "love" and "family"'."""
    words = [f"\u201c{word}\u201d" for word, _ in pairs]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def hottest_part(heatmap: np.ndarray) -> str:
    """Return the part of the poster with the most heat, in words ("the top left", "the middle centre" is
    said "the centre")."""
    rows, columns = heatmap.shape[:2]
    cells = np.array([[heatmap[r * rows // 3:(r + 1) * rows // 3, c * columns // 3:(c + 1) * columns // 3].mean()
                       for c in range(3)] for r in range(3)])
    row, column = np.unravel_index(int(np.nanargmax(cells)), cells.shape)
    return "the centre" if (row, column) == (1, 1) else f"the {POSTER_ROWS[row]} {POSTER_COLUMNS[column]}"


def word_reasons(explanation) -> list[str]:
    """Return the plain sentences about the words: those that pushed towards the genre and against it."""
    pairs = [(word, weight) for word, weight in explanation.word_weights() if weight != 0]
    towards = sorted((pair for pair in pairs if pair[1] > 0), key=lambda pair: -pair[1])[:WORDS_NAMED]
    against = sorted((pair for pair in pairs if pair[1] < 0), key=lambda pair: pair[1])[:WORDS_NAMED]
    genre, lines = explanation.genre, []
    if towards:
        lines.append(f"Words of the summary that pushed towards {genre}: {quoted_words(towards)}.")
    if against:
        lines.append(f"Words that pushed away from {genre}: {quoted_words(against)}.")
    if explanation.words is not None and not pairs:
        lines.append(f"No single word of the summary changed {genre}'s probability.")
    return lines


def plain_reasons(explanation) -> list[str]:
    """Return why, in plain sentences (plain text, not Markdown): which input pushed more (a fused model),
    which words pushed towards the genre or away from it, and which part of the poster pushed most."""
    genre, lines = explanation.genre, []
    pulls, shares = explanation.pulls, explanation.shares
    if pulls is not None:
        sides = {kind: "towards" if pull > 0 else "away from" for kind, pull in pulls.items()}
        stronger = "summary" if abs(pulls["overview"]) > abs(pulls["poster"]) else "poster"
        if sides["poster"] == sides["overview"]:
            lines.append(f"The poster and the summary both pushed {sides['poster']} {genre}; the {stronger} "
                         "pushed harder.")
        else:
            lines.append(f"The poster pushed {sides['poster']} {genre} and the summary {sides['overview']} it; "
                         f"the {stronger} pushed harder.")
    elif shares is not None:
        leading = "summary" if shares["overview"] >= shares["poster"] else "poster"
        lines.append(f"The {leading} brought most of {genre}'s probability ({max(shares.values()):.0%} of it).")
    sources = explanation.part_explanations or [explanation]
    if explanation.words is not None:
        lines += word_reasons(explanation)
    else:
        lines += [line for part in sources if part.words is not None for line in word_reasons(part)]
    for part in sources:
        if part.heatmap is not None:
            lines.append(f"In the poster, {hottest_part(part.heatmap)} pushed most towards {genre}.")
    return lines


def show_why(explanation, poster: np.ndarray | None, key: str, container=None) -> None:
    """Show why, in plain words, with the technical detail folded under it."""
    container = container or st
    container.markdown(f"**Why {escape_markdown(explanation.genre)} ({explanation.probability:.0%})?**")
    for line in plain_reasons(explanation) or ["This model gives no reasons for this input."]:
        container.markdown(escape_markdown(line))
    with container.expander("Technical detail: how this was measured"):
        show_explanation(explanation, poster, key=key)

"""What is left of the pages' shared helpers until their owners move them: the explanations view (to
genre_app/explanations.py) and the Train page's training curves, run use and worker descriptions (to
genre_app/train.py). Every other shared helper has its own module (genre_app/films.py, posters.py, links.py...).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from genre_app.posters import DISPLAY_SCALE
from genre_models import runs
from genre_models.metrics import compute_log_odds


# --- Training curves --------------------------------------------------------------------------------------------

def accuracy_of_answering_nothing(baseline: dict | None) -> tuple[float, int, int] | None:
    """Return the binary accuracy of answering no genre for any film of the test split, with the films and
    genres it counts, from the per-genre supports the baseline recorded (artifacts/baselines.json); None
    without them."""
    test = ((baseline or {}).get("metrics") or {}).get("test") or {}
    per_genre, films = test.get("per_genre"), test.get("films")
    if not isinstance(per_genre, dict) or not per_genre or not isinstance(films, int) or films <= 0:
        return None
    try:
        positives = sum(int(values["support"]) for values in per_genre.values())
    except (KeyError, TypeError, ValueError):
        return None
    return 1 - positives / (films * len(per_genre)), films, len(per_genre)


def explain_binary_accuracy(baseline: dict | None) -> str:
    """Say why binary accuracy flatters multi-label models, with the score of answering nothing when known."""
    nothing = accuracy_of_answering_nothing(baseline)
    figure = (f": answering no genre at all for every film scores {nothing[0]:.2f} on the test split "
              f"({nothing[1]:,} films x {nothing[2]} genres)") if nothing else ""
    return ("Binary accuracy is misleading for multi-label data. It counts every (film, genre) pair, and most of the "
            f"genres are 0 for every film{figure}. Judge a run by its loss, micro-/macro-F1 and PR-AUC instead.")


@st.cache_data(show_spinner=False, max_entries=8)
def get_shipped_histories(artifacts_dir: str, stamps: tuple[tuple[str, float], ...]) -> dict[str, list[dict]]:
    """Return {shipped model: its per-epoch history}, read once per state of the history files."""
    from genre_models.artifacts import list_artifact_folders

    return {name: runs.read_history(folder) for name, folder in list_artifact_folders(Path(artifacts_dir)).items()}


def shipped_histories() -> dict[str, list[dict]]:
    """Return the per-epoch history of every shipped artifact (a fused model's is empty: no epochs)."""
    from genre_models.artifacts import HISTORY_FILE, list_artifact_folders
    from genre_models.config import resolve_artifacts_dir

    folder = resolve_artifacts_dir()
    stamps = []
    for name, path in sorted(list_artifact_folders(folder).items()):
        try:
            stamps.append((name, (path / HISTORY_FILE).stat().st_mtime))
        except OSError:
            stamps.append((name, 0.0))
    return get_shipped_histories(str(folder), tuple(stamps))



# --- Explanations (issue 13) ------------------------------------------------------------------------------------

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
    container.markdown(f"**Why {explanation.genre} ({explanation.probability:.0%})** · {explanation.method}")
    for note in explanation.notes:
        container.caption(note)
    if explanation.parts and explanation.pulls is not None:
        # A fusion of log-odds: a part below 50% pulls the genre down, so "shares" of the probability would
        # mislead; each input's weighted log-odds says which way and how hard it pulls.
        pulls = explanation.pulls
        container.markdown(f"**Pull on the fused log-odds** (weight x each part's log-odds; + raises "
                           f"{explanation.genre}, - lowers it): poster {pulls['poster']:+.2f} · "
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
        box.markdown(f"**{part.model}**: its own explanation")
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

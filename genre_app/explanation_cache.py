"""Explanations computed once per (model, input, genre) and kept: the cached side of the Explain control
(genre_app.explanations shows them)."""

from __future__ import annotations

import streamlit as st

from genre_app.models import get_predictor, predictor, promotions
from genre_models.config import resolve_artifacts_dir
from genre_models.inputs import OVERVIEW, POSTER, fingerprint_poster


@st.cache_resource(show_spinner=False, max_entries=4)
def get_explainer(artifacts_dir: str, promoted: tuple[tuple[str, str], ...] = ()):
    """Return the explainer of the cached predictor's models (its traced functions are built once)."""
    from genre_models.explain import Explainer

    return Explainer(get_predictor(artifacts_dir, promoted).models)


@st.cache_data(show_spinner="Explaining...", max_entries=256)
def get_explanation(model_name: str, poster_key: str | None, overview: str | None, genre: str, artifacts_dir: str,
                    promoted: tuple[tuple[str, str], ...] = (), _poster=None):
    """Explain one model's genre for one input; cached per (model, poster digest, overview, genre, models)."""
    return get_explainer(artifacts_dir, promoted).explain(model_name, poster=_poster, overview=overview, genre=genre)


def explanation(model_name: str, poster, overview: str | None, genre: str):
    """Return why a model gave a genre its probability for this input, computed once per (model, input,
    genre); only the inputs the model reads are used. Raises ValueError (a missing input, say)."""
    kinds = predictor().get(model_name).input_kinds
    poster = poster if POSTER in kinds and poster is not None else None
    overview = overview if OVERVIEW in kinds else None
    poster_key = fingerprint_poster(poster)
    return get_explanation(model_name, poster_key, overview, genre, str(resolve_artifacts_dir()), promotions(),
                           _poster=poster)

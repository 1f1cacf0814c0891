"""Each model's scores on a split, cached for the server's life (threshold changes never re-run a model), the
progress bars of a scoring that must run, and each model's validation reference for Predict's wording."""

from __future__ import annotations

import time

import streamlit as st

from genre_app.caches import ServerCache
from genre_app.data import data_location, data_stamp, get_dataset
from genre_app.models import get_predictor, promotions
from genre_models.config import resolve_artifacts_dir


def score_split_of(model_name: str, location: str, split: str, stamp: str, artifacts_dir: str,
                   promoted: tuple[tuple[str, str], ...] = (), progress=None):
    """Return one model's scores on one split (get_split_scores caches them, so threshold changes never re-run
    the model).

    The validation and test scores shipped beside the artifact (split_scores.npz) are read when
    they still match the artifact and this dataset (genre_models.split_scores); anything else is
    scored here, chunk by chunk, calling ``progress(model, films done, films in total)``.
    """
    from genre_models.scoring import read_or_score_split, score_split

    models = get_predictor(artifacts_dir, promoted)
    loaded = models.get(model_name)

    def score():
        return score_split(
            models, model_name,
            dataset_for=lambda image_size: get_dataset(location, image_size, stamp),
            split=split,
            score_part=lambda name: get_split_scores(name, location, split, stamp, artifacts_dir, promoted,
                                                     progress=progress),
            progress=(lambda done, total, what: progress(model_name, done, total)) if progress else None,
        )

    fingerprint = get_dataset(location, None, stamp).fingerprint
    return read_or_score_split(loaded.folder, loaded.metadata, split, fingerprint, score)[0]


# Scores by (model, dataset location, split, data stamp, artifacts folder, promotions).
get_split_scores = ServerCache(score_split_of, max_entries=32)


def split_scores(model_name: str, split: str, progress=None):
    """Return the cached scores of a model on a split of the configured dataset; ``progress(model,
    done, total)`` hears of any scoring that must run (ScoringProgress shows it)."""
    location = data_location()
    return get_split_scores(model_name, str(location), split, data_stamp(location), str(resolve_artifacts_dir()),
                            promotions(), progress=progress)


@st.cache_resource(show_spinner=False, max_entries=64)
def get_answer_reference(folder: str, created_at: str | None, _metadata: dict):
    """Return how decisive a model was on its validation films (genre_app.answers.Reference), from
    the split scores shipped with it; None when it has none usable."""
    from genre_app.answers import reference_from_scores
    from genre_models.split_scores import read_split_scores

    stored = read_split_scores(folder, _metadata, "validation")
    return None if stored is None else reference_from_scores(stored.labels, stored.scores)


def answer_reference(loaded):
    """Return the cached validation reference of a loaded model (see get_answer_reference)."""
    return get_answer_reference(str(loaded.folder), loaded.metadata.get("created_at"), loaded.metadata)


def format_duration(seconds: float) -> str:
    """Return a rough duration for people: "5 s", "2 min 10 s"."""
    seconds = max(0, int(round(seconds)))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def progress_text(name: str, done: int, total: int, elapsed: float) -> str:
    """Say how far the scoring of a model is: films done / total and the time left (from the pace so far)."""
    if total and done >= total:
        return f"{name}: {total:,} / {total:,} films scored in {format_duration(elapsed)}"
    left = "estimating the time left" if done <= 0 or elapsed <= 0 else \
        f"about {format_duration(elapsed * (total - done) / done)} left"
    return f"Scoring with {name}: {done:,} / {total:,} films, {left}"


class ScoringProgress:
    """Per-model progress bars for the scoring a page must run (scores not shipped with the artifact):
    pass it as ``progress`` to split_scores; nothing is drawn when every score is read from a
    file. ``clear()`` removes the bars once the page has its scores."""

    def __init__(self, container=None):
        self.container = container or st
        self.bars, self.started = {}, {}

    def __call__(self, name: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if name not in self.bars:
            self.bars[name] = self.container.progress(0.0, text=progress_text(name, 0, total, 0.0))
            self.started[name] = now
        fraction = min(max(done / total, 0.0), 1.0) if total else 1.0
        self.bars[name].progress(fraction, text=progress_text(name, done, total, now - self.started[name]))

    def clear(self) -> None:
        for bar in self.bars.values():
            bar.empty()

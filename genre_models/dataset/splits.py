"""Splits and sub-samples decided from a film's Id alone, so adding films moves no other film."""

from __future__ import annotations

import hashlib

import numpy as np

from genre_models.config import SplitConfig

# The splits a film can be in ("all" also selects every film where a split is asked for).
SPLIT_NAMES = ("train", "validation", "test")


def bucket_of(film_id: str, salt: str = "") -> int:
    """Return a stable bucket 0-99 from a film Id (and an optional salt)."""
    return int(hashlib.sha256(f"{salt}{film_id}".encode()).hexdigest(), 16) % 100


def assign_split(film_id: str, split_config: SplitConfig = SplitConfig()) -> str:
    """Return the split of a film; depends only on its Id, so adding films moves no other."""
    bucket = bucket_of(film_id)
    if bucket < split_config.train_percent:
        return "train"
    if bucket < split_config.train_percent + split_config.validation_percent:
        return "validation"
    return "test"


def select_films(ids: np.ndarray, max_films: int | None, seed: int) -> np.ndarray:
    """Return indices of at most ``max_films`` films, chosen by a seeded hash of their Id."""
    if max_films is None or max_films >= len(ids):
        return np.arange(len(ids))
    if max_films <= 0:
        raise ValueError("max_films must be a positive number of films.")
    order = sorted(range(len(ids)), key=lambda i: hashlib.sha256(f"{seed}:{ids[i]}".encode()).hexdigest())
    return np.sort(np.array(order[:max_films]))

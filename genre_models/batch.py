"""Predicting (and explaining) whole course-format folders, streamed: films are read, scored
and written a chunk at a time, so memory stays flat however large the folder is; each poster is
decoded once for every poster model; where the output goes is checked before any work."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from genre_models.config import ProgressCallback
from genre_models.dataset import (
    REASON_BAD_POSTER,
    REASON_MISSING_POSTER,
    decode_poster,
    poster_path,
)
from genre_models.fileio import write_bytes_atomically
from genre_models.fusion import fuse_available
from genre_models.inputs import POSTER
from genre_models.scoring import score_inputs

# Films scored per chunk: bounds memory on large folders.
PREDICT_CHUNK = 256


def read_film_poster(folder: Path, film_id: str) -> np.ndarray | str:
    """Return a course-format film's decoded poster, or why it has none (a drop reason)."""
    path = poster_path(folder, film_id)
    try:
        return decode_poster(path) if path.is_file() else REASON_MISSING_POSTER
    except (ValueError, OSError):
        return REASON_BAD_POSTER


def decode_chunk_posters(folder: Path, film_ids: list[str], skipped: dict[str, str]) -> list[tuple[list, np.ndarray]]:
    """Return (ids, stacked posters) per group of equal-sized posters of one chunk of films, each
    poster decoded once for every poster model; record why a film has no poster in ``skipped``."""
    groups: dict[tuple, list] = {}
    for film_id in film_ids:
        poster = read_film_poster(folder, film_id)
        if isinstance(poster, str):
            skipped[film_id] = poster
            continue
        groups.setdefault(poster.shape, []).append((film_id, poster))
    return [([film_id for film_id, _ in members], np.stack([poster for _, poster in members]))
            for members in groups.values()]


def score_chunk(networks: list, folder: Path, film_ids: list[str], overviews: dict[str, str],
                skips: dict[str, dict[str, str]]) -> dict[str, dict[str, np.ndarray]]:
    """Return {network: {film: probabilities}} for one chunk of films; record skipped films per network."""
    poster_skips: dict[str, str] = {}
    posters = decode_chunk_posters(folder, film_ids, poster_skips) if any(
        network.input_kind == POSTER for network in networks) else []
    with_text = [film_id for film_id in film_ids if overviews[film_id]]
    texts = np.array([[overviews[film_id]] for film_id in with_text], dtype=object)
    scores = {}
    for network in networks:
        if network.input_kind == POSTER:
            batches, skipped = posters, poster_skips
        else:
            batches = [(with_text, texts)] if with_text else []
            skipped = {film_id: "empty overview" for film_id in film_ids if not overviews[film_id]}
        skips.setdefault(network.name, {}).update(skipped)
        scores[network.name] = {film_id: row for ids, inputs in batches
                                for film_id, row in zip(ids, score_inputs(network.model, inputs))}
    return scores


def write_output(out: str, write_lines) -> None:
    """Run ``write_lines(binary file)`` into standard output ("-") or atomically into the file ``out``."""
    if out == "-":
        write_lines(sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        write_bytes_atomically(Path(out), write_lines)


def describe_output(out: str) -> str:
    """Return where output went, for the closing message."""
    return "standard output" if out == "-" else out


def check_output_path(out: str) -> None:
    """Refuse an output path that is not a regular file or a new file in an existing folder
    (a folder, a FIFO, a device or a symbolic link is never replaced); "-" means standard output."""
    if out == "-":
        return
    path = Path(out)
    if path.is_symlink():
        raise ValueError(f"--out {out} is a symbolic link; give a regular file (or - for standard output).")
    if path.exists() and not path.is_file():
        raise ValueError(f"--out {out} exists and is not a regular file (a folder, FIFO or device); "
                         "give a file path (or - for standard output).")
    if not path.parent.is_dir():
        raise ValueError(f"--out {out}: the folder {path.parent} does not exist.")


def prediction_line(film_id: str | None, prediction) -> dict:
    """Return one line of ``predict``'s output: a film's Id (or None) and one model's answer
    (a genre_models.inference.ModelPrediction) as ``{"id", "model", "probabilities", "predicted"}``.
    The app's Predict page downloads the same lines."""
    return {"id": film_id, "model": prediction.model, "probabilities": prediction.probabilities,
            "predicted": prediction.predicted}


def encode_line(line: dict) -> bytes:
    """Return one JSON line as written to a .jsonl file: UTF-8, non-ASCII kept as it is, a newline at the end."""
    return (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")


def predict_lines(wanted: list, networks: list, folder: Path, film_ids: list[str], overviews: dict[str, str],
                  skips: dict[str, dict[str, str]], progress: ProgressCallback | None = None) -> Iterator[dict]:
    """Yield one prediction line per film and wanted model (``{"id", "model", "probabilities",
    "predicted"}``), PREDICT_CHUNK films at a time; record the films a model could not answer in ``skips``."""
    from genre_models.inference import describe_scores

    for start in range(0, len(film_ids), PREDICT_CHUNK):
        chunk = film_ids[start : start + PREDICT_CHUNK]
        scores = score_chunk(networks, folder, chunk, overviews, skips)
        for film_id in chunk:
            film_scores = {name: rows[film_id] for name, rows in scores.items() if film_id in rows}
            for model in wanted:
                probabilities = fuse_available(model, film_scores) if model.is_fusion else film_scores.get(model.name)
                if probabilities is None:
                    if model.is_fusion:
                        skips.setdefault(model.name, {})[film_id] = "an input one of its parts needs is missing"
                    continue
                yield prediction_line(film_id, describe_scores(model, probabilities))
        if progress:
            progress(min(start + PREDICT_CHUNK, len(film_ids)), len(film_ids), "predicting")

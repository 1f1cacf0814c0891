"""Record every shipped model's test-split probabilities, as the reference for tests/test_shipped_scores.py.

Run once before a refactoring that must not change behaviour; the test then scores the same
films again and compares. Usage:
    GENRE_DATA_DIR=../shared/datasets/Multimodal_IMDB_dataset .venv/bin/python scripts/record_shipped_scores.py [--only MODEL ...]
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genre_models.config import PROJECT_ROOT, resolve_data_dir  # noqa: E402

REFERENCE = PROJECT_ROOT / "tests" / "data" / "shipped_test_scores.npz"


def score_shipped_models(data_dir, names: list[str] | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Return {model: (film ids, test-split probabilities)} for every shipped model (or those named)."""
    try:
        from genre_models.dataset import load_dataset
    except ImportError:  # Before the dataset package existed (the reference was recorded then).
        from genre_models.data import load_dataset
    from genre_models.inference import GenrePredictor, score_split

    predictor = GenrePredictor.from_artifacts()
    datasets = {}

    def dataset_for(image_size):
        if image_size not in datasets:
            datasets[image_size] = load_dataset(data_dir, image_size=image_size)
        return datasets[image_size]

    return {name: (lambda s: (s.ids.astype(str), s.scores.astype(np.float32)))(
                score_split(predictor, name, dataset_for, "test"))
            for name in (names or predictor.model_names())}


def checksum(scores: np.ndarray) -> str:
    """Return the sha256 of the probabilities' float32 bytes."""
    return hashlib.sha256(np.ascontiguousarray(scores, dtype=np.float32).tobytes()).hexdigest()


if __name__ == "__main__":
    # Optional model names after "--only": score and replace just their entries (a deliberate retrain),
    # keeping every other model's recorded scores as they are.
    arguments = sys.argv[1:]
    only = arguments[arguments.index("--only") + 1:] if "--only" in arguments else []
    arguments = arguments[: arguments.index("--only")] if "--only" in arguments else arguments
    results = score_shipped_models(resolve_data_dir(arguments[0] if arguments else None), only or None)
    arrays = {}
    if only:
        with np.load(REFERENCE) as stored:
            arrays = {key: stored[key] for key in stored.files}
    for name, (ids, scores) in results.items():
        arrays[f"{name}__ids"] = ids
        arrays[f"{name}__scores"] = scores
    np.savez_compressed(REFERENCE, **arrays)
    print(json.dumps({name: checksum(scores) for name, (_, scores) in results.items()}, indent=1))

"""Write split_scores.npz (validation and test probabilities) beside every installed artifact.

The Evaluate and Compare pages read these files instead of scoring the splits again (see
genre_models/split_scores.py); training writes them for new artifacts. Run this once for artifacts
made before that, or after replacing the dataset. Usage:
    GENRE_DATA_DIR=../shared/datasets/Multimodal_IMDB_dataset .venv/bin/python scripts/record_split_scores.py [MODEL ...]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genre_models.config import resolve_data_dir  # noqa: E402


def main(names: list[str]) -> None:
    from genre_models.dataset import load_dataset
    from genre_models.inference import GenrePredictor, record_split_scores
    from genre_models.split_scores import SPLIT_SCORES_FILE

    data_dir = resolve_data_dir()
    predictor = GenrePredictor.from_artifacts()
    for name, problem in predictor.load_errors.items():
        print(f"skipped {name}: {problem}", file=sys.stderr)
    datasets = {}

    def dataset_for(image_size):
        if image_size not in datasets:
            datasets[image_size] = load_dataset(data_dir, image_size=image_size)
        return datasets[image_size]

    started = {}

    def progress(name: str, done: int, total: int, what: str) -> None:
        started.setdefault(name, time.perf_counter())
        if done == total:
            print(f"  {name} {what}: {total} films, {time.perf_counter() - started.pop(name):.1f} s", flush=True)

    written = record_split_scores(predictor, dataset_for, names or None, progress=progress)
    for name, path in written.items():
        print(f"{name}: {path} ({path.stat().st_size / 1024:.0f} KB)")
    print(f"{len(written)} {SPLIT_SCORES_FILE} files written from {data_dir}")


if __name__ == "__main__":
    main(sys.argv[1:])

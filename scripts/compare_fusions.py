"""Compare the two ways a fusion can combine its parts (mean of probabilities, mean of log-odds) for each
fused model of the registry, on the validation split alone.

Repeated 2-fold cross-validation inside the validation split, from the parts' stored validation scores
(split_scores.npz; no network runs): the weights (the same grid search as training) and the thresholds
(the same tuning rule) are fitted on one half and scored on the other, and the held-out figures are
averaged over the folds. The test split is not read. ``--parts`` compares other sets of parts for a
fusion the same way. Usage:
    .venv/bin/python scripts/compare_fusions.py [--repeats 3] [--parts A,B,...] [FUSION ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genre_models.artifacts import METADATA_FILE, list_artifact_folders  # noqa: E402
from genre_models.config import COMBINE_MODES, FusionRecipe  # noqa: E402
from genre_models.fusion import fit_weights, fuse_scores  # noqa: E402
from genre_models.metrics import evaluate_scores, tune_thresholds  # noqa: E402
from genre_models.models import MODEL_REGISTRY  # noqa: E402
from genre_models.split_scores import read_split_scores  # noqa: E402

FIGURES = ("macro_average_precision", "micro_average_precision", "micro_f1", "macro_f1")


def read_validation(name: str, folders: dict[str, Path]):
    """Return a part's stored validation scores."""
    metadata = json.loads((folders[name] / METADATA_FILE).read_text())
    stored = read_split_scores(folders[name], metadata, "validation")
    if stored is None:
        raise SystemExit(f"{name} has no stored validation scores; run scripts/record_split_scores.py {name}.")
    return stored


def score_held_out(labels, parts, genres, combine: str, repeats: int) -> dict[str, float]:
    """Return the mean held-out figures of fitting weights and per-genre thresholds on half the films."""
    rng = np.random.default_rng(0)
    figures = []
    for _ in range(repeats):
        order = rng.permutation(len(labels))
        halves = order[: len(labels) // 2], order[len(labels) // 2:]
        for fit_rows, held_rows in (halves, halves[::-1]):
            _, weights, _ = fit_weights(labels[fit_rows], [part[fit_rows] for part in parts], genres, combine)
            fitted = fuse_scores(weights, [part[fit_rows] for part in parts], combine)
            thresholds = np.asarray(tune_thresholds(labels[fit_rows], fitted)["per_genre"])
            held = fuse_scores(weights, [part[held_rows] for part in parts], combine)
            report = evaluate_scores(labels[held_rows], held, thresholds, genres)
            figures.append([report[key] for key in FIGURES])
    return dict(zip(FIGURES, np.mean(figures, axis=0).round(3).tolist()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fusions", nargs="*", help="fused models of the registry (default: all)")
    parser.add_argument("--repeats", type=int, default=3, help="random halvings of the validation split")
    parser.add_argument("--parts", action="append", default=[], metavar="A,B,...",
                        help="also compare this set of installed models as parts of the first fusion named "
                             "(repeatable), e.g. --parts poster_effnet,minilm_tuned,tfidf_logreg")
    arguments = parser.parse_args()
    folders = list_artifact_folders()
    fusions = arguments.fusions or [name for name, spec in MODEL_REGISTRY.items()
                                    if isinstance(spec.defaults, FusionRecipe)]
    candidates = [(fusion, MODEL_REGISTRY[fusion].defaults.components) for fusion in fusions]
    candidates += [(fusions[0], tuple(parts.split(","))) for parts in arguments.parts]
    for fusion, components in candidates:
        stored = [read_validation(name, folders) for name in components]
        if any(list(part.ids) != list(stored[0].ids) for part in stored):
            raise SystemExit(f"{fusion}: the parts' stored validation films differ; record them again.")
        for combine in COMBINE_MODES:
            figures = score_held_out(stored[0].labels, [part.scores for part in stored], stored[0].genres,
                                     combine, arguments.repeats)
            print(json.dumps({"fusion": fusion, "parts": list(components), "combine": combine, **figures}))


if __name__ == "__main__":
    main()

"""Are the explanations faithful, and what do they cost? (a benchmark, not a timed test)

Usage: python -m benchmarks.explain [--data-dir DIR] [--films 100] [--models all] [--seed 0]

Method: load every shipped model (GenrePredictor.from_artifacts) into a genre_models.explain.Explainer,
warm each model up on one training film, then take the first N validation films (dataset order)
with a decodable poster and a summary. For each film and model, the model's top genre is explained
from a cold cache (timed: the cost a user waits for on the first Explain click), then:

- words: the genre's probability falls by how much when the 3 words of highest weight are removed,
  against 3 random words of the same overview (words with a letter or digit; numpy seed --seed, the
  same films for every model);
- posters: the same, for hiding (filling with the poster's mean colour) the hottest 20% of the
  poster's pixels by the heatmap, against a random block of 20% of the poster (the poster's aspect,
  at a random place). A film whose heatmap is zero everywhere (nothing in the poster raises the
  genre) has no hottest pixels and is left out of that model's poster figures (counted).

Fused models are measured on their fused probability (the other input untouched). Prints one line
per model and, last, one JSON line of every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
# How many words / how much of the poster each faithfulness probe removes.
WORDS_REMOVED = 3
POSTER_SHARE = 0.2


def load_films(data_dir: str, split: str, count: int) -> list[tuple[str, object, str]]:
    """Return (Id, decoded poster, overview) of the first ``count`` films of a split that have both."""
    from genre_models.dataset import decode_poster, load_dataset

    dataset = load_dataset(data_dir)
    films = []
    for row in dataset.split_indices(split):
        overview = str(dataset.overviews[row]).strip()
        try:
            poster = decode_poster(dataset.poster_path(dataset.ids[row]))
        except (ValueError, OSError):
            continue
        if overview:
            films.append((str(dataset.ids[row]), poster, overview))
        if len(films) == count:
            break
    return films


def hottest_mask(heatmap, share: float = POSTER_SHARE):
    """Return the mask of the ``share`` of pixels with the highest heat (ties broken by position)."""
    import numpy as np

    order = np.argsort(-heatmap.ravel(), kind="stable")[: int(round(share * heatmap.size))]
    mask = np.zeros(heatmap.size, dtype=bool)
    mask[order] = True
    return mask.reshape(heatmap.shape)


def random_block(shape: tuple[int, int], rng, share: float = POSTER_SHARE):
    """Return the mask of a block covering ``share`` of the poster (its aspect) at a random place."""
    import numpy as np

    rows, columns = shape
    height, width = max(1, round(rows * share ** 0.5)), max(1, round(columns * share ** 0.5))
    top, left = int(rng.integers(0, rows - height + 1)), int(rng.integers(0, columns - width + 1))
    mask = np.zeros(shape, dtype=bool)
    mask[top:top + height, left:left + width] = True
    return mask


def measure(data_dir: str, films: int, names: list[str] | None, seed: int) -> dict:
    """Return, per model, the cost of one explanation and the faithfulness figures (see the module doc)."""
    import numpy as np
    from PIL import Image

    from genre_models.explain import Explainer, hide_pixels, remove_words
    from genre_models.inference import GenrePredictor

    predictor = GenrePredictor.from_artifacts()
    explainer = Explainer(predictor.models)
    names = names or predictor.model_names()
    validation = load_films(data_dir, "validation", films)
    warm_up = load_films(data_dir, "train", 1)[0]
    for name in names:
        explainer.explain(name, poster=warm_up[1], overview=warm_up[2])
    results = {name: {"ms": [], "words_top": [], "words_random": [], "poster_hot": [], "poster_block": [],
                      "poster_zero_heat": 0} for name in names}
    rng = np.random.default_rng(seed)
    for number, (film_id, poster, overview) in enumerate(validation, start=1):
        for name in names:
            result = results[name]
            explainer.clear_cache()
            started = time.perf_counter()
            explanation = explainer.explain(name, poster=poster, overview=overview)
            result["ms"].append((time.perf_counter() - started) * 1000)
            column = explainer.get(name).genres.index(explanation.genre)

            def probability(new_poster=poster, new_overview=overview):
                return explainer.probabilities(name, poster=new_poster, overview=new_overview)[column]

            if explanation.words is not None:
                candidates = [index for index, word in enumerate(explanation.words) if any(c.isalnum() for c in word)]
                if len(candidates) > WORDS_REMOVED:
                    top = sorted(candidates, key=lambda index: -explanation.weights[index])[:WORDS_REMOVED]
                    chosen = list(rng.choice(candidates, size=WORDS_REMOVED, replace=False))
                    result["words_top"].append(
                        explanation.probability - probability(new_overview=remove_words(explanation.text,
                                                                                         explanation.spans, top)))
                    result["words_random"].append(
                        explanation.probability - probability(new_overview=remove_words(explanation.text,
                                                                                         explanation.spans, chosen)))
            if explanation.heatmap is not None:
                heatmap = explanation.heatmap
                if heatmap.shape != poster.shape[:2]:  # capped for huge posters: back to the poster's size
                    heatmap = np.asarray(Image.fromarray(heatmap, mode="F").resize(
                        (poster.shape[1], poster.shape[0]), Image.Resampling.BILINEAR))
                if heatmap.max() <= 0:
                    result["poster_zero_heat"] += 1
                else:
                    result["poster_hot"].append(
                        explanation.probability - probability(new_poster=hide_pixels(poster, hottest_mask(heatmap))))
                    result["poster_block"].append(explanation.probability - probability(
                        new_poster=hide_pixels(poster, random_block(heatmap.shape, rng))))
        sys.stderr.write(f"\rexplained {number}/{len(validation)} films")
        sys.stderr.flush()
    sys.stderr.write("\n")
    return {"films": len(validation), "seed": seed, "models": {name: summarise(result)
                                                                 for name, result in results.items()}}


def summarise(result: dict) -> dict:
    """Return the printed figures of one model: ms per explanation and the mean drops."""
    import numpy as np

    figures = {"ms_median": round(statistics.median(result["ms"]), 1),
               "ms_p95": round(float(np.percentile(result["ms"], 95)), 1), "ms_max": round(max(result["ms"]), 1)}
    for kind, (top, random) in {"words": ("words_top", "words_random"),
                                "poster": ("poster_hot", "poster_block")}.items():
        if result[top]:
            figures[kind] = {"films": len(result[top]), "explained_drop": round(float(np.mean(result[top])), 4),
                             "random_drop": round(float(np.mean(result[random])), 4),
                             "explained_larger_share": round(float(np.mean(np.array(result[top]) >
                                                                           np.array(result[random]))), 3)}
    if result["poster_zero_heat"]:
        figures["poster_zero_heat_films"] = result["poster_zero_heat"]
    return figures


def describe(name: str, figures: dict) -> str:
    """Return one printed line per model."""
    parts = [f"{name:18s} {figures['ms_median']:7.1f} ms median, p95 {figures['ms_p95']:7.1f} ms"]
    if "words" in figures:
        words = figures["words"]
        parts.append(f"words, probability drop: top-3 removed {words['explained_drop']:+.3f} vs 3 random "
                     f"{words['random_drop']:+.3f} (larger on {words['explained_larger_share']:.0%} of "
                     f"{words['films']})")
    if "poster" in figures:
        poster = figures["poster"]
        parts.append(f"poster, probability drop: hottest 20% hidden {poster['explained_drop']:+.3f} vs random 20% "
                     f"block {poster['random_drop']:+.3f} (larger on {poster['explained_larger_share']:.0%} of "
                     f"{poster['films']}" + (f", {figures['poster_zero_heat_films']} with no heat" if
                                            figures.get("poster_zero_heat_films") else "") + ")")
    return " | ".join(parts)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from genre_models.config import resolve_data_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="dataset folder or zip (default: $GENRE_DATA_DIR)")
    parser.add_argument("--films", type=int, default=100, help="validation films (default 100)")
    parser.add_argument("--models", default="all", help="comma-separated model names, or 'all' (default)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random words and blocks (default 0)")
    args = parser.parse_args()
    names = None if args.models == "all" else [name.strip() for name in args.models.split(",") if name.strip()]
    figures = measure(str(resolve_data_dir(args.data_dir)), args.films, names, args.seed)
    print(f"{figures['films']} validation films, each model's top genre, explained from a cold cache "
          f"(one CPU run; drops are in probability)")
    for name, model_figures in figures["models"].items():
        print(describe(name, model_figures), flush=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

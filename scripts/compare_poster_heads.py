"""Compare heads for poster_effnet on the validation split alone, from the cached poster features.

Each variant is the registry recipe with some fields replaced, fitted on the training split's cached
EfficientNet-Lite2 features (Adam, early stopping on validation loss with the best weights kept, as
the training command keeps its best-val_loss checkpoint) and scored on validation: macro and micro AP,
and micro-/macro-F1 with each genre's and one global threshold tuned on validation itself (optimistic
for every variant alike; only for ranking). The test split is never read.

    .venv/bin/python scripts/compare_poster_heads.py --data-dir DATASET

The features must be cached (train poster_effnet once, or build the poster similarity index); with
``--image-size`` those of posters at another size (train with ``--image-size`` once to cache them).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genre_models.dataset import load_dataset  # noqa: E402
from genre_models.encoders import ENCODERS  # noqa: E402
from genre_models.image_encoder import locate_poster_cache  # noqa: E402
from genre_models.metrics import evaluate_scores, tune_thresholds  # noqa: E402
from genre_models.models import build_model, get_model_spec  # noqa: E402

# Variants: name -> recipe fields replaced.
VARIANTS = {
    "registry (MLP 512, lr 1e-3)": {},
    "MLP 1024": {"hidden_units": 1024},
    "MLP 256": {"hidden_units": 256},
    "MLP 512, lr 3e-4": {"learning_rate": 3e-4},
}


def main() -> None:
    import keras

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--image-size", type=int, nargs=2, metavar=("HEIGHT", "WIDTH"),
                        help="features of posters at this size (default: the recipe's)")
    parser.add_argument("--variants", nargs="*", help="only these variants (default: all)")
    arguments = parser.parse_args()
    spec = get_model_spec("poster_effnet")
    dataset = load_dataset(arguments.data_dir)
    size = tuple(arguments.image_size or spec.defaults.image_size)
    cache = locate_poster_cache(ENCODERS[spec.encoder]["variant"], size, dataset.fingerprint, dataset.ids)
    features = np.load(cache)
    train, validation = dataset.split_indices("train"), dataset.split_indices("validation")
    labels = dataset.labels.astype(np.float32)
    print(f"posters at {size[0]}x{size[1]}")
    for name, changes in VARIANTS.items():
        if arguments.variants and name not in arguments.variants:
            continue
        recipe = dataclasses.replace(spec.defaults, **changes)
        keras.utils.set_random_seed(arguments.seed)
        model = build_model(spec, dataset.num_genres, recipe)
        stopper = keras.callbacks.EarlyStopping(patience=recipe.patience, restore_best_weights=True)
        history = model.fit(features[train], labels[train], validation_data=(features[validation], labels[validation]),
                            epochs=recipe.epochs, batch_size=recipe.batch_size, verbose=0, callbacks=[stopper])
        scores = np.asarray(model.predict(features[validation], verbose=0))
        tuned = tune_thresholds(labels[validation], scores)
        per_genre = evaluate_scores(labels[validation], scores, tuned["per_genre"], dataset.genres)
        single = evaluate_scores(labels[validation], scores, tuned["global"], dataset.genres)
        print(f"{name}: {len(history.history['loss'])} epochs; validation macro AP {per_genre['macro_average_precision']:.3f}, "
              f"micro AP {per_genre['micro_average_precision']:.3f}, micro-F1 {single['micro_f1']:.3f} (global) / "
              f"{per_genre['micro_f1']:.3f} (per genre), macro-F1 {single['macro_f1']:.3f} / {per_genre['macro_f1']:.3f}",
              flush=True)


if __name__ == "__main__":
    main()

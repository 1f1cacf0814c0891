"""How often the not-a-poster checks warn on the dataset's own posters (their false-warning rate), and the
spread of each measured property, to set the thresholds of genre_models/input_checks.py.

    GENRE_DATA_DIR=/path/to/dataset python -m benchmarks.poster_checks [--limit N]

Prints, per property, the 0.1/0.5/1/50/99/99.5/99.9th percentiles over the posters, then how many posters
get each warning (a dataset poster is a poster: every warning on one is a false warning).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections import Counter

import numpy as np

from genre_models.config import resolve_data_dir
from genre_models.dataset import decode_poster, load_dataset
from genre_models.input_checks import PosterMeasures, poster_doubts, poster_measures

PERCENTILES = (0.1, 0.5, 1, 50, 99, 99.5, 99.9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="measure only the first N films")
    arguments = parser.parse_args()
    dataset = load_dataset(resolve_data_dir())
    ids = [str(film_id) for film_id in dataset.ids][: arguments.limit]
    started, measures, warnings, unreadable = time.perf_counter(), [], Counter(), 0
    warned_films = 0
    for number, film_id in enumerate(ids, 1):
        try:
            pixels = decode_poster(dataset.poster_path(film_id))
        except ValueError:
            unreadable += 1
            continue
        measures.append(poster_measures(pixels))
        doubts = poster_doubts(pixels)
        warned_films += bool(doubts)
        for doubt in doubts:
            warnings[doubt.split(" (")[0][:60]] += 1
        if number % 500 == 0:
            print(f"{number:,} of {len(ids):,} posters measured ({time.perf_counter() - started:.0f} s)", flush=True)
    print(f"{len(measures):,} posters measured, {unreadable} unreadable, in {time.perf_counter() - started:.0f} s")
    for name in [field.name for field in dataclasses.fields(PosterMeasures)]:
        values = np.array([getattr(measure, name) for measure in measures])
        figures = " ".join(f"p{p:g}={np.percentile(values, p):.3f}" for p in PERCENTILES)
        print(f"{name:22s} min={values.min():.3f} {figures} max={values.max():.3f}")
    print(f"posters with any warning (false warnings): {warned_films} of {len(measures):,} "
          f"({warned_films / max(len(measures), 1):.2%})")
    for reason, count in warnings.most_common():
        print(f"  {count:5d}  {reason}")


if __name__ == "__main__":
    main()

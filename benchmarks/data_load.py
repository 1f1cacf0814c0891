"""First vs second load of the dataset with posters (decode + resize, then the on-disk cache).

Usage: python -m benchmarks.data_load [--data-dir DIR] [--image-size 64 64]
Prints both times and their ratio; uses a fresh temporary cache so the first load is really cold.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time


def measure_load_ratio(data_dir: str, image_size: tuple[int, int]) -> dict:
    """Return seconds of a cold and a warm load, and cold / warm."""
    from genre_models.dataset import load_dataset

    with tempfile.TemporaryDirectory() as cache:
        os.environ["GENRE_CACHE_DIR"] = cache
        started = time.perf_counter()
        first = load_dataset(data_dir, image_size=image_size)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        second = load_dataset(data_dir, image_size=image_size)
        warm = time.perf_counter() - started
    assert first.num_films == second.num_films
    return {"films": first.num_films, "first_load_s": round(cold, 3), "second_load_s": round(warm, 3),
            "second_load_ratio": round(cold / warm, 1)}


def main() -> None:
    from genre_models.config import resolve_data_dir

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", help="dataset folder or zip (default: $GENRE_DATA_DIR)")
    parser.add_argument("--image-size", type=int, nargs=2, default=[64, 64], metavar=("HEIGHT", "WIDTH"))
    args = parser.parse_args()
    result = measure_load_ratio(str(resolve_data_dir(args.data_dir)), tuple(args.image_size))
    print(f"first load (decode + resize {args.image_size[0]}x{args.image_size[1]}): {result['first_load_s']:.2f} s")
    print(f"second load (cached): {result['second_load_s']:.3f} s")
    print(f"ratio: {result['second_load_ratio']:.1f}x faster")
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Memory and time of the training path as the dataset grows (synthetic copies of the real one).

Usage: python -m benchmarks.scale [--data-dir DIR] [--factors 1 10]

For each factor N, builds (in a temporary folder, never committed) a dataset of N copies of every
film under new Ids, its posters symbolic links to the real files, then runs in a fresh process:
a cold load (decode + cache) and one epoch of course_cnn through the project's training path.
Prints peak RSS and epoch seconds per size and their ratios to the smallest size.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_synthetic(source: Path, target: Path, factor: int) -> Path:
    """Write a course-format dataset of ``factor`` copies of every film (posters linked, not copied)."""
    from genre_models.config import CSV_NAME, IMAGES_DIR_NAME

    (target / IMAGES_DIR_NAME).mkdir(parents=True)
    with open(source / CSV_NAME, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns, rows = reader.fieldnames, list(reader)
    with open(target / CSV_NAME, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for copy in range(factor):
            for row in rows:
                film_id = f"{row['Id']}c{copy}"
                writer.writerow({**row, "Id": film_id})
                os.symlink((source / IMAGES_DIR_NAME / f"{row['Id']}.jpg").resolve(),
                           target / IMAGES_DIR_NAME / f"{film_id}.jpg")
    return target


def run_worker(data_dir: str) -> dict:
    """In this process: cold load + one training epoch; report films, epoch seconds and peak RSS."""
    import time

    from genre_models.config import TrainConfig
    from genre_models.training import train_model

    started = time.perf_counter()
    result = train_model(TrainConfig(model_name="course_cnn", data_dir=data_dir, epochs=1, patience=0, verbose=0,
                                     out_dir=str(Path(os.environ["GENRE_RUNS_DIR"]) / "artifact")))
    history = json.loads((result.run_dir / "history.json").read_text())
    return {"films": result.metadata["data"]["films"], "epoch_s": history["epochs"][0]["seconds"],
            "total_s": round(time.perf_counter() - started, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    sys.path.insert(0, str(ROOT))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="the real dataset folder (default: $GENRE_DATA_DIR)")
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(run_worker(args.worker)))
        return
    from genre_models.config import resolve_data_dir
    from genre_models.dataset import locate_dataset

    source = locate_dataset(resolve_data_dir(args.data_dir))
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for factor in args.factors:
            folder = build_synthetic(source, Path(scratch) / f"x{factor}" / "data", factor)
            env = {**os.environ, "GENRE_CACHE_DIR": str(Path(scratch) / f"x{factor}" / "cache"),
                   "GENRE_RUNS_DIR": str(Path(scratch) / f"x{factor}" / "runs"), "TF_CPP_MIN_LOG_LEVEL": "3"}
            completed = subprocess.run([sys.executable, "-m", "benchmarks.scale", "--worker", str(folder)],
                                       cwd=ROOT, env=env, capture_output=True, text=True)
            line = next((l for l in completed.stdout.splitlines() if l.startswith("RESULT ")), None)
            if line is None:
                raise RuntimeError(completed.stderr[-3000:])
            result = {"factor": factor, **json.loads(line[len("RESULT "):])}
            results.append(result)
            base = results[0]
            print(f"x{factor}: {result['films']} films, epoch {result['epoch_s']:.1f} s "
                  f"({result['epoch_s'] / base['epoch_s']:.2f}x), peak RSS {result['peak_rss_mb']:.0f} MB "
                  f"({result['peak_rss_mb'] / base['peak_rss_mb']:.2f}x) for {factor / base['factor']:.0f}x the data",
                  flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()

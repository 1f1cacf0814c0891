"""Memory and time of the training and prediction paths as the dataset grows (synthetic copies
of the real one).

Usage: python -m benchmarks.scale [--data-dir DIR] [--factors 1 10] [--predict-factors 1 10]
                                  [--only train|predict]

For each factor N, builds (in a temporary folder, never committed) a dataset of N copies of every
film under new Ids, its posters symbolic links to the real files, then runs in a fresh process:

- training: a cold load (decode + cache) and one epoch of course_cnn through the project's
  training path; prints peak RSS and epoch seconds and their ratios to the smallest size;
- prediction: ``python -m genre_models predict --model all`` with the shipped models, writing
  JSON lines to a file; prints films per second and the process's peak RSS. Films per second
  count the scoring only: the start-up (importing TensorFlow, loading the models), measured
  once on a one-film folder, is taken off the wall time and printed on its own.
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


def write_one_film(source: Path, target: Path) -> Path:
    """Write a course-format dataset holding the first film only (to time the start-up of predict)."""
    from genre_models.config import CSV_NAME, IMAGES_DIR_NAME

    (target / IMAGES_DIR_NAME).mkdir(parents=True)
    with open(source / CSV_NAME, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns, row = reader.fieldnames, next(reader)
    with open(target / CSV_NAME, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerow(row)
    os.symlink((source / IMAGES_DIR_NAME / f"{row['Id']}.jpg").resolve(), target / IMAGES_DIR_NAME / f"{row['Id']}.jpg")
    return target


def run_predict(folder: Path, out: Path, env: dict) -> dict:
    """Run ``python -m genre_models predict --model all`` on a folder; return its wall seconds,
    peak RSS (of that process alone, from wait4) and the lines it wrote."""
    import time

    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "genre_models", "predict", "--model", "all",
                                "--data-dir", str(folder), "--out", str(out)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = process.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(stderr[-3000:])
    with open(out, "rb") as handle:
        lines = sum(1 for _ in handle)
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "lines": lines}


def benchmark_predict(source: Path, scratch: Path, factors: list[int]) -> list[dict]:
    """Time ``predict --model all`` at each factor (and once on one film for the start-up)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    startup = run_predict(write_one_film(source, scratch / "one" / "data"), scratch / "one" / "p.jsonl", env)
    print(f"predict start-up (one film: import, load every shipped model, score): {startup['seconds']:.1f} s, "
          f"peak RSS {startup['peak_rss_mb']:.0f} MB", flush=True)
    results = []
    for factor in factors:
        folder = scratch / f"p{factor}" / "data"
        if not folder.exists():
            build_synthetic(source, folder, factor)
        films = sum(1 for _ in open(folder / "IMDB_overview_genres.csv", encoding="utf-8")) - 1
        measured = run_predict(folder, scratch / f"p{factor}" / "p.jsonl", env)
        (scratch / f"p{factor}" / "p.jsonl").unlink()
        scoring = max(measured["seconds"] - startup["seconds"], 1e-9)
        result = {"factor": factor, "films": films, **measured, "startup_s": startup["seconds"],
                  "films_per_s": round(films / scoring, 1)}
        results.append(result)
        base = results[0]
        print(f"predict x{factor}: {films} films, {measured['lines']} lines in {measured['seconds']:.1f} s: "
              f"{result['films_per_s']:.1f} films/s after start-up, peak RSS {measured['peak_rss_mb']:.0f} MB "
              f"({measured['peak_rss_mb'] / base['peak_rss_mb']:.2f}x) for {factor / base['factor']:.0f}x the films",
              flush=True)
    return results


def main() -> None:
    sys.path.insert(0, str(ROOT))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="the real dataset folder (default: $GENRE_DATA_DIR)")
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 10], help="dataset copies for training")
    parser.add_argument("--predict-factors", type=int, nargs="+", default=[1, 10], help="dataset copies for predict")
    parser.add_argument("--only", choices=["train", "predict"], help="run one of the two parts")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(run_worker(args.worker)))
        return
    from genre_models.config import resolve_data_dir
    from genre_models.dataset import locate_dataset

    source = locate_dataset(resolve_data_dir(args.data_dir))
    results, predictions = [], []
    with tempfile.TemporaryDirectory() as scratch:
        if args.only != "train":
            predictions = benchmark_predict(source, Path(scratch), args.predict_factors)
        for factor in (args.factors if args.only != "predict" else []):
            folder = build_synthetic(source, Path(scratch) / f"x{factor}" / "data", factor)
            env = {**os.environ, "GENRE_CACHE_DIR": str(Path(scratch) / f"x{factor}" / "cache"),
                   "GENRE_RUNS_DIR": str(Path(scratch) / f"x{factor}" / "runs"), "TF_CPP_MIN_LOG_LEVEL": "3"}
            completed = subprocess.run([sys.executable, "-m", "benchmarks.scale", "--worker", str(folder)],
                                       cwd=ROOT, env=env, capture_output=True, text=True)
            line = next((entry for entry in completed.stdout.splitlines() if entry.startswith("RESULT ")), None)
            if line is None:
                raise RuntimeError(completed.stderr[-3000:])
            result = {"factor": factor, **json.loads(line[len("RESULT "):])}
            results.append(result)
            base = results[0]
            print(f"x{factor}: {result['films']} films, epoch {result['epoch_s']:.1f} s "
                  f"({result['epoch_s'] / base['epoch_s']:.2f}x), peak RSS {result['peak_rss_mb']:.0f} MB "
                  f"({result['peak_rss_mb'] / base['peak_rss_mb']:.2f}x) for {factor / base['factor']:.0f}x the data",
                  flush=True)
    print(json.dumps({"train": results, "predict": predictions}))


if __name__ == "__main__":
    main()

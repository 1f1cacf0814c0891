"""Benchmarks where users wait, each printed with its reference and ratio, measured in one run.

Usage: python -m benchmarks.run [--data-dir DIR] [--quick]

- prediction: 50 different validation films (poster file + summary), one at a time, through
  GenrePredictor.predict with every shipped model: median and p95 of a first and a second pass
  (benchmarks.latency). Secondary: one film repeated N times, against calling the same Keras models
  directly and eagerly on already-preprocessed tensors (model(x, training=False)).
- threshold update: the Evaluate page re-run (AppTest) after moving the threshold slider, scores cached.
- data: second load of the dataset (cached posters) against the first (decode + resize).
- training: one epoch of the project's training path (tf.data + callbacks + checkpoint) against a bare
  model.fit on the same model with the data already in memory as NumPy arrays.
- app start: from `streamlit run` to the Predict page showing a prediction in headless Chromium.

Ends with one JSON line of every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent


def median_ms(function, repeats: int) -> float:
    """Median wall time of ``function()`` in milliseconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure_prediction(data_dir: str, repeats: int) -> dict:
    """Latency of one film through the app's API, film after film (benchmarks.latency: 50 different
    validation films, median and p95 of a first and a second pass), and, as a secondary figure, one
    film repeated against the bare eager Keras calls the API wraps on that film."""
    import tensorflow as tf

    from benchmarks.latency import load_films, measure_latency
    from genre_models.inference import GenrePredictor
    from genre_models.inputs import prepare_overview, prepare_poster

    predictor = GenrePredictor.from_artifacts()
    latency = measure_latency(data_dir, films=50, repeats=repeats, predictor=predictor)
    [(poster, overview)] = load_films(data_dir, "validation", 1)
    networks = [m for m in predictor.models if not m.is_fusion]
    tensors = {"poster": tf.constant(prepare_poster(poster)[None]),
               "overview": tf.constant([[prepare_overview(overview)[0]]])}

    def direct():
        for loaded in networks:
            loaded.model(tensors[loaded.input_kind], training=False)

    for _ in range(3):  # warm-up: lazy initialisation
        direct()
    repeated_ms, direct_ms = latency["one_film_repeated"]["median_ms"], median_ms(direct, repeats)
    return {"predict_ms": latency["first_pass"]["median_ms"], "predict_p95_ms": latency["first_pass"]["p95_ms"],
            "predict_second_pass_ms": latency["second_pass"]["median_ms"],
            "predict_second_pass_p95_ms": latency["second_pass"]["p95_ms"], "predict_films": latency["films"],
            "predict_repeated_ms": repeated_ms, "predict_reference_ms": round(direct_ms, 2),
            "predict_ratio": round(repeated_ms / direct_ms, 3), "predict_models": latency["models"],
            "latency": latency}


def measure_threshold_update(data_dir: str, repeats: int) -> dict:
    """Median ms of an Evaluate-page re-run after moving the global threshold (scores cached)."""
    from streamlit.testing.v1 import AppTest

    os.environ["GENRE_DATA_DIR"] = data_dir
    app = AppTest.from_file(str(ROOT / "pages" / "4_Evaluate.py"), default_timeout=600)
    app.run()
    # The models' background warm-up (genre_app.model_loading.ModelLoading) would share the cores with the re-runs.
    from genre_app import models

    models.start_loading_models().thread.join()
    app.radio[0].set_value("one global threshold").run()
    values = [0.2, 0.3]
    times = []
    for index in range(repeats):
        started = time.perf_counter()
        app.slider[0].set_value(values[index % 2]).run()
        times.append((time.perf_counter() - started) * 1000)
        if app.exception:
            raise RuntimeError(app.exception[0].value)
    return {"threshold_update_ms": round(statistics.median(times), 1)}


def measure_second_load(data_dir: str) -> dict:
    """Seconds of a cold and a warm dataset load (fresh temporary cache)."""
    from benchmarks.data_load import measure_load_ratio

    return measure_load_ratio(data_dir, (64, 64))


def measure_epoch(data_dir: str, model_name: str) -> dict:
    """Seconds of epoch 2 through the project's training path vs a bare model.fit on NumPy arrays."""
    import keras
    import numpy as np

    from genre_models.config import TrainConfig
    from genre_models.dataset import load_dataset
    from genre_models.inputs import model_inputs_for, prepare_network_inputs
    from genre_models.models import build_model, get_model_spec
    from genre_models.training import train_model

    spec = get_model_spec(model_name)
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["GENRE_RUNS_DIR"] = str(Path(scratch) / "runs")
        result = train_model(TrainConfig(model_name=model_name, data_dir=data_dir, epochs=2, patience=0, verbose=0,
                                         out_dir=str(Path(scratch) / "artifact")))
        project_seconds = json.loads((result.run_dir / "history.json").read_text())["epochs"][1]["seconds"]

    dataset = load_dataset(data_dir, image_size=spec.defaults.image_size)
    train = dataset.split_indices("train")
    inputs = prepare_network_inputs(np.asarray(model_inputs_for(spec.input_kind, dataset)[train]))
    labels = dataset.labels[train].astype("float32")
    model = build_model(spec, dataset.num_genres, training_texts=dataset.overviews[train])

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.last = time.perf_counter() - self.started

    timer = EpochTimer()
    model.fit(inputs, labels, batch_size=spec.defaults.batch_size, epochs=2, verbose=0, callbacks=[timer])
    return {"epoch_model": model_name, "epoch_s": round(project_seconds, 2), "epoch_reference_s": round(timer.last, 2),
            "epoch_ratio": round(project_seconds / timer.last, 3)}


def measure_app_start(data_dir: str) -> dict:
    """Seconds from `streamlit run` to the Predict page showing a prediction in headless Chromium."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        return {"app_start_s": None, "app_start_note": "chromium not installed"}
    from benchmarks.browser import launch_chromium, open_when_listening, start_app
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    server, port = start_app(data_dir)
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright, chromium)
            page = browser.new_page()
            page.set_default_timeout(300_000)
            open_when_listening(page, f"http://127.0.0.1:{port}/Predict")
            page.get_by_text("A dataset film").click()
            page.get_by_text("True genres:").wait_for()
            page.get_by_role("button", name="Predict", exact=True).click()
            page.get_by_role("heading", name="Our answer").wait_for()
            seconds = time.perf_counter() - started
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"app_start_s": round(seconds, 2)}


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks.latency import describe as describe_latency
    from genre_models.config import resolve_data_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="dataset folder or zip (default: $GENRE_DATA_DIR)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (finishes in a few minutes)")
    args = parser.parse_args()
    data_dir = str(resolve_data_dir(args.data_dir))
    repeats = 50 if args.quick else 200
    figures = {}

    figures.update(measure_prediction(data_dir, repeats))
    for line in describe_latency(figures.pop("latency")):
        print(line, flush=True)
    print(f"(secondary) the same film {repeats} times: {figures['predict_repeated_ms']:.1f} ms via the API, "
          f"{figures['predict_reference_ms']:.1f} ms calling the Keras models directly and eagerly "
          f"-> ratio {figures['predict_ratio']:.2f} (medians)", flush=True)
    figures.update(measure_threshold_update(data_dir, 10 if args.quick else 30))
    print(f"threshold update on the Evaluate page: {figures['threshold_update_ms']:.0f} ms per re-run", flush=True)
    figures.update(measure_second_load(data_dir))
    print(f"dataset load: first {figures['first_load_s']:.2f} s, second {figures['second_load_s']:.3f} s "
          f"-> {figures['second_load_ratio']:.1f}x faster", flush=True)
    figures.update(measure_epoch(data_dir, "course_cnn"))
    print(f"one epoch of {figures['epoch_model']}: {figures['epoch_s']:.2f} s via the project's training path, "
          f"{figures['epoch_reference_s']:.2f} s bare model.fit on NumPy arrays -> ratio {figures['epoch_ratio']:.2f}",
          flush=True)
    figures.update(measure_app_start(data_dir))
    print(f"app start to a shown prediction: {figures['app_start_s']} s", flush=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

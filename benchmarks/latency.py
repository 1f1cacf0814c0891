"""Prediction latency the way users meet it: many different films, one at a time.

Usage: python -m benchmarks.latency [--data-dir DIR] [--films 50] [--repeats 50] [--browser 10]

Method: load every shipped model (GenrePredictor.from_artifacts), warm up with one training-split
film, then send N different validation films one at a time through GenrePredictor.predict, each as
the app sends it (the poster file's bytes, as uploaded, and the overview string). Every film is
timed once in a first pass and once more in a second pass; median and p95 of each pass are printed.
The old figure (one film repeated) follows as a secondary line. Ends with one JSON line.

With ``--browser N``: also the Predict page in headless Chromium (`streamlit run`), warm (after one
prediction): N different test films picked from the dataset one after another, each timed from the
click on Predict until "Our answer" shows for that film, until the comparison of every model has a row per
model, and until both charts (the comparison and one model in detail) are drawn and the page's script has
finished.
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


def percentile(values: list[float], share: float) -> float:
    """Return the ``share`` quantile (0-1) of the values, linearly interpolated (numpy's default)."""
    import numpy as np

    return float(np.percentile(values, share * 100))


def load_films(data_dir: str, split: str, count: int) -> list[tuple[bytes, str]]:
    """Return (poster bytes, overview) of the first ``count`` films of a split, in the dataset's order."""
    from genre_models.dataset import load_dataset

    dataset = load_dataset(data_dir)
    rows = dataset.split_indices(split)[:count]
    return [(dataset.poster_path(dataset.ids[row]).read_bytes(), str(dataset.overviews[row])) for row in rows]


def time_films(predict, films: list[tuple[bytes, str]]) -> list[float]:
    """Milliseconds of ``predict(poster=..., overview=...)`` for each film, one call each."""
    times = []
    for poster, overview in films:
        started = time.perf_counter()
        predict(poster=poster, overview=overview)
        times.append((time.perf_counter() - started) * 1000)
    return times


def summarise(times: list[float]) -> dict:
    """Median, p95 and max of a list of milliseconds."""
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(percentile(times, 0.95), 1),
            "max_ms": round(max(times), 1)}


def measure_latency(data_dir: str, films: int = 50, repeats: int = 50, predictor=None) -> dict:
    """Return first-pass, second-pass and one-film-repeated latency figures of GenrePredictor.predict
    (of the shipped models, or of ``predictor``, which must not have predicted yet)."""
    from genre_models.inference import GenrePredictor

    load_s = None
    if predictor is None:
        started = time.perf_counter()
        predictor = GenrePredictor.from_artifacts()
        load_s = round(time.perf_counter() - started, 2)
    validation = load_films(data_dir, "validation", films)
    warm_up = load_films(data_dir, "train", 1)
    started = time.perf_counter()
    time_films(predictor.predict, warm_up)
    warm_up_s = time.perf_counter() - started
    load_before = os.getloadavg()[0]
    first = time_films(predictor.predict, validation)
    second = time_films(predictor.predict, validation)
    repeated = time_films(predictor.predict, validation[:1] * repeats)
    return {"models": len(predictor.models), "films": len(validation), "load_s": load_s,
            "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)], "cpus": os.cpu_count(),
            "warm_up_s": round(warm_up_s, 2), "first_pass": summarise(first), "second_pass": summarise(second),
            "one_film_repeated": {"repeats": repeats, **summarise(repeated)}}


def measure_click_to_answer(data_dir: str, films: int) -> dict:
    """Seconds from a click on Predict to the answers on the Predict page (headless Chromium, warm)."""
    import shutil

    from genre_models.artifacts import read_artifact_metadata
    from genre_models.config import PROJECT_ROOT
    from genre_models.dataset import load_dataset

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        return {"browser_note": "chromium not installed"}
    from benchmarks.browser import launch_chromium, open_when_listening, start_app
    from playwright.sync_api import sync_playwright

    models = len(read_artifact_metadata(PROJECT_ROOT / "artifacts")[0])
    dataset = load_dataset(data_dir)
    film_ids = [str(film_id) for film_id in dataset.ids[dataset.split_indices("test")][1 : films + 2]]
    server, port = start_app(data_dir, "--server.fileWatcherType", "none")
    script_done = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    times = {"first_answer": [], "all_answers": [], "all_charts": []}
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright, chromium)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(300_000)
            open_when_listening(page, f"http://127.0.0.1:{port}/Predict")
            page.get_by_text("A dataset film").click()
            for index, film_id in enumerate(film_ids):  # the first film is the warm-up
                page.locator("[data-testid='stSelectbox']").first.click()
                page.keyboard.type(film_id)
                page.keyboard.press("Enter")
                page.get_by_text(film_id).first.wait_for()
                page.wait_for_function(script_done)
                if index:  # the previous film's answers stay, marked as the earlier input's
                    page.get_by_text("These answers are for").wait_for()
                started = time.perf_counter()
                page.get_by_role("button", name="Predict", exact=True).click()
                # Polled on every frame (an expect() polls at up to 1 s steps, which would be in the figure).
                page.wait_for_function("() => !document.body.innerText.includes('These answers are for')")
                page.get_by_role("heading", name="Our answer").wait_for()
                first = time.perf_counter() - started
                # Every model's answer: the comparison grid has a row per model.
                page.wait_for_function(GRID_ROWS_JS, arg=models)
                answers = time.perf_counter() - started
                page.locator(".js-plotly-plot").nth(1).wait_for(state="attached")
                page.wait_for_function(script_done)
                charts = time.perf_counter() - started
                if index:
                    for key, value in zip(times, (first, answers, charts)):
                        times[key].append(value)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"browser_films": len(times["all_answers"]), "browser_models": models,
            **{f"{key}_s": {"median": round(statistics.median(values), 2), "max": round(max(values), 2)}
               for key, values in times.items()}}


# JavaScript: whether the Predict page's comparison grid (its first Plotly chart) has a row per model.
GRID_ROWS_JS = ("(models) => { const c = document.querySelector('.js-plotly-plot');"
                " return !!(c && c.data && c.data[0] && c.data[0].y && c.data[0].y.length === models); }")


def describe(figures: dict) -> list[str]:
    """Return the printed lines of a latency measurement."""
    first, second, repeated = figures["first_pass"], figures["second_pass"], figures["one_film_repeated"]
    loading = "" if figures["load_s"] is None else f" ({figures['load_s']:.1f} s)"
    return [
        f"method: {figures['models']} shipped models via GenrePredictor.predict, {figures['films']} different "
        f"validation films one at a time (poster file bytes + overview), after loading{loading} and one warm-up "
        f"film ({figures['warm_up_s']:.1f} s); 1-minute load average {figures['load_average'][0]:.1f} before, "
        f"{figures['load_average'][1]:.1f} after, on {figures['cpus']} CPUs (other processes slow every figure)",
        f"prediction, first pass:  median {first['median_ms']:.1f} ms, p95 {first['p95_ms']:.1f} ms, "
        f"max {first['max_ms']:.1f} ms",
        f"prediction, second pass: median {second['median_ms']:.1f} ms, p95 {second['p95_ms']:.1f} ms, "
        f"max {second['max_ms']:.1f} ms",
        f"(secondary) one film repeated {repeated['repeats']} times: median {repeated['median_ms']:.1f} ms, "
        f"p95 {repeated['p95_ms']:.1f} ms",
    ]


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from genre_models.config import resolve_data_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="dataset folder or zip (default: $GENRE_DATA_DIR)")
    parser.add_argument("--films", type=int, default=50, help="different validation films (default 50)")
    parser.add_argument("--repeats", type=int, default=50, help="repeats of the one-film secondary figure")
    parser.add_argument("--browser", type=int, default=0, metavar="N",
                        help="also time N films from click to answer on the Predict page (headless Chromium)")
    args = parser.parse_args()
    data_dir = str(resolve_data_dir(args.data_dir))
    figures = measure_latency(data_dir, args.films, args.repeats)
    for line in describe(figures):
        print(line, flush=True)
    if args.browser:
        figures["browser"] = measure_click_to_answer(data_dir, args.browser)
        browser = figures["browser"]
        if "browser_note" in browser:
            print(f"browser: {browser['browser_note']}", flush=True)
        else:
            print(f"browser, Predict page, warm, {browser['browser_films']} different test films: click to first "
                  f"answer median {browser['first_answer_s']['median']:.2f} s, to all {browser['browser_models']} "
                  f"answers {browser['all_answers_s']['median']:.2f} s, to all charts drawn "
                  f"{browser['all_charts_s']['median']:.2f} s (max {browser['all_charts_s']['max']:.2f} s)",
                  flush=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

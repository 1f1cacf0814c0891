"""How soon a new user can use the app (issue 15): seconds from `streamlit run` to Home being interactive,
and to the first prediction on the Predict page, in headless Chromium.

Usage: python -m benchmarks.first_use [--data-dir DIR] [--runs 3]

Each run starts a fresh server (nothing cached in it) and drives the app as a user would, as fast as a
script can: open the app's address, wait until Home is interactive (its title, page links and models table
drawn and its script run over), click Predict in the sidebar, type an overview, press Predict and wait for
"Our answer". Figures per run, then their medians, and the 1-minute load average (other jobs on this
machine's cores move every figure); ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
import urllib.request
from pathlib import Path

OVERVIEW = "A retired hitman is pulled back in for one last job in Tokyo."
TIMEOUT_MS = 300_000
# JavaScript: true while Streamlit's "running" indicator is shown (a script run in progress).
RUNNING_JS = "() => !!document.querySelector('[data-testid=\"stStatusWidget\"]')"


def seconds_until_listening(port: int, started: float) -> float:
    """Poll the server's health endpoint; return the seconds since ``started`` when it first answers."""
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as response:
                if response.read().strip() == b"ok":
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.05)


def wait_until_home_is_interactive(page) -> None:
    """Wait for Home's title, its page links and the models table, then for its script run to end."""
    page.get_by_text("Movie genres from posters and plot summaries").wait_for()
    page.get_by_test_id("stMain").get_by_test_id("stPageLink").first.wait_for()
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    page.wait_for_function(f"() => !({RUNNING_JS})()")


def measure_run(data_dir: str, chromium: str) -> dict:
    """One fresh server: the seconds from its start to listening, Home interactive, the Predict page's inputs
    shown and the first answer; plus how long the Predict page itself took from the click."""
    from playwright.sync_api import sync_playwright

    from benchmarks.browser import launch_chromium, open_when_listening, start_app

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, chromium)  # before the clock: a user's browser is already open
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        started = time.perf_counter()
        server, port = start_app(data_dir, "--server.fileWatcherType", "none")
        try:
            listening = seconds_until_listening(port, started)
            open_when_listening(page, f"http://127.0.0.1:{port}/")
            wait_until_home_is_interactive(page)
            home = time.perf_counter() - started
            page.get_by_test_id("stSidebarNav").get_by_text("Predict", exact=True).click()
            clicked = time.perf_counter()
            summary = page.get_by_role("textbox", name="Plot summary")
            summary.wait_for()
            inputs_shown = time.perf_counter() - started
            summary.fill(OVERVIEW)
            page.get_by_role("button", name="Predict", exact=True).click()
            page.get_by_text("Our answer").wait_for()
            answered = time.perf_counter()
        finally:
            browser.close()
            server.terminate()
            server.wait(timeout=30)
    return {"listening_s": round(listening, 2), "home_interactive_s": round(home, 2),
            "predict_inputs_s": round(inputs_shown, 2), "first_prediction_s": round(answered - started, 2),
            "predict_page_after_click_s": round(answered - clicked, 2)}


def main() -> None:
    from genre_models.config import resolve_data_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="dataset folder or zip (default: $GENRE_DATA_DIR)")
    parser.add_argument("--runs", type=int, default=3, help="fresh servers to time (default 3)")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        raise SystemExit("error: chromium is not installed (apt-get install chromium)")
    data_dir = str(resolve_data_dir(args.data_dir))
    load_before = os.getloadavg()[0]
    runs = []
    for number in range(1, args.runs + 1):
        runs.append(measure_run(data_dir, chromium))
        print(f"run {number}: " + ", ".join(f"{key} {value}" for key, value in runs[-1].items()), flush=True)
    medians = {key: round(statistics.median(run[key] for run in runs), 2) for key in runs[0]}
    load_after = os.getloadavg()[0]
    print(f"server start -> listening {medians['listening_s']:.2f} s, -> Home interactive "
          f"{medians['home_interactive_s']:.2f} s (target < 3 s), -> first prediction "
          f"{medians['first_prediction_s']:.2f} s (target < 8 s); medians of {len(runs)} runs, "
          f"1-minute load average {load_before:.1f} before, {load_after:.1f} after")
    print(json.dumps({"runs": runs, "medians": medians, "load_average": [load_before, load_after]}))


if __name__ == "__main__":
    main()

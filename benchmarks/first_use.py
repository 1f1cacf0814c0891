"""How soon a new user can use the app: seconds from `streamlit run` to Home being interactive, and to the
first prediction on the Predict page, in headless Chromium; then, warm, how long a Predict click with a poster
and a summary takes until the answer is visible (target under 1 s).

Usage: python -m benchmarks.first_use [--data-dir DIR] [--runs 3] [--think-seconds 0] [--warm-clicks 6]
       [--reference DIR]

--think-seconds waits that long once the Predict page takes input, before typing, as a person reading the
page and writing a summary would (0: the script types at once, the worst case for a background warm-up).

With --reference, each run also times the app in another copy of the project (an earlier version, for
instance `git archive <commit> | tar -x -C DIR`), alternating with this one so both meet the same load.

Each run starts a fresh server (nothing cached in it) and drives the app as a user would, as fast as a
script can: open the app's address, wait until Home is interactive (its title, page links and models table
drawn and its script run over), click Predict in the sidebar, type an overview, press Predict and wait for
"Our answer" (which may come from the models loaded so far), then until every model's answer is in (no model
named as still loading; the model "Our answer" comes from is given at both points). Figures per run, then
their medians, the warm clicks' median (a shipped example's poster uploaded, two summaries of different genres
in turn, so each click's answer differs from the one on screen; the first two clicks, one per summary, only
learn what each answer says and are not timed), the server process's CPU seconds at both points (which other jobs move far less than the
wall-clock figures) and the 1-minute load average (other jobs on this
machine's cores move every wall-clock figure); ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OVERVIEW = "A retired hitman is pulled back in for one last job in Tokyo."
TIMEOUT_MS = 300_000
# What the Predict page says over answers given while some models were still loading (pages/2_Predict.py).
STILL_LOADING = "Still loading, so not in these answers yet"
# Two summaries whose answers differ, typed in turn for the warm clicks.
WARM_SUMMARIES = ("A ghost haunts a lonely house and kills the family, one by one, every night.",
                  "Two friends fall in love in Paris while they open a small bakery together.")
# The answer's first line on the Predict page (genre_app.answer_view.headline).
HEADLINE = re.compile(r"(fairly sure|leaning|unsure|No confident answer|No genre reaches its bar)")
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


def read_cpu_seconds(pid: int) -> float:
    """Return the CPU seconds (user + system) a process has used so far: unlike the wall-clock figures, this
    hardly moves with other jobs on the machine's cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def answering_model(page) -> str:
    """Return the model "Our answer" comes from (its caption starts "From <model> (reads ...")."""
    caption = page.get_by_text(re.compile(r"^From \S+ \(reads")).first.inner_text()
    return caption.split()[1]


def wait_until_home_is_interactive(page) -> None:
    """Wait for Home's title, its page links and the models table, then for its script run to end."""
    page.get_by_text("Movie genres from posters and plot summaries").wait_for()
    page.get_by_test_id("stMain").get_by_test_id("stPageLink").first.wait_for()
    # The models table: a static table now, the data grid in versions before it (--reference).
    page.locator("[data-testid='stTable'], [data-testid='stDataFrame']").first.wait_for()
    page.wait_for_function(f"() => !({RUNNING_JS})()")


def upload_example_poster(page, folder: Path) -> None:
    """Upload a shipped example's poster as a JPEG and wait until the server has it."""
    import numpy as np
    from PIL import Image

    from genre_models.examples import EXAMPLES_DIR, load_examples

    path = folder / "poster.jpg"
    Image.fromarray(np.asarray(load_examples(EXAMPLES_DIR).examples[0].poster, dtype=np.uint8)).save(path)
    with page.expect_response(lambda response: "/_stcore/upload_file/" in response.url
                              and response.request.method == "PUT" and response.ok):
        page.locator("input[type='file']").set_input_files(str(path))
    page.wait_for_function(f"() => !({RUNNING_JS})()")


def headline_after_click(page, summary: str, expected: str | None) -> tuple[float, str]:
    """Type a summary, press Predict and return (seconds from the click until the answer's first line says
    ``expected``, or until any answer line once the run is over when None, and the line)."""
    page.get_by_role("textbox", name="Plot summary").fill(summary)
    clicked = time.perf_counter()
    page.get_by_role("button", name="Predict", exact=True).click()
    if expected is None:  # untimed: give the run time to start (the indicator shows late), then wait for its end
        page.wait_for_timeout(2000)
        page.wait_for_function(f"() => !({RUNNING_JS})()")
    else:
        page.wait_for_function("(line) => document.body.innerText.includes(line)", arg=expected)
    seconds = time.perf_counter() - clicked
    line = page.get_by_test_id("stMarkdownContainer").filter(has_text=HEADLINE).first.inner_text()
    return seconds, line


def measure_warm_clicks(page, clicks: int) -> list[float]:
    """Seconds from Predict to the answer visible, warm (every model in), a poster and a summary given."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        upload_example_poster(page, Path(folder))
    headlines = [headline_after_click(page, summary, None)[1] for summary in WARM_SUMMARIES]
    if headlines[0] == headlines[1]:
        raise SystemExit(f"error: both warm summaries get the answer {headlines[0]!r}; a click cannot be timed")
    page.wait_for_function(f"() => !({RUNNING_JS})()")
    timed = []
    for number in range(clicks):
        turn = number % 2
        seconds, _ = headline_after_click(page, WARM_SUMMARIES[turn], headlines[turn])
        timed.append(round(seconds, 3))
        page.wait_for_function(f"() => !({RUNNING_JS})()")
    return timed


def measure_run(data_dir: str, chromium: str, checkout: Path = ROOT, think_seconds: float = 0.0,
                warm_clicks: int = 0) -> dict:
    """One fresh server: the seconds from its start to listening, Home interactive, the Predict page's inputs
    shown and the first answer; plus how long the Predict page itself took from the click."""
    from playwright.sync_api import sync_playwright

    from benchmarks.browser import launch_chromium, open_when_listening, start_app

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, chromium)  # before the clock: a user's browser is already open
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        started = time.perf_counter()
        server, port = start_app(data_dir, "--server.fileWatcherType", "none", checkout=checkout)
        try:
            listening = seconds_until_listening(port, started)
            open_when_listening(page, f"http://127.0.0.1:{port}/")
            wait_until_home_is_interactive(page)
            home = time.perf_counter() - started
            home_cpu = read_cpu_seconds(server.pid)
            page.get_by_test_id("stSidebarNav").get_by_text("Predict", exact=True).click()
            clicked = time.perf_counter()
            summary = page.get_by_role("textbox", name="Plot summary")
            summary.wait_for()
            inputs_shown = time.perf_counter() - started
            time.sleep(think_seconds)
            summary.fill(OVERVIEW)
            pressed = time.perf_counter()
            page.get_by_role("button", name="Predict", exact=True).click()
            page.get_by_text("Our answer").wait_for()
            answered = time.perf_counter()
            answered_cpu = read_cpu_seconds(server.pid)
            first_model = answering_model(page)
            # A prediction made while models load answers with those loaded and names the others, whose answers
            # the page adds when they are in: the answer is complete once no model is named as still loading.
            page.wait_for_function(f"() => !document.body.innerText.includes({json.dumps(STILL_LOADING)}) "
                                   f"&& !({RUNNING_JS})()")
            complete = time.perf_counter()
            final_model = answering_model(page)
            warm = measure_warm_clicks(page, warm_clicks) if warm_clicks else []
        finally:
            browser.close()
            server.terminate()
            server.wait(timeout=30)
    return {"listening_s": round(listening, 2), "home_interactive_s": round(home, 2),
            "predict_inputs_s": round(inputs_shown, 2), "first_prediction_s": round(answered - started, 2),
            "predict_page_after_click_s": round(answered - clicked, 2),
            "predict_button_to_answer_s": round(answered - pressed, 2),
            "every_answer_s": round(complete - started, 2), "server_cpu_home_s": round(home_cpu, 2),
            "server_cpu_first_prediction_s": round(answered_cpu, 2), "first_answer_from": first_model,
            "final_answer_from": final_model, "warm_clicks_s": warm,
            **({"warm_click_to_answer_s": round(statistics.median(warm), 3)} if warm else {})}


def summarize(runs: list[dict]) -> dict:
    """Return the median of each figure over the runs (the models answering: the most common)."""
    return {key: round(statistics.median(run[key] for run in runs), 3) if isinstance(runs[0][key], float)
            else statistics.mode(run[key] for run in runs) for key in runs[0] if not isinstance(runs[0][key], list)}


def describe(medians: dict, count: int) -> str:
    """Say the medians in one line."""
    return (f"server start -> listening {medians['listening_s']:.2f} s, -> Home interactive "
            f"{medians['home_interactive_s']:.2f} s (target < 3 s), -> first prediction "
            f"{medians['first_prediction_s']:.2f} s (target < 8 s; Predict pressed -> answer "
            f"{medians['predict_button_to_answer_s']:.2f} s; \"Our answer\" from {medians['first_answer_from']}), "
            f"-> every model's answer {medians['every_answer_s']:.2f} s (from {medians['final_answer_from']}); "
            + (f"warm, Predict with a poster and a summary -> answer visible {medians['warm_click_to_answer_s']:.2f} s "
               "(target < 1 s); " if "warm_click_to_answer_s" in medians else "")
            + f"the server's CPU time by then "
            f"{medians['server_cpu_home_s']:.2f} s and {medians['server_cpu_first_prediction_s']:.2f} s; medians of "
            f"{count} runs")


def main() -> None:
    from genre_models.config import resolve_data_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="dataset folder or zip (default: $GENRE_DATA_DIR)")
    parser.add_argument("--runs", type=int, default=3, help="fresh servers to time (default 3)")
    parser.add_argument("--think-seconds", type=float, default=0.0,
                        help="seconds between the Predict page taking input and typing (default 0)")
    parser.add_argument("--warm-clicks", type=int, default=6,
                        help="timed warm Predict clicks with a poster and a summary per run (default 6; 0: none)")
    parser.add_argument("--reference", type=Path, help="another copy of the project to time alternately")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        raise SystemExit("error: chromium is not installed (apt-get install chromium)")
    if args.reference is not None and not (args.reference / "streamlit_app.py").is_file():
        raise SystemExit(f"error: {args.reference} has no streamlit_app.py")
    data_dir = str(resolve_data_dir(args.data_dir))
    load_before = os.getloadavg()[0]
    runs, reference_runs = [], []
    for number in range(1, args.runs + 1):
        runs.append(measure_run(data_dir, chromium, think_seconds=args.think_seconds, warm_clicks=args.warm_clicks))
        print(f"run {number}: " + ", ".join(f"{key} {value}" for key, value in runs[-1].items()), flush=True)
        if args.reference is not None:
            reference_runs.append(measure_run(data_dir, chromium, args.reference, args.think_seconds))
            print(f"reference run {number}: "
                  + ", ".join(f"{key} {value}" for key, value in reference_runs[-1].items()), flush=True)
    load_after = os.getloadavg()[0]
    figures = {"runs": runs, "medians": summarize(runs), "load_average": [load_before, load_after]}
    print(describe(figures["medians"], len(runs)) + f", 1-minute load average {load_before:.1f} before, "
          f"{load_after:.1f} after")
    if reference_runs:
        figures.update(reference_runs=reference_runs, reference_medians=summarize(reference_runs))
        print(f"reference ({args.reference}): " + describe(figures["reference_medians"], len(reference_runs)))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

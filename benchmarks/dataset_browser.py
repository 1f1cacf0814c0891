"""How long the Dataset browser takes in a real browser (headless Chromium, `streamlit run`, full dataset).

Usage: python -m benchmarks.dataset_browser [--data-dir DIR] [--repeats 5] [--reference CHECKOUT]

Prints, in seconds (medians of ``--repeats`` for the warm figures):

- cold open: a fresh server's first visit to the page (imports, dataset, the first page of posters);
- warm open: the page opened again in a new tab of the same server;
- paging and searching: from the change to the new page of cards;
- opening a film: from a click on a card to every model's answer (the first film of a fresh
  server loads the models; ``again`` reopens a film already seen);
- the Charts view: the first time in the server, then again in a new tab.

A step counts as done when its marker is on the page and the page's script has finished
(Streamlit's "running" indicator gone), i.e. what a visitor waits for. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from benchmarks.browser import ROOT, launch_chromium, open_when_listening, start_app

SCRIPT_DONE = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
# The first card's "Open details" button carries the film's Id in its CSS class (st-key-open-<Id>).
FIRST_CARD_JS = "() => { const b = document.querySelector('[class*=\"st-key-open-\"]'); return b ? b.className : ''; }"
# Markers of a finished step.
ANSWERS_TEXT = "What the models answer"
CHART_COUNT = 5
# A film's details appear within this time or not at all (the first one loads the models: minutes at worst).
OPEN_FILM_TIMEOUT_MS = 240_000
# A drawn chart: Vega-Lite's canvas (the charts now) or a Plotly plot (before), so both versions can be timed.
DRAWN_CHART = "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg, .js-plotly-plot"


def wait_for_cards(page, previous: str | None = None) -> str:
    """Wait until a page of cards is drawn (different from ``previous``) and the script is done."""
    page.wait_for_function(f"(previous) => {{ const c = ({FIRST_CARD_JS})(); return c && c !== previous; }}",
                           arg=previous or "")
    page.wait_for_function(SCRIPT_DONE)
    return page.evaluate(FIRST_CARD_JS)


def settle(page, quiet_ms: int = 500) -> None:
    """Wait until the page's script is done and stays done for ``quiet_ms`` (untimed, before a click: the
    cards of the previous run may still be on screen for a moment after the indicator goes)."""
    while True:
        page.wait_for_function(SCRIPT_DONE)
        page.wait_for_timeout(quiet_ms)
        if page.evaluate(SCRIPT_DONE):
            return


def open_page(page, url: str) -> float:
    """Seconds from opening the Dataset browser to its first page of cards."""
    started = time.perf_counter()
    open_when_listening(page, url)
    wait_for_cards(page)
    return time.perf_counter() - started


def time_paging(page) -> float:
    """Seconds from moving to the next page of cards to the new cards."""
    settle(page)
    before = page.evaluate(FIRST_CARD_JS)
    started = time.perf_counter()
    page.get_by_test_id("stNumberInput").first.get_by_test_id("stNumberInputStepUp").click()
    wait_for_cards(page, before)
    return time.perf_counter() - started


def time_search(page, word: str) -> float:
    """Seconds from searching the overviews for a word to the matching cards."""
    settle(page)
    before = page.evaluate(FIRST_CARD_JS)
    box = page.get_by_label("Search overviews")
    started = time.perf_counter()
    box.fill(word)
    box.press("Enter")
    wait_for_cards(page, before)
    return time.perf_counter() - started


def time_open_film(page, index: int) -> float | None:
    """Seconds from a click on a card's Open details to every model's answer."""
    settle(page)
    button = page.locator('[class*="st-key-open-"]').nth(index)
    film_id = next(name.removeprefix("st-key-open-") for name in button.get_attribute("class").split()
                   if name.startswith("st-key-open-"))
    started = time.perf_counter()
    button.get_by_role("button").click()
    try:
        page.get_by_role("heading", name=film_id).wait_for(timeout=OPEN_FILM_TIMEOUT_MS)
    except PlaywrightTimeout:
        return None  # an older page that did not open the clicked film: no figure rather than a wrong one
    page.get_by_text(ANSWERS_TEXT).first.wait_for()
    page.wait_for_function(SCRIPT_DONE)
    elapsed = time.perf_counter() - started
    close_film(page)
    return elapsed


def close_film(page) -> None:
    """Close the film's details (the dialog's close button) when they open in a dialog."""
    dialog = page.get_by_role("dialog")
    if dialog.count():
        dialog.get_by_label("Close").click()
        dialog.wait_for(state="detached")
        # Closing reruns the page, which takes the film out of the address: wait for that rerun too.
        page.wait_for_function("() => !new URLSearchParams(location.search).has('film')")
        page.wait_for_function(SCRIPT_DONE)


def time_charts(page) -> float:
    """Seconds from choosing the Charts view to its charts drawn."""
    settle(page)
    started = time.perf_counter()
    page.get_by_test_id("stButtonGroup").get_by_text("Charts").click()
    page.locator(DRAWN_CHART).nth(CHART_COUNT - 1).wait_for()
    page.wait_for_function(SCRIPT_DONE)
    return time.perf_counter() - started


def measure(data_dir: str, repeats: int, checkout: Path = ROOT) -> dict:
    """Time one server of ``checkout`` (this one by default): a cold visit, then ``repeats`` warm tabs."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    server, port = start_app(data_dir, "--server.fileWatcherType", "none", checkout=checkout)
    url = f"http://127.0.0.1:{port}/Dataset_browser"
    figures: dict[str, list[float]] = {}

    def record(name: str, seconds: float | None) -> None:
        if seconds is not None:
            figures.setdefault(name, []).append(seconds)

    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright, chromium)
            # One browser profile, as one visitor's: a new tab reuses its cached scripts (Plotly's included).
            context = browser.new_context(viewport={"width": 1600, "height": 1000})

            def new_tab():
                tab = context.new_page()
                tab.set_default_timeout(300_000)
                return tab

            page = new_tab()
            record("cold_open", open_page(page, url))
            record("open_film_first", time_open_film(page, 0))
            record("charts_first", time_charts(page))
            page.close()
            for repeat in range(repeats):
                page = new_tab()
                record("warm_open", open_page(page, url))
                record("paging", time_paging(page))
                record("search", time_search(page, ["love", "war", "family", "murder", "school", "city"][repeat % 6]))
                record("open_film_new", time_open_film(page, 1 + repeat))
                record("open_film_again", time_open_film(page, 1 + repeat))
                record("charts_warm", time_charts(page))
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {name: round(statistics.median(figures[name]), 2) if figures.get(name) else None for name in DESCRIPTIONS} | {
        "repeats": repeats}


DESCRIPTIONS = {
    "cold_open": "cold open (fresh server, first visit)",
    "open_film_first": "open a film, first in the server (loads the models)",
    "charts_first": "Charts view, first in the server",
    "warm_open": "warm open (new tab, same server)",
    "paging": "next page of cards",
    "search": "search the overviews",
    "open_film_new": "open a film not seen before",
    "open_film_again": "open a film seen before",
    "charts_warm": "Charts view (new tab, same server)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("GENRE_DATA_DIR"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--reference", type=Path, metavar="CHECKOUT",
                        help="also time another copy of the project (an earlier version, e.g. `git archive` of a "
                             "commit), alternately with this one, two servers each; its figures are printed first")
    args = parser.parse_args()
    if not args.data_dir:
        raise SystemExit("give --data-dir or set GENRE_DATA_DIR")
    data_dir = str(Path(args.data_dir).resolve())
    if args.reference:
        # Alternately, so both meet the same load from other work on the machine.
        for round_number in (1, 2):
            for name, checkout in (("reference", args.reference.resolve()), ("this checkout", ROOT)):
                print(f"{name}, round {round_number} (load {os.getloadavg()[0]:.1f}):", flush=True)
                print_figures(measure(data_dir, args.repeats, checkout))
        return
    print_figures(measure(data_dir, args.repeats))


def print_figures(figures: dict) -> None:
    """Print one line per figure and the load after the run, then the figures as one JSON line."""
    for key, text in DESCRIPTIONS.items():
        target = " (target < 2 s)" if key in ("warm_open", "paging", "search", "charts_warm", "open_film_again") else ""
        shown = "   n/a" if figures[key] is None else f"{figures[key]:6.2f}"
        print(f"{text:55s} {shown} s{target}")
    print(f"1-minute load average after the run: {os.getloadavg()[0]:.1f}")
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()

"""Real-browser journeys of the Dataset browser and the Train page.

- Dataset browser: open, page, search, pick a film by clicking a row of the table view, read its details with
  every model's answer, close it, open another from its card, and open one straight from the address.
- Train: with no active run the page sends nothing to the server while it sits open (no polling); a run
  that becomes active is followed live, and once it ends the page refreshes once and goes quiet again.

Screenshots under test-output/browser/ (30-*).
"""

from __future__ import annotations

import csv
import os
import re
import time

import pytest
from playwright.sync_api import expect
from test_browser import (  # noqa: F401
    assert_no_exception,
    browser,
    page,
    serve_app,
    snapshot,
    wait_until_script_done,
)

from genre_app.refits import unusable_fusions
from genre_models.artifacts import read_artifact_metadata
from genre_models.config import PROJECT_ROOT

# The models that answer: every artifact but a fusion whose part was replaced since it was fitted.
METADATA = read_artifact_metadata(PROJECT_ROOT / "artifacts")[0]
ANSWERING = sorted({metadata["name"] for metadata in METADATA} - set(unusable_fusions(METADATA)))
# Streamlit's data grid: its header and rows are this tall (pixels); the row marker (selection) column sits left.
GRID_ROW_PIXELS = 35
ROW_MARKER_X = 18


@pytest.fixture(scope="module")
def served(small_real_dataset, tmp_path_factory):
    """`streamlit run` on the small real dataset with a runs folder of its own; yields (url, runs folder)."""
    runs_dir = tmp_path_factory.mktemp("journey_runs")
    with serve_app(tmp_path_factory, small_real_dataset, runs_dir, "journey") as url:
        yield url, runs_dir


def settle(page, quiet_ms: int = 1000) -> None:
    """Wait until the script has finished and stayed finished for ``quiet_ms`` (right after a click the
    "running" indicator may not show yet)."""
    while True:
        wait_until_script_done(page)
        page.wait_for_timeout(quiet_ms)
        if not page.get_by_test_id("stStatusWidget").count():
            return


def card_film_ids(page) -> list[str]:
    """The Ids of the films on the shown page of cards, in order (each card's button is keyed open-<Id>)."""
    classes = page.locator('[class*="st-key-open-"]').evaluate_all("(nodes) => nodes.map((n) => n.className)")
    return [re.search(r"st-key-open-(\S+)", name).group(1) for name in classes]


def a_word_of(small_real_dataset, row: int) -> tuple[str, int]:
    """A long word of a film's overview and how many films' overviews contain it (ignoring case)."""
    with open(small_real_dataset / "IMDB_overview_genres.csv", newline="", encoding="utf-8") as handle:
        overviews = [r["Overview"] for r in csv.DictReader(handle)]
    word = max(re.findall(r"[A-Za-z]+", overviews[row]), key=len).lower()
    return word, sum(word in text.lower() for text in overviews)


def film_dialog(page):
    return page.get_by_role("dialog")


def expect_film_details(page, film_id: str) -> None:
    """The details dialog shows the film and one answer line per shipped model."""
    dialog = film_dialog(page)
    dialog.get_by_role("heading", name=film_id).wait_for()
    dialog.get_by_text("What the models answer").wait_for()
    for model in ANSWERING:
        expect(dialog.locator("li", has_text=re.compile(rf"^{re.escape(model)}:"))).to_have_count(1)
    assert_no_exception(page)


def close_details(page) -> None:
    film_dialog(page).get_by_label("Close").click()
    expect(film_dialog(page)).to_have_count(0)
    settle(page)


def test_dataset_browser_journey(page, served, small_real_dataset):
    url, _ = served
    page.goto(f"{url}/Dataset_browser")
    expect(page.get_by_role("button", name="Open details")).to_have_count(12)
    settle(page)
    assert_no_exception(page)
    # Cards line up: in each row the buttons are level (a card grows with its text, never clipped; see
    # test_browser_pages.py).
    buttons = page.get_by_role("button", name="Open details")
    first_row = [buttons.nth(i).bounding_box() for i in range(4)]
    assert max(box["y"] for box in first_row) - min(box["y"] for box in first_row) < 2
    snapshot(page, "30-dataset-browser-cards")

    # Paging.
    first_page = card_film_ids(page)
    page.get_by_test_id("stNumberInput").first.get_by_test_id("stNumberInputStepUp").click()
    page.wait_for_function("(first) => !document.querySelector(`.st-key-open-${first}`)", arg=first_page[0])
    settle(page)
    assert set(card_film_ids(page)).isdisjoint(first_page)

    # Searching: the cards, the count and the table follow the search.
    word, matching = a_word_of(small_real_dataset, 5)
    search = page.get_by_label("Search overviews")
    search.fill(word)
    search.press("Enter")
    page.get_by_text(f"{matching} films match").wait_for()
    settle(page)
    assert len(card_film_ids(page)) == min(matching, 12)
    snapshot(page, "31-dataset-browser-search")

    # Picking a film by clicking its row in the table view (the row marker of the first row); the search stays.
    chosen = card_film_ids(page)[0]
    page.get_by_test_id("stButtonGroup").get_by_text("Table").click()
    grid = page.get_by_test_id("stDataFrame").first
    grid.wait_for()
    page.get_by_text(f"{matching} films match").wait_for()
    settle(page)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + ROW_MARKER_X, box["y"] + GRID_ROW_PIXELS * 1.5)
    expect_film_details(page, chosen)
    expect(page).to_have_url(re.compile(rf"[?&]film={chosen}\b"))
    settle(page)
    snapshot(page, "32-dataset-browser-film-details")
    close_details(page)
    expect(page).not_to_have_url(re.compile(r"film="))

    # Opening a film from its card.
    page.get_by_test_id("stButtonGroup").get_by_text("Cards").click()
    page.get_by_label("Search overviews").fill("")
    page.get_by_label("Search overviews").press("Enter")
    expect(page.get_by_role("button", name="Open details")).to_have_count(12)
    settle(page)
    fourth = card_film_ids(page)[3]
    page.locator(f".st-key-open-{fourth}").get_by_role("button").click()
    expect_film_details(page, fourth)
    close_details(page)

    # The address opens a film on its own (a reload or a shared link).
    page.goto(f"{url}/Dataset_browser?film={first_page[5]}")
    expect_film_details(page, first_page[5])
    settle(page)
    snapshot(page, "33-dataset-browser-film-from-address")


def frames_sent_within(page, sent: list[float], seconds: float) -> int:
    """How many websocket messages the page sends the server in the next ``seconds`` (reruns, fragment
    refreshes: Streamlit's client only writes when it wants the script to run)."""
    started = time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    return sum(started <= moment for moment in sent)


def test_train_page_polls_only_while_a_run_is_active(page, served):
    from app_testing import make_fake_run
    from test_page_train import add_judged_metrics

    from genre_models import fileio, runs

    url, runs_dir = served
    sent: list[float] = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda payload: sent.append(time.monotonic())))
    page.goto(f"{url}/Train")
    page.get_by_text("No run is active.").wait_for()
    settle(page)
    assert frames_sent_within(page, sent, 7) == 0  # an idle page sends nothing
    snapshot(page, "34-train-idle")

    # A run becomes active (its worker is this test process, which holds the run's lock).
    folder = make_fake_run(runs_dir, "20260107-000000-course_cnn", "running", 2, pid=os.getpid(),
                           heartbeat=time.time() + 3600, epoch=3, epochs=5, step=1, steps=3, elapsed=60)
    add_judged_metrics(folder)
    with open(folder / runs.LOCK_FILE, "a+") as lock:
        fileio.lock_file(lock)
        page.get_by_role("button", name="Check for a new run").click()
        page.get_by_text(f"Active run {folder.name}").wait_for()
        settle(page)
        assert frames_sent_within(page, sent, 7) >= 2  # the live part refreshes itself every 2 s
        assert page.get_by_text("Binary accuracy is misleading").count() >= 1
        page.locator(".js-plotly-plot").nth(3).wait_for()
        snapshot(page, "35-train-live")
        runs.write_status(folder, "completed", elapsed=90)
    # The lock is free and the run completed: the page reruns once, whole, says so and goes quiet.
    page.get_by_text(f"Run {folder.name} completed.").first.wait_for(timeout=30_000)
    page.get_by_text("No run is active.").wait_for()
    settle(page)
    expect(page.get_by_text(f"Active run {folder.name}")).to_have_count(0)
    assert frames_sent_within(page, sent, 7) == 0
    assert_no_exception(page)
    snapshot(page, "36-train-run-ended")

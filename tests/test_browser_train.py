"""Real-browser journey of the Train page: a run that finishes, then one that is stopped.

A short run is started from the form and followed to its end: the page says it completed, the picker and the
address show it, and its curves stay with the kept checkpoint marked. A long run is then stopped: it ends
before its next step (no waiting for the rest of the epoch), the picker shows the stopped run, and no worker is
left as a <defunct> child of the server. Screenshots under test-output/browser/ (40-*).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from test_browser import (  # noqa: F401
    SCREENSHOTS,
    assert_no_exception,
    browser,
    page,
    serve_app,
    snapshot,
    wait_until_script_done,
)


@pytest.fixture(scope="module")
def served(small_real_dataset, tmp_path_factory):
    """`streamlit run` on the small real dataset with a runs folder of its own; yields (url, runs folder)."""
    from genre_models import runs, supervisor

    runs_dir = tmp_path_factory.mktemp("train_journey_runs")
    with serve_app(tmp_path_factory, small_real_dataset, runs_dir, "train_journey") as url:
        try:
            yield url, runs_dir
        finally:
            for run in runs.list_runs(runs_dir):  # none of the journey's workers may outlive it
                supervisor.kill_run(run.folder)


def find_server_pid(url: str) -> int:
    """The pid of the `streamlit run` process serving ``url`` (found by its port among the processes)."""
    port = str(urlparse(url).port)
    for entry in Path("/proc").iterdir():
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(arguments) and port.encode() in arguments:
            return int(entry.name)
    raise AssertionError(f"no streamlit process serves port {port}")


def list_defunct_children(pid: int) -> list[int]:
    """The zombie (<defunct>) children of a process."""
    zombies = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid) and fields[0] == "Z":
            zombies.append(int(entry.name))
    return zombies


def fill(page, label: str, value: str) -> None:
    page.get_by_label(label, exact=True).fill(value)
    page.get_by_label(label, exact=True).press("Tab")


def start_run(page, url: str, epochs: int, share: float) -> str:
    """Start a course_cnn run from the form (32x32 posters); return its name once it is active."""
    page.goto(f"{url}/Train")
    page.get_by_role("button", name="Start training").wait_for()
    fill(page, "Epochs", str(epochs))
    fill(page, "Early-stopping patience (0: off)", "0")
    fill(page, "Share of the training data", str(share))
    fill(page, "Image height", "32")
    fill(page, "Image width", "32")
    wait_until_script_done(page)
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Started run").first.wait_for()
    active = page.get_by_text(re.compile(r"^Active run \d"))
    active.wait_for()
    return re.search(r"Active run (\S+)", active.inner_text()).group(1)


def test_train_finish_and_stop(page, served):
    url, runs_dir = served
    server = find_server_pid(url)

    # A short run, followed to its end: the page says so and keeps showing that run and its curves.
    finished = start_run(page, url, epochs=2, share=0.3)
    snapshot(page, "40-train-running")
    page.get_by_text(f"Run {finished} completed.").first.wait_for(timeout=300_000)
    page.get_by_text("No run is active.").wait_for()
    wait_until_script_done(page)
    page.get_by_text(f"Curves of run {finished} (completed)").wait_for()
    page.get_by_text(re.compile(r"^The run keeps the checkpoint of epoch \d")).first.wait_for()
    assert page.url.endswith(f"?run={finished}")
    assert page.get_by_text("val_micro_f1", exact=True).count() == 0  # the metric is named in words
    assert_no_exception(page)
    snapshot(page, "41-train-finished")
    page.get_by_text(f"Curves of run {finished} (completed)").scroll_into_view_if_needed()
    page.locator(".js-plotly-plot").last.wait_for()
    snapshot(page, "41b-train-finished-curves")

    # A long run, stopped once it trains: it ends before its next step, and the page shows the stopped run.
    stopped = start_run(page, url, epochs=500, share=0.3)
    # Wait until it trains past its first epoch (any later epoch: on an idle machine an epoch of this tiny run
    # takes well under the page's 2 s refresh, so one given epoch may never be on screen).
    page.get_by_text(re.compile(r"epoch ([2-9]|[1-9]\d+)/500")).first.wait_for(timeout=300_000)
    page.get_by_role("button", name="Stop training").click()
    page.get_by_text("Stop requested").first.wait_for()
    clicked = time.monotonic()
    page.get_by_text(f"Run {stopped} stopped.").first.wait_for(timeout=120_000)
    seconds = time.monotonic() - clicked
    page.get_by_text(f"Curves of run {stopped} (stopped)").wait_for()
    wait_until_script_done(page)
    assert page.url.endswith(f"?run={stopped}")
    assert page.get_by_role("button", name="Resume training").count() == 1
    assert_no_exception(page)
    snapshot(page, "42-train-stopped")
    page.get_by_text(f"Curves of run {stopped} (stopped)").scroll_into_view_if_needed()
    snapshot(page, "42b-train-stopped-curves")
    # Every worker the server started has been waited for: none is left <defunct>.
    deadline = time.time() + 30
    while list_defunct_children(server) and time.time() < deadline:
        time.sleep(1)
    assert list_defunct_children(server) == []
    # A figure for the docs, not asserted (timings are for benchmarks, not tests): click to stopped.
    (SCREENSHOTS / "train_stop_seconds.txt").write_text(f"{seconds:.1f}\n")

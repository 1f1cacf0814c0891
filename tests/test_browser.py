"""Real-browser journeys: `streamlit run` on a free localhost port, driven by Playwright in Debian's Chromium.

Screenshots of every step are saved under test-output/browser/.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from genre_models.config import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = PROJECT_ROOT / "test-output" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
# The first page load imports TensorFlow and loads every model.
SLOW_MS = 180_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout} s")


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; setup.sh installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@contextlib.contextmanager
def serve_app(tmp_path_factory, data_dir, runs_dir, name: str, drop_env: tuple[str, ...] = ()):
    """Run `streamlit run streamlit_app.py` on a free localhost port over ``data_dir`` with the shipped
    artifacts, its own runs folder and cache; yield the URL; stop the server afterwards. Every browser
    journey starts its server here."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "GENRE_DATA_DIR": str(data_dir), "GENRE_RUNS_DIR": str(runs_dir),
           "GENRE_ARTIFACTS_DIR": str(PROJECT_ROOT / "artifacts"),
           "GENRE_CACHE_DIR": str(tmp_path_factory.mktemp(f"{name}_cache"))}
    for variable in drop_env:
        env.pop(variable, None)
    log = open(tmp_path_factory.mktemp(f"{name}_log") / "streamlit.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         # Sources do not change during the test; no watcher means no reruns or CPU spent on it.
         "--server.fileWatcherType", "none"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_until_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def app_url(small_real_dataset, tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("browser_runs")
    with serve_app(tmp_path_factory, small_real_dataset, runs_dir, "browser") as url:
        try:
            yield url
        finally:
            # The training journey starts real workers; none may outlive the test.
            from genre_models import runs, supervisor

            for run in runs.list_runs(runs_dir):
                supervisor.kill_run(run.folder)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(SLOW_MS)
    yield tab
    context.close()


def snapshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def write_poster(path: Path) -> Path:
    pixels = np.random.default_rng(5).integers(0, 256, (300, 150, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format="JPEG")
    return path


def assert_no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def wait_until_script_done(page) -> None:
    """Wait until Streamlit's "running" indicator is gone: the page's script has finished."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")


def upload_poster(page, path: Path) -> None:
    """Choose a file in the page's uploader and wait until the server has received it.

    The file's name shows as soon as it is chosen, while it is still uploading; a button clicked
    before the upload ends runs the page without the file (CI once clicked Predict that early).
    """
    with page.expect_response(lambda response: "/_stcore/upload_file/" in response.url
                              and response.request.method == "PUT" and response.ok):
        page.locator("input[type='file']").set_input_files(str(path))
    page.get_by_text(path.name).wait_for()


def test_predict_and_evaluate_journey(page, app_url, tmp_path):
    page.goto(app_url)
    page.get_by_text("Movie genres from posters and plot summaries").wait_for()
    page.get_by_text("96 films").wait_for()
    page.locator("[data-testid='stTable']").first.wait_for()  # Home's models table
    snapshot(page, "01-home")

    page.goto(f"{app_url}/Predict")
    page.get_by_role("button", name="Predict").wait_for()
    upload_poster(page, write_poster(tmp_path / "poster.jpg"))
    page.get_by_label("Plot summary").fill("A retired hitman is pulled back in for one last job in Tokyo.")
    snapshot(page, "02-predict-inputs")
    page.get_by_role("button", name="Predict", exact=True).click()
    # The answer, then one comparison of every model and one model in detail (tests/test_browser_predict.py).
    page.get_by_role("heading", name="Our answer").wait_for()
    page.locator(".js-plotly-plot").nth(1).wait_for(state="attached")
    wait_until_script_done(page)
    assert_no_exception(page)
    snapshot(page, "03-predict-results")

    page.goto(f"{app_url}/Evaluate")
    page.get_by_text("Per-genre confusion matrices").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    # One 2x2 matrix per genre with films in the split, titled with its name.
    page.locator(".js-plotly-plot .annotation-text", has_text="Drama").first.wait_for()
    # Streamlit draws elements as the script reaches them and may rerun the page once it has
    # loaded; counts are checked after the run ends, with retrying assertions rather than
    # one-shot counts that can catch the page mid-redraw.
    wait_until_script_done(page)
    left_out = page.get_by_text("Left out:")
    missing = len(left_out.inner_text().split("(", 1)[0].split(",")) if left_out.count() else 0
    expect(page.locator(".js-plotly-plot").first.locator(".annotation-text")).to_have_count(25 - missing,
                                                                                           timeout=30_000)
    expect(page.locator("[data-testid='stMetric']")).to_have_count(7, timeout=30_000)
    assert_no_exception(page)
    snapshot(page, "04-evaluate")


# JavaScript: the number of points in the first trace of the i-th Plotly chart on the page (0 if none yet).
POINTS_JS = ("(i) => { const c = document.querySelectorAll('.js-plotly-plot')[i];"
             " return c && c.data && c.data[0] && c.data[0].x ? c.data[0].x.length : 0; }")


def point_count(page, chart_index: int = 0) -> int:
    """Number of points in the first trace of a Plotly chart on the page."""
    return page.evaluate(POINTS_JS, chart_index)


def record_page_load_during_training(page, app_url: str) -> None:
    """Switch to another page through the sidebar while the run trains; record how long it took.

    A figure written to test-output (not asserted: timings are for benchmarks, not tests).
    """
    import json

    started = time.perf_counter()
    page.get_by_test_id("stSidebarNav").get_by_text("Dataset browser").click()
    page.get_by_role("heading", name="Dataset browser").wait_for()
    page.locator("[data-testid='stImage']").first.wait_for()
    wait_until_script_done(page)
    seconds = time.perf_counter() - started
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "page_load_during_training.json").write_text(json.dumps({"dataset_browser_seconds": seconds}))
    # Navigating away and back (as after a refresh) shows the run again, live and stoppable.
    page.goto(f"{app_url}/Train")


def test_training_journey_live_curve_stop_and_reload(page, app_url):
    # Warm-up: the first visit loads the models; the figure we record is a later load during training.
    page.goto(f"{app_url}/Dataset_browser")
    page.locator("[data-testid='stImage']").first.wait_for()
    # Opening a film loads the models; its answers (one line each) are drawn last: the page has finished.
    page.get_by_role("button", name="Open details").first.click()
    page.get_by_text("What the models answer").first.wait_for()
    page.goto(f"{app_url}/Train")
    page.get_by_role("button", name="Start training").wait_for()
    page.get_by_label("Epochs").fill("500")
    page.get_by_label("Epochs").press("Tab")
    page.get_by_label("Early-stopping patience (0: off)").fill("0")
    page.get_by_label("Early-stopping patience (0: off)").press("Tab")
    page.wait_for_timeout(500)
    snapshot(page, "05-train-settings")
    page.get_by_role("button", name="Start training").click()
    # Shown twice for a moment (a toast and a success line): either one will do.
    page.get_by_text("Started run").first.wait_for()
    page.get_by_text(re.compile(r"^Active run \d")).wait_for()
    # The per-batch loss curve is the first chart of the active run; it grows while we watch.
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length > 0")
    page.wait_for_function(f"() => ({POINTS_JS})(0) >= 1")
    first = point_count(page)
    page.wait_for_function(f"n => ({POINTS_JS})(0) >= n + 2", arg=first)
    assert point_count(page) >= first + 2
    snapshot(page, "06-train-live")
    record_page_load_during_training(page, app_url)
    page.get_by_text(re.compile(r"^Active run \d")).wait_for()
    page.get_by_role("button", name="Stop training").click()
    page.get_by_text("Stop requested").wait_for()
    # The worker finishes its step, keeps its best checkpoint and reports "stopped".
    page.wait_for_timeout(1000)
    deadline = time.time() + 120
    while time.time() < deadline:
        page.reload()
        page.get_by_text(re.compile(r"^Latest run \d")).wait_for()
        if page.get_by_text("No run is active.").count() and page.locator("strong", has_text="stopped").count():
            break
        page.wait_for_timeout(2000)
    assert page.locator("strong", has_text="stopped").count() == 1
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length > 0")
    assert point_count(page) >= 1  # the stopped run's curves are still there (overlay chart)
    assert_no_exception(page)
    snapshot(page, "07-train-stopped-after-reload")

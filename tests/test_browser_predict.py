"""The Predict page in a real browser: an uploaded poster and a summary answered under "Our answer" inside the
viewport without scrolling, at 1280x900 and on a 400x800 phone; an image that is not a poster warned with its
reason; bad uploads as errors; "Why?" and each model's explanation on demand.

Screenshots under test-output/browser/ (50-*).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect
from test_browser import (  # noqa: F401
    SCREENSHOTS,
    app_url,
    assert_no_exception,
    browser,
    page,
    snapshot,
    upload_poster,
    wait_until_script_done,
)
from test_input_checks import text_page

from genre_models.examples import EXAMPLES_DIR, load_examples

EXAMPLE = load_examples(EXAMPLES_DIR).examples[3]
SUMMARY = "A retired hitman is pulled back in for one last job in Tokyo."
# The answer's first line: its genres and how sure (genre_app.answer_view.headline).
HEADLINE = re.compile(r"(fairly sure|leaning|unsure|No confident answer|No genre reaches its bar)")


def write_example_poster(path: Path) -> Path:
    """A real poster (a shipped example's), saved as the JPEG a user would upload."""
    Image.fromarray(np.asarray(EXAMPLE.poster, dtype=np.uint8)).save(path, format="JPEG")
    return path


def view(page, name: str) -> Path:
    """Save what the window shows (not the whole page): what the user sees without scrolling."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def assert_in_view(page, locator) -> None:
    """The element is wholly inside the window as it is now."""
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"], (box, size)
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"], (box, size)


def scroll_top(page) -> int:
    """How far the page's own scroll container is scrolled (Streamlit scrolls inside its main section)."""
    return page.evaluate("() => Math.max(window.scrollY, ...Array.from(document.querySelectorAll("
                         "'[data-testid=\"stMain\"], section.main'), e => e.scrollTop))")


@pytest.mark.parametrize("width, height, name", [(1280, 900, "50-predict-answer-desktop"),
                                                 (400, 800, "51-predict-answer-phone")])
def test_the_answer_is_in_view_after_predict_without_scrolling(page, app_url, tmp_path, width, height, name):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{app_url}/Predict")
    predict = page.get_by_role("button", name="Predict", exact=True)
    predict.wait_for()
    upload_poster(page, write_example_poster(tmp_path / "poster.jpg"))
    page.get_by_label("Plot summary").fill(SUMMARY)
    wait_until_script_done(page)
    assert_in_view(page, predict)  # the inputs and their button fit the first screen
    predict.click()
    heading = page.get_by_role("heading", name="Our answer")
    heading.wait_for()
    page.get_by_text(re.compile(r"over its \d+% bar")).first.wait_for()
    wait_until_script_done(page)
    view(page, name)
    assert scroll_top(page) == 0  # nobody scrolled: the answer came to where the user looks
    assert_in_view(page, heading)
    assert_in_view(page, page.get_by_test_id("stMarkdownContainer").filter(has_text=HEADLINE).first)
    assert_no_exception(page)
    # Below the answer: one comparison of every model, then each model's detail on demand, then examples.
    page.get_by_role("heading", name="Every model, for comparison").wait_for()
    expect(page.locator(".js-plotly-plot")).to_have_count(2)
    expect(page.get_by_text("Still loading, so not in these answers yet")).to_have_count(0, timeout=180_000)
    wait_until_script_done(page)
    # Streamlit scrolls inside its main section: a window as tall as the page shows all of it.
    page.set_viewport_size({"width": width, "height": 3200})
    wait_until_script_done(page)
    snapshot(page, f"{name}-whole-page")


@pytest.mark.parametrize("make, reason, name", [
    (lambda: text_page(), "page of text", "52-not-a-poster-text-page"),
    (lambda: np.random.default_rng(0).integers(0, 256, (450, 300, 3), dtype=np.uint8), "random noise",
     "53-not-a-poster-noise"),
])
def test_an_image_that_is_not_a_poster_is_warned_with_its_reason(page, app_url, tmp_path, make, reason, name):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{app_url}/Predict")
    page.get_by_role("button", name="Predict", exact=True).wait_for()
    path = tmp_path / "image.jpg"
    Image.fromarray(make()).save(path, format="JPEG")
    upload_poster(page, path)
    page.get_by_role("button", name="Predict", exact=True).click()
    page.get_by_text("No confident answer").wait_for()
    page.get_by_text(re.compile(reason)).wait_for()
    wait_until_script_done(page)
    assert_in_view(page, page.get_by_text("No confident answer"))
    assert_no_exception(page)
    view(page, name)


def test_bad_uploads_show_errors_and_the_page_stays_usable(page, app_url, tmp_path):
    fake = tmp_path / "not-a-poster.jpg"
    fake.write_bytes(b"%PDF-1.4 a document pretending to be a poster")
    bomb = tmp_path / "bomb.png"
    Image.new("L", (9000, 9000)).save(bomb, format="PNG", optimize=True)
    page.goto(f"{app_url}/Predict")
    predict = page.get_by_role("button", name="Predict", exact=True)
    predict.wait_for()

    upload_poster(page, fake)
    predict.click()
    page.get_by_text("Could not predict").wait_for()
    page.get_by_text("not a readable image").wait_for()
    assert_no_exception(page)
    snapshot(page, "54-upload-not-an-image")

    upload_poster(page, bomb)
    # The upload reruns the page (clearing the old message); click once that rerun is done.
    expect(page.get_by_text("Could not predict")).to_have_count(0, timeout=30_000)
    predict.click()
    page.get_by_text(re.compile("far (larger|more pixels) than a poster")).wait_for()
    assert_no_exception(page)

    upload_poster(page, write_example_poster(tmp_path / "real.jpg"))
    expect(page.get_by_text("Could not predict")).to_have_count(0, timeout=30_000)
    predict.click()
    page.get_by_role("heading", name="Our answer").wait_for()
    assert page.get_by_text("Could not predict").count() == 0
    assert_no_exception(page)


def test_why_in_plain_words_and_each_models_explanation(page, app_url, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 1400})
    page.goto(f"{app_url}/Predict")
    page.get_by_role("button", name="Predict", exact=True).wait_for()
    page.get_by_text("A dataset film").click()
    page.get_by_text("True genres:").wait_for()
    wait_until_script_done(page)
    page.get_by_role("button", name="Predict", exact=True).click()
    page.get_by_role("heading", name="Our answer").wait_for()
    wait_until_script_done(page)

    page.locator(".st-key-predict-why").get_by_text("Why?").click()
    page.get_by_text(re.compile("pushed")).first.wait_for()
    page.get_by_text("Technical detail: how this was measured").wait_for()
    wait_until_script_done(page)
    assert_no_exception(page)
    view(page, "55-why-plain-words")

    # Each model in detail: a poster network's heatmap, then a text model's tinted words.
    page.get_by_text("Each model in detail").click()
    detail = page.locator("[data-testid='stExpander']", has_text="Each model in detail")
    detail.get_by_role("combobox").first.click()
    page.get_by_role("option", name="course_cnn", exact=True).click()
    wait_until_script_done(page)
    page.locator(".st-key-explain-course_cnn").get_by_text("Explain").click()
    heatmap = page.locator(".st-key-explain-course_cnn-panel [data-testid='stImage'] img").first
    heatmap.wait_for()
    wait_until_script_done(page)
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=heatmap.element_handle())
    assert_no_exception(page)
    detail.scroll_into_view_if_needed()
    view(page, "56-explain-poster-heatmap")

    # A rerun in flight can close the list as it opens: open it again until the option is there.
    option = page.get_by_role("option", name="tfidf_logreg", exact=True)
    for _ in range(5):
        wait_until_script_done(page)
        detail.get_by_role("combobox").first.click()
        try:
            option.wait_for(timeout=30_000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    option.click()
    wait_until_script_done(page)
    page.locator(".st-key-explain-tfidf_logreg").get_by_text("Explain").click()
    words = page.locator(".st-key-explain-tfidf_logreg-panel .explained-word")
    words.first.wait_for()
    wait_until_script_done(page)
    assert words.count() >= 5
    tints = {words.nth(i).evaluate("(span) => getComputedStyle(span).backgroundColor") for i in range(words.count())}
    assert len(tints) > 2  # tinted by weight, not one colour for all
    assert_no_exception(page)
    snapshot(page, "57-explain-tinted-overview")

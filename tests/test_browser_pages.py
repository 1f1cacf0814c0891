"""Home, Compare, Evaluate and the Dataset browser as a newcomer meets them, in a real browser: what to do
first is in view, no page link or model name is cut, Evaluate's threshold slider waits for its button, and
no card clips its text.

Screenshots under test-output/browser/ (30-*); look at them after a change to these pages.
"""

from __future__ import annotations

from playwright.sync_api import expect
from test_browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    app_url,
    assert_no_exception,
    browser,
    snapshot,
    wait_until_script_done,
)

from genre_app.navigation import list_pages
from genre_models.artifacts import read_artifact_metadata
from genre_models.config import PROJECT_ROOT

SHIPPED = sorted(metadata["name"] for metadata in read_artifact_metadata(PROJECT_ROOT / "artifacts")[0])
# JavaScript: whether an element's content is wider or taller than its box (its text cut off or clipped).
IS_CUT_JS = ("(element) => element.scrollWidth > element.clientWidth + 1"
             " || element.scrollHeight > element.clientHeight + 1")


def open_tab(browser, width: int, height: int):
    """A new tab of the given viewport size (a laptop, 1280x900, or a phone, 400x800)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    tab = context.new_page()
    tab.set_default_timeout(180_000)
    return context, tab


def settle(page, quiet_ms: int = 1500) -> None:
    """Wait until the page's script has finished and stayed finished for ``quiet_ms``."""
    while True:
        wait_until_script_done(page)
        page.wait_for_timeout(quiet_ms)
        if not page.get_by_test_id("stStatusWidget").count():
            return


def snapshot_whole_and_part(page, name: str, part, part_name: str) -> None:
    """Save the page as it opened, then with ``part`` scrolled into view (the app scrolls inside its own
    container, so a full-page screenshot shows only the first screen)."""
    snapshot(page, name)
    part.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{part_name}.png"))


def is_in_viewport(page, locator) -> bool:
    """Whether the element's box lies inside the viewport as the page opened (no scrolling)."""
    box = locator.bounding_box()
    viewport = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"] \
        and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]


def test_home_says_where_to_start_and_shows_every_link_and_figure_whole(browser, app_url):
    for name, (width, height) in {"laptop": (1280, 900), "phone": (400, 800)}.items():
        context, page = open_tab(browser, width, height)
        page.goto(app_url)
        start = page.get_by_text("Start here:")
        start.wait_for()
        page.locator("[data-testid='stTable']").first.wait_for()  # the short models table
        settle(page)
        assert_no_exception(page)
        assert is_in_viewport(page, start), f"'Start here' is not in view on the {name}"
        main = page.get_by_test_id("stMain")
        links = main.get_by_test_id("stPageLink")
        expect(links).to_have_count(len(list_pages()) + 1)
        for number in range(links.count()):
            label = links.nth(number).locator("p").first
            assert not label.evaluate(IS_CUT_JS), f"page link {label.inner_text()!r} is cut on the {name}"
        table = page.locator("[data-testid='stTable']").first
        expect(table).to_contain_text("★ recommended")
        expect(table).to_contain_text("baseline")
        if name == "laptop":  # on a phone the table scrolls sideways, as every wide table does
            assert not table.evaluate(IS_CUT_JS), "the short models table is cut on the laptop"
        snapshot(page, f"30-home-{name}")
        context.close()


def test_compare_shows_every_model_name_whole(browser, app_url):
    context, page = open_tab(browser, 1280, 900)
    page.goto(f"{app_url}/Compare")
    page.get_by_text("sampled test films").first.wait_for()
    settle(page)
    assert_no_exception(page)
    picker = page.get_by_test_id("stMultiSelect").first
    for model in SHIPPED:
        chip = picker.get_by_text(model, exact=True)
        expect(chip).to_be_visible()
        assert not chip.evaluate(IS_CUT_JS), f"{model} is cut in the model picker"
    # Both readings of each model's answer, labelled.
    expect(page.get_by_text("top 3:").first).to_be_visible()
    expect(page.get_by_text("predicts (over its thresholds, as on Predict)").first).to_be_visible()
    snapshot_whole_and_part(page, "31-compare", page.get_by_text("predicts (over its thresholds").first, "film")
    context.close()


def test_evaluate_slider_waits_for_its_button_and_matrices_only_for_genres_with_films(browser, app_url):
    context, page = open_tab(browser, 1280, 900)
    page.goto(f"{app_url}/Evaluate?thresholds=adjust+one+genre&genre=Drama")
    page.get_by_text("Per-genre confusion matrices").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    settle(page)
    assert_no_exception(page)
    # The left-out genres are named, and the grid has one matrix per genre with films.
    left_out = page.get_by_text("Left out:")
    expect(left_out).to_be_visible()
    missing = left_out.inner_text().split("Left out:", 1)[1].split("(", 1)[0].split(",")
    annotations = page.locator(".js-plotly-plot").first.locator(".annotation-text")
    expect(annotations).to_have_count(25 - len(missing))
    figure = page.get_by_test_id("stMetric").first.locator("[data-testid='stMetricValue']")
    before = figure.inner_text()
    # Ten arrow-key steps of the slider: no rerun, no figure changes, until the form's button is pressed.
    handle = page.get_by_role("slider").first
    handle.focus()
    for _ in range(10):
        handle.press("ArrowRight")
    page.wait_for_timeout(1500)
    assert not page.get_by_test_id("stStatusWidget").count()
    assert figure.inner_text() == before
    page.get_by_role("button", name="Apply this threshold").click()
    expect(figure).not_to_have_text(before, timeout=60_000)
    settle(page)
    assert_no_exception(page)
    snapshot_whole_and_part(page, "32-evaluate", page.locator(".js-plotly-plot").first, "matrices")
    context.close()


def test_browser_cards_clip_no_text_and_a_training_film_says_the_models_learned_from_it(browser, app_url):
    context, page = open_tab(browser, 1280, 900)
    page.goto(f"{app_url}/Dataset_browser")
    cards = page.locator("[class*='st-key-card-']")
    expect(cards).to_have_count(12)
    settle(page)
    assert_no_exception(page)
    for number in range(cards.count()):
        assert not cards.nth(number).evaluate(IS_CUT_JS), f"card {number} clips its text"
    snapshot(page, "33-browser-cards")
    # Open the first training film of the page: its details say the models learned from it.
    for number in range(cards.count()):
        cards.nth(number).get_by_role("button", name="Open details").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("What the models answer").wait_for()
        if dialog.get_by_text("The models learned from this film").count():
            break
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        settle(page)  # closing reruns the page (the film leaves the address): click the next card after it
    expect(dialog.get_by_text("The models learned from this film")).to_be_visible()
    snapshot(page, "34-browser-training-film")
    context.close()

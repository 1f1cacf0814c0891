"""The examples journey in a real browser, with NO dataset configured: open Predict, click an example, see the
answer marked against its true genres, download the answers, edit the summary and predict again with
Ctrl+Enter, and open films from the address.

Screenshots under test-output/browser/ (40-*).
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from test_browser import (  # noqa: F401
    SCREENSHOTS,
    assert_no_exception,
    browser,
    page,
    serve_app,
    snapshot,
    wait_until_script_done,
)

from genre_app.answers import example_button_label
from genre_app.refits import unusable_fusions
from genre_models.artifacts import read_artifact_metadata
from genre_models.config import PROJECT_ROOT
from genre_models.examples import EXAMPLES_DIR, load_examples

EXAMPLES = load_examples(EXAMPLES_DIR)
# The shipped models that can answer (a fused model whose part was retrained waits for a refit).
SHIPPED_METADATA = read_artifact_metadata(PROJECT_ROOT / "artifacts")[0]
SHIPPED = [m["name"] for m in SHIPPED_METADATA if m["name"] not in unusable_fusions(SHIPPED_METADATA)]


@pytest.fixture(scope="module")
def app_without_dataset(tmp_path_factory):
    """`streamlit run` on a free port with an empty data folder: only the shipped examples to predict."""
    empty = tmp_path_factory.mktemp("no_dataset")
    with serve_app(tmp_path_factory, empty, tmp_path_factory.mktemp("runs"), "examples",
                   drop_env=("GENRE_EXAMPLES_DIR",)) as url:
        yield url


def example_button(page, example):
    """The button of an example (by its key: its label has several lines)."""
    return page.locator(f".st-key-example-{example.id} button").first


def compared_models(page) -> list[str]:
    """The models in the comparison grid of every model, as drawn (empty before it is)."""
    return page.evaluate("() => { const c = document.querySelector('.js-plotly-plot');"
                         " return c && c.data && c.data[0] && c.data[0].type === 'heatmap' ? c.data[0].y : []; }")


def wait_for_answers(page) -> None:
    """Wait until the answer, the comparison of every model and its detail chart are drawn, every model in the
    comparison (one answered while models loaded gains the others' answers when they are in), and the page's
    script has finished."""
    page.get_by_role("heading", name="Our answer").wait_for()
    page.locator(".js-plotly-plot").nth(1).wait_for(state="attached")  # the detail chart: in a folded expander
    page.wait_for_function("(expected) => { const c = document.querySelector('.js-plotly-plot');"
                           " return c && c.data && c.data[0] && c.data[0].y && c.data[0].y.length === expected; }",
                           arg=len(SHIPPED))
    wait_until_script_done(page)


def test_examples_journey_without_a_dataset(page, app_without_dataset):
    page.set_viewport_size({"width": 1400, "height": 1600})
    page.goto(f"{app_without_dataset}/Predict")
    predict = page.get_by_role("button", name="Predict", exact=True)
    # A fresh server's first page: the inputs show while the models load in the background (TensorFlow's
    # import alone takes seconds), under a live status that goes once they are in; the example clicked below
    # answers with the models loaded by then and adds the others' answers when they are in (wait_for_answers
    # waits for every one). Only states are waited for: the loading note may be gone by the time it is looked
    # for on a fast machine, or still there on a loaded one.
    predict.wait_for()
    # A thumbnail (captioned with the film's Id) and a button per example, though there is no dataset.
    example = EXAMPLES.examples[1]
    example_button(page, example).wait_for()
    for shown in EXAMPLES.examples:
        # Its genres and the start of its summary, each line whole (a line too long for a button is cut).
        for line in example_button_label(shown).split("\n"):
            expect(example_button(page, shown)).to_contain_text(line)
    expect(page.locator("[data-testid='stImage']")).to_have_count(len(EXAMPLES.examples))
    expect(page.get_by_role("radio", name="A dataset film")).to_be_disabled()
    wait_until_script_done(page)
    assert_no_exception(page)
    snapshot(page, "40-examples-no-dataset")

    example_button(page, example).click()
    wait_for_answers(page)
    expect(page.get_by_role("textbox", name="Plot summary")).to_have_value(example.overview)
    page.get_by_text("True genres:").first.wait_for()
    expect(page.get_by_text("Against the true genres:")).to_have_count(1)
    expect(page.locator("figcaption, [data-testid='stImageCaption']", has_text=f"Poster of the example {example.id}")
           ).to_have_count(1)
    assert sorted(compared_models(page)) == sorted(SHIPPED)
    expect(page.get_by_text("Top 3:")).to_have_count(1)  # the model in detail
    page.wait_for_url(re.compile(rf"/Predict\?film={example.id}$"))
    assert_no_exception(page)
    snapshot(page, "41-example-answered")

    # The answers download holds the CLI's lines for this film, one per model on screen.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the answers (JSON lines)").click()
    assert download.value.suggested_filename == f"genres-{example.id}.jsonl"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved = SCREENSHOTS / "41-example-answers.jsonl"
    download.value.save_as(saved)
    lines = [json.loads(line) for line in saved.read_text(encoding="utf-8").splitlines()]
    assert sorted(line["model"] for line in lines) == sorted(SHIPPED)
    assert {line["id"] for line in lines} == {example.id}
    assert all(list(line) == ["id", "model", "probabilities", "predicted"] and len(line["probabilities"]) == 25
               for line in lines)

    # An edited summary, sent with Ctrl+Enter: new answers, the example's poster kept, no true genres.
    summary = page.get_by_role("textbox", name="Plot summary")
    summary.fill("A detective hunts a serial killer through a rainy city.")
    summary.press("Control+Enter")
    page.get_by_text("the summary was edited, so its true genres are not shown").wait_for()
    expect(page.get_by_text("Against the true genres:")).to_have_count(0, timeout=60_000)
    wait_for_answers(page)
    page.get_by_text("(reads the poster and the summary)").wait_for()  # a fused model leads
    assert_no_exception(page)
    snapshot(page, "42-example-edited-ctrl-enter")


def test_films_open_from_the_address_without_a_dataset(page, app_without_dataset):
    example = EXAMPLES.examples[5]
    page.goto(f"{app_without_dataset}/Predict?film={example.id}")
    wait_for_answers(page)
    expect(page.get_by_role("textbox", name="Plot summary")).to_have_value(example.overview)
    page.get_by_text("True genres:").first.wait_for()
    assert_no_exception(page)
    snapshot(page, "43-example-from-address")

    page.goto(f"{app_without_dataset}/Predict?film=tt0000001")
    page.get_by_text("The address asks for the film").wait_for()
    page.get_by_text("no dataset is configured, so only they can be opened by address").wait_for()
    wait_until_script_done(page)
    expect(page.get_by_role("heading", name="Our answer")).to_have_count(0)
    expect(page.get_by_role("textbox", name="Plot summary")).to_have_value("")
    page.wait_for_url(re.compile(r"/Predict$"))  # the unknown Id left the address
    assert_no_exception(page)
    snapshot(page, "44-unknown-film-in-address")

"""Links you can share in a real browser: a link opens its view, even as a fresh server's very
first visit; choices update the address; an unknown value is a warning. And Evaluate on the dark theme.

This module starts its own server (test_browser's fixtures are per module), so its first test is the
server's first visit. Screenshots under test-output/browser/ (21-* to 23-*).
"""

from __future__ import annotations

import re

from playwright.sync_api import expect
from test_browser import app_url, assert_no_exception, browser, page, snapshot  # noqa: F401
from test_browser_navigation import sidebar_entries, wait_until_settled

from genre_app.navigation import list_pages


def test_a_link_as_the_servers_first_visit_opens_its_page_in_the_apps_navigation(page, app_url):
    # Before any run has called st.navigation, Streamlit serves pages/ the legacy way (no Home, the file
    # names); genre_app.streamlit_patches reruns such a first run through streamlit_app.py.
    page.goto(f"{app_url}/Evaluate?model=poster_cnn&split=test&genre=Horror")
    page.get_by_text("Threshold for Horror").wait_for()
    wait_until_settled(page)
    assert_no_exception(page)
    assert sidebar_entries(page) == ["Home", *(entry.title for entry in list_pages())]
    assert "model=poster_cnn" in page.url and "genre=Horror" in page.url


def test_an_evaluate_link_opens_its_view_and_choices_update_the_address(page, app_url):
    page.goto(f"{app_url}/Evaluate?model=poster_cnn&split=test&genre=Horror")
    page.get_by_text("Threshold for Horror").wait_for()
    wait_until_settled(page)
    assert_no_exception(page)
    expect(page.get_by_role("combobox", name="Model", exact=True)).to_have_value("poster_cnn")
    expect(page.get_by_role("combobox", name="Genre", exact=True)).to_have_value("Horror")
    snapshot(page, "21-link-evaluate-poster_cnn-horror")
    # Choosing another split puts it in the address: copying it shares this view (the default split,
    # validation, leaves the address, as every bound widget's default does).
    page.get_by_role("combobox", name="Split", exact=True).click()
    page.get_by_role("option", name="train").click()
    page.wait_for_url(re.compile(r"split=train"))
    wait_until_settled(page)
    assert "model=poster_cnn" in page.url and "genre=Horror" in page.url
    page.get_by_text(re.compile(r"films in the train split")).wait_for()


def test_an_unknown_value_in_a_link_is_a_warning_not_an_error(page, app_url):
    page.goto(f"{app_url}/Evaluate?model=no_such_model&split=test")
    page.get_by_text("This link asks for the model").wait_for()
    page.get_by_text("Per-genre confusion matrices").wait_for()
    wait_until_settled(page)
    assert_no_exception(page)
    snapshot(page, "22-link-unknown-model")


def test_the_charts_on_the_dark_theme(page, app_url):
    # embed_options=dark_theme: the dark theme as a visitor who chose it sees it (threshold marks, captions).
    page.goto(f"{app_url}/Evaluate?embed=true&embed_options=dark_theme&thresholds=adjust+one+genre&genre=Drama")
    page.locator(".js-plotly-plot").nth(2).wait_for()
    wait_until_settled(page)
    assert_no_exception(page)
    background = page.evaluate("() => getComputedStyle(document.querySelector('.stApp')).backgroundColor")
    assert background != "rgb(255, 255, 255)"
    snapshot(page, "23-evaluate-dark-theme")

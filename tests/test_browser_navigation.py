"""Navigation in a real browser: the sidebar starts with "Home", its entries are the Home page's
links, and every entry and link opens its page at the URL path the pages always had.

Screenshots under test-output/browser/ (20-*).
"""

from __future__ import annotations

import re

from playwright.sync_api import expect
from test_browser import (  # noqa: F401
    app_url,
    assert_no_exception,
    browser,
    page,
    snapshot,
    wait_until_script_done,
)

from genre_app.navigation import list_pages


def sidebar_entries(page) -> list[str]:
    """The sidebar navigation's entries, as shown (the material icon's name left out)."""
    links = page.get_by_test_id("stSidebarNav").locator("a")
    return [links.nth(i).locator("span").last.inner_text().strip() for i in range(links.count())]


def wait_until_settled(page, quiet_ms: int = 1500) -> None:
    """Wait until the page's script has finished and stayed finished for ``quiet_ms``: right after a
    click the "running" indicator has not shown yet, so one look could catch the page before its run."""
    while True:
        wait_until_script_done(page)
        page.wait_for_timeout(quiet_ms)
        if not page.get_by_test_id("stStatusWidget").count():
            return


def wait_for_page(page, url: str) -> None:
    """Wait until a page is open at ``url`` with its heading drawn and its script done, without an error."""
    page.wait_for_url(re.compile(re.escape(url) + r"/?(\?.*)?$"))
    page.locator("h1").first.wait_for()
    wait_until_settled(page)
    assert_no_exception(page)


def test_sidebar_says_home_and_every_entry_opens_its_page(page, app_url):
    page.goto(app_url)
    page.get_by_text("Movie genres from posters and plot summaries").wait_for()
    nav = page.get_by_test_id("stSidebarNav")
    nav.wait_for()
    pages = list_pages()
    assert sidebar_entries(page) == ["Home", *(entry.title for entry in pages)]
    assert "streamlit app" not in nav.inner_text().lower()
    page.locator("[data-testid='stTable']").first.wait_for()  # the models table, drawn last
    wait_until_settled(page)
    snapshot(page, "20-navigation-home")
    for number, entry in enumerate(pages, start=1):
        nav.locator("a", has_text=entry.title).click()
        wait_for_page(page, f"{app_url}/{entry.url_path}")
        # The open page is the one marked in the sidebar.
        expect(nav.locator("a[aria-current='page']")).to_have_text(re.compile(re.escape(entry.title)))
        snapshot(page, f"20-navigation-{number}-{entry.url_path}")
    nav.locator("a", has_text="Home").click()
    page.get_by_text("Movie genres from posters and plot summaries").wait_for()


def test_home_links_match_the_sidebar_and_open_their_pages(page, app_url):
    pages = list_pages()
    for number, entry in enumerate(pages, start=1):
        page.goto(app_url)
        # The "start here" link to Predict, then one link per page in the sidebar's order.
        links = page.get_by_test_id("stMain").get_by_test_id("stPageLink")
        expect(links).to_have_count(len(pages) + 1)
        assert links.first.inner_text().split("\n")[-1].strip() == "Try an example on Predict"
        assert [links.nth(i).inner_text().split("\n")[-1].strip() for i in range(1, len(pages) + 1)] == \
            [e.title for e in pages]
        links.nth(number).click()
        wait_for_page(page, f"{app_url}/{entry.url_path}")


def test_old_page_urls_still_open_their_pages(page, app_url):
    for entry in list_pages():
        page.goto(f"{app_url}/{entry.url_path}")
        wait_for_page(page, f"{app_url}/{entry.url_path}")
        assert entry.title in sidebar_entries(page)


"""The app's navigation: Home first, each page under the title its Home link shows, at the URL path
the legacy pages/ folder gave it; a page script added to pages/ is registered even before it is listed."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from genre_app.navigation import KNOWN_PAGES, list_pages
from genre_models.config import PROJECT_ROOT

TIMEOUT = 180


def write_pages(root, *names: str) -> None:
    (root / "pages").mkdir(parents=True, exist_ok=True)
    for name in names:
        (root / "pages" / name).write_text("import streamlit as st\nst.title('x')\n")


def test_known_pages_keep_their_legacy_url_paths():
    # Under the pages/ folder Streamlit served "3_Compare.py" at /Compare: links and bookmarks use these.
    for entry in KNOWN_PAGES:
        assert entry.url_path == entry.script.removeprefix("pages/").split("_", 1)[1].removesuffix(".py")
    assert [entry.title for entry in list_pages()][:5] == ["Dataset browser", "Predict", "Compare models",
                                                          "Evaluate", "Train"]


def test_the_report_page_is_registered_once_its_script_exists(tmp_path):
    write_pages(tmp_path, "1_Dataset_browser.py", "4_Evaluate.py")
    assert [entry.url_path for entry in list_pages(tmp_path)] == ["Dataset_browser", "Evaluate"]
    write_pages(tmp_path, "6_Report.py")
    report = list_pages(tmp_path)[-1]
    assert (report.title, report.url_path, report.script) == ("Report", "Report", "pages/6_Report.py")


def test_an_unlisted_page_script_is_registered_under_its_file_name(tmp_path):
    write_pages(tmp_path, "2_Predict.py", "10_Model_cards.py", "7_Serving_export.py", "helpers.py")
    entries = list_pages(tmp_path)
    assert [(entry.title, entry.url_path) for entry in entries] == [
        ("Predict", "Predict"), ("Serving export", "Serving_export"), ("Model cards", "Model_cards")]


def test_the_entry_point_opens_home_with_a_link_per_page(small_real_dataset, monkeypatch):
    monkeypatch.setenv("GENRE_DATA_DIR", str(small_real_dataset))
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(PROJECT_ROOT / "artifacts"))
    app = AppTest.from_file(str(PROJECT_ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, [error.value for error in app.exception]
    assert [title.value for title in app.title] == ["Movie genres from posters and plot summaries"]
    # After the "start here" link to Predict, one link per page.
    links = [(link.proto.label, link.proto.page) for link in app.get("page_link")][1:]
    assert links == [(entry.title, entry.url_path) for entry in list_pages()]


def test_the_entry_point_runs_each_page_by_its_script(small_real_dataset, monkeypatch):
    monkeypatch.setenv("GENRE_DATA_DIR", str(small_real_dataset))
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(PROJECT_ROOT / "artifacts"))
    app = AppTest.from_file(str(PROJECT_ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    app.run()
    app.switch_page("pages/1_Dataset_browser.py").run()
    assert not app.exception, [error.value for error in app.exception]
    assert [title.value for title in app.title] == ["Dataset browser"]


def test_streamlit_still_has_the_legacy_pages_switch_that_the_patch_turns_off():
    """genre_app.streamlit_patches.run_through_the_apps_navigation turns Streamlit's legacy pages/ mode off for a
    server's first visit to a page's address; if an upgrade renames the switch, that visit shows the legacy sidebar
    again ("streamlit app" and file names) and this test says where to look."""
    from streamlit.runtime.pages_manager import PagesManager

    assert hasattr(PagesManager, "uses_pages_directory")

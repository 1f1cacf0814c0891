"""The app's pages for st.navigation: each page's script, its title (the sidebar's entry and the Home page's
link say the same), its URL path and its icon.

The scripts stay in pages/ and each still runs on its own (AppTest.from_file); only the entry point
(streamlit_app.py) builds the navigation from this list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from genre_models.config import PROJECT_ROOT


@dataclass(frozen=True)
class PageEntry:
    """One page of the app besides Home."""

    # Script, relative to the project root.
    script: str
    # Shown in the sidebar and on the Home page's link.
    title: str
    # Served at /<url_path>: the paths the pages had under the legacy pages/ folder, which links and tests use.
    url_path: str
    # Material icon name, as st.Page takes it.
    icon: str


# In the order of the sidebar. A listed page whose script does not exist yet (the Report page, while it is
# being written) is left out rather than shown as a broken link.
KNOWN_PAGES = [
    PageEntry("pages/1_Dataset_browser.py", "Dataset browser", "Dataset_browser", ":material/grid_view:"),
    PageEntry("pages/2_Predict.py", "Predict", "Predict", ":material/auto_awesome:"),
    PageEntry("pages/3_Compare.py", "Compare models", "Compare", ":material/compare_arrows:"),
    PageEntry("pages/4_Evaluate.py", "Evaluate", "Evaluate", ":material/analytics:"),
    PageEntry("pages/5_Train.py", "Train", "Train", ":material/model_training:"),
    PageEntry("pages/6_Report.py", "Report", "Report", ":material/description:"),
]
# A page script's file name: a number for its place, then its name ("3_Compare.py").
PAGE_FILE = re.compile(r"^(\d+)_(\w+)\.py$")


def describe_unlisted_page(path: Path) -> PageEntry:
    """Return the entry of a page script missing from KNOWN_PAGES, named after its file as the legacy
    pages/ folder named it ("7_Model_cards.py": "Model cards" at /Model_cards)."""
    name = PAGE_FILE.match(path.name).group(2)
    return PageEntry(f"pages/{path.name}", name.replace("_", " "), name, ":material/article:")


def list_pages(root: Path = PROJECT_ROOT) -> list[PageEntry]:
    """Return the pages besides Home whose script exists under ``root``: the known pages in their order,
    then any other numbered script in pages/ (a new page shows up even before it is listed here)."""
    pages = [entry for entry in KNOWN_PAGES if (root / entry.script).is_file()]
    known = {entry.script for entry in KNOWN_PAGES}
    folder = root / "pages"
    others = sorted((path for path in folder.glob("*.py") if PAGE_FILE.match(path.name)),
                    key=lambda path: (int(PAGE_FILE.match(path.name).group(1)), path.name)) if folder.is_dir() else []
    pages += [describe_unlisted_page(path) for path in others if f"pages/{path.name}" not in known]
    return pages

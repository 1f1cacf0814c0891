"""Dataset browser: filter the films, page through their cards or pick one in the table of every match,
open one (a card, a row of the table, or ?film=<Id> in the address), and read the dataset's charts.

Opening the page loads no model: a film's models answer in its details dialog, once per film (cached). The
page's parts are in genre_app/dataset_browser.py.
"""

from __future__ import annotations

import streamlit as st

from genre_app import data, films, links
from genre_app import dataset_browser as browser
from genre_app.streamlit_patches import apply_streamlit_patches

apply_streamlit_patches()

st.set_page_config(page_title="Dataset browser", layout="wide")
st.title("Dataset browser")

dataset, problem = data.dataset()
if dataset is None:
    st.warning(f"No dataset is available. {problem}")
    st.caption(data.data_setting_help())
    st.stop()

# Only the chosen view is built: a hidden view would still be sent and drawn (the table of every film alone
# took about 1 s of each visit in the browser).
view = st.segmented_control("View", browser.VIEWS, default=browser.VIEWS[0], key="view") or browser.VIEWS[0]

# The films whose dialog this run opened (a click in the cards or the table): at most one is shown.
opened_this_run: list[str] = []
opened = links.read_url_choice(browser.FILM_PARAMETER, lambda film_id: films.has_film(dataset, film_id), "the film",
                               "the browser opens without it")

if view in ("Cards", "Table"):
    matches = browser.choose_films(dataset)
    if view == "Cards":
        browser.show_cards(dataset, matches, opened_this_run)
    elif len(matches):
        browser.show_table(dataset, matches, opened_this_run)
    else:
        st.info("No film matches these filters.")
else:
    browser.show_charts(dataset)

if opened and not opened_this_run:
    browser.show_film(dataset, opened)  # from the address: a reload, a shared link, or the film still open

"""The app's entry point: the navigation (Home, then the pages in pages/) and the Home page.

Streamlit runs this file on every page view: it builds the sidebar from genre_app.navigation and runs the
chosen page. Each script in pages/ also runs on its own (AppTest.from_file), as it did under the legacy
pages/ folder, at the same URL paths. Home's parts are in genre_app/home.py.
"""

from __future__ import annotations

import streamlit as st

from genre_app import home, models, navigation
from genre_app.streamlit_patches import apply_streamlit_patches

apply_streamlit_patches()


def show_home_page() -> None:
    """Home: what to do first and the pages, the dataset, the models (short, details on demand)."""
    st.title("Movie genres from posters and plot summaries")
    st.markdown(
        "Predict a film's genres (25 IMDb genres, several per film) from its poster, its one-sentence "
        "summary, or both, with models trained on the Multimodal IMDB dataset. "
        "Browse the data, compare the models against the true genres, and read honest per-genre evaluations."
    )
    home.show_start_here(page_entries)
    # The models table goes first: the dataset check below it (reading the CSV, finding every poster) runs while
    # the browser draws the table.
    reported = home.show_models_section()
    home.show_dataset()
    home.show_model_loading(reported=reported)


# The frame of every page; each page may set its own title on top.
st.set_page_config(page_title="Movie genres from posters and plots", page_icon="🎬", layout="wide")
# Every page with the title its Home link shows, at the URL path it had under the legacy pages/ folder.
page_entries = [(entry, st.Page(entry.script, title=entry.title, icon=entry.icon, url_path=entry.url_path))
                for entry in navigation.list_pages()]
home_page = st.Page(show_home_page, title="Home", icon=":material/home:", default=True)
try:
    st.navigation([home_page, *(page for _, page in page_entries)]).run()
finally:
    # Whichever page opens first (Home, Train, a page stopped for want of data), the models start loading
    # in the background now (after a head start that keeps this first page quick), so a later prediction finds
    # them ready; a page that needs them cuts the head start short and waits for them.
    models.start_loading_models(head_start=models.HOME_HEAD_START_SECONDS)

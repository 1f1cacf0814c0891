"""Dataset browser: filter the films, page through their cards or pick one in the table of every match,
open one (a card, a row of the table, or ?film=<Id> in the address), and read the dataset's charts.

Opening the page loads no model: a film's models answer in its details dialog, once per film (cached).
"""

from __future__ import annotations

import streamlit as st

from genre_app import dataset_charts, explanations, state, widgets

st.set_page_config(page_title="Dataset browser", layout="wide")
st.title("Dataset browser")

dataset, problem = state.dataset()
if dataset is None:
    st.warning(f"No dataset is available. {problem}")
    st.caption(state.data_setting_help())
    st.stop()

PAGE_SIZE = 12
# Cards per row; each row is its own set of columns, so cards line up and keep their order on a phone.
CARDS_PER_ROW = 4
# Every card has this height (pixels), so the cards of a row line up whatever their text.
CARD_HEIGHT = 520
POSTER_WIDTH = 110
# Overviews on a card are cut to about this many characters (the whole one is in the film's details).
CARD_OVERVIEW_CHARACTERS = 150
# The page's views: film cards with posters, a table of every matching film, the dataset's charts.
VIEWS = ["Cards", "Table", "Charts"]
TABLE_HEIGHT = 640
# The address parameter naming the opened film.
FILM_PARAMETER = "film"
# Session key counting the film table's versions: a new key clears its selected row once the film is closed.
TABLE_VERSION = "browser-table-version"


def short(text: str, limit: int = CARD_OVERVIEW_CHARACTERS) -> str:
    """Return a text cut at a word boundary to about ``limit`` characters."""
    text = str(text)
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def open_film(film_id: str) -> None:
    """Open a film's details dialog; the address names the film, so a reload or a shared link opens it again.

    Called from the part of the page that was clicked (the cards or the table, each a fragment), so opening
    a film reruns neither the rest of the page nor the other part."""
    st.query_params[FILM_PARAMETER] = film_id
    opened_this_run.append(film_id)
    show_film(film_id)


def close_film() -> None:
    """Closing the details dialog forgets the film (address and the table's selected row)."""
    st.query_params.pop(FILM_PARAMETER, None)
    st.session_state[TABLE_VERSION] = st.session_state.get(TABLE_VERSION, 0) + 1


def go_to_first_page() -> None:
    """A new filter starts from the first page of its matches."""
    st.session_state["browser-page"] = 1


@st.dialog("Film details", width="large", on_dismiss=close_film)
def show_film(film_id: str) -> None:
    """The film's poster and facts, every model's answer (computed once per film) and explanations.

    A dialog reruns on its own: switching the explained model never reruns the page behind it."""
    film = widgets.find_film(dataset, film_id)
    left, right = st.columns([1, 2])
    poster = widgets.show_poster(film.poster, width=220, caption=f"Poster of {film.id}", container=left)
    right.markdown(f"### {film.link}")
    right.write(film.overview)
    right.markdown("**Genres:** " + ", ".join(film.genres))
    right.markdown(f"**Split:** {film.split}")
    if not state.predictor().models:
        right.info("No usable model is installed; see the Home page.")
        return
    result = widgets.film_answers(film, poster)
    right.markdown(widgets.describe_answers(result.predictions))
    if result.predictions:
        explained = st.selectbox("Explain a model's answer", [p.model for p in result.predictions],
                                 key="browser-explain-model")
        chosen = next(p for p in result.predictions if p.model == explained)
        explanations.explanation_panel(
            explained, state.predictor().get(explained).genres, chosen.top[0] if chosen.top else None,
            lambda genre: state.explanation(explained, poster, film.overview, genre), poster, key="browser-explain")


@st.fragment
def show_cards(rows) -> None:
    """A page of film cards; paging reruns only this part (the filters above stay as they are)."""
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = st.columns([1, 3])[0].number_input(f"Page (of {pages}; {len(rows):,} films match)", min_value=1,
                                              max_value=pages, key="browser-page")
    shown = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    clicked = None
    for start in range(0, len(shown), CARDS_PER_ROW):
        for column, row in zip(st.columns(CARDS_PER_ROW), shown[start:start + CARDS_PER_ROW]):
            film = widgets.film_at(dataset, row)
            with column.container(border=True, height=CARD_HEIGHT, key=f"card-{film.id}"):
                widgets.show_poster(film.poster, width=POSTER_WIDTH, alt=f"Poster of {film.id}")
                # Right under the poster, so the buttons of a row line up whatever the text below.
                if st.button("Open details", key=f"open-{film.id}", width="stretch"):
                    clicked = film.id
                st.markdown(f"**{film.link}** · {', '.join(film.genres)}")
                st.caption(short(film.overview))
    if clicked:
        open_film(clicked)


@st.fragment
def show_table(rows) -> None:
    """Every matching film, one row each: clicking a row opens the film (and reruns only this part)."""
    st.markdown(f"**{len(rows):,} films match**: click a row to open the film.")
    # A new key once the film is closed: the row clicked before is no longer selected.
    table_key = f"browser-table-{st.session_state.get(TABLE_VERSION, 0)}"
    chosen = st.dataframe(widgets.film_table(dataset, rows), key=table_key, hide_index=True, height=TABLE_HEIGHT,
                          on_select="rerun", selection_mode="single-row", alt="Every film matching the filters",
                          column_config={"overview": st.column_config.TextColumn("overview", width="large")})
    if chosen.selection.rows:
        open_film(str(dataset.ids[rows[chosen.selection.rows[0]]]))


# Only the chosen view is built: a hidden view would still be sent and drawn (the table of every film alone
# took about 1 s of each visit in the browser, the charts 3-4 s when they were Plotly's).
view = st.segmented_control("View", VIEWS, default=VIEWS[0], key="view") or VIEWS[0]

# The films whose dialog this run opened (a click in the cards or the table): at most one is shown.
opened_this_run: list[str] = []
opened = widgets.read_url_choice(FILM_PARAMETER, lambda film_id: widgets.has_film(dataset, film_id), "the film",
                                 "the browser opens without it")

if view in ("Cards", "Table"):
    # The same filters (same keys) in both views: switching between cards and table keeps them.
    filters = st.columns([3, 1, 3])
    chosen = filters[0].multiselect("Genres", dataset.genres, key="browser-genres", on_change=go_to_first_page)
    match = filters[1].radio("Match", ["any", "all"], horizontal=True, key="browser-match",
                             on_change=go_to_first_page)
    query = filters[2].text_input("Search overviews", placeholder="e.g. vampire", key="browser-search",
                                  on_change=go_to_first_page)
    matches = widgets.filter_films(dataset, chosen, match, query)
    if view == "Cards":
        show_cards(matches)
    elif len(matches):
        show_table(matches)
    else:
        st.info("No film matches these filters.")
else:
    first, second = st.columns(2)
    first.markdown("**Films per genre**")
    first.vega_lite_chart(dataset_charts.build_films_per_genre(dataset), width="stretch", key="per-genre")
    second.markdown("**Genres per film**")
    second.vega_lite_chart(dataset_charts.build_genres_per_film(dataset), width="stretch", key="per-film")
    first.markdown("**Genre co-occurrence** (films labelled with both; a genre's own count is in the bars above)")
    first.vega_lite_chart(dataset_charts.build_cooccurrence(dataset), width="stretch", key="cooccurrence")
    second.markdown("**Overview length**")
    second.vega_lite_chart(dataset_charts.build_overview_lengths(dataset), width="stretch", key="lengths")
    st.markdown("**Films per genre in each split** (train/validation/test from a hash of the Id)")
    st.vega_lite_chart(dataset_charts.build_split_sizes(dataset), width="stretch", key="splits")

if opened and not opened_this_run:
    show_film(opened)  # from the address: a reload, a shared link, or the film still open

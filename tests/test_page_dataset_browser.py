"""The Dataset browser page (AppTest): the views and filters, each film's answers computed once and said to
be on a film the models learned from or not, the film kept in the address (?film=<Id>), damaged posters,
explanations, and dataset text shown as text."""

from __future__ import annotations

import pytest
from app_testing import (
    SHIPPED,
    check_the_page_asks_for_the_dataset,
    heatmap_images,
    is_undecodable,
    poster_placeholders,
    run_page,
    texts,
    tinted_overviews,
)
from streamlit.testing.v1 import AppTest

from genre_app import films, refits
from genre_models.artifacts import read_artifact_metadata
from genre_models.config import PROJECT_ROOT
from genre_models.dataset import load_dataset

PAGE = str(PROJECT_ROOT / "pages" / "1_Dataset_browser.py")
TIMEOUT = 180
# The models that answer: every artifact but a fusion whose part was replaced since it was fitted.
METADATA = read_artifact_metadata(PROJECT_ROOT / "artifacts")[0]
ANSWERING = {metadata["name"] for metadata in METADATA} - set(refits.unusable_fusions(METADATA))


@pytest.fixture
def app_env(small_real_dataset, monkeypatch):
    monkeypatch.setenv("GENRE_DATA_DIR", str(small_real_dataset))
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(PROJECT_ROOT / "artifacts"))
    return load_dataset(small_real_dataset)


def open_browser(film: str | None = None) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    if film is not None:
        app.query_params["film"] = film
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def details_heading(app: AppTest) -> list[str]:
    """The film details' heading (a Markdown title linking the film's IMDb page), when a film is open."""
    return [str(m.value) for m in app.markdown if str(m.value).startswith("### ")]


def answers(app: AppTest) -> str:
    return next((str(m.value) for m in app.markdown if "What the models answer" in str(m.value)), "")


# --- The page -----------------------------------------------------------------------------------------------------

def test_opening_the_page_runs_no_model_and_opens_no_film(app_env):
    app = open_browser()
    assert not details_heading(app) and not answers(app)
    assert len([b for b in app.button if b.label == "Open details"]) == 12
    assert not app.dataframe  # the table is a view of its own, sent only when chosen


def test_the_table_view_lists_every_match_and_keeps_the_filters(app_env):
    app = open_browser()
    app.text_input(key="browser-search").input("the").run()
    app.segmented_control(key="view").set_value("Table").run()
    assert not app.exception, [e.value for e in app.exception]
    expected = films.filter_films(app_env, [], "any", "the")
    assert 12 < len(expected) < app_env.num_films
    assert list(app.dataframe[0].value["film"]) == [str(app_env.ids[row]) for row in expected]
    assert app.text_input(key="browser-search").value == "the"
    assert not [b for b in app.button if b.label == "Open details"]
    app.text_input(key="browser-search").input("").run()
    assert len(app.dataframe[0].value) == app_env.num_films  # every match, not the first 500


def test_address_opens_the_film_with_every_model_answer(app_env):
    film_id = str(app_env.ids[40])  # beyond the first page of cards
    app = open_browser(film_id)
    assert any(film_id in heading for heading in details_heading(app))
    text = answers(app)
    assert ANSWERING and all(f"**{name}**:" in text for name in ANSWERING)
    assert "%" in text  # probabilities, not only genre names


def test_an_unknown_film_in_the_address_warns_and_opens_the_browser(app_env):
    app = open_browser("tt9999999")
    assert any("tt9999999" in w.value and "does not exist" in w.value for w in app.warning)
    assert "film" not in app.query_params
    assert not details_heading(app)
    assert len([b for b in app.button if b.label == "Open details"]) == 12


def test_a_hostile_film_value_is_quoted_as_text(app_env):
    app = open_browser("`**bold**` [link](http://example.com)")
    warning = app.warning[0].value
    assert "`" not in warning.split("film `", 1)[1].split("`, which", 1)[0]  # the value cannot close its code span
    assert not details_heading(app)


def test_clicking_a_card_puts_the_film_in_the_address(app_env):
    app = open_browser()
    third = [b for b in app.button if b.label == "Open details"][2]
    film_id = third.key.removeprefix("open-")
    third.click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.query_params["film"] == film_id
    assert any(film_id in heading for heading in details_heading(app))


def test_a_new_filter_starts_on_the_first_page(app_env):
    app = open_browser()
    app.number_input(key="browser-page").set_value(3).run()
    assert app.number_input(key="browser-page").value == 3
    app.multiselect(key="browser-genres").set_value(["Drama"]).run()
    assert not app.exception
    assert app.number_input(key="browser-page").value == 1
    drama = app_env.genres.index("Drama")
    assert f"{int(app_env.labels[:, drama].sum())} films match" in app.number_input(key="browser-page").label


def test_models_answer_a_film_once_whatever_is_paged_or_searched(app_env, monkeypatch):
    """Paging, searching and reopening reuse the film's answers: the models run once per film."""
    from genre_app import films, models
    from genre_models.inference import GenrePredictor

    films.get_film_answers.clear()
    models.predictor()  # loaded outside the count
    calls = []
    real_predict = GenrePredictor.predict

    def counted_predict(self, *args, **kwargs):
        calls.append(kwargs.get("overview"))
        return real_predict(self, *args, **kwargs)

    monkeypatch.setattr(GenrePredictor, "predict", counted_predict)
    film_id = str(app_env.ids[1])
    app = open_browser(film_id)
    assert len(calls) == 1 and answers(app)
    app.number_input(key="browser-page").set_value(2).run()
    app.text_input(key="browser-search").input("the").run()
    app.run()
    again = open_browser(film_id)  # another visitor, same film
    assert not app.exception and answers(again)
    assert len(calls) == 1


# --- Posters, explanations and answers -------------------------------------------------------------------------

def test_dataset_browser_grid_filters_and_charts(app_env):
    app = run_page("pages/1_Dataset_browser.py")
    assert len(app.get("image")) == 12  # a page of posters; no film is open until one is clicked
    assert "imdb.com/title/" in texts(app)
    app.multiselect[0].set_value(["Drama"]).run()
    assert not app.exception
    assert "films match" in app.number_input[0].label
    app.text_input[0].input("zzzz-no-such-word").run()
    assert "0 films match" in app.number_input[0].label
    assert not app.get("vega_lite_chart")  # charts are built only in the Charts view
    app.segmented_control(key="view").set_value("Charts").run()
    assert not app.exception
    assert len(app.get("vega_lite_chart")) == 5


def test_dataset_browser_shows_a_placeholder_for_each_damaged_poster(damaged_env):
    app = run_page("pages/1_Dataset_browser.py")
    # The first page shows the first 12 films; the first one (a 0-byte poster) is opened: its overview
    # models still answer.
    first_page = damaged_env["ids"][:12]
    bad = sum(is_undecodable(damaged_env, film_id) for film_id in first_page)
    assert bad >= 4 and is_undecodable(damaged_env, first_page[0])
    assert len(poster_placeholders(app)) == bad
    app.button(key=f"open-{first_page[0]}").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert len(poster_placeholders(app)) == bad + 1
    assert len(app.get("image")) == 12 - bad
    assert any("What the models answer" in str(m.value) for m in app.markdown)


def test_dataset_browser_explains_the_opened_film(app_env):
    app = run_page("pages/1_Dataset_browser.py")
    next(button for button in app.button if button.label == "Open details").click().run()
    assert not tinted_overviews(app) and not heatmap_images(app)
    app.selectbox(key="browser-explain-model").set_value("poster_cnn")
    app.toggle(key="browser-explain").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    assert len(heatmap_images(app)) == 1 and len(app.get("image")) == 12 + 1 + 1
    app.selectbox(key="browser-explain-model").set_value("tfidf_logreg").run()
    assert not app.exception
    assert tinted_overviews(app) and "exact TF-IDF contributions" in texts(app)


def test_dataset_browser_cards_open_the_film_and_answers_are_not_cut_off(app_env):
    app = run_page("pages/1_Dataset_browser.py")
    openers = [button for button in app.button if button.label == "Open details"]
    assert len(openers) == 12
    fifth = openers[4].key.removeprefix("open-")
    openers[4].click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.query_params["film"] == fifth
    assert any(fifth in str(m.value) and m.value.startswith("### ") for m in app.markdown)
    # Every model's answer in full, one line each (no table cell to cut it off).
    answers = next(str(m.value) for m in app.markdown if "What the models answer" in str(m.value))
    assert all(f"**{name}**:" in answers for name in SHIPPED)


def test_the_browser_without_the_dataset_says_how_to_provide_it(tmp_path, monkeypatch):
    check_the_page_asks_for_the_dataset("pages/1_Dataset_browser.py", "No dataset", tmp_path, monkeypatch)


# --- Dataset text shown as text ------------------------------------------------------------------------------------

def test_hostile_overviews_and_ids_are_shown_as_text_on_cards_and_in_the_details(hostile_env):
    from app_testing import BEACON_OVERVIEW, assert_no_markdown_injection

    evil_id = hostile_env["evil_id"]
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert_no_markdown_injection(app)
    # The first card links the film's page on IMDb, whatever its Id holds.
    assert any("](https://www.imdb.com/title/tt" in str(m.value) and "%5D%28https%3Aevil.example" in str(m.value)
               for m in app.markdown)
    app.button(key=f"open-{evil_id}").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert_no_markdown_injection(app)
    # The whole overview, exactly as written, as text.
    assert any(BEACON_OVERVIEW in text.value for text in app.text)


@pytest.mark.parametrize("split, kind, said", [("train", "warning", "learned from this film"),
                                               ("test", "info", "never saw this film"),
                                               ("validation", "info", "never learned from this film")])
def test_the_details_say_whether_the_models_learned_from_the_film(app_env, split, kind, said):
    film_id = str(app_env.ids[list(app_env.splits).index(split)])
    app = open_browser(film_id)
    notes = [element.value for element in getattr(app, kind) if said in element.value]
    assert notes, [element.value for element in (*app.warning, *app.info)]
    # Beside the answers: the note comes right before them.
    assert answers(app)


# --- Similar films -----------------------------------------------------------------------------------------------

def test_the_film_details_offer_similar_films_with_their_genres_the_film_left_out(app_env):
    film_id = str(app_env.ids[40])
    app = open_browser(film_id)
    toggle = app.toggle(key="browser-similar-overview")
    assert toggle.value is False and app.toggle(key="browser-similar-poster").value is False
    assert not [c for c in app.caption if "similarity " in str(c.value)]
    toggle.set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    found = [str(c.value) for c in app.caption if "similarity " in str(c.value)]
    assert len(found) == 5
    links = [str(m.value) for m in app.markdown if str(m.value).startswith("**[") and str(m.value).endswith(")**")]
    assert len(links) == 5 and not any(f"/title/{film_id}/" in link for link in links)
    genres = set(app_env.genres)
    assert all(any(genre.replace("-", "\\-") in line for genre in genres) for line in found)


def test_similar_films_of_a_hostile_film_are_shown_as_text(hostile_env):
    from app_testing import assert_no_markdown_injection

    app = open_browser(hostile_env["evil_id"])
    app.toggle(key="browser-similar-overview").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    assert len([c for c in app.caption if "similarity " in str(c.value)]) == 5
    assert_no_markdown_injection(app)


def test_a_film_missing_from_the_index_is_a_one_line_note(app_env, monkeypatch):
    from genre_app import similar_view

    class IndexWithoutTheFilm:  # as for a film whose poster does not decode: the poster index leaves it out
        ids = ["tt0000001"]

    similar_view.get_index_build.clear()
    monkeypatch.setattr(similar_view, "load_similarity_index", lambda kind, location, progress=None: IndexWithoutTheFilm())
    try:
        app = open_browser(str(app_env.ids[3]))
        app.toggle(key="browser-similar-poster").set_value(True).run()
        assert not app.exception, [e.value for e in app.exception]
        notes = [str(c.value) for c in app.caption if str(c.value).startswith("No similar films")]
        assert len(notes) == 1 and "poster could not be read" in notes[0]
    finally:
        similar_view.get_index_build.clear()


def test_a_slow_index_build_shows_its_progress_then_the_films(app_env, monkeypatch):
    import threading

    from genre_app import similar_view
    from genre_models.similar import SimilarFilm

    started = threading.Event()

    class SlowIndex:
        ids = [str(app_env.ids[3])]

        def find_similar_to_film(self, film_id, count):
            return [SimilarFilm(str(app_env.ids[4]), 0.75, ("Drama",))]

    def load(kind, location, progress=None):
        progress(1, 2, "Encoding posters")
        started.wait()  # released by the page's progress being drawn (below): the page waits for the build
        return SlowIndex()

    drawn = similar_view.st.progress

    def progress_then_release(*arguments, **options):
        started.set()
        return drawn(*arguments, **options)

    similar_view.get_index_build.clear()
    monkeypatch.setattr(similar_view, "load_similarity_index", load)
    monkeypatch.setattr(similar_view.st, "progress", progress_then_release)
    try:
        app = open_browser(str(app_env.ids[3]))
        app.toggle(key="browser-similar-poster").set_value(True).run()
        assert not app.exception, [e.value for e in app.exception]
        assert started.is_set()  # the page drew the build's progress while it ran
        assert [str(c.value) for c in app.caption if "similarity " in str(c.value)] == ["Drama  \nsimilarity 0.75"]
        assert not app.get("progress")  # gone once the films are in
    finally:
        similar_view.get_index_build.clear()

"""genre_app/links.py: the IMDb links (the address-bound choices are checked by the pages' tests)."""

from __future__ import annotations

from genre_app import links


def test_imdb_link_points_at_the_title_page():
    assert links.imdb_url("tt0111161") == "https://www.imdb.com/title/tt0111161/"
    assert links.imdb_link("tt0111161") == "[tt0111161](https://www.imdb.com/title/tt0111161/)"


def test_imdb_url_quotes_an_odd_id_so_the_link_stays_on_imdb():
    assert links.imdb_url("../x y)") == "https://www.imdb.com/title/..%2Fx%20y%29/"


def test_an_id_written_to_inject_a_link_stays_one_link_to_imdb_showing_that_id():
    from markdown_it import MarkdownIt

    film_id = "tt0000001](https:evil.example) [x"
    page = MarkdownIt("commonmark").render(links.imdb_link(film_id))
    assert page.count("<a ") == 1
    assert 'href="https://www.imdb.com/title/tt0000001%5D%28https%3Aevil.example%29%20%5Bx/"' in page
    assert f">{film_id}</a>" in page


def test_a_whole_number_check_takes_its_bounds_and_refuses_the_rest():
    accepts = links.is_whole_number_between(1, 100)
    assert accepts("1") and accepts("100") and not accepts("0") and not accepts("101")
    assert not accepts("2.5") and not accepts("ten") and links.is_whole_number_between(0)("123456")


def unknown_values_app():
    import streamlit as st

    from genre_app import links

    st.query_params["models"] = ["course_cnn", "no_such_model`` **x**"]
    links.warn_about_unknown_link_values("models", ["course_cnn", "poster_cnn"], "the model", "so it is left out")


def test_unknown_values_in_a_link_are_named_in_a_code_span_with_what_is_offered():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(unknown_values_app, default_timeout=30)
    app.run()
    (warning,) = app.warning
    assert "`no_such_model'' **x**`" in warning.value and "course_cnn`" not in warning.value
    assert "so it is left out" in warning.value and "Available: course_cnn, poster_cnn." in warning.value


def test_an_address_value_cannot_leave_its_code_span():
    from markdown_it import MarkdownIt

    value = "x`\n\n![](https://example.invalid/beacon.png)\n\n[log in](https://evil.example)"
    page = MarkdownIt("commonmark").render(f"The address asks for `{links.quote_in_code_span(value, 200)}`.")
    assert "<img" not in page and "<a " not in page and page.count("<code>") == 1

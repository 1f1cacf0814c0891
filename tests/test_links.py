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

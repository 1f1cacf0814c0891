"""The Predict page's inputs and asking (pages/2_Predict.py reads top to bottom: these widgets, the package's
prediction, then genre_app.answer_view's answer): the shipped examples, the film an address names, the two
ways to give inputs (your poster and summary, or a dataset film), and the prediction kept in the session.

Dataset and user text (overviews, Ids, genres, file names) is shown as text, never as Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from genre_app.answers import example_button_label, film_choice_label
from genre_app.caches import input_fingerprint
from genre_app.films import find_film, has_film
from genre_app.links import imdb_url
from genre_app.models import predictor_answering
from genre_app.posters import (
    MAX_UPLOAD_MEGABYTES,
    read_upload,
    show_poster,
    upload_limits_text,
)
from genre_app.text import escape_markdown
from genre_models.examples import load_examples
from genre_models.inference import check_inputs

SOURCES = ["Your poster or summary", "A dataset film"]
# Session keys: the example filling the inputs, a prediction asked for by a click or an address, the last
# answers, the film the address named when last read, and a film outside the test split opened by address.
EXAMPLE_KEY, REQUESTED_KEY, ANSWERED_KEY = "predict-example", "predict-requested", "predict-answered"
ADDRESS_KEY, OTHER_SPLIT_KEY = "predict-address-film", "predict-other-split-film"
# Where a film asked for by the address is found.
FROM_DATASET, FROM_EXAMPLES = "dataset", "example"
# Longest part of an address quoted back in a warning (an address can hold anything).
MAX_QUOTED_ADDRESS = 80
# Width of a poster beside the inputs (px): small, so the answer beside or under them stays in view.
INPUT_POSTER_WIDTH = 90


@dataclass
class Inputs:
    """What the page's widgets hold on this run."""

    # SOURCES[0] (your poster / summary) or SOURCES[1] (a dataset film).
    source: str
    # The poster as decoded pixels (a film's or an example's); an upload stays bytes until Predict.
    poster: np.ndarray | None = None
    # The uploaded file's bytes, None without an upload.
    upload: bytes | None = None
    # The summary, None when only a poster is given.
    overview: str | None = None
    # The true genres, when known (a dataset film or an unedited example).
    truth: list[str] | None = None
    # The film's Id, the uploaded file's name, or None.
    film_id: str | None = None
    # How the answer names what it answers ("the example ...", "your summary").
    label: str = "your input"
    # A film or example whose poster cannot be decoded.
    poster_unusable: bool = False
    # The Predict button (or Ctrl+Enter in the summary) was pressed on this run.
    submitted: bool = False
    # The film the address should name (a dataset film or the example in use), None for your own input.
    addressed_film: str | None = None

    def fingerprint(self) -> str:
        """Return a digest of the inputs, to tell when they change after an answer."""
        return input_fingerprint(self.source, self.poster, self.upload, self.overview)


@dataclass
class Answered:
    """The inputs the Predict page last answered and every model's answers, kept in the session so they
    stay on screen (and explainable) when another widget changes, until the next prediction."""

    # Digest of the inputs as they were (Inputs.fingerprint), to tell when they change.
    fingerprint: str
    # How the page names what was answered ("the example ...", "your poster").
    label: str
    # The poster as the models saw it (RGB pixels), None when none was given or it could not be decoded.
    poster: np.ndarray | None
    # The summary as given, None when none was.
    overview: str | None
    # Every model's answers (genre_models.inference.PredictionResult).
    result: object
    # The film's Id, the uploaded file's name, or None: the "id" of the downloaded prediction lines.
    film_id: str | None = None
    # The film's true genres, when known (a dataset film or an unedited example).
    truth: list[str] | None = None
    # A film (dataset or example) whose poster could not be decoded: only the text models answered.
    poster_unusable: bool = False
    # The inputs the models could read: {"poster", "overview"} or one of them.
    given: set[str] = field(default_factory=set)
    # Whether the poster was uploaded (shown with the answer; a film's poster is shown with the film).
    uploaded: bool = False
    # The genre_models.inference.GenrePredictor that answered (its models' genres, thresholds and metadata).
    predictor: object = None
    # Models still loading when it answered that would answer these inputs too (added once they are in).
    still_loading: list[str] = field(default_factory=list)


def read_examples():
    """Return (the shipped examples, None) or (None, why they cannot be read)."""
    try:
        return load_examples(), None
    except ValueError as error:
        return None, str(error)


def use_example(examples, example_id: str) -> None:
    """Fill the inputs with an example (its poster in place of an upload, its overview as the summary) and
    ask for a prediction; a button's callback, so it runs before the widgets are drawn."""
    if examples.find(example_id) is None:  # a button of an examples folder rebuilt since it was drawn
        return
    st.session_state[EXAMPLE_KEY] = example_id
    st.session_state["summary"] = examples.find(example_id).overview
    st.session_state["predict-source"] = SOURCES[0]
    st.session_state[REQUESTED_KEY] = True


def drop_example(clear_summary: bool = False) -> None:
    """Stop using the example's poster (a new upload replaces it), and its summary when asked."""
    st.session_state.pop(EXAMPLE_KEY, None)
    if clear_summary:
        st.session_state["summary"] = ""


def quote_address_value(value: str) -> str:
    """Return part of an address as a Markdown code span: cut short, without backticks or control
    characters, so whatever a link holds shows as text."""
    cleaned = "".join(character for character in str(value) if character.isprintable()).replace("`", "'")
    shown = cleaned[:MAX_QUOTED_ADDRESS] + ("…" if len(cleaned) > MAX_QUOTED_ADDRESS else "")
    return f"`{shown}`" if shown.strip() else "(an empty Id)"


def locate_film(film_id: str, in_dataset: bool, example_ids, has_dataset: bool) -> tuple[str | None, str | None]:
    """Return where the film an address asks for is found (FROM_DATASET, FROM_EXAMPLES or None: the
    configured dataset first, any split, else the examples) and, when nowhere, why (Markdown, safe to show)."""
    if in_dataset:
        return FROM_DATASET, None
    if film_id in set(example_ids):
        return FROM_EXAMPLES, None
    where = ("in the dataset or among the examples" if has_dataset
             else "among the examples (no dataset is configured, so only they can be opened by address)")
    return None, (f"The address asks for the film {quote_address_value(film_id)}, which is not {where}. The page "
                  "starts with empty inputs instead.")


def open_addressed_film(dataset, examples, notices) -> None:
    """Open the film the address names (/Predict?film=tt0086465) when it is new, and ask for its prediction;
    read before the widgets are drawn, so they start on that film."""
    addressed = st.query_params.get("film")
    if addressed is None or addressed == st.session_state.get(ADDRESS_KEY):
        return
    st.session_state[ADDRESS_KEY] = addressed
    in_dataset = dataset is not None and has_film(dataset, addressed)
    kind, problem = locate_film(addressed, in_dataset, examples.ids if examples else [], dataset is not None)
    if kind == FROM_DATASET:
        drop_example()
        if dataset.splits[dataset.row_of(addressed)] != "test":
            st.session_state[OTHER_SPLIT_KEY] = addressed
        st.session_state["predict-source"] = SOURCES[1]
        st.session_state["predict-film"] = addressed
        st.session_state[REQUESTED_KEY] = True
    elif kind == FROM_EXAMPLES:
        use_example(examples, addressed)
    else:
        notices.warning(problem)


def follow_address(film_id: str | None) -> None:
    """Make the address name the chosen film (or nothing), so the page can be shared as it is."""
    if st.query_params.get("film") != film_id:
        if film_id is None:
            del st.query_params["film"]
        else:
            st.query_params["film"] = film_id
    st.session_state[ADDRESS_KEY] = film_id


def show_film_inputs(dataset) -> Inputs:
    """The film picker (test films, and a film of another split opened by address) and the chosen film."""
    rows = list(dataset.split_indices("test"))
    other = st.session_state.get(OTHER_SPLIT_KEY)
    if other is not None and has_film(dataset, other):
        rows.insert(0, dataset.row_of(other))
    listed = {str(dataset.ids[row]): film_choice_label(str(dataset.ids[row]), str(dataset.overviews[row]),
                                                       str(dataset.splits[row])) for row in rows}
    chosen = st.selectbox("Film (test split: never seen in training)", list(listed), key="predict-film",
                          format_func=listed.get)
    film = find_film(dataset, chosen)
    left, right = st.columns([1, 2])
    poster = show_poster(film.poster, width=INPUT_POSTER_WIDTH, caption=f"Poster of {film.id}", container=left)
    right.markdown(f"[{escape_markdown(film.id)}]({imdb_url(film.id)}) · **True genres:** "
                   + escape_markdown(", ".join(film.genres)))
    right.text(film.overview)
    if film.split != "test":
        right.info(f"{escape_markdown(film.id)} is in the {film.split} split: the models learnt from it, so their answers flatter "
                   "them. Pick a test film for an honest check.")
    with st.form("predict-form", border=False):
        submitted = st.form_submit_button("Predict", type="primary", key="predict-submit")
    return Inputs(SOURCES[1], poster=poster, overview=film.overview, truth=film.genres, film_id=film.id,
                  label=listed[film.id], poster_unusable=poster is None, submitted=submitted, addressed_film=film.id)


def show_own_inputs(examples) -> Inputs:
    """The poster upload and the summary (filled by an example when one is in use) and the Predict button."""
    example = examples.find(st.session_state.get(EXAMPLE_KEY, "")) if examples else None
    uploaded = st.file_uploader("Poster (JPEG, PNG or WebP)", type=["jpg", "jpeg", "png", "webp"],
                                max_upload_size=MAX_UPLOAD_MEGABYTES, key="poster", on_change=drop_example,
                                help=upload_limits_text())
    upload = uploaded.getvalue() if uploaded is not None else None
    inputs = Inputs(SOURCES[0], upload=upload, label="your summary")
    example_place = st.container()  # always there, so the form below keeps its place
    # A form: the summary is sent with the button, and Ctrl+Enter in it predicts too.
    with st.form("predict-form", border=False):
        overview = st.text_area("Plot summary", height=90, key="summary",
                                placeholder="A retired hitman is pulled back in for one last job...")
        inputs.submitted = st.form_submit_button("Predict", type="primary", key="predict-submit")
    if upload is not None:
        inputs.film_id = uploaded.name
        inputs.label = f"your poster {uploaded.name}" + (" and summary" if overview.strip() else "")
    elif example is not None:
        inputs.addressed_film = example.id
        poster_column, note_column = example_place.columns([1, 2])
        inputs.poster = show_poster(example.poster, width=INPUT_POSTER_WIDTH,
                                    caption=f"Poster of the example {example.id}", container=poster_column)
        inputs.poster_unusable = inputs.poster is None
        # The true genres belong to the example's own overview; an edited summary makes another film.
        if overview.strip() == example.overview:
            inputs.truth, inputs.film_id, inputs.label = example.genres, example.id, f"the example {example.label}"
            note_column.markdown(f"**Example** [{escape_markdown(example.id)}]({imdb_url(example.id)}) (test "
                                 "split) · **True genres:** " + escape_markdown(", ".join(example.genres)))
        else:
            inputs.label = f"the example {example.id}'s poster and your summary"
            note_column.caption(f"The poster is the example {escape_markdown(example.id)}'s; the summary was "
                                "edited, so its true genres are not shown.")
        note_column.button("Clear the example", key="predict-clear-example", on_click=drop_example, args=(True,),
                           help="Remove the example's poster and summary from the inputs")
    inputs.overview = overview if overview.strip() or (upload is None and inputs.poster is None) else None
    return inputs


def check_given(poster: np.ndarray | None, upload: bytes | None, overview: str | None) -> None:
    """Raise ValueError naming both inputs when neither is given (the package's check names the summary)."""
    if poster is None and upload is None and not (overview or "").strip():
        raise ValueError("both inputs are empty: upload a poster, type a plot summary, or both (or click an "
                         "example below)")


def ask(inputs: Inputs, loading_place, status) -> None:
    """Predict for the inputs and keep the answers in the session (or show why not, dropping old answers)."""
    try:
        check_given(inputs.poster, inputs.upload, inputs.overview)
        poster = read_upload(inputs.upload) if inputs.upload is not None else inputs.poster
        given = ({"poster"} if poster is not None else set()) | ({"overview"} if inputs.overview else set())
        check_inputs(poster, inputs.overview)  # before waiting for any model
        with loading_place:
            predictor, still_loading = predictor_answering(given)
        result = predictor.predict(poster=poster, overview=inputs.overview)
    except ValueError as error:
        # No answer is better than the previous input's answer under a new error.
        st.session_state.pop(ANSWERED_KEY, None)
        status.error(f"Could not predict: {error}")
        return
    st.session_state[ANSWERED_KEY] = Answered(
        fingerprint=inputs.fingerprint(), label=inputs.label, poster=poster, overview=inputs.overview,
        result=result, film_id=inputs.film_id, truth=list(inputs.truth) if inputs.truth else None,
        poster_unusable=inputs.poster_unusable, given=given, uploaded=inputs.upload is not None,
        predictor=predictor, still_loading=still_loading)


def show_examples(examples, problem: str | None, answered: bool) -> None:
    """The shipped examples, a thumbnail and a readable button each (its genres and the start of its
    summary): a click fills the inputs and predicts. Open until the first answer, folded after it."""
    if examples is None:
        st.caption(f"No examples: {problem}")
        return
    with st.expander("Examples: films of the test split shipped with the app (they work without a dataset)",
                     expanded=not answered):
        per_row = 3
        for start in range(0, len(examples.examples), per_row):
            for column, shown in zip(st.columns(per_row), examples.examples[start : start + per_row]):
                picture, button = column.columns([3, 8])  # room for the Id under the thumbnail, unbroken
                show_poster(shown.poster, width=60, caption=shown.id, container=picture)
                button.button(escape_markdown(example_button_label(shown)), key=f"example-{shown.id}", width="stretch",
                              on_click=use_example, args=(examples, shown.id),
                              help="Fill the poster and the summary with this film and predict")
        for note in examples.notes:
            st.caption(note)

"""Similar films: the dataset films nearest a film or an uploaded poster/summary by the pretrained encoders'
embeddings (genre_models.similar), each with its poster, Id (IMDb link), genres and similarity.

Each kind is asked for with its own toggle, off by default: the first poster index of a dataset encodes every
poster (minutes), and nothing slow should run unless a user asks. Ids and genres are dataset text: escaped.
"""

from __future__ import annotations

import threading

import streamlit as st

from genre_app import posters
from genre_app.data import data_location
from genre_app.links import imdb_link
from genre_app.text import escape_markdown
from genre_models.similar import DEFAULT_COUNT, OVERVIEW_INDEX, POSTER_INDEX, load_similarity_index

# The section's title per index kind.
TITLES = {POSTER_INDEX: "Films whose posters look like this one", OVERVIEW_INDEX: "Films whose plots read like this one"}
# What a first build costs, said while it runs (a later build reads the cached embeddings back).
BUILD_NOTES = {
    POSTER_INDEX: "Finding films with similar posters: the first time on a machine every poster of the dataset "
                  "is encoded (about 16 minutes on a CPU); later it takes seconds.",
    OVERVIEW_INDEX: "Finding films with similar plots: the first time every overview of the dataset is encoded "
                    "(about a minute); later it takes seconds.",
}
POSTER_WIDTH = 80
# Seconds between two updates of a build's progress bar.
PROGRESS_INTERVAL = 0.5


class IndexBuild:
    """One index being built on a thread of its own, so a rerun (another widget, a closed dialog) neither stops
    nor repeats it; the page reads how far it is and, once done, the index or why there is none."""

    def __init__(self, kind: str, location: str):
        self.done = threading.Event()
        self.index, self.problem, self.step = None, None, None
        threading.Thread(target=self.build, args=(kind, location), daemon=True, name=f"similar-{kind}").start()

    def note(self, done: int, total: int, message: str) -> None:
        self.step = (done, total, message)

    def build(self, kind: str, location: str) -> None:
        try:
            self.index = load_similarity_index(kind, location, progress=self.note)
        except Exception as error:  # noqa: BLE001 - any failure is said in one line, never left to hang the page
            self.problem = (str(error).strip().splitlines() or [type(error).__name__])[0]
        finally:
            self.done.set()


@st.cache_resource(show_spinner=False, max_entries=4)
def get_index_build(kind: str, location: str, fingerprint: str) -> IndexBuild:
    """Start (once per kind, dataset folder and data fingerprint) the build of every film's index."""
    return IndexBuild(kind, location)


def similarity_index(kind: str, dataset):
    """Return the kind's index of the dataset, showing how far its build is while it runs; raise ValueError
    saying why there is none."""
    build = get_index_build(kind, str(data_location()), dataset.fingerprint)
    if not build.done.is_set():
        bar = st.progress(0.0, text=BUILD_NOTES[kind])
        while not build.done.wait(PROGRESS_INTERVAL):
            if build.step and build.step[1]:
                done, total, message = build.step
                bar.progress(min(done / total, 1.0), text=f"{BUILD_NOTES[kind]} {escape_markdown(message)}")
        bar.empty()
    if build.problem is not None:
        # Not kept: once the cause is fixed (a package installed), the next ask builds again.
        get_index_build.clear()
        raise ValueError(build.problem)
    return build.index


def describe_neighbour(neighbour) -> str:
    """Return a neighbour's genres and similarity as Markdown (the genre names escaped)."""
    genres = escape_markdown(", ".join(neighbour.genres)) if neighbour.genres else "no genre"
    return f"{genres}  \nsimilarity {neighbour.similarity:.2f}"


def show_neighbours(dataset, found: list) -> None:
    """A compact row of the films found: small poster, Id linked to IMDb, genres and similarity."""
    if not found:
        st.caption("No other film in the dataset to compare with.")
        return
    for column, neighbour in zip(st.columns(len(found)), found):
        with column:
            posters.show_poster(dataset.poster_path(neighbour.film_id), width=POSTER_WIDTH,
                                alt=f"Poster of {neighbour.film_id}")
            st.markdown(f"**{imdb_link(neighbour.film_id)}**")
            st.caption(describe_neighbour(neighbour))


def find(kind: str, dataset, query, key: str, film_id: str | None = None) -> None:
    """The kind's toggle and, when on, the films nearest ``film_id`` (a dataset film, itself left out) or else
    nearest ``query`` (an uploaded poster or a summary); a one-line note when they cannot be found."""
    if not st.toggle(TITLES[kind], key=f"{key}-{kind}", help="The dataset films nearest by the pretrained "
                     "encoder's embedding (cosine similarity): what the model sees as close."):
        return
    if dataset is None:
        st.caption("Similar films need the dataset, which is not available here.")
        return
    try:
        index = similarity_index(kind, dataset)
        if film_id is not None and film_id in set(index.ids):
            found = index.find_similar_to_film(film_id, count=DEFAULT_COUNT)
        elif query is None:  # a dataset film the index holds no embedding of (its poster does not decode)
            st.caption(f"No similar films: this film's {kind} could not be read, so it has no place to compare from.")
            return
        else:
            found = index.find_similar_to_input(query, count=DEFAULT_COUNT)
    except ValueError as error:  # an encoder's package missing (EncoderUnavailableError) or an unusable input
        st.caption(escape_markdown(f"No similar films: {error}"))
        return
    show_neighbours(dataset, found)


def show_similar_to_film(dataset, film_id: str, key: str) -> None:
    """For a dataset film: films with similar posters and with similar plots."""
    st.markdown("**Similar films in the dataset**")
    for kind in (POSTER_INDEX, OVERVIEW_INDEX):
        find(kind, dataset, None, key, film_id=film_id)


def show_similar_to_answered(answered, dataset, key: str = "predict-similar") -> None:
    """For what Predict answered: films whose posters look like the poster given, and whose plots read like the
    summary given. A dataset film as it is (true genres known, nothing uploaded) is left out of its own list."""
    film_id = answered.film_id if answered.truth and not answered.uploaded else None
    kinds = [(POSTER_INDEX, answered.poster), (OVERVIEW_INDEX, answered.overview)]
    kinds = [(kind, query) for kind, query in kinds if query is not None]
    if not kinds:
        return
    st.subheader("Similar films in the dataset")
    for kind, query in kinds:
        find(kind, dataset, query, key, film_id=film_id)

"""Similar films: nearest neighbours over the dataset by a pretrained encoder's embedding (cosine).

Two indexes: "poster" (EfficientNet-Lite2's pooled features, what poster_effnet reads: films whose
posters look alike) and "overview" (MiniLM's sentence embeddings, what minilm_mlp reads: films whose
plots read alike). Each is built once per dataset and encoder: the embeddings are cached on disk by
data fingerprint (genre_models.image_encoder.embed_posters, genre_models.encoder_cache.embed_texts), so a
later build only reads them back, and a query is one encoder call plus a matrix product.

    index = load_similarity_index(POSTER_INDEX, data_dir)
    index.find_similar_to_film("tt0084058", count=5)    # a dataset film (itself left out)
    index.find_similar_to_input(poster_bytes, count=5)   # an uploaded poster (overview text for OVERVIEW_INDEX)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from genre_models.config import ProgressCallback
from genre_models.dataset import load_dataset
from genre_models.inputs import prepare_overview, prepare_poster

# Index kinds: which input the films are compared by.
POSTER_INDEX, OVERVIEW_INDEX = "poster", "overview"
# The encoder behind each kind (a name in genre_models.encoders.ENCODERS).
INDEX_ENCODERS = {POSTER_INDEX: "efficientnet_lite2", OVERVIEW_INDEX: "minilm"}
# Poster size the poster index encodes at: poster_effnet's, so its cached features serve both.
POSTER_INDEX_SIZE = (512, 256)
# Neighbours returned when the caller does not say.
DEFAULT_COUNT = 5


@dataclass(frozen=True)
class SimilarFilm:
    """One neighbour of a query."""

    # The film's Id in the dataset.
    film_id: str
    # Cosine similarity of its embedding to the query's, in [-1, 1] (1: same direction).
    similarity: float
    # Its genres (the dataset's labels), in the dataset's genre order.
    genres: tuple[str, ...]


@dataclass(frozen=True)
class SimilarityIndex:
    """Every dataset film's unit-length embedding by one encoder, with its Id and genres."""

    # POSTER_INDEX or OVERVIEW_INDEX.
    kind: str
    # Film Ids, one per row of ``embeddings``.
    ids: np.ndarray
    # Each film's genres, aligned with ``ids``.
    genres: tuple[tuple[str, ...], ...]
    # (films, dimension) float32 rows of length 1.
    embeddings: np.ndarray
    # The data fingerprint the embeddings were computed from.
    fingerprint: str

    def find_similar_to_film(self, film_id: str, count: int = DEFAULT_COUNT) -> list[SimilarFilm]:
        """Return the ``count`` films most similar to a dataset film, most similar first, itself left out."""
        rows = np.flatnonzero(self.ids == str(film_id))
        if not len(rows):
            raise ValueError(f"No film with the Id {film_id!r} in this dataset.")
        return self.rank(self.embeddings[rows[0]], count, leave_out=int(rows[0]))

    def find_similar_to_input(self, given, count: int = DEFAULT_COUNT) -> list[SimilarFilm]:
        """Return the ``count`` dataset films most similar to an uploaded poster (encoded bytes, a PIL image
        or a uint8 array) for a poster index, or to a summary (text) for an overview index."""
        return self.rank(embed_query(self.kind, given), count)

    def rank(self, query: np.ndarray, count: int, leave_out: int | None = None) -> list[SimilarFilm]:
        """Return the films nearest a unit-length query embedding (cosine), most similar first."""
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise ValueError(f"The number of similar films must be a whole number of at least 1; got {count!r}.")
        similarities = self.embeddings @ np.asarray(query, dtype=np.float32)
        if leave_out is not None:
            similarities[leave_out] = -np.inf
        available = len(similarities) - (leave_out is not None)
        count = min(int(count), available)
        if count <= 0:
            return []
        nearest = np.argpartition(-similarities, count - 1)[:count]
        # Ties broken by Id, so the same query always lists the same films in the same order.
        nearest = sorted(nearest, key=lambda row: (-similarities[row], str(self.ids[row])))
        return [SimilarFilm(str(self.ids[row]), float(similarities[row]), self.genres[row]) for row in nearest]


def normalise_rows(embeddings: np.ndarray) -> np.ndarray:
    """Return the rows scaled to length 1 (a zero row stays zero: it is similar to nothing)."""
    embeddings = np.asarray(embeddings, dtype=np.float32)
    norms = np.linalg.norm(embeddings, axis=-1, keepdims=True)
    return embeddings / np.where(norms > 0, norms, 1.0)


def load_similarity_index(kind: str, data_dir, progress: ProgressCallback | None = None) -> SimilarityIndex:
    """Return the index of every film of a dataset (folder or zip) by the kind's encoder.

    The first build per dataset encodes every poster (minutes on a CPU) or overview (a minute) and
    caches the embeddings; later builds read them back. Raises
    genre_models.encoders.EncoderUnavailableError (a ValueError saying what is missing) when the
    encoder's packages are not installed.
    """
    from genre_models.encoder_cache import embed_texts
    from genre_models.encoders import check_encoder_packages

    if kind not in INDEX_ENCODERS:
        raise ValueError(f"Unknown similarity index {kind!r}; use {POSTER_INDEX!r} or {OVERVIEW_INDEX!r}.")
    check_encoder_packages(INDEX_ENCODERS[kind], import_them=False)
    if kind == OVERVIEW_INDEX:
        dataset = load_dataset(data_dir, progress=progress)
        embeddings = embed_texts(INDEX_ENCODERS[kind], dataset.overviews.reshape(-1, 1), dataset.fingerprint,
                                 progress=progress)
    else:
        dataset, embeddings = embed_dataset_posters(data_dir, progress)
    genres = tuple(tuple(genre for genre, present in zip(dataset.genres, row) if present) for row in dataset.labels)
    return SimilarityIndex(kind, np.asarray([str(film_id) for film_id in dataset.ids], dtype=object), genres,
                           normalise_rows(embeddings), dataset.fingerprint)


def embed_dataset_posters(data_dir, progress: ProgressCallback | None):
    """Return (the dataset, its posters' pooled features); the posters are decoded only when the features
    are not cached yet (their cache is keyed by fingerprint and Ids, which the catalogue alone gives)."""
    from genre_models.encoders import ENCODERS
    from genre_models.image_encoder import embed_posters, locate_poster_cache

    variant = ENCODERS[INDEX_ENCODERS[POSTER_INDEX]]["variant"]
    dataset = load_dataset(data_dir, progress=progress)
    cached = locate_poster_cache(variant, POSTER_INDEX_SIZE, dataset.fingerprint, dataset.ids)
    if cached.is_file():
        return dataset, np.load(cached)
    # Films whose poster does not decode are dropped by this load: the index holds the others.
    dataset = load_dataset(data_dir, image_size=POSTER_INDEX_SIZE, progress=progress)
    return dataset, embed_posters(variant, dataset.posters, POSTER_INDEX_SIZE, dataset.fingerprint, dataset.ids,
                                  progress=progress)


def embed_query(kind: str, given) -> np.ndarray:
    """Return the unit-length embedding of one uploaded poster or summary."""
    if kind == POSTER_INDEX:
        poster = prepare_poster(given)
        return normalise_rows(np.asarray(load_query_encoder(kind)(poster[None], training=False)))[0]
    overview, _ = prepare_overview(given)
    return normalise_rows(np.asarray(load_query_encoder(kind)(np.array([[overview]], dtype=object))))[0]


@functools.lru_cache(maxsize=2)
def load_query_encoder(kind: str):
    """Return the kind's encoder as a Keras layer or model, built once per process."""
    from genre_models.encoders import ENCODERS, make_encoder_layer

    if kind == POSTER_INDEX:
        from genre_models.image_encoder import build_feature_extractor

        return build_feature_extractor(ENCODERS[INDEX_ENCODERS[kind]]["variant"], POSTER_INDEX_SIZE)
    return make_encoder_layer(INDEX_ENCODERS[kind])

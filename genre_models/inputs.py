"""What a model reads, and the adapters from users' and datasets' inputs to a network's tensors.

Training and inference both go through these functions, so a model is fed the same way when it
learns and when it answers: posters as raw uint8 RGB arrays of any size, overviews as raw
strings (each network holds its own resizing / tokenising), encoder caches widened to float32.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from genre_models.dataset import (
    MovieDataset,
    check_poster_size,
    decode_poster,
    image_to_rgb,
)
from genre_models.dataset.catalog import MAX_OVERVIEW_CHARACTERS, cut_overview  # noqa: F401 (re-exported)

# Input kinds a model can take: a poster, an overview, or both (a fusion of a poster model and a
# text model).
POSTER = "poster"
OVERVIEW = "overview"
BOTH = "both"
INPUT_KINDS = (POSTER, OVERVIEW, BOTH)


def kinds_read_by(input_kind: str) -> frozenset[str]:
    """Return the inputs a model of this input kind reads: {poster}, {overview} or both."""
    return frozenset({POSTER, OVERVIEW}) if input_kind == BOTH else frozenset({input_kind})

# Names of the Keras inputs, used by inference to feed the right tensor.
POSTER_INPUT_NAME = "poster"
OVERVIEW_INPUT_NAME = "overview"



def prepare_poster(poster) -> np.ndarray:
    """Return an RGB uint8 array from a PIL image, an array or encoded bytes; raise ValueError otherwise."""
    if isinstance(poster, (bytes, bytearray, memoryview)):
        if not poster:
            raise ValueError("The poster file is empty.")
        try:
            return decode_poster(bytes(poster))
        except ValueError as error:
            raise ValueError(f"The poster could not be used: {error}.") from error
    if isinstance(poster, Image.Image):
        check_poster_size(*poster.size)
        return image_to_rgb(poster)
    array = np.asarray(poster)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or min(array.shape[:2]) < 1:
        raise ValueError(f"A poster must be an RGB image; got an array of shape {array.shape}.")
    if array.dtype != np.uint8:
        raise ValueError("A poster array must hold uint8 pixel values (0-255).")
    return np.ascontiguousarray(array[..., :3])


def fingerprint_poster(pixels: np.ndarray | None) -> str | None:
    """Return the one digest that identifies a decoded poster (its shape and pixels) in every cache
    keyed by input (the Explainer's, the app's explanations); None for no poster."""
    import hashlib

    if pixels is None:
        return None
    pixels = np.ascontiguousarray(pixels)
    return hashlib.sha1(str(pixels.shape).encode() + pixels.tobytes()).hexdigest()


def prepare_overview(overview: str) -> tuple[str, bool]:
    """Return the overview ready for a text model and whether it was truncated; refuse empty text."""
    if not isinstance(overview, str):
        raise ValueError("The summary must be text.")
    # Lone surrogates cannot be encoded for TensorFlow; replace them rather than fail.
    cleaned = overview.encode("utf-8", errors="replace").decode("utf-8").strip()
    if not cleaned:
        raise ValueError("The summary is empty; paste a sentence or two about the film.")
    return cut_overview(cleaned)


def model_inputs_for(input_kind: str, dataset: MovieDataset) -> np.ndarray:
    """Return the array a network of this input kind (POSTER or OVERVIEW) reads from a dataset."""
    if input_kind == POSTER:
        if dataset.posters is None:
            raise ValueError("This dataset was loaded without posters; load it with the model's image size.")
        return dataset.posters
    return np.asarray(dataset.overviews, dtype=object).reshape(-1, 1)


def take_rows(inputs, rows):
    """Return the given rows (indices or a slice) of a model's inputs: one array, or a dict of arrays (several inputs)."""
    if isinstance(inputs, dict):
        return {key: value[rows] for key, value in inputs.items()}
    return inputs[rows]


def prepare_network_inputs(inputs):
    """Return a model's inputs as its network takes them: overviews as str rather than Python
    objects, and half-precision caches (encoder token states) widened to float32."""

    def prepare(array: np.ndarray) -> np.ndarray:
        if array.dtype == object:
            return array.astype(str)
        return array.astype(np.float32) if array.dtype == np.float16 else array

    if isinstance(inputs, dict):
        return {key: prepare(value) for key, value in inputs.items()}
    return prepare(inputs)

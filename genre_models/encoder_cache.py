"""Encoder outputs computed once per text set and kept on disk: the training-time encodings of the pretrained
sentence encoder (its frozen bottom for fine-tuning, its pooled embeddings for a frozen head) and the one cache
writer the poster encoder uses too. Cached under GENRE_CACHE_DIR, named by the encoder, the texts and the data
fingerprint; a folder that cannot be written costs only the cache (the outputs are recomputed)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from genre_models.config import CACHE_DIR_ENV, resolve_cache_dir
from genre_models.encoders import (
    EMBED_BATCH,
    ENCODER_SEQUENCE_LENGTH,
    ENCODERS,
    FROZEN_POOLED_INPUT,
    MASK_INPUT,
    STATES_INPUT,
    make_encoder_bottom,
    make_encoder_layer,
)
from genre_models.fileio import write_bytes_atomically


def locate_encoder_cache(key: str, texts: np.ndarray, fingerprint: str | None, suffix: str) -> tuple[list[str], Path]:
    """Return the overviews as strings and the cache file for an encoding of them, named by the
    encoding (``key``), the sequence length, the data fingerprint and the texts themselves."""
    texts = [str(text) for text in np.asarray(texts, dtype=object).reshape(-1)]
    digest = hashlib.sha256(f"{key}|{ENCODER_SEQUENCE_LENGTH}|{fingerprint}".encode())
    for text in texts:
        digest.update(text.encode("utf-8", errors="replace") + b"\0")
    return texts, resolve_cache_dir() / "embeddings" / f"{digest.hexdigest()[:20]}{suffix}"


def run_in_batches(encode, texts: list[str], progress, what: str) -> list:
    """Return ``encode``'s output for each batch of EMBED_BATCH overviews (a (batch, 1) string
    tensor each), reporting progress as it goes."""
    import tensorflow as tf

    parts = []
    for start in range(0, len(texts), EMBED_BATCH):
        parts.append(encode(tf.constant([[text] for text in texts[start : start + EMBED_BATCH]])))
        if progress:
            progress(min(start + EMBED_BATCH, len(texts)), len(texts), what)
    return parts


def encode_for_finetuning(name: str, tuned_layers: int, texts: np.ndarray, fingerprint: str | None = None,
                          progress=None) -> tuple[dict, np.ndarray]:
    """Return (network inputs, pooled states of every layer) for many overviews, cached on disk.

    The token states are kept as float16 and trimmed to the longest overview's tokens (the
    padding mask makes the extra padding of serving time's token buckets irrelevant).
    """
    import tensorflow as tf

    texts, cache_path = locate_encoder_cache(f"{name}|tuned{tuned_layers}", texts, fingerprint, ".npz")
    if not cache_path.is_file():
        bottom = make_encoder_bottom(name, tuned_layers, run_all_layers=True)
        # Traced once per batch shape: eager keras-hub layers are several times slower.
        run_bottom = tf.function(lambda chunk: bottom(chunk), reduce_retracing=True)
        parts = run_in_batches(lambda chunk: [np.asarray(part) for part in run_bottom(chunk)], texts, progress,
                               "encoding overviews")
        # Each batch is cut to its own token bucket: pad every batch to the longest of all (padded
        # positions are masked) so the batches stack, then store only up to the longest overview.
        length = max(int(part[1].shape[1]) for part in parts) if parts else 1
        mask = np.concatenate([pad_tokens(part[1], length) for part in parts]).astype(np.int32)
        longest = max(int(mask.sum(axis=1).max()), 1)
        arrays = {
            STATES_INPUT: np.concatenate([pad_tokens(part[0][:, :longest], longest) for part in parts]
                                         ).astype(np.float16),
            MASK_INPUT: mask[:, :longest],
            FROZEN_POOLED_INPUT: np.concatenate([part[2] for part in parts]).astype(np.float32),
            "all_pooled": np.concatenate([part[3] for part in parts]).astype(np.float32),
        }
        write_cache_file(Path(cache_path), lambda handle: np.savez(handle, **arrays))
    else:
        with np.load(cache_path) as stored:
            arrays = {key: stored[key] for key in stored.files}
    all_pooled = arrays.pop("all_pooled")
    return arrays, all_pooled


def pad_tokens(array: np.ndarray, length: int) -> np.ndarray:
    """Return a (films, tokens, ...) array zero-padded along the token axis to ``length`` tokens."""
    padding = [(0, 0), (0, length - array.shape[1])] + [(0, 0)] * (array.ndim - 2)
    return np.pad(array, padding)


def write_cache_file(path: Path, writer) -> None:
    """Write a cache file; a folder that cannot be written (read-only install, full disk) only costs
    the cache: the encoding is returned all the same and computed again next time."""
    try:
        write_bytes_atomically(path, writer)
    except OSError as error:
        logging.getLogger(__name__).warning("Could not cache the encoded overviews in %s (%s); set %s to a "
                                            "writable folder to keep them.", path.parent, error, CACHE_DIR_ENV)


def embed_texts(name: str, texts: np.ndarray, fingerprint: str | None = None, progress=None) -> np.ndarray:
    """Return embeddings of many overviews, cached on disk by encoder, data fingerprint and texts."""
    texts, cache_path = locate_encoder_cache(name, texts, fingerprint, ".npy")
    if cache_path.is_file():
        return np.load(cache_path)
    layer = make_encoder_layer(name)
    parts = run_in_batches(lambda chunk: np.asarray(layer(chunk)), texts, progress, "embedding overviews")
    embeddings = np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, ENCODERS[name]["dimension"]))
    write_cache_file(Path(cache_path), lambda handle: np.save(handle, embeddings))
    return embeddings


def encode_for_training(name: str, tuned_layers: int, texts: np.ndarray, fingerprint: str | None = None,
                        progress=None) -> tuple[np.ndarray | dict, np.ndarray | None]:
    """Return (the network's training inputs, features to warm-start its head on or None).

    A frozen encoder gives one embedding per overview; a partly tuned one gives its frozen
    bottom's output (``encode_for_finetuning``) and every layer's pooled states.
    """
    if tuned_layers:
        return encode_for_finetuning(name, tuned_layers, texts, fingerprint, progress=progress)
    return embed_texts(name, texts, fingerprint, progress=progress), None

"""The pretrained encoder: what training caches and what serving computes must agree."""

from __future__ import annotations

import numpy as np
import pytest

from genre_models.encoder_cache import embed_texts, encode_for_finetuning
from genre_models.encoders import (
    ENCODER_SEQUENCE_LENGTH,
    TOKEN_BUCKETS,
    count_encoder_layers,
    load_encoder,
    make_encoder_bottom,
    make_encoder_layer,
    trim_to_bucket,
    wrap_with_encoder,
)
from genre_models.inputs import prepare_network_inputs
from genre_models.models import build_model, get_model_spec

TEXTS = np.array(["A retired hitman is pulled back for one last job.", "Two friends road-trip across Texas.",
                  "A haunted lighthouse keeper loses his mind."], dtype=object)


@pytest.fixture(autouse=True)
def separate_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENRE_CACHE_DIR", str(tmp_path / "cache"))


def test_every_layer_pooled_ends_with_the_reference_sentence_embedding():
    _, all_pooled = encode_for_finetuning("minilm", 2, TEXTS)
    layers = count_encoder_layers("minilm")
    assert all_pooled.shape == (3, layers * 384)
    # The last layer's pooled states are exactly the frozen model's sentence embedding.
    np.testing.assert_allclose(all_pooled[:, -384:], embed_texts("minilm", TEXTS), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(all_pooled.reshape(3, layers, 384), axis=2), 1.0, atol=1e-5)


def test_tuned_model_serves_raw_text_exactly_as_it_was_trained():
    spec = get_model_spec("minilm_tuned")
    network = build_model(spec, num_genres=5)
    inputs, all_pooled = encode_for_finetuning("minilm", spec.defaults.tuned_layers, TEXTS)
    trained_path = np.asarray(network(prepare_network_inputs(inputs), training=False))
    served = wrap_with_encoder(network, {"name": "minilm", "tuned_layers": spec.defaults.tuned_layers})
    served_path = np.asarray(served(np.array([[text] for text in TEXTS]), training=False))
    # Serving pads to the encoder's full length while the cache is trimmed; the mask makes that irrelevant.
    np.testing.assert_allclose(served_path, trained_path, atol=1e-4)
    # Before fine-tuning, the head on every layer's pooled states is the whole network: the warm start fits
    # the head on exactly the features it will see.
    head_path = np.asarray(network.get_layer("head")(all_pooled, training=False))
    np.testing.assert_allclose(head_path, trained_path, atol=1e-4)


def test_cached_token_states_are_trimmed_to_the_longest_overview():
    inputs, _ = encode_for_finetuning("minilm", 2, TEXTS)
    mask = inputs["padding_mask"]
    assert inputs["token_states"].dtype == np.float16
    assert mask.shape[1] == mask.sum(axis=1).max()


@pytest.mark.parametrize("tuned_layers", [0, 6, 9])
def test_tuned_layer_count_must_leave_a_frozen_bottom_and_a_tuned_top(tuned_layers):
    with pytest.raises(ValueError, match="tuned_layers"):
        make_encoder_bottom("minilm", tuned_layers)


@pytest.mark.parametrize("words", [1, 9, 30, 70, 200])
def test_a_batch_is_cut_to_the_shortest_token_bucket_holding_its_longest_overview(words):
    import tensorflow as tf

    preprocessor, _ = load_encoder("minilm")
    features = trim_to_bucket(preprocessor(tf.constant(["short one", " ".join(["word"] * words)])))
    longest = int(np.asarray(features["padding_mask"]).sum(axis=1).max())
    length = features["token_ids"].shape[1]
    assert length in TOKEN_BUCKETS and all(value.shape[1] == length for value in features.values())
    assert length - 16 < longest <= length <= ENCODER_SEQUENCE_LENGTH


def test_padding_to_a_longer_bucket_changes_embeddings_by_round_off_only():
    encode = make_encoder_layer("minilm")
    long_text = " ".join(["a long overview about a family, a war and a journey home"] * 6)
    alone = np.asarray(encode(np.array([[text] for text in TEXTS])))  # 16 tokens
    beside_long = np.asarray(encode(np.array([[text] for text in [*TEXTS, long_text]])))[:3]  # 80 tokens
    np.testing.assert_allclose(alone, beside_long, atol=1e-6)

"""The pretrained encoder: what training caches and what serving computes must agree."""

from __future__ import annotations

import numpy as np
import pytest

from genre_models.encoders import (
    count_encoder_layers,
    embed_texts,
    encode_for_finetuning,
    make_encoder_bottom,
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

"""The Keras EfficientNet-Lite port (genre_models.image_encoder) against the original network.

tests/data/efficientnet_lite_reference.npz holds the PyTorch reference's pooled features and
ImageNet logits on fixed images (scripts/make_encoder_reference.py, run once with PyTorch in a
scratch environment). Tolerance: float32 through ~20 blocks of batch-normalised convolutions
differs by round-off only; 1e-3 absolute (features are O(1), logits O(10)) would catch any wrong
padding, epsilon, stride, transpose or residual, each of which moves them by 0.1 or more.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from genre_models.image_encoder import (
    VARIANTS,
    build_lite_classifier,
    list_blocks,
    read_torch_weights,
    read_weights,
    torch_layer_name,
)

REFERENCE = Path(__file__).parent / "data" / "efficientnet_lite_reference.npz"
# (variant, (height, width)) cases stored in the reference file.
CASES = (("lite0", (224, 224)), ("lite2", (260, 260)), ("lite2", (512, 256)))
TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE) as stored:
        return {key: stored[key] for key in stored.files}


@pytest.mark.parametrize(("variant", "size"), CASES, ids=[f"{v}_{h}x{w}" for v, (h, w) in CASES])
def test_port_reproduces_the_reference_features_and_logits(reference, variant, size):
    import keras

    key = f"{variant}_{size[0]}x{size[1]}"
    images = reference[f"{key}_images"].transpose(0, 2, 3, 1)
    classifier = build_lite_classifier(variant, size)
    features = keras.Model(classifier.inputs, classifier.get_layer("pool").output)
    np.testing.assert_allclose(np.asarray(features(images, training=False)), reference[f"{key}_features"], atol=TOLERANCE)
    logits = np.asarray(classifier(images, training=False))
    np.testing.assert_allclose(logits, reference[f"{key}_logits"], atol=TOLERANCE)
    # The poster's top ImageNet class is the reference's (the logits are not just close on average).
    assert logits[2].argmax() == reference[f"{key}_logits"][2].argmax()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_weight_of_the_package_is_used_once(variant):
    classifier = build_lite_classifier(variant)
    used = []
    for layer in classifier.layers:
        if layer.weights:
            name = torch_layer_name(layer.name)
            used += [f"{name}.{part}" for part in
                     {"Conv2D": ("weight",), "DepthwiseConv2D": ("weight",), "Dense": ("weight", "bias"),
                      "BatchNormalization": ("weight", "bias", "running_mean", "running_var")}[type(layer).__name__]]
    stored = {name for name in read_weights(variant) if not name.endswith("num_batches_tracked")}
    assert sorted(used) == sorted(stored)


def test_block_layout_matches_the_published_lite2_stages():
    blocks = list_blocks(VARIANTS["lite2"])
    # Lite2 deepens the middle stages by 1.2 (2 -> 3, 3 -> 4, 4 -> 5) and keeps the first and last at one block.
    assert len(blocks) == 1 + 3 + 3 + 4 + 4 + 5 + 1
    assert [blocks[0]["inputs"], blocks[0]["outputs"], blocks[-1]["outputs"]] == [32, 16, 352]


def test_reading_refuses_a_file_that_is_not_legacy_weights(tmp_path):
    damaged = tmp_path / "weights.pth"
    damaged.write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(ValueError, match="not a legacy PyTorch weights file"):
        read_torch_weights(damaged)

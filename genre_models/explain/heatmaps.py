"""Poster heatmaps for Grad-CAM: finding a poster network's last feature map and its sigmoid
output layer, upsampling a class-activation map to the poster as given, colouring and overlaying it,
and hiding pixels (the faithfulness check)."""

from __future__ import annotations

import numpy as np
from PIL import Image

# Heatmaps cover the whole poster at its own size, at most this many pixels on the longer side
# (same aspect): a 4000-pixel upload needs no 16-million-value heatmap.
MAX_HEATMAP_SIDE = 512


# Layers that keep a feature map's layout (one channel in, one channel out, same place): Grad-CAM
# reads the last convolution after these (its batch normalisation and activation).
ELEMENTWISE_LAYERS = ("BatchNormalization", "ReLU", "Activation", "LeakyReLU", "ELU", "PReLU", "Dropout",
                      "SpatialDropout2D", "GaussianDropout", "GaussianNoise")


CONVOLUTIONS = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")


def heatmap_size(rows: int, columns: int, max_side: int = MAX_HEATMAP_SIDE) -> tuple[int, int]:
    """Return the heatmap's (rows, columns) for a poster: its own size, scaled down (same aspect)
    so that the longer side is at most ``max_side``."""
    scale = min(1.0, max_side / max(rows, columns))
    return max(1, round(rows * scale)), max(1, round(columns * scale))


def upsample_heatmap(cam: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Return a non-negative coarse map resized (bilinear) to (rows, columns) and scaled to [0, 1]
    (all zeros when nothing in the poster raises the genre)."""
    cam = np.nan_to_num(np.maximum(np.asarray(cam, dtype=np.float32), 0.0))
    resized = np.asarray(Image.fromarray(cam, mode="F").resize((size[1], size[0]), Image.Resampling.BILINEAR))
    resized = np.maximum(resized, 0.0)
    peak = float(resized.max()) if resized.size else 0.0
    return (resized / peak if peak > 0 else np.zeros_like(resized)).astype(np.float32)


# A perceptually ordered colour scale for heat (dark blue -> cyan -> yellow -> red), as RGB anchors.
HEAT_COLOURS = np.array([[0, 0, 131], [0, 60, 255], [0, 220, 255], [120, 255, 120], [255, 230, 0],
                         [255, 90, 0], [200, 0, 0]], dtype=np.float32)


def heat_colours(heatmap: np.ndarray) -> np.ndarray:
    """Return the RGB colours (uint8) of heat values in [0, 1]."""
    positions = np.clip(np.asarray(heatmap, dtype=np.float32), 0, 1) * (len(HEAT_COLOURS) - 1)
    low = np.floor(positions).astype(int)
    high = np.minimum(low + 1, len(HEAT_COLOURS) - 1)
    fraction = (positions - low)[..., None]
    return np.round(HEAT_COLOURS[low] * (1 - fraction) + HEAT_COLOURS[high] * fraction).astype(np.uint8)


def overlay_heatmap(poster: np.ndarray, heatmap: np.ndarray, opacity: float) -> np.ndarray:
    """Return the poster (RGB uint8) with the heatmap's colours laid over it at an opacity in [0, 1]
    (the heatmap is resized to the poster when their sizes differ)."""
    poster = np.asarray(poster, dtype=np.uint8)[..., :3]
    if heatmap.shape != poster.shape[:2]:
        heatmap = np.asarray(Image.fromarray(heatmap.astype(np.float32), mode="F").resize(
            (poster.shape[1], poster.shape[0]), Image.Resampling.BILINEAR))
    opacity = float(np.clip(opacity, 0.0, 1.0))
    mixed = (1 - opacity) * poster.astype(np.float32) + opacity * heat_colours(heatmap).astype(np.float32)
    return np.clip(np.round(mixed), 0, 255).astype(np.uint8)


def hide_pixels(poster: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return a copy of the poster with the masked pixels filled with the poster's mean colour."""
    hidden = np.array(poster, copy=True)
    hidden[mask] = np.round(poster.reshape(-1, poster.shape[-1]).mean(axis=0)).astype(poster.dtype)
    return hidden


def find_feature_map(model):
    """Return the KerasTensor Grad-CAM reads: the output of the network's last convolution, after the
    batch normalisation / activation / dropout layers that directly follow it. Raise ValueError when
    the network has no 2-D convolution."""
    layers = list(model.layers)
    last = max((index for index, layer in enumerate(layers) if type(layer).__name__ in CONVOLUTIONS), default=None)
    if last is None:
        raise ValueError(f"{model.name} has no 2-D convolution layer to explain with Grad-CAM.")
    tensor = layers[last].output
    for layer in layers[last + 1:]:
        if type(layer).__name__ not in ELEMENTWISE_LAYERS or layer.input is not tensor:
            break
        tensor = layer.output
    return tensor


def sigmoid_dense_output(model):
    """Return the network's output layer when it is one sigmoid Dense layer (its pre-activation is
    the logit), else None."""
    import keras

    layer = model.layers[-1]
    if (len(model.outputs) == 1 and isinstance(layer, keras.layers.Dense) and layer.output is model.outputs[0]
            and getattr(layer.activation, "__name__", "") == "sigmoid"):
        return layer
    return None

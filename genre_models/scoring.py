"""Scoring: the one place a network is called for genre probabilities.

- ``make_network_call``: the call a single film goes through, traced by inference.GenrePredictor and
  by the Explainer, and the call the export's serving function wraps; ``make_shared_encoder_call`` the
  same for several models on one sentence encoder, whose shared frozen layers run once (course_lstm steps only to the
  batch's last real token, bit for bit the whole network's answer).
- ``score_inputs``: a batch of any size in chunks, with progress (splits, the CLI's ``predict``,
  fusion fitting, training's evaluation).
- ``score_split``: a split of a dataset with any model, a fusion from its parts; ``read_or_score_split``
  reads the split scores stored beside an artifact when they describe it and the data, and scores
  otherwise (the report, the Evaluate and Compare pages); ``record_split_scores`` writes them.

Every path to a probability comes through here, so the app, the CLI, the report, the explanations,
the stored split scores and the export give the same numbers by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from genre_models.artifacts import LoadedModel
from genre_models.config import ProgressCallback
from genre_models.dataset import MovieDataset
from genre_models.inputs import model_inputs_for, prepare_network_inputs, take_rows
from genre_models.split_scores import (
    STORED_SPLITS,
    ScoredSplit,
    read_split_scores,
    write_split_scores,
)

# Poster pixels a network reads per chunk at most (at the size it resizes to): 256 posters at 128x64, but 16
# at the pretrained encoder's 512x256.
PIXELS_PER_CHUNK = 256 * 128 * 64
# Attribute holding a network's traced batch call on the network itself, so the two live and die together
# (a mapping keyed by the network would keep it alive through the call's closure).
BATCH_CALL_ATTRIBUTE = "_genre_models_batch_call"


def trace_batch_call(model) -> Callable:
    """Return the network's batch call traced once (a tf.function over make_network_call).

    A Keras functional model called eagerly keeps every layer's output until the call ends: the
    pretrained poster encoder at 512x256 then held ~290 MB a poster (32 posters: 10 GB, 14.5 s);
    traced, TensorFlow frees each activation once used (32 posters: 1.6 GB, 1.9 s). Only the batch
    size varies between chunks, so reduce_retracing keeps it to one or two traces."""
    import tensorflow as tf

    call = getattr(model, BATCH_CALL_ATTRIBUTE, None)
    if call is None:
        call = tf.function(make_network_call(model), reduce_retracing=True)
        # Past Keras's attribute tracking: the call is a cache, not part of the model's state or weights.
        object.__setattr__(model, BATCH_CALL_ATTRIBUTE, call)
    return call


def count_pixels_read(model, given: tuple[int, int]) -> int:
    """Return how many pixels of each poster a network works on: the largest size it resizes to, or the
    poster's own size when it does not resize."""
    sizes = [layer.height * layer.width for layer in getattr(model, "layers", [])
             if type(layer).__name__ == "Resizing"]
    return max(1, *sizes) if sizes else max(1, int(given[0]) * int(given[1]))


def score_inputs(model, inputs, batch_size: int = 256, progress: ProgressCallback | None = None) -> np.ndarray:
    """Return the model's probabilities for a batch of same-shaped inputs (an array, or a dict of
    arrays for a model with several inputs), in chunks (fewer posters per chunk when they are
    large: PIXELS_PER_CHUNK), reporting progress per chunk."""
    import tensorflow as tf

    count = len(next(iter(inputs.values()))) if isinstance(inputs, dict) else len(inputs)
    if not isinstance(inputs, dict) and inputs.ndim == 4:
        batch_size = max(1, min(batch_size, PIXELS_PER_CHUNK // count_pixels_read(model, inputs.shape[1:3])))
    call = trace_batch_call(model)
    outputs = []
    for start in range(0, count, batch_size):
        chunk = prepare_network_inputs(take_rows(inputs, slice(start, start + batch_size)))
        outputs.append(np.asarray(call(tf.nest.map_structure(tf.constant, chunk))))
        if progress:
            progress(min(start + batch_size, count), count, "scoring films")
    if not outputs:
        return np.zeros((0, model.outputs[0].shape[-1]), dtype=np.float32)
    return np.concatenate(outputs).astype(np.float32)


def make_network_call(model) -> Callable:
    """Return ``call(x)``: the network's probabilities for a batch of its raw inputs, to be traced.

    A network that reads its overview as zero-padded token ids through a masking embedding, with only
    recurrent layers (given that mask) reading the token axis (course_lstm), is run on the tokens
    up to the batch's last real one: masked steps leave every recurrent state unchanged, so the
    probabilities are the same (bit for bit) while a 25-token overview no longer steps through 64.
    Every other network is called whole.
    """
    rest = split_after_token_ids(model)
    if rest is None:
        return lambda x: model(x, training=False)
    vectorize, rest = rest

    def call(x):
        import tensorflow as tf

        tokens = vectorize(x)
        positions = tf.range(1, tf.shape(tokens)[1] + 1, dtype=tf.int32)[None, :]
        last = tf.reduce_max(tf.where(tf.not_equal(tokens, 0), positions, 0))
        return rest(tokens[:, : tf.maximum(last, 1)], training=False)

    return call


def make_shared_encoder_call(name: str, wrapped: dict):
    """Return ``call(texts) -> {model name: probabilities}`` for several models built by
    encoders.wrap_with_encoder on the same encoder ({model name: (model, its encoder metadata)}), or None
    when fewer than two are given or one is not built that way.

    The tokens and every layer that all of them keep frozen run once instead of once per model;
    each model's head then reads what its own encoder layer would give it (minilm_mlp: the last
    layer's pooled states; minilm_tuned: the states entering its first tuned layer, the mask and
    the frozen layers' pooled states). The same layers compute the same values, so only float
    round-off can differ from calling each model whole.
    """
    import tensorflow as tf

    from genre_models.encoders import (
        FROZEN_POOLED_INPUT,
        MASK_INPUT,
        STATES_INPUT,
        load_encoder,
        run_frozen_layers,
    )

    _, backbone = load_encoder(name)
    heads = {}
    for model_name, (model, encoder) in wrapped.items():
        tuned_layers = int(encoder.get("tuned_layers") or 0)
        expected = f"{name}_frozen_bottom" if tuned_layers else f"{name}_encoder"
        if encoder.get("name") != name or len(model.layers) != 3 or model.layers[1].name != expected:
            return None
        heads[model_name] = (model.layers[2], int(backbone.num_layers) - tuned_layers)
    if len(heads) < 2:
        return None
    depth = max(frozen for _, frozen in heads.values())

    def call(texts):
        mask, states, pooled = run_frozen_layers(name, texts, depth)
        outputs = {}
        for model_name, (head, frozen) in heads.items():
            if frozen == backbone.num_layers:
                features = pooled[frozen - 1]
            else:
                features = {STATES_INPUT: states[frozen - 1], MASK_INPUT: tf.cast(mask, tf.int32),
                            FROZEN_POOLED_INPUT: tf.concat(pooled[:frozen], axis=-1)}
            outputs[model_name] = head(features, training=False)
        return outputs

    return call


def split_after_token_ids(model):
    """Return (token-id layer, the rest of the network as a model) when cutting trailing padding
    from the token ids cannot change the output (see make_network_call), else None.

    The network must read one overview through a TextVectorization layer (int ids, padded at the
    end with 0), and whatever reads the token axis must be a masking embedding (mask_zero), the
    mask itself (ids != 0), or a recurrent layer given that mask; its outputs have no token axis.
    """
    import keras

    try:
        config = model.get_config()
        operations = {operation.name: operation for operation in model.operations}
        vectorize = model.layers[1]
    except (AttributeError, NotImplementedError, IndexError, KeyError, TypeError):
        return None
    if (len(model.inputs) != 1 or not isinstance(vectorize, keras.layers.TextVectorization)
            or vectorize.get_config()["output_mode"] != "int"):
        return None
    token_axis = {vectorize.name}  # operations whose output has the token axis
    for layer_config in config["layers"]:
        operation = operations.get(layer_config["name"])
        if operation is vectorize or isinstance(operation, keras.layers.InputLayer):
            continue
        nodes = layer_config["inbound_nodes"]
        if operation is None or len(nodes) != 1:
            return None
        arguments = [*nodes[0]["args"], *nodes[0]["kwargs"].values()]
        sources = {argument["config"]["keras_history"][0] for argument in arguments
                   if isinstance(argument, dict) and "keras_history" in argument.get("config", {})}
        if not sources & token_axis:
            continue
        if isinstance(operation, keras.layers.Embedding) and operation.mask_zero:
            token_axis.add(operation.name)
        elif layer_config["class_name"] == "NotEqual" and list(nodes[0]["args"][1:]) == [0]:
            token_axis.add(operation.name)
        elif isinstance(operation, (keras.layers.Bidirectional, keras.layers.RNN)) and "mask" in nodes[0]["kwargs"]:
            if len(operation.output.shape) > 2:
                token_axis.add(operation.name)
        else:
            return None
    outputs = config["output_layers"]  # [name, node, tensor] for one output, a list of them for several
    if {output[0] for output in ([outputs] if isinstance(outputs[0], str) else outputs)} & token_axis:
        return None
    rest = keras.Model(vectorize.output, model.outputs)
    rest.input_spec = keras.InputSpec(shape=(None, None))  # any number of tokens
    return vectorize, rest


def score_dataset(loaded: LoadedModel, dataset: MovieDataset, progress: ProgressCallback | None = None) -> np.ndarray:
    """Return a network's probabilities for every film of a dataset (not for fusions)."""
    if loaded.is_fusion:
        raise ValueError("A fused model is scored from its parts' scores; use score_split.")
    return score_inputs(loaded.model, model_inputs_for(loaded.input_kind, dataset), progress=progress)


def score_split(predictor, name: str, dataset_for: Callable, split: str, score_part: Callable | None = None,
                progress: ProgressCallback | None = None) -> ScoredSplit:
    """Score a split of the dataset with any model of an inference.GenrePredictor, fused ones included,
    reporting ``progress(films done, films in total, what)`` after each chunk.

    ``dataset_for(image_size)`` returns the dataset loaded at a poster size (None: no posters);
    ``score_part(name)`` may supply a fusion's part scores (cached); without it the parts are scored
    here. Labels are taken in the model's genre order, by column name, whatever the order of the
    dataset's columns.
    """
    from genre_models.fusion import (
        fuse_split,  # fusion scores its parts through this module
    )

    loaded = predictor.get(name)
    if loaded.is_fusion:
        scorer = score_part or (lambda part: score_split(predictor, part, dataset_for, split, progress=progress))
        return fuse_split(loaded, [scorer(part) for part, _ in loaded.parts])
    dataset = dataset_for(loaded.image_size)
    subset = dataset.subset(dataset.split_indices(split))
    if progress:
        progress(0, subset.num_films, "scoring films")
    return ScoredSplit(subset.ids, subset.labels_for(loaded.genres), score_dataset(loaded, subset, progress),
                       list(loaded.genres))


def read_or_score_split(folder: Path, metadata: dict, split: str, fingerprint: str | None,
                        score: Callable[[], ScoredSplit]) -> tuple[ScoredSplit, bool]:
    """Return (an artifact's scores on a split, whether they were read rather than scored): its stored
    split scores when they describe this artifact (``metadata``) and the data with ``fingerprint``
    (split_scores.read_split_scores), else ``score()`` (a score_split call, which may load models)."""
    stored = read_split_scores(folder, metadata, split, fingerprint)
    return (stored, True) if stored is not None else (score(), False)


def record_split_scores(predictor, dataset_for: Callable, names: list[str] | None = None,
                        splits: tuple[str, ...] = STORED_SPLITS,
                        progress: Callable[[str, int, int, str], None] | None = None) -> dict[str, Path]:
    """Score ``splits`` with every loaded model (or the named ones) and write each model's
    split_scores.npz into its artifact folder; return {model: file}. Each network is scored once
    per split, fusions are fused from their parts' scores. ``progress(model, done, total, what)``."""
    fingerprint = dataset_for(None).fingerprint
    cache: dict[tuple[str, str], ScoredSplit] = {}

    def scored(name: str, split: str) -> ScoredSplit:
        if (name, split) not in cache:
            report = (lambda done, total, what: progress(name, done, total, f"{split}: {what}")) if progress else None
            cache[(name, split)] = score_split(
                predictor, name, dataset_for, split, score_part=lambda part: scored(part, split), progress=report)
        return cache[(name, split)]

    written = {}
    for name in names or predictor.model_names():
        loaded = predictor.get(name)
        written[name] = write_split_scores(loaded.folder, loaded.metadata,
                                           {split: scored(name, split) for split in splits}, fingerprint)
    return written

"""Serving export: a model as a TensorFlow SavedModel that plain TensorFlow loads and runs.

``export_model`` writes a folder that ``tf.saved_model.load`` reads without this project: its
``serve`` function (also the ``serving_default`` signature) takes the raw inputs, a uint8 poster
batch shaped (films, height, width, 3) and/or an overview string batch shaped (films, 1), and
returns the 25 genre probabilities (films, 25) in the genre order of ``export.json`` beside it,
which also records the thresholds. Written with Keras 3's export machinery (``model.export`` /
``keras.export.ExportArchive``, format ``tf_saved_model``):

- a network is exported whole, the models on a pretrained encoder with it (re-attached at load
  time by ``artifacts.load_network``) inside the graph; loading the MiniLM ones needs ``import
  tensorflow_text`` first, which registers the tokeniser's TensorFlow ops (the poster encoder
  needs nothing: it is stock layers);
- a fusion is exported as one graph running every part and summing their probabilities (or, for a
  fusion of log-odds, their clipped log-odds before one sigmoid) with the fusion's weights (what
  ``fusion.fuse_scores`` computes in the app).

The overview is cleaned in the graph as ``inputs.prepare_overview`` cleans it for the app
(invalid UTF-8 replaced, surrounding whitespace stripped, cut to MAX_OVERVIEW_CHARACTERS), so raw
text gets the app's probabilities; posters are taken already decoded to RGB uint8.
"""

from __future__ import annotations

import os
from pathlib import Path

from genre_models.artifacts import LoadedModel, load_all_artifacts
from genre_models.config import (
    COMBINE_LOGITS,
    COMBINE_PROBABILITIES,
    LOGIT_EPSILON,
    resolve_artifacts_dir,
)
from genre_models.fileio import write_folder_atomically, write_json_atomically
from genre_models.fusion import find_unusable_part
from genre_models.inputs import MAX_OVERVIEW_CHARACTERS, OVERVIEW, POSTER
from genre_models.metadata import collect_versions, utc_now

# Written beside saved_model.pb: what the exported function returns, in which order, and the thresholds.
EXPORT_INFO_FILE = "export.json"
SAVED_MODEL_FILE = "saved_model.pb"
# The one endpoint (and the serving_default signature).
ENDPOINT = "serve"


def load_for_export(name: str, root: str | os.PathLike | None = None,
                    overrides: dict[str, str] | None = None) -> tuple[LoadedModel, list[LoadedModel]]:
    """Return (the model, its parts in fusion order; [] for a network), or raise ValueError saying why not."""
    from genre_models.artifacts import read_artifact_metadata

    found, errors = read_artifact_metadata(Path(root) if root else None, overrides)
    by_name = {metadata["name"]: metadata for metadata in found}
    if name not in by_name:
        reason = f" ({errors[name]})" if name in errors else ""
        raise ValueError(f"No usable model named {name!r}{reason}; available: {', '.join(sorted(by_name)) or 'none'}.")
    part_names = [part["name"] for part in by_name[name].get("components", [])]
    loaded, load_errors = load_all_artifacts(Path(root) if root else None, [name, *part_names], overrides)
    if load_errors:
        raise ValueError("; ".join(load_errors.values()))
    loaded_by_name = {model.name: model for model in loaded}
    model = loaded_by_name[name]
    problem = find_unusable_part(model, loaded_by_name) if model.is_fusion else None
    if problem:
        raise ValueError(f"{name} cannot be exported: {problem}.")
    return model, [loaded_by_name[part] for part in part_names]


def clean_overviews(overviews):
    """Return a (films, 1) string batch cleaned as inputs.prepare_overview cleans one overview:
    invalid UTF-8 replaced, surrounding whitespace stripped, cut to MAX_OVERVIEW_CHARACTERS."""
    import tensorflow as tf

    text = tf.strings.unicode_transcode(overviews, "UTF-8", "UTF-8", errors="replace")
    return tf.strings.substr(tf.strings.strip(text), 0, MAX_OVERVIEW_CHARACTERS, unit="UTF8_CHAR")


def make_input_specs(kinds: list[str]) -> list:
    """Return the TensorSpecs of the raw inputs, in the endpoint's argument order (poster first)."""
    import tensorflow as tf

    specs = {POSTER: tf.TensorSpec([None, None, None, 3], tf.uint8, name=POSTER),
             OVERVIEW: tf.TensorSpec([None, 1], tf.string, name=OVERVIEW)}
    return [specs[kind] for kind in (POSTER, OVERVIEW) if kind in kinds]


def make_serving_function(networks: list[tuple[LoadedModel, float]], kinds: list[str],
                          combine: str = COMBINE_PROBABILITIES):
    """Return ``serve(*raw inputs) -> (films, genres) probabilities``: the weighted sum of the
    networks' probabilities, or the sigmoid of the weighted sum of their log-odds for
    ``combine="logits"`` (one network with weight 1 for a network's own export)."""
    import tensorflow as tf

    def log_odds(probabilities):
        # float64 as fusion.compute_log_odds computes it: float32 cannot hold 1 - 1e-6 closely enough.
        clipped = tf.clip_by_value(tf.cast(probabilities, tf.float64), LOGIT_EPSILON, 1.0 - LOGIT_EPSILON)
        return tf.math.log(clipped) - tf.math.log1p(-clipped)

    from genre_models.scoring import make_network_call

    calls = [(loaded, weight, make_network_call(loaded.model)) for loaded, weight in networks]

    def probabilities(inputs: dict):
        if OVERVIEW in inputs:
            inputs = {**inputs, OVERVIEW: clean_overviews(inputs[OVERVIEW])}
        total = None
        for loaded, weight, call in calls:
            # tfidf_logreg's output carries an extra axis of 1: every network returns (films, genres) here.
            scores = tf.reshape(call(inputs[loaded.input_kind]), [-1, len(loaded.genres)])
            if len(networks) > 1:
                scores = weight * (log_odds(scores) if combine == COMBINE_LOGITS else scores)
            total = scores if total is None else total + scores
        return tf.cast(tf.sigmoid(total), tf.float32) if len(networks) > 1 and combine == COMBINE_LOGITS else total

    if kinds == [POSTER, OVERVIEW]:
        return lambda poster, overview: probabilities({POSTER: poster, OVERVIEW: overview})
    if kinds == [POSTER]:
        return lambda poster: probabilities({POSTER: poster})
    return lambda overview: probabilities({OVERVIEW: overview})


def describe_export(model: LoadedModel, parts: list[LoadedModel], kinds: list[str]) -> dict:
    """Return export.json's content: the model, its inputs and output, genres and thresholds, parts."""
    # Only a sentence encoder's tokeniser has ops of its own; the poster encoder is stock layers.
    needs_text_ops = any(network.metadata.get("encoder") and network.input_kind == OVERVIEW
                         for network in (parts or [model]))
    return {
        "model": model.name,
        "created_at": model.metadata.get("created_at"),
        "exported_at": utc_now(),
        "endpoint": ENDPOINT,
        "signature": "serving_default",
        "inputs": {kind: ("uint8 RGB posters, (films, height, width, 3), any size (one size per batch)"
                          if kind == POSTER else "overview strings, (films, 1)") for kind in kinds},
        "output": f"float32 probabilities, (films, {len(model.genres)}), in the order of 'genres'",
        "genres": list(model.genres),
        "thresholds": [float(value) for value in model.thresholds],
        "threshold_policy": model.metadata["thresholds"].get("policy", "per_genre"),
        "parts": [{"name": part.name, "weight": weight} for part, (_, weight) in zip(parts, model.parts)],
        "combine": model.combine if model.is_fusion else None,
        "load_with": ("import tensorflow as tf, tensorflow_text; model = tf.saved_model.load(DIR)"
                      if needs_text_ops else "import tensorflow as tf; model = tf.saved_model.load(DIR)"),
        "requires": ["tensorflow", "tensorflow-text"] if needs_text_ops else ["tensorflow"],
        "versions": collect_versions(),
    }


def check_export_folder(out_dir: Path) -> None:
    """Refuse an output that is not a new folder, an empty one, or an earlier export (replaced whole)."""
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise ValueError(f"--out {out_dir} is not a folder; give a new or empty folder (or an earlier export).")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (
            (out_dir / SAVED_MODEL_FILE).is_file() and (out_dir / EXPORT_INFO_FILE).is_file()):
        raise ValueError(f"--out {out_dir} holds other files; give a new or empty folder (or an earlier export, "
                         "which is replaced).")


def export_model(name: str, out_dir: str | os.PathLike, root: str | os.PathLike | None = None,
                 overrides: dict[str, str] | None = None) -> dict:
    """Export an installed model (``root``: the artifacts folder, default the configured one) as a
    SavedModel in ``out_dir`` (swapped in whole); return what export.json records."""
    import keras

    out_dir = Path(out_dir)
    check_export_folder(out_dir)
    model, parts = load_for_export(name, root or resolve_artifacts_dir(), overrides)
    networks = list(zip(parts, [weight for _, weight in model.parts])) if model.is_fusion else [(model, 1.0)]
    kinds = [kind for kind in (POSTER, OVERVIEW) if kind in model.input_kinds]
    archive = keras.export.ExportArchive()
    for network, _ in networks:
        archive.track(network.model)
    archive.add_endpoint(ENDPOINT, make_serving_function(networks, kinds, model.combine),
                         input_signature=make_input_specs(kinds))
    info = describe_export(model, parts, kinds)
    with write_folder_atomically(out_dir) as staging:
        # write_out makes its own folder: it refuses the staging folder made for it.
        staging.rmdir()
        archive.write_out(str(staging), verbose=False)
        write_json_atomically(staging / EXPORT_INFO_FILE, info)
    return {**info, "path": str(out_dir)}

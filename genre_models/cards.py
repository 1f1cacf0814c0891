"""Model cards: a README.md in every artifact folder, generated from its metadata.json.

A card says what the model takes and returns, its genres and thresholds, the data and split it was
trained and tuned on, its test figures beside the baselines (``baselines.json`` next to the
artifact folders), its intended use and limits, and how to load it. Every figure on a card is read
from the metadata, never typed: ``artifacts.publish_artifact`` writes the card with the artifact,
and ``python -m genre_models cards`` rewrites the cards of installed artifacts after anything edits
their metadata (a threshold retune). The card records the SHA-256 of the metadata it was made from,
so a stale card is detectable (tests/test_cards.py).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from genre_models.config import COMBINE_LOGITS, LOGIT_EPSILON, resolve_artifacts_dir
from genre_models.fileio import read_json, write_bytes_atomically
from genre_models.inputs import BOTH, MAX_OVERVIEW_CHARACTERS, OVERVIEW, POSTER
from genre_models.metadata import MetadataError, validate_metadata

CARD_FILE = "README.md"
BASELINES_FILE = "baselines.json"
# (column header, metrics key) of the figures tables, in the README's order.
CARD_METRICS = (
    ("micro-F1", "micro_f1"), ("macro-F1", "macro_f1"), ("samples-F1", "samples_f1"),
    ("micro AP", "micro_average_precision"), ("macro AP", "macro_average_precision"),
    ("precision@3", "precision_at_3"), ("recall@3", "recall_at_3"),
)
# Test genres with fewer positive films than this get a "too few to judge" warning on the card.
FEW_TEST_FILMS = 10
# Marker line that starts the machine-checkable provenance of a card.
SOURCE_PREFIX = "<!-- generated from metadata.json sha256="


def hash_metadata(metadata: dict) -> str:
    """Return the SHA-256 of the metadata's canonical JSON (sorted keys): what a card was made from."""
    return hashlib.sha256(json.dumps(metadata, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def format_figure(value) -> str:
    """Three decimals, or n/a for a figure the metadata does not record."""
    return "n/a" if value is None else f"{value:.3f}"


def format_count(value) -> str:
    """A count with thousands separators; anything else (a hand-edited field) as it is."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def format_threshold(value: float) -> str:
    """A threshold as stored (thresholds are chosen on a 0.01 grid; no rounding hides a change)."""
    return f"{float(value):g}"


def locate_baselines(folder: str | os.PathLike) -> Path | None:
    """Return the baselines.json that goes with an artifact folder: beside it, else in the
    configured artifacts folder; None when there is none."""
    for candidate in (Path(folder).parent / BASELINES_FILE, resolve_artifacts_dir() / BASELINES_FILE):
        if candidate.is_file():
            return candidate
    return None


def read_baselines(folder: str | os.PathLike) -> dict:
    """Return {baseline name: its record} for an artifact folder ({} when none is recorded)."""
    path = locate_baselines(folder)
    content = read_json(path) if path else None
    return {name: record for name, record in (content or {}).items() if isinstance(record, dict)}


def describe_inputs(metadata: dict) -> list[str]:
    """Return the card's lines on what the model reads and what it returns."""
    recipe = metadata.get("recipe") or {}
    encoder = metadata.get("encoder")
    lines = []
    if "components" in metadata:
        parts = ", ".join(f"{part['name']} ({part.get('input_kind', '?')}) x {part['weight']:g}"
                          for part in metadata["components"])
        needs = {POSTER: "a poster", OVERVIEW: "an overview", BOTH: "a poster and an overview"}[metadata["input_kind"]]
        how = ("the sigmoid of the weighted sum of its parts' log-odds (probabilities clipped to "
               f"[{LOGIT_EPSILON:g}, 1 - {LOGIT_EPSILON:g}] first)" if recipe.get("combine") == COMBINE_LOGITS
               else "the weighted sum of its parts' probabilities")
        lines.append(f"- **Takes** {needs}: it has no network of its own; its probabilities are {how}: "
                     f"{parts}. Every part must be installed, unchanged since the "
                     "weights were fitted (its `created_at` is recorded), or the fusion is skipped with the command "
                     "that refits it.")
    elif metadata["input_kind"] == POSTER and encoder:
        height, width = encoder.get("image_size") or ("?", "?")
        lines.append(f"- **Takes** a poster: a uint8 RGB image of any size, a batch shaped (films, height, width, 3). "
                     f"It goes through the pretrained {encoder['name']} encoder (package `{encoder.get('package')}` "
                     f"{encoder.get('version', '')}, ImageNet weights), which resizes it to {height}x{width} "
                     "(bilinear), scales it as (x - 127) / 128 and pools its last feature map (global average); the "
                     "encoder stays frozen and comes from the installed package when the artifact is loaded (it is "
                     "not in this folder).")
    elif metadata["input_kind"] == POSTER:
        height, width = recipe.get("image_size") or ("?", "?")
        lines.append(f"- **Takes** a poster: a uint8 RGB image of any size, a batch shaped (films, height, width, 3); "
                     f"the network resizes it to {height}x{width} (bilinear) and scales it to [0, 1] itself.")
    elif encoder:
        tuned = int(encoder.get("tuned_layers") or 0)
        lines.append(f"- **Takes** an overview: a raw string, a batch shaped (films, 1). The text goes through the "
                     f"pretrained {encoder['name']} encoder (package `{encoder.get('package')}` "
                     f"{encoder.get('version', '')}, first {encoder.get('sequence_length')} tokens, pooling: "
                     f"{encoder.get('pooling')}), "
                     + (f"whose top {tuned} transformer layers were fine-tuned and are stored here; the frozen "
                        "bottom layers" if tuned else "which stays frozen and")
                     + " come from the installed package when the artifact is loaded (they are not in this folder).")
    else:
        lines.append(f"- **Takes** an overview: a raw string, a batch shaped (films, 1); the network tokenises it "
                     f"itself (vocabulary {recipe.get('vocabulary_size')}, "
                     + ("TF-IDF of uni- and bigrams)." if "tfidf" in metadata["name"]
                        else f"first {recipe.get('sequence_length')} tokens)."))
    lines.append(f"- **Returns** {len(metadata['genres'])} probabilities, one independent sigmoid per genre in the "
                 "order below (several genres may apply). A genre is *predicted* when its probability reaches its "
                 "threshold.")
    if metadata["input_kind"] in (OVERVIEW, BOTH):
        lines.append(f"- The app and the CLI strip the overview and cut it to its first {MAX_OVERVIEW_CHARACTERS:,} "
                     "characters before the model sees it.")
    if metadata["input_kind"] in (POSTER, BOTH):
        lines.append("- The app and the CLI decode a poster file (JPEG, PNG or WebP) to RGB, EXIF orientation "
                     "honoured, before the model sees it.")
    return lines


def describe_thresholds(metadata: dict) -> list[str]:
    """Return the card's lines on the threshold policy."""
    thresholds = metadata["thresholds"]
    policy = thresholds.get("policy", "per_genre")
    lines = [f"- Policy: **{policy.replace('_', '-')}**"
             + (f" (one threshold, {format_threshold(thresholds['global'])}, for every genre)." if policy == "global"
                else f"; the global fallback threshold is {format_threshold(thresholds['global'])}.")]
    if thresholds.get("policy_note"):
        lines.append(f"- How they were chosen: {thresholds['policy_note']}.")
    retuned = thresholds.get("retuned")
    if isinstance(retuned, dict):
        lines.append(f"- Re-chosen from the stored validation scores on {str(retuned.get('at', ''))[:10]} by "
                     f"`{retuned.get('command', '?')}` (previous policy: {retuned.get('previous_policy', '?')}).")
    return lines


def describe_data(metadata: dict) -> list[str]:
    """Return the card's lines on the training data, the split and the training run."""
    data = metadata.get("data") or {}
    training = metadata.get("training") or {}
    sizes = data.get("split_sizes") or {}
    report = data.get("load_report") or {}
    lines = [
        f"- Dataset: `{data.get('folder_name', '?')}`, {format_count(data.get('films', '?'))} films, data fingerprint "
        f"`{data.get('fingerprint', '?')}`.",
        f"- Split rule (by film Id alone, so adding films never moves another): `{data.get('split_rule', '?')}`.",
        "- Split sizes: " + ", ".join(f"{name} {format_count(count)}" for name, count in sizes.items()) + ". Weights, thresholds "
        "and checkpoints were chosen on validation; the test split was evaluated once, by the training command.",
    ]
    dropped = report.get("dropped") or {}
    if dropped:
        lines.append("- Dropped while loading: " + "; ".join(f"{details.get('count')} film(s): {reason}"
                                                              for reason, details in dropped.items()) + ".")
    if report.get("empty_genres"):
        lines.append(f"- Genres with no positive film anywhere in the data (kept in the output, never learned): "
                     f"{', '.join(report['empty_genres'])}.")
    lines.append(f"- Command: `{metadata.get('command', '?')}` (seed {metadata.get('seed', '?')}).")
    run = [f"{training['epochs_run']} epochs run" if training.get("epochs_run") else "no epochs (weights fitted)",
           f"best epoch {training['best_epoch']}" if training.get("best_epoch") else None,
           f"{training['seconds'] / 60:.1f} min" if isinstance(training.get("seconds"), (int, float)) else None]
    lines.append("- Training: " + ", ".join(item for item in run if item) + f"; created {metadata.get('created_at')}.")
    versions = metadata.get("versions") or {}
    lines.append("- Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()) + ".")
    return lines


def tabulate_figures(metadata: dict, baselines: dict) -> list[str]:
    """Return the test (and validation) figures beside the baselines' test figures, as a Markdown table."""
    metrics = metadata.get("metrics") or {}
    test = metrics.get("test") or {}
    header = "| rows | films | " + " | ".join(title for title, _ in CARD_METRICS) + " | micro-F1 (one global threshold) |"
    lines = [header, "|" + "---|" * (len(CARD_METRICS) + 3)]
    lines.append(f"| test | {test.get('films', 'n/a')} | "
                 + " | ".join(format_figure(test.get(key)) for _, key in CARD_METRICS)
                 + f" | {format_figure(test.get('global_threshold_micro_f1'))} |")
    validation = metrics.get("validation") or {}
    if validation:
        lines.append(f"| validation (thresholds tuned here) | {validation.get('films', 'n/a')} | "
                     + " | ".join(format_figure(validation.get(key)) for _, key in CARD_METRICS) + " | |")
    fingerprint = (metadata.get("data") or {}).get("fingerprint")
    for name, record in baselines.items():
        baseline_test = (record.get("metrics") or {}).get("test") or {}
        always = " + ".join(record.get("predicts_always") or [])
        same = "" if record.get("data_fingerprint") in (None, fingerprint) else ", other data"
        lines.append(f"| baseline {name}{f' (always {always})' if always else ''}{same}, test | "
                     f"{baseline_test.get('films', 'n/a')} | "
                     + " | ".join(format_figure(baseline_test.get(key)) for _, key in CARD_METRICS)
                     + f" | {format_figure(baseline_test.get('micro_f1'))} |")
    return lines


def tabulate_genres(metadata: dict) -> list[str]:
    """Return every genre in output order with its threshold and its test figures, as a Markdown table."""
    per_genre = ((metadata.get("metrics") or {}).get("test") or {}).get("per_genre") or {}
    lines = ["| # | genre | threshold | test films | precision | recall | F1 | AP |", "|---|---|---|---|---|---|---|---|"]
    for index, (genre, threshold) in enumerate(zip(metadata["genres"], metadata["thresholds"]["per_genre"])):
        row = per_genre.get(genre) or {}
        lines.append(f"| {index} | {genre} | {format_threshold(threshold)} | {row.get('support', 'n/a')} | "
                     + " | ".join(format_figure(row.get(key)) for key in ("precision", "recall", "f1",
                                                                          "average_precision")) + " |")
    return lines


def describe_limits(metadata: dict, baselines: dict) -> list[str]:
    """Return the card's intended use and limits, the model-specific ones read from its figures."""
    test = (metadata.get("metrics") or {}).get("test") or {}
    per_genre = test.get("per_genre") or {}
    lines = ["- Intended use: teaching and research on multi-label genre classification of the Multimodal IMDB "
             "dataset (English one-sentence IMDb overviews, 150x300 posters); comparing models on the same "
             "held-out films. Not for decisions about people, and not validated on other catalogues: re-tune "
             "the thresholds on validation data of the new distribution before trusting the predicted sets."]
    reads_poster = metadata["input_kind"] in (POSTER, BOTH)
    if metadata["input_kind"] == POSTER:
        lines.append(f"- **Posters carry little genre signal** for a CNN trained from scratch on a few thousand "
                     f"films: test macro AP {format_figure(test.get('macro_average_precision'))}. Use it beside an "
                     "overview model or a fusion, not alone.")
    elif reads_poster:
        lines.append("- Posters carry little genre signal: the poster part moves the fused probabilities only a "
                     "little; without an overview use a text model or expect poster-model quality.")
    frequency = (baselines.get("genre_frequency") or {}).get("metrics", {}).get("test", {})
    if frequency.get("micro_f1") is not None and test.get("micro_f1") is not None:
        margin = test["micro_f1"] - frequency["micro_f1"]
        lines.append(f"- Test micro-F1 is {margin:+.3f} against always answering the most common genres "
                     f"({format_figure(frequency['micro_f1'])})"
                     + ("; little better than that baseline." if margin < 0.05 else "."))
    rare = sorted(genre for genre, row in per_genre.items() if 0 < (row.get("support") or 0) < FEW_TEST_FILMS)
    if rare:
        lines.append(f"- Fewer than {FEW_TEST_FILMS} test films (their per-genre figures are noisy): {', '.join(rare)}.")
    never = sorted(genre for genre, row in per_genre.items() if (row.get("support") or 0) > 0
                   and (row.get("confusion") or {}).get("tp", 0) == 0)
    if never:
        lines.append(f"- Never correctly predicted on the test split at its threshold: {', '.join(never)}.")
    return lines


def describe_loading(metadata: dict) -> list[str]:
    """Return the card's lines on loading the model with the project, with plain Keras and for serving."""
    name = metadata["name"]
    sample = ("poster=open('poster.jpg', 'rb').read()" if metadata["input_kind"] == POSTER
              else "overview='A detective hunts a killer.'" if metadata["input_kind"] == OVERVIEW
              else "poster=open('poster.jpg', 'rb').read(), overview='A detective hunts a killer.'")
    lines = ["With the project (what the app and the CLI do):", "", "```python",
             "from genre_models.inference import GenrePredictor",
             "", f"predictor = GenrePredictor.from_artifacts(names={sorted({name, *(p['name'] for p in metadata.get('components', []))})!r})",
             f"answer = predictor.predict({sample})",
             f"print([p for p in answer.predictions if p.model == {name!r}])",
             "```", "",
             f"or `python -m genre_models predict --model {name} --data-dir FOLDER --out predictions.jsonl`.", ""]
    if "components" in metadata:
        lines.append("With plain Keras: a fusion has no network; load each part's `model.keras` and combine "
                     "their probabilities as above. For serving without the project, "
                     f"`python -m genre_models export --model {name} --out DIR` writes one TensorFlow SavedModel "
                     "that runs every part and fuses them.")
    elif metadata.get("encoder"):
        lines.append("With plain Keras, `keras.models.load_model('model.keras', compile=False)` gives only the stored "
                     "network, which reads the encoder's outputs, not text; the project puts the encoder back in "
                     "front (`genre_models.encoders.wrap_with_encoder`). For serving without the project, "
                     f"`python -m genre_models export --model {name} --out DIR` writes the whole network, encoder "
                     "included, as a TensorFlow SavedModel (load it after `import tensorflow_text`, which registers "
                     "the tokeniser's ops).")
    else:
        batch = ("np.asarray(poster_rgb_uint8)[None]" if metadata["input_kind"] == POSTER
                 else "np.array([['A detective hunts a killer.']], dtype=object)")
        lines += ["With plain Keras (no project code needed; preprocessing is inside the network):", "", "```python",
                  "import keras", "import numpy as np", "",
                  f"model = keras.models.load_model('artifacts/{name}/model.keras', compile=False)",
                  f"probabilities = np.asarray(model({batch})).reshape(-1, {len(metadata['genres'])})",
                  "```", "",
                  f"For serving, `python -m genre_models export --model {name} --out DIR` writes a TensorFlow "
                  "SavedModel (`tf.saved_model.load(DIR).serve(...)`)."]
    return lines


def render_model_card(metadata: dict, baselines: dict | None = None) -> str:
    """Return the Markdown model card of an artifact from its metadata and the recorded baselines."""
    baselines = baselines or {}
    name = metadata["name"]
    sections = [
        f"# Model card: {name}", "",
        SOURCE_PREFIX + hash_metadata(metadata) + " -->",
        f"*Generated from `metadata.json` (created {metadata.get('created_at')}) by `python -m genre_models cards`; "
        "publishing an artifact rewrites it. Do not edit by hand: edits are lost, and a card that no longer matches "
        "its metadata fails `tests/test_cards.py`.*", "",
        metadata.get("description", ""), "",
        "## What it takes and returns", "", *describe_inputs(metadata), "",
        "## Test figures beside the baselines", "",
        f"Test split, {len(metadata['genres'])} genres, macro figures over the "
        f"{((metadata.get('metrics') or {}).get('test') or {}).get('genres_with_positives', 'n/a')} genres with "
        "positive test films; thresholds as below.", "",
        *tabulate_figures(metadata, baselines), "",
        "## Genres and thresholds", "", *describe_thresholds(metadata), "", *tabulate_genres(metadata), "",
        "## Training data and split", "", *describe_data(metadata), "",
        "## Intended use and limits", "", *describe_limits(metadata, baselines), "",
        "## How to load it", "", *describe_loading(metadata), "",
        "## Files", "",
        "- `metadata.json`: everything above and more (config, recipe, every figure); `history.json`: per-epoch "
        "training figures; `split_scores.npz`: validation and test probabilities (what the app's pages read)"
        + ("." if "components" in metadata else "; `model.keras`: the network."),
    ]
    return "\n".join(sections) + "\n"


def write_model_card(folder: str | os.PathLike, metadata: dict, baselines: dict | None = None) -> Path:
    """Write an artifact folder's README.md from its metadata (atomically); return its path.
    ``baselines`` defaults to the baselines.json that goes with the folder."""
    folder = Path(folder)
    text = render_model_card(metadata, read_baselines(folder) if baselines is None else baselines)
    path = folder / CARD_FILE
    write_bytes_atomically(path, lambda handle: handle.write(text.encode("utf-8")))
    return path


def write_installed_cards(folders: dict[str, Path]) -> tuple[dict[str, Path], dict[str, str]]:
    """Rewrite the card of every artifact folder ({model name: folder}, e.g. artifacts.list_artifact_folders());
    return ({name: card written}, {name: why its card was not written})."""
    written, errors = {}, {}
    for name, folder in folders.items():
        # artifacts.METADATA_FILE; not imported, as artifacts imports this module to write cards on publish.
        metadata = read_json(Path(folder) / "metadata.json")
        try:
            validate_metadata(metadata, name)
        except MetadataError as error:
            errors[name] = str(error)
            continue
        written[name] = write_model_card(folder, metadata)
    return written, errors

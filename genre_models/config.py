"""Typed settings for data, models and training.

Only the CLI parses arguments; everything else receives these dataclasses.
Paths that users may change come from environment variables so that the
Streamlit app, the tests and CI all see the same setting.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# The repository root: artifacts and caches live beside the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Environment variable naming the dataset folder (or zip) everywhere but the CLI.
DATA_DIR_ENV = "GENRE_DATA_DIR"
# Where the dataset is looked for when nothing is configured.
DEFAULT_DATA_DIR = Path("data/Multimodal_IMDB_dataset")
# Environment variable overriding the shipped-artifacts folder (tests point it at a temp dir).
ARTIFACTS_DIR_ENV = "GENRE_ARTIFACTS_DIR"
# Environment variable overriding where decoded posters and extracted zips are cached.
CACHE_DIR_ENV = "GENRE_CACHE_DIR"

# Reports progress of a long step as (done, total, what is being done).
ProgressCallback = Callable[[int, int, str], None]

# Environment variable making a shared deployment read-only: no training, no promote/restore/delete
# of runs, no dataset import (accepts 1/true/yes/on or 0/false/no/off; anything else counts as on).
READ_ONLY_ENV = "GENRE_READ_ONLY"
# Older setting that turns in-browser training off; a false value makes the deployment read-only too.
TRAINING_ENABLED_ENV = "GENRE_TRAINING_ENABLED"
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")

# File names of the course dataset format.
CSV_NAME = "IMDB_overview_genres.csv"
IMAGES_DIR_NAME = "Images"


def resolve_data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Return the configured dataset location: explicit value, then env var, then default."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get(DATA_DIR_ENV, "").strip()
    if from_env:
        return Path(from_env).expanduser()
    # Relative to the project, so the app finds it whatever the working directory.
    return PROJECT_ROOT / DEFAULT_DATA_DIR


def read_only_reason() -> str | None:
    """Return why this deployment is read-only (None when it is not), from READ_ONLY_ENV and
    TRAINING_ENABLED_ENV; a value that is not a clear yes/no fails safe: read-only, saying why."""
    # (variable, the words that make the deployment read-only, the words that leave it writable, the reason)
    switches = ((READ_ONLY_ENV, TRUE_WORDS, FALSE_WORDS, "this deployment is read-only ({}={})"),
                (TRAINING_ENABLED_ENV, FALSE_WORDS, TRUE_WORDS,
                 "training and every change to shared state are turned off ({}={})"))
    for variable, read_only_words, writable_words, reason in switches:
        value = os.environ.get(variable, "").strip().lower()
        if value in read_only_words:
            return reason.format(variable, value)
        if value and value not in writable_words:
            return (f"{variable}={value!r} is not a yes/no value (use 1 or 0), so the deployment stays "
                    "read-only to be safe")
    return None


def resolve_artifacts_dir() -> Path:
    """Return the folder holding shipped models (env override for tests)."""
    from_env = os.environ.get(ARTIFACTS_DIR_ENV, "").strip()
    return Path(from_env).expanduser() if from_env else PROJECT_ROOT / "artifacts"


def resolve_cache_dir() -> Path:
    """Return the cache folder for decoded posters and extracted datasets."""
    from_env = os.environ.get(CACHE_DIR_ENV, "").strip()
    return Path(from_env).expanduser() if from_env else PROJECT_ROOT / ".cache"


@dataclass(frozen=True)
class SplitConfig:
    """How films are assigned to train/validation/test, from their Id alone."""

    # Percent of the 100 hash buckets that go to training.
    train_percent: int = 80
    # Percent of the buckets that go to validation; the rest is the test split.
    validation_percent: int = 10

    def describe(self) -> str:
        """Return the split rule in words, for metadata and the UI."""
        validation_end = self.train_percent + self.validation_percent
        return (
            "bucket = int(sha256(Id).hexdigest(), 16) % 100; "
            f"train if bucket < {self.train_percent}, "
            f"validation if bucket < {validation_end}, test otherwise"
        )


@dataclass(frozen=True)
class ZipLimits:
    """Bounds on what a dataset zip may unpack to (zip-bomb protection)."""

    # Largest total uncompressed size accepted, in bytes (the real dataset is ~140 MB).
    max_total_bytes: int = 2 * 1024**3
    # Largest number of entries accepted (the real dataset has ~5,300 files).
    max_entries: int = 100_000
    # Largest compression ratio of a single entry before it is treated as a bomb.
    max_compression_ratio: float = 200.0


@dataclass(frozen=True)
class SettingLimit:
    """The accepted range of one training setting: the worker refuses a value outside it and the Train
    page's widget offers only values inside it."""

    # What the setting is called in a refusal.
    label: str
    # Smallest accepted value.
    low: float
    # Largest accepted value.
    high: float = math.inf
    # Whether only whole numbers are accepted.
    integer: bool = False

    def check(self, value) -> None:
        """Raise ValueError unless ``value`` is a finite number in [low, high] (and whole, if asked)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not self.low <= value <= self.high or (self.integer and value != int(value)):
            bounds = f"at least {self.low:g}" if self.high == math.inf else f"between {self.low:g} and {self.high:g}"
            raise ValueError(f"The {self.label} must be a {'whole ' if self.integer else ''}number {bounds}; "
                             f"got {value!r}.")


# The one set of limits of the training settings a user chooses (TrainConfig's fields and the recipe fields
# they override; image_size applies to each side). The worker checks them (check_training_settings) and the
# Train page's widgets read them. Every registry recipe's default lies inside.
TRAINING_LIMITS = {
    "epochs": SettingLimit("number of epochs", 1, 1000, integer=True),
    "batch_size": SettingLimit("batch size", 1, 1024, integer=True),
    "learning_rate": SettingLimit("learning rate", 1e-7, 1.0),
    "patience": SettingLimit("early-stopping patience", 0, 1000, integer=True),
    "seed": SettingLimit("seed", 0, 2**31 - 1, integer=True),
    "train_fraction": SettingLimit("share of training data", 0.01, 1.0),
    "image_size": SettingLimit("image size", 8, 512, integer=True),
    "vocabulary_size": SettingLimit("vocabulary size", 10, 200_000, integer=True),
    "sequence_length": SettingLimit("sequence length", 1, 512, integer=True),
}


def check_training_settings(settings: dict) -> None:
    """Raise ValueError naming the first setting outside TRAINING_LIMITS (None means the recipe's default;
    names without a limit are not checked here)."""
    for name, value in settings.items():
        if value is None or name not in TRAINING_LIMITS:
            continue
        sides = value if name == "image_size" and isinstance(value, (tuple, list)) else [value]
        if name == "image_size" and len(sides) != 2:
            raise ValueError(f"The image size must be two whole numbers (height, width); got {value!r}.")
        for side in sides:
            TRAINING_LIMITS[name].check(side)


# The tf.distribute strategies TrainConfig.distribute accepts.
DISTRIBUTE_CHOICES = ("none", "mirrored", "multi-worker")


@dataclass
class TrainConfig:
    """Everything that determines a training run; recorded in the artifact metadata."""

    # Registry name of the model to train (see genre_models.models.MODEL_REGISTRY).
    model_name: str
    # Dataset folder or zip in the course format.
    data_dir: str = str(DEFAULT_DATA_DIR)
    # Maximum number of epochs (early stopping may end sooner); None = the model's default.
    epochs: int | None = None
    # Mini-batch size; None = the model's default.
    batch_size: int | None = None
    # Initial Adam learning rate; None = the model's default.
    learning_rate: float | None = None
    # Seed for weight initialisation, shuffling and sub-sampling.
    seed: int = 42
    # Use at most this many films (taken deterministically by Id hash); None = all.
    max_films: int | None = None
    # Output folder for the finished artifact; None = artifacts/<model_name>.
    out_dir: str | None = None
    # Epochs without val_loss improvement before stopping; None = the model's default; 0 = never.
    patience: int | None = None
    # Share of the training split to train on (validation and test stay whole, so figures
    # remain comparable); 1.0 = all.
    train_fraction: float = 1.0
    # Poster size (height, width) for poster models; None = the model's default.
    image_size: tuple[int, int] | None = None
    # Vocabulary size for text models; None = the model's default.
    vocabulary_size: int | None = None
    # Tokens kept per overview for text models; None = the model's default.
    sequence_length: int | None = None
    # Existing run folder to train in (the dashboard creates it); None = a new one under runs/.
    run_dir: str | None = None
    # tf.distribute strategy: "none"; "mirrored" (every GPU of this machine, or every logical CPU
    # device when there is no GPU); "multi-worker" (machines described by the TF_CONFIG variable).
    # The batch size is per replica: the global batch is batch_size x replicas.
    distribute: str = "none"
    # Keras verbosity for fit(): 1 = progress bar per epoch, 2 = one line per epoch, 0 = silent.
    verbose: int = 1
    # The exact command line that started this run, recorded for reproducibility.
    command: str = ""
    # Folder whose artifacts a fusion combines; None = the models in use (the shipped folder, with
    # training runs promoted in the app in place of theirs).
    parts_dir: str | None = None

    def to_dict(self) -> dict:
        """Return a JSON-serialisable copy."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, payload: dict) -> TrainConfig:
        """Rebuild a config from to_dict()'s output (the worker reads it from the run folder);
        raise ValueError naming an unknown or mistyped field."""
        if not isinstance(payload, dict) or not isinstance(payload.get("model_name"), str):
            raise ValueError("A training configuration must be a JSON object with a model_name.")
        known = {item.name: item for item in dataclasses.fields(cls)}
        unknown = sorted(set(payload) - set(known))
        if unknown:
            raise ValueError(f"Unknown training setting(s): {', '.join(unknown)}.")
        values = dict(payload)
        if values.get("image_size") is not None:
            values["image_size"] = tuple(values["image_size"])
        for name, value in values.items():
            expected = {"int": int, "float": (int, float), "str": str}
            kind = str(known[name].type).split(" | ")[0]
            if value is not None and kind in expected and (
                    not isinstance(value, expected[kind]) or isinstance(value, bool)):
                raise ValueError(f"The training setting {name} must be a {kind}, not {value!r}.")
        check_training_settings(values)
        return cls(**values)


@dataclass(frozen=True)
class Recipe:
    """A model's own training recipe (the fields every family shares); TrainConfig fields left
    as None fall back to these. Each model family adds its own fields in a subclass below."""

    # Epochs of the recipe.
    epochs: int
    # Mini-batch size of the recipe (per replica under a distribution strategy).
    batch_size: int = 64
    # Initial learning rate of the recipe.
    learning_rate: float = 1e-4
    # Early-stopping patience in epochs (0 disables early stopping).
    patience: int = 0
    # Epochs during which the learning rate is held before decaying.
    hold_epochs: int = 10
    # Per-epoch multiplicative decay exponent after the hold: lr *= exp(-decay).
    decay: float = 0.01
    # Learning-rate schedule: "course" (hold, then exponential decay) or "cosine" (per-epoch cosine to 0).
    schedule: str = "course"
    # Loss: "binary_crossentropy" or "focal" (binary focal cross-entropy, gamma 2: down-weights easy negatives,
    # which dominate with 25 mostly-rare genres).
    loss: str = "binary_crossentropy"
    # Decision thresholds: "per_genre" (each genre's F1-maximising threshold on validation) or "auto"
    # (per-genre or one global threshold, whichever wins a cross-validation inside the validation split).
    threshold_policy: str = "per_genre"


@dataclass(frozen=True)
class PosterRecipe(Recipe):
    """Recipe of a network reading posters."""

    # Poster input size (height, width) the network resizes to.
    image_size: tuple[int, int] = (64, 64)
    # Cross-modal distillation: registry name of an overview model whose probabilities for the
    # training films are blended into the poster network's training targets ("" = labels alone).
    # The overview carries far more genre signal than the poster; a soft target gives every poster
    # more to learn from than a few 1s among 25 genres.
    teacher: str = ""
    # Share of the teacher's probabilities in the training targets: (1 - w) * labels + w * teacher.
    # Validation keeps the true labels, so checkpoints and thresholds are chosen on them.
    teacher_weight: float = 0.0


@dataclass(frozen=True)
class TextRecipe(Recipe):
    """Recipe of a network reading overviews through its own TextVectorization layer."""

    # Vocabulary size.
    vocabulary_size: int = 10_000
    # Tokens kept per overview (the longest overview has 68 words).
    sequence_length: int = 64
    # L2 penalty on the output layer's weights (0: none).
    l2: float = 0.0
    # TF-IDF models: keep only terms (words and word pairs) found in at least this many training
    # overviews (1: every term); a term seen once is noise the weights can only memorise.
    min_document_frequency: int = 1


@dataclass(frozen=True)
class EncoderRecipe(Recipe):
    """Recipe of a head (and optionally the top layers) over a pretrained sentence encoder."""

    # Encoder name in genre_models.encoders.ENCODERS.
    encoder: str = "minilm"
    # Top transformer layers fine-tuned with the head (0: the encoder stays frozen).
    tuned_layers: int = 0
    # Units of the head's hidden layer.
    hidden_units: int = 512
    # Epochs, learning rate and patience of fitting the head alone on frozen features before
    # fine-tuning (used only when tuned_layers > 0).
    head_epochs: int = 300
    head_learning_rate: float = 1e-3
    head_patience: int = 15


@dataclass(frozen=True)
class PosterEncoderRecipe(EncoderRecipe, PosterRecipe):
    """Recipe of a head over a pretrained poster encoder: the encoder runs once per poster at
    ``image_size`` (features cached on disk) and the head trains on its pooled features."""


# The ways a fusion combines its parts (FusionRecipe.combine; see fusion.fuse_scores).
COMBINE_PROBABILITIES, COMBINE_LOGITS = "probabilities", "logits"
COMBINE_MODES = (COMBINE_PROBABILITIES, COMBINE_LOGITS)
# A log-odds fusion clips probabilities to [LOGIT_EPSILON, 1 - LOGIT_EPSILON] first: a part answering exactly
# 0 or 1 (float32 saturates) would otherwise give an infinite log-odds that no other part could outvote.
LOGIT_EPSILON = 1e-6


@dataclass(frozen=True)
class FusionRecipe(Recipe):
    """Recipe of a late fusion: no network, the parts' probabilities are combined."""

    # Registry names of the models whose probabilities are fused, in order.
    components: tuple[str, ...] = ()
    # How the parts are combined: "probabilities" (weighted mean of the parts' probabilities) or "logits"
    # (weighted mean of their log-odds, then the sigmoid). Log-odds let a part that is sure (p = 0.98 or
    # 0.01) outvote a hesitant one; a mean of probabilities squeezes it towards the others.
    combine: str = COMBINE_PROBABILITIES

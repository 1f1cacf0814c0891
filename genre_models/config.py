"""Typed settings for data, models and training.

Only the CLI parses arguments; everything else receives these dataclasses.
Paths that users may change come from environment variables so that the
Streamlit app, the tests and CI all see the same setting.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
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

    def to_dict(self) -> dict:
        """Return a JSON-serialisable copy."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ModelDefaults:
    """A model's own training recipe; TrainConfig fields left as None fall back to these."""

    # Epochs of the recipe.
    epochs: int
    # Mini-batch size of the recipe.
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
    # Poster input size (height, width) the model resizes to; None for text models.
    image_size: tuple[int, int] | None = None
    # Vocabulary size for text models.
    vocabulary_size: int = 10_000
    # Tokens kept per overview for text models (the longest overview has 68 words).
    sequence_length: int = 64
    # Extra builder keyword arguments.
    extra: dict = field(default_factory=dict)

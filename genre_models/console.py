"""What the command line prints besides its results, and the steps every command shares: a progress
bar and warnings on stderr, the load report, the models asked for, the predictor of the shipped models."""

from __future__ import annotations

import sys

from genre_models.config import resolve_artifacts_dir
from genre_models.dataset import DatasetReport


def print_progress(done: int, total: int, what: str) -> None:
    """Draw a one-line progress bar on stderr."""
    width = 30
    filled = int(width * done / max(total, 1))
    end = "\n" if done >= total else ""
    sys.stderr.write(f"\r{what:<18} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
    sys.stderr.flush()


def warn(message: str) -> None:
    """Print a warning line on stderr."""
    sys.stderr.write(f"warning: {message}\n")


def report_dataset(report: DatasetReport) -> None:
    """Print what loading found (dropped rows, empty genres) as warnings."""
    for line in report.summary_lines()[1:]:
        warn(line)


def report_dataset_from_metadata(metadata: dict) -> None:
    """Print the load report recorded in an artifact's metadata."""
    load_report = metadata["data"]["load_report"]
    for reason, details in load_report["dropped"].items():
        warn(f"dropped {details['count']} film(s): {reason}")
    if load_report["empty_genres"]:
        warn("genres with no positive film (kept): " + ", ".join(load_report["empty_genres"]))


def selected_model_names(requested: str) -> list[str] | None:
    """Return the artifact names asked for ('all' -> None, meaning every shipped model)."""
    if requested == "all":
        return None
    return [name.strip() for name in requested.split(",") if name.strip()]


def load_predictor():
    """Load every shipped artifact into a predictor, warning about the unusable ones."""
    from genre_models.artifacts import load_all_artifacts
    from genre_models.inference import GenrePredictor

    models, errors = load_all_artifacts()
    predictor = GenrePredictor(models, errors)
    for folder, reason in predictor.load_errors.items():
        warn(f"skipped artifact {folder}: {reason.removeprefix(folder + ': ')}")
    for line in predictor.describe_unavailable():
        warn(f"unavailable on this machine (an optional package is missing; the artifacts are fine): {line}")
    if not predictor.models:
        raise ValueError(f"No usable model artifact in {resolve_artifacts_dir()}.")
    return predictor


def report_skips(skips: dict[str, dict[str, str]]) -> None:
    """Warn, per model and reason, how many films got no prediction."""
    for name, skipped in skips.items():
        reasons: dict[str, int] = {}
        for reason in skipped.values():
            reasons[reason] = reasons.get(reason, 0) + 1
        for reason, count in reasons.items():
            warn(f"{name}: skipped {count} film(s): {reason}")

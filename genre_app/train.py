"""The Train page's logic, without Streamlit: the start form's remembered settings and its widgets' limits,
the runs table's rows, readable metric names, the kept checkpoint and the tuned figures in words, what a
worker and a stop are told, and how long a model takes to train."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

from genre_app.tables import model_figures
from genre_models.artifacts import list_artifact_folders
from genre_models.config import TRAINING_LIMITS, resolve_artifacts_dir
from genre_models.fileio import read_json, write_json_atomically
from genre_models.promotions import is_in_use
from genre_models.runs import Run, describe_progress, measure_run_seconds, read_history, resolve_runs_dir

# The start form's last used settings, per model, kept in the runs folder so a reload keeps them.
FORM_FILE = "start_form.json"
# Readable names of the per-epoch figures a run records, in the order the runs overlay offers them.
METRIC_NAMES = {
    "val_loss": "validation loss", "val_micro_f1": "validation micro-F1 (threshold 0.5)",
    "val_macro_f1": "validation macro-F1 (threshold 0.5)", "val_pr_auc": "validation PR-AUC (mean over genres)",
    "loss": "training loss", "val_binary_accuracy": "validation binary accuracy", "val_auc": "validation ROC AUC",
    "val_precision": "validation precision (threshold 0.5)", "val_recall": "validation recall (threshold 0.5)",
}
# The multi-label figures a run records per epoch (older shipped runs did not).
JUDGED_METRICS = ("micro_f1", "macro_f1", "pr_auc")
# A model whose estimated run is at most this long is said to train "in about a minute".
ABOUT_A_MINUTE_SECONDS = 90


def read_form_settings(runs_dir: Path | None = None) -> dict:
    """Return {"model": last model started, "models": {model: its last settings}} ({} when none or damaged)."""
    stored = read_json((runs_dir or resolve_runs_dir()) / FORM_FILE, default={})
    return stored if isinstance(stored, dict) and isinstance(stored.get("models", {}), dict) else {}


def remember_form_settings(settings: dict, runs_dir: Path | None = None) -> None:
    """Keep the settings of the start form just used (atomically; a failure to write is not an error)."""
    root = runs_dir or resolve_runs_dir()
    stored = read_form_settings(root)
    kept = {key: value for key, value in settings.items() if key not in ("data_dir", "command")}
    stored = {"model": settings["model_name"], "models": {**stored.get("models", {}), settings["model_name"]: kept}}
    try:
        root.mkdir(parents=True, exist_ok=True)
        write_json_atomically(root / FORM_FILE, stored)
    except OSError:
        pass


def bounds_of(setting: str) -> tuple:
    """Return a setting's (lowest, highest) value as its widget offers them: config.TRAINING_LIMITS, the limits
    the worker checks, in the widget's number type."""
    limit = TRAINING_LIMITS[setting]
    kind = int if limit.integer else float
    return kind(limit.low), kind(limit.high)


def last_used(last: dict, key: str, fallback, limit: str | None = None):
    """Return a setting as last used when it is of the setting's type and within its limits (``limit``: the
    TRAINING_LIMITS entry, when it is not ``key``), else ``fallback``."""
    low, high = bounds_of(limit or key)
    try:
        value = type(low)(last[key])
    except (KeyError, TypeError, ValueError):
        return fallback
    return value if low <= value <= high else fallback


def run_rows(all_runs: list[Run], promoted: dict) -> list[dict]:
    """One table row per run, the active one with its epoch, step and minutes."""
    rows = []
    for run in all_runs:
        seconds = measure_run_seconds(run.status, run.folder)
        training = (run.metadata or {}).get("training")
        rows.append({
            "run": run.name, "model": run.model or run.config.get("model_name"), "status": run.state,
            "progress": describe_progress(run.status)["text"] if run.is_active else "",
            "epochs": run.config.get("epochs"), "batch": run.config.get("batch_size"),
            "lr": run.config.get("learning_rate"), "share": run.config.get("train_fraction"),
            "minutes": round(seconds / 60, 1) if seconds is not None else None,
            "best val_loss": training.get("best_val_loss") if isinstance(training, dict) else None,
            **model_figures(run.metadata),
            "in use": "yes" if is_in_use(run.folder, promoted) else "",
            "error": run.error,
        })
    return rows


def has_judged_metrics(epochs: list[dict]) -> bool:
    """Return whether a history records micro-/macro-F1 and PR-AUC (runs trained before they were added do not)."""
    return any(f"val_{name}" in record or name in record for record in epochs for name in JUDGED_METRICS)


def choose_default_metric(curves: dict[str, list[dict]]) -> str:
    """Return the metric the runs overlay opens on: validation micro-F1 (else macro-F1) when a shown run recorded
    it (a finished run's F1 at its tuned thresholds is starred there), else validation loss."""
    for metric in ("val_micro_f1", "val_macro_f1"):
        if any(metric in record for epochs in curves.values() for record in epochs):
            return metric
    return "val_loss"


def find_checkpoint_epoch(epochs: list[dict]) -> int | None:
    """Return the epoch whose checkpoint a run keeps: the one with the lowest validation loss (the worker's rule:
    callbacks.make_best_checkpoint); None before the first validated epoch."""
    validated = [record for record in epochs if isinstance(record.get("val_loss"), (int, float))
                 and math.isfinite(record["val_loss"]) and isinstance(record.get("epoch"), int)]
    return min(validated, key=lambda record: record["val_loss"])["epoch"] if validated else None


def describe_checkpoint(epochs: list[dict]) -> str:
    """Say which epoch's checkpoint the run keeps and why, and where the F1 curve peaks when that is elsewhere."""
    epoch = find_checkpoint_epoch(epochs)
    if epoch is None:
        return ""
    record = next(record for record in epochs if record.get("epoch") == epoch)
    text = (f"The run keeps the checkpoint of epoch {epoch}: the lowest validation loss ({record['val_loss']:.3f}). "
            "The dashed line marks it on every chart.")
    scored = [r for r in epochs if isinstance(r.get("val_micro_f1"), (int, float)) and math.isfinite(r["val_micro_f1"])]
    if scored:
        peak = max(scored, key=lambda r: r["val_micro_f1"])
        if peak["epoch"] != epoch:
            text += (f" Validation micro-F1 at 0.5 peaks elsewhere, at epoch {peak['epoch']} "
                     f"({peak['val_micro_f1']:.3f}); the checkpoint is chosen by loss, not by F1.")
    return text


def describe_tuned(tuned: dict | None, epochs: list[dict], starred: bool = True) -> str:
    """Say what the stars show (``starred``; else, with no F1 curve to star, what the run gives after it): the
    kept checkpoint's validation F1 at the thresholds tuned after the run, beside the same epoch's F1 at 0.5
    (higher or lower, as the figures say); "" without the figures."""
    if not tuned:
        return ""
    record = next((r for r in epochs if r.get("epoch") == tuned["epoch"]), {})
    parts = []
    for name, label in (("micro_f1", "micro-F1"), ("macro_f1", "macro-F1")):
        at_half = record.get(f"val_{name}")
        comparison = ""
        if isinstance(at_half, (int, float)) and math.isfinite(at_half):
            change = "higher than" if tuned[name] > at_half else "lower than" if tuned[name] < at_half else "the same as"
            comparison = f", {change} the {at_half:.3f} the curve shows at 0.5 for that epoch"
        parts.append(f"{label} {tuned[name]:.3f}{comparison}")
    policy = "per-genre thresholds" if tuned["policy"] == "per_genre" else f"thresholds ({tuned['policy']} policy)"
    lead = "The stars" if starred else "After the run"
    return (f"{lead}: the kept checkpoint (epoch {tuned['epoch']}) at the {policy} tuned on the validation films "
            f"after the run: {'; '.join(parts)}. Tuned and measured on the same films, they flatter the model; "
            "the test figures in the runs table are the honest ones.")


def describe_worker(status: dict) -> str:
    """Say which worker of a multi-worker cluster a run is (started from the CLI with TF_CONFIG)."""
    index, workers = status.get("worker_index"), status.get("workers")
    role = "the chief: it publishes the artifact" if status.get("chief") else "the chief (worker 0) publishes the artifact"
    return f"Multi-worker run: worker {index} of {workers} ({role})."


def describe_stop(run: Run) -> str:
    """Say what a requested stop waits for: the step in progress, then scoring with the kept checkpoint."""
    if not run.status.get("steps"):
        return ("Stop requested: the run ends when its current loading step finishes, before any training; "
                "nothing is published.")
    return ("Stop requested: the run ends before its next training step (the epoch in progress is left "
            "unfinished; a resume redoes it). If an epoch has finished, it then scores the train, validation and "
            "test films with the kept checkpoint and publishes it, which the bar above follows.")


def describe_ended(followed: list[str], all_runs: list[Run]) -> tuple[str | None, str | None]:
    """Return the message saying which of the runs the page followed (active when it last ran) have ended, with
    their state, and the newest of them still listed (the run the page then shows); (None, None) when none."""
    states = {run.name: run.state for run in all_runs}
    ended = [name for name in followed if states.get(name) not in ("queued", "running")]
    if not ended:
        return None, None
    message = "Run " + ", ".join(f"{name} {states.get(name, 'ended')}" for name in ended) + "."
    return message, next((name for name in sorted(ended, reverse=True) if name in states), None)


def read_epoch_seconds(model_name: str, artifacts_dir: Path | None = None) -> tuple[float, float] | None:
    """Return (seconds per epoch, share of the training data) of the shipped model's own training, from its
    history (the median epoch: the first carries the start-up); None without one (a fusion has no epochs)."""
    folder = list_artifact_folders(artifacts_dir or resolve_artifacts_dir()).get(model_name)
    if folder is None:
        return None
    seconds = [float(record["seconds"]) for record in read_history(folder)
               if isinstance(record.get("seconds"), (int, float))]
    if not seconds:
        return None
    share = (read_json(folder / "metadata.json", default={}) or {}).get("config", {}).get("train_fraction") or 1.0
    return statistics.median(seconds), float(share)


def estimate_training_seconds(model_name: str, epochs: int, share: float,
                              artifacts_dir: Path | None = None) -> float | None:
    """Return about how long ``epochs`` epochs on ``share`` of the training data take, scaled from the shipped
    model's own epochs (on the machine that trained it; loading and scoring not counted); None when unknown."""
    measured = read_epoch_seconds(model_name, artifacts_dir)
    if measured is None:
        return None
    per_epoch, shipped_share = measured
    return per_epoch * share / shipped_share * epochs


def list_quick_models(defaults: dict[str, int], share: float = 0.1, artifacts_dir: Path | None = None) -> list[str]:
    """Return the models ({name: default epochs}) whose default epochs on ``share`` of the data are estimated to
    train in about a minute."""
    quick = []
    for name, epochs in defaults.items():
        seconds = estimate_training_seconds(name, epochs, share, artifacts_dir)
        if seconds is not None and seconds <= ABOUT_A_MINUTE_SECONDS:
            quick.append(name)
    return quick


def accuracy_of_answering_nothing(baseline: dict | None) -> tuple[float, int, int] | None:
    """Return the binary accuracy of answering no genre for any film of the test split, with the films and
    genres it counts, from the per-genre supports the baseline recorded (artifacts/baselines.json); None
    without them."""
    test = ((baseline or {}).get("metrics") or {}).get("test") or {}
    per_genre, films = test.get("per_genre"), test.get("films")
    if not isinstance(per_genre, dict) or not per_genre or not isinstance(films, int) or films <= 0:
        return None
    try:
        positives = sum(int(values["support"]) for values in per_genre.values())
    except (KeyError, TypeError, ValueError):
        return None
    return 1 - positives / (films * len(per_genre)), films, len(per_genre)


def explain_binary_accuracy(baseline: dict | None) -> str:
    """Say why binary accuracy flatters multi-label models, with the score of answering nothing when known."""
    nothing = accuracy_of_answering_nothing(baseline)
    figure = (f": answering no genre at all for every film scores {nothing[0]:.2f} on the test split "
              f"({nothing[1]:,} films x {nothing[2]} genres)") if nothing else ""
    return ("Binary accuracy is misleading for multi-label data. It counts every (film, genre) pair, and most of the "
            f"genres are 0 for every film{figure}. Judge a run by its loss, micro-/macro-F1 and PR-AUC instead.")


def describe_poster_encoder(recipe) -> str:
    """Say what a head over the pretrained poster encoder trains and what a run costs, from the encoder's
    registry entry (its weights' package), for the Train form."""
    from genre_models.encoders import ENCODERS

    entry = ENCODERS[recipe.encoder]
    family = recipe.encoder.split("_")[0].replace("efficientnet", "EfficientNet")
    return (f"Frozen {family}-{entry['variant'].title()} (ImageNet weights from the installed package "
            f"{entry['package']}, read without PyTorch); only the head trains: with the posters' features cached "
            f"a run takes about a minute; another image size encodes every poster again (~16 min here).")

"""What a report shows, gathered without running a network whenever possible: the dataset, each
chosen model's scores on the split (the split_scores.npz stored beside its artifact; scored here
only when they do not describe this artifact and data, e.g. for the train split), its evaluation
at its own thresholds, its training history, the baseline, and a seeded sample of films."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from genre_models.artifacts import (
    HISTORY_FILE,
    LoadedModel,
    list_artifact_folders,
    read_artifact_metadata,
)
from genre_models.baselines import evaluate_frequency_baseline
from genre_models.cards import BASELINES_FILE
from genre_models.config import ProgressCallback, resolve_artifacts_dir
from genre_models.dataset import MovieDataset, load_dataset
from genre_models.fileio import read_epoch_records, read_json
from genre_models.fusion import find_unusable_part
from genre_models.metrics import evaluate_scores
from genre_models.readings import describe_readings, read_genres
from genre_models.scoring import read_or_score_split, score_split
from genre_models.split_scores import ScoredSplit

# Splits a report can show.
REPORT_SPLITS = ("test", "validation", "train", "all")
# Libraries whose versions the report records (read from the installed packages, nothing imported).
RECORDED_LIBRARIES = ("numpy", "pandas", "pillow", "plotly", "tensorflow", "keras", "keras-hub", "tensorflow-text")
# How many genres a sampled film's "top" shows per model.
TOP_K = 3
# Where a model's scores came from.
STORED = "stored split scores (split_scores.npz)"
SCORED_HERE = "scored for this report"
# Most films a report may sample (each carries a poster thumbnail).
MAX_SAMPLE = 200


@dataclass
class ModelResult:
    """One chosen model's part of the report."""

    # The artifact's metadata.json.
    metadata: dict
    # Its probabilities on the report's split, with the labels in its genre order.
    scored: ScoredSplit
    # evaluate_scores at the model's own thresholds.
    evaluation: dict
    # The per-epoch records of the artifact's history.json (empty when absent or of the wrong shape).
    history: list[dict]
    # Where the scores came from: the stored split_scores.npz or a scoring run for this report.
    source: str

    @property
    def name(self) -> str:
        """The model's name."""
        return self.metadata["name"]


@dataclass
class ReportContent:
    """Everything a report shows."""

    dataset: MovieDataset
    split: str
    models: list[ModelResult]
    # The genre-frequency baseline on the test split: {"metrics": {"test": report}, ...} or None.
    baseline: dict | None
    # Sampled films: {"id", "overview", "genres", "poster_path", "answers": {model: [(genre, probability)]}}.
    films: list[dict]
    # Notes for the reader (models skipped and why, scoring done for this report).
    notes: list[str] = field(default_factory=list)
    # Sample size and seed asked for.
    sample: int = 0
    seed: int = 0


def make_shell(metadata: dict, folder: Path) -> LoadedModel:
    """Return a LoadedModel without its network (enough to check a fusion's parts from metadata)."""
    return LoadedModel(name=metadata["name"], input_kind=metadata["input_kind"], genres=list(metadata["genres"]),
                       thresholds=np.asarray(metadata["thresholds"]["per_genre"], dtype=np.float64),
                       metadata=metadata, model=None, folder=folder)


def choose_models(found: list[dict], errors: dict[str, str], folders: dict[str, Path],
                  names: list[str] | None, notes: list[str]) -> list[dict]:
    """Return the metadata of the models to report, in the order asked (default: every usable one,
    by name); raise ValueError for a named model that is unknown or unusable, note skipped ones."""
    by_name = {metadata["name"]: metadata for metadata in found}
    shells = {name: make_shell(metadata, folders[name]) for name, metadata in by_name.items()}
    problems = {name: problem for name, shell in shells.items() if shell.is_fusion
                for problem in [find_unusable_part(shell, shells)] if problem}
    if names is None:
        for name, reason in sorted({**errors, **problems}.items()):
            notes.append(f"{name} left out: {reason}")
        return [by_name[name] for name in sorted(by_name) if name not in problems]
    if not names:
        raise ValueError("Name at least one model (or leave the list out for every model).")
    chosen = []
    for name in dict.fromkeys(names):
        if name in errors or name in problems:
            raise ValueError(f"{name} cannot be reported: {errors.get(name) or problems[name]}.")
        if name not in by_name:
            raise ValueError(f"No model named {name!r}; available: {', '.join(sorted(by_name)) or 'none'}.")
        chosen.append(by_name[name])
    return chosen


class SplitScorer:
    """Each model's scores on one split: stored ones when they still hold, else scored once here
    (networks loaded only then, through ``load_predictor``)."""

    def __init__(self, dataset: MovieDataset, data_dir, split: str, folders: dict[str, Path],
                 metadata: dict[str, dict], load_predictor: Callable, progress: ProgressCallback | None):
        self.dataset, self.data_dir, self.split = dataset, data_dir, split
        self.folders, self.metadata = folders, metadata
        self.load_predictor, self.progress = load_predictor, progress
        self.predictor, self.cache, self.sources, self.datasets = None, {}, {}, {None: dataset}

    def get_dataset(self, image_size) -> MovieDataset:
        """Return the dataset with posters at a size (loaded once per size)."""
        if image_size not in self.datasets:
            self.datasets[image_size] = load_dataset(self.data_dir, image_size=image_size, progress=self.progress)
        return self.datasets[image_size]

    def read_scores(self, name: str) -> ScoredSplit:
        """Return a model's scores on the split (fusions from their parts' scores when scored here)."""
        if name in self.cache:
            return self.cache[name]
        metadata = self.metadata.get(name) or read_json(self.folders[name] / "metadata.json")
        self.cache[name], was_read = read_or_score_split(self.folders[name], metadata, self.split,
                                                         self.dataset.fingerprint, lambda: self.score(name))
        self.sources[name] = STORED if was_read else SCORED_HERE
        return self.cache[name]

    def score(self, name: str) -> ScoredSplit:
        """Score a model on the report's split (its parts' scores read when stored), loading the models once."""
        if self.predictor is None:
            self.predictor = self.load_predictor()
        report = (lambda done, total, what: self.progress(done, total, f"{name}: {what}")) if self.progress else None
        return score_split(self.predictor, name, self.get_dataset, self.split, score_part=self.read_scores,
                           progress=report)


def choose_baseline(dataset: MovieDataset, artifacts_root: Path) -> dict:
    """Return the genre-frequency baseline: the one recorded in baselines.json when it was computed
    on this data, else computed now on it (the same rule; both on the test split)."""
    content = read_json(artifacts_root / BASELINES_FILE)
    recorded = content.get("genre_frequency") if isinstance(content, dict) else None
    if isinstance(recorded, dict) and recorded.get("data_fingerprint") == dataset.fingerprint:
        return recorded
    return {**evaluate_frequency_baseline(dataset), "command": "computed for this report (genre_models.baselines)"}


def sample_films(dataset: MovieDataset, models: list[ModelResult], sample: int, seed: int) -> list[dict]:
    """Return ``sample`` films of the split drawn with numpy's default_rng(seed) among those every
    chosen model scored, in split order, with each model's top TOP_K genres and probabilities."""
    if not models or sample <= 0:
        return []
    common = set.intersection(*(set(result.scored.ids) for result in models))
    ids = [film_id for film_id in models[0].scored.ids if film_id in common]
    picked = sorted(np.random.default_rng(seed).choice(len(ids), size=min(sample, len(ids)), replace=False))
    films = []
    for index in picked:
        film_id = ids[index]
        row = dataset.row_of(film_id)
        answers, predicted = {}, {}
        for result in models:
            scores = result.scored.scores[list(result.scored.ids).index(film_id)]
            order = np.argsort(-scores, kind="mergesort")[:TOP_K]
            answers[result.name] = [(result.scored.genres[i], float(scores[i])) for i in order]
            # The threshold answer, read as every page reads it (genres with their own bars).
            readings = read_genres(dict(zip(result.scored.genres, scores.tolist())),
                                   result.metadata["thresholds"]["per_genre"], least=1)
            predicted[result.name] = describe_readings(readings)
        films.append({"id": str(film_id), "overview": str(dataset.overviews[row]),
                      "genres": [g for g, label in zip(dataset.genres, dataset.labels[row]) if label],
                      "poster_path": dataset.poster_path(str(film_id)), "answers": answers,
                      "predicted": predicted})
    return films


def describe_versions() -> dict:
    """Return the Python and library versions in use (from package metadata; nothing is imported)."""
    versions = {"python": platform.python_version()}
    for package in RECORDED_LIBRARIES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            continue
    return versions


def gather_report(data_dir: str | os.PathLike, names: list[str] | None = None, split: str = "test",
                  sample: int = 12, seed: int = 0, root: str | os.PathLike | None = None,
                  overrides: dict[str, str] | None = None, load_predictor: Callable | None = None,
                  progress: ProgressCallback | None = None) -> ReportContent:
    """Gather a report's content: the dataset at ``data_dir``, the chosen models (default: every
    usable installed one; ``overrides``: promoted runs) on ``split``, and ``sample`` films drawn with
    ``seed``. ``load_predictor()`` returns a GenrePredictor when scores must be computed (default:
    the chosen models loaded from their artifacts)."""
    if split not in REPORT_SPLITS:
        raise ValueError(f"Unknown split {split!r}; choose one of {', '.join(REPORT_SPLITS)}.")
    if not 0 <= sample <= MAX_SAMPLE:
        raise ValueError(f"The sample must be between 0 and {MAX_SAMPLE} films, not {sample}.")
    root = Path(root) if root else resolve_artifacts_dir()
    notes: list[str] = []
    dataset = load_dataset(data_dir)
    found, errors = read_artifact_metadata(root, overrides)
    folders = list_artifact_folders(root, overrides)
    chosen = choose_models(found, errors, folders, names, notes)
    if not chosen:
        raise ValueError(f"No usable model in {root}.")
    by_name = {metadata["name"]: metadata for metadata in found}

    def load_default_predictor():
        from genre_models.inference import GenrePredictor

        wanted = {m["name"] for m in chosen} | {p["name"] for m in chosen for p in m.get("components", [])}
        return GenrePredictor.from_artifacts(root, names=sorted(wanted), overrides=overrides)

    scorer = SplitScorer(dataset, data_dir, split, folders, by_name, load_predictor or load_default_predictor, progress)
    models = []
    for number, metadata in enumerate(chosen, start=1):
        scored = scorer.read_scores(metadata["name"])
        epochs, history_note = read_epoch_records(folders[metadata["name"]] / HISTORY_FILE)
        if history_note:
            notes.append(f"{metadata['name']}'s training curves: {history_note}")
        thresholds = np.asarray(metadata["thresholds"]["per_genre"], dtype=np.float64)
        models.append(ModelResult(metadata, scored, evaluate_scores(scored.labels, scored.scores, thresholds,
                                                                   scored.genres, split),
                                  epochs,
                                  scorer.sources[metadata["name"]]))
        if progress:
            progress(number, len(chosen), "reading each model's scores")
    empty = next((result.evaluation["note"] for result in models if "note" in result.evaluation), None)
    if empty:
        notes.append(f"{empty} Every figure of this split is n/a.")
    scored_here = [result.name for result in models if result.source == SCORED_HERE]
    if scored_here:
        notes.append(f"Scored for this report (no stored split scores matched the artifact, the split and this "
                     f"data): {', '.join(scored_here)}.")
    return ReportContent(dataset, split, models, choose_baseline(dataset, root),
                         sample_films(dataset, models, sample, seed), notes, sample, seed)

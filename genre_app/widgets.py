"""What several pages show the same way, written once: a film's facts and IMDb link, the films matching
a filter and their table, a poster shown safely, every model's answers for a film (cached), the table
of models, training curves (which metrics a history has, why binary accuracy flatters, the shipped
models' histories), choices kept in the address (?film=...), and the messages of a shared (read-only)
deployment.

Pages stay thin: they read their widgets, call these helpers and the package, and render.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from genre_models import runs
from genre_models.config import read_only_reason, resolve_data_dir
from genre_models.dataset import MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS, MovieDataset, decode_poster
from genre_models.metadata import TABLE_METRICS, summarize_for_table

# Where IMDb shows a title; the dataset's Ids are IMDb title Ids (tt0000000).
IMDB_TITLE_URL = "https://www.imdb.com/title/{}/"
# Posters are sent to the browser at most this many times their display width: enough for sharp
# display on high-density screens, far less than a 12,000-pixel upload.
DISPLAY_SCALE = 2
# The upload limit in the unit the upload widget takes (MB).
MAX_UPLOAD_MEGABYTES = MAX_UPLOAD_BYTES // 2**20
# Readable column headers for the metric keys of genre_models.metadata.TABLE_METRICS.
METRIC_LABELS = {
    "micro_f1": "micro-F1", "macro_f1": "macro-F1", "samples_f1": "samples-F1",
    "micro_average_precision": "micro AP", "macro_average_precision": "macro AP",
    "precision_at_3": "precision@3", "recall_at_3": "recall@3",
}


# --- Films ------------------------------------------------------------------------------------------------------

def imdb_url(film_id: str) -> str:
    """Return the IMDb page of a film (the Id is quoted, so an odd Id cannot break the link)."""
    return IMDB_TITLE_URL.format(quote(str(film_id), safe=""))


def imdb_link(film_id: str) -> str:
    """Return a Markdown link to the film's IMDb page, labelled with its Id."""
    return f"[{film_id}]({imdb_url(film_id)})"


def true_genres(dataset: MovieDataset, row: int) -> list[str]:
    """Return the genres a dataset row is labelled with, in the dataset's genre order."""
    return [genre for genre, flag in zip(dataset.genres, dataset.labels[row]) if flag]


@dataclass(frozen=True)
class Film:
    """One film of the dataset, with what the pages show about it."""

    # IMDb title Id.
    id: str
    # Row in the dataset's arrays.
    row: int
    # One- or two-sentence plot summary.
    overview: str
    # The genres it is labelled with.
    genres: list[str]
    # Split it belongs to ("train", "validation" or "test").
    split: str
    # Its poster file (which may be missing or damaged: show it with show_poster).
    poster: Path

    @property
    def link(self) -> str:
        """Markdown link to the film's IMDb page."""
        return imdb_link(self.id)


def film_at(dataset: MovieDataset, row: int) -> Film:
    """Return the film at a dataset row."""
    film_id = str(dataset.ids[row])
    return Film(id=film_id, row=int(row), overview=str(dataset.overviews[row]), genres=true_genres(dataset, row),
                split=str(dataset.splits[row]), poster=dataset.poster_path(film_id))


def has_film(dataset: MovieDataset, film_id: str) -> bool:
    """Return whether the dataset has a film with this Id."""
    return bool(np.any(dataset.ids == str(film_id)))


def find_film(dataset: MovieDataset, film_id: str) -> Film:
    """Return the film with an Id (raises ValueError when the dataset has none)."""
    return film_at(dataset, dataset.row_of(str(film_id)))


def filter_films(dataset: MovieDataset, genres: list[str], match: str, query: str) -> np.ndarray:
    """Return the rows of the films labelled with any (``match="any"``) or all (``"all"``) of ``genres``
    whose overview contains ``query`` (ignoring case); no genre or an empty query filters nothing.
    Raises ValueError for an unknown genre or match."""
    if match not in ("any", "all"):
        raise ValueError(f"Match must be 'any' or 'all', not {match!r}.")
    unknown = [genre for genre in genres if genre not in dataset.genres]
    if unknown:
        raise ValueError(f"Unknown genre {unknown[0]!r}; the dataset's genres are {', '.join(dataset.genres)}.")
    mask = np.ones(dataset.num_films, dtype=bool)
    if genres:
        labelled = dataset.labels[:, [dataset.genres.index(genre) for genre in genres]] == 1
        mask &= labelled.all(axis=1) if match == "all" else labelled.any(axis=1)
    needle = str(query).strip().lower()
    if needle:
        mask &= np.array([needle in str(text).lower() for text in dataset.overviews], dtype=bool)
    return np.flatnonzero(mask)


@st.cache_resource(show_spinner=False, max_entries=4)
def get_film_catalogue(fingerprint: str, _dataset: MovieDataset) -> pd.DataFrame:
    """Return one line per film (Id, genres, split, overview), built once per dataset."""
    genres = np.asarray(_dataset.genres, dtype=object)
    return pd.DataFrame({
        "film": [str(film_id) for film_id in _dataset.ids],
        "genres": [", ".join(genres[row == 1]) for row in np.asarray(_dataset.labels)],
        "split": [str(split) for split in _dataset.splits],
        "overview": [str(text) for text in _dataset.overviews],
    })


def film_table(dataset: MovieDataset, rows: np.ndarray) -> pd.DataFrame:
    """Return the table of the films at ``rows`` (in that order, numbered from 0)."""
    return get_film_catalogue(dataset.fingerprint, dataset).iloc[np.asarray(rows, dtype=int)].reset_index(drop=True)


# --- Posters ----------------------------------------------------------------------------------------------------

def read_poster(source: str | os.PathLike | bytes | np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """Return a poster as RGB pixels through the models' own safe decode, or None and why it is unusable.

    A missing, empty, damaged or unsupported file (GIF, say) gives a reason instead of an exception;
    16-bit and transparent images are converted exactly as the models see them.
    """
    if isinstance(source, np.ndarray):
        return source, None
    try:
        return decode_poster(source), None
    except ValueError as error:
        return None, str(error)


def read_upload(raw: bytes) -> np.ndarray:
    """Decode an uploaded poster or raise ValueError saying why not.

    The size limit is checked here, on the server, before any decoding: the upload widget's own
    limit is only enforced by the browser, which a script can bypass.
    """
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ValueError(f"the file is {len(raw) / 2**20:.1f} MB; posters up to {MAX_UPLOAD_MEGABYTES} MB "
                         "are accepted")
    return decode_poster(raw, max_pixels=MAX_UPLOAD_PIXELS)


def upload_limits_text() -> str:
    """Say which uploads are accepted, for the upload widget's caption."""
    return (f"JPEG, PNG or WebP up to {MAX_UPLOAD_MEGABYTES} MB and {MAX_UPLOAD_PIXELS / 1e6:g} megapixels; "
            "large JPEGs are decoded at reduced size, 16-bit and transparent images are converted.")


def show_poster(source: str | os.PathLike | bytes | np.ndarray | None, width: int, caption: str | None = None,
                container=None, alt: str | None = None) -> np.ndarray | None:
    """Show a poster at a width, or a short text in its place when it cannot be decoded; return its pixels.

    Every poster the app shows goes through here, so a bad file costs one placeholder, never the page.
    The caption is also passed as the image's alternative text (a caption alone is not one); ``alt`` gives
    one to a poster shown without a caption.
    """
    container = container or st
    pixels, problem = (None, "no poster") if source is None else read_poster(source)
    if pixels is None:
        container.caption(f"🖼️ Poster not shown: {problem}." + (f" ({caption})" if caption else ""))
        return None
    thumbnail = Image.fromarray(pixels)
    thumbnail.thumbnail((width * DISPLAY_SCALE, width * DISPLAY_SCALE * 4))
    container.image(thumbnail, width=width, caption=caption, alt=alt or caption or "Film poster")
    return pixels


# --- Models -----------------------------------------------------------------------------------------------------

def model_figures(metadata) -> dict:
    """Return the test figures of a model's table row (genre_models.metadata.summarize_for_table),
    or {} when the metadata is missing or too damaged to summarise (a run that failed, say)."""
    try:
        row = summarize_for_table(metadata)
    except (TypeError, KeyError, AttributeError):
        return {}
    return {key: value for key, value in row.items() if key.startswith("test ")}


def metric_column_config(columns) -> dict:
    """Return Streamlit column settings showing the metric columns of a table with readable headers
    and three decimals (the data keeps summarize_for_table's keys)."""
    settings = {}
    for key in TABLE_METRICS:
        label = METRIC_LABELS.get(key, key)
        for column, header in ((f"test {key}", f"test {label}"),
                               (f"test {key} (one global threshold)", f"test {label} (one global threshold)")):
            if column in columns:
                settings[column] = st.column_config.NumberColumn(header, format="%.3f")
    return settings


def show_table(rows: list[dict]) -> None:
    """Show rows that hold model figures (see model_figures) with readable metric headers."""
    frame = pd.DataFrame(rows)
    st.dataframe(frame, hide_index=True, column_config=metric_column_config(frame.columns))


def show_model_table(models: list[dict], needs_refit: dict[str, str] | None = None,
                     baseline: dict | None = None) -> None:
    """Show one row per model's metadata: summarize_for_table, the one metadata-to-row conversion; fused
    models in ``needs_refit`` are marked so (they are left out of predictions until refitted)."""
    rows = [summarize_for_table(metadata) for metadata in models]
    for row, metadata in zip(rows, models):
        # A fused model trains no network: it has no epochs, its weights are fitted on the validation films.
        row["epochs"] = "fused (no epochs)" if metadata.get("components") else \
            (str(row["epochs"]) if row["epochs"] else "")
    if needs_refit:
        for row in rows:
            row["state"] = "needs refitting" if row["model"] in needs_refit else "ready"
    extra = baseline_row(baseline)
    if extra:
        rows.append({**extra, **({"state": "reference"} if needs_refit else {})})
    # A static table, not the interactive data grid: Home's first view must be quick (issue 15), and the grid
    # alone took ~0.9 s to draw in the browser. The training commands, long lines, go in an expander below it.
    st.table(pd.DataFrame([format_table_row(row) for row in rows]).set_index("model"))
    with st.expander("How each model was made (the command that trained it)"):
        st.code("\n".join(f"# {row['model']}\n{row['command']}" for row in rows if row.get("command")),
                language="bash", wrap_lines=True)


def format_table_row(row: dict) -> dict:
    """Return a models-table row for a static table: readable metric headers, figures to three decimals,
    blanks for missing values, no command (shown apart)."""
    formatted = {}
    for key, value in row.items():
        if key == "command":
            continue
        header = key
        if key.startswith("test "):
            metric = key.removeprefix("test ").removesuffix(" (one global threshold)")
            header = f"test {METRIC_LABELS.get(metric, metric)}" + (
                " (one global threshold)" if key.endswith("(one global threshold)") else "")
        if isinstance(value, float):
            value = f"{value:.3f}" if header.startswith("test ") else f"{value:g}"
        formatted[header] = "" if value is None else str(value)
    return formatted


def baseline_row(baseline: dict | None) -> dict | None:
    """Return the models table's row for the "always the most common genres" baseline
    (artifacts/baselines.json), or None when there is none."""
    if not isinstance(baseline, dict):
        return None
    test = (baseline.get("metrics") or {}).get("test") or {}
    always = " + ".join(baseline.get("predicts_always") or []) or "the most common genres"
    return {"model": f"baseline: always {always}", "input": "none (reads nothing)", "fusion of": "",
            "thresholds": "global", **{f"test {key}": test.get(key) for key in TABLE_METRICS},
            "epochs": "", "trained": str(baseline.get("created_at", ""))[:10],
            "command": baseline.get("command", "")}


@st.cache_data(show_spinner="The models are reading the film...", max_entries=256)
def get_film_answers(film_id: str, inputs: str, models: tuple[tuple[str, str], ...], artifacts_dir: str,
                     promoted: tuple[tuple[str, str], ...], _poster: np.ndarray | None, _overview: str):
    """Return every model's answers (genre_models.inference.PredictionResult) for a dataset film; cached
    per film, digest of its inputs, and the models in use with their creation times."""
    from genre_app import state

    return state.get_predictor(artifacts_dir, promoted).predict(poster=_poster, overview=_overview)


def film_answers(film: Film, poster: np.ndarray | None):
    """Return every model's answers for a dataset film, computed once per film and set of models: paging,
    searching or opening the film again never runs the models again, and a retrained or promoted model
    (a new creation time) does. A poster that cannot be decoded leaves the overview models to answer."""
    from genre_app import state
    from genre_models.config import resolve_artifacts_dir

    predictor = state.predictor()
    models = tuple((loaded.name, str(loaded.metadata.get("created_at"))) for loaded in predictor.models)
    return get_film_answers(film.id, input_fingerprint(poster, film.overview), models, str(resolve_artifacts_dir()),
                            state.promotions(), _poster=poster, _overview=film.overview)


def describe_answers(predictions: list) -> str:
    """Return every model's answer as Markdown, one line each (wrapped, never cut off as table cells
    were): its top 3 with their probabilities and the genres over its thresholds."""
    lines = []
    for prediction in predictions:
        top = ", ".join(f"{genre} {prediction.probabilities[genre]:.0%}" for genre in prediction.top)
        lines.append(f"- **{prediction.model}**: {top} · over threshold: {', '.join(prediction.predicted) or 'none'}")
    return "**What the models answer** (top 3 · genres over the model's threshold)\n\n" + "\n".join(lines)


# --- Scoring progress -------------------------------------------------------------------------------------------

def format_duration(seconds: float) -> str:
    """Return a rough duration for people: "5 s", "2 min 10 s"."""
    seconds = max(0, int(round(seconds)))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def progress_text(name: str, done: int, total: int, elapsed: float) -> str:
    """Say how far the scoring of a model is: films done / total and the time left (from the pace so far)."""
    if total and done >= total:
        return f"{name}: {total:,} / {total:,} films scored in {format_duration(elapsed)}"
    left = "estimating the time left" if done <= 0 or elapsed <= 0 else \
        f"about {format_duration(elapsed * (total - done) / done)} left"
    return f"Scoring with {name}: {done:,} / {total:,} films, {left}"


class ScoringProgress:
    """Per-model progress bars for the scoring a page must run (scores not shipped with the artifact):
    pass it as ``progress`` to state.split_scores; nothing is drawn when every score is read from a
    file. ``clear()`` removes the bars once the page has its scores."""

    def __init__(self, container=None):
        self.container = container or st
        self.bars, self.started = {}, {}

    def __call__(self, name: str, done: int, total: int) -> None:
        import time

        now = time.perf_counter()
        if name not in self.bars:
            self.bars[name] = self.container.progress(0.0, text=progress_text(name, 0, total, 0.0))
            self.started[name] = now
        fraction = min(max(done / total, 0.0), 1.0) if total else 1.0
        self.bars[name].progress(fraction, text=progress_text(name, done, total, now - self.started[name]))

    def clear(self) -> None:
        for bar in self.bars.values():
            bar.empty()


# --- Addresses ----------------------------------------------------------------------------------------------------

# Longest URL value quoted back in a warning (an address can hold anything).
MAX_QUOTED_URL_VALUE = 80


def read_url_choice(parameter: str, is_known, what: str, fallback: str) -> str | None:
    """Return the value of the address's query parameter ``parameter`` (``?film=tt0086465``) when
    ``is_known(value)``; an unknown value is taken out of the address with a warning naming it and
    ``fallback`` (what the page shows instead), and None is returned, as when there is none."""
    value = st.query_params.get(parameter)
    if value is None:
        return None
    if is_known(value):
        return value
    # Quoted in a code span with its backticks replaced, so the address cannot inject Markdown.
    shown = value.replace("`", "'")[:MAX_QUOTED_URL_VALUE]
    st.warning(f"The address asks for {what} `{shown}`, which does not exist here; {fallback}.")
    del st.query_params[parameter]
    return None


# --- Training curves --------------------------------------------------------------------------------------------

# The multi-label figures every model records per epoch since issue 15 (genre_models.models.compile_for_multilabel).
JUDGED_METRICS = ("micro_f1", "macro_f1", "pr_auc")
# What the runs overlay can plot, validation figures first.
OVERLAY_METRICS = ["val_loss", "val_micro_f1", "val_macro_f1", "val_pr_auc", "loss", "val_binary_accuracy", "val_auc",
                   "val_precision", "val_recall"]


def choose_default_overlay_metric(curves: dict[str, list[dict]]) -> str:
    """Return the metric the runs overlay opens on for these runs' curves ({run: its epochs}): validation
    micro-F1 (else macro-F1) when a shown run recorded it, as a finished run's F1 at its tuned thresholds is
    starred on those curves only; val_loss for runs trained before every model recorded F1."""
    for metric in ("val_micro_f1", "val_macro_f1"):
        if any(metric in record for epochs in curves.values() for record in epochs):
            return metric
    return "val_loss"


def has_judged_metrics(epochs: list[dict]) -> bool:
    """Return whether a history records micro-/macro-F1 and PR-AUC (runs trained before they were added do not)."""
    return bool(epochs) and any(f"val_{name}" in record or name in record for record in epochs
                                for name in JUDGED_METRICS)


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


@st.cache_data(show_spinner=False, max_entries=8)
def get_shipped_histories(artifacts_dir: str, stamps: tuple[tuple[str, float], ...]) -> dict[str, list[dict]]:
    """Return {shipped model: its per-epoch history}, read once per state of the history files."""
    from genre_models.artifacts import list_artifact_folders

    return {name: runs.read_history(folder) for name, folder in list_artifact_folders(Path(artifacts_dir)).items()}


def shipped_histories() -> dict[str, list[dict]]:
    """Return the per-epoch history of every shipped artifact (a fused model's is empty: no epochs)."""
    from genre_models.artifacts import HISTORY_FILE, list_artifact_folders
    from genre_models.config import resolve_artifacts_dir

    folder = resolve_artifacts_dir()
    stamps = []
    for name, path in sorted(list_artifact_folders(folder).items()):
        try:
            stamps.append((name, (path / HISTORY_FILE).stat().st_mtime))
        except OSError:
            stamps.append((name, 0.0))
    return get_shipped_histories(str(folder), tuple(stamps))


# --- Shared deployments -----------------------------------------------------------------------------------------

def read_only_notice(actions: str) -> str | None:
    """Say that some actions are turned off when the deployment is read-only; return the reason (None
    when visitors may change shared state)."""
    reason = read_only_reason()
    if reason:
        st.info(f"{actions} is turned off: {reason}.")
    return reason


def warn_if_promotions_damaged() -> None:
    """Show why runs/promoted.json is ignored, when it is damaged (the shipped models are used)."""
    problem = runs.promotions_problem()
    if problem:
        st.warning(problem)


def is_in_use(run_folder: Path, promoted: dict[str, str]) -> bool:
    """Return whether a run's artifact is promoted for some model (its folder lies inside the run's)."""
    run_folder = Path(run_folder).resolve()
    return any(Path(folder).resolve().is_relative_to(run_folder) for folder in promoted.values())


@contextmanager
def errors_shown(container=None, toast: bool = False) -> Iterator[None]:
    """Run an action that changes shared state, showing a refusal or a file-system failure as an
    error message instead of a traceback (the rest of the block is skipped). ``container``: where
    the message goes (somewhere the user is looking, not a folded expander); ``toast``: also pop it up."""
    try:
        yield
    except (runs.RunRefused, OSError) as error:
        if isinstance(error, runs.RunRefused):
            message = str(error)
        else:
            message = (f"The action failed: {error.strerror or error}"
                       + (f" ({error.filename})" if error.filename else "") + ".")
        (container or st).error(message)
        if toast:
            st.toast(message, icon=":material/error:")


# Session key of a success message kept across the rerun that follows an action (see announce).
NOTICE_KEY = "genre-app-notice"


def announce(message: str, rerun: bool = True) -> None:
    """Confirm that an action succeeded with a toast that survives the page's rerun (and a success line
    at the top of the page after it), then rerun so every table shows the change."""
    st.session_state[NOTICE_KEY] = message
    if rerun:
        st.rerun()
    show_announcement()


def show_announcement() -> None:
    """Show (once) the success message an action left before its rerun: a toast and a success line."""
    message = st.session_state.pop(NOTICE_KEY, None)
    if message:
        st.toast(message, icon=":material/check_circle:")
        st.success(message)


# The reason genre_models.fusion.find_unusable_part gives for a fusion whose part was replaced.
REFIT_REASON = "was retrained after the fusion was fitted"


def fusions_needing_refit(load_errors: dict[str, str]) -> dict[str, str]:
    """Return {fused model: reason} of the fused models that only need refitting (a part was retrained
    or promoted after they were fitted); other load errors stay errors."""
    return {name: reason for name, reason in load_errors.items() if REFIT_REASON in str(reason)}


def unusable_fusions(models: list[dict]) -> dict[str, str]:
    """Return {fused model: why it cannot run} from the models' metadata alone (no model is loaded):
    genre_models.fusion.find_unusable_part on stand-ins carrying each model's metadata."""
    from types import SimpleNamespace

    from genre_models.fusion import find_unusable_part

    standins = {m["name"]: SimpleNamespace(name=m["name"], metadata=m, is_fusion="components" in m,
                                           genres=list(m.get("genres") or [])) for m in models
                if isinstance(m, dict) and isinstance(m.get("name"), str)}
    problems = {}
    for name, model in standins.items():
        if model.is_fusion:
            try:
                problem = find_unusable_part(model, standins)
            except (KeyError, TypeError):
                continue
            if problem:
                problems[name] = problem
    return problems


def offer_refits(needing: dict[str, str], key: str) -> None:
    """Say which fused models need refitting, in plain words, each with a button starting its refit (a
    background run, as on the Train page) unless the deployment is read-only."""
    from genre_models.config import TrainConfig

    read_only = read_only_reason()
    for name, reason in needing.items():
        part = reason.split("its part ", 1)[-1].split(" ", 1)[0]
        box = st.container(border=True)
        box.markdown(f"**{name} needs refitting.** Its part {part} was replaced (a newer run is in use) after "
                     f"{name}'s weights and thresholds were fitted, so {name} is left out of predictions until it "
                     "is refitted. Refitting takes a minute or two and trains no network.")
        if box.button(f"Refit {name}", key=f"{key}-refit-{name}", disabled=bool(read_only),
                      help=read_only or f"Starts a background run fitting {name} from the models in use; "
                                        "follow it on the Train page."):
            with errors_shown(container=box, toast=True):
                run_dir = runs.start_run(TrainConfig(model_name=name, data_dir=str(resolve_data_dir()),
                                                     command=f"refit offered by the app ({key})", verbose=2))
                announce(f"Refitting {name} in run {run_dir.name}; follow it on the Train page.")


def input_fingerprint(*inputs) -> str:
    """Return a digest of a page's inputs (text, bytes, pixel arrays or None), to tell when they change."""
    import hashlib

    digest = hashlib.sha1()
    for value in inputs:
        if value is None:
            digest.update(b"\x00none")
        elif isinstance(value, np.ndarray):
            digest.update(str(value.shape).encode() + np.ascontiguousarray(value).tobytes())
        elif isinstance(value, (bytes, bytearray, memoryview)):
            digest.update(bytes(value))
        else:
            digest.update(str(value).encode("utf-8", errors="replace"))
        digest.update(b"\x00|")
    return digest.hexdigest()


def describe_worker(status: dict) -> str:
    """Say which worker of a multi-worker cluster a run is (started from the CLI with TF_CONFIG)."""
    index, workers = status.get("worker_index"), status.get("workers")
    role = "the chief: it publishes the artifact" if status.get("chief") else "the chief (worker 0) publishes the artifact"
    return f"Multi-worker run: worker {index} of {workers} ({role})."

"""What the Train page draws: the start form (its limits are the worker's, config.TRAINING_LIMITS), a run's
curves with its kept checkpoint marked, the runs overlay with readable names, the runs table and the shipped
models' curves."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from genre_app import charts, data, messages, models, tables, train, train_charts
from genre_models import supervisor
from genre_models.artifacts import HISTORY_FILE, METADATA_FILE, list_artifact_folders
from genre_models.config import EncoderRecipe, PosterRecipe, TextRecipe, TrainConfig, resolve_artifacts_dir
from genre_models.fileio import read_json
from genre_models.models import MODEL_REGISTRY
from genre_models.runs import Run, active_runs, read_history

# The chart keys of the epoch curves (key prefix + suffix), where the suffix is not the metric's name.
CHART_KEYS = {"micro_f1": "micro-f1", "macro_f1": "macro-f1", "pr_auc": "pr-auc", "binary_accuracy": "acc"}
# Session key of the run the page is to show next (a run just started or just ended), applied before its picker.
SHOW_RUN_KEY = "train-show-run"


def ask_number(column, label: str, setting: str, last: dict, fallback, key: str, limit: str | None = None, **options):
    """A number input bounded by the setting's limits, starting from its last used value (else ``fallback``)."""
    low, high = train.bounds_of(limit or setting)
    value = column.number_input(label, low, high, train.last_used(last, setting, type(low)(fallback), limit),
                                key=key, **options)
    return type(low)(value)


def describe_duration(name: str, epochs: int, share: float) -> str:
    """Say about how long these settings take, scaled from the shipped model's own epochs."""
    seconds = train.estimate_training_seconds(name, epochs, share)
    if seconds is None:
        return ""
    amount = "under a minute" if seconds < 60 else f"about {seconds / 60:.0f} min"
    return (f"Training at these settings takes {amount} on the machine that trained the shipped {name}, scaled "
            "from its epochs (loading the data and scoring the films after training come on top).")


def show_start_form() -> None:
    """The start panel: a model and its settings (remembered per model), and the Start button."""
    notice = st.container()  # a refusal shows here, above the panel (folded while a run is active)
    form = train.read_form_settings()
    names = list(MODEL_REGISTRY)
    networks = {name: spec.defaults.epochs for name, spec in MODEL_REGISTRY.items() if not spec.is_fusion}
    with st.expander("Start a run", expanded=not active_runs()):
        name = st.selectbox("Model", names, format_func=lambda n: f"{n}: {MODEL_REGISTRY[n].description}",
                            index=names.index(form["model"]) if form.get("model") in names else 0, key="train-model")
        spec, last = MODEL_REGISTRY[name], form.get("models", {}).get(name)
        recipe, last = spec.defaults, last if isinstance(last, dict) else {}
        if last:
            st.caption("The settings you last started this model with.")
        settings = {"model_name": name, "data_dir": str(data.data_location()), "command": "Train page"}
        if spec.is_fusion:
            st.caption("Fits the fusion weights and thresholds on the validation split from the models in use "
                       "(promoted runs included) in well under a minute; no network is trained.")
        else:
            first, second, third = st.columns(3)
            key = f"train-{name}"  # each model's form starts from its own defaults and last settings
            settings["epochs"] = ask_number(first, "Epochs", "epochs", last, recipe.epochs, f"{key}-epochs")
            settings["batch_size"] = ask_number(second, "Batch size", "batch_size", last, recipe.batch_size,
                                                f"{key}-batch")
            settings["learning_rate"] = ask_number(third, "Learning rate", "learning_rate", last, recipe.learning_rate,
                                                   f"{key}-learning-rate", format="%.6f")
            settings["seed"] = ask_number(first, "Seed", "seed", last, 42, f"{key}-seed")
            settings["patience"] = ask_number(second, "Early-stopping patience (0: off)", "patience", last,
                                              recipe.patience, f"{key}-patience")
            quick = ", ".join(train.list_quick_models(networks)) or "none measured"
            settings["train_fraction"] = ask_number(
                third, "Share of the training data", "train_fraction", last, 1.0, f"{key}-share", step=0.05,
                help=f"Validation and test stay whole. At 0.1 with their default epochs, these train in about a "
                     f"minute: {quick} (and every fusion).")
            if isinstance(recipe, PosterRecipe):
                size = last.get("image_size")
                size = dict(zip(("height", "width"), size)) if isinstance(size, list) and len(size) == 2 else {}
                settings["image_size"] = (
                    ask_number(first, "Image height", "height", size, recipe.image_size[0], f"{key}-height",
                               limit="image_size"),
                    ask_number(second, "Image width", "width", size, recipe.image_size[1], f"{key}-width",
                               limit="image_size"))
                if isinstance(recipe, EncoderRecipe):  # a head over the frozen poster encoder
                    st.caption(train.describe_poster_encoder(recipe))
            elif isinstance(recipe, EncoderRecipe):
                trained = f"its top {recipe.tuned_layers} layers and the head are fine-tuned" if recipe.tuned_layers \
                    else "only the head is trained"
                st.caption(f"Reads overviews through the pretrained {recipe.encoder} encoder (its own tokenizer); "
                           f"{trained}.")
            elif isinstance(recipe, TextRecipe):
                settings["vocabulary_size"] = ask_number(first, "Vocabulary size", "vocabulary_size", last,
                                                         recipe.vocabulary_size, f"{key}-vocabulary")
                settings["sequence_length"] = ask_number(second, "Sequence length (tokens)", "sequence_length", last,
                                                         recipe.sequence_length, f"{key}-sequence")
            st.caption(describe_duration(name, settings["epochs"], settings["train_fraction"]))
        if st.button("Start training", type="primary", key="train-start"):
            train.remember_form_settings(settings)
            with messages.errors_shown(container=notice, toast=True):
                run_dir = supervisor.start_run(TrainConfig(**settings, verbose=2))
                st.session_state[SHOW_RUN_KEY] = run_dir.name
                messages.announce(f"Started run {run_dir.name}.")


def mark_checkpoint(figure: go.Figure, epochs: list[dict]) -> go.Figure:
    """Draw the kept checkpoint's epoch as a dashed line on an epoch chart (nothing before the first epoch)."""
    epoch = train.find_checkpoint_epoch(epochs)
    if epoch is not None and figure.data:
        figure.add_vline(x=epoch, line_dash="dash", line_color=charts.NEUTRAL_COLOUR,
                         annotation_text=f"kept checkpoint (epoch {epoch})", annotation_position="bottom right")
    return figure


def show_curves(epochs: list[dict], key: str, batches: list[dict] | None = None, subject: str = "This run",
                metadata: dict | None = None) -> None:
    """A run's or a model's curves: loss (per batch, smoothed, when given; per epoch), micro-/macro-F1 at 0.5
    (starred at the tuned thresholds once the run has finished: ``metadata``, its artifact's) and PR-AUC when
    recorded, then binary accuracy with why it flatters, ROC AUC, precision, recall and the learning rate; the
    kept checkpoint marked on each."""
    tuned = train_charts.tuned_figures(metadata)
    note = train.describe_checkpoint(epochs)
    if note:
        st.caption(note)

    def draw(column, metric: str, title: str, with_tuned: bool = False) -> None:
        figure = train_charts.plot_epoch_curves(epochs, metric, title, tuned if with_tuned else None)
        suffix = CHART_KEYS.get(metric, metric)
        column.plotly_chart(mark_checkpoint(figure, epochs), key=f"{key}-{suffix}")

    left, right = st.columns(2)
    if batches is not None:
        batch_chart = left.container()  # the chart above its control, level with the epoch chart beside it
        smoothing = left.slider("Smoothing of the per-batch curve", 0.0, 0.99, 0.8, 0.01, key=f"{key}-smoothing",
                                help="Weight of the running average (as TensorBoard's): 0 shows the raw batches.")
        batch_chart.plotly_chart(train_charts.plot_batch_curve(batches, "loss", smoothing), key=f"{key}-batch-loss")
    draw(right, "loss", "loss (training and validation)")
    if train.has_judged_metrics(epochs):
        left, right = st.columns(2)
        draw(left, "micro_f1", "micro-F1 (threshold 0.5)", with_tuned=True)
        draw(right, "macro_f1", "macro-F1 (threshold 0.5)", with_tuned=True)
        draw(left, "pr_auc", "PR-AUC (mean over genres)")
        if tuned:
            right.caption(train.describe_tuned(tuned, epochs))
    elif epochs:
        st.caption(f"{subject} recorded no micro-/macro-F1 or PR-AUC: it was trained before every model recorded "
                   "them. Precision and recall (at 0.5) are below.")
        if tuned:
            st.caption(train.describe_tuned(tuned, epochs, starred=False))
    left, right = st.columns(2)
    draw(left, "binary_accuracy", "binary accuracy")
    left.caption(train.explain_binary_accuracy(models.baseline()))
    draw(right, "auc", "ROC AUC")
    left, right = st.columns(2)
    draw(left, "precision", "precision (threshold 0.5)")
    draw(right, "recall", "recall (threshold 0.5)")
    left.plotly_chart(mark_checkpoint(train_charts.plot_learning_rate(epochs), epochs), key=f"{key}-lr")


def plot_overlay(curves: dict[str, list[dict]], metric: str, tuned: dict) -> go.Figure:
    """The runs overlay titled with its metric's readable name, and each run's kept checkpoint as a diamond."""
    figure = train_charts.plot_runs_overlay(curves, metric, tuned)
    for name, epochs in curves.items():
        epoch = train.find_checkpoint_epoch(epochs)
        value = next((r.get(metric) for r in epochs if r.get("epoch") == epoch), None)
        if isinstance(value, (int, float)):
            figure.add_scatter(x=[epoch], y=[value], mode="markers", name=f"{name}: kept checkpoint",
                               marker={"symbol": "diamond-open", "size": 12, "color": charts.NEUTRAL_COLOUR})
    # Named in the title, where the words fit, rather than along the axis, where a long name is cut.
    return figure.update_layout(**charts.title_layout(train.METRIC_NAMES.get(metric, metric)), yaxis_title=None)


def show_overlay(all_runs: list[Run], chosen: list[str], metric_key: str, picked_key: str) -> None:
    """The chosen runs' curves of one metric overlaid; the metric follows the runs until the user picks one."""
    curves = {run.name: read_history(run.folder) for run in all_runs if run.name in chosen}
    picked = st.session_state.get(picked_key)
    if picked not in train.METRIC_NAMES:
        st.session_state[metric_key] = train.choose_default_metric(curves)
    elif metric_key not in st.session_state:  # back from another page: the pick, not a default
        st.session_state[metric_key] = picked
    metric = st.selectbox("Metric", list(train.METRIC_NAMES), key=metric_key, format_func=train.METRIC_NAMES.get,
                          on_change=lambda: st.session_state.update({picked_key: st.session_state[metric_key]}),
                          help="F1 and PR-AUC exist only for runs started since every model records them.")
    tuned = {run.name: train_charts.tuned_figures(run.metadata) for run in all_runs if run.name in chosen}
    st.plotly_chart(plot_overlay(curves, metric, tuned), key="overlay")
    if metric in ("val_micro_f1", "val_macro_f1") and any(tuned.values()):
        st.caption("The curves are at the threshold 0.5, epoch by epoch; a diamond is a run's kept checkpoint (its "
                   "lowest validation loss) and a star that checkpoint's F1 at the thresholds tuned after the run.")


def show_runs_table(all_runs: list[Run], promoted: dict) -> None:
    """The Runs heading, one row per run and the latest run's state."""
    st.subheader("Runs")
    if not all_runs:
        st.caption("No runs yet.")
        return
    tables.show_table(train.run_rows(all_runs, promoted))
    latest = all_runs[0]
    st.markdown(f"Latest run `{latest.name}`: **{latest.state}**")
    if latest.error:
        st.text(latest.error)


def show_shipped_curves() -> None:
    """The training curves of a shipped model, from its artifact's history.json."""
    histories = shipped_histories()
    trained = [name for name, epochs in histories.items() if epochs]
    if not trained:
        st.caption("No shipped model has a training history.")
        return
    name = st.selectbox("Model", trained, key="train-shipped-model")
    fused = [name for name, epochs in histories.items() if not epochs]
    if fused:
        st.caption(f"Not listed: {', '.join(fused)} (fused: their weights are fitted on the validation films, "
                   "with no epochs).")
    show_curves(histories[name], key=f"shipped-{name}", subject=f"{name} (shipped)",
                           metadata=read_json(list_artifact_folders(resolve_artifacts_dir())[name] / METADATA_FILE))


@st.cache_data(show_spinner=False, max_entries=8)
def get_shipped_histories(artifacts_dir: str, stamps: tuple[tuple[str, float], ...]) -> dict[str, list[dict]]:
    """Return {shipped model: its per-epoch history}, read once per state of the history files."""
    return {name: read_history(folder) for name, folder in list_artifact_folders(Path(artifacts_dir)).items()}


def shipped_histories() -> dict[str, list[dict]]:
    """Return the per-epoch history of every shipped artifact (a fused model's is empty: no epochs)."""
    folder = resolve_artifacts_dir()
    stamps = []
    for name, path in sorted(list_artifact_folders(folder).items()):
        try:
            stamps.append((name, (path / HISTORY_FILE).stat().st_mtime))
        except OSError:
            stamps.append((name, 0.0))
    return get_shipped_histories(str(folder), tuple(stamps))

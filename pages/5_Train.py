"""Train: start a background training run, watch it live, stop it, resume a stopped or failed one, compare
past runs, promote one, download a run's history and metadata, and read the shipped models' training curves.

Training runs in its own OS process (python -m genre_models train); this page only
starts it and reads its run folder, so refreshing or closing the tab loses nothing. The page
refreshes itself only while a run is active (a fragment re-running every few seconds); once the
run ends it reruns once, whole, and goes quiet.
"""

from __future__ import annotations

import streamlit as st

from genre_app import charts, data, links, messages, models, refits, tables, widgets
from genre_app.streamlit_patches import apply_streamlit_patches
from genre_models import backup, runs
from genre_models.fileio import read_json, write_json_atomically
from genre_models.artifacts import METADATA_FILE, list_artifact_folders
from genre_models.config import EncoderRecipe, PosterRecipe, TextRecipe, TrainConfig, resolve_artifacts_dir
from genre_models.models import MODEL_REGISTRY

apply_streamlit_patches()

# Seconds between live refreshes of the active run (only while one is active).
REFRESH_SECONDS = 2
# Session key of the message saying which run ended, shown as a toast after the page's rerun.
ENDED_KEY = "train-ended"
# The address parameter naming the chosen run.
RUN_PARAMETER = "run"
# Session keys of the runs overlay's metric and of whether the user picked it (a default never replaces it then).
OVERLAY_METRIC_KEY = "train-overlay-metric"
METRIC_CHOSEN_KEY = "train-overlay-metric-chosen"
# The start form's last used settings, per model, kept in the runs folder so a reload keeps them.
FORM_FILE = "start_form.json"


def read_form_settings() -> dict:
    """Return {"model": last model started, "models": {model: its last settings}} ({} when none or damaged)."""
    stored = read_json(runs.resolve_runs_dir() / FORM_FILE, default={})
    return stored if isinstance(stored, dict) and isinstance(stored.get("models", {}), dict) else {}


def remember_form_settings(settings: dict) -> None:
    """Keep the settings of the start form just used (atomically; a failure to write is not an error)."""
    stored = read_form_settings()
    kept = {key: value for key, value in settings.items() if key not in ("data_dir", "command")}
    stored = {"model": settings["model_name"], "models": {**stored.get("models", {}), settings["model_name"]: kept}}
    try:
        runs.resolve_runs_dir().mkdir(parents=True, exist_ok=True)
        write_json_atomically(runs.resolve_runs_dir() / FORM_FILE, stored)
    except OSError:
        pass


def last_used(last: dict, key: str, low, high, fallback, kind):
    """Return a setting as last used when it is of the expected type and within the widget's bounds,
    else the recipe's default."""
    try:
        value = kind(last[key])
    except (KeyError, TypeError, ValueError):
        return fallback
    return value if low <= value <= high else fallback


def start_form() -> None:
    """The start panel: a model and its settings (remembered per model), and the Start button."""
    # A refusal is shown here, above the start panel, which is folded while a run is active.
    start_notice = st.container()
    form = read_form_settings()
    model_names = list(MODEL_REGISTRY)
    with st.expander("Start a run", expanded=not runs.active_runs()):
        name = st.selectbox("Model", model_names, format_func=lambda n: f"{n}: {MODEL_REGISTRY[n].description}",
                            index=model_names.index(form["model"]) if form.get("model") in model_names else 0,
                            key="train-model")
        spec = MODEL_REGISTRY[name]
        recipe = spec.defaults
        last = form.get("models", {}).get(name)
        last = last if isinstance(last, dict) else {}
        if last:
            st.caption("The settings you last started this model with.")
        settings = {"model_name": name, "data_dir": str(data.data_location()), "command": "Train page"}
        if spec.is_fusion:
            st.caption("Fits the fusion weights and thresholds on the validation split from the models in use "
                       "(promoted runs included); no network is trained.")
        else:
            first, second, third = st.columns(3)

            def bounded(key, low, high, fallback, kind):
                return last_used(last, key, low, high, fallback, kind)

            # Keys name the model: each model's form starts from its own defaults and last settings.
            key = f"train-{name}"
            settings["epochs"] = int(first.number_input("Epochs", 1, 500, bounded("epochs", 1, 500, recipe.epochs, int),
                                                        key=f"{key}-epochs"))
            settings["batch_size"] = int(second.number_input(
                "Batch size", 1, 1024, bounded("batch_size", 1, 1024, recipe.batch_size, int), key=f"{key}-batch"))
            settings["learning_rate"] = float(third.number_input(
                "Learning rate", 1e-6, 1.0, bounded("learning_rate", 1e-6, 1.0, recipe.learning_rate, float),
                format="%.5f", key=f"{key}-learning-rate"))
            settings["seed"] = int(first.number_input("Seed", 0, 2**31 - 1, bounded("seed", 0, 2**31 - 1, 42, int),
                                                      key=f"{key}-seed"))
            settings["patience"] = int(second.number_input(
                "Early-stopping patience (0: off)", 0, 500, bounded("patience", 0, 500, recipe.patience, int),
                key=f"{key}-patience"))
            share = round(bounded("train_fraction", 0.05, 1.0, 1.0, float) / 0.05) * 0.05
            settings["train_fraction"] = float(third.slider(
                "Share of the training data", 0.05, 1.0, round(share, 2), 0.05, key=f"{key}-share",
                help="0.1 makes a demo run that finishes in about a minute; validation and test stay whole."))
            if isinstance(recipe, PosterRecipe):
                size = last.get("image_size")
                size = dict(zip(("height", "width"), size)) if isinstance(size, list) and len(size) == 2 else {}
                height = first.number_input("Image height", 16, 512,
                                            last_used(size, "height", 16, 512, recipe.image_size[0], int),
                                            key=f"{key}-height")
                width = second.number_input("Image width", 16, 512,
                                            last_used(size, "width", 16, 512, recipe.image_size[1], int),
                                            key=f"{key}-width")
                settings["image_size"] = (int(height), int(width))
            elif isinstance(recipe, EncoderRecipe):
                tuned = recipe.tuned_layers
                trained = f"its top {tuned} layers and the head are fine-tuned" if tuned else "only the head is trained"
                st.caption(f"Reads overviews through the pretrained {recipe.encoder} encoder "
                           f"(its own tokenizer); {trained}.")
            elif isinstance(recipe, TextRecipe):
                settings["vocabulary_size"] = int(first.number_input(
                    "Vocabulary size", 100, 100_000, bounded("vocabulary_size", 100, 100_000, recipe.vocabulary_size,
                                                             int), key=f"{key}-vocabulary"))
                settings["sequence_length"] = int(second.number_input(
                    "Sequence length (tokens)", 4, 512, bounded("sequence_length", 4, 512, recipe.sequence_length,
                                                                int), key=f"{key}-sequence"))
        if st.button("Start training", type="primary", key="train-start"):
            remember_form_settings(settings)
            with messages.errors_shown(container=start_notice, toast=True):
                run_dir = runs.start_run(TrainConfig(**settings, verbose=2))
                messages.announce(f"Started run {run_dir.name}.")


def show_curves(epochs: list[dict], key: str, batches: list[dict] | None = None, subject: str = "This run",
                metadata: dict | None = None) -> None:
    """A run's or a model's curves: loss (per batch, smoothed, when given; per epoch), the figures the
    models are judged by (micro-/macro-F1 at 0.5 per epoch, starred at the tuned thresholds once the run has
    finished: ``metadata``, its artifact's; PR-AUC) when the run recorded them, then binary accuracy with
    why it flatters, ROC AUC, precision, recall and the learning rate."""
    tuned = charts.tuned_figures(metadata)
    left, right = st.columns(2)
    if batches is not None:
        # The chart first and its control under it, so it lines up with the epoch chart beside it.
        batch_chart = left.container()
        smoothing = left.slider("Smoothing of the per-batch curve", 0.0, 0.99, 0.8, 0.01, key=f"{key}-smoothing",
                                help="Weight of the running average (as TensorBoard's): 0 shows the raw batches.")
        batch_chart.plotly_chart(charts.plot_batch_curve(batches, "loss", smoothing), key=f"{key}-batch-loss")
    right.plotly_chart(charts.plot_epoch_curves(epochs, "loss"), key=f"{key}-loss")
    if widgets.has_judged_metrics(epochs):
        left, right = st.columns(2)
        left.plotly_chart(charts.plot_epoch_curves(epochs, "micro_f1", "micro-F1 (threshold 0.5)", tuned),
                          key=f"{key}-micro-f1")
        right.plotly_chart(charts.plot_epoch_curves(epochs, "macro_f1", "macro-F1 (threshold 0.5)", tuned),
                           key=f"{key}-macro-f1")
        left.plotly_chart(charts.plot_epoch_curves(epochs, "pr_auc", "PR-AUC (mean over genres)"), key=f"{key}-pr-auc")
        if tuned:
            right.caption(charts.describe_tuned_figures(tuned, epochs))
    elif epochs:
        st.caption(f"{subject} recorded no micro-/macro-F1 or PR-AUC: it was trained before every model recorded "
                   "them. Precision and recall (at 0.5) are below.")
        if tuned:
            st.caption(charts.describe_tuned_figures(tuned, epochs).replace(" (the stars)", ""))
    left, right = st.columns(2)
    left.plotly_chart(charts.plot_epoch_curves(epochs, "binary_accuracy", "binary accuracy"), key=f"{key}-acc")
    left.caption(widgets.explain_binary_accuracy(models.baseline()))
    right.plotly_chart(charts.plot_epoch_curves(epochs, "auc", "ROC AUC"), key=f"{key}-auc")
    left, right = st.columns(2)
    left.plotly_chart(charts.plot_epoch_curves(epochs, "precision"), key=f"{key}-precision")
    right.plotly_chart(charts.plot_epoch_curves(epochs, "recall"), key=f"{key}-recall")
    left.plotly_chart(charts.plot_learning_rate(epochs), key=f"{key}-lr")


def follow_active_runs(followed: list[str], read_only: str | None) -> None:
    """The live part of the page, refreshed every REFRESH_SECONDS while a run is active (see below): the
    active runs and the runs table, both from one read of the runs folder, so they say the same state."""
    all_runs = runs.list_runs()
    active = [run for run in all_runs if run["status"].get("state") in runs.ACTIVE_STATES]
    if [run["id"] for run in active] != followed:
        # A run ended (or another started): rerun the whole page once, so the buttons and the start panel
        # show it; with no run left active the page then stops refreshing.
        states = {run["id"]: run["status"].get("state") for run in all_runs}
        ended = [f"{run_id} {states.get(run_id, 'ended')}" for run_id in followed
                 if run_id not in [run["id"] for run in active]]
        if ended:
            st.session_state[ENDED_KEY] = "Run " + ", ".join(ended) + "."
        st.rerun()
    for run in active:
        status = run["status"]
        progress = runs.describe_progress(status)
        eta = progress["eta_seconds"]
        st.markdown(f"**Active run `{run['id']}`** ({status.get('model')}, {status['state']})")
        if status.get("workers"):
            st.caption(widgets.describe_worker(status))
        if status.get("not_reporting"):
            st.warning("The worker has not reported for a few minutes; it may be stuck. Stop it if it does not "
                       "move on.")
        st.progress(progress["done"], text=progress["text"] + (f", about {eta / 60:.1f} min left" if eta else ""))
        if not runs.stop_requested(run["folder"]) and st.button("Stop training", key=f"stop-{run['id']}",
                                                                 disabled=bool(read_only), help=read_only):
            with messages.errors_shown(toast=True):
                runs.request_stop(run["folder"])
                st.toast(f"Stop requested for run {run['id']}.", icon=":material/stop_circle:")
        if runs.stop_requested(run["folder"]):
            # Said in full: the worker still scores the splits with the kept checkpoint (~20 s for a network),
            # so the note stays a while after the epochs stop.
            st.warning("Stop requested: the run ends after its current step and keeps its best checkpoint; it then "
                       "scores the validation and test films with it (the bar above says how far) before it ends.")
        batches, epochs = runs.read_metrics(run["folder"])
        show_curves(epochs, key=run["id"], batches=batches)
    # Drawn here, not by the page: drawn from the page's one read it would keep the state the run had when
    # the page last ran whole (queued, starting) while the lines above, refreshed, say running.
    show_runs_table(all_runs, runs.read_promotions())  # read again each refresh, as the runs are


# Decorated here, not with @: the refresh interval belongs to this one use, and the page calls it only
# while a run is active, so an idle page sends nothing to the server.
follow_active_runs_live = st.fragment(run_every=REFRESH_SECONDS)(follow_active_runs)


def run_rows(all_runs: list[dict], promoted: dict) -> list[dict]:
    """One table row per run, the active one with its epoch, step and minutes."""
    rows = []
    for run in all_runs:
        status, config, metadata = run["status"], run["config"], run["metadata"]
        seconds = runs.measure_run_seconds(status, run["folder"])
        # The artifact's metadata is read as the worker left it: absent for a failed run, maybe damaged.
        training = metadata.get("training") if isinstance(metadata, dict) else None
        active = status.get("state") in runs.ACTIVE_STATES
        rows.append({
            "run": run["id"], "model": status.get("model") or config.get("model_name"), "status": status.get("state"),
            "progress": runs.describe_progress(status)["text"] if active else "",
            "epochs": config.get("epochs"), "batch": config.get("batch_size"), "lr": config.get("learning_rate"),
            "share": config.get("train_fraction"),
            "minutes": round(seconds / 60, 1) if seconds is not None else None,
            "best val_loss": training.get("best_val_loss") if isinstance(training, dict) else None,
            **tables.model_figures(metadata),
            "in use": "yes" if widgets.is_in_use(run["folder"], promoted) else "",
            "error": status.get("error", ""),
        })
    return rows


def show_runs_table(all_runs: list[dict], promoted: dict) -> None:
    """The Runs heading, one row per run and the latest run's state."""
    st.subheader("Runs")
    if not all_runs:
        st.caption("No runs yet.")
        return
    tables.show_table(run_rows(all_runs, promoted))
    latest = all_runs[0]
    st.markdown(f"Latest run `{latest['id']}`: **{latest['status'].get('state')}**"
                + (f" ({latest['status']['error']})" if latest["status"].get("error") else ""))


def resume_button(run: dict, read_only: str | None, notice) -> None:
    """The Resume button of a stopped or failed run that holds a backup: its worker starts again on the same
    folder and settings and goes on from the epoch after the last finished one."""
    epoch = backup.backup_epoch(run["folder"])
    epochs = run["config"].get("epochs")
    what = f"after epoch {epoch}" + (f" of {epochs}" if epochs else "")
    st.info(f"Run {run['id']} {run['status'].get('state')} {what}; its backup (model and optimizer weights, "
            "early stopping) lets it go on where it was, as one run.")
    if st.button("Resume training", type="primary", key="train-resume", disabled=bool(read_only),
                 help=read_only or f"Goes on with epoch {epoch + 1 if epoch is not None else '?'}, same settings."):
        with messages.errors_shown(container=notice, toast=True):
            runs.resume_run(run["folder"])
            messages.announce(f"Resumed run {run['id']} {what}.")


def remember_metric_choice() -> None:
    """A metric the user picked for the runs overlay is kept, apart from the widget's own key (which Streamlit
    drops when the user visits another page): no default replaces it any more."""
    st.session_state[METRIC_CHOSEN_KEY] = st.session_state[OVERLAY_METRIC_KEY]


def keep_run_in_address() -> None:
    """The run chosen in the Run box goes into the address (?run=<id>)."""
    st.query_params[RUN_PARAMETER] = st.session_state["manage"]


def manage_runs(all_runs: list[dict], promoted: dict, read_only: str | None) -> None:
    """Overlay runs' curves, and act on the chosen run: use it, delete it, download its history and
    metadata; restore a shipped model."""
    run_ids = [run["id"] for run in all_runs]
    chosen = st.multiselect("Overlay the curves of", run_ids, default=[st.session_state.get("manage", run_ids[0])],
                            key="train-overlay")
    curves = {run["id"]: runs.read_history(run["folder"]) for run in all_runs if run["id"] in chosen}
    picked = st.session_state.get(METRIC_CHOSEN_KEY)
    if picked not in widgets.OVERLAY_METRICS:
        # Until the user picks a metric it follows the shown runs (set each time, not once: a run that was
        # still in its first epoch when the page opened has F1 curves, and stars, once it finished).
        st.session_state[OVERLAY_METRIC_KEY] = widgets.choose_default_overlay_metric(curves)
    elif OVERLAY_METRIC_KEY not in st.session_state:  # back from another page: the pick, not a default
        st.session_state[OVERLAY_METRIC_KEY] = picked
    metric = st.selectbox("Metric", widgets.OVERLAY_METRICS, key=OVERLAY_METRIC_KEY, on_change=remember_metric_choice,
                          help="val_micro_f1, val_macro_f1 and val_pr_auc exist only for runs started since every "
                               "model records them.")
    tuned = {run["id"]: charts.tuned_figures(run["metadata"]) for run in all_runs if run["id"] in chosen}
    st.plotly_chart(charts.plot_runs_overlay(curves, metric, tuned), key="overlay")
    if metric in ("val_micro_f1", "val_macro_f1") and any(tuned.values()):
        st.caption("The curves are at the threshold 0.5, epoch by epoch; a star is a finished run's figure at the "
                   "thresholds tuned on the validation films after the run, for its best checkpoint.")

    selected = st.selectbox("Run", run_ids, key="manage", on_change=keep_run_in_address,
                            help="The chosen run is kept in the address (?run=...), so a link or a reload opens it.")
    run = next(run for run in all_runs if run["id"] == selected)
    run_dir = run["folder"]
    chosen_tuned = charts.tuned_figures(run["metadata"])
    if chosen_tuned:
        st.caption(f"Run {selected}: " + charts.describe_tuned_figures(chosen_tuned, runs.read_history(run_dir)))
    action_notice = st.container()
    if runs.can_resume(run):
        resume_button(run, read_only, action_notice)
    actions = st.columns(4)
    # Disabled (not hidden) on a read-only deployment, so visitors see what exists and why it is off.
    if actions[0].button("Use this model", disabled=bool(read_only), key="train-use",
                         help=read_only or "Predict, Compare and Evaluate will use this run's model."):
        with messages.errors_shown(container=action_notice, toast=True):
            model_name = runs.promote_run(run_dir)
            messages.announce(f"{model_name} now uses run {selected}.")
    # Deleting asks first: the button only arms a confirmation naming the run.
    if actions[1].button("Delete run", disabled=bool(read_only), key="train-delete",
                         help=read_only or "Asks for confirmation first."):
        st.session_state["confirm-delete"] = selected
    if st.session_state.get("confirm-delete") == selected and not read_only:
        with action_notice.container(border=True):
            st.warning(f"Delete run {selected} and all its files (curves, checkpoint, model)? This cannot be undone.")
            yes, no = st.columns(2)
            if yes.button("Yes, delete it", type="primary", key="confirm-delete-yes"):
                st.session_state.pop("confirm-delete", None)
                with messages.errors_shown(container=action_notice, toast=True):
                    runs.delete_run(run_dir)
                    st.query_params.pop(RUN_PARAMETER, None)
                    messages.announce(f"Deleted run {selected}.")
            if no.button("Cancel", key="confirm-delete-no"):
                st.session_state.pop("confirm-delete", None)
                st.rerun()
    # Downloads need no permission: they change nothing.
    actions[2].download_button("Download history.json", runs.build_history_download(run_dir),
                               file_name=f"{selected}-history.json", mime="application/json",
                               key="train-download-history", on_click="ignore",
                               help="Every finished epoch's metrics, as the run wrote them.")
    actions[3].download_button("Download run metadata", runs.build_metadata_download(run_dir),
                               file_name=f"{selected}-metadata.json", mime="application/json",
                               key="train-download-metadata", on_click="ignore",
                               help="The run's settings (config.json), its status and, once published, its "
                                    "artifact's metadata.json, in one file.")
    if promoted:
        restore = st.selectbox("Restore the shipped model for", sorted(promoted), key="train-restore-model")
        if st.button("Restore shipped", disabled=bool(read_only), help=read_only, key="train-restore"):
            with messages.errors_shown(container=action_notice, toast=True):
                runs.restore_shipped(restore)
                messages.announce(f"{restore} uses the shipped model again.")


def show_shipped_curves() -> None:
    """The training curves of a shipped model, from its artifact's history.json."""
    histories = widgets.shipped_histories()
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


st.set_page_config(page_title="Train a model", layout="wide")
st.title("Train a model")

messages.show_announcement()
ended = st.session_state.pop(ENDED_KEY, None)
if ended:
    st.toast(ended, icon=":material/flag:")
messages.warn_if_promotions_damaged()
all_runs = runs.list_runs()
run_ids = [run["id"] for run in all_runs]
# ?run=<id> chooses the run (a link or a reload); an unknown one is named in a warning and the newest is shown.
addressed = links.read_url_choice(RUN_PARAMETER, lambda run_id: run_id in run_ids, "the run",
                                    "the newest run is shown" if run_ids else "there are no runs yet")
if addressed:
    st.session_state["manage"] = addressed
elif st.session_state.get("manage") not in run_ids:
    st.session_state.pop("manage", None)  # a run deleted since (here or elsewhere): the newest is shown
# A shared deployment is read-only: every button that changes shared state is hidden or disabled.
read_only = messages.read_only_notice("Training")
if read_only:
    st.caption("Visitors cannot start, resume, promote, restore or delete runs here; past runs and their curves "
               "are still listed below.")
else:
    start_form()

st.subheader("Active run")
promoted = runs.read_promotions()  # one read for the page's runs table and run management
active_ids = [run["id"] for run in all_runs if run["status"].get("state") in runs.ACTIVE_STATES]
if active_ids:
    follow_active_runs_live(active_ids, read_only)  # with the runs table
else:
    st.caption("No run is active.")
    # Nothing refreshes an idle page: a run started elsewhere (the CLI, another tab) shows on a click here.
    st.button("Check for a new run", key="train-check", help="Reads the runs folder again.")
    show_runs_table(all_runs, promoted)
if all_runs:
    manage_runs(all_runs, promoted, read_only)
# A fused model whose part was just replaced needs refitting: said here, with the fix.
refits.offer_refits(refits.fusions_needing_refit(refits.unusable_fusions(models.artifact_listing()[0])),
                     key="train")

st.subheader("Training curves of the shipped models")
show_shipped_curves()

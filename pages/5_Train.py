"""Train: start a background training run, watch it live, stop it, compare past runs, promote one.

Training runs in its own OS process (python -m genre_models train); this page only
starts it and reads its run folder, so refreshing or closing the tab loses nothing.
"""

from __future__ import annotations

import time

import streamlit as st

from genre_app import charts, state, widgets
from genre_models import runs
from genre_models.config import EncoderRecipe, PosterRecipe, TextRecipe, TrainConfig
from genre_models.models import MODEL_REGISTRY

# Seconds between live refreshes of the active run.
REFRESH_SECONDS = 2

st.set_page_config(page_title="Train a model", layout="wide")
st.title("Train a model")

widgets.warn_if_promotions_damaged()
# A shared deployment is read-only: every button that changes shared state is hidden or disabled.
read_only = widgets.read_only_notice("Training")
if read_only:
    st.caption("Visitors cannot start, promote, restore or delete runs here; past runs and their curves are "
               "still listed below.")
else:
    with st.expander("Start a run", expanded=not runs.active_runs()):
        name = st.selectbox("Model", list(MODEL_REGISTRY), format_func=lambda n: f"{n}: {MODEL_REGISTRY[n].description}")
        spec = MODEL_REGISTRY[name]
        recipe = spec.defaults
        settings = {"model_name": name, "data_dir": str(state.data_location()), "command": "Train page"}
        if spec.is_fusion:
            st.caption("Fits the fusion weights and thresholds on the validation split from the models in use "
                       "(promoted runs included); no network is trained.")
        else:
            first, second, third = st.columns(3)
            settings["epochs"] = int(first.number_input("Epochs", 1, 500, recipe.epochs))
            settings["batch_size"] = int(second.number_input("Batch size", 1, 1024, recipe.batch_size))
            settings["learning_rate"] = float(third.number_input("Learning rate", 1e-6, 1.0, recipe.learning_rate,
                                                                 format="%.5f"))
            settings["seed"] = int(first.number_input("Seed", 0, 2**31 - 1, 42))
            settings["patience"] = int(second.number_input("Early-stopping patience (0: off)", 0, 500,
                                                           recipe.patience))
            settings["train_fraction"] = float(third.slider(
                "Share of the training data", 0.05, 1.0, 1.0, 0.05,
                help="0.1 makes a demo run that finishes in about a minute; validation and test stay whole."))
            if isinstance(recipe, PosterRecipe):
                height = first.number_input("Image height", 16, 512, recipe.image_size[0])
                width = second.number_input("Image width", 16, 512, recipe.image_size[1])
                settings["image_size"] = (int(height), int(width))
            elif isinstance(recipe, EncoderRecipe):
                tuned = recipe.tuned_layers
                trained = f"its top {tuned} layers and the head are fine-tuned" if tuned else "only the head is trained"
                st.caption(f"Reads overviews through the pretrained {recipe.encoder} encoder "
                           f"(its own tokenizer); {trained}.")
            elif isinstance(recipe, TextRecipe):
                settings["vocabulary_size"] = int(first.number_input("Vocabulary size", 100, 100_000,
                                                                     recipe.vocabulary_size))
                settings["sequence_length"] = int(second.number_input("Sequence length (tokens)", 4, 512,
                                                                      recipe.sequence_length))
        if st.button("Start training", type="primary"):
            with widgets.errors_shown():
                run_dir = runs.start_run(TrainConfig(**settings, verbose=2))
                st.success(f"Started run `{run_dir.name}`.")


def show_run_curves(run_dir, key: str) -> None:
    """Live curves of one run: loss/accuracy per epoch and per batch, precision/recall/AUC, learning rate."""
    batches, epochs = runs.read_metrics(run_dir)
    left, right = st.columns(2)
    left.plotly_chart(charts.plot_batch_curve(batches, "loss"), key=f"{key}-batch-loss")
    right.plotly_chart(charts.plot_epoch_curves(epochs, "loss"), key=f"{key}-loss")
    left.plotly_chart(charts.plot_epoch_curves(epochs, "binary_accuracy", "binary accuracy"), key=f"{key}-acc")
    right.plotly_chart(charts.plot_epoch_curves(epochs, "auc", "AUC"), key=f"{key}-auc")
    left.plotly_chart(charts.plot_epoch_curves(epochs, "precision"), key=f"{key}-precision")
    right.plotly_chart(charts.plot_epoch_curves(epochs, "recall"), key=f"{key}-recall")
    if epochs:
        left.plotly_chart(charts.plot_learning_rate(epochs), key=f"{key}-lr")


@st.fragment(run_every=REFRESH_SECONDS)
def show_active_runs() -> None:
    """Re-runs on its own every few seconds while the page is open."""
    active = runs.active_runs()
    if not active:
        st.caption("No run is active.")
        return
    for run in active:
        status = run["status"]
        progress = runs.describe_progress(status)
        eta = progress["eta_seconds"]
        st.markdown(f"**Active run `{run['id']}`** ({status.get('model')}, {status['state']})")
        st.progress(progress["done"], text=progress["text"] + (f", about {eta / 60:.1f} min left" if eta else ""))
        if not runs.stop_requested(run["folder"]) and st.button("Stop training", key=f"stop-{run['id']}",
                                                                 disabled=bool(read_only), help=read_only):
            runs.request_stop(run["folder"])
        if runs.stop_requested(run["folder"]):
            st.warning("Stop requested: the run ends after its current step and keeps its best checkpoint.")
        show_run_curves(run["folder"], run["id"])


st.subheader("Active run")
show_active_runs()

st.subheader("Runs")
all_runs = runs.list_runs()
promoted = runs.read_promotions()
if not all_runs:
    st.caption("No runs yet.")
else:
    rows = []
    for run in all_runs:
        status, config, metadata = run["status"], run["config"], run["metadata"]
        # The artifact's metadata is read as the worker left it: absent for a failed run, maybe damaged.
        training = metadata.get("training") if isinstance(metadata, dict) else None
        rows.append({
            "run": run["id"], "model": status.get("model") or config.get("model_name"), "status": status.get("state"),
            "epochs": config.get("epochs"), "batch": config.get("batch_size"), "lr": config.get("learning_rate"),
            "share": config.get("train_fraction"),
            "minutes": round(float(status.get("elapsed") or 0) / 60, 1),
            "best val_loss": training.get("best_val_loss") if isinstance(training, dict) else None,
            **widgets.model_figures(metadata),
            "in use": "yes" if widgets.is_in_use(run["folder"], promoted) else "",
            "error": status.get("error", ""),
        })
    widgets.show_table(rows)
    latest = all_runs[0]
    st.markdown(f"Latest run `{latest['id']}`: **{latest['status'].get('state')}**"
                + (f" ({latest['status']['error']})" if latest["status"].get("error") else ""))

    chosen = st.multiselect("Overlay the curves of", [run["id"] for run in all_runs], default=[all_runs[0]["id"]])
    metric = st.selectbox("Metric", ["val_loss", "loss", "val_binary_accuracy", "val_auc", "val_precision",
                                     "val_recall"])
    curves = {run["id"]: runs.read_metrics(run["folder"])[1] for run in all_runs if run["id"] in chosen}
    st.plotly_chart(charts.plot_runs_overlay(curves, metric), key="overlay")

    selected = st.selectbox("Run", [run["id"] for run in all_runs], key="manage")
    run_dir = next(run["folder"] for run in all_runs if run["id"] == selected)
    actions = st.columns(3)
    # Disabled (not hidden) on a read-only deployment, so visitors see what exists and why it is off.
    if actions[0].button("Use this model", disabled=bool(read_only),
                         help=read_only or "Predict, Compare and Evaluate will use this run's model."):
        with widgets.errors_shown():
            model_name = runs.promote_run(run_dir)
            st.success(f"{model_name} now uses run {selected}.")
    if actions[1].button("Delete run", disabled=bool(read_only), help=read_only):
        with widgets.errors_shown():
            runs.delete_run(run_dir)
            st.success(f"Deleted {selected}.")
            time.sleep(0.5)
            st.rerun()
    if promoted:
        restore = actions[2].selectbox("Restore the shipped model for", sorted(promoted))
        if actions[2].button("Restore shipped", disabled=bool(read_only), help=read_only):
            with widgets.errors_shown():
                runs.restore_shipped(restore)
                st.success(f"{restore} uses the shipped model again.")

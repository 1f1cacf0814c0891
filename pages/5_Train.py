"""Train: start a background training run, watch it live, stop it, resume a stopped or failed one, read a run's
curves once it ended, compare runs, promote one, download a run's files and every run's scalars.

Training runs in its own OS process (genre_models.supervisor); this page starts it and reads its run folder, so
refreshing or closing the tab loses nothing. While a run is active a fragment re-runs every few seconds; once the
run ends the page reruns once, whole, shows that run, and goes quiet.
"""

from __future__ import annotations

import streamlit as st

from genre_app import links, messages, models, refits, train, train_view
from genre_app.streamlit_patches import apply_streamlit_patches
from genre_models import backup, promotions, run_exports, runs, supervisor

apply_streamlit_patches()

# Seconds between live refreshes of the active run (only while one is active).
REFRESH_SECONDS = 2
# Session key of the active runs the page last followed: one no longer active has ended, and is then shown.
FOLLOWED_KEY = "train-followed"
# The address parameter naming the chosen run, and the session key of the Run picker.
RUN_PARAMETER, RUN_KEY = "run", "manage"
# Session keys of the runs overlay's metric and of the metric the user picked (a default never replaces it).
OVERLAY_METRIC_KEY, METRIC_CHOSEN_KEY = "train-overlay-metric", "train-overlay-metric-chosen"


def follow_active_runs(followed: list[str], read_only: str | None) -> None:
    """The live part, refreshed every REFRESH_SECONDS while a run is active: the active runs and the runs table,
    from one read of the runs folder, so both say the same state."""
    all_runs = runs.list_runs()
    active = [run for run in all_runs if run.is_active]
    if [run.name for run in active] != followed:
        st.rerun()  # a run ended (or another started): the page, run whole, says so and shows it
    for run in active:
        progress = runs.describe_progress(run.status)
        eta = progress["eta_seconds"]
        st.markdown(f"**Active run `{run.name}`** ({run.model}, {run.state})")
        if run.status.get("workers"):
            st.caption(train.describe_worker(run.status))
        if run.not_reporting:
            st.warning("The worker has not reported for a few minutes; it may be stuck. Stop it if it does not "
                       "move on.")
        st.progress(progress["done"], text=progress["text"] + (f", about {eta / 60:.1f} min left" if eta else ""))
        if not run.stop_requested and st.button("Stop training", key=f"stop-{run.name}", disabled=bool(read_only),
                                                help=read_only):
            with messages.errors_shown(toast=True):
                supervisor.request_stop(run.folder)
                st.toast(f"Stop requested for run {run.name}.", icon=":material/stop_circle:")
        if run.stop_requested:
            st.warning(train.describe_stop(run))
        batches, epochs = runs.read_metrics(run.folder)
        train_view.show_curves(epochs, key=run.name, batches=batches)
    train_view.show_runs_table(all_runs, promotions.read_promotions())  # read again each refresh, as the runs are


# Decorated here, not with @: the interval belongs to this one use, called only while a run is active.
follow_active_runs_live = st.fragment(run_every=REFRESH_SECONDS)(follow_active_runs)


def resume_button(run: runs.Run, read_only: str | None, notice) -> None:
    """The Resume button of a stopped or failed run with a backup: it goes on after its last finished epoch."""
    epoch = backup.backup_epoch(run.folder)
    what = f"after epoch {epoch}" + (f" of {run.config['epochs']}" if run.config.get("epochs") else "")
    st.info(f"Run {run.name} {run.state} {what}; its backup (model and optimizer weights, early stopping) lets it "
            "go on where it was, as one run.")
    if st.button("Resume training", type="primary", key="train-resume", disabled=bool(read_only),
                 help=read_only or f"Goes on with epoch {epoch + 1 if epoch is not None else '?'}, same settings."):
        with messages.errors_shown(container=notice, toast=True):
            supervisor.resume_run(run.folder)
            messages.announce(f"Resumed run {run.name} {what}.")


def act_on_run(run: runs.Run, promoted: dict, read_only: str | None, notice) -> None:
    """Use the chosen run's model, delete the run (after a confirmation), download its history and metadata."""
    actions = st.columns(4)
    # Disabled (not hidden) on a read-only deployment, so visitors see what exists and why it is off.
    if actions[0].button("Use this model", disabled=bool(read_only), key="train-use",
                         help=read_only or "Predict, Compare and Evaluate will use this run's model."):
        with messages.errors_shown(container=notice, toast=True):
            messages.announce(f"{promotions.promote_run(run.folder)} now uses run {run.name}.")
    if actions[1].button("Delete run", disabled=bool(read_only), key="train-delete",
                         help=read_only or "Asks for confirmation first."):
        st.session_state["confirm-delete"] = run.name
    if st.session_state.get("confirm-delete") == run.name and not read_only:
        with notice.container(border=True):
            st.warning(f"Delete run {run.name} and all its files (curves, checkpoint, model)? This cannot be undone.")
            yes, no = st.columns(2)
            if yes.button("Yes, delete it", type="primary", key="confirm-delete-yes"):
                st.session_state.pop("confirm-delete", None)
                with messages.errors_shown(container=notice, toast=True):
                    supervisor.delete_run(run.folder)
                    st.query_params.pop(RUN_PARAMETER, None)
                    messages.announce(f"Deleted run {run.name}.")
            if no.button("Cancel", key="confirm-delete-no"):
                st.session_state.pop("confirm-delete", None)
                st.rerun()
    # Downloads need no permission: they change nothing.
    actions[2].download_button("Download history.json", run_exports.build_history_download(run.folder),
                               file_name=f"{run.name}-history.json", mime="application/json", on_click="ignore",
                               key="train-download-history", help="Every finished epoch's metrics, as the run wrote them.")
    actions[3].download_button("Download run metadata", run_exports.build_metadata_download(run.folder),
                               file_name=f"{run.name}-metadata.json", mime="application/json", on_click="ignore",
                               key="train-download-metadata", help="The run's settings (config.json), its status and, "
                               "once published, its artifact's metadata.json, in one file.")


def manage_runs(all_runs: list[runs.Run], promoted: dict, read_only: str | None) -> None:
    """Overlay runs' curves; show the chosen run's own curves and act on it; restore a shipped model."""
    names = [run.name for run in all_runs]
    chosen = st.multiselect("Overlay the curves of", names, default=[st.session_state.get(RUN_KEY, names[0])],
                            key="train-overlay")
    train_view.show_overlay(all_runs, chosen, OVERLAY_METRIC_KEY, METRIC_CHOSEN_KEY)
    st.download_button("Download every run's per-epoch scalars (CSV)", run_exports.build_runs_csv(all_runs),
                       file_name="runs.csv", mime="text/csv", key="train-download-csv", on_click="ignore",
                       help="One row per run and epoch; the same as `python -m genre_models runs --csv`.")
    selected = st.selectbox("Run", names, key=RUN_KEY, help="The chosen run is kept in the address (?run=...).",
                            on_change=lambda: st.query_params.update({RUN_PARAMETER: st.session_state[RUN_KEY]}))
    run = next(run for run in all_runs if run.name == selected)
    notice = st.container()
    if supervisor.can_resume(run):
        resume_button(run, read_only, notice)
    act_on_run(run, promoted, read_only, notice)
    if run.is_active:
        st.caption(f"Run {run.name} is active: its live curves are above.")
    else:
        st.markdown(f"##### Curves of run `{run.name}` ({run.state})")
        batches, epochs = runs.read_metrics(run.folder)
        train_view.show_curves(runs.read_history(run.folder) or epochs, key=f"run-{run.name}", batches=batches,
                               subject=f"Run {run.name}", metadata=run.metadata)
    if promoted:
        restore = st.selectbox("Restore the shipped model for", sorted(promoted), key="train-restore-model")
        if st.button("Restore shipped", disabled=bool(read_only), help=read_only, key="train-restore"):
            with messages.errors_shown(container=notice, toast=True):
                promotions.restore_shipped(restore)
                messages.announce(f"{restore} uses the shipped model again.")


st.set_page_config(page_title="Train a model", layout="wide")
st.title("Train a model")

messages.show_announcement()
messages.warn_if_promotions_damaged()
all_runs = runs.list_runs()
names = [run.name for run in all_runs]
ended_message, ended = train.describe_ended(st.session_state.get(FOLLOWED_KEY, []), all_runs)
if ended_message:
    st.toast(ended_message, icon=":material/flag:")
st.session_state[FOLLOWED_KEY] = [run.name for run in all_runs if run.is_active]
started = st.session_state.pop(train_view.SHOW_RUN_KEY, None)
shown = ended or started
if shown:  # a run just ended or started: the picker and the address show it
    st.query_params[RUN_PARAMETER] = shown
# ?run=<id> chooses the run (a link or a reload); an unknown one is named in a warning and the newest is shown.
addressed = links.read_url_choice(RUN_PARAMETER, lambda name: name in names, "the run",
                                    "the newest run is shown" if names else "there are no runs yet")
if addressed:
    st.session_state[RUN_KEY] = addressed
elif st.session_state.get(RUN_KEY) not in names:
    st.session_state.pop(RUN_KEY, None)  # a run deleted since (here or elsewhere): the newest is shown
# A shared deployment is read-only: every button that changes shared state is hidden or disabled.
read_only = messages.read_only_notice("Training")
if read_only:
    st.caption("Visitors cannot start, stop, resume, promote, restore or delete runs here; past runs and their "
               "curves are still listed below.")
else:
    train_view.show_start_form()

st.subheader("Active run")
promoted = promotions.read_promotions()  # one read for the page's runs table and run management
if st.session_state[FOLLOWED_KEY]:
    follow_active_runs_live(st.session_state[FOLLOWED_KEY], read_only)  # with the runs table
else:
    st.caption("No run is active.")
    # Nothing refreshes an idle page: a run started elsewhere (the CLI, another tab) shows on a click here.
    st.button("Check for a new run", key="train-check", help="Reads the runs folder again.")
    train_view.show_runs_table(all_runs, promoted)
if all_runs:
    manage_runs(all_runs, promoted, read_only)
# A fused model whose part was just replaced needs refitting: said here, with the fix.
refits.offer_refits(refits.fusions_needing_refit(refits.unusable_fusions(models.artifact_listing()[0])),
                     key="train")

st.subheader("Training curves of the shipped models")
train_view.show_shipped_curves()

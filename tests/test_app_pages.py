"""AppTests of the Predict and Train pages that are still to move to tests/test_page_predict.py and
tests/test_page_train.py (the other pages' tests are in tests/test_page_<page>.py), and the damaged
promotions file, which several pages read: shipped artifacts + a small real dataset folder."""

from __future__ import annotations

import os

import pytest
from streamlit.testing.v1 import AppTest

from app_testing import (
    READ_ONLY_SETTINGS, SHIPPED, poster_placeholders, run_page,
    texts,
)
from genre_models import fileio, promotions
from genre_models.artifacts import read_artifact_metadata
from genre_models.config import PROJECT_ROOT




















def make_fake_run(root, run_id: str, state: str, epochs_done: int, **status):
    """A run folder as a worker leaves it: status, metric lines, optionally an artifact."""
    import json
    import time

    from genre_models import runs

    folder = root / run_id
    folder.mkdir(parents=True)
    lines = []
    for epoch in range(1, epochs_done + 1):
        for step in range(1, 4):
            lines.append({"kind": "batch", "epoch": epoch, "step": step, "steps": 3, "loss": 0.5 / (epoch + step)})
        lines.append({"kind": "epoch", "epoch": epoch, "loss": 0.4 / epoch, "val_loss": 0.45 / epoch,
                      "binary_accuracy": 0.9, "val_binary_accuracy": 0.88, "auc": 0.8, "val_auc": 0.78,
                      "precision": 0.5, "val_precision": 0.4, "recall": 0.3, "val_recall": 0.2,
                      "learning_rate": 1e-4})
    (folder / runs.METRICS_FILE).write_text("".join(json.dumps(line) + "\n" for line in lines))
    fileio.write_json_atomically(folder / runs.CONFIG_FILE, {"config": {"model_name": "course_cnn", "epochs": 5},
                                                           "model": "course_cnn", "created": time.time()})
    runs.write_status(folder, state, **status)
    return folder


@pytest.fixture
def fake_runs(tmp_path, monkeypatch, tiny_trained):
    """Three run folders: finished (with an artifact), running (this process holds its lock), failed."""
    import shutil
    import time

    from genre_models import runs

    root = tmp_path / "runs"
    monkeypatch.setenv("GENRE_RUNS_DIR", str(root))
    finished = make_fake_run(root, "20260101-000000-course_cnn", "completed", 3, elapsed=90)
    shutil.copytree(tiny_trained["course_cnn"].artifact_dir, finished / runs.ARTIFACT_DIR)
    # "Running": its worker is this test process, which holds the run's lock, with a fresh heartbeat.
    running = make_fake_run(root, "20260102-000000-course_cnn", "running", 2, pid=os.getpid(),
                            heartbeat=time.time() + 3600, epoch=3, epochs=5, step=1, steps=3, elapsed=60)
    make_fake_run(root, "20260103-000000-course_cnn", "failed", 1, error="the training process ended unexpectedly")
    with open(running / runs.LOCK_FILE, "a+") as lock:
        fileio.lock_file(lock)
        yield {"root": root, "finished": finished, "running": running}


def test_train_page_shows_active_finished_and_failed_runs(app_env, fake_runs):
    app = run_page("pages/5_Train.py")
    content = texts(app)
    assert "Active run `20260102-000000-course_cnn`" in content
    assert app.get("progress") and "epoch 3/5" in app.get("progress")[0].proto.text
    table = app.dataframe[0].value
    assert list(table["status"]) == ["failed", "running", "completed"]
    assert "ended unexpectedly" in table["error"].iloc[0]
    assert table["test micro_f1"].iloc[2] > 0
    assert len(app.get("plotly_chart")) >= 7


def test_train_page_stop_button_writes_the_stop_request(app_env, fake_runs):
    from genre_models import runs

    app = run_page("pages/5_Train.py")
    stop = next(button for button in app.button if button.label == "Stop training")
    stop.click().run()
    assert not app.exception
    assert runs.stop_requested(fake_runs["running"])


def test_train_page_refuses_a_second_start_naming_the_active_run(app_env, fake_runs):
    app = run_page("pages/5_Train.py")
    next(button for button in app.button if button.label == "Start training").click().run()
    assert not app.exception
    assert any("20260102-000000-course_cnn" in error.value for error in app.error)


def test_train_page_explains_when_training_is_off(app_env, fake_runs, monkeypatch):
    monkeypatch.setenv("GENRE_TRAINING_ENABLED", "0")
    app = run_page("pages/5_Train.py")
    assert "Training is turned off" in texts(app)
    assert "Start training" not in [button.label for button in app.button]


def test_train_page_promotes_a_finished_run(app_env, fake_runs):
    from genre_models import runs

    app = run_page("pages/5_Train.py")
    app.selectbox(key="manage").set_value("20260101-000000-course_cnn").run()
    next(button for button in app.button if button.label == "Use this model").click().run()
    assert not app.exception
    assert promotions.read_promotions() == {"course_cnn": str(fake_runs["finished"] / runs.ARTIFACT_DIR)}


def test_predict_a_dataset_film_with_a_damaged_poster_answers_from_its_overview(damaged_env):
    app = run_page("pages/2_Predict.py")
    app.radio[0].set_value("Pick a film from the dataset").run()
    assert not app.exception
    assert poster_placeholders(app)  # the first test film's poster is a 0-byte file
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert "True genres:" in texts(app)
    assert any("poster" in info.value for info in app.info)
    overview_models = {m["name"] for m in read_artifact_metadata(PROJECT_ROOT / "artifacts")[0]
                       if m["input_kind"] == "overview"}
    assert overview_models <= {s.value for s in app.subheader}










# --- Issue 11: shared deployments are read-only for visitors ----------------------------------------------------


@pytest.fixture
def promoted_run(fake_runs):
    """The finished fake run promoted over the shipped course_cnn, so 'Restore shipped' is offered."""

    promotions.promote_run(fake_runs["finished"])
    return fake_runs


@pytest.mark.parametrize("variable, value", READ_ONLY_SETTINGS)
def test_train_page_read_only_disables_every_state_changing_button(app_env, promoted_run, monkeypatch,
                                                                    variable, value):
    from genre_models import runs

    monkeypatch.setenv(variable, value)
    app = run_page("pages/5_Train.py")
    labels = {button.label: button for button in app.button}
    assert "Start training" not in labels
    for label in ("Use this model", "Delete run", "Restore shipped", "Stop training"):
        assert labels[label].disabled, label
    assert "read-only" in texts(app) or "turned off" in texts(app)
    assert "Training is turned off" in texts(app)
    # Nothing was changed: the promotion and the run folders are still there.
    assert promotions.read_promotions() == {"course_cnn": str(promoted_run["finished"] / runs.ARTIFACT_DIR)}


@pytest.mark.parametrize("label, module, action", [("Use this model", "promotions", "promote_run"),
                                                   ("Delete run", "supervisor", "delete_run"),
                                                   ("Restore shipped", "promotions", "restore_shipped")])
def test_train_page_shows_a_refused_action_as_an_error(app_env, promoted_run, monkeypatch, label, module, action):
    """Refusals decided in the package (read-only switched on meanwhile, a run in use) are messages."""
    import importlib

    from genre_models import runs

    def refuse(*arguments, **keywords):
        raise runs.RunRefused("Changing the models in use is turned off: this deployment is read-only")

    app = run_page("pages/5_Train.py")
    monkeypatch.setattr(importlib.import_module(f"genre_models.{module}"), action, refuse)
    next(button for button in app.button if button.label == label).click().run()
    if label == "Delete run":  # deleting asks for confirmation first
        next(button for button in app.button if button.label == "Yes, delete it").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("turned off" in error.value for error in app.error)


def test_train_page_restores_the_shipped_model(app_env, promoted_run):

    app = run_page("pages/5_Train.py")
    next(button for button in app.button if button.label == "Restore shipped").click().run()
    assert not app.exception
    assert promotions.read_promotions() == {}
    assert any("shipped model again" in s.value for s in app.success)


# --- Issue 11: a damaged runs/promoted.json is ignored with a warning -------------------------------------------

@pytest.mark.parametrize("page, content", [("streamlit_app.py", '["course_cnn"]'),
                                           ("streamlit_app.py", "{not json"),
                                           ("pages/5_Train.py", '{"course_cnn": 3}'),
                                           ("pages/2_Predict.py", '["course_cnn"]'),
                                           ("pages/4_Evaluate.py", '"a string"')])
def test_a_damaged_promotions_file_is_ignored_with_a_warning(app_env, fake_runs, page, content):

    (fake_runs["root"] / promotions.PROMOTIONS_FILE).write_text(content)
    app = run_page(page)
    if page in ("streamlit_app.py", "pages/5_Train.py"):
        assert any(promotions.PROMOTIONS_FILE in warning.value for warning in app.warning)
    if page == "streamlit_app.py":
        assert SHIPPED <= set(app.table[1].value.index)  # Home's full models table


# --- Issue 13: explanations, computed only when asked -----------------------------------------------------------






# --- Issue 18: the Train page without traps ---------------------------------------------------------------------

@pytest.fixture
def runs_root(tmp_path, monkeypatch):
    """An empty runs folder of the app's own."""
    root = tmp_path / "runs"
    root.mkdir()
    monkeypatch.setenv("GENRE_RUNS_DIR", str(root))
    return root


@pytest.fixture
def live_run(runs_root):
    """A run whose worker (this test process, holding its lock) has reported epoch 2 of 5 in its heartbeat
    while its status file still says "queued", as start_run wrote it."""
    import time

    from genre_models import runs

    folder = make_fake_run(runs_root, "20260104-000000-course_cnn", "queued", 1, pid=os.getpid(),
                           queued_at=time.time() - 120)  # launched 2 minutes ago
    fileio.write_json_atomically(folder / runs.HEARTBEAT_FILE, {
        "pid": os.getpid(), "heartbeat": time.time() + 3600, "epoch": 2, "epochs": 5, "step": 1, "steps": 3,
        "elapsed": 120.0})
    with open(folder / runs.LOCK_FILE, "a+") as lock:
        fileio.lock_file(lock)
        yield folder


def button_labelled(app: AppTest, label: str):
    return next(button for button in app.button if button.label == label)


def test_train_page_shows_a_refused_start_above_the_folded_form(app_env, live_run):
    app = run_page("pages/5_Train.py")
    button_labelled(app, "Start training").click().run()
    assert not app.exception, [e.value for e in app.exception]
    refusals = [error.value for error in app.error if live_run.name in error.value]
    assert refusals and "Another training run is active" in refusals[0]
    # Not inside the start panel (folded shut while a run is active), and popped up as a toast too.
    assert not [error for expander in app.expander for error in expander.error if live_run.name in error.value]
    assert any(live_run.name in toast.value for toast in app.toast)


def test_train_page_start_form_keeps_the_last_used_settings(app_env, runs_root, monkeypatch):
    from genre_models import supervisor

    started = []
    monkeypatch.setattr(supervisor, "start_run", lambda config: started.append(config) or runs_root / "20260105-fake")
    app = run_page("pages/5_Train.py")
    app.selectbox[0].set_value("course_lstm").run()
    next(n for n in app.number_input if n.label == "Epochs").set_value(3)
    next(n for n in app.number_input if n.label == "Share of the training data").set_value(0.1)
    button_labelled(app, "Start training").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert (started[0].model_name, started[0].epochs, started[0].train_fraction) == ("course_lstm", 3, 0.1)
    assert any("20260105-fake" in toast.value for toast in app.toast)
    # A reload (a new session) starts from the settings last used, not 40 epochs on all the data.
    again = run_page("pages/5_Train.py")
    assert again.selectbox[0].value == "course_lstm"
    assert next(n for n in again.number_input if n.label == "Epochs").value == 3
    assert next(n for n in again.number_input if n.label == "Share of the training data").value == pytest.approx(0.1)


def test_train_page_runs_table_shows_the_live_state_of_the_active_run(app_env, live_run):
    app = run_page("pages/5_Train.py")
    row = app.dataframe[0].value.iloc[0]
    assert row["run"] == live_run.name
    assert row["status"] == "running" and "epoch 2/5" in row["progress"] and row["minutes"] == pytest.approx(2.0, abs=0.1)


def test_train_page_delete_asks_for_confirmation(app_env, runs_root):
    folder = make_fake_run(runs_root, "20260101-000000-course_cnn", "completed", 2, elapsed=90)
    app = run_page("pages/5_Train.py")
    button_labelled(app, "Delete run").click().run()
    assert not app.exception
    assert folder.exists()
    assert any("cannot be undone" in warning.value for warning in app.warning)
    button_labelled(app, "Yes, delete it").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not folder.exists()
    assert any("Deleted run" in toast.value for toast in app.toast)


@pytest.fixture
def replaced_fusion_part(app_env, runs_root):
    """course_cnn promoted from a run (a copy of the shipped one, retrained later): late_fusion, fitted on
    the shipped course_cnn, needs refitting."""
    import json
    import shutil

    from genre_models import runs

    folder = make_fake_run(runs_root, "20260106-000000-course_cnn", "completed", 2, elapsed=90)
    shutil.copytree(PROJECT_ROOT / "artifacts" / "course_cnn", folder / runs.ARTIFACT_DIR)
    metadata_path = folder / runs.ARTIFACT_DIR / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    metadata["created_at"] = "2026-11-23T10:00:00+00:00"
    metadata_path.write_text(json.dumps(metadata))
    promotions.promote_run(folder)
    return folder


def test_train_page_offers_the_refit_of_a_fusion_whose_part_was_replaced(replaced_fusion_part, monkeypatch):
    app = run_page("pages/5_Train.py")
    assert "late_fusion needs refitting" in texts(app)
    assert not button_labelled(app, "Refit late_fusion").disabled
    monkeypatch.setenv("GENRE_READ_ONLY", "1")
    assert button_labelled(run_page("pages/5_Train.py"), "Refit late_fusion").disabled


# --- Issue 18: charts and Compare a newcomer can read -----------------------------------------------------------

def test_train_page_shows_a_multi_worker_run_as_one_of_n_workers(app_env, fake_runs):
    from genre_models import runs

    runs.write_status(fake_runs["running"], "running", worker_index=1, workers=2, chief=False)
    app = run_page("pages/5_Train.py")
    assert not app.exception
    assert any("worker 1 of 2" in caption.value for caption in app.caption)

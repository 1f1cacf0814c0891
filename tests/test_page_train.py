"""The Train page: the chosen run kept in the address (?run=<id>), polling only while a
run is active, honest live curves, the shipped models' curves, and a run's downloads."""

from __future__ import annotations

import pytest
from app_testing import (
    READ_ONLY_SETTINGS,
    SHIPPED,
    button_labelled,
    make_fake_run,
    run_page,
    texts,
)
from streamlit.testing.v1 import AppTest

from genre_models import fileio, promotions, run_exports
from genre_models.config import PROJECT_ROOT

PAGE = str(PROJECT_ROOT / "pages" / "5_Train.py")
TIMEOUT = 120


@pytest.fixture
def runs_root(runs_root, small_real_dataset, monkeypatch):
    """The shared empty runs folder (conftest), with the small real dataset and the shipped artifacts."""
    monkeypatch.setenv("GENRE_DATA_DIR", str(small_real_dataset))
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(PROJECT_ROOT / "artifacts"))
    return runs_root


@pytest.fixture
def finished_runs(runs_root):
    """Two finished runs, the newest listed first."""
    older = make_fake_run(runs_root, "20260101-000000-course_cnn", "completed", 2, elapsed=90)
    newer = make_fake_run(runs_root, "20260102-000000-course_cnn", "completed", 3, elapsed=120)
    return {"older": older, "newer": newer}


def open_train(run: str | None = None) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    if run is not None:
        app.query_params["run"] = run
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


# --- The chosen run in the address ---------------------------------------------------------------------

def test_the_address_chooses_the_run(finished_runs):
    app = open_train(finished_runs["older"].name)
    assert app.selectbox(key="manage").value == finished_runs["older"].name
    assert not app.warning


def test_choosing_a_run_puts_it_in_the_address(finished_runs):
    app = open_train()
    assert app.selectbox(key="manage").value == finished_runs["newer"].name  # the newest by default
    app.selectbox(key="manage").set_value(finished_runs["older"].name).run()
    assert not app.exception
    assert app.query_params["run"] == finished_runs["older"].name


def test_an_unknown_run_in_the_address_warns_and_shows_the_newest(finished_runs):
    app = open_train("20990101-000000-nothing")
    assert any("20990101-000000-nothing" in w.value and "does not exist" in w.value for w in app.warning)
    assert "run" not in app.query_params
    assert app.selectbox(key="manage").value == finished_runs["newer"].name


def test_an_unknown_run_without_any_run_warns_without_failing(runs_root):
    app = open_train("20990101-000000-nothing")
    assert any("there are no runs yet" in w.value for w in app.warning)


def test_deleting_the_addressed_run_takes_it_out_of_the_address(finished_runs):
    app = open_train(finished_runs["older"].name)
    next(b for b in app.button if b.label == "Delete run").click().run()
    next(b for b in app.button if b.label == "Yes, delete it").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not finished_runs["older"].exists()
    assert "run" not in app.query_params
    assert not app.warning
    assert app.selectbox(key="manage").value == finished_runs["newer"].name


# --- Polling only while a run is active ---------------------------------------------------------------

def every_widget(app: AppTest) -> list:
    """Every input widget on the page (buttons, boxes, sliders, downloads...), at any depth."""
    from streamlit.testing.v1.element_tree import Widget

    found = []

    def walk(node) -> None:
        if isinstance(node, Widget):
            found.append(node)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(app.main)
    walk(app.sidebar)
    return found


@pytest.fixture
def active_run(runs_root):
    """A running run whose worker is this test process (it holds the run's lock), with a fresh heartbeat."""
    import os
    import time

    from genre_models import runs

    folder = make_fake_run(runs_root, "20260103-000000-course_cnn", "running", 2, pid=os.getpid(),
                           heartbeat=time.time() + 3600, epoch=3, epochs=5, step=1, steps=3, elapsed=60)
    with open(folder / runs.LOCK_FILE, "a+") as lock:
        fileio.lock_file(lock)
        yield folder


def test_an_idle_page_has_no_live_part(finished_runs):
    app = open_train()
    assert "No run is active." in [c.value for c in app.caption]
    assert not [m for m in app.markdown if "Active run `" in m.value]
    # The page offers a check instead of polling.
    assert any(b.label == "Check for a new run" for b in app.button)


def test_an_active_run_is_followed_with_its_stop_button(active_run):
    app = open_train()
    assert any(f"Active run `{active_run.name}`" in m.value for m in app.markdown)
    assert any(b.label == "Stop training" for b in app.button)
    assert not any(b.label == "Check for a new run" for b in app.button)


def test_stopping_confirms_with_a_toast(active_run):
    from genre_models import runs

    app = open_train()
    next(b for b in app.button if b.label == "Stop training").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert runs.stop_requested(active_run)
    assert any("Stop requested" in toast.value for toast in app.toast)


@pytest.mark.parametrize("runs_fixture", ["finished_runs", "active_run"])
def test_every_input_widget_has_a_stable_key(runs_fixture, request):
    request.getfixturevalue(runs_fixture)
    app = open_train()
    widgets_without_key = [(w.type, getattr(w, "label", "")) for w in every_widget(app) if not w.key]
    assert not widgets_without_key
    assert len(every_widget(app)) > 10


# --- Honest curves ----------------------------------------------------------------------------------

def chart(app: AppTest, key: str) -> dict:
    """The Plotly figure of the chart with this key."""
    import json

    element = next(e for e in app.get("plotly_chart") if e.key == key)
    return json.loads(element.proto.spec)


def add_judged_metrics(folder) -> None:
    """Give a fake run's epoch lines the multi-label figures every new run records."""
    import json

    from genre_models import runs

    lines = [json.loads(line) for line in (folder / runs.METRICS_FILE).read_text().splitlines()]
    for line in lines:
        if line["kind"] == "epoch":
            epoch = line["epoch"]
            line.update(micro_f1=0.3 + 0.05 * epoch, val_micro_f1=0.25 + 0.05 * epoch, macro_f1=0.1 * epoch,
                        val_macro_f1=0.08 * epoch, pr_auc=0.2 * epoch, val_pr_auc=0.15 * epoch)
    (folder / runs.METRICS_FILE).write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_live_curves_show_f1_and_pr_auc_when_the_run_recorded_them(active_run):
    add_judged_metrics(active_run)
    app = open_train()
    figure = chart(app, f"{active_run.name}-macro-f1")
    validation = next(trace for trace in figure["data"] if trace["name"] == "validation")
    assert validation["y"] == pytest.approx([0.08, 0.16])
    assert chart(app, f"{active_run.name}-micro-f1") and chart(app, f"{active_run.name}-pr-auc")
    assert not any(c.value.startswith("This run recorded no") for c in app.caption)


def test_curves_of_an_older_run_say_f1_was_not_recorded(active_run):
    app = open_train()
    assert not [e for e in app.get("plotly_chart") if e.key == f"{active_run.name}-micro-f1"]
    assert any(c.value.startswith("This run recorded no micro-/macro-F1 or PR-AUC") for c in app.caption)


def test_binary_accuracy_caption_gives_the_score_of_answering_nothing(active_run):
    import json

    from genre_app import train

    baseline = json.loads((PROJECT_ROOT / "artifacts" / "baselines.json").read_text())["genre_frequency"]
    test = baseline["metrics"]["test"]
    expected = 1 - sum(v["support"] for v in test["per_genre"].values()) / (test["films"] * len(test["per_genre"]))
    assert train.accuracy_of_answering_nothing(baseline)[0] == pytest.approx(expected)
    app = open_train()
    caption = next(c.value for c in app.caption if "Binary accuracy is misleading" in c.value)
    assert f"{expected:.2f}" in caption and f"{test['films']:,} films" in caption


def test_without_a_baseline_the_caption_gives_no_figure():
    from genre_app import train

    assert train.accuracy_of_answering_nothing(None) is None
    assert train.accuracy_of_answering_nothing({"metrics": {"test": {"films": 0, "per_genre": {}}}}) is None
    text = train.explain_binary_accuracy(None)
    assert "misleading" in text and "scores" not in text


def test_the_smoothing_control_changes_the_per_batch_curve(active_run):
    app = open_train()
    key = f"{active_run.name}-batch-loss"

    def traces():
        figure = chart(app, key)
        return {trace["name"]: trace["y"] for trace in figure["data"]}

    assert traces()["smoothed"] != pytest.approx(traces()["per batch"])
    app.slider(key=f"{active_run.name}-smoothing").set_value(0.0).run()
    assert not app.exception
    assert traces()["smoothed"] == pytest.approx(traces()["per batch"])


def test_the_shipped_models_curves_come_from_their_history(runs_root):
    import json

    from genre_app import train_view

    app = open_train()
    choices = app.selectbox(key="train-shipped-model").options
    histories = train_view.shipped_histories()
    assert set(choices) == {name for name, epochs in histories.items() if epochs}
    assert "late_fusion" not in choices and "course_cnn" in choices
    app.selectbox(key="train-shipped-model").set_value("course_lstm").run()
    assert not app.exception
    stored = json.loads((PROJECT_ROOT / "artifacts" / "course_lstm" / "history.json").read_text())["epochs"]
    validation = next(t for t in chart(app, "shipped-course_lstm-loss")["data"] if t["name"] == "validation")
    assert validation["y"] == pytest.approx([epoch["val_loss"] for epoch in stored])
    assert any("late_fusion" in c.value and "fused" in c.value for c in app.caption)


def test_a_new_run_records_micro_and_macro_f1_and_pr_auc(real_data_dir, tmp_path):
    """Every network's compiled metrics include the multi-label figures (tfidf_logreg, 64 films, 1 epoch)."""
    from genre_models import runs
    from genre_models.config import TrainConfig
    from genre_models.training import train_model

    result = train_model(TrainConfig(model_name="tfidf_logreg", data_dir=str(real_data_dir), epochs=1, max_films=64,
                                     out_dir=str(tmp_path / "artifact"), run_dir=str(tmp_path / "run"), verbose=0,
                                     command="test"))
    epoch = runs.read_history(result.run_dir)[0]
    for name in ("micro_f1", "macro_f1", "pr_auc"):
        assert 0.0 <= epoch[name] <= 1.0 and 0.0 <= epoch[f"val_{name}"] <= 1.0


# --- Downloads --------------------------------------------------------------------------------------

def test_the_page_offers_the_chosen_runs_downloads(finished_runs):
    """The buttons serve exactly the bytes of the tested functions, for the run chosen in the address."""
    from streamlit.runtime.memory_media_file_storage import _calculate_file_id

    chosen = finished_runs["older"]
    app = open_train(chosen.name)
    downloads = {d.key: d for d in app.get("download_button")}
    # A download's address is a digest of its bytes, type and file name (Streamlit's media storage).
    expected = {"train-download-history": (run_exports.build_history_download(chosen), f"{chosen.name}-history.json"),
                "train-download-metadata": (run_exports.build_metadata_download(chosen), f"{chosen.name}-metadata.json")}
    for key, (data, file_name) in expected.items():
        assert downloads[key].proto.url.endswith(f"/{_calculate_file_id(data, 'application/json', file_name)}.json")


# --- Resuming a stopped or failed run, and the F1 at the tuned thresholds after a run ------------------

def with_backup(folder, epoch: int = 2):
    """Give a fake run the backup a stopped worker leaves (only its epoch marker: the page reads no more)."""
    from genre_models import backup

    marker = folder / backup.BACKUP_DIR / backup.BACKUP_KERAS_DIR / backup.BACKUP_EPOCH_FILE
    marker.parent.mkdir(parents=True)
    marker.write_text(f'{{"epoch": {epoch}, "batch": 0}}')
    return folder


def resume_buttons(app: AppTest) -> list:
    return [b for b in app.button if b.label == "Resume training"]


def test_a_stopped_run_with_a_backup_offers_resume(runs_root, monkeypatch):
    from genre_models import supervisor

    stopped = with_backup(make_fake_run(runs_root, "20260104-000000-course_cnn", "stopped", 2))
    resumed = []
    monkeypatch.setattr(supervisor, "resume_run", lambda folder, config=None: resumed.append(folder) or folder)
    app = open_train(stopped.name)
    button = resume_buttons(app)[0]
    assert not button.disabled and "epoch 3" in button.help
    assert any("after epoch 2 of 5" in info.value for info in app.info)
    button.click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert resumed == [stopped]
    assert any(f"Resumed run {stopped.name}" in toast.value for toast in app.toast)


def test_resume_is_disabled_on_a_read_only_deployment(runs_root, monkeypatch):
    stopped = with_backup(make_fake_run(runs_root, "20260104-000000-course_cnn", "failed", 2))
    monkeypatch.setenv("GENRE_READ_ONLY", "1")
    app = open_train(stopped.name)
    button = resume_buttons(app)[0]
    assert button.disabled and "read-only" in button.help


def test_a_refused_resume_is_shown_not_raised(runs_root):
    stopped = with_backup(make_fake_run(runs_root, "20260104-000000-course_cnn", "stopped", 2))
    app = open_train(stopped.name)
    resume_buttons(app)[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(f"backup of run {stopped.name} is damaged" in error.value for error in app.error)


def test_no_resume_for_a_completed_run_or_one_without_backup(finished_runs, runs_root):
    make_fake_run(runs_root, "20260104-000000-course_cnn", "stopped", 2)  # stopped before any backup
    for run in ("20260104-000000-course_cnn", finished_runs["newer"].name):
        assert not resume_buttons(open_train(run))


def finished_with_tuned_figures(folder, best: int = 2, peak: int = 3) -> dict:
    """Give a fake finished run F1 curves peaking at epoch ``peak``, its lowest validation loss at epoch ``best``,
    and the artifact metadata a worker publishes for that checkpoint (tfidf_logreg's tuned figures)."""
    import json
    import shutil

    from genre_models import runs

    lines = [json.loads(line) for line in (folder / runs.METRICS_FILE).read_text().splitlines()]
    for line in lines:
        if line["kind"] == "epoch":
            epoch = line["epoch"]
            line.update(val_loss=0.3 + abs(epoch - best) * 0.05, micro_f1=0.3, macro_f1=0.2, pr_auc=0.4,
                        val_micro_f1=0.45 - abs(epoch - peak) * 0.05, val_macro_f1=0.2, val_pr_auc=0.3)
    (folder / runs.METRICS_FILE).write_text("".join(json.dumps(line) + "\n" for line in lines))
    shutil.copytree(PROJECT_ROOT / "artifacts" / "tfidf_logreg", folder / runs.ARTIFACT_DIR)
    metadata = json.loads((folder / runs.ARTIFACT_DIR / "metadata.json").read_text())
    metadata["training"]["best_epoch"] = best
    fileio.write_json_atomically(folder / runs.ARTIFACT_DIR / "metadata.json", metadata)
    return metadata


def vertical_lines(figure: dict) -> list:
    return [shape["x0"] for shape in figure["layout"].get("shapes", []) if shape["x0"] == shape["x1"]]


def test_after_a_run_its_curves_stay_with_the_kept_checkpoint_marked_and_the_text_agreeing(finished_runs):
    """The kept checkpoint is the epoch of lowest validation loss (2); the F1 curve peaks later (3): the text says
    which and why, the line marks epoch 2 on every chart, and the stars' caption compares like with like."""
    chosen = finished_runs["newer"]
    validation = finished_with_tuned_figures(chosen)["metrics"]["validation"]
    app = open_train(chosen.name)
    key = f"run-{chosen.name}"
    for suffix in ("loss", "micro-f1", "macro-f1", "pr-auc", "acc", "auc", "precision", "recall", "lr"):
        assert vertical_lines(chart(app, f"{key}-{suffix}")) == [2], suffix
    titles = [chart(app, f"{key}-{suffix}")["layout"]["title"]["text"] for suffix in ("loss", "micro-f1")]
    assert all("_" not in title for title in titles)
    captions = [c.value for c in app.caption]
    note = next(c for c in captions if c.startswith("The run keeps the checkpoint of epoch 2"))
    assert "lowest validation loss" in note and "peaks elsewhere, at epoch 3 (0.450)" in note
    star = next(t for t in chart(app, f"{key}-micro-f1")["data"] if "tuned" in t["name"])
    assert star["x"] == [2] and star["y"] == pytest.approx([validation["micro_f1"]])
    stars = next(c for c in captions if c.startswith("The stars: the kept checkpoint (epoch 2)"))
    word = "higher than" if validation["micro_f1"] > 0.4 else "lower than"
    assert f"micro-F1 {validation['micro_f1']:.3f}, {word} the 0.400 the curve shows at 0.5" in stars
    assert "read higher" not in stars


def test_a_run_without_f1_curves_gives_its_tuned_figures_in_words(finished_runs):
    import json
    import shutil

    from genre_models import runs

    chosen = finished_runs["newer"]
    shutil.copytree(PROJECT_ROOT / "artifacts" / "tfidf_logreg", chosen / runs.ARTIFACT_DIR)
    validation = json.loads((chosen / runs.ARTIFACT_DIR / "metadata.json").read_text())["metrics"]["validation"]
    app = open_train(chosen.name)
    caption = next(c.value for c in app.caption if c.value.startswith("After the run: the kept checkpoint"))
    assert f"micro-F1 {validation['micro_f1']:.3f}" in caption and f"macro-F1 {validation['macro_f1']:.3f}" in caption


def test_the_overlay_names_its_metric_in_words_and_marks_each_kept_checkpoint(finished_runs):
    chosen = finished_runs["newer"]
    validation = finished_with_tuned_figures(chosen)["metrics"]["validation"]
    app = open_train(chosen.name)
    box = app.selectbox(key="train-overlay-metric")
    assert box.value == "val_micro_f1" and "validation micro-F1 (threshold 0.5)" in box.options
    assert not [option for option in box.options if "_" in option]
    figure = chart(app, "overlay")
    assert figure["layout"]["title"]["text"].replace("<br>", " ") == "validation micro-F1 (threshold 0.5)"
    diamond = next(t for t in figure["data"] if t["name"] == f"{chosen.name}: kept checkpoint")
    star = next(t for t in figure["data"] if t["name"] == f"{chosen.name}: tuned thresholds")
    assert diamond["x"] == star["x"] == [2] and star["y"] == pytest.approx([validation["micro_f1"]])


def test_when_a_followed_run_ends_the_page_shows_it(finished_runs, runs_root):
    """An older run is chosen while a new one trains; once the new one is stopped the picker, the address and
    its curves show it (not the older run), with a toast saying how it ended."""
    import os
    import time

    from genre_models import runs

    folder = make_fake_run(runs_root, "20260103-000000-course_cnn", "running", 2, pid=os.getpid(),
                           heartbeat=time.time() + 3600, epoch=3, epochs=5, step=1, steps=3, elapsed=60)
    with open(folder / runs.LOCK_FILE, "a+") as lock:  # this process plays its live worker
        fileio.lock_file(lock)
        app = open_train(finished_runs["older"].name)
        assert app.selectbox(key="manage").value == finished_runs["older"].name
    runs.write_status(folder, "stopped", finished_at="2026-01-03T00:10:00+00:00")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.selectbox(key="manage").value == folder.name and app.query_params["run"] == folder.name
    assert any(f"{folder.name} stopped" in toast.value for toast in app.toast)
    assert chart(app, f"run-{folder.name}-loss")["data"]


def test_the_start_forms_limits_are_the_workers(runs_root):
    from genre_models.config import TRAINING_LIMITS

    app = open_train()
    app.selectbox(key="train-model").set_value("course_cnn").run()
    for key, setting in (("epochs", "epochs"), ("batch", "batch_size"), ("learning-rate", "learning_rate"),
                         ("seed", "seed"), ("patience", "patience"), ("share", "train_fraction"),
                         ("height", "image_size"), ("width", "image_size")):
        widget = app.number_input(key=f"train-course_cnn-{key}")
        limit = TRAINING_LIMITS[setting]
        assert (widget.proto.min, widget.proto.max) == pytest.approx((limit.low, limit.high)), key


def test_the_start_form_says_how_long_a_run_takes_and_which_models_take_a_minute(runs_root):
    app = open_train()
    app.selectbox(key="train-model").set_value("course_cnn").run()
    app.number_input(key="train-course_cnn-share").set_value(0.1).run()
    assert any(c.value.startswith("Training at these settings takes") for c in app.caption)
    share_help = app.number_input(key="train-course_cnn-share").help
    assert "train in about a minute: " in share_help and "course_cnn" in share_help


def test_the_page_offers_every_runs_scalars_as_one_csv(finished_runs):
    from streamlit.runtime.memory_media_file_storage import _calculate_file_id

    from genre_models import runs

    app = open_train()
    download = next(d for d in app.get("download_button") if d.key == "train-download-csv")
    data = run_exports.build_runs_csv(runs.list_runs()).encode()
    assert download.proto.url.endswith(f"/{_calculate_file_id(data, 'text/csv', 'runs.csv')}.csv")


# --- The runs overlay opens on F1, the runs table's minutes and its live state -----------------------------------

def overlay_metric(app: AppTest) -> str:
    return app.selectbox(key="train-overlay-metric").value


def test_the_overlay_opens_on_f1_with_the_stars_of_a_finished_run(finished_runs):
    import json
    import shutil

    from genre_models import runs

    chosen = finished_runs["newer"]
    add_judged_metrics(chosen)
    shutil.copytree(PROJECT_ROOT / "artifacts" / "tfidf_logreg", chosen / runs.ARTIFACT_DIR)
    validation = json.loads((chosen / runs.ARTIFACT_DIR / "metadata.json").read_text())["metrics"]["validation"]
    app = open_train(chosen.name)
    assert overlay_metric(app) == "val_micro_f1"
    star = next(t for t in chart(app, "overlay")["data"] if t["name"] == f"{chosen.name}: tuned thresholds")
    assert star["y"] == pytest.approx([validation["micro_f1"]])


def test_the_overlay_opens_on_val_loss_for_runs_without_f1(finished_runs):
    assert overlay_metric(open_train()) == "val_loss"


def test_the_overlay_metric_follows_the_runs_until_the_user_picks_one(finished_runs):
    app = open_train()
    assert overlay_metric(app) == "val_loss"
    add_judged_metrics(finished_runs["newer"])  # say it was still in its first epoch when the page opened
    app.run()
    assert overlay_metric(app) == "val_micro_f1"
    app.selectbox(key="train-overlay-metric").set_value("val_auc").run()
    assert overlay_metric(app) == "val_auc"
    app.multiselect(key="train-overlay").set_value([finished_runs["older"].name, finished_runs["newer"].name]).run()
    assert not app.exception, [e.value for e in app.exception]
    assert overlay_metric(app) == "val_auc"
    # Picking the default itself is a choice too: it stays when the shown runs would say otherwise.
    app.selectbox(key="train-overlay-metric").set_value("val_loss").run()
    app.multiselect(key="train-overlay").set_value([finished_runs["newer"].name]).run()
    assert overlay_metric(app) == "val_loss"
    # Back from another page, whose run dropped the widget's own key but not the pick kept beside it: the pick
    # comes back, not the default (a session holding only the kept pick, as the page left it).
    app.selectbox(key="train-overlay-metric").set_value("val_auc").run()
    kept = app.session_state["train-overlay-metric-chosen"]
    returning = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    returning.session_state["train-overlay-metric-chosen"] = kept
    returning.run()
    assert kept == "val_auc" and overlay_metric(returning) == "val_auc"


def test_the_runs_table_gives_ended_runs_their_minutes(runs_root):
    """As a worker leaves them: start and end in the status, a heartbeat whose ``elapsed`` the scoring replaced."""
    import time
    from datetime import datetime, timezone

    from genre_models import runs

    def utc(seconds: float) -> str:
        return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")

    started = time.time() - 3600
    for run_id, state, seconds in [("20260101-000000-course_cnn", "completed", 750),
                                   ("20260102-000000-course_cnn", "stopped", 180),
                                   ("20260103-000000-course_cnn", "failed", 60)]:
        folder = make_fake_run(runs_root, run_id, state, 1, started_at=utc(started), finished_at=utc(started + seconds))
        fileio.write_json_atomically(folder / runs.HEARTBEAT_FILE,
                                   {"pid": 1, "heartbeat": started + seconds - 5, "activity": "scoring films"})
    table = open_train().dataframe[0].value
    assert dict(zip(table["status"], table["minutes"])) == {"failed": 1.0, "stopped": 3.0, "completed": 12.5}


def test_the_runs_table_says_the_state_the_active_run_says(runs_root, monkeypatch):
    """The live part refreshes on its own: the worker reporting between the page's read and the live part's
    must not leave the table saying queued while the active run above says running."""
    import os
    import time

    from genre_models import runs

    folder = make_fake_run(runs_root, "20260103-000000-course_cnn", "queued", 0, pid=os.getpid())
    runs.write_status(folder, "queued", queued_at=time.time() - 30)  # its worker was launched 30 s ago
    read_runs = runs.list_runs

    def list_runs_as_the_worker_reports(runs_dir=None):
        found = read_runs(runs_dir)
        runs.beat(folder, epoch=1, epochs=5, step=2, steps=3, elapsed=30)  # the worker's first report
        return found

    with open(folder / runs.LOCK_FILE, "a+") as lock:  # this process plays its live worker
        fileio.lock_file(lock)
        monkeypatch.setattr(runs, "list_runs", list_runs_as_the_worker_reports)
        app = open_train()
    assert any(f"Active run `{folder.name}`** (course_cnn, running)" in m.value for m in app.markdown)
    row = app.dataframe[0].value.iloc[0]
    assert (row["status"], row["progress"], row["minutes"]) == ("running", "epoch 1/5, step 2/3", 0.5)
    assert any(f"Latest run `{folder.name}`: **running**" in m.value for m in app.markdown)


# --- Runs, promotions and refusals on the page ------------------------------------------------------------

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


def test_train_page_offers_the_refit_of_a_fusion_whose_part_was_replaced(replaced_fusion_part, monkeypatch):
    app = run_page("pages/5_Train.py")
    assert "late_fusion needs refitting" in texts(app)
    assert not button_labelled(app, "Refit late_fusion").disabled
    monkeypatch.setenv("GENRE_READ_ONLY", "1")
    assert button_labelled(run_page("pages/5_Train.py"), "Refit late_fusion").disabled


def test_train_page_shows_a_multi_worker_run_as_one_of_n_workers(app_env, fake_runs):
    from genre_models import runs

    runs.write_status(fake_runs["running"], "running", worker_index=1, workers=2, chief=False)
    app = run_page("pages/5_Train.py")
    assert not app.exception
    assert any("worker 1 of 2" in caption.value for caption in app.caption)


def test_the_poster_encoder_models_form_says_what_trains_and_what_a_run_costs(runs_root):
    from genre_models.encoders import ENCODERS

    app = open_train()
    app.selectbox(key="train-model").set_value("poster_effnet").run()
    assert not app.exception
    said = [c.value for c in app.caption if c.value.startswith("Frozen EfficientNet-Lite2")]
    assert len(said) == 1
    assert ENCODERS["efficientnet_lite2"]["package"] in said[0] and "only the head trains" in said[0]
    assert "~16 min" in said[0]

"""AppTest for every page: shipped artifacts + a small real dataset folder; no exceptions, key elements shown."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from genre_models.artifacts import read_artifact_metadata
from genre_models.config import PROJECT_ROOT

TIMEOUT = 120
# Every shipped model; each answers when both a poster and a summary are given.
SHIPPED = {metadata["name"] for metadata in read_artifact_metadata(PROJECT_ROOT / "artifacts")[0]}


@pytest.fixture
def app_env(small_real_dataset, monkeypatch):
    """The app reads the small real dataset and the shipped artifacts."""
    monkeypatch.setenv("GENRE_DATA_DIR", str(small_real_dataset))
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(PROJECT_ROOT / "artifacts"))
    return small_real_dataset


def run_page(path: str) -> AppTest:
    if "Predict" in path:
        from genre_app import state

        # Every model answers a prediction once the background load is over (one made while models load
        # answers with those loaded so far: tests/test_page_predict.py).
        state.start_loading_models().result()
    app = AppTest.from_file(str(PROJECT_ROOT / path), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def texts(app: AppTest) -> str:
    """All markdown, captions and headings of a page as one string."""
    parts = [e.value for e in (*app.markdown, *app.caption, *app.subheader, *app.title, *app.success,
                               *app.warning, *app.info)]
    return "\n".join(str(p) for p in parts)


def jpeg_bytes(size=(150, 300)) -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_home_shows_dataset_models_and_links(app_env):
    app = run_page("streamlit_app.py")
    content = texts(app)
    assert "96 films" in content and "25 genres" in content
    assert "GENRE_DATA_DIR" in content
    models = app.table[0].value  # a static table: quick to draw on a first visit
    assert SHIPPED <= set(models.index)
    assert {"input", "test micro-F1", "test macro-F1", "test macro AP"} <= set(models.columns)
    assert "command" not in models.columns
    assert "python -m genre_models train --model poster_cnn" in app.code[0].value  # the commands, apart
    from genre_app.navigation import list_pages

    assert len(app.get("page_link")) == len(list_pages())  # one per page (a Report page too, once it exists)


def test_home_without_dataset_says_how_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GENRE_DATA_DIR", str(tmp_path / "nothing-here"))
    app = run_page("streamlit_app.py")
    assert "No dataset yet" in texts(app)
    assert app.get("file_uploader")


def test_home_refuses_a_malicious_zip_and_keeps_going(app_env, monkeypatch, tmp_path):
    import genre_app.state as app_state

    monkeypatch.setattr(app_state, "PROJECT_ROOT", tmp_path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../escape.txt", "x")
    app = run_page("streamlit_app.py")
    app.get("file_uploader")[0].set_value(("evil.zip", buffer.getvalue(), "application/zip")).run()
    app.button[0].click().run()
    assert not app.exception
    assert any("not imported" in e.value for e in app.error)
    assert not (tmp_path.parent / "escape.txt").exists()


def test_dataset_browser_grid_filters_and_charts(app_env):
    app = run_page("pages/1_Dataset_browser.py")
    assert len(app.get("image")) == 12  # a page of posters; no film is open until one is clicked
    assert "imdb.com/title/" in texts(app)
    app.multiselect[0].set_value(["Drama"]).run()
    assert not app.exception
    assert "films match" in app.number_input[0].label
    app.text_input[0].input("zzzz-no-such-word").run()
    assert "0 films match" in app.number_input[0].label
    assert not app.get("vega_lite_chart")  # charts are built only in the Charts view
    app.segmented_control(key="view").set_value("Charts").run()
    assert not app.exception
    assert len(app.get("vega_lite_chart")) == 5


def test_compare_samples_films_and_marks_hits(app_env):
    app = run_page("pages/3_Compare.py")
    summary = app.dataframe[0].value
    assert set(summary["model"]) - {m for m in summary["model"] if m.startswith("baseline: ")} == SHIPPED
    content = texts(app)
    assert "sampled test films" in content and ("**hit** ·" in content or "wrong ·" in content or "missed ·" in content)
    assert "✅" not in content and "❌" not in content  # emoji render as empty boxes without an emoji font
    assert "Disagreement" in content
    app.number_input[1].set_value(7).run()
    assert not app.exception


def test_evaluate_confusion_matrices_and_live_threshold(app_env):
    app = run_page("pages/4_Evaluate.py")
    assert "Per-genre confusion matrices" in texts(app)
    assert len(app.get("plotly_chart")) == 4
    before = {m.label: m.value for m in app.metric}
    app.radio[0].set_value("one global threshold").run()
    app.slider[0].set_value(0.05).run()
    assert not app.exception
    after = {m.label: m.value for m in app.metric}
    assert before["micro-F1"] != after["micro-F1"]
    assert before["micro AP"] == after["micro AP"]  # ranking metrics do not depend on thresholds


@pytest.fixture
def no_scoring(real_data_dir, monkeypatch):
    """The full real dataset with the shipped artifacts, and any scoring of a split made to fail:
    what opens must come from the artifacts' split_scores.npz files."""
    from genre_models import inference

    def refuse(*args, **kwargs):
        raise AssertionError("a split was scored instead of read from split_scores.npz")

    monkeypatch.setenv("GENRE_DATA_DIR", str(real_data_dir))
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(PROJECT_ROOT / "artifacts"))
    monkeypatch.setattr(inference, "score_split_with_progress", refuse)
    return real_data_dir


@pytest.mark.parametrize("page", ["pages/3_Compare.py", "pages/4_Evaluate.py"])
def test_compare_and_evaluate_on_the_test_split_read_the_shipped_scores(no_scoring, page):
    app = run_page(page)
    assert not app.get("progress")
    if page.endswith("Compare.py"):
        assert set(app.dataframe[0].value["model"]) >= SHIPPED
    else:
        assert "499 films in the test split" in texts(app)
        app.selectbox[1].set_value("validation").run()
        assert not app.exception and "544 films in the validation split" in texts(app)


def test_scoring_that_must_run_reports_films_done_per_model(app_env, monkeypatch):
    from genre_app import state, widgets

    calls = []
    original = widgets.ScoringProgress.__call__
    monkeypatch.setattr(widgets.ScoringProgress, "__call__",
                        lambda self, name, done, total: (calls.append((name, done, total)),
                                                         original(self, name, done, total)))
    state.get_split_scores.clear()  # the small dataset is not the one the shipped scores were made on
    run_page("pages/4_Evaluate.py")
    by_model = {}
    for name, done, total in calls:
        by_model.setdefault(name, []).append((done, total))
    assert by_model  # Evaluate's model and the model it is compared with
    for name, steps in by_model.items():
        assert steps[0][0] == 0 and steps[-1][0] == steps[-1][1] > 0, (name, steps)


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
    runs.write_json_atomically(folder / runs.CONFIG_FILE, {"config": {"model_name": "course_cnn", "epochs": 5},
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
        runs.lock_file(lock)
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
    assert runs.read_promotions() == {"course_cnn": str(fake_runs["finished"] / runs.ARTIFACT_DIR)}


@pytest.mark.parametrize("page, activity", [("pages/3_Compare.py", "Comparing"), ("pages/4_Evaluate.py", "Evaluating"),
                                            ("pages/1_Dataset_browser.py", "No dataset")])
def test_pages_needing_the_dataset_say_how_to_provide_it(page, activity, tmp_path, monkeypatch):
    monkeypatch.setenv("GENRE_DATA_DIR", str(tmp_path / "nothing-here"))
    app = run_page(page)
    assert activity in texts(app) or any(activity in w.value for w in app.warning)
    assert "GENRE_DATA_DIR" in texts(app)


# --- Issue 11: one bad poster must not take a page down -------------------------------------------------------

def damaged_poster_bytes(kind: str, original: bytes) -> bytes:
    """Bytes of a poster damaged in one of the ways seen in the wild (all saved under the .jpg name)."""
    if kind == "empty":
        return b""
    if kind == "truncated":
        return original[: len(original) // 3]
    buffer = io.BytesIO()
    if kind == "gif":
        Image.new("RGB", (100, 150), (200, 30, 30)).save(buffer, format="GIF")
    elif kind == "16-bit png":
        wide = (np.arange(150 * 100, dtype=np.uint16).reshape(150, 100) * 4).astype(np.uint16)
        Image.fromarray(wide, mode="I;16").save(buffer, format="PNG")
    return buffer.getvalue()


DAMAGE_KINDS = ("empty", "gif", "16-bit png", "truncated")


@pytest.fixture(scope="session")
def damaged_dataset(small_real_dataset, tmp_path_factory):
    """A copy of the small real dataset where every other film of the grid's first page and of the test
    split (the first test film included) has a damaged poster: 0-byte, GIF, 16-bit PNG or truncated.

    Returns the folder and {film Id: kind of damage}.
    """
    from conftest import copy_dataset

    from genre_models.dataset import load_dataset

    folder = copy_dataset(small_real_dataset, tmp_path_factory.mktemp("damaged") / small_real_dataset.name)
    dataset = load_dataset(folder)
    test_rows = list(dataset.split_indices("test"))
    chosen = sorted(set(range(0, 12, 2)) | set(test_rows[::2]))
    damage = {}
    for number, row in enumerate(chosen):
        film_id = str(dataset.ids[row])
        damage[film_id] = DAMAGE_KINDS[number % len(DAMAGE_KINDS)]
        path = dataset.poster_path(film_id)
        path.write_bytes(damaged_poster_bytes(damage[film_id], path.read_bytes()))
    return {"folder": folder, "damage": damage, "ids": [str(film_id) for film_id in dataset.ids]}


@pytest.fixture
def damaged_env(damaged_dataset, monkeypatch):
    """The app reads the damaged copy and the shipped artifacts."""
    monkeypatch.setenv("GENRE_DATA_DIR", str(damaged_dataset["folder"]))
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(PROJECT_ROOT / "artifacts"))
    return damaged_dataset


def is_undecodable(damaged: dict, film_id: str) -> bool:
    """Whether a film's poster was damaged beyond decoding (a 16-bit PNG decodes, scaled to 8 bits)."""
    return damaged["damage"].get(film_id, "16-bit png") != "16-bit png"


def poster_placeholders(app: AppTest) -> list[str]:
    """The texts shown in place of posters that could not be decoded."""
    return [c.value for c in app.caption if "Poster not shown" in str(c.value)]


def test_dataset_browser_shows_a_placeholder_for_each_damaged_poster(damaged_env):
    app = run_page("pages/1_Dataset_browser.py")
    # The first page shows the first 12 films; the first one (a 0-byte poster) is opened: its overview
    # models still answer.
    first_page = damaged_env["ids"][:12]
    bad = sum(is_undecodable(damaged_env, film_id) for film_id in first_page)
    assert bad >= 4 and is_undecodable(damaged_env, first_page[0])
    assert len(poster_placeholders(app)) == bad
    app.button(key=f"open-{first_page[0]}").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert len(poster_placeholders(app)) == bad + 1
    assert len(app.get("image")) == 12 - bad
    assert any("What the models answer" in str(m.value) for m in app.markdown)


@pytest.mark.parametrize("text_only", [False, True])
def test_compare_shows_films_with_damaged_posters(damaged_env, text_only):
    app = AppTest.from_file(str(PROJECT_ROOT / "pages/3_Compare.py"), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    if text_only:  # Text models score every film, so damaged posters are among the sampled films.
        app.multiselect[0].set_value(["minilm_mlp", "tfidf_logreg"])
    app.number_input[0].set_value(30).run()
    assert not app.exception, [e.value for e in app.exception]
    assert "sampled test films" in texts(app)
    if text_only:
        assert poster_placeholders(app)


# --- Issue 11: shared deployments are read-only for visitors ----------------------------------------------------

# Both spellings turn every action that changes shared state off.
READ_ONLY_SETTINGS = [("GENRE_READ_ONLY", "1"), ("GENRE_TRAINING_ENABLED", "disabled")]


@pytest.fixture
def promoted_run(fake_runs):
    """The finished fake run promoted over the shipped course_cnn, so 'Restore shipped' is offered."""
    from genre_models import runs

    runs.promote_run(fake_runs["finished"])
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
    assert runs.read_promotions() == {"course_cnn": str(promoted_run["finished"] / runs.ARTIFACT_DIR)}


@pytest.mark.parametrize("variable, value", READ_ONLY_SETTINGS)
def test_home_read_only_offers_no_zip_import(app_env, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    app = run_page("streamlit_app.py")
    assert not app.get("file_uploader")
    assert "Import this zip" not in [button.label for button in app.button]
    assert "Importing a dataset is turned off" in texts(app)


def test_home_without_dataset_read_only_says_how_to_configure_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GENRE_DATA_DIR", str(tmp_path / "nothing-here"))
    monkeypatch.setenv("GENRE_READ_ONLY", "yes")
    app = run_page("streamlit_app.py")
    assert "No dataset yet" in texts(app) and "GENRE_DATA_DIR" in texts(app)
    assert not app.get("file_uploader")


@pytest.mark.parametrize("label, action", [("Use this model", "promote_run"), ("Delete run", "delete_run"),
                                           ("Restore shipped", "restore_shipped")])
def test_train_page_shows_a_refused_action_as_an_error(app_env, promoted_run, monkeypatch, label, action):
    """Refusals decided in the package (read-only switched on meanwhile, a run in use) are messages."""
    from genre_models import runs

    def refuse(*arguments, **keywords):
        raise runs.RunRefused("Changing the models in use is turned off: this deployment is read-only")

    app = run_page("pages/5_Train.py")
    monkeypatch.setattr(runs, action, refuse)
    next(button for button in app.button if button.label == label).click().run()
    if label == "Delete run":  # deleting asks for confirmation first
        next(button for button in app.button if button.label == "Yes, delete it").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("turned off" in error.value for error in app.error)


def test_train_page_restores_the_shipped_model(app_env, promoted_run):
    from genre_models import runs

    app = run_page("pages/5_Train.py")
    next(button for button in app.button if button.label == "Restore shipped").click().run()
    assert not app.exception
    assert runs.read_promotions() == {}
    assert any("shipped model again" in s.value for s in app.success)


# --- Issue 11: a damaged runs/promoted.json is ignored with a warning -------------------------------------------

@pytest.mark.parametrize("page, content", [("streamlit_app.py", '["course_cnn"]'),
                                           ("streamlit_app.py", "{not json"),
                                           ("pages/5_Train.py", '{"course_cnn": 3}'),
                                           ("pages/2_Predict.py", '["course_cnn"]'),
                                           ("pages/4_Evaluate.py", '"a string"')])
def test_a_damaged_promotions_file_is_ignored_with_a_warning(app_env, fake_runs, page, content):
    from genre_models import runs

    (fake_runs["root"] / runs.PROMOTIONS_FILE).write_text(content)
    app = run_page(page)
    if page in ("streamlit_app.py", "pages/5_Train.py"):
        assert any(runs.PROMOTIONS_FILE in warning.value for warning in app.warning)
    if page == "streamlit_app.py":
        assert SHIPPED <= set(app.table[0].value.index)


# --- Issue 13: explanations, computed only when asked -----------------------------------------------------------

def tinted_overviews(app: AppTest) -> list[str]:
    """The overviews shown with their words tinted by an explanation (HTML)."""
    return [str(m.value) for m in app.markdown if "explained-word" in str(m.value)]


def heatmap_images(app: AppTest) -> list:
    """The posters shown with a Grad-CAM heatmap over them."""
    return [image for image in app.get("image") if any("Grad-CAM" in str(c) for c in image.captions)]


def genre_pickers(app: AppTest) -> list:
    return [box for box in app.selectbox if box.label == "Genre to explain"]


def test_dataset_browser_explains_the_opened_film(app_env):
    app = run_page("pages/1_Dataset_browser.py")
    next(button for button in app.button if button.label == "Open details").click().run()
    assert not tinted_overviews(app) and not heatmap_images(app)
    app.selectbox(key="browser-explain-model").set_value("poster_cnn")
    app.toggle(key="browser-explain").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    assert len(heatmap_images(app)) == 1 and len(app.get("image")) == 12 + 1 + 1
    app.selectbox(key="browser-explain-model").set_value("tfidf_logreg").run()
    assert not app.exception
    assert tinted_overviews(app) and "exact TF-IDF contributions" in texts(app)


def test_compare_explains_a_sampled_film_on_demand(app_env):
    app = run_page("pages/3_Compare.py")
    toggles = [t for t in app.toggle if t.key.startswith("compare-explain-")]
    sampled = int(next(s.value for s in app.subheader if "sampled test films" in s.value).split()[0])
    assert len(toggles) == sampled > 1 and not tinted_overviews(app)
    film_id = toggles[0].key.removeprefix("compare-explain-")
    app.selectbox(key=f"compare-model-{film_id}").set_value("multimodal_fusion")
    app.toggle(key=f"compare-explain-{film_id}").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    assert "Pull on the fused log-odds" in texts(app) and "Share of the fused probability" not in texts(app)
    assert len(heatmap_images(app)) == 1 and tinted_overviews(app)
    # Only the film asked about is explained.
    assert len(genre_pickers(app)) == 1


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
    runs.write_json_atomically(folder / runs.HEARTBEAT_FILE, {
        "pid": os.getpid(), "heartbeat": time.time() + 3600, "epoch": 2, "epochs": 5, "step": 1, "steps": 3,
        "elapsed": 120.0})
    with open(folder / runs.LOCK_FILE, "a+") as lock:
        runs.lock_file(lock)
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
    from genre_models import runs

    started = []
    monkeypatch.setattr(runs, "start_run", lambda config: started.append(config) or runs_root / "20260105-fake")
    app = run_page("pages/5_Train.py")
    app.selectbox[0].set_value("course_lstm").run()
    next(n for n in app.number_input if n.label == "Epochs").set_value(3)
    next(s for s in app.slider if s.label == "Share of the training data").set_value(0.1)
    button_labelled(app, "Start training").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert (started[0].model_name, started[0].epochs, started[0].train_fraction) == ("course_lstm", 3, 0.1)
    assert any("20260105-fake" in toast.value for toast in app.toast)
    # A reload (a new session) starts from the settings last used, not 40 epochs on all the data.
    again = run_page("pages/5_Train.py")
    assert again.selectbox[0].value == "course_lstm"
    assert next(n for n in again.number_input if n.label == "Epochs").value == 3
    assert next(s for s in again.slider if s.label == "Share of the training data").value == pytest.approx(0.1)


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
    runs.promote_run(folder)
    return folder


def test_home_marks_a_fusion_whose_part_was_replaced_as_needing_refit(app_env, replaced_fusion_part, monkeypatch):
    from genre_models import runs

    started = []
    monkeypatch.setattr(runs, "start_run", lambda config: started.append(config) or replaced_fusion_part.parent / "x")
    app = run_page("streamlit_app.py")
    assert not [error for error in app.error if "late_fusion" in error.value]
    table = app.table[0].value
    assert table.loc["late_fusion", "state"] == "needs refitting"
    assert table.loc["multimodal_fusion", "state"] == "ready"
    assert "late_fusion needs refitting" in texts(app)
    button_labelled(app, "Refit late_fusion").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert [config.model_name for config in started] == ["late_fusion"]
    assert Path(started[0].data_dir) == Path(app_env)


def test_train_page_offers_the_refit_of_a_fusion_whose_part_was_replaced(replaced_fusion_part, monkeypatch):
    app = run_page("pages/5_Train.py")
    assert "late_fusion needs refitting" in texts(app)
    assert not button_labelled(app, "Refit late_fusion").disabled
    monkeypatch.setenv("GENRE_READ_ONLY", "1")
    assert button_labelled(run_page("pages/5_Train.py"), "Refit late_fusion").disabled


# --- Issue 18: charts and Compare a newcomer can read -----------------------------------------------------------

def test_compare_has_a_baseline_row_percentages_and_a_two_model_focus(app_env):
    app = run_page("pages/3_Compare.py")
    aggregate = app.dataframe[0].value
    baseline = aggregate[aggregate["model"].str.startswith("baseline: always")]
    assert len(baseline) == 1 and "Drama" in baseline["model"].iloc[0]
    # The share of films with a hit is a percentage (0-100), not a fraction.
    assert aggregate["films with ≥1 hit (test split)"].max() > 1
    app.toggle(key="compare-focus").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    focused = app.dataframe[0].value
    assert list(focused["model"])[:2] == ["course_cnn", "course_lstm"] and len(focused) == 3
    assert "Head to head" in texts(app)


def test_home_guides_the_figures_and_lists_the_baseline(app_env):
    app = run_page("streamlit_app.py")
    table = app.table[0].value
    baseline = [name for name in table.index if name.startswith("baseline: always")]
    assert baseline == ["baseline: always Comedy + Drama"]
    assert float(table.loc[baseline[0], "test micro-F1"]) > 0
    assert table.loc["late_fusion", "epochs"] == "fused (no epochs)" and table.loc["course_cnn", "epochs"] == "40"
    guide = [expander for expander in app.expander if expander.label == "How to read these figures"]
    assert guide and "macro-F1" in guide[0].markdown[0].value and "average precision" in guide[0].markdown[0].value
    # Genres no film has are information, not a problem.
    assert any("For your information" in info.value and "no film" in info.value for info in app.info)
    assert not any("genres with no positive film" in str(m.value) for m in app.markdown)


def test_dataset_browser_cards_open_the_film_and_answers_are_not_cut_off(app_env):
    app = run_page("pages/1_Dataset_browser.py")
    openers = [button for button in app.button if button.label == "Open details"]
    assert len(openers) == 12
    fifth = openers[4].key.removeprefix("open-")
    openers[4].click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.query_params["film"] == fifth
    assert any(fifth in str(m.value) and m.value.startswith("### ") for m in app.markdown)
    # Every model's answer in full, one line each (no table cell to cut it off).
    answers = next(str(m.value) for m in app.markdown if "What the models answer" in str(m.value))
    assert all(f"**{name}**:" in answers for name in SHIPPED)


def test_train_page_shows_a_multi_worker_run_as_one_of_n_workers(app_env, fake_runs):
    from genre_models import runs

    runs.write_status(fake_runs["running"], "running", worker_index=1, workers=2, chief=False)
    app = run_page("pages/5_Train.py")
    assert not app.exception
    assert any("worker 1 of 2" in caption.value for caption in app.caption)

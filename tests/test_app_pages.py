"""AppTests of the Predict and Train pages that are still to move to tests/test_page_predict.py and
tests/test_page_train.py (the other pages' tests are in tests/test_page_<page>.py), and the damaged
promotions file, which several pages read: shipped artifacts + a small real dataset folder."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from app_testing import (
    READ_ONLY_SETTINGS, SHIPPED, genre_pickers, heatmap_images, jpeg_bytes, poster_placeholders, run_page,
    texts, tinted_overviews,
)
from genre_models import fileio, promotions
from genre_models.artifacts import read_artifact_metadata
from genre_models.config import PROJECT_ROOT


def test_predict_with_uploaded_poster_and_summary(app_env):
    app = run_page("pages/2_Predict.py")
    app.get("file_uploader")[0].set_value(("poster.jpg", jpeg_bytes(), "image/jpeg"))
    app.text_area[0].input("A detective hunts a serial killer through a rainy city.")
    app.button[0].click().run()
    assert not app.exception
    shown = [s.value for s in app.subheader]
    assert SHIPPED <= set(shown)
    assert "Top 3:" in texts(app)
    assert len(app.get("plotly_chart")) == len(SHIPPED)


@pytest.mark.parametrize("payload", [b"this is not an image", b"", b"\xff\xd8\xff\xe0 truncated"])
def test_predict_bad_upload_shows_an_error_not_a_traceback(app_env, payload):
    app = run_page("pages/2_Predict.py")
    app.get("file_uploader")[0].set_value(("poster.jpg", payload, "image/jpeg"))
    app.button[0].click().run()
    assert not app.exception
    assert app.error and "Could not predict" in app.error[0].value


def test_predict_empty_input_is_refused_with_a_message(app_env):
    app = run_page("pages/2_Predict.py")
    app.text_area[0].input("   ")
    app.button[0].click().run()
    assert not app.exception
    assert app.error and "empty" in app.error[0].value


def test_predict_from_a_dataset_film_shows_true_genres(app_env):
    app = run_page("pages/2_Predict.py")
    app.radio[0].set_value("Pick a film from the dataset").run()
    app.button[0].click().run()
    assert not app.exception
    assert "True genres:" in texts(app)
    assert len(app.get("plotly_chart")) == len(SHIPPED)


def predicted(app: AppTest, poster: bytes | None, summary: str | None) -> AppTest:
    if poster is not None:
        app.get("file_uploader")[0].set_value(("poster.jpg", poster, "image/jpeg"))
    if summary is not None:
        app.text_area[0].input(summary)
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_predict_leads_with_the_best_fused_model_in_plain_words(app_env):
    app = predicted(run_page("pages/2_Predict.py"), jpeg_bytes(),
                    "A detective hunts a serial killer through a rainy city.")
    subheaders = [s.value for s in app.subheader]
    assert subheaders.index("Our answer") < subheaders.index("Every model, for comparison")
    content = texts(app)
    assert "This film is most likely **" in content and "%)" in content
    assert "From multimodal_fusion (reads the poster and the summary)" in content
    assert "Not shown" not in content
    # The course's models are labelled as references, the baseline's figures beside theirs.
    assert content.count("The course's reference model, not the app's answer") == 3
    assert "always Comedy + Drama scores 0.44 and 0.07" in content


def test_predict_with_a_summary_only_names_the_fused_models_it_skips(app_env):
    app = predicted(run_page("pages/2_Predict.py"), None, "Two friends open a bakery and fall in love in Paris.")
    content = texts(app)
    assert "From text_ensemble (reads the overview)" in content
    info = " ".join(i.value for i in app.info)
    assert "Not shown: late_fusion, multimodal_fusion: fused models that read a poster, which was not given" in info


def test_predict_warns_when_the_input_is_not_a_plot_or_a_poster(app_env):
    rng = np.random.default_rng(0)
    gibberish = " ".join("".join(rng.choice(list("qwrtzpsdfghjklxcvbnm"), 7)) for _ in range(980))
    gradient = io.BytesIO()
    Image.fromarray(np.tile(np.linspace(0, 255, 200, dtype=np.uint8)[None, :, None], (300, 1, 3))).save(
        gradient, format="PNG")
    app = predicted(run_page("pages/2_Predict.py"), gradient.getvalue(), gibberish)
    warnings = " ".join(w.value for w in app.warning)
    assert "Low confidence" in warnings and "almost no detail" in warnings and "ordinary English words" in warnings
    plain = predicted(run_page("pages/2_Predict.py"), None, "A detective hunts a serial killer through a rainy city.")
    assert not [w for w in plain.warning if "Low confidence" in w.value and "summary" in w.value]


def test_predict_marks_hits_with_a_badge_not_an_emoji(app_env):
    app = run_page("pages/2_Predict.py")
    app.radio[0].set_value("Pick a film from the dataset").run()
    app.button[0].click().run()
    content = texts(app)
    assert "**Against the true genres:**" in content and ("**hit** ·" in content or "wrong ·" in content or "missed ·" in content)
    assert "✅" not in content and "❌" not in content


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


def sixteen_bit_png(size=(120, 180)) -> bytes:
    buffer = io.BytesIO()
    wide = np.random.default_rng(1).integers(0, 65535, (size[1], size[0]), dtype=np.uint16)
    Image.fromarray(wide, mode="I;16").save(buffer, format="PNG")
    return buffer.getvalue()


def test_predict_a_16_bit_png_upload_predicts_and_shows_it(app_env):
    app = run_page("pages/2_Predict.py")
    app.get("file_uploader")[0].set_value(("poster.png", sixteen_bit_png(), "image/png"))
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error
    assert "Top 3:" in texts(app)
    images = app.get("image")
    assert images and "Your poster" in images[-1].captions


def test_predict_refuses_an_upload_over_the_limit_before_decoding(app_env):
    payload = jpeg_bytes()
    oversized = payload + b"\0" * (20 * 1024 * 1024 + 1 - len(payload))  # a valid JPEG followed by padding
    app = run_page("pages/2_Predict.py")
    assert any("20 MB" in c.value for c in app.caption)
    app.get("file_uploader")[0].set_value(("poster.jpg", oversized, "image/jpeg"))
    app.button[0].click().run()
    assert not app.exception
    assert app.error and "20 MB" in app.error[0].value
    assert not [s for s in app.subheader if s.value in SHIPPED]


def test_predict_decodes_uploads_with_the_lower_pixel_cap_and_says_so(app_env):
    from genre_models.dataset import MAX_UPLOAD_PIXELS
    from genre_models.dataset.posters import MAX_POSTER_PIXELS

    side = int(MAX_UPLOAD_PIXELS ** 0.5) + 100  # a plain PNG of a few kB, allowed in the dataset
    assert side * side < MAX_POSTER_PIXELS
    buffer = io.BytesIO()
    Image.new("L", (side, side)).save(buffer, format="PNG")
    app = run_page("pages/2_Predict.py")
    assert any("megapixels" in c.value and "reduced size" in c.value for c in app.caption)
    app.get("file_uploader")[0].set_value(("poster.png", buffer.getvalue(), "image/png"))
    app.button[0].click().run()
    assert not app.exception
    assert app.error and "megapixels" in app.error[0].value


# --- Issue 11: shared deployments are read-only for visitors ----------------------------------------------------


@pytest.fixture
def promoted_run(fake_runs):
    """The finished fake run promoted over the shipped course_cnn, so 'Restore shipped' is offered."""
    from genre_models import runs

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
    from genre_models import runs

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
    from genre_models import runs

    (fake_runs["root"] / promotions.PROMOTIONS_FILE).write_text(content)
    app = run_page(page)
    if page in ("streamlit_app.py", "pages/5_Train.py"):
        assert any(promotions.PROMOTIONS_FILE in warning.value for warning in app.warning)
    if page == "streamlit_app.py":
        assert SHIPPED <= set(app.table[1].value.index)  # Home's full models table


# --- Issue 13: explanations, computed only when asked -----------------------------------------------------------


def test_predict_explains_every_model_when_asked(app_env):
    app = run_page("pages/2_Predict.py")
    app.get("file_uploader")[0].set_value(("poster.jpg", jpeg_bytes(), "image/jpeg"))
    app.text_area[0].input("A detective hunts a serial killer through a rainy city. <b>Not bold</b> *nor* $x$")
    app.button[0].click().run()
    assert not app.exception
    # Nothing is explained before it is asked for.
    assert not tinted_overviews(app) and not heatmap_images(app) and not genre_pickers(app)
    for name in SHIPPED:
        app.toggle(key=f"explain-{name}").set_value(True)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    metadata = {m["name"]: m for m in read_artifact_metadata(PROJECT_ROOT / "artifacts")[0]}
    poster_networks = [n for n, m in metadata.items() if m["input_kind"] == "poster"]
    poster_parts = [part["name"] for m in metadata.values() for part in m.get("components", [])
                    if part["input_kind"] == "poster"]
    # One heatmap per poster network and one per poster part of a fused model (its own explanation).
    assert len(heatmap_images(app)) == len(poster_networks) + len(poster_parts)
    assert len([s for s in app.slider if s.label == "Heatmap opacity"]) == len(heatmap_images(app))
    tinted = tinted_overviews(app)
    assert tinted and all("raises" not in html for html in tinted)
    # Words are escaped: the summary's HTML and Markdown marks show as text, never as markup.
    assert all("<b>" not in html and "&#60;b&#62;Not" in html for html in tinted if "Not" in html)
    assert any("raises" in str(m.value) and "lowers" in str(m.value) for m in app.markdown)  # the legend
    assert "Share of the fused probability" in texts(app)  # late_fusion and text_ensemble mean probabilities
    assert "Pull on the fused log-odds" in texts(app)  # multimodal_fusion means log-odds
    # Each genre picker starts on its model's top genre.
    for picker in genre_pickers(app):
        assert picker.value == picker.key.rsplit("-genre-", 1)[1]
    # Another genre, another opacity: explained again, no error.
    picker = next(p for p in genre_pickers(app) if p.key.startswith("explain-tfidf_logreg-"))
    picker.set_value("Horror").run()
    assert not app.exception
    assert "Why Horror" in texts(app)
    next(s for s in app.slider if s.label == "Heatmap opacity").set_value(0.9).run()
    assert not app.exception
    assert len(heatmap_images(app)) == len(poster_networks) + len(poster_parts)


def test_predict_explanation_of_a_dataset_film_and_a_summary_only_input(app_env):
    app = run_page("pages/2_Predict.py")
    app.radio[0].set_value("Pick a film from the dataset").run()
    app.button[0].click().run()
    app.toggle(key="explain-course_cnn").set_value(True)
    app.toggle(key="explain-late_fusion").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    assert len(heatmap_images(app)) == 2 and tinted_overviews(app)
    # A summary alone: the text models answer, and explain, without a poster.
    app = run_page("pages/2_Predict.py")
    app.text_area[0].input("Two friends open a bakery in Paris and fall in love.")
    app.button[0].click().run()
    app.toggle(key="explain-course_lstm").set_value(True).run()
    assert not app.exception
    assert tinted_overviews(app) and not heatmap_images(app)


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

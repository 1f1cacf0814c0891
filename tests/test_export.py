"""Serving export: `python -m genre_models export` writes SavedModels that plain TensorFlow (in a
process that never imports genre_models) loads and runs to the app's probabilities."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from genre_models.cli import main
from genre_models.config import PROJECT_ROOT
from genre_models.dataset import decode_poster, load_dataset
from genre_models.export import EXPORT_INFO_FILE, export_model
from genre_models.fileio import read_json
from genre_models.inference import GenrePredictor

SHIPPED = PROJECT_ROOT / "artifacts"
# A poster model, the TF-IDF model, a MiniLM model (encoder inside the export), and a fusion of a
# poster CNN, the tuned MiniLM and TF-IDF exported as one graph.
EXPORTED = ("poster_cnn", "tfidf_logreg", "minilm_mlp", "poster_effnet", "multimodal_fusion")
FUSION = "multimodal_fusion"
FILMS = 4
TOLERANCE = 1e-5

# Runs in a fresh interpreter outside the repository: TensorFlow and tensorflow_text only.
PLAIN_TENSORFLOW = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    import tensorflow_text  # registers the MiniLM tokeniser's ops

    folder, films_path, out_path = sys.argv[1:]
    films = json.load(open(films_path))
    posters = np.load(folder + "/../posters.npz")
    info = json.load(open(folder + "/export.json"))
    model = tf.saved_model.load(folder)
    rows, by_signature = [], []
    for index, film in enumerate(films):
        inputs = {}
        if "poster" in info["inputs"]:
            inputs["poster"] = tf.constant(posters[f"film{index}"][None])
        if "overview" in info["inputs"]:
            inputs["overview"] = tf.constant([[film["overview"]]])
        rows.append(model.serve(**inputs).numpy()[0].tolist())
        by_signature.append(model.signatures["serving_default"](**inputs)["output_0"].numpy()[0].tolist())
    json.dump({"probabilities": rows, "signature": by_signature,
               "project_imported": any(name.startswith("genre_models") for name in sys.modules)},
              open(out_path, "w"))
""")


@pytest.fixture(scope="module")
def films(real_data_dir):
    """A few test-split films: Id, overview (one with stray whitespace, cleaned by both) and poster pixels."""
    dataset = load_dataset(real_data_dir)
    rows = dataset.split_indices("test")[:FILMS]
    chosen = [{"id": str(dataset.ids[row]), "overview": str(dataset.overviews[row]),
               "poster": decode_poster(dataset.poster_path(str(dataset.ids[row])))} for row in rows]
    chosen[0]["overview"] = "  \n" + chosen[0]["overview"] + "   \t"
    return chosen


@pytest.fixture(scope="module")
def fusion_root(tmp_path_factory):
    """A copy of FUSION and its parts whose recorded part versions are the copied parts' own.

    The export and the app both refuse a fusion whose part was retrained after its weights were
    fitted (test_fusion_with_a_retrained_part_is_refused); aligning the records keeps this test about
    the export computing the app's fused probabilities, whatever retraining is under way."""
    root = tmp_path_factory.mktemp("fusion_artifacts")
    metadata = read_json(SHIPPED / FUSION / "metadata.json")
    for part in metadata["components"]:
        shutil.copytree(SHIPPED / part["name"], root / part["name"])
        part["created_at"] = read_json(root / part["name"] / "metadata.json")["created_at"]
    shutil.copytree(SHIPPED / FUSION, root / FUSION)
    (root / FUSION / "metadata.json").write_text(json.dumps(metadata))
    return root


def locate_artifacts(name: str, fusion_root):
    """Return the artifacts folder a model is exported from and compared in."""
    return fusion_root if name == FUSION else SHIPPED


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """A folder of exports; the first model goes through the CLI."""
    return tmp_path_factory.mktemp("exports")


def run_plain_tensorflow(folder, films, tmp_path) -> dict:
    """Run PLAIN_TENSORFLOW on an export; return its probabilities per film."""
    np.savez(folder.parent / "posters.npz", **{f"film{index}": film["poster"] for index, film in enumerate(films)})
    films_path, out_path, script = tmp_path / "films.json", tmp_path / "out.json", tmp_path / "load_export.py"
    films_path.write_text(json.dumps([{"overview": film["overview"]} for film in films]))
    script.write_text(PLAIN_TENSORFLOW)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    completed = subprocess.run([sys.executable, str(script), str(folder), str(films_path), str(out_path)],
                               cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(out_path.read_text())


@pytest.mark.parametrize("name", EXPORTED)
def test_export_reloaded_by_plain_tensorflow_matches_the_app(name, exports, fusion_root, films, tmp_path):
    root = locate_artifacts(name, fusion_root)
    if name == EXPORTED[0]:
        assert main(["export", "--model", name, "--out", str(exports / name)]) == 0
    else:
        export_model(name, exports / name, root)
    predictor = GenrePredictor.from_artifacts(root, names=[name, *(part for part, _ in read_parts(name))])
    loaded = predictor.get(name)
    expected = []
    for film in films:
        answer = predictor.predict(poster=film["poster"] if "poster" in loaded.input_kinds else None,
                                   overview=film["overview"] if "overview" in loaded.input_kinds else None)
        prediction = next(p for p in answer.predictions if p.model == name)
        expected.append([prediction.probabilities[genre] for genre in loaded.genres])

    result = run_plain_tensorflow(exports / name, films, tmp_path)
    assert result["project_imported"] is False
    got = np.array(result["probabilities"])
    assert got.shape == (len(films), 25)
    difference = np.abs(got - np.array(expected)).max()
    assert difference <= TOLERANCE, f"{name}: largest difference {difference:.2e}"
    assert np.abs(np.array(result["signature"]) - got).max() == 0

    info = read_json(exports / name / EXPORT_INFO_FILE)
    assert info["genres"] == loaded.genres
    assert info["thresholds"] == [float(t) for t in loaded.thresholds]
    assert sorted(info["inputs"]) == sorted(loaded.input_kinds)
    assert [part["name"] for part in info["parts"]] == [part for part, _ in loaded.parts]


def read_parts(name: str) -> list[tuple[str, float]]:
    """Return a shipped model's (part, weight) pairs from its metadata ([] for a network)."""
    metadata = read_json(SHIPPED / name / "metadata.json")
    return [(part["name"], part["weight"]) for part in metadata.get("components", [])]


def test_export_refuses_unknown_models_and_foreign_folders(tmp_path, capsys):
    assert main(["export", "--model", "no_such_model", "--out", str(tmp_path / "out")]) == 2
    assert "No usable model named 'no_such_model'; available: " in capsys.readouterr().err
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="holds other files"):
        export_model("tfidf_logreg", occupied, SHIPPED)
    assert (occupied / "notes.txt").read_text() == "keep me"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="is not a folder"):
        export_model("tfidf_logreg", a_file, SHIPPED)


def test_export_replaces_an_earlier_export(tmp_path):
    first = export_model("tfidf_logreg", tmp_path / "served", SHIPPED)
    second = export_model("tfidf_logreg", tmp_path / "served", SHIPPED)
    assert second["exported_at"] >= first["exported_at"]
    assert sorted(path.name for path in (tmp_path / "served").iterdir()) == sorted(
        ["assets", EXPORT_INFO_FILE, "fingerprint.pb", "saved_model.pb", "variables"])
    assert [path.name for path in tmp_path.iterdir()] == ["served"]  # no staging folder left behind


def test_fusion_with_a_retrained_part_is_refused(tmp_path):
    root = tmp_path / "artifacts"
    for name in ("text_ensemble", "minilm_tuned", "tfidf_logreg"):
        shutil.copytree(SHIPPED / name, root / name)
    # The fusion records the installed minilm_tuned but another tfidf_logreg than installed.
    metadata = read_json(root / "text_ensemble" / "metadata.json")
    assert [part["name"] for part in metadata["components"]] == ["minilm_tuned", "tfidf_logreg"]
    metadata["components"][0]["created_at"] = read_json(root / "minilm_tuned" / "metadata.json")["created_at"]
    metadata["components"][1]["created_at"] = "2000-01-01T00:00:00+00:00"
    (root / "text_ensemble" / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match="tfidf_logreg was retrained after the fusion was fitted"):
        export_model("text_ensemble", tmp_path / "out", root)

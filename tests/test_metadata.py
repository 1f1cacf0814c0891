"""metadata.json: one schema checked on every load, so a damaged or hand-edited file disables one
artifact with a reason instead of every model (or a crash)."""

from __future__ import annotations

import copy
import json
import shutil

import pytest

from genre_models.artifacts import load_all_artifacts, read_artifact_metadata
from genre_models.metadata import MetadataError, summarize_for_table, validate_metadata


def damage(metadata: dict, change: str) -> dict:
    """Return a copy of valid metadata with one kind of damage seen in the field."""
    damaged = copy.deepcopy(metadata)
    if change == "thresholds as a list":
        damaged["thresholds"] = damaged["thresholds"]["per_genre"]
    elif change == "versions as a string":
        damaged["versions"] = "keras 3"
    elif change == "threshold values as strings":
        damaged["thresholds"]["per_genre"] = [str(value) for value in damaged["thresholds"]["per_genre"]]
    elif change == "a threshold above 1":
        damaged["thresholds"]["per_genre"][0] = 7
    elif change == "genres repeated":
        damaged["genres"][1] = damaged["genres"][0]
    elif change == "a fusion listing itself":
        damaged["components"][0]["name"] = damaged["name"]
    elif change == "a non-numeric weight":
        damaged["components"][0]["weight"] = "half"
    elif change == "a NaN weight":
        damaged["components"][0]["weight"] = float("nan")
    elif change == "an unknown way of fusing":
        damaged.setdefault("recipe", {})["combine"] = "median"
    elif change == "no components":
        damaged["components"] = []
    elif change == "input kind unknown":
        damaged["input_kind"] = "smell"
    elif change == "not an object":
        damaged = ["a", "list"]
    return damaged


CHANGES = ["thresholds as a list", "versions as a string", "threshold values as strings", "a threshold above 1",
           "genres repeated", "a fusion listing itself", "a non-numeric weight", "a NaN weight", "an unknown way of fusing", "no components",
           "input kind unknown", "not an object"]


@pytest.mark.parametrize("change", CHANGES)
def test_each_kind_of_damage_is_refused_naming_the_artifact(tiny_trained, change):
    metadata = tiny_trained["late_fusion"].metadata
    validate_metadata(metadata, "late_fusion")  # The undamaged file passes.
    with pytest.raises(MetadataError, match="late_fusion"):
        validate_metadata(damage(metadata, change), "late_fusion")


@pytest.fixture
def artifacts_copy(tiny_trained, tmp_path, monkeypatch):
    root = tmp_path / "artifacts"
    shutil.copytree(tiny_trained["course_cnn"].artifact_dir.parent, root)
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(root))
    return root


def write_metadata(folder, metadata) -> None:
    (folder / "metadata.json").write_text(json.dumps(metadata))


@pytest.mark.parametrize("change", ["thresholds as a list", "versions as a string", "threshold values as strings",
                                    "a fusion listing itself", "a non-numeric weight"])
def test_one_bad_metadata_disables_only_its_artifact(artifacts_copy, change):
    folder = artifacts_copy / "late_fusion"
    write_metadata(folder, damage(json.loads((folder / "metadata.json").read_text()), change))
    loaded, errors = load_all_artifacts()
    assert set(errors) == {"late_fusion"}
    assert {model.name for model in loaded} == {path.name for path in artifacts_copy.iterdir()} - {"late_fusion"}
    listed, listing_errors = read_artifact_metadata()
    assert set(listing_errors) == {"late_fusion"} and len(listed) == len(loaded)


def test_a_copied_folder_with_a_duplicate_model_name_is_skipped_not_shadowing(artifacts_copy):
    shutil.copytree(artifacts_copy / "course_cnn", artifacts_copy / "course_cnn_copy")
    loaded, errors = load_all_artifacts()
    assert "course_cnn_copy" in errors and "installed as" in errors["course_cnn_copy"]
    assert [model.name for model in loaded].count("course_cnn") == 1


def test_the_cli_models_command_survives_a_damaged_metadata(artifacts_copy, capsys):
    from genre_models.cli import main

    write_metadata(artifacts_copy / "course_lstm", damage(
        json.loads((artifacts_copy / "course_lstm" / "metadata.json").read_text()), "versions as a string"))
    assert main(["models"]) == 0
    captured = capsys.readouterr()
    listed = [json.loads(line)["model"] for line in captured.out.splitlines()]
    assert "course_lstm" in captured.err and "course_lstm" not in listed and "course_cnn" in listed


def test_table_row_shows_the_parts_of_a_fusion(tiny_trained):
    row = summarize_for_table(tiny_trained["multimodal_fusion"].metadata)
    assert row["fusion of"] == "poster_effnet, minilm_tuned, tfidf_logreg" and row["input"] == "both"
    assert 0 <= row["test macro_f1"] <= 1

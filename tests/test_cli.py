"""The command line: predict output format, models listing, evaluate, clear errors."""

from __future__ import annotations

import json

from conftest import copy_dataset, read_rows, write_csv

from genre_models.cli import main
from genre_models.config import CSV_NAME, IMAGES_DIR_NAME
from genre_models.models import MODEL_REGISTRY


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_predict_writes_one_line_per_film_and_model(tiny_artifacts_dir, small_real_dataset, tmp_path, capsys):
    folder = copy_dataset(small_real_dataset, tmp_path / "films")
    rows = read_rows(folder / CSV_NAME)
    broken, missing = rows[0]["Id"], rows[1]["Id"]
    (folder / IMAGES_DIR_NAME / f"{broken}.jpg").write_bytes(b"\xff\xd8 truncated jpeg")
    (folder / IMAGES_DIR_NAME / f"{missing}.jpg").unlink()
    # Labels are ignored when predicting: drop every genre column.
    write_csv(folder / CSV_NAME, rows, ["Id", "Overview"])
    out = tmp_path / "p.jsonl"

    assert main(["predict", "--model", "all", "--data-dir", str(folder), "--out", str(out)]) == 0

    lines = read_jsonl(out)
    by_model = {}
    for line in lines:
        assert set(line) == {"id", "model", "probabilities", "predicted"}
        assert len(line["probabilities"]) == 25
        assert all(0.0 <= p <= 1.0 for p in line["probabilities"].values())
        assert set(line["predicted"]) <= set(line["probabilities"])
        by_model.setdefault(line["model"], set()).add(line["id"])
    ids = {row["Id"] for row in rows}
    assert by_model["course_lstm"] == ids and by_model["tfidf_logreg"] == ids and by_model["text_ensemble"] == ids
    # A broken or missing poster costs only the lines of models that read posters, and is reported.
    for name in ("course_cnn", "poster_cnn", "poster_effnet", "late_fusion", "multimodal_fusion"):
        assert by_model[name] == ids - {broken, missing}
    errors = capsys.readouterr().err
    assert "course_cnn: skipped 1 film(s): undecodable poster" in errors
    assert "course_cnn: skipped 1 film(s): missing poster" in errors


def test_predict_single_model(tiny_artifacts_dir, small_real_dataset, tmp_path):
    out = tmp_path / "cnn.jsonl"
    assert main(["predict", "--model", "course_cnn", "--data-dir", str(small_real_dataset), "--out", str(out)]) == 0
    lines = read_jsonl(out)
    assert len(lines) == 96 and {line["model"] for line in lines} == {"course_cnn"}


def test_models_lists_each_artifact_with_its_inputs(tiny_artifacts_dir, capsys):
    assert main(["models"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {line["model"]: line["input"] for line in lines} == {
        name: spec.input_kind for name, spec in MODEL_REGISTRY.items()}
    assert all(0 <= line["test micro_f1"] <= 1 for line in lines)
    assert {line["model"] for line in lines if line["fusion of"]} == {
        name for name, spec in MODEL_REGISTRY.items() if spec.is_fusion}


def test_evaluate_prints_the_full_report(tiny_artifacts_dir, small_real_dataset, capsys):
    assert main(["evaluate", "--model", "tfidf_logreg", "--data-dir", str(small_real_dataset), "--split", "all"]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("micro_f1", "macro_f1", "samples_f1", "micro_average_precision", "macro_average_precision",
                "precision_at_3", "recall_at_3", "per_genre"):
        assert key in report
    assert report["films"] == 96
    assert set(report["per_genre"]["Drama"]["confusion"]) == {"tp", "fp", "fn", "tn"}


def test_user_errors_are_one_clear_line(tiny_artifacts_dir, tmp_path, capsys):
    assert main(["predict", "--model", "nope", "--data-dir", str(tmp_path), "--out", str(tmp_path / "x")]) == 2
    assert "No shipped model named 'nope'" in capsys.readouterr().err
    assert main(["evaluate", "--model", "course_lstm", "--data-dir", str(tmp_path / "missing")]) == 2
    assert "Dataset not found" in capsys.readouterr().err


def test_evaluate_a_fused_model(tiny_artifacts_dir, small_real_dataset, capsys):
    assert main(["evaluate", "--model", "late_fusion", "--data-dir", str(small_real_dataset), "--split", "all"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == "late_fusion" and report["films"] == 96


def assert_one_line_error(capsys, *fragments) -> None:
    """The CLI's answer to a user error: one "error:" line on stderr (warnings may precede it), no traceback."""
    stderr = capsys.readouterr().err
    errors = [line for line in stderr.splitlines() if not line.startswith("warning:")]
    assert len(errors) == 1 and errors[0].startswith("error:") and "Traceback" not in stderr, stderr
    for fragment in fragments:
        assert fragment in errors[0]


def test_predict_refuses_an_output_that_is_not_a_regular_file(tiny_artifacts_dir, small_real_dataset, tmp_path,
                                                               capsys):
    import os

    fifo, folder, link, target = tmp_path / "fifo", tmp_path / "folder", tmp_path / "link", tmp_path / "target"
    os.mkfifo(fifo)
    folder.mkdir()
    target.write_text("keep me")
    link.symlink_to(target)
    for out, fragment in ((fifo, "not a regular file"), (folder, "not a regular file"), (link, "symbolic link"),
                          (tmp_path / "missing" / "p.jsonl", "does not exist")):
        assert main(["predict", "--model", "tfidf_logreg", "--data-dir", str(small_real_dataset),
                     "--out", str(out)]) == 2
        assert_one_line_error(capsys, fragment)
    assert fifo.exists() and not fifo.is_file() and folder.is_dir() and link.is_symlink()
    assert target.read_text() == "keep me"


def test_predict_writes_to_standard_output_with_a_dash(tiny_artifacts_dir, small_real_dataset, capsys):
    assert main(["predict", "--model", "tfidf_logreg", "--data-dir", str(small_real_dataset), "--out", "-"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 96 and {line["model"] for line in lines} == {"tfidf_logreg"}


def test_evaluate_aligns_genre_columns_by_name(tiny_artifacts_dir, small_real_dataset, tmp_path, capsys):
    """Swapping two genre columns in the CSV changes nothing; a missing one is refused, naming it."""
    folder = copy_dataset(small_real_dataset, tmp_path / "swapped")
    rows = read_rows(folder / CSV_NAME)
    columns = list(rows[0])
    comedy, drama = columns.index("Comedy"), columns.index("Drama")
    columns[comedy], columns[drama] = columns[drama], columns[comedy]
    write_csv(folder / CSV_NAME, rows, columns)
    reports = []
    for data_dir in (small_real_dataset, folder):
        assert main(["evaluate", "--model", "multimodal_fusion", "--data-dir", str(data_dir), "--split", "all"]) == 0
        reports.append(json.loads(capsys.readouterr().out))
    for key in ("micro_f1", "macro_f1", "macro_average_precision"):
        assert reports[0][key] == reports[1][key]
    write_csv(folder / CSV_NAME, rows, [column for column in columns if column != "Western"])
    assert main(["evaluate", "--model", "course_lstm", "--data-dir", str(folder), "--split", "all"]) == 2
    assert_one_line_error(capsys, "Western")


def test_train_runs_a_stored_config_like_the_app_worker(real_data_dir, tmp_path, capsys):
    from genre_models.config import TrainConfig
    from genre_models.fileio import write_json_atomically

    config = TrainConfig("tfidf_logreg", data_dir=str(real_data_dir), epochs=1, max_films=64,
                         out_dir=str(tmp_path / "artifact"), verbose=0)
    write_json_atomically(tmp_path / "config.json", {"config": config.to_dict()})
    assert main(["train", "--config", str(tmp_path / "config.json")]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["artifact"] == str(tmp_path / "artifact")
    write_json_atomically(tmp_path / "bad.json", {"config": {**config.to_dict(), "epochs": "many"}})
    assert main(["train", "--config", str(tmp_path / "bad.json")]) == 2
    assert_one_line_error(capsys, "epochs")


def test_train_resume_refuses_what_it_cannot_resume_in_one_line(tmp_path, capsys):
    assert main(["train", "--resume"]) == 2
    assert_one_line_error(capsys, "--resume needs --run-dir")
    assert main(["train", "--resume", "--run-dir", str(tmp_path), "--epochs", "9", "--seed", "1"]) == 2
    assert_one_line_error(capsys, "--resume trains the settings the run started with", "--epochs", "--seed")
    assert main(["train", "--resume", "--run-dir", str(tmp_path)]) == 2
    assert_one_line_error(capsys, "is not a run folder")


def test_evaluate_on_an_empty_split_says_so_in_strict_json(train_only_dataset, tmp_path, monkeypatch, capsys):
    import shutil

    from genre_models.config import PROJECT_ROOT

    shutil.copytree(PROJECT_ROOT / "artifacts" / "tfidf_logreg", tmp_path / "artifacts" / "tfidf_logreg")
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    assert main(["evaluate", "--model", "tfidf_logreg", "--data-dir", str(train_only_dataset), "--split", "test"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out, parse_constant=lambda token: (_ for _ in ()).throw(ValueError(f"{token} in the JSON")))
    assert report["films"] == 0 and report["note"] == "The test split has no films."
    assert report["micro_f1"] is None and report["macro_f1"] is None and report["samples_f1"] is None


def test_train_refuses_an_out_folder_it_would_lose_files_in_before_training(real_data_dir, tmp_path, monkeypatch,
                                                                              capsys):
    import os
    import shutil

    from genre_models.config import PROJECT_ROOT

    runs_dir = tmp_path / "runs"
    monkeypatch.setenv("GENRE_RUNS_DIR", str(runs_dir))
    users = tmp_path / "my_files"
    users.mkdir()
    (users / "thesis.txt").write_text("three years of work")
    root = tmp_path / "artifacts"
    shutil.copytree(PROJECT_ROOT / "artifacts" / "tfidf_logreg", root / "tfidf_logreg")
    shutil.copytree(PROJECT_ROOT / "artifacts" / "course_cnn", root / "course_cnn")
    (tmp_path / "a_file").write_text("x")
    for out, message in [(users, "holds other files, which publishing would replace whole"),
                         (root, "holds other files"),
                         (root / "course_cnn", "holds the artifact of another model (course_cnn)"),
                         (tmp_path / "a_file", "is not a folder")]:
        before = sorted(os.listdir(out)) if out.is_dir() else None
        assert main(["train", "--model", "tfidf_logreg", "--data-dir", str(real_data_dir), "--epochs", "1",
                     "--max-films", "64", "--out", str(out)]) == 2
        assert_one_line_error(capsys, f"--out {out} ", message)
        assert (sorted(os.listdir(out)) if out.is_dir() else None) == before
        assert not runs_dir.exists() or not any(runs_dir.iterdir())  # refused before a run folder was made
    assert (users / "thesis.txt").read_text() == "three years of work"


def test_runs_lists_each_run_and_prints_every_runs_scalars_as_csv(tmp_path, capsys):
    from app_testing import make_fake_run

    from genre_models.run_exports import build_runs_csv
    from genre_models.runs import list_runs

    make_fake_run(tmp_path, "20260101-000000-course_cnn", "completed", 2)
    make_fake_run(tmp_path, "20260102-000000-course_cnn", "running", 1)  # no worker holds its lock
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(run["run"], run["state"], run["epochs"]) for run in listed] == [
        ("20260102-000000-course_cnn", "failed", 1), ("20260101-000000-course_cnn", "completed", 2)]
    assert main(["runs", "--csv", "--runs-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == build_runs_csv(list_runs(tmp_path))
    # Reading wrote nothing: the run whose worker is gone still says running in its own file.
    assert json.loads((tmp_path / "20260102-000000-course_cnn" / "status.json").read_text())["state"] == "running"

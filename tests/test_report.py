"""The HTML report: one self-contained file of every shipped model (size, no external resource,
figures equal to those recorded at training, charts, seeded sample), the CLI, scoring when no
stored scores fit, stale fusions, bad choices, and the Report page."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from genre_models.artifacts import read_artifact_metadata
from genre_models.cli import main
from genre_models.config import PROJECT_ROOT
from genre_models.fileio import read_json
from genre_models.report import build_report
from genre_models.report.content import SCORED_HERE, STORED
from genre_models.report.page import RESULT_COLUMNS

SHIPPED = PROJECT_ROOT / "artifacts"
MAX_BYTES = 20 * 1024 * 1024
FIGURE_KEYS = [key for _, key in RESULT_COLUMNS]


def read_figures(html: str) -> dict:
    """Return the page's chart specs (the JSON block the drawing script reads)."""
    block = re.search(r'<script type="application/json" id="figures">(.*?)</script>', html, re.S).group(1)
    return json.loads(block.replace("<\\/", "</"))


def count_expected_charts(names: list[str], root=SHIPPED) -> int:
    """Charts a report should draw: 3 for the dataset, 2 per model (P/R/F1, PR curves), and 2 more
    (loss, validation figures) per model whose history.json has epochs."""
    with_epochs = sum(bool((read_json(root / name / "history.json") or {}).get("epochs")) for name in names)
    return 3 + 2 * len(names) + 2 * with_epochs


def list_reportable_models(root=SHIPPED) -> tuple[list[str], list[str]]:
    """Return (the models a report of everything shows, the fusions it leaves out because a part was
    retrained since their weights were fitted), read from the metadata alone."""
    found = {metadata["name"]: metadata for metadata in read_artifact_metadata(root)[0]}
    stale = sorted(name for name, metadata in found.items() if any(
        (found.get(part["name"]) or {}).get("created_at") != part.get("created_at")
        for part in metadata.get("components", [])))
    return sorted(set(found) - set(stale)), stale


@pytest.fixture(scope="module")
def full_report(real_data_dir):
    return build_report(real_data_dir, command="pytest: every shipped model")


def test_report_of_every_shipped_model_is_one_small_offline_file(full_report):
    import plotly.offline

    html = full_report.html
    names, stale = list_reportable_models()
    assert [result.name for result in full_report.content.models] == names
    for name in stale:  # a fusion waiting for its refit is named, with the reason
        assert any(note.startswith(f"{name} left out: its part") for note in full_report.content.notes)
    assert full_report.size_bytes < MAX_BYTES
    plotly_js = plotly.offline.get_plotlyjs()
    assert html.count(plotly_js) == 1  # plotly.js inlined once
    # Nothing is fetched: every src and href of the page (plotly.js aside) is inline data or an anchor.
    assert re.findall(r'(?:src|href)="(?!data:|#)([^"]*)"', html.replace(plotly_js, "")) == []
    for name in names:
        assert f'<h2>Model: {name}</h2>' in html and f'href="#model-{name}"' in html
    assert len(read_figures(html)) == count_expected_charts(names)
    assert html.count('data:image/jpeg;base64,') == 12
    assert "@media print" in html and "break-before: page" in html


def test_report_figures_are_those_recorded_at_training(full_report):
    for result in full_report.content.models:
        assert result.source == STORED, result.name
        recorded = result.metadata["metrics"]["test"]
        for key in FIGURE_KEYS:
            assert result.evaluation[key] == pytest.approx(recorded[key], abs=1e-6), (result.name, key)
        assert result.evaluation["per_genre"]["Drama"]["confusion"] == recorded["per_genre"]["Drama"]["confusion"]
        # Each figure is shown in the results table, three decimals.
        row = re.search(rf"<tr><td>{result.name}</td>(.*?)</tr>", full_report.html).group(1)
        cells = re.findall(r"<td>([^<]*)</td>", row)
        assert cells[3:] == [f"{recorded[key]:.3f}" for key in FIGURE_KEYS]
    baseline = read_json(SHIPPED / "baselines.json")["genre_frequency"]
    assert full_report.content.baseline == baseline
    assert "baseline: genre frequency (always Comedy + Drama)" in full_report.html


def test_report_records_how_it_was_made(full_report, real_data_dir):
    html, content = full_report.html, full_report.content
    assert "pytest: every shipped model" in html
    assert content.dataset.fingerprint in html and "default_rng(0)" in html
    for library in ("numpy", "plotly", "tensorflow", "keras"):
        assert re.search(rf"{library} \d+\.\d+", html), library
    for result in content.models:
        assert result.metadata["command"] in html


def test_sampled_films_are_seeded_with_each_models_top_three(full_report, real_data_dir):
    films = full_report.content.films
    again = build_report(real_data_dir, ["tfidf_logreg", "minilm_mlp"], sample=12, seed=0).content.films
    other = build_report(real_data_dir, ["tfidf_logreg"], sample=12, seed=1).content.films
    assert [film["id"] for film in films] == [film["id"] for film in again]
    assert [film["id"] for film in films] != [film["id"] for film in other]
    test_ids = set(full_report.content.models[0].scored.ids)
    for film in films:
        assert film["id"] in test_ids and film["genres"]
        assert set(film["answers"]) == {result.name for result in full_report.content.models}
        for top in film["answers"].values():
            probabilities = [probability for _, probability in top]
            assert len(top) == 3 and probabilities == sorted(probabilities, reverse=True)


def test_report_scores_a_model_without_stored_scores_to_the_same_figures(real_data_dir, tmp_path):
    root = tmp_path / "artifacts"
    shutil.copytree(SHIPPED / "tfidf_logreg", root / "tfidf_logreg", ignore=shutil.ignore_patterns("split_scores.npz"))
    built = build_report(real_data_dir, ["tfidf_logreg"], sample=2, root=root)
    result = built.content.models[0]
    assert result.source == SCORED_HERE
    assert any("Scored for this report" in note for note in built.content.notes)
    for key in FIGURE_KEYS:
        assert result.evaluation[key] == pytest.approx(result.metadata["metrics"]["test"][key], abs=1e-5)


def make_stale_fusion_root(tmp_path):
    """A copy of text_ensemble and its parts where the fusion records the installed minilm_tuned but
    another tfidf_logreg than installed."""
    root = tmp_path / "artifacts"
    for name in ("text_ensemble", "minilm_tuned", "tfidf_logreg"):
        shutil.copytree(SHIPPED / name, root / name)
    metadata = read_json(root / "text_ensemble" / "metadata.json")
    assert [part["name"] for part in metadata["components"]] == ["minilm_tuned", "tfidf_logreg"]
    metadata["components"][0]["created_at"] = read_json(root / "minilm_tuned" / "metadata.json")["created_at"]
    metadata["components"][1]["created_at"] = "2000-01-01T00:00:00+00:00"
    (root / "text_ensemble" / "metadata.json").write_text(json.dumps(metadata))
    return root


def test_stale_fusion_is_left_out_with_a_note_or_refused_by_name(real_data_dir, tmp_path):
    root = make_stale_fusion_root(tmp_path)
    built = build_report(real_data_dir, sample=1, root=root)
    assert [result.name for result in built.content.models] == ["minilm_tuned", "tfidf_logreg"]
    assert any(note.startswith("text_ensemble left out: its part tfidf_logreg was retrained") for note in
               built.content.notes)
    assert "text_ensemble left out" in built.html
    with pytest.raises(ValueError, match="text_ensemble cannot be reported: its part tfidf_logreg was retrained"):
        build_report(real_data_dir, ["text_ensemble"], root=root)


@pytest.mark.parametrize("arguments, message", [
    (["--models", "tfidf_logreg,no_such_model"], "No model named 'no_such_model'; available: "),
    (["--models", ","], "Name at least one model"),
    (["--sample", "-1"], "The sample must be between 0 and 200 films"),
])
def test_report_cli_refuses_bad_choices(arguments, message, real_data_dir, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", "--data-dir", str(real_data_dir), *arguments, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_report_cli_writes_the_file_for_other_data(small_real_dataset, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", "--data-dir", str(small_real_dataset), "--models", "tfidf_logreg,course_cnn",
                 "--split", "all", "--sample", "3", "--seed", "5", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "wrote the report of 2 model(s) on the all split" in err
    assert "Scored for this report" in err  # the stored scores are of the full dataset, not this copy
    html = out.read_text(encoding="utf-8")
    assert "<h2>Model: tfidf_logreg</h2>" in html and "<h2>Model: course_cnn</h2>" in html
    assert "96 films" in html and html.count("data:image/jpeg;base64,") == 3
    assert "computed for this report" in html  # the recorded baseline is of other data
    assert len(read_figures(html)) == count_expected_charts(["tfidf_logreg", "course_cnn"])


def test_report_cli_refuses_a_folder_as_output(real_data_dir, tmp_path, capsys):
    assert main(["report", "--data-dir", str(real_data_dir), "--out", str(tmp_path)]) == 2
    assert "is not a regular file" in capsys.readouterr().err


def test_report_page_builds_the_file_and_offers_it(real_data_dir, monkeypatch):
    monkeypatch.setenv("GENRE_DATA_DIR", str(real_data_dir))
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(SHIPPED))
    app = AppTest.from_file(str(PROJECT_ROOT / "pages" / "6_Report.py"), default_timeout=180)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    names, stale = list_reportable_models()
    assert app.multiselect[0].value == names  # every model that can be reported, chosen by default
    assert all(any(caption.value.startswith(f"{name} is not selected") for caption in app.caption) for name in stale)
    app.multiselect[0].set_value(["tfidf_logreg", "poster_cnn"]).run()
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert "Report of 2 model(s) on the test split" in app.success[0].value
    html = app.session_state["report"]["html"]
    assert "<h2>Model: poster_cnn</h2>" in html and "python -m genre_models report" in html
    assert len(app.get("download_button")) == 1


@pytest.mark.parametrize("history", ["[1, 2]", '{"epochs": 5}', '{"epochs": [{"loss": 0.4}]}'])
def test_history_of_the_wrong_shape_is_left_out_with_a_note(real_data_dir, tmp_path, history):
    root = tmp_path / "artifacts"
    shutil.copytree(SHIPPED / "tfidf_logreg", root / "tfidf_logreg")
    (root / "tfidf_logreg" / "history.json").write_text(history)
    built = build_report(real_data_dir, ["tfidf_logreg"], sample=0, root=root)
    assert built.content.models[0].history == []
    assert any(note.startswith("tfidf_logreg's training curves:") and "ignored" in note
               for note in built.content.notes)
    assert "No per-epoch history was recorded for this artifact." in built.html


@pytest.mark.parametrize("genre", ["<!--<script>", "</script><b>x</b>", "R&B", "a]]>b"])
def test_chart_data_keeps_any_genre_name_as_text_inside_its_script_element(genre):
    from genre_models.report.page import Charts

    charts = Charts()
    spec = {"data": [{"type": "bar", "x": [genre], "y": [1]}], "layout": {"title": {"text": genre}}}
    charts.add(spec, f"Films per genre ({genre})")
    block = charts.render_script()
    payload = block.removeprefix('<script type="application/json" id="figures">').removesuffix("</script>")
    # Nothing in the payload can end the element, open a comment or start a tag or a character reference.
    assert not any(character in payload for character in "<>&")
    assert json.loads(payload) == {"chart-1": spec}
    assert read_figures(block) == {"chart-1": spec}


def test_report_of_an_empty_split_says_it_has_no_films(train_only_dataset, tmp_path):
    root = tmp_path / "artifacts"
    shutil.copytree(SHIPPED / "tfidf_logreg", root / "tfidf_logreg")
    built = build_report(train_only_dataset, ["tfidf_logreg"], split="test", sample=0, root=root)
    assert "The test split has no films." in built.html
    assert "nan" not in re.sub(r"<script>.*?</script>", "", built.html, flags=re.S).lower().split()
    assert ">0.000<" not in built.html

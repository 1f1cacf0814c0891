"""Model cards: every shipped artifact's README.md matches its metadata.json (figures, thresholds,
provenance), publishing writes the card, and `python -m genre_models cards` rewrites them."""

from __future__ import annotations

import json
import shutil

import pytest

from genre_models.artifacts import publish_artifact
from genre_models.cards import (
    CARD_FILE,
    CARD_METRICS,
    SOURCE_PREFIX,
    hash_metadata,
    render_model_card,
    write_installed_cards,
)
from genre_models.cli import main
from genre_models.config import PROJECT_ROOT
from genre_models.fileio import read_json

SHIPPED = PROJECT_ROOT / "artifacts"
SHIPPED_FOLDERS = sorted(folder for folder in SHIPPED.iterdir() if (folder / "metadata.json").is_file())
STALE_HINT = "regenerate the cards with: .venv/bin/python -m genre_models cards"


def read_table(text: str, first_header_cell: str) -> list[list[str]]:
    """Return the body rows (cells stripped) of the Markdown table whose header starts with a cell."""
    lines = text.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(f"| {first_header_cell} |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def assert_figure(cell: str, value, where: str) -> None:
    """A card figure is the metadata's, at the card's three decimals."""
    if value is None:
        assert cell == "n/a", where
    else:
        assert abs(float(cell) - value) <= 0.0005 + 1e-12, f"{where}: card {cell}, metadata {value}"


@pytest.mark.parametrize("folder", SHIPPED_FOLDERS, ids=lambda folder: folder.name)
def test_shipped_card_matches_its_metadata(folder):
    metadata = read_json(folder / "metadata.json")
    card = (folder / CARD_FILE).read_text(encoding="utf-8")
    # Made from exactly this metadata: a retune or retrain without new cards fails here.
    assert SOURCE_PREFIX + hash_metadata(metadata) in card, f"{folder.name}: the card is stale; {STALE_HINT}"
    assert card.startswith(f"# Model card: {metadata['name']}\n")

    test = metadata["metrics"]["test"]
    test_row = next(row for row in read_table(card, "rows") if row[0] == "test")
    assert int(test_row[1]) == test["films"]
    for (title, key), cell in zip(CARD_METRICS, test_row[2:]):
        assert_figure(cell, test.get(key), f"{folder.name} test {title}")
    assert_figure(test_row[-1], test["global_threshold_micro_f1"], f"{folder.name} global-threshold micro-F1")
    validation_row = next(row for row in read_table(card, "rows") if row[0].startswith("validation"))
    for (title, key), cell in zip(CARD_METRICS, validation_row[2:]):
        assert_figure(cell, metadata["metrics"]["validation"][key], f"{folder.name} validation {title}")

    baseline = read_json(SHIPPED / "baselines.json")["genre_frequency"]["metrics"]["test"]
    baseline_row = next(row for row in read_table(card, "rows") if row[0].startswith("baseline genre_frequency"))
    for (title, key), cell in zip(CARD_METRICS, baseline_row[2:]):
        assert_figure(cell, baseline[key], f"{folder.name} baseline {title}")

    genre_rows = read_table(card, "#")
    assert [row[1] for row in genre_rows] == metadata["genres"]
    for row, threshold in zip(genre_rows, metadata["thresholds"]["per_genre"]):
        assert abs(float(row[2]) - threshold) < 1e-9, f"{folder.name} {row[1]}: card {row[2]}, metadata {threshold}"
        figures = test["per_genre"][row[1]]
        assert int(row[3]) == figures["support"]
        for cell, key in zip(row[4:], ("precision", "recall", "f1", "average_precision")):
            assert_figure(cell, figures[key], f"{folder.name} {row[1]} {key}")
    assert f"**{metadata['thresholds']['policy'].replace('_', '-')}**" in card
    assert metadata["command"] in card and metadata["data"]["fingerprint"] in card
    assert metadata["data"]["split_rule"] in card


@pytest.mark.parametrize("folder", SHIPPED_FOLDERS, ids=lambda folder: folder.name)
def test_shipped_card_says_how_to_use_the_model(folder):
    metadata = read_json(folder / "metadata.json")
    card = (folder / CARD_FILE).read_text(encoding="utf-8")
    assert f"python -m genre_models export --model {metadata['name']}" in card
    assert "## Intended use and limits" in card
    if metadata["input_kind"] in ("poster", "both"):
        assert "Posters carry little genre signal" in card
    if "components" in metadata:
        for part in metadata["components"]:
            assert f"{part['name']} ({part['input_kind']}) x {part['weight']:g}" in card
    elif metadata.get("encoder"):
        assert metadata["encoder"]["package"] in card and "import tensorflow_text" in card
    else:
        assert f"keras.models.load_model('artifacts/{metadata['name']}/model.keras', compile=False)" in card


def copy_metadata_only(names: list[str], root):
    """Copy shipped artifacts' metadata (and the baselines) into a new artifacts folder."""
    root.mkdir()
    shutil.copyfile(SHIPPED / "baselines.json", root / "baselines.json")
    for name in names:
        (root / name).mkdir()
        shutil.copyfile(SHIPPED / name / "metadata.json", root / name / "metadata.json")
    return root


def test_cards_command_rewrites_cards_from_edited_metadata(tmp_path, monkeypatch, capsys):
    root = copy_metadata_only(["tfidf_logreg", "late_fusion"], tmp_path / "artifacts")
    (root / "damaged").mkdir()
    (root / "damaged" / "metadata.json").write_text("{not json")
    # A retune rewrites thresholds and figures: the regenerated card must follow.
    metadata = read_json(root / "tfidf_logreg" / "metadata.json")
    metadata["thresholds"]["per_genre"][0] = 0.77
    metadata["metrics"]["test"]["micro_f1"] = 0.1234
    (root / "tfidf_logreg" / "metadata.json").write_text(json.dumps(metadata))
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(root))

    assert main(["cards"]) == 0
    captured = capsys.readouterr()
    written = [json.loads(line) for line in captured.out.splitlines()]
    assert {line["model"] for line in written} == {"tfidf_logreg", "late_fusion"}
    assert "no card for damaged" in captured.err
    assert not (root / "damaged" / CARD_FILE).exists()
    card = (root / "tfidf_logreg" / CARD_FILE).read_text()
    assert SOURCE_PREFIX + hash_metadata(metadata) in card
    assert read_table(card, "#")[0][:3] == ["0", metadata["genres"][0], "0.77"]
    assert next(row for row in read_table(card, "rows") if row[0] == "test")[2] == "0.123"


def test_recording_the_baseline_rewrites_the_cards(real_data_dir, tmp_path, monkeypatch):
    root = copy_metadata_only(["poster_cnn"], tmp_path / "artifacts")
    (root / "baselines.json").unlink()
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(root))
    assert main(["cards"]) == 0
    assert "baseline genre_frequency" not in (root / "poster_cnn" / CARD_FILE).read_text()
    assert main(["baselines", "--data-dir", str(real_data_dir)]) == 0
    baseline = read_json(root / "baselines.json")["genre_frequency"]["metrics"]["test"]
    card = (root / "poster_cnn" / CARD_FILE).read_text()
    row = next(row for row in read_table(card, "rows") if row[0].startswith("baseline genre_frequency"))
    for (title, key), cell in zip(CARD_METRICS, row[2:]):
        assert_figure(cell, baseline[key], f"baseline {title}")


def test_cards_command_with_no_artifact_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GENRE_ARTIFACTS_DIR", str(tmp_path))
    assert main(["cards"]) == 2
    assert capsys.readouterr().err.startswith("error: No artifact with a usable metadata.json")


def test_publishing_writes_the_card(tmp_path):
    root = copy_metadata_only([], tmp_path / "artifacts")
    metadata = read_json(SHIPPED / "text_ensemble" / "metadata.json")
    destination = publish_artifact(root / "text_ensemble", None, metadata, {"epochs": []})
    card = (destination / CARD_FILE).read_text()
    assert card == render_model_card(metadata, read_json(root / "baselines.json"))
    assert SOURCE_PREFIX + hash_metadata(metadata) in card


def test_installed_cards_skip_invalid_metadata(tmp_path):
    root = copy_metadata_only(["course_cnn"], tmp_path / "artifacts")
    metadata = read_json(root / "course_cnn" / "metadata.json")
    metadata["thresholds"]["per_genre"] = metadata["thresholds"]["per_genre"][:3]
    (root / "course_cnn" / "metadata.json").write_text(json.dumps(metadata))
    written, errors = write_installed_cards({"course_cnn": root / "course_cnn"})
    assert written == {} and "3 thresholds for 25 genres" in errors["course_cnn"]

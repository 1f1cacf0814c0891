"""genre_models.dataset.catalog: reading and validating the CSV, the load report, the fingerprint."""

from __future__ import annotations

import json

import pytest
from conftest import GENRES, damage_rows, read_rows, write_csv

from genre_models.config import CSV_NAME, IMAGES_DIR_NAME
from genre_models.dataset import (
    DatasetError,
    DatasetReport,
    catalog,
    load_dataset,
    read_catalog,
)


def read(folder, require_labels: bool = True):
    """Read a dataset folder's CSV; return (table, genres, report)."""
    report = DatasetReport()
    table, genres = read_catalog(folder, report, require_labels=require_labels)
    return table, genres, report


def test_bad_rows_are_dropped_with_a_reason_each(synthetic_dataset):
    rows = damage_rows(read_rows(synthetic_dataset / CSV_NAME))
    write_csv(synthetic_dataset / CSV_NAME, rows)

    table, genres, report = read(synthetic_dataset)

    assert report.dropped_counts() == {
        catalog.REASON_EMPTY_OVERVIEW: 1,
        catalog.REASON_NO_GENRE: 1,
        catalog.REASON_BAD_LABEL: 1,
        catalog.REASON_DUPLICATE: 1,
        catalog.REASON_BAD_ID: 1,
    }
    assert genres == GENRES and len(table) == 41 - 5
    assert report.rows_read == 41


def test_a_bad_label_names_its_column_and_value(synthetic_dataset):
    rows = read_rows(synthetic_dataset / CSV_NAME)
    rows[3]["Horror"] = "yes"
    write_csv(synthetic_dataset / CSV_NAME, rows)
    _, _, report = read(synthetic_dataset)
    assert report.dropped[catalog.REASON_BAD_LABEL] == [rows[3]["Id"]]
    assert any("'Horror'" in note and "'yes'" in note for note in report.notes)


def test_prediction_reads_without_labels(synthetic_dataset):
    rows = read_rows(synthetic_dataset / CSV_NAME)
    write_csv(synthetic_dataset / CSV_NAME, rows, columns=["Id", "Overview"])
    table, genres, report = read(synthetic_dataset, require_labels=False)
    assert genres == [] and len(table) == 40 and report.dropped == {}


def test_csv_without_expected_columns_is_a_clear_value_error(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / CSV_NAME).write_text("Id,Title\ntt1,Something\n")
    with pytest.raises(ValueError, match="lacks the expected columns.*Overview"):
        load_dataset(folder)


def test_a_required_column_in_the_wrong_case_is_named_in_the_error(synthetic_dataset):
    rows = read_rows(synthetic_dataset / CSV_NAME)
    for row in rows:
        row["overview"] = row.pop("Overview")
    write_csv(synthetic_dataset / CSV_NAME, rows, columns=["Id", "Genre", *GENRES, "overview"])
    with pytest.raises(DatasetError, match="Overview missing.*'overview'"):
        read(synthetic_dataset)


def test_garbage_csv_is_a_clear_error(tmp_path):
    folder = tmp_path / "garbage"
    folder.mkdir()
    (folder / CSV_NAME).write_bytes(b"\x00\x01\x02 not,a\ncsv\x00\x00,,,\n" * 3)
    with pytest.raises(ValueError, match="lacks the expected columns|not a readable CSV"):
        load_dataset(folder)


# --- Header: repeated, extra and renamed columns ----------------------------------------------------


def test_a_repeated_genre_column_is_refused_naming_it(synthetic_dataset):
    rows = read_rows(synthetic_dataset / CSV_NAME)
    header = ["Id", "Genre", *GENRES, "Drama", "Overview"]
    lines = [",".join(header)] + [
        ",".join([row["Id"], '"x"', *(row[genre] for genre in GENRES), row["Drama"], f'"{row["Overview"]}"'])
        for row in rows]
    (synthetic_dataset / CSV_NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="'Drama' appears 2 times"):
        read(synthetic_dataset)


def test_an_extra_column_that_is_not_0_1_is_reported_not_used_and_drops_no_film(synthetic_dataset):
    rows = read_rows(synthetic_dataset / CSV_NAME)
    for number, row in enumerate(rows):
        row["Year"] = str(1980 + number)
    write_csv(synthetic_dataset / CSV_NAME, rows, columns=["Id", "Genre", *GENRES, "Year", "Overview"])
    table, genres, report = read(synthetic_dataset)
    assert genres == GENRES and len(table) == 40 and report.dropped == {}
    assert report.ignored_columns == ["Year"]
    assert any("'Year'" in note and "not a genre column" in note for note in report.notes)
    assert load_dataset(synthetic_dataset).num_films == 40


def test_a_renamed_genre_column_is_used_and_reported(synthetic_dataset):
    rows = read_rows(synthetic_dataset / CSV_NAME)
    for row in rows:
        row["Comedie"] = row.pop("Comedy")
    columns = ["Id", "Genre", *[("Comedie" if genre == "Comedy" else genre) for genre in GENRES], "Overview"]
    write_csv(synthetic_dataset / CSV_NAME, rows, columns=columns)
    _, genres, report = read(synthetic_dataset)
    assert "Comedie" in genres and "Comedy" not in genres
    assert any("'Comedie'" in note and "not one of the course's genres" in note for note in report.notes)


def test_a_course_genre_with_one_bad_value_stays_a_genre_column(synthetic_dataset):
    rows = read_rows(synthetic_dataset / CSV_NAME)
    rows[0]["Western"] = "2"
    write_csv(synthetic_dataset / CSV_NAME, rows)
    _, genres, report = read(synthetic_dataset)
    assert "Western" in genres and report.ignored_columns == []
    assert report.dropped_counts() == {catalog.REASON_BAD_LABEL: 1}


# --- Text encoding ----------------------------------------------------------------------------------


def test_one_invalid_utf8_byte_drops_only_its_row_and_keeps_accents_elsewhere(synthetic_dataset):
    rows = read_rows(synthetic_dataset / CSV_NAME)
    rows[0]["Overview"] = "The Fabergé egg is stolen in Zürich."
    rows[1]["Overview"] = "MARKER-BAD-ROW a heist."
    write_csv(synthetic_dataset / CSV_NAME, rows)
    raw = (synthetic_dataset / CSV_NAME).read_bytes().replace(b"MARKER-BAD-ROW", b"Caf\xe9 \xff", 1)
    (synthetic_dataset / CSV_NAME).write_bytes(raw)

    table, _, report = read(synthetic_dataset)

    assert report.dropped_counts() == {catalog.REASON_BAD_ENCODING: 1}
    assert report.dropped[catalog.REASON_BAD_ENCODING] == [rows[1]["Id"]]
    assert len(table) == 39
    assert table[catalog.OVERVIEW_COLUMN].iloc[0] == "The Fabergé egg is stolen in Zürich."
    assert any("1 row(s)" in note and "UTF-8" in note for note in report.notes)
    assert not any("Latin-1" in note for note in report.notes)
    json.dumps(report.to_dict())  # metadata stays writable


def test_latin1_csv_loads_with_a_note(synthetic_dataset):
    rows = read_rows(synthetic_dataset / CSV_NAME)
    rows[0]["Overview"] = "Un café à Paris, déjà vu."
    write_csv(synthetic_dataset / CSV_NAME, rows)
    raw = (synthetic_dataset / CSV_NAME).read_text(encoding="utf-8")
    (synthetic_dataset / CSV_NAME).write_bytes(raw.encode("latin-1"))
    dataset = load_dataset(synthetic_dataset)
    assert dataset.num_films == 40 and "déjà vu" in dataset.overviews[0]
    assert any("Latin-1" in note for note in dataset.report.notes)


def test_utf8_with_a_byte_order_mark_reads_the_id_column(synthetic_dataset):
    raw = (synthetic_dataset / CSV_NAME).read_bytes()
    (synthetic_dataset / CSV_NAME).write_bytes(b"\xef\xbb\xbf" + raw)
    table, _, report = read(synthetic_dataset)
    assert len(table) == 40 and report.notes == []


# --- Ids --------------------------------------------------------------------------------------------


def test_an_id_too_long_for_a_file_name_is_dropped_with_a_reason(synthetic_dataset):
    rows = read_rows(synthetic_dataset / CSV_NAME)
    rows[0]["Id"] = "tt" + "1" * 298
    write_csv(synthetic_dataset / CSV_NAME, rows)
    table, _, report = read(synthetic_dataset)
    assert report.dropped_counts() == {catalog.REASON_LONG_ID: 1}
    assert len(table) == 39


def test_report_lines_and_dict_name_every_reason():
    report = DatasetReport(rows_read=5, films_kept=2)
    for film_id in ("tt1", "tt2", "tt3", "tt4"):
        report.add_dropped(catalog.REASON_DUPLICATE, film_id)
    report.notes.append("a note")
    lines = report.summary_lines()
    assert lines[0] == "2 films kept of 5 rows read"
    assert "dropped 4 film(s): duplicate Id (tt1, tt2, tt3, ...)" in lines and "a note" in lines
    assert report.to_dict()["dropped"] == {"duplicate Id": {"count": 4, "examples": ["tt1", "tt2", "tt3", "tt4"]}}


# --- Fingerprint ------------------------------------------------------------------------------------


def test_fingerprint_follows_the_csv_and_the_posters(synthetic_dataset):
    first = catalog.compute_fingerprint(synthetic_dataset)
    assert catalog.compute_fingerprint(synthetic_dataset) == first
    poster = next((synthetic_dataset / IMAGES_DIR_NAME).iterdir())
    poster.write_bytes(poster.read_bytes() + b"\0")
    assert catalog.compute_fingerprint(synthetic_dataset) != first


def test_fingerprint_survives_a_dangling_link_in_the_images_folder(synthetic_dataset):
    (synthetic_dataset / IMAGES_DIR_NAME / "tt9.jpg").symlink_to(synthetic_dataset / "nowhere.jpg")
    assert len(catalog.compute_fingerprint(synthetic_dataset)) == 16


@pytest.mark.parametrize("encoding, label", [("utf-16", "UTF-16"), ("utf-16-be", "UTF-16"), ("utf-32", "UTF-32")])
def test_a_utf16_or_utf32_csv_with_its_mark_loads_with_a_note(synthetic_dataset, encoding, label):
    rows = read_rows(synthetic_dataset / CSV_NAME)
    rows[0]["Overview"] = "Un café à Paris, déjà vu."
    write_csv(synthetic_dataset / CSV_NAME, rows)
    raw = (synthetic_dataset / CSV_NAME).read_text(encoding="utf-8")
    (synthetic_dataset / CSV_NAME).write_bytes((("\ufeff" if encoding == "utf-16-be" else "") + raw).encode(encoding))
    dataset = load_dataset(synthetic_dataset)
    assert dataset.num_films == 40 and "déjà vu" in dataset.overviews[0]
    assert any(f"is in {label}, not UTF-8" in note and "CSV UTF-8" in note for note in dataset.report.notes)


def test_a_utf16_csv_without_its_mark_is_refused_naming_the_encoding_and_the_fix(synthetic_dataset):
    raw = (synthetic_dataset / CSV_NAME).read_text(encoding="utf-8")
    (synthetic_dataset / CSV_NAME).write_bytes(raw.encode("utf-16-le"))
    with pytest.raises(DatasetError, match=r"UTF-16 or UTF-32 without a byte-order mark; save it as UTF-8") as error:
        load_dataset(synthetic_dataset)
    assert "Expected" not in str(error.value) and "\n" not in str(error.value)


def test_a_huge_overview_is_cut_where_the_csv_is_read_with_a_note(synthetic_dataset):
    from genre_models.inputs import MAX_OVERVIEW_CHARACTERS, prepare_overview

    rows = read_rows(synthetic_dataset / CSV_NAME)
    huge = "ghost haunted house " * 200_000  # 4 MB in one cell
    rows[3]["Overview"] = huge
    write_csv(synthetic_dataset / CSV_NAME, rows)
    dataset = load_dataset(synthetic_dataset)
    assert dataset.num_films == 40
    assert max(len(text) for text in dataset.overviews) == MAX_OVERVIEW_CHARACTERS
    assert dataset.overviews[list(dataset.ids).index(rows[3]["Id"])] == prepare_overview(huge)[0]
    assert any(f"1 overview(s) of {CSV_NAME} are longer than 5,000 characters" in note and rows[3]["Id"] in note
               for note in dataset.report.notes)
    table, _, report = read(synthetic_dataset, require_labels=False)  # the path `predict` reads
    assert table["Overview"].str.len().max() == MAX_OVERVIEW_CHARACTERS

"""genre_models.dataset.films: MovieDataset, load_dataset and importing a dataset zip."""

from __future__ import annotations

import collections
import io
import shutil
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import GENRES, build_synthetic_dataset, damage_rows, read_rows, write_csv
from PIL import Image

from genre_models.config import CSV_NAME, IMAGES_DIR_NAME, PROJECT_ROOT
from genre_models.dataset import DatasetError, catalog, import_dataset_zip, load_dataset


def test_loads_synthetic_dataset_with_posters(synthetic_dataset):
    dataset = load_dataset(synthetic_dataset, image_size=(16, 8))
    assert dataset.num_films == 40
    assert dataset.genres == GENRES
    assert dataset.labels.shape == (40, len(GENRES))
    assert dataset.posters.shape == (40, 16, 8, 3) and dataset.posters.dtype == np.uint8
    assert set(dataset.splits) <= {"train", "validation", "test"}
    # Western has no positive film: kept in the genre list, reported.
    assert dataset.report.empty_genres == ["Western"]
    assert dataset.report.dropped == {}


def test_bad_rows_and_posters_are_dropped_with_a_reason_each(synthetic_dataset):
    rows = damage_rows(read_rows(synthetic_dataset / CSV_NAME))
    write_csv(synthetic_dataset / CSV_NAME, rows)
    (synthetic_dataset / IMAGES_DIR_NAME / f"{rows[6]['Id']}.jpg").unlink()
    (synthetic_dataset / IMAGES_DIR_NAME / f"{rows[7]['Id']}.jpg").write_bytes(b"not a jpeg at all")

    dataset = load_dataset(synthetic_dataset, image_size=(16, 8))

    counts = dataset.report.dropped_counts()
    assert counts == {
        catalog.REASON_EMPTY_OVERVIEW: 1,
        catalog.REASON_NO_GENRE: 1,
        catalog.REASON_BAD_LABEL: 1,
        catalog.REASON_DUPLICATE: 1,
        catalog.REASON_BAD_ID: 1,
        catalog.REASON_MISSING_POSTER: 1,
        catalog.REASON_BAD_POSTER: 1,
    }
    assert dataset.report.dropped[catalog.REASON_BAD_POSTER] == [rows[7]["Id"]]
    assert dataset.num_films == 40 - 6  # the duplicate row was an extra 41st row
    assert len(set(dataset.ids)) == dataset.num_films
    assert any("undecodable poster" in line for line in dataset.report.summary_lines())


@pytest.mark.parametrize("image_size", [None, (16, 8)])
def test_an_id_longer_than_a_file_name_is_dropped_not_raised(synthetic_dataset, image_size):
    rows = read_rows(synthetic_dataset / CSV_NAME)
    rows[0]["Id"] = "tt" + "7" * 298
    write_csv(synthetic_dataset / CSV_NAME, rows)
    dataset = load_dataset(synthetic_dataset, image_size=image_size)
    assert dataset.num_films == 39
    assert dataset.report.dropped_counts() == {catalog.REASON_LONG_ID: 1}


def test_folder_with_nothing_valid_is_a_clear_error(synthetic_dataset):
    shutil.rmtree(synthetic_dataset / IMAGES_DIR_NAME)
    with pytest.raises(DatasetError, match="No valid film"):
        load_dataset(synthetic_dataset)


def test_a_column_of_years_names_itself_when_every_film_would_be_dropped(synthetic_dataset):
    # A shifted header puts a course genre's name over a column that is not 0/1.
    rows = read_rows(synthetic_dataset / CSV_NAME)
    for number, row in enumerate(rows):
        row["Drama"] = str(1980 + number)
    write_csv(synthetic_dataset / CSV_NAME, rows)
    with pytest.raises(DatasetError, match="No valid film.*'Drama'"):
        load_dataset(synthetic_dataset)


def test_subset_and_row_lookup(synthetic_dataset):
    dataset = load_dataset(synthetic_dataset)
    test_rows = dataset.split_indices("test")
    subset = dataset.subset(test_rows)
    assert list(subset.ids) == list(dataset.ids[test_rows]) and subset.genres == dataset.genres
    assert dataset.row_of(dataset.ids[5]) == 5
    with pytest.raises(ValueError, match="No film"):
        dataset.row_of("tt-absent")
    with pytest.raises(ValueError, match="Unknown split"):
        dataset.split_indices("holdout")


# --- Labels by genre name ---------------------------------------------------------------------------


def test_swapping_two_genre_columns_in_the_csv_gives_the_same_labels_by_name(synthetic_dataset, tmp_path):
    original = load_dataset(synthetic_dataset)
    swapped_folder = shutil.copytree(synthetic_dataset, tmp_path / "swapped")
    order = ["Id", "Genre", "Action", "Drama", "Comedy", "Horror", "Romance", "Western", "Overview"]
    write_csv(swapped_folder / CSV_NAME, read_rows(synthetic_dataset / CSV_NAME), columns=order)
    swapped = load_dataset(swapped_folder)
    assert swapped.genres != original.genres
    np.testing.assert_array_equal(swapped.labels_for(GENRES), original.labels_for(GENRES))
    np.testing.assert_array_equal(original.labels_for(GENRES), original.labels)


def test_labels_for_a_missing_genre_names_it(synthetic_dataset):
    with pytest.raises(ValueError, match="no column for the genre\\(s\\) Sci-Fi"):
        load_dataset(synthetic_dataset).labels_for(["Action", "Sci-Fi"])


def test_evaluate_style_scoring_refuses_a_dataset_missing_a_genre_column(small_real_dataset, tmp_path):
    from genre_models.inference import GenrePredictor, score_split

    folder = shutil.copytree(small_real_dataset, tmp_path / "no_scifi")
    rows = read_rows(folder / CSV_NAME)
    columns = [column for column in rows[0] if column != "Sci-Fi"]
    write_csv(folder / CSV_NAME, rows, columns=columns)
    predictor = GenrePredictor.from_artifacts(PROJECT_ROOT / "artifacts", names=["tfidf_logreg"])
    with pytest.raises(ValueError, match="no column for the genre\\(s\\) Sci-Fi"):
        score_split(predictor, "tfidf_logreg", lambda size: load_dataset(folder, image_size=size), "all")


def test_real_dataset_loads_with_expected_shape(real_data_dir):
    dataset = load_dataset(real_data_dir)
    assert dataset.num_films == 5325
    assert dataset.num_genres == 25
    assert set(dataset.report.empty_genres) == {"Documentary", "News", "Reality-TV", "Short"}
    assert dataset.report.notes == [] and dataset.report.ignored_columns == []
    sizes = collections.Counter(dataset.splits)
    assert abs(sizes["train"] / 5325 - 0.8) < 0.02
    assert abs(sizes["test"] / 5325 - 0.1) < 0.02


# --- Importing a dataset zip (the Home page's upload) -----------------------------------------------


def zipped(folder: Path, prefix: str = "Multimodal_IMDB_dataset/") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(folder.rglob("*")):
            archive.write(file, prefix + file.relative_to(folder).as_posix())
    return buffer.getvalue()


def no_progress(*args) -> None:
    """A progress callback that shows nothing."""


@pytest.fixture
def installed(synthetic_dataset, tmp_path) -> Path:
    """A data folder already holding a dataset, as after an earlier import."""
    target = tmp_path / "data" / "Multimodal_IMDB_dataset"
    shutil.copytree(synthetic_dataset, target)
    return target


def test_valid_zip_import_replaces_the_dataset(installed, tmp_path):
    smaller = build_synthetic_dataset(tmp_path / "smaller", num_films=30, seed=1)
    folder = import_dataset_zip(zipped(smaller), installed, progress=no_progress)
    assert load_dataset(folder).num_films == 30
    assert sorted(p.name for p in installed.parent.iterdir()) == ["Multimodal_IMDB_dataset"]


def test_zip_import_from_a_file_path(tmp_path, synthetic_dataset):
    archive = tmp_path / "upload.zip"
    archive.write_bytes(zipped(synthetic_dataset, prefix=""))
    folder = import_dataset_zip(archive, tmp_path / "data" / "Multimodal_IMDB_dataset")
    assert load_dataset(folder).num_films == 40


def bad_crc(folder: Path) -> bytes:
    raw = zipped(folder)
    csv_bytes = (folder / CSV_NAME).read_bytes()
    return raw.replace(csv_bytes[:64], csv_bytes[:64].swapcase(), 1)


def without_csv(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        poster = io.BytesIO()
        Image.new("RGB", (10, 20)).save(poster, format="JPEG")
        archive.writestr("Multimodal_IMDB_dataset/Images/tt1.jpg", poster.getvalue())
    return buffer.getvalue()


def no_valid_film(folder: Path) -> bytes:
    rows = read_rows(folder / CSV_NAME)
    for row in rows:
        row["Overview"] = ""
    broken = shutil.copytree(folder, folder.parent / "no_valid_film")
    write_csv(broken / CSV_NAME, rows)
    return zipped(broken)


@pytest.mark.parametrize("build, message", [(without_csv, "No IMDB_overview_genres.csv"),
                                            (bad_crc, "damaged"),
                                            (no_valid_film, "No valid film"),
                                            (lambda folder: b"not a zip at all", "not a readable zip")])
def test_a_failed_import_keeps_the_previous_dataset_and_leaves_nothing_behind(installed, synthetic_dataset,
                                                                               build, message):
    before = (installed / CSV_NAME).read_bytes()
    with pytest.raises(DatasetError, match=message):
        import_dataset_zip(build(synthetic_dataset), installed, progress=no_progress)
    assert (installed / CSV_NAME).read_bytes() == before
    assert sorted(p.name for p in installed.parent.iterdir()) == ["Multimodal_IMDB_dataset"]


def test_two_imports_at_once_both_succeed_and_one_whole_dataset_wins(installed, tmp_path):
    sources = [build_synthetic_dataset(tmp_path / f"source{n}", num_films=20 + n, seed=n) for n in (1, 2)]
    archives = [zipped(source) for source in sources]
    both_extracting = threading.Barrier(2)
    results, errors = {}, {}

    def progress(done, total, what):
        if done == 1:
            try:
                both_extracting.wait(timeout=10)  # make the two extractions overlap
            except threading.BrokenBarrierError:
                pass

    def run(number):
        try:
            results[number] = import_dataset_zip(archives[number], installed, progress=progress)
        except Exception as error:  # noqa: BLE001 - the test reports whatever escaped
            errors[number] = error

    threads = [threading.Thread(target=run, args=(number,)) for number in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == {}
    assert results[0] == results[1] == installed
    assert load_dataset(installed).num_films in (21, 22)
    assert sorted(p.name for p in installed.parent.iterdir()) == ["Multimodal_IMDB_dataset"]

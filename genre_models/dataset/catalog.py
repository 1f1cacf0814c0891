"""The course CSV: reading it, validating every row, and what loading found (DatasetReport).

Columns are ``Id, Genre, <genre 0/1 columns>, Overview`` in the course format; rows that cannot
be used are dropped with a reason per kind, never silently. What a demanding user gets for an
unusual file:

- a repeated column name is refused, naming it (which copy holds the labels cannot be known);
- an extra column that is not 0/1 ("Year") is ignored with a note naming it, dropping no film;
- a value other than 0/1 in a genre column drops that film, with a note naming the column;
- an unknown 0/1 column (perhaps a renamed genre) is used as a genre, with a note; a model's
  missing genre is refused by name later (MovieDataset.labels_for);
- bytes that are not UTF-8 drop only their rows (counted), never re-decode the whole file;
- an Id too long to name a poster file is dropped, never raised from a file look-up.
"""

from __future__ import annotations

import collections
import csv
import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from genre_models.config import CSV_NAME, IMAGES_DIR_NAME

# Columns of the course CSV that are not genres.
ID_COLUMN = "Id"
OVERVIEW_COLUMN = "Overview"
GENRE_LIST_COLUMN = "Genre"
NON_GENRE_COLUMNS = {ID_COLUMN, OVERVIEW_COLUMN, GENRE_LIST_COLUMN}
# The 25 genre columns of the course file: always label columns (see label_columns_of).
COURSE_GENRES = frozenset({
    "Action", "Adventure", "Animation", "Biography", "Comedy", "Crime", "Documentary", "Drama", "Family",
    "Fantasy", "History", "Horror", "Music", "Musical", "Mystery", "N/A", "News", "Reality-TV", "Romance",
    "Sci-Fi", "Short", "Sport", "Thriller", "War", "Western",
})
# The only values a label cell may hold (after stripping spaces).
LABEL_VALUES = ("0", "1")
# Overviews are one or two sentences (the dataset's longest has about 1,500 characters); far longer
# text is cut to this many characters wherever an overview enters a model (a dataset's CSV here,
# a user's summary in inputs.prepare_overview): one 50 MB cell would otherwise cost minutes and
# gigabytes in every path that scores, explains or trains on it.
MAX_OVERVIEW_CHARACTERS = 5_000
# Longest file name most file systems accept (ext4, APFS, NTFS), in bytes.
MAX_FILE_NAME_BYTES = 255

UTF8_BYTE_ORDER_MARK = b"\xef\xbb\xbf"
# Byte-order marks of the wide Unicode encodings a spreadsheet may export ("Unicode text"), with the
# codec and the name a user knows; UTF-32 first, as its little-endian mark starts with UTF-16's.
WIDE_BYTE_ORDER_MARKS = ((b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"), (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
                         (b"\xff\xfe", "utf-16-le", "UTF-16"), (b"\xfe\xff", "utf-16-be", "UTF-16"))
# A text file in which this share of bytes is NUL is UTF-16 or UTF-32 without its mark (every ASCII
# character carries one or three zero bytes); a UTF-8 or Latin-1 file holds none.
MIN_WIDE_NUL_SHARE = 0.2
# How to fix a CSV in another encoding than UTF-8, for the error and the notes.
SAVE_AS_UTF8 = (f"save it as UTF-8 (a spreadsheet's \"CSV UTF-8\" format, or "
                f"iconv -f UTF-16 -t UTF-8 old.csv > {CSV_NAME}) and load it again")
# A byte that was not valid UTF-8, as Python's "surrogateescape" decoding marks it.
ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
# A non-ASCII character that was valid UTF-8 (anything outside ASCII but not an escaped byte).
VALID_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")
# What an invalid byte becomes before parsing: pandas cannot store the escapes themselves, and
# U+FFFD could already be in valid text, so a private-use character no film text holds marks it.
BAD_BYTE_MARKER = "\U0010fffd"

# Reasons a film is dropped; keys of DatasetReport.dropped.
REASON_DUPLICATE = "duplicate Id"
REASON_BAD_ID = "invalid Id"
REASON_LONG_ID = "Id too long for a file name"
REASON_BAD_ENCODING = "bytes that are not UTF-8"
REASON_EMPTY_OVERVIEW = "empty overview"
REASON_NO_GENRE = "no genre"
REASON_BAD_LABEL = "label not 0/1"
REASON_MISSING_POSTER = "missing poster"
REASON_BAD_POSTER = "undecodable poster"
REASON_UNREADABLE_POSTER = "poster cannot be looked up"


class DatasetError(ValueError):
    """The dataset could not be found or read; the message says what to do."""


@dataclass
class DatasetReport:
    """What was found while loading, for the CLI, the app and artifact metadata."""

    # Rows in the CSV before any check.
    rows_read: int = 0
    # Films kept after every check.
    films_kept: int = 0
    # Dropped Ids per reason.
    dropped: dict[str, list[str]] = field(default_factory=dict)
    # Genre columns that have no positive film among the kept ones.
    empty_genres: list[str] = field(default_factory=list)
    # Columns that are neither Id, Genre, Overview nor 0/1 labels (each also has a note).
    ignored_columns: list[str] = field(default_factory=list)
    # Other notes (encoding fallbacks and the like).
    notes: list[str] = field(default_factory=list)

    def add_dropped(self, reason: str, film_id: str) -> None:
        """Record that a film was dropped for a reason."""
        self.dropped.setdefault(reason, []).append(str(film_id))

    def dropped_counts(self) -> dict[str, int]:
        """Return the number of dropped films per reason."""
        return {reason: len(ids) for reason, ids in self.dropped.items()}

    def summary_lines(self) -> list[str]:
        """Return human-readable lines describing the problems found."""
        lines = [f"{self.films_kept} films kept of {self.rows_read} rows read"]
        for reason, ids in self.dropped.items():
            examples = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
            lines.append(f"dropped {len(ids)} film(s): {reason} ({examples})")
        if self.empty_genres:
            lines.append("genres with no positive film (kept): " + ", ".join(self.empty_genres))
        lines.extend(self.notes)
        return lines

    def to_dict(self) -> dict:
        """Return a JSON-serialisable summary (counts and a few example Ids per reason)."""
        return {
            "rows_read": self.rows_read,
            "films_kept": self.films_kept,
            "dropped": {reason: {"count": len(ids), "examples": ids[:5]} for reason, ids in self.dropped.items()},
            "empty_genres": list(self.empty_genres),
            "ignored_columns": list(self.ignored_columns),
            "notes": list(self.notes),
        }


def decode_csv_bytes(raw: bytes, name: str, report: DatasetReport) -> tuple[str, bool]:
    """Return the CSV's text and whether some of it is not valid UTF-8.

    The course file is UTF-8. When a few bytes are not (a row pasted from another
    program), the file is still read as UTF-8 and each bad byte becomes BAD_BYTE_MARKER,
    so read_catalog drops only the rows that hold one:
    reading the whole file as Latin-1 instead would garble every accented title
    ("Fabergé" as "FabergÃ©"). Only a file with no UTF-8 text at all (every non-ASCII
    byte invalid as UTF-8) is taken to be a Windows-1252 / Latin-1 export and read as such,
    with a note.
    """
    wide = decode_wide_unicode(raw, name, report)
    if wide is not None:
        return wide, False
    raw = raw.removeprefix(UTF8_BYTE_ORDER_MARK)
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        pass
    text = raw.decode("utf-8", errors="surrogateescape")
    if VALID_NON_ASCII.search(text):
        return ESCAPED_BYTE.sub(BAD_BYTE_MARKER, text), True
    try:
        text, encoding = raw.decode("cp1252"), "Windows-1252 (Latin-1)"
    except UnicodeDecodeError:  # A byte Windows-1252 leaves undefined: plain Latin-1 maps every byte.
        text, encoding = raw.decode("latin-1"), "Latin-1"
    report.notes.append(f"{name} is not UTF-8 and holds no UTF-8 text at all; read it as {encoding}.")
    return text, False


def decode_wide_unicode(raw: bytes, name: str, report: DatasetReport) -> str | None:
    """Return the text of a UTF-16 or UTF-32 CSV that starts with its byte-order mark (read as such,
    with a note), None for any other file; refuse one that is UTF-16/32 without a mark or damaged,
    naming the encoding and the fix (read as UTF-8 it would only give "Expected 30 fields in line 5")."""
    for mark, codec, label in WIDE_BYTE_ORDER_MARKS:
        if raw.startswith(mark):
            try:
                text = raw[len(mark):].decode(codec)
            except UnicodeDecodeError as error:
                raise DatasetError(f"{name} starts like {label} text but is not valid {label} (byte "
                                   f"{error.start + len(mark)}); {SAVE_AS_UTF8}.") from error
            report.notes.append(f"{name} is in {label}, not UTF-8; it was read as {label}. To skip this step, "
                                f"{SAVE_AS_UTF8}.")
            return text
    if raw and raw.count(0) >= MIN_WIDE_NUL_SHARE * len(raw):
        raise DatasetError(f"{name} is not UTF-8 text: {raw.count(0):,} of its {len(raw):,} bytes are zero, as in "
                           f"UTF-16 or UTF-32 without a byte-order mark; {SAVE_AS_UTF8}.")
    return None


def cut_overview(text: str) -> tuple[str, bool]:
    """Return an overview cut to MAX_OVERVIEW_CHARACTERS and whether it was cut."""
    return (text[:MAX_OVERVIEW_CHARACTERS], True) if len(text) > MAX_OVERVIEW_CHARACTERS else (text, False)


def cut_long_overviews(table: pd.DataFrame, name: str, report: DatasetReport) -> None:
    """Cut every overview of the table longer than MAX_OVERVIEW_CHARACTERS (in place), with a note."""
    long_rows = (table[OVERVIEW_COLUMN].str.len() > MAX_OVERVIEW_CHARACTERS).to_numpy()
    if long_rows.any():
        table.loc[long_rows, OVERVIEW_COLUMN] = [cut_overview(text)[0] for text in table.loc[long_rows, OVERVIEW_COLUMN]]
        ids = ", ".join(repair_text(film_id) for film_id in table.loc[long_rows, ID_COLUMN][:5])
        report.notes.append(f"{int(long_rows.sum())} overview(s) of {name} are longer than "
                            f"{MAX_OVERVIEW_CHARACTERS:,} characters and were cut to their first "
                            f"{MAX_OVERVIEW_CHARACTERS:,} (the first: {ids}).")


def repair_text(text: str) -> str:
    """Return text with each invalid byte's marker shown as U+FFFD, the usual replacement character."""
    return text.replace(BAD_BYTE_MARKER, "\ufffd")


def read_header(text: str, name: str) -> list[str]:
    """Return the header's column names (stripped), refusing a name that appears twice.

    A repeated column cannot be resolved: pandas would rename the second "Drama" to
    "Drama.1" and both would be read as genres, so which one holds the labels is unknown.
    """
    try:
        header = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as error:
        raise DatasetError(f"{name} is not a readable CSV file ({error}).") from error
    columns = [repair_text(column.strip()) or f"Unnamed: {position}" for position, column in enumerate(header)]
    repeated = [column for column, count in collections.Counter(columns).items() if count > 1]
    if repeated:
        details = "; ".join(
            f"{column!r} appears {columns.count(column)} times (columns "
            + ", ".join(str(position + 1) for position, other in enumerate(columns) if other == column) + ")"
            for column in repeated)
        raise DatasetError(f"{name} has a repeated column in its header: {details}. Keep one of each and "
                           "load it again.")
    return columns


def read_csv_table(csv_path: Path, report: DatasetReport) -> tuple[pd.DataFrame, bool]:
    """Read the CSV as strings; return the table (stripped column names) and whether some rows
    hold bytes that are not valid UTF-8 (see decode_csv_bytes)."""
    text, has_bad_bytes = decode_csv_bytes(csv_path.read_bytes(), csv_path.name, report)
    columns = read_header(text, csv_path.name)
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as error:
        raise DatasetError(f"{csv_path.name} is not a readable CSV file ({error}).") from error
    if len(table.columns) == len(columns):
        table.columns = columns
    return table, has_bad_bytes


def label_columns_of(table: pd.DataFrame, report: DatasetReport) -> list[str]:
    """Return the genre (label) columns in file order; note and skip columns that are not labels.

    Every column except Id, Genre and Overview is a candidate. A column named like one of
    the course's genres is always a label column, so one bad value in it drops that film
    (naming the column) rather than the whole genre. Any other column is a label column only
    if every value is 0 or 1: a "Year" or "Title" column is reported and ignored instead of
    dropping every film as "label not 0/1". An unknown 0/1 column is used as a genre, with a
    note, since it may be a renamed course genre that a model will then not find.
    """
    genres = []
    for column in table.columns:
        if column in NON_GENRE_COLUMNS:
            continue
        values = table[column].str.strip()
        if column in COURSE_GENRES:
            genres.append(column)
        elif values.isin(LABEL_VALUES).all():
            genres.append(column)
            report.notes.append(f"Column {column!r} is not one of the course's genres; it is used as a genre "
                                "(0/1 values). Models trained on the course genres will not find it under "
                                "its own name.")
        else:
            example_row = int(np.flatnonzero(~values.isin(LABEL_VALUES).to_numpy())[0])
            report.ignored_columns.append(column)
            report.notes.append(f"Column {column!r} is not a genre column (value {values.iat[example_row]!r} in "
                                f"row {example_row + 2} is not 0 or 1); it was ignored.")
    return genres


def check_required_columns(table: pd.DataFrame, genres: list[str], name: str, require_labels: bool) -> None:
    """Raise DatasetError naming each missing required column (and a near match, if any)."""
    missing = [column for column in (ID_COLUMN, OVERVIEW_COLUMN) if column not in table.columns]
    if not missing and (genres or not require_labels):
        return
    wanted = "Id, Genre, <one 0/1 column per genre>, Overview"
    problems = []
    for column in missing:
        near = [other for other in table.columns if other.casefold() == column.casefold()]
        problems.append(f"{column} missing" + (f"; found {near[0]!r}, which differs only in case" if near else ""))
    if not missing:
        problems.append("no genre columns")
    raise DatasetError(f"{name} lacks the expected columns ({'; '.join(problems)}); expected {wanted}.")


def is_safe_film_id(film_id: str) -> bool:
    """Return whether an Id can name a poster file without leaving the Images folder."""
    return bool(film_id) and film_id not in (".", "..") and not any(ch in film_id for ch in "/\\\0")


def fits_a_file_name(film_id: str) -> bool:
    """Return whether "<Id>.jpg" fits in one file name (255 bytes on the common file systems);
    a longer Id makes every look-up of its poster raise "File name too long"."""
    return len(f"{film_id}.jpg".encode("utf-8")) <= MAX_FILE_NAME_BYTES


def note_bad_labels(label_values: pd.DataFrame, report: DatasetReport) -> np.ndarray:
    """Return which rows have only 0/1 labels; note, per column, how many values are not 0/1."""
    valid = label_values.isin(LABEL_VALUES)
    for column in label_values.columns:
        bad_rows = np.flatnonzero(~valid[column].to_numpy())
        if len(bad_rows):
            report.notes.append(
                f"Column {column!r}: {len(bad_rows)} value(s) are not 0 or 1 (e.g. "
                f"{label_values[column].iat[bad_rows[0]]!r} in row {bad_rows[0] + 2}); those films were "
                f"dropped as \"{REASON_BAD_LABEL}\".")
    return valid.all(axis=1).to_numpy()


def rows_with_bad_bytes(table: pd.DataFrame) -> np.ndarray:
    """Return which rows hold a byte that was not valid UTF-8 (BAD_BYTE_MARKER)."""
    bad = np.zeros(len(table), dtype=bool)
    for column in table.columns:
        bad |= table[column].str.contains(BAD_BYTE_MARKER, regex=False).to_numpy()
    return bad


def read_catalog(folder: Path, report: DatasetReport, require_labels: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """Read and validate the CSV; return the kept rows (label values stripped) and the genre names.

    With ``require_labels`` (training, evaluation) rows with no genre or a label
    other than 0/1 are dropped and missing label columns are an error; without it
    (prediction on any folder) only Id and Overview are needed. Rows holding bytes
    that are not UTF-8, unusable Ids and repeated Ids are dropped in both cases. How
    the header is read (repeated, extra and renamed columns) is described in
    read_header and label_columns_of.
    """
    csv_path = Path(folder) / CSV_NAME
    if not csv_path.is_file():
        raise DatasetError(f"{csv_path} does not exist.")
    table, has_bad_bytes = read_csv_table(csv_path, report)
    genres = label_columns_of(table, report)
    check_required_columns(table, genres, csv_path.name, require_labels)
    report.rows_read = len(table)
    table[ID_COLUMN] = table[ID_COLUMN].str.strip()
    cut_long_overviews(table, csv_path.name, report)
    if genres:
        table[genres] = table[genres].apply(lambda column: column.str.strip())
    bad_bytes = rows_with_bad_bytes(table) if has_bad_bytes else np.zeros(len(table), dtype=bool)
    if bad_bytes.any():
        report.notes.append(f"{int(bad_bytes.sum())} row(s) of {csv_path.name} hold bytes that are not valid "
                            "UTF-8 and were dropped; the rest of the file was read as UTF-8.")
    keep = np.ones(len(table), dtype=bool)
    if require_labels:
        valid_labels = note_bad_labels(table[genres], report)
        has_genre = (table[genres] == "1").any(axis=1).to_numpy()
    overview_empty = (table[OVERVIEW_COLUMN].str.strip() == "").to_numpy()
    seen: set[str] = set()
    for row_index, film_id in enumerate(table[ID_COLUMN]):
        first_time = film_id not in seen
        seen.add(film_id)  # The first row with an Id owns it, even when that row is dropped below.
        if bad_bytes[row_index]:
            reason = REASON_BAD_ENCODING
        elif not is_safe_film_id(film_id):
            reason = REASON_BAD_ID
        elif not fits_a_file_name(film_id):
            reason = REASON_LONG_ID
        elif not first_time:
            reason = REASON_DUPLICATE
        elif require_labels and overview_empty[row_index]:
            reason = REASON_EMPTY_OVERVIEW
        elif require_labels and not valid_labels[row_index]:
            reason = REASON_BAD_LABEL
        elif require_labels and not has_genre[row_index]:
            reason = REASON_NO_GENRE
        else:
            continue
        report.add_dropped(reason, repair_text(film_id) or f"row {row_index + 2}")
        keep[row_index] = False
    return table[keep].reset_index(drop=True), genres


def compute_fingerprint(folder: Path) -> str:
    """Return a content fingerprint: the CSV bytes plus every poster's name and size."""
    digest = hashlib.sha256((Path(folder) / CSV_NAME).read_bytes())
    images = Path(folder) / IMAGES_DIR_NAME
    if images.is_dir():
        for entry in sorted(os.scandir(images), key=lambda e: e.name):
            try:
                size = entry.stat().st_size
            except OSError:
                size = "unreadable"  # A dangling link or a vanished file; its poster is reported when used.
            digest.update(f"{entry.name}:{size};".encode("utf-8", errors="surrogateescape"))
    return digest.hexdigest()[:16]

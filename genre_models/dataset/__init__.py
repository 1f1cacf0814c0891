"""The Multimodal IMDB dataset in the course format, as a package of one module per concern:

- ``archive``: finding the dataset (folder, nested folder or zip) and extracting zips safely;
- ``catalog``: reading and validating the CSV, the load report, the data fingerprint;
- ``splits``: the Id-hash split rule and seeded sub-sampling;
- ``posters``: safe poster decoding and the memory-mapped cache of resized posters;
- ``films``: ``MovieDataset``, ``load_dataset`` and ``import_dataset_zip``, which put the others together.

The names most callers need are re-exported here.
"""

from genre_models.dataset.archive import extract_zip_safely, locate_dataset
from genre_models.dataset.catalog import (
    ID_COLUMN,
    OVERVIEW_COLUMN,
    REASON_BAD_POSTER,
    REASON_MISSING_POSTER,
    DatasetError,
    DatasetReport,
    read_catalog,
)
from genre_models.dataset.films import MovieDataset, import_dataset_zip, load_dataset
from genre_models.dataset.posters import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_PIXELS,
    check_poster_size,
    decode_poster,
    image_to_rgb,
    poster_path,
    poster_problem,
)
from genre_models.dataset.splits import SPLIT_NAMES, assign_split, select_films

__all__ = [
    "ID_COLUMN", "MAX_UPLOAD_BYTES", "MAX_UPLOAD_PIXELS", "OVERVIEW_COLUMN", "REASON_BAD_POSTER",
    "REASON_MISSING_POSTER", "SPLIT_NAMES", "DatasetError", "DatasetReport", "MovieDataset", "assign_split",
    "check_poster_size", "decode_poster", "extract_zip_safely", "image_to_rgb", "import_dataset_zip",
    "load_dataset", "locate_dataset", "poster_path", "poster_problem", "read_catalog", "select_films",
]

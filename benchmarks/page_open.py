"""How long the Compare and Evaluate pages take to open on the test split (AppTest, one process).

Usage: python -m benchmarks.page_open [--data-dir DIR] [--reference]

- cold: the first page run of the process (imports TensorFlow, loads the 9 models and the dataset);
- warm: models and dataset cached (a server that has served any page), the page's scores not yet:
  this is a first visit to the page, read from the artifacts' split_scores.npz;
- cached: the same page again (scores cached in the process);
- with --reference: warm again with the files ignored, i.e. every model scoring the test split as
  before split_scores.npz existed (minutes on two CPU cores).

Ends with one JSON line of every figure (seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
PAGES = {"compare": "pages/3_Compare.py", "evaluate": "pages/4_Evaluate.py"}


def open_page(path: str) -> float:
    """Seconds for one AppTest run of a page (raising if it failed)."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / path), default_timeout=1200)
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(app.exception[0].value)
    return elapsed


def measure(reference: bool) -> dict:
    from genre_app import models, scores

    figures = {"cold_first_page_s": open_page(PAGES["evaluate"])}  # the process's first page: loads everything
    # The models' background warm-up (tracing the prediction graphs) would share the cores with the pages
    # timed next; a server that has served a page for a few seconds is past it.
    models.start_loading_models().thread.join()
    for name, path in PAGES.items():
        scores.get_split_scores.clear()
        figures[f"{name}_warm_s"] = open_page(path)
        figures[f"{name}_cached_s"] = open_page(path)
    if reference:
        from genre_models import split_scores

        split_scores.read_split_scores = lambda *args, **kwargs: None  # as before the files existed
        for name, path in PAGES.items():
            scores.get_split_scores.clear()
            figures[f"{name}_rescoring_reference_s"] = open_page(path)
    return {key: round(value, 2) for key, value in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("GENRE_DATA_DIR"))
    parser.add_argument("--reference", action="store_true", help="also time the pages with every split re-scored")
    args = parser.parse_args()
    if args.data_dir:
        os.environ["GENRE_DATA_DIR"] = args.data_dir
    figures = measure(args.reference)
    for key, value in figures.items():
        target = " (target < 3 s)" if key.endswith("_warm_s") else ""
        print(f"{key:38s} {value:8.2f} s{target}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

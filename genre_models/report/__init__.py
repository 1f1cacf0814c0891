"""One self-contained HTML report of the dataset and the chosen models (``python -m genre_models
report`` and the app's Report page build the same file):

- ``content``: what it shows, read from the stored split scores, metadata and histories (networks
  run only when no stored scores fit the split and data);
- ``figures``: the charts as Plotly specs;
- ``page``: the HTML (plotly.js inlined once, posters as base64 thumbnails, print styles).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from genre_models.config import ProgressCallback
from genre_models.metadata import utc_now
from genre_models.report.content import (
    REPORT_SPLITS,
    ReportContent,
    describe_versions,
    gather_report,
)
from genre_models.report.page import render_report

__all__ = ["REPORT_SPLITS", "BuiltReport", "build_report"]


@dataclass
class BuiltReport:
    """A built report: the HTML and what went into it."""

    html: str
    content: ReportContent
    # Seconds from the call to the finished page.
    seconds: float

    @property
    def size_bytes(self) -> int:
        """The page's size in bytes (UTF-8)."""
        return len(self.html.encode("utf-8"))


def build_report(data_dir: str | os.PathLike, names: list[str] | None = None, split: str = "test",
                 sample: int = 12, seed: int = 0, command: str = "", root: str | os.PathLike | None = None,
                 overrides: dict[str, str] | None = None, load_predictor: Callable | None = None,
                 progress: ProgressCallback | None = None) -> BuiltReport:
    """Build the report of the dataset at ``data_dir`` and the chosen models (default: every usable
    installed one) on ``split``, with ``sample`` films drawn by ``seed``; ``command`` says how it was
    asked for (recorded in the page). Raises ValueError for a bad choice (model, split, sample)."""
    import plotly.offline

    started = time.perf_counter()
    content = gather_report(data_dir, names, split, sample, seed, root, overrides, load_predictor, progress)
    if progress:
        progress(0, 1, "writing the page")
    html = render_report(content, command or "genre_models.report.build_report", utc_now(), describe_versions(),
                         plotly.offline.get_plotlyjs())
    if progress:
        progress(1, 1, "writing the page")
    return BuiltReport(html, content, time.perf_counter() - started)

"""The HTML report in a real browser with the network off: Debian's Chromium opens the file of every
shipped model offline (any request other than the file itself is blocked and counted); no console
error, every chart drawn, every model named, posters shown, print layout; screenshots under
test-output/browser/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_browser import SCREENSHOTS, browser  # noqa: F401  (the one Chromium fixture)

from genre_models.artifacts import read_artifact_metadata
from genre_models.config import PROJECT_ROOT
from genre_models.fileio import read_json
from genre_models.report import build_report

SHIPPED = PROJECT_ROOT / "artifacts"
# Parsing 5 MB of plotly.js and drawing ~30 charts on two shared cores.
DRAW_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def report(real_data_dir, tmp_path_factory) -> tuple[Path, list[str]]:
    """The report of every shipped model written to a file, and the models in it (a fusion whose part
    was retrained since its fit is left out until refitted)."""
    path = tmp_path_factory.mktemp("report") / "report.html"
    built = build_report(real_data_dir, command="pytest: browser test")
    path.write_text(built.html, encoding="utf-8")
    return path, [result.name for result in built.content.models]


def count_expected_charts(names: list[str]) -> int:
    """3 dataset charts; per model P/R/F1 and PR curves, plus loss and validation curves when its
    history.json has epochs."""
    with_epochs = sum(bool((read_json(SHIPPED / name / "history.json") or {}).get("epochs")) for name in names)
    return 3 + 2 * len(names) + 2 * with_epochs


def test_report_opens_offline_with_every_chart_drawn(browser, report):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    report_file, names = report
    installed = read_artifact_metadata(SHIPPED)[0]
    networks = {metadata["name"] for metadata in installed if "components" not in metadata}
    assert networks <= set(names) <= {metadata["name"] for metadata in installed}
    expected = count_expected_charts(names)
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
    blocked, problems = [], []
    # Belt and braces with offline=True: anything but the file itself is refused and recorded.
    context.route(re.compile(r"^(?!file://).*"), lambda route: (blocked.append(route.request.url), route.abort()))
    page = context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"failed request {request.url}"))
    try:
        page.goto(report_file.as_uri(), timeout=DRAW_TIMEOUT_MS)
        page.wait_for_function(
            "expected => document.querySelectorAll('.chart.js-plotly-plot .main-svg').length >= expected",
            arg=expected, timeout=DRAW_TIMEOUT_MS)
        page.screenshot(path=str(SCREENSHOTS / "report-1-top.png"))

        drawn = page.eval_on_selector_all(".chart", "charts => charts.filter(c => c.querySelector('.main-svg')).length")
        assert page.locator(".chart").count() == expected and drawn == expected
        # Every chart has data on it (bars, lines or a heatmap), not just empty axes.
        empty = page.eval_on_selector_all(
            ".chart", "charts => charts.filter(c => !c.querySelector('.trace, .hm, .heatmaplayer image')).length")
        assert empty == 0
        for name in names:
            assert page.locator(f"#model-{name} h2").inner_text() == f"Model: {name}"
            assert page.locator("#results td", has_text=re.compile(rf"^{name}$")).count() == 1
        posters = page.eval_on_selector_all(".film img", "images => images.map(i => i.complete && i.naturalWidth)")
        assert len(posters) == 12 and all(width > 0 for width in posters)

        page.locator(f"#model-{names[0]}").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "report-2-model.png"))
        page.locator("#films").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "report-3-films.png"))

        # Printable: each model's section starts a new page; charts and matrices are not split.
        page.emulate_media(media="print")
        assert page.eval_on_selector(f"#model-{names[0]}", "s => getComputedStyle(s).breakBefore") == "page"
        assert page.eval_on_selector(".chart", "c => getComputedStyle(c).breakInside") == "avoid"
        assert page.locator("nav.contents").is_hidden()
        pdf = page.pdf(format="A4")
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= len(names) + 3
        (SCREENSHOTS / "report.pdf").write_bytes(pdf)
    finally:
        context.close()
    assert problems == [] and blocked == []

"""The report as one self-contained HTML page: plotly.js inlined once, posters as small base64 JPEG
thumbnails, every chart's data in one JSON block drawn on load, nothing fetched (it opens offline),
and print styles that start each section on a new page and keep charts and tables whole."""

from __future__ import annotations

import base64
import html
import io
import json

import numpy as np
from PIL import Image

from genre_models.dataset import decode_poster
from genre_models.report import figures
from genre_models.report.content import ModelResult, ReportContent

# Thumbnail box of a sampled film's poster (pixels; the posters are 150x300).
THUMBNAIL_SIZE = (75, 150)
THUMBNAIL_QUALITY = 80
# (column header, evaluation key) of the results table, in the README's order.
RESULT_COLUMNS = (
    ("micro-F1", "micro_f1"), ("macro-F1", "macro_f1"), ("samples-F1", "samples_f1"),
    ("macro AP", "macro_average_precision"), ("micro AP", "micro_average_precision"), ("recall@3", "recall_at_3"),
)

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1180px;
       padding: 0 24px 48px; color: #1d1d1f; line-height: 1.45; }
h1 { margin-top: 28px; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 4px; margin-top: 40px; }
h3 { margin-top: 26px; } .muted { color: #666; font-size: 0.92em; }
table { border-collapse: collapse; margin: 10px 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; } thead th { background: #f3f3f3; }
tr.baseline td { font-style: italic; background: #fafafa; }
nav.contents { background: #f7f7f9; padding: 8px 16px; border-radius: 6px; display: flex; flex-wrap: wrap; gap: 4px 16px; }
nav.contents a { white-space: nowrap; }
figure { margin: 0 0 14px; } figcaption { font-weight: 600; margin: 6px 0; } .chart { width: 100%; }
.matrices { display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 8px; }
.matrix table { margin: 2px 0; font-size: 0.8em; width: 100%; table-layout: fixed; }
.matrix td, .matrix th { text-align: center; padding: 2px 3px; } .matrix th:first-child { width: 34%; }
.matrix .title { font-weight: 600; font-size: 0.85em; }
.films { display: grid; grid-template-columns: repeat(2, 1fr); gap: 12px; }
.film { display: flex; gap: 12px; border: 1px solid #ddd; border-radius: 6px; padding: 10px; }
.film img { width: 75px; height: 150px; object-fit: contain; background: #eee; flex: none; }
.film .noposter { width: 75px; height: 150px; background: #eee; font-size: 0.75em; flex: none; }
.film p { margin: 2px 0 6px; font-size: 0.9em; }
.genre { display: inline-block; border-radius: 10px; padding: 0 7px; margin: 1px 2px; font-size: 0.8em; }
.truth { background: #e8eefc; } .hit { background: #d9f2dc; color: #11521d; }
.miss { background: #fbe3e1; color: #7a1d15; } .answers td { font-size: 0.85em; text-align: left; }
dl.facts { display: grid; grid-template-columns: 220px 1fr; gap: 2px 12px; font-size: 0.9em; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; } code { font-size: 0.88em; word-break: break-all; }
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav.contents, .modebar-container { display: none !important; }
  section { break-before: page; }
  section#dataset { break-before: auto; }
  .chart, .matrix, .film, tr, figure { break-inside: avoid; }
  .films { grid-template-columns: repeat(2, 1fr); }
}
"""

DRAW_SCRIPT = """
(function () {
  const figures = JSON.parse(document.getElementById("figures").textContent);
  const config = {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"]};
  for (const [id, figure] of Object.entries(figures)) {
    Plotly.newPlot(id, figure.data, {...figure.layout, autosize: true}, config);
  }
  // Charts take the printed page's width, then the screen's again.
  const resize = () => document.querySelectorAll(".js-plotly-plot").forEach((chart) => Plotly.Plots.resize(chart));
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
})();
"""


def escape(value) -> str:
    """Return any value as escaped HTML text."""
    return html.escape(str(value), quote=True)


def format_figure(value) -> str:
    """Three decimals, or n/a."""
    return "n/a" if value is None else f"{value:.3f}"


def encode_thumbnail(path) -> str | None:
    """Return a poster as a small base64 JPEG data URI, or None when it cannot be decoded."""
    try:
        image = Image.fromarray(decode_poster(path))
    except (ValueError, OSError):
        return None
    image.thumbnail(THUMBNAIL_SIZE)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def render_table(headers: list[str], rows: list[list], row_classes: list[str] | None = None) -> str:
    """Return an HTML table (cells escaped)."""
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = []
    for index, row in enumerate(rows):
        css = f' class="{row_classes[index]}"' if row_classes and row_classes[index] else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class Charts:
    """The page's charts: each gets a placeholder element now and is drawn from its spec on load."""

    def __init__(self):
        self.specs: dict[str, dict] = {}

    def add(self, spec: dict, caption: str) -> str:
        """Return the HTML of a captioned chart placeholder, keeping its spec for the drawing script."""
        element_id = f"chart-{len(self.specs) + 1}"
        self.specs[element_id] = spec
        # The placeholder takes the chart's height, so nothing below moves or is overlapped as it is drawn.
        height = int(spec["layout"].get("height", 360))
        return (f'<figure><figcaption>{escape(caption)}</figcaption>'
                f'<div class="chart" id="{element_id}" style="height: {height}px"></div></figure>')

    def render_script(self) -> str:
        """Return the JSON block of every chart (safe inside a script element)."""
        return f'<script type="application/json" id="figures">{encode_json_for_script(self.specs)}</script>'


def encode_json_for_script(value) -> str:
    """Return JSON that an HTML parser cannot end or alter inside a script element, whatever text it
    holds: < > & as JSON escapes (which JSON.parse reads back as the same characters), so a genre
    column named ``<!--<script>`` or ``</script>`` stays text in the charts instead of breaking them.

    Escaping rather than refusing such names keeps every dataset reportable (``R&B``, ``Sci-Fi & Fantasy``)."""
    payload = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_dataset(content: ReportContent, charts: Charts) -> str:
    """Return the dataset section: films, genres, split sizes, genre counts, co-occurrence."""
    dataset = content.dataset
    report = dataset.report
    counts = dataset.labels.sum(axis=0).astype(int)
    sizes = [[split, f"{int((dataset.splits == split).sum()):,}"] for split in ("train", "validation", "test")]
    dropped = "; ".join(f"{details.get('count')} film(s): {reason}"
                        for reason, details in report.to_dict()["dropped"].items()) or "none"
    empty = ", ".join(report.empty_genres) or "none"
    genre_rows = [[genre, int(count), f"{count / dataset.num_films:.1%}"]
                  for genre, count in sorted(zip(dataset.genres, counts), key=lambda item: -item[1])]
    return (
        '<section id="dataset"><h2>The dataset</h2>'
        f"<p><b>{dataset.num_films:,} films</b>, <b>{dataset.num_genres} genres</b> "
        f"({np.mean(dataset.labels.sum(axis=1)):.2f} genres per film on average), folder "
        f"<code>{escape(dataset.folder.name)}</code>, data fingerprint <code>{escape(dataset.fingerprint)}</code>. "
        f"Genres with no positive film (kept): {escape(empty)}. Dropped while loading: {escape(dropped)}.</p>"
        "<p>Each film's split comes from its Id alone: <code>sha256(Id) % 100</code>, 0-79 train, 80-89 validation, "
        f"90-99 test. This report evaluates the <b>{escape(content.split)}</b> split.</p>"
        + render_table(["split", "films"], sizes)
        + charts.add(figures.plot_genre_counts(dataset.genres, dataset.labels), "Films per genre")
        + charts.add(figures.plot_split_genres(dataset.genres, dataset.labels, dataset.splits),
                     "Films per genre in each split")
        + charts.add(figures.plot_cooccurrence(dataset.genres, dataset.labels),
                     "Genre co-occurrence: films labelled with both genres (diagonal left blank)")
        + "<details><summary>Genre counts as a table</summary>"
        + render_table(["genre", "films", "share"], genre_rows) + "</details></section>"
    )


def render_results(content: ReportContent) -> str:
    """Return the results table: every chosen model beside the baseline."""
    rows, classes = [], []
    for result in content.models:
        evaluation = result.evaluation
        policy = result.metadata["thresholds"].get("policy", "per_genre").replace("_", "-")
        rows.append([result.name, result.metadata["input_kind"], policy, evaluation["films"],
                     *(format_figure(evaluation.get(key)) for _, key in RESULT_COLUMNS)])
        classes.append("")
    if content.baseline:
        test = content.baseline["metrics"]["test"]
        always = " + ".join(content.baseline.get("predicts_always") or [])
        rows.append([f"baseline: genre frequency (always {always}), test split", "none", "global", test["films"],
                     *(format_figure(test.get(key)) for _, key in RESULT_COLUMNS)])
        classes.append("baseline")
    return ('<section id="results"><h2>Results</h2>'
            f"<p>Each model on the {escape(content.split)} split at its own thresholds (tuned on validation). Macro "
            "figures average the genres with positive films in the split; recall@3: share of a film's genres found "
            "among the model's top 3.</p>"
            + render_table(["model", "input", "thresholds", "films", *(title for title, _ in RESULT_COLUMNS)], rows,
                           classes)
            + "</section>")


def render_confusion(evaluation: dict) -> str:
    """Return a grid of per-genre 2x2 confusion matrices (shaded by share of the true row)."""
    cells = []
    for genre, values in evaluation["per_genre"].items():
        confusion = values["confusion"]
        matrix = [[confusion["tp"], confusion["fn"]], [confusion["fp"], confusion["tn"]]]
        rows = []
        for label, counts in zip(("yes", "no"), matrix):
            total = max(sum(counts), 1)
            shaded = "".join(f'<td style="background: rgba(31, 119, 180, {count / total * 0.85:.2f})">{count}</td>'
                             for count in counts)
            rows.append(f"<tr><th>{label}</th>{shaded}</tr>")
        cells.append(f'<div class="matrix"><div class="title">{escape(genre)} '
                     f'<span class="muted">({values["support"]} films)</span></div><table>'
                     "<tr><th>true \\ pred.</th><th>yes</th><th>no</th></tr>" + "".join(rows) + "</table></div>")
    return ('<p class="muted">Rows: the true label (yes / no); columns: the prediction at the genre\'s threshold; '
            'shading: share of the row.</p>' f'<div class="matrices">{"".join(cells)}</div>')


def render_model(result: ModelResult, content: ReportContent, charts: Charts) -> str:
    """Return one model's section: what it is, training curves, confusion, P/R/F1, PR curves."""
    metadata, evaluation = result.metadata, result.evaluation
    parts = metadata.get("components") or []
    training = metadata.get("training") or {}
    curves = figures.plot_training_curves(result.history)
    if curves:
        training_html = "".join(charts.add(spec, caption) for caption, spec in curves)
    elif parts:
        training_html = ("<p>A fusion has no epochs: its weights "
                         + ", ".join(f"{escape(part['name'])} x {part['weight']:g}" for part in parts)
                         + f" were chosen on validation (mean of micro and macro AP: "
                         f"{format_figure(metadata.get('validation_mean_ap'))}).</p>")
    else:
        training_html = '<p class="muted">No per-epoch history was recorded for this artifact.</p>'
    per_genre = [[genre, values["support"], f"{values['threshold']:g}", format_figure(values["precision"]),
                  format_figure(values["recall"]), format_figure(values["f1"]),
                  format_figure(values["average_precision"])] for genre, values in evaluation["per_genre"].items()]
    facts = [("Reads", metadata["input_kind"]), ("Thresholds", metadata["thresholds"].get("policy", "per_genre")),
             ("Training", f"{training.get('epochs_run') or 0} epochs, best epoch {training.get('best_epoch', 'n/a')}, "
                          f"{(training.get('seconds') or 0) / 60:.1f} min"),
             ("Command", metadata.get("command", "")), ("Created", metadata.get("created_at", "")),
             ("Scores", result.source)]
    return (
        f'<section class="model" id="model-{escape(result.name)}"><h2>Model: {escape(result.name)}</h2>'
        f"<p>{escape(metadata.get('description', ''))}</p>"
        + "<dl class='facts'>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts) + "</dl>"
        + f"<h3>Training curves</h3>{training_html}"
        + f"<h3>Per-genre confusion matrices ({escape(content.split)} split, {evaluation['films']} films)</h3>"
        + render_confusion(evaluation)
        + "<h3>Per-genre precision, recall and F1</h3>"
        + charts.add(figures.plot_precision_recall_f1(evaluation), f"{result.name}: precision, recall and F1 per genre")
        + render_table(["genre", "films", "threshold", "precision", "recall", "F1", "AP"], per_genre)
        + "<h3>Precision-recall curves</h3>"
        + charts.add(figures.plot_precision_recall_curves(result.scored.labels, result.scored.scores,
                                                          result.scored.genres, evaluation),
                     f"{result.name}: precision-recall curve per genre, x at each genre's threshold")
        + "</section>"
    )


def render_films(content: ReportContent) -> str:
    """Return the sampled films with posters, overviews, true genres and each model's top 3 marked."""
    if not content.films:
        return '<section id="films"><h2>Sampled films</h2><p>No films were sampled.</p></section>'
    hits = {result.name: 0 for result in content.models}
    cards = []
    for film in content.films:
        thumbnail = encode_thumbnail(film["poster_path"])
        poster = (f'<img src="{thumbnail}" alt="poster of {escape(film["id"])}">' if thumbnail
                  else '<div class="noposter">poster could not be read</div>')
        answers = []
        for name, top in film["answers"].items():
            chips = []
            for genre, probability in top:
                found = genre in film["genres"]
                hits[name] += found
                chips.append(f'<span class="genre {"hit" if found else "miss"}">{"&#10003;" if found else "&#10007;"} '
                             f"{escape(genre)} {probability:.0%}</span>")
            answers.append(f"<tr><td>{escape(name)}</td><td>top 3: {''.join(chips)}<br>"
                           f"predicts: {escape(film.get('predicted', {}).get(name, ''))}</td></tr>")
        truth = "".join(f'<span class="genre truth">{escape(genre)}</span>' for genre in film["genres"])
        cards.append(f'<div class="film">{poster}<div><b>{escape(film["id"])}</b><p>{escape(film["overview"])}</p>'
                     f"<div>True genres: {truth}</div><table class='answers'>{''.join(answers)}</table></div></div>")
    summary = render_table(["model", f"genres of the top {len(next(iter(content.films[0]['answers'].values())))} "
                                     "that are true"],
                           [[name, f"{count} of {len(content.films) * 3}"] for name, count in hits.items()])
    return (f'<section id="films"><h2>Sampled films</h2><p>{len(content.films)} films of the {escape(content.split)} '
            f"split drawn with numpy's <code>default_rng({content.seed})</code>; each model's top 3 genres, "
            "&#10003; when the film has that genre, &#10007; when not, and what it predicts: the genres over "
            "their own thresholds (bars), likeliest first, as the app's pages read it.</p>" + summary
            + f'<div class="films">{"".join(cards)}</div></section>')


def render_provenance(content: ReportContent, command: str, built_at: str, versions: dict) -> str:
    """Return how the report was made: command, seeds, data fingerprint, versions, date, model commands."""
    facts = [("Built", built_at), ("Command", command), ("Split", content.split),
             ("Sample", f"{len(content.films)} films, seed {content.seed} (numpy default_rng)"),
             ("Data", f"{content.dataset.folder}, fingerprint {content.dataset.fingerprint}"),
             ("Library versions", ", ".join(f"{name} {value}" for name, value in versions.items()))]
    models = [[result.name, result.metadata.get("command", ""), result.metadata.get("seed", ""),
               result.metadata.get("created_at", ""), result.metadata.get("data", {}).get("fingerprint", ""),
               ", ".join(f"{k} {v}" for k, v in (result.metadata.get("versions") or {}).items()), result.source]
              for result in content.models]
    notes = "".join(f"<li>{escape(note)}</li>" for note in content.notes)
    baseline = content.baseline or {}
    return ('<section id="provenance"><h2>How this report was made</h2><dl class="facts">'
            + "".join(f"<dt>{escape(k)}</dt><dd><code>{escape(v)}</code></dd>" if k == "Command"
                      else f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
            + f"<dt>Baseline</dt><dd><code>{escape(baseline.get('command', 'n/a'))}</code></dd></dl>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "<h3>Models</h3>"
            + render_table(["model", "training command", "seed", "created", "trained on data", "versions", "scores"],
                           models)
            + "</section>")


def render_report(content: ReportContent, command: str, built_at: str, versions: dict, plotly_js: str) -> str:
    """Return the whole HTML page."""
    charts = Charts()
    body = [render_dataset(content, charts), render_results(content)]
    body += [render_model(result, content, charts) for result in content.models]
    body += [render_films(content), render_provenance(content, command, built_at, versions)]
    links = ([("dataset", "Dataset"), ("results", "Results")]
             + [(f"model-{result.name}", result.name) for result in content.models]
             + [("films", "Sampled films"), ("provenance", "How it was made")])
    contents = "".join(f'<a href="#{escape(anchor)}">{escape(title)}</a>' for anchor, title in links)
    names = ", ".join(result.name for result in content.models)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # An empty icon: a file:// page would otherwise ask for /favicon.ico.
        '<link rel="icon" href="data:,">'
        f"<title>Movie-genre models: report ({escape(content.split)} split)</title>"
        f"<style>{STYLE}</style><script>{plotly_js}</script></head><body>"
        f"<h1>Movie genres from posters and overviews: report</h1>"
        f'<p class="muted">{len(content.models)} models ({escape(names)}) on the {escape(content.split)} split of '
        f"{content.dataset.num_films:,} films; built {escape(built_at)}.</p>"
        f'<nav class="contents">{contents}</nav>'
        + "".join(body) + charts.render_script() + f"<script>{DRAW_SCRIPT}</script></body></html>\n"
    )

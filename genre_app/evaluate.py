"""The Evaluate page's parts: the view's choices (kept in the address), thresholds moved in a form (applied
when the user says so, not at each arrow-key step), the figures, and the charts with their descriptions.

The evaluation itself is genre_models.metrics.evaluate_scores; the files offered are genre_app.evaluation's.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from genre_app import answers, charts, evaluation, links, scores
from genre_app.text import escape_markdown

# Thresholds moved genre by genre, per model: {model: {genre: threshold}}. Kept apart from the sliders' own
# state, which Streamlit forgets once a genre's slider is no longer drawn.
OVERRIDES_KEY = "threshold_overrides"
# The split the page opens on: thresholds are tuned on validation films, and the test split, the honest
# figure, is looked at once, not tuned against.
DEFAULT_SPLIT = "validation"
# How a threshold slider applies (it sits in a form).
APPLY_HELP = "Move it with the mouse or the arrow keys, then press Apply this threshold: the figures follow."
# The figures across the top: label and report key.
FIGURES = [("micro-F1", "micro_f1"), ("macro-F1", "macro_f1"), ("samples-F1", "samples_f1"),
           ("micro AP", "micro_average_precision"), ("macro AP", "macro_average_precision"),
           ("precision@3", "precision_at_3"), ("recall@3", "recall_at_3")]


def reset_threshold_overrides(model: str) -> None:
    """Put every genre of a model back on its tuned threshold (a button's callback, run before the page)."""
    st.session_state.get(OVERRIDES_KEY, {}).pop(model, None)
    for key in [key for key in st.session_state if str(key).startswith(f"evaluate-threshold-{model}-")]:
        del st.session_state[key]


def choose_view(predictor) -> tuple[str, str, str]:
    """Return the model, split and threshold mode chosen (each kept in the address). The model opens on the
    best recorded validation macro AP (Predict's rule), the split on validation."""
    names = predictor.model_names()
    links.warn_about_unknown_link_values("model", names, "the model")
    links.warn_about_unknown_link_values("split", evaluation.SPLITS, "the split")
    links.warn_about_unknown_link_values("thresholds", evaluation.THRESHOLD_MODES, "the thresholds")
    choice = st.columns(3)
    recommended = answers.recommended_name(names, {model: predictor.get(model).metadata for model in names})
    name = choice[0].selectbox("Model", names, index=names.index(recommended) if recommended in names else 0,
                               key="model", bind="query-params")
    split = choice[1].selectbox("Split", evaluation.SPLITS, index=evaluation.SPLITS.index(DEFAULT_SPLIT),
                                key="split", bind="query-params",
                                help="Tune thresholds on validation; the test split is the honest figure: look at "
                                     "it once, not while tuning.")
    # A link naming a genre opens that genre's threshold.
    mode = choice[2].radio("Thresholds", evaluation.THRESHOLD_MODES, index=2 if "genre" in st.query_params else 0,
                           key="thresholds", bind="query-params")
    return name, split, mode


def read_scores(name: str, split: str):
    """Return a model's scores on a split, with progress bars only while a scoring must run."""
    scoring = scores.ScoringProgress()
    scored = scores.split_scores(name, split, progress=scoring)
    scoring.clear()
    return scored


def choose_thresholds(loaded, scored, mode: str, name: str) -> tuple[np.ndarray, str | None]:
    """Return the thresholds to evaluate at and the genre being adjusted (None unless one is). A slider's
    move applies when its form's button is pressed, so arrow-key steps do not each rerun the page."""
    tuned = loaded.thresholds.copy()
    if mode == evaluation.THRESHOLD_MODES[1]:
        with st.form("evaluate-global-form", border=False):
            chosen = st.slider("Threshold for every genre", 0.01, 0.99,
                               float(loaded.metadata["thresholds"].get("global", 0.5)), 0.01,
                               key=f"evaluate-global-threshold-{name}", help=APPLY_HELP)
            st.form_submit_button("Apply this threshold")
        return np.full(len(tuned), chosen), None
    if mode != evaluation.THRESHOLD_MODES[2]:
        return tuned, None
    links.warn_about_unknown_link_values("genre", scored.genres, "the genre")
    genre = st.selectbox("Genre", scored.genres, key="genre", bind="query-params")
    overrides = st.session_state.setdefault(OVERRIDES_KEY, {}).setdefault(name, {})
    column = scored.genres.index(genre)
    with st.form("evaluate-genre-form", border=False):
        # One slider per model and genre, under a stable key: its starting value (the tuned or last chosen
        # threshold) is read only when it is first drawn, so a move is never undone by a re-created slider.
        overrides[genre] = st.slider(f"Threshold for {escape_markdown(genre)}", 0.01, 0.99,
                                     float(overrides.get(genre, tuned[column])), 0.01,
                                     key=f"evaluate-threshold-{name}-{genre}", help=APPLY_HELP)
        st.form_submit_button("Apply this threshold")
    st.button("Reset all genres to their tuned thresholds", key="evaluate-reset-thresholds",
              on_click=reset_threshold_overrides, args=(name,))
    return np.array([overrides.get(g, t) for g, t in zip(scored.genres, tuned)]), genre


def show_figures(report: dict, split: str) -> None:
    """The summary figures in a row ("n/a" where a figure is undefined), and what they were computed on."""
    for column, (label, key) in zip(st.columns(len(FIGURES)), FIGURES):
        value = report[key]
        column.metric(label, "n/a" if value is None or value != value else f"{value:.3f}")
    st.caption(f"{report['films']} films in the {split} split; macro figures average the "
               f"{report['genres_with_positives']} genres that have positive films in it.")


def describe_left_out(report: dict) -> str | None:
    """Say which genres have no film in the split (their matrices are left out: all their films are true
    negatives, so a matrix would show nothing), or None when every genre has films."""
    missing = [genre for genre, values in report["per_genre"].items() if values["support"] == 0]
    if not missing:
        return None
    return (f"Left out: {', '.join(missing)} ({len(missing)} genre{'s' if len(missing) > 1 else ''} with no film in "
            "this split, so nothing to find).")


def show_confusion(report: dict) -> None:
    """One 2x2 confusion matrix per genre that has films in the split; the genres left out named."""
    st.subheader("Per-genre confusion matrices")
    st.caption("Rows: true yes/no; columns: predicted yes/no. Colour: share of the true row.")
    shown = charts.genres_with_films(report)
    if shown:
        st.plotly_chart(charts.plot_confusion_grid(report, shown), key="confusion")
    st.caption(escape_markdown(charts.describe_confusion_grid(report)))
    left_out = describe_left_out(report)
    if left_out:
        st.caption(escape_markdown(left_out))


def show_per_genre(report: dict) -> None:
    """Per-genre precision, recall and F1 as bars, with the table behind them on demand."""
    st.subheader("Per-genre precision, recall and F1")
    st.plotly_chart(charts.plot_precision_recall_f1(report), key="prf")
    st.caption(escape_markdown(charts.describe_precision_recall_f1(report)))
    with st.expander("Table"):
        st.dataframe(evaluation.build_per_genre_table(report), hide_index=True, key="evaluate-table")


def show_curves(scored, report: dict, genre: str | None, name: str) -> None:
    """Precision-recall curves of the chosen genres (the adjusted genre and the four commonest to start)."""
    st.subheader("Precision-recall curves")
    by_support = sorted(scored.genres, key=lambda g: -report["per_genre"][g]["support"])
    starting = list(dict.fromkeys(([genre] if genre else []) + by_support[:4]))
    selected = st.multiselect("Genres", scored.genres, default=starting, key=f"evaluate-curves-{name}")
    st.plotly_chart(charts.plot_precision_recall_curves(scored.labels, scored.scores, scored.genres, selected, report),
                    key="pr")
    st.caption(escape_markdown(charts.describe_precision_recall_curves(report, selected)))


def show_comparison(predictor, name: str, split: str, report: dict) -> None:
    """Per-genre F1 beside another model's (at its tuned thresholds) on the same split."""
    from genre_models.metrics import evaluate_scores

    st.subheader("Compare per-genre F1 with another model")
    others = [other for other in predictor.model_names() if other != name]
    if not others:
        return
    other = st.selectbox("Other model (its tuned thresholds)", others, key="evaluate-other")
    other_scores = read_scores(other, split)
    other_report = evaluate_scores(other_scores.labels, other_scores.scores, predictor.get(other).thresholds,
                                   other_scores.genres)
    st.plotly_chart(charts.plot_f1_comparison({name: report, other: other_report}), key="compare")
    st.caption(escape_markdown(charts.describe_f1_comparison({name: report, other: other_report})))

"""The Compare page's parts: the choices (kept in the address), each model's answers over the test films, the
hits table with its baseline row, and one card per sampled film showing, per model, both readings of its
answer, labelled: its top 3 and the genres over its thresholds (what Predict answers).

The computations are genre_app.comparison's (no Streamlit there).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from genre_app import comparison, explanation_cache, links, posters, scores
from genre_app.answers import hit_badges
from genre_app.text import escape_markdown
from genre_app.explanations import explanation_panel

# The two models the head-to-head focus opens on (the course's CNN against its LSTM).
FOCUS_DEFAULTS = (("model_a", "course_cnn"), ("model_b", "course_lstm"))


@dataclass(frozen=True)
class ModelAnswers:
    """One model's answers over the test films: its top 3 with hits, and the genres over its thresholds."""

    # Top 3 and hits per film (genre_app.comparison.TopThree).
    top: comparison.TopThree
    # Film Id -> the genres over the model's thresholds and those passed over (comparison.ThresholdAnswer).
    over_thresholds: dict[str, comparison.ThresholdAnswer]


def choose_settings(available: list[str]) -> tuple[int, int, list[str]]:
    """Return the sample size, seed and models chosen (each kept in the address). The model picker has a row
    of its own, so every chosen name shows whole."""
    links.warn_about_unknown_link_values("films", links.is_whole_number_between(1, 100), "a sample size")
    links.warn_about_unknown_link_values("seed", links.is_whole_number_between(0), "a seed")
    links.warn_about_unknown_link_values("models", available, "the model", "so it is left out")
    names = st.multiselect("Models", available, default=available, key="models", bind="query-params")
    settings = st.columns([1, 1, 2])
    sample_size = settings[0].number_input("Films to sample", min_value=1, max_value=100, value=10, key="films",
                                           bind="query-params")
    seed = settings[1].number_input("Seed", min_value=0, value=0, step=1, key="seed", bind="query-params")
    # Head to head, as in the course: two chosen models (the course CNN against the course LSTM to start with).
    if settings[2].toggle("Focus on two models", key="compare-focus", bind="query-params"):
        pair = st.columns(2)
        names = []
        for place, (parameter, default) in enumerate(FOCUS_DEFAULTS):
            links.warn_about_unknown_link_values(parameter, available, f"model {'AB'[place]}")
            index = available.index(default) if default in available else min(place, len(available) - 1)
            names.append(pair[place].selectbox(f"Model {'AB'[place]}", available, index=index, key=parameter,
                                               bind="query-params"))
        names = list(dict.fromkeys(names))
    return int(sample_size), int(seed), names


def read_answers(predictor, names: list[str]) -> dict[str, ModelAnswers]:
    """Return every chosen model's answers over the test split (progress bars only while a scoring runs)."""
    scoring = scores.ScoringProgress()
    results = {}
    for name in names:
        scored = scores.split_scores(name, "test", progress=scoring)
        bars = predictor.get(name).thresholds
        results[name] = ModelAnswers(top=comparison.rank_top_three(scored),
                                     over_thresholds=comparison.pick_over_thresholds(scored, bars))
    scoring.clear()
    return results


def show_aggregate(results: dict[str, ModelAnswers], sample: list[str], common: list[str], dataset) -> None:
    """The hits table (each model, then the baseline a model must beat)."""
    st.subheader("Aggregate: top-3 hits (true genres among each model's top 3)")
    aggregate = comparison.summarize_hits({name: answer.top for name, answer in results.items()}, sample, common,
                                          dataset)
    aggregate[comparison.SPLIT_FILMS_HIT] *= 100  # shown as a percentage
    st.dataframe(aggregate, hide_index=True, column_config={
        # Wide enough for the baseline's label ("baseline: always Drama, Comedy, Action") and no wider, so the
        # last column stays in view beside the sidebar; pinned, so it stays in view if the table scrolls.
        "model": st.column_config.TextColumn(width=250, pinned=True),
        # Short headers, so every column shows whole at 1280 px (the data keeps comparison's column names).
        comparison.SAMPLE_HITS: st.column_config.NumberColumn("hits (sample)"),
        comparison.SAMPLE_FILMS_HIT: st.column_config.NumberColumn("films hit (sample)"),
        comparison.SPLIT_HITS_PER_FILM: st.column_config.NumberColumn("hits per film (test)", format="%.2f"),
        comparison.SPLIT_FILMS_HIT: st.column_config.NumberColumn("films hit (test)", format="%.0f%%")})
    st.caption("A film is hit when at least one of its true genres is among the model's top 3.")
    st.caption("The last row is the baseline a model must beat: it answers the three genres most common in the "
               "training films for every film, without reading anything.")


def show_agreement(results: dict[str, ModelAnswers], names: list[str], sample: list[str], common: list[str]) -> None:
    """Two models head to head, or how often several models' first choices differ."""
    tops = {name: answer.top for name, answer in results.items()}
    if len(names) == 2 and common:
        first, second = names
        duel = comparison.compare_head_to_head(tops[first], tops[second], common)
        shares = {side: count / len(common) for side, count in duel.items()}
        st.markdown(f"**Head to head on the {len(common)} test films:** {first} finds more true genres in its top 3 "
                    f"on {duel['first']} films ({shares['first']:.0%}), {second} on {duel['second']} "
                    f"({shares['second']:.0%}); they tie on {duel['tie']} ({shares['tie']:.0%}).")
    if len(names) > 1:
        disagreements = comparison.find_disagreements(tops, common)
        st.markdown(f"**Disagreement:** the models' first choices differ on {len(disagreements)} of {len(common)} "
                    f"test films ({len(disagreements) / max(len(common), 1):.0%}); "
                    f"{len(set(disagreements) & set(sample))} of the {len(sample)} sampled films.")


def show_film(film, names: list[str], results: dict[str, ModelAnswers]) -> None:
    """One sampled film: poster, IMDb link, overview (as text), true genres, and per model its top 3 marked
    against the truth and the genres over its thresholds; an explanation on demand."""
    truth = set(film.genres)
    with st.container(border=True):
        poster, text, answers = st.columns([1, 2, 3])
        pixels = posters.show_poster(film.poster, width=100, caption=film.id, container=poster)
        text.markdown(f"**{film.link}**")
        text.caption(escape_markdown(film.overview))
        text.markdown("**True:** " + escape_markdown(", ".join(sorted(truth))))
        for name in names:
            answer = results[name]
            top = [escape_markdown(genre) for genre in answer.top.genres_of(film.id)]
            answers.markdown(f"**{name}** · top 3: " + hit_badges(top, {escape_markdown(genre) for genre in truth}))
            answers.caption(escape_markdown(f"{name} predicts (over its thresholds, as on Predict): "
                                            + comparison.describe_threshold_answer(answer.over_thresholds[film.id])))
        # On demand: nothing is explained until the film's Explain toggle is switched on.
        explained = answers.selectbox("Model to explain", names, key=f"compare-model-{film.id}")
        explanation_panel(
            explained, results[explained].top.genres, results[explained].top.genres_of(film.id)[0],
            lambda genre: explanation_cache.explanation(explained, pixels, film.overview, genre),
            pixels, key=f"compare-explain-{film.id}", width=160)

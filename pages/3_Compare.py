"""Compare: sampled test films, each model's top 3 against the true genres, and where models disagree.

The choices live in the URL (sample size, seed, models, the two-model focus), so a copied link shows the same
films and models: /Compare?models=course_cnn&models=minilm_tuned&films=5&seed=3.
"""

from __future__ import annotations

import streamlit as st

from genre_app import comparison, explanations, state, widgets
from genre_app.answers import hit_badges

st.set_page_config(page_title="Compare models", layout="wide")
st.title("Compare models against the true genres")

dataset, predictor = state.require_dataset_and_models("Comparing")
available = predictor.model_names()

state.warn_about_unknown_link_values("films", state.is_whole_number_between(1, 100), "a sample size")
state.warn_about_unknown_link_values("seed", state.is_whole_number_between(0), "a seed")
state.warn_about_unknown_link_values("models", available, "the model", "so it is left out")
settings = st.columns(3)
sample_size = settings[0].number_input("Films to sample", min_value=1, max_value=100, value=10, key="films",
                                       bind="query-params")
seed = settings[1].number_input("Seed", min_value=0, value=0, step=1, key="seed", bind="query-params")
names = settings[2].multiselect("Models", available, default=available, key="models", bind="query-params")
# Head to head, as in the course: two chosen models (the course CNN against the course LSTM to start with).
if st.toggle("Focus on two models", key="compare-focus", bind="query-params"):
    pair = st.columns(2)
    names = []
    for place, (parameter, default) in enumerate((("model_a", "course_cnn"), ("model_b", "course_lstm"))):
        state.warn_about_unknown_link_values(parameter, available, f"model {'AB'[place]}")
        index = available.index(default) if default in available else min(place, len(available) - 1)
        names.append(pair[place].selectbox(f"Model {'AB'[place]}", available, index=index, key=parameter,
                                           bind="query-params"))
    names = list(dict.fromkeys(names))
if not names:
    st.info("Choose at least one model.")
    st.stop()

# Top 3 and hits of every model over the whole test split, aligned by film Id.
results = {}
scoring = widgets.ScoringProgress()  # bars only for scores not shipped with the artifact
for name in names:
    results[name] = comparison.rank_top_three(state.split_scores(name, "test", progress=scoring))
scoring.clear()
common = comparison.find_common_films(results)
sample = comparison.sample_films(common, int(sample_size), int(seed))

st.subheader("Aggregate: top-3 hits (true genres among each model's top 3)")
aggregate = comparison.summarize_hits(results, sample, common, dataset)
aggregate[comparison.SPLIT_FILMS_HIT] *= 100  # shown as a percentage
st.dataframe(aggregate, hide_index=True, column_config={
    # Wide enough for the baseline's label ("baseline: always Drama, Comedy, Action"), which was cut, and no
    # wider ("large" pushed the last column out of view); pinned, so it stays in view if the table scrolls.
    "model": st.column_config.TextColumn(width=290, pinned=True),
    comparison.SPLIT_FILMS_HIT: st.column_config.NumberColumn(format="%.0f%%"),
    comparison.SPLIT_HITS_PER_FILM: st.column_config.NumberColumn(format="%.2f")})
st.caption("The last row is the baseline a model must beat: it answers the three genres most common in the "
           "training films for every film, without reading anything.")
if len(names) == 2 and common:
    first, second = names
    duel = comparison.compare_head_to_head(results[first], results[second], common)
    shares = {side: count / len(common) for side, count in duel.items()}
    st.markdown(f"**Head to head on the {len(common)} test films:** {first} finds more true genres in its top 3 "
                f"on {duel['first']} films ({shares['first']:.0%}), {second} on {duel['second']} "
                f"({shares['second']:.0%}); they tie on {duel['tie']} ({shares['tie']:.0%}).")

if len(names) > 1:
    disagreements = comparison.find_disagreements(results, common)
    st.markdown(f"**Disagreement:** the models' first choices differ on {len(disagreements)} of {len(common)} "
                f"test films ({len(disagreements) / max(len(common), 1):.0%}); "
                f"{len(set(disagreements) & set(sample))} of the {len(sample)} sampled films.")

st.subheader(f"{len(sample)} sampled test films")
films = {film_id: widgets.find_film(dataset, film_id) for film_id in sample}
st.download_button(
    "Download the sample (CSV)", comparison.build_sample_csv(results, sample, {f: films[f].genres for f in sample}),
    file_name=f"compare-sample-seed{int(seed)}-{len(sample)}-films.csv", mime="text/csv", key="compare-download",
    disabled=not sample, help="One row per film and model: the true genres, the model's top 3 and its hits.")
for film_id, film in films.items():
    truth = set(film.genres)
    with st.container(border=True):
        poster, text, answers = st.columns([1, 2, 3])
        pixels = widgets.show_poster(film.poster, width=100, caption=film.id, container=poster)
        text.markdown(f"**{film.link}**")
        text.caption(film.overview)
        text.markdown("**True:** " + ", ".join(sorted(truth)))
        for name in names:
            answers.markdown(f"**{name}:** " + hit_badges(results[name].genres_of(film_id), truth))
        # On demand: nothing is explained until the film's Explain toggle is switched on.
        explained = answers.selectbox("Model to explain", names, key=f"compare-model-{film_id}")
        explanations.explanation_panel(
            explained, results[explained].genres, results[explained].genres_of(film_id)[0],
            lambda genre: state.explanation(explained, pixels, film.overview, genre),
            pixels, key=f"compare-explain-{film_id}", width=160)

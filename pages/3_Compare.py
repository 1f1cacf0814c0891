"""Compare: sampled test films, each model's top 3 against the true genres, and where models disagree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from genre_app import state, widgets
from genre_app.answers import hit_badges
from genre_models.metrics import compute_top_k_hits

st.set_page_config(page_title="Compare models", layout="wide")
st.title("Compare models against the true genres")

dataset, predictor = state.require_dataset_and_models("Comparing")

settings = st.columns(3)
sample_size = settings[0].number_input("Films to sample", min_value=1, max_value=100, value=10)
seed = settings[1].number_input("Seed", min_value=0, value=0, step=1)
names = settings[2].multiselect("Models", predictor.model_names(), default=predictor.model_names())
# Head to head, as in the course: two chosen models (the course CNN against the course LSTM to start with).
if st.toggle("Focus on two models", key="compare-focus"):
    available = predictor.model_names()
    pair = st.columns(2)
    names = [pair[i].selectbox(f"Model {'AB'[i]}", available, key=f"compare-focus-{i}",
                               index=available.index(default) if default in available else min(i, len(available) - 1))
             for i, default in enumerate(("course_cnn", "course_lstm"))]
    names = list(dict.fromkeys(names))
if not names:
    st.info("Choose at least one model.")
    st.stop()

# Top 3 and hits of every model over the whole test split, aligned by film Id.
results = {}
scoring = widgets.ScoringProgress()  # bars only for scores not shipped with the artifact
for name in names:
    scores = state.split_scores(name, "test", progress=scoring)
    top, hits = compute_top_k_hits(scores.labels, scores.scores, k=3)
    results[name] = {"rows": {str(i): r for r, i in enumerate(scores.ids)}, "top": top, "hits": hits,
                     "genres": scores.genres}
scoring.clear()
common = sorted(set.intersection(*(set(r["rows"]) for r in results.values())))
rng = np.random.default_rng(int(seed))
sample = list(rng.choice(common, size=min(int(sample_size), len(common)), replace=False)) if common else []


def top_three(name: str, film_id: str) -> list[str]:
    result = results[name]
    return [result["genres"][g] for g in result["top"][result["rows"][film_id]]]


st.subheader("Aggregate: top-3 hits (true genres among each model's top 3)")
summary = []
for name, result in results.items():
    sample_hits = [int(result["hits"][result["rows"][f]]) for f in sample]
    all_hits = result["hits"][[result["rows"][f] for f in common]]
    summary.append({"model": name, "hits in sample": sum(sample_hits),
                    "films with ≥1 hit (sample)": sum(h > 0 for h in sample_hits),
                    "hits per film (test split)": float(np.mean(all_hits)) if len(all_hits) else 0.0,
                    "films with ≥1 hit (test split)": float(np.mean(all_hits > 0)) if len(all_hits) else 0.0})
# The baseline: every film gets the 3 genres most common among the training films, whatever its input.
train_rows = dataset.splits == "train"
common_genres = [dataset.genres[g] for g in np.argsort(-dataset.labels[train_rows].astype(np.int64).sum(axis=0), kind="stable")[:3]]
truth_by_id = {str(film_id): row for row, film_id in enumerate(dataset.ids)}


def baseline_hits(film_ids) -> np.ndarray:
    columns = [dataset.genres.index(genre) for genre in common_genres]
    rows = [truth_by_id[f] for f in film_ids if f in truth_by_id]
    return dataset.labels[rows][:, columns].sum(axis=1) if rows else np.zeros(0)


sample_baseline, all_baseline = baseline_hits(sample), baseline_hits(common)
summary.append({"model": f"baseline: always {', '.join(common_genres)}", "hits in sample": int(sample_baseline.sum()),
                "films with ≥1 hit (sample)": int((sample_baseline > 0).sum()),
                "hits per film (test split)": float(np.mean(all_baseline)) if len(all_baseline) else 0.0,
                "films with ≥1 hit (test split)": float(np.mean(all_baseline > 0)) if len(all_baseline) else 0.0})
aggregate = pd.DataFrame(summary)
aggregate["films with ≥1 hit (test split)"] *= 100  # shown as a percentage
st.dataframe(aggregate, hide_index=True, column_config={
    "films with ≥1 hit (test split)": st.column_config.NumberColumn(format="%.0f%%"),
    "hits per film (test split)": st.column_config.NumberColumn(format="%.2f")})
st.caption("The last row is the baseline a model must beat: it answers the three genres most common in the "
           "training films for every film, without reading anything.")
if len(names) == 2 and common:
    first, second = names
    rows_a = [results[first]["rows"][f] for f in common]
    rows_b = [results[second]["rows"][f] for f in common]
    difference = results[first]["hits"][rows_a].astype(int) - results[second]["hits"][rows_b].astype(int)
    st.markdown(f"**Head to head on the {len(common)} test films:** {first} finds more true genres in its top 3 "
                f"on {int((difference > 0).sum())} films ({np.mean(difference > 0):.0%}), {second} on "
                f"{int((difference < 0).sum())} ({np.mean(difference < 0):.0%}); they tie on "
                f"{int((difference == 0).sum())} ({np.mean(difference == 0):.0%}).")

if len(names) > 1:
    disagreements = [f for f in common if len({top_three(n, f)[0] for n in names}) > 1]
    st.markdown(f"**Disagreement:** the models' first choices differ on {len(disagreements)} of {len(common)} "
                f"test films ({len(disagreements) / max(len(common), 1):.0%}); "
                f"{sum(f in disagreements for f in sample)} of the {len(sample)} sampled films.")

st.subheader(f"{len(sample)} sampled test films")
for film_id in sample:
    film = widgets.find_film(dataset, film_id)
    truth = set(film.genres)
    with st.container(border=True):
        poster, text, answers = st.columns([1, 2, 3])
        pixels = widgets.show_poster(film.poster, width=100, caption=film.id, container=poster)
        text.markdown(f"**{film.link}**")
        text.caption(film.overview)
        text.markdown("**True:** " + ", ".join(sorted(truth)))
        for name in names:
            answers.markdown(f"**{name}:** " + hit_badges(top_three(name, film_id), truth))
        # On demand: nothing is explained until the film's Explain toggle is switched on.
        explained = answers.selectbox("Model to explain", names, key=f"compare-model-{film_id}")
        widgets.explanation_panel(
            explained, results[explained]["genres"], top_three(explained, film_id)[0],
            lambda genre: state.explanation(explained, pixels, film.overview, genre),
            pixels, key=f"compare-explain-{film_id}", width=160)

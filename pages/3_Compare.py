"""Compare: sampled test films, each model's answers against the true genres (its top 3 and the genres over
its thresholds, both labelled), and where models disagree.

The choices live in the URL (sample size, seed, models, the two-model focus), so a copied link shows the same
films and models: /Compare?models=course_cnn&models=minilm_tuned&films=5&seed=3. The page's parts are in
genre_app/compare.py.
"""

from __future__ import annotations

import streamlit as st

from genre_app import compare, comparison, films, models
from genre_app.streamlit_patches import apply_streamlit_patches

apply_streamlit_patches()

st.set_page_config(page_title="Compare models", layout="wide")
st.title("Compare models against the true genres")

dataset, predictor = models.require_dataset_and_models("Comparing")
sample_size, seed, names = compare.choose_settings(predictor.model_names())
if not names:
    st.info("Choose at least one model.")
    st.stop()

# Every chosen model's answers over the whole test split, aligned by film Id.
results = compare.read_answers(predictor, names)
common = comparison.find_common_films({name: answer.top for name, answer in results.items()})
sample = comparison.sample_films(common, sample_size, seed)

compare.show_aggregate(results, sample, common, dataset)
compare.show_agreement(results, names, sample, common)

st.subheader(f"{len(sample)} sampled test films")
st.caption("Each model's **top 3** is marked against the true genres (hit, wrong, missed); below it, the genres "
           "it **predicts**: those over its own thresholds, as the Predict page answers.")
sampled = {film_id: films.find_film(dataset, film_id) for film_id in sample}
st.download_button(
    "Download the sample (CSV)",
    comparison.build_sample_csv({name: answer.top for name, answer in results.items()}, sample,
                                {film_id: film.genres for film_id, film in sampled.items()}),
    file_name=f"compare-sample-seed{seed}-{len(sample)}-films.csv", mime="text/csv", key="compare-download",
    disabled=not sample, help="One row per film and model: the true genres, the model's top 3 and its hits.")
for film in sampled.values():
    compare.show_film(film, names, results)

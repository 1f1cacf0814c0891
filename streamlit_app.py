"""Home: what the app does, where the data is, which models are shipped, links to every page.

The other pages live in pages/ (Streamlit's multipage folder: each file is a page).
"""

from __future__ import annotations

import streamlit as st

from genre_app import state, widgets
from genre_models.dataset import DatasetError

# (script, title, icon) of every page besides Home; Streamlit serves each at /<name after the number>.
PAGES = [
    ("pages/1_Dataset_browser.py", "Dataset browser", ":material/grid_view:"),
    ("pages/2_Predict.py", "Predict", ":material/auto_awesome:"),
    ("pages/3_Compare.py", "Compare models", ":material/compare_arrows:"),
    ("pages/4_Evaluate.py", "Evaluate", ":material/analytics:"),
    ("pages/5_Train.py", "Train", ":material/model_training:"),
]


st.set_page_config(page_title="Movie genres from posters and plots", page_icon="🎬", layout="wide")

st.title("Movie genres from posters and plot summaries")
st.markdown(
    "Predict a film's genres (25 IMDb genres, several per film) from its poster, its one-sentence "
    "summary, or both, with models trained on the Multimodal IMDB dataset. "
    "Browse the data, compare the models against the true genres, and read honest per-genre evaluations."
)

st.subheader("Pages")
links = st.columns(len(PAGES))
for column, (path, title, icon) in zip(links, PAGES):
    column.page_link(path, label=title, icon=icon)

st.subheader("Dataset")
st.caption(state.data_setting_help())
dataset, problem = state.dataset()
if dataset is None:
    st.warning(f"No dataset yet. {problem}")
else:
    st.success(f"Found at `{dataset.folder}`: **{dataset.num_films:,} films**, **{dataset.num_genres} genres**.")
    problems = dataset.report.summary_lines()[1:]
    if problems:
        with st.expander(f"Problems found while loading ({len(problems)})"):
            for line in problems:
                st.write("- " + line)

if widgets.read_only_notice("Importing a dataset") is None:
    with st.expander("Upload the dataset zip (Multimodal_IMDB_dataset.zip)", expanded=dataset is None):
        uploaded = st.file_uploader("Dataset zip", type=["zip"], key="dataset_zip")
        if uploaded is not None and st.button("Import this zip"):
            bar = st.progress(0.0, text="Extracting...")
            try:
                folder = state.import_dataset_zip(
                    uploaded.getvalue(), progress=lambda done, total, what: bar.progress(done / total, text=what))
            except (DatasetError, OSError) as error:  # OSError: the disk filled up or is read-only.
                bar.empty()
                st.error(f"The zip was not imported: {error} The previous dataset is unchanged.")
            else:
                bar.progress(1.0, text="Done")
                st.success(f"Imported into `{folder}`.")
                if state.data_location().resolve() != folder.parent.resolve() and state.data_location() != folder:
                    st.info("GENRE_DATA_DIR points elsewhere; unset it to use the imported dataset.")

st.subheader("Models")
widgets.show_announcement()
widgets.warn_if_promotions_damaged()
models, errors = state.artifact_listing()
# Loading the models also checks the files behind the metadata (a damaged model.keras, say).
load_errors = {**errors, **state.predictor().load_errors}
# A fused model whose part was retrained since it was fitted is not broken: it needs refitting, offered below.
needing_refit = widgets.fusions_needing_refit(load_errors)
if models:
    widgets.show_model_table(models, needs_refit=needing_refit)
else:
    st.warning("No usable model artifact was found.")
widgets.offer_refits(needing_refit, key="home")
for folder, reason in load_errors.items():
    if folder not in needing_refit:
        st.error(f"Skipped artifact `{folder}`: {reason.removeprefix(folder + ': ')} The other models still work.")

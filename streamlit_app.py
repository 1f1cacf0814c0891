"""The app's entry point: the navigation (Home, then the pages in pages/) and the Home page.

Streamlit runs this file on every page view: it builds the sidebar from genre_app.navigation and runs the
chosen page. Each script in pages/ also runs on its own (AppTest.from_file), as it did under the legacy
pages/ folder, at the same URL paths.
"""

from __future__ import annotations

import streamlit as st

from genre_app import navigation, state, widgets
from genre_models.dataset import DatasetError


def show_home(pages: list[tuple[navigation.PageEntry, st.Page]]) -> None:
    """The Home page: what the app does, links to every page, the dataset and the shipped models."""
    st.set_page_config(page_title="Movie genres from posters and plots")
    st.title("Movie genres from posters and plot summaries")
    st.markdown(
        "Predict a film's genres (25 IMDb genres, several per film) from its poster, its one-sentence "
        "summary, or both, with models trained on the Multimodal IMDB dataset. "
        "Browse the data, compare the models against the true genres, and read honest per-genre evaluations."
    )

    st.subheader("Pages")
    links = st.columns(len(pages))
    for column, (entry, page) in zip(links, pages):
        column.page_link(page, label=entry.title, icon=entry.icon)

    # Filled after the models table is sent: the dataset check (reading the CSV, finding every poster) runs while
    # the browser draws the table, in its place above it.
    dataset_place = st.container()

    st.subheader("Models")
    widgets.show_announcement()
    widgets.warn_if_promotions_damaged()
    # Listed from their metadata alone: Home never waits for TensorFlow or the networks, which load in the
    # background (show_model_loading); a damaged model.keras is reported once its load has failed.
    models, errors = state.artifact_listing()
    problems = {**errors, **widgets.unusable_fusions(models)}
    # A fused model whose part was retrained since it was fitted is not broken: it needs refitting, offered below.
    needing_refit = widgets.fusions_needing_refit(problems)
    if models:
        widgets.show_model_table(models, needs_refit=needing_refit, baseline=state.baseline())
        with st.expander("How to read these figures"):
            st.markdown(
                "Each model gives every film a probability per genre; a genre whose probability reaches the model's "
                "threshold is predicted. The figures are measured on the **test films**, which no model saw while "
                "learning; 1.0 is perfect, higher is better.\n\n"
                "- **micro-F1**: over all (film, genre) answers together, a balance of *precision* (how many predicted "
                "genres are right) and *recall* (how many true genres are found). Common genres such as Drama "
                "weigh the most.\n"
                "- **macro-F1**: the same balance computed for each genre on its own, then averaged, so rare genres "
                "(Western, Musical) count as much as Drama. It is lower than micro-F1 when rare genres are missed.\n"
                "- **samples-F1**: the balance per film, averaged over films.\n"
                "- **AP (average precision)**: how well the model *ranks* films, whatever the threshold: 1.0 means "
                "every film with the genre got a higher probability than every film without it. *micro AP* pools "
                "the genres, *macro AP* averages them.\n"
                "- **precision@3 / recall@3**: how many of the model's top 3 genres are right, and how many true "
                "genres are among them.\n\n"
                "The **baseline** row answers the most common genres for every film without reading anything: a "
                "model is only useful where it beats it.")
    else:
        st.warning("No usable model artifact was found.")
    widgets.offer_refits(needing_refit, key="home")
    show_skipped_artifacts({name: reason for name, reason in problems.items() if name not in needing_refit})
    with dataset_place:
        show_dataset()
    show_model_loading(reported=set(problems))


def show_dataset() -> None:
    """Home's dataset section: where the data comes from, what was found, and the zip import."""
    st.subheader("Dataset")
    st.caption(state.data_setting_help())
    dataset, problem = state.dataset()
    if dataset is None:
        st.warning(f"No dataset yet. {problem}")
    else:
        st.success(f"Found at `{dataset.folder}`: **{dataset.num_films:,} films**, **{dataset.num_genres} genres**.")
        # Genres no film has are information, not a problem: the models keep them and rarely predict them.
        if dataset.report.empty_genres:
            st.info(f"For your information: {len(dataset.report.empty_genres)} of the {dataset.num_genres} genres have "
                    f"no film in this dataset ({', '.join(dataset.report.empty_genres)}). They are kept so every "
                    "model answers with the same genres; the models will rarely, if ever, predict them.")
        empty_line = "genres with no positive film (kept): "
        problems = [line for line in dataset.report.summary_lines()[1:] if not line.startswith(empty_line)]
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


def show_skipped_artifacts(problems: dict[str, str]) -> None:
    """Say which artifacts cannot be used and why; the others still work."""
    for name, reason in problems.items():
        st.error(f"Skipped artifact `{name}`: {reason.removeprefix(name + ': ')} The other models still work.")


def show_model_loading(reported: set[str]) -> None:
    """Start loading the models in the background and show how far it is, live (a fragment polling every
    second) until they are in; then the problems only loading finds (a damaged model.keras, a fused model
    whose part did not load), leaving out the models already reported from their metadata."""
    loading = state.start_loading_models(head_start=state.HOME_HEAD_START_SECONDS)
    polling = not loading.is_finished()

    @st.fragment(run_every=1.0 if polling else None)
    def show_status() -> None:
        if not loading.is_finished():
            st.progress(loading.fraction(), text=loading.describe())
            st.caption("Everything on this page works now; Predict answers with the models loaded so far, and the "
                       "pages that score films wait for them.")
            return
        if polling:
            st.rerun()  # once, the whole page: the status below is final and needs no polling
        if loading.error is not None:
            st.error(f"The models could not be loaded: {loading.error}")
            return
        st.caption(f":material/check_circle: {loading.describe()}")
        show_skipped_artifacts({name: reason for name, reason in loading.predictor.load_errors.items()
                                if name not in reported})
        # Not damage: the artifacts are sound, this machine lacks a package they need (issue 15).
        for line in loading.predictor.describe_unavailable():
            st.warning(f"Unavailable on this machine (an optional package is missing; the artifacts are fine): "
                       f"{line}. The other models work.")

    show_status()


def show_home_page() -> None:
    """Home, with links to the pages of this run's navigation."""
    show_home(page_entries)


# The frame of every page; each page may set its own title on top.
st.set_page_config(page_title="Movie genres from posters and plots", page_icon="🎬", layout="wide")
# Every page with the title its Home link shows, at the URL path it had under the legacy pages/ folder.
page_entries = [(entry, st.Page(entry.script, title=entry.title, icon=entry.icon, url_path=entry.url_path))
                for entry in navigation.list_pages()]
home = st.Page(show_home_page, title="Home", icon=":material/home:", default=True)
try:
    st.navigation([home, *(page for _, page in page_entries)]).run()
finally:
    # Whichever page opens first (Home, Train, a page stopped for want of data), the models start loading
    # in the background now (after a head start that keeps this first page quick), so a later prediction finds
    # them ready; a page that needs them cuts the head start short and waits for them.
    state.start_loading_models(head_start=state.HOME_HEAD_START_SECONDS)

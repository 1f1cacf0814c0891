"""The Home page: what to do first, links to every page, a short models table (the recommended model marked,
the baseline beside it) and, on demand, every figure, the training commands and the data folder's setting."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from genre_app import data, messages, models, refits, tables
from genre_app.answers import recommended_name
from genre_app.text import escape_markdown
from genre_models.dataset import DatasetError
from genre_models.metadata import summarize_for_table

# The three figures of the short models table: threshold answers overall and per genre, and ranking quality.
SHORT_FIGURES = {"test micro_f1": "micro-F1", "test macro_f1": "macro-F1", "test macro_average_precision": "macro AP"}
# Marks the recommended model's row in the short table.
RECOMMENDED_MARK = "★ recommended"
# The page the "start here" button leads to.
PREDICT_SCRIPT = "pages/2_Predict.py"


def build_short_model_rows(found: list[dict], baseline: dict | None, needing_refit: dict[str, str]) -> list[dict]:
    """Return the short models table: per model what it reads and three test figures (SHORT_FIGURES, None where
    not recorded), the model Predict recommends (best validation macro AP) first and marked, fused models that
    need refitting said so, and the baseline row last (what a model must beat)."""
    recommended = recommended_name([metadata["name"] for metadata in found],
                                   {metadata["name"]: metadata for metadata in found})
    rows = []
    for metadata in found:
        row = summarize_for_table(metadata)
        name = metadata["name"]
        shown = f"{name} {RECOMMENDED_MARK}" if name == recommended else \
            (f"{name} (needs refitting)" if name in needing_refit else name)
        rows.append({"model": shown, "reads": row["input"],
                     **{label: row.get(key) for key, label in SHORT_FIGURES.items()}})
    rows.sort(key=lambda row: not row["model"].endswith(RECOMMENDED_MARK))
    extra = tables.baseline_row(baseline)
    if extra:
        rows.append({"model": extra["model"], "reads": "nothing",
                     **{label: extra.get(key) for key, label in SHORT_FIGURES.items()}})
    return rows


def format_short_row(row: dict) -> dict:
    """Return a short-table row for display: figures to three decimals, a dash where none was recorded."""
    return {key: (f"{value:.3f}" if isinstance(value, float) else "–" if value is None else str(value))
            for key, value in row.items()}


def show_start_here(pages: list) -> None:
    """Lead with what to do first (try an example on Predict), then one link per page, each label whole."""
    st.info("**Start here:** open **Predict** and click one of the example films (or upload a poster and type a "
            "one-sentence summary): every model answers within seconds.", icon=":material/lightbulb:")
    predict = next((page for entry, page in pages if entry.script == PREDICT_SCRIPT), None)
    if predict is not None:
        st.page_link(predict, label="Try an example on Predict", icon=":material/arrow_forward:")
    st.subheader("Pages")
    # A row that wraps: each link keeps its whole label whatever the window's width.
    with st.container(horizontal=True, gap="small"):
        for entry, page in pages:
            st.page_link(page, label=entry.title, icon=entry.icon, width="content")


def show_models_section() -> set[str]:
    """The short models table, then every figure and command on demand; refits offered, skipped models named.
    Return the models whose problems it reported (show_model_loading leaves them out)."""
    st.subheader("Models")
    messages.show_announcement()
    messages.warn_if_promotions_damaged()
    # Listed from their metadata alone: Home never waits for TensorFlow or the networks, which load in the
    # background (show_model_loading); a damaged model.keras is reported once its load has failed.
    found, errors = models.artifact_listing()
    problems = {**errors, **refits.unusable_fusions(found)}
    # A fused model whose part was retrained since it was fitted is not broken: it needs refitting, offered below.
    needing_refit = refits.fusions_needing_refit(problems)
    if found:
        rows = build_short_model_rows(found, models.baseline(), needing_refit)
        st.table(pd.DataFrame([format_short_row(row) for row in rows]).set_index("model"))
        st.caption("Figures on the test films, which no model saw while learning (1.0 is perfect). The "
                   "recommended model has the best ranking of genres on the validation films; the baseline "
                   "answers the commonest genres without reading anything.")
        with st.expander("Every figure, and how each model was made"):
            tables.show_model_table(found, needs_refit=needing_refit, baseline=models.baseline())
        with st.expander("How to read these figures"):
            st.markdown(FIGURES_GUIDE)
    else:
        st.warning("No usable model artifact was found.")
    refits.offer_refits(needing_refit, key="home")
    show_skipped_artifacts({name: reason for name, reason in problems.items() if name not in needing_refit})
    return set(problems)


FIGURES_GUIDE = (
    "Each model gives every film a probability per genre; a genre whose probability reaches the model's "
    "threshold is predicted. The figures are measured on the **test films**, which no model saw while "
    "learning; 1.0 is perfect, higher is better.\n\n"
    "- **micro-F1**: over all (film, genre) answers together, a balance of *precision* (how many predicted "
    "genres are right) and *recall* (how many true genres are found). Common genres such as Drama weigh the most.\n"
    "- **macro-F1**: the same balance computed for each genre on its own, then averaged, so rare genres "
    "(Western, Musical) count as much as Drama. It is lower than micro-F1 when rare genres are missed.\n"
    "- **samples-F1**: the balance per film, averaged over films.\n"
    "- **AP (average precision)**: how well the model *ranks* films, whatever the threshold: 1.0 means every "
    "film with the genre got a higher probability than every film without it. *micro AP* pools the genres, "
    "*macro AP* averages them.\n"
    "- **precision@3 / recall@3**: how many of the model's top 3 genres are right, and how many true genres "
    "are among them.\n\n"
    "The **baseline** row answers the most common genres for every film without reading anything: a model is "
    "only useful where it beats it.")


def show_dataset() -> None:
    """Home's dataset section: what was found first; where it comes from and the zip import on demand."""
    st.subheader("Dataset")
    found, problem = data.dataset()
    if found is None:
        st.warning(f"No dataset yet. {problem}")
    else:
        st.success(f"**{found.num_films:,} films**, **{found.num_genres} genres**, read from "
                   f"`{str(found.folder).replace('`', chr(39))}`.")
        # Genres no film has are information, not a problem: the models keep them and rarely predict them.
        if found.report.empty_genres:
            st.info(f"For your information: {len(found.report.empty_genres)} of the {found.num_genres} genres have "
                    f"no film in this dataset ({escape_markdown(', '.join(found.report.empty_genres))}). They are "
                    "kept so every model answers with the same genres; the models will rarely, if ever, predict them.")
        empty_line = "genres with no positive film (kept): "
        problems = [line for line in found.report.summary_lines()[1:] if not line.startswith(empty_line)]
        if problems:
            with st.expander(f"Problems found while loading ({len(problems)})"):
                st.text("\n".join(problems))
    with st.expander("Where the data comes from (the data folder setting)", expanded=found is None):
        st.caption(data.data_setting_help())
    if messages.read_only_notice("Importing a dataset") is None:
        with st.expander("Upload the dataset zip (Multimodal_IMDB_dataset.zip)", expanded=found is None):
            show_zip_import()


def show_zip_import() -> None:
    """The zip upload: a progress bar while it installs, the previous dataset kept when it is refused."""
    uploaded = st.file_uploader("Dataset zip", type=["zip"], key="dataset_zip")
    if uploaded is None or not st.button("Import this zip"):
        return
    bar = st.progress(0.0, text="Extracting...")
    try:
        folder = data.import_dataset_zip(
            uploaded.getvalue(), progress=lambda done, total, what: bar.progress(done / total, text=what))
    except (DatasetError, OSError) as error:  # OSError: the disk filled up or is read-only.
        bar.empty()
        st.error(f"The zip was not imported: {escape_markdown(error)} The previous dataset is unchanged.")
        return
    bar.progress(1.0, text="Done")
    st.success(f"Imported into `{str(folder).replace('`', chr(39))}`.")
    if data.data_location().resolve() != folder.parent.resolve() and data.data_location() != folder:
        st.info("GENRE_DATA_DIR points elsewhere; unset it to use the imported dataset.")


def show_skipped_artifacts(problems: dict[str, str]) -> None:
    """Say which artifacts cannot be used and why; the others still work."""
    for name, reason in problems.items():
        st.error(f"Skipped artifact `{name}`: {escape_markdown(reason.removeprefix(name + ': '))} "
                 "The other models still work.")


def show_model_loading(reported: set[str]) -> None:
    """Start loading the models in the background and show how far it is, live (a fragment polling every
    second) until they are in; then the problems only loading finds (a damaged model.keras, a fused model
    whose part did not load), leaving out the models already reported from their metadata."""
    loading = models.start_loading_models(head_start=models.HOME_HEAD_START_SECONDS)
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
            st.error(f"The models could not be loaded: {escape_markdown(loading.error)}")
            return
        st.caption(f":material/check_circle: {loading.describe()}")
        show_skipped_artifacts({name: reason for name, reason in loading.predictor.load_errors.items()
                                if name not in reported})
        # Not damage: the artifacts are sound, this machine lacks a package they need.
        for line in loading.predictor.describe_unavailable():
            st.warning(f"Unavailable on this machine (an optional package is missing; the artifacts are fine): "
                       f"{line}. The other models work.")

    show_status()

"""Report: build the one-file HTML report of the dataset and the models (the same file as
`python -m genre_models report`) and download it."""

from __future__ import annotations

import shlex

import streamlit as st

from genre_app import data, models, refits
from genre_app.streamlit_patches import apply_streamlit_patches
from genre_models.report import REPORT_SPLITS, build_report
from genre_models.report.content import MAX_SAMPLE

apply_streamlit_patches()


def report_file_name(split: str) -> str:
    """Return the name the report is saved under (the download button says it): genre-report-test.html."""
    return f"genre-report-{split}.html"


st.set_page_config(page_title="Report", layout="wide")
st.title("Report")
st.markdown(
    "One self-contained HTML file: the dataset, every chosen model beside the baseline, training curves, "
    "per-genre confusion matrices, precision/recall/F1 and PR curves, sampled films with each model's top 3, "
    "and how it was made. It opens offline (nothing is fetched) and prints with a page per section. "
    "The command line builds the same file: `python -m genre_models report --out report.html`."
)

dataset, problem = data.dataset()
if dataset is None:
    st.warning(f"No dataset yet. {problem}")
    st.stop()
found, _ = models.artifact_listing()
names = sorted(metadata["name"] for metadata in found)
if not names:
    st.warning("No model is installed; train one on the Train page.")
    st.stop()

# A fused model whose part was retrained cannot be reported until it is refitted (Train page).
needing_refit = refits.unusable_fusions(found)
for name, reason in needing_refit.items():
    st.caption(f"{name} is not selected: {reason}.")
chosen = st.multiselect("Models", names, default=[name for name in names if name not in needing_refit])
choice = st.columns(3)
split = choice[0].selectbox("Split", REPORT_SPLITS, help="The scores stored with each model are read where they "
                                                         "fit (seconds); any other split is scored first.")
sample = int(choice[1].number_input("Sampled films", min_value=0, max_value=MAX_SAMPLE, value=12))
seed = int(choice[2].number_input("Seed of the sample", min_value=0, max_value=2**31 - 1, value=0))

if st.button("Build the report", type="primary"):
    command = shlex.join(["python", "-m", "genre_models", "report", "--data-dir", str(data.data_location()),
                          "--models", ",".join(chosen), "--split", split, "--sample", str(sample),
                          "--seed", str(seed), "--out", report_file_name(split)]) + "  (built on the app's Report page)"
    bar = st.progress(0.0, text="Reading the models' scores...")
    try:
        built = build_report(data.data_location(), chosen, split, sample, seed, command=command,
                             overrides=dict(models.promotions()), load_predictor=models.predictor,
                             progress=lambda done, total, what: bar.progress(min(done / max(total, 1), 1.0),
                                                                             text=what))
    except ValueError as error:
        bar.empty()
        st.error(str(error))
    else:
        bar.empty()
        st.session_state["report"] = {"html": built.html, "models": len(built.content.models), "split": split,
                                      "size": built.size_bytes, "seconds": built.seconds,
                                      "notes": built.content.notes}

report = st.session_state.get("report")
if report:
    st.success(f"Report of {report['models']} model(s) on the {report['split']} split: "
               f"{report['size'] / 1e6:.1f} MB, built in {report['seconds']:.1f} s.")
    for note in report["notes"]:
        st.info(note)
    file_name = report_file_name(report["split"])
    st.download_button(f"Download {file_name}", data=report["html"], file_name=file_name, mime="text/html",
                       type="primary")

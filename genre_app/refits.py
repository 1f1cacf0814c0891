"""Fused models whose part was replaced after they were fitted: found from the metadata alone, and offered a
refit (a background run) in plain words."""

from __future__ import annotations

import streamlit as st

from genre_app.messages import announce, errors_shown
from genre_models import supervisor
from genre_models.config import read_only_reason, resolve_data_dir

# The reason genre_models.fusion.find_unusable_part gives for a fusion whose part was replaced.
REFIT_REASON = "was retrained after the fusion was fitted"


def fusions_needing_refit(load_errors: dict[str, str]) -> dict[str, str]:
    """Return {fused model: reason} of the fused models that only need refitting (a part was retrained
    or promoted after they were fitted); other load errors stay errors."""
    return {name: reason for name, reason in load_errors.items() if REFIT_REASON in str(reason)}


def unusable_fusions(models: list[dict]) -> dict[str, str]:
    """Return {fused model: why it cannot run} from the models' metadata alone (no model is loaded):
    genre_models.fusion.find_unusable_part on stand-ins carrying each model's metadata."""
    from types import SimpleNamespace

    from genre_models.fusion import find_unusable_part

    standins = {m["name"]: SimpleNamespace(name=m["name"], metadata=m, is_fusion="components" in m,
                                           genres=list(m.get("genres") or [])) for m in models
                if isinstance(m, dict) and isinstance(m.get("name"), str)}
    problems = {}
    for name, model in standins.items():
        if model.is_fusion:
            try:
                problem = find_unusable_part(model, standins)
            except (KeyError, TypeError):
                continue
            if problem:
                problems[name] = problem
    return problems


def offer_refits(needing: dict[str, str], key: str) -> None:
    """Say which fused models need refitting, in plain words, each with a button starting its refit (a
    background run, as on the Train page) unless the deployment is read-only."""
    from genre_models.config import TrainConfig

    read_only = read_only_reason()
    for name, reason in needing.items():
        part = reason.split("its part ", 1)[-1].split(" ", 1)[0]
        box = st.container(border=True)
        box.markdown(f"**{name} needs refitting.** Its part {part} was replaced (a newer run is in use) after "
                     f"{name}'s weights and thresholds were fitted, so {name} is left out of predictions until it "
                     "is refitted. Refitting takes a minute or two and trains no network.")
        if box.button(f"Refit {name}", key=f"{key}-refit-{name}", disabled=bool(read_only),
                      help=read_only or f"Starts a background run fitting {name} from the models in use; "
                                        "follow it on the Train page."):
            with errors_shown(container=box, toast=True):
                run_dir = supervisor.start_run(TrainConfig(model_name=name, data_dir=str(resolve_data_dir()),
                                                     command=f"refit offered by the app ({key})", verbose=2))
                announce(f"Refitting {name} in run {run_dir.name}; follow it on the Train page.")

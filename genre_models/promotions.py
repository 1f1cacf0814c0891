"""The models in use: which finished training runs replace a shipped artifact for their model name.

The choice lives in ``promoted.json`` in the runs folder ({model name: artifact folder}); the shipped
artifacts stay untouched, so restoring a shipped model is forgetting one entry.
"""

from __future__ import annotations

from pathlib import Path

from genre_models.artifacts import METADATA_FILE
from genre_models.fileio import read_json, write_json_atomically
from genre_models.runs import (
    ARTIFACT_DIR,
    RunRefused,
    refuse_if_read_only,
    resolve_runs_dir,
)

PROMOTIONS_FILE = "promoted.json"


def check_promotions(payload) -> tuple[dict[str, str], str | None]:
    """Return the valid {model name: artifact folder} entries of a promotions file and a warning
    when the file is not such a mapping (it is then ignored: the shipped models are used)."""
    if payload is None:
        return {}, None
    if not isinstance(payload, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in payload.items()):
        return {}, (f"{PROMOTIONS_FILE} in the runs folder is not a mapping of model names to folders; it is "
                    "ignored and the shipped models are used. Promote a run again to replace it.")
    return dict(payload), None


def read_promotions(runs_dir: Path | None = None) -> dict[str, str]:
    """Return {model name: artifact folder} of runs promoted over the shipped models ({} if damaged)."""
    return check_promotions(read_json((runs_dir or resolve_runs_dir()) / PROMOTIONS_FILE))[0]


def promotions_problem(runs_dir: Path | None = None) -> str | None:
    """Return a warning when the promotions file is damaged (and therefore ignored), else None."""
    path = (runs_dir or resolve_runs_dir()) / PROMOTIONS_FILE
    if path.exists() and read_json(path) is None:
        return f"{PROMOTIONS_FILE} in the runs folder is not valid JSON; it is ignored and the shipped models are used."
    return check_promotions(read_json(path))[1]


def is_in_use(run_folder: Path, promoted: dict[str, str]) -> bool:
    """Return whether a run's artifact is promoted for some model (its folder lies inside the run's)."""
    run_folder = Path(run_folder).resolve()
    return any(Path(folder).resolve().is_relative_to(run_folder) for folder in promoted.values())


def promote_run(run_dir: Path) -> str:
    """Make a finished run's artifact the one the app uses for its model name; return the name."""
    refuse_if_read_only("Changing the models in use")
    run_dir = Path(run_dir)
    metadata = read_json(run_dir / ARTIFACT_DIR / METADATA_FILE)
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        raise RunRefused(f"{run_dir.name} has no finished artifact to use.")
    promotions = read_promotions(run_dir.parent)
    promotions[metadata["name"]] = str(run_dir / ARTIFACT_DIR)
    write_json_atomically(run_dir.parent / PROMOTIONS_FILE, promotions)
    return metadata["name"]


def restore_shipped(model_name: str, runs_dir: Path | None = None) -> None:
    """Go back to the shipped artifact for a model name."""
    refuse_if_read_only("Changing the models in use")
    root = runs_dir or resolve_runs_dir()
    promotions = read_promotions(root)
    if promotions.pop(model_name, None) is not None:
        write_json_atomically(root / PROMOTIONS_FILE, promotions)

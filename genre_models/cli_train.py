"""The ``train`` command: its TrainConfig from the flags, a stored configuration or a run to resume,
and the checks made before any training starts."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from pathlib import Path

from genre_models.config import TrainConfig, resolve_data_dir
from genre_models.console import print_progress, report_dataset_from_metadata
from genre_models.fileio import read_json


def build_train_config(args: argparse.Namespace) -> TrainConfig:
    """Return the run's TrainConfig: read from --config (the Train page's worker) or, with --resume, from
    --run-dir's config.json; else built from the flags."""
    if getattr(args, "resume", False):
        return build_resume_config(args)
    if args.config:
        stored = read_json(args.config)
        if not isinstance(stored, dict) or not isinstance(stored.get("config"), dict):
            raise ValueError(f"{args.config} is not a training configuration written by the app.")
        return TrainConfig.from_dict(stored["config"])
    if not args.model:
        raise ValueError("Name the model to train with --model (or give --config).")
    return TrainConfig(
        model_name=args.model,
        data_dir=str(resolve_data_dir(args.data_dir)),
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        max_films=args.max_films,
        out_dir=args.out,
        patience=args.patience,
        train_fraction=args.train_fraction,
        image_size=tuple(args.image_size) if args.image_size else None,
        vocabulary_size=args.vocabulary_size,
        sequence_length=args.sequence_length,
        run_dir=args.run_dir,
        distribute=args.distribute,
        verbose=1 if sys.stdout.isatty() else 2,
        command="python -m genre_models " + shlex.join(sys.argv[1:]),
        parts_dir=args.parts_dir,
    )


# Flags that set what a run trains: a resumed run trains the settings it started with, so --resume refuses them.
TRAINING_FLAGS = ("model", "config", "parts_dir", "data_dir", "epochs", "batch_size", "learning_rate", "patience",
                  "max_films", "image_size", "vocabulary_size", "sequence_length", "out")


def build_resume_config(args: argparse.Namespace) -> TrainConfig:
    """Return the TrainConfig stored in --run-dir's config.json for --resume; refuse other training flags."""
    if not args.run_dir:
        raise ValueError("--resume needs --run-dir: the folder of the stopped or failed run to go on with.")
    given = [f"--{name.replace('_', '-')}" for name in TRAINING_FLAGS if getattr(args, name, None) is not None]
    defaults = {"--seed": (args.seed, 42), "--train-fraction": (args.train_fraction, 1.0),
                "--distribute": (args.distribute, "none")}
    given += [flag for flag, (value, default) in defaults.items() if value != default]
    if given:
        raise ValueError(f"--resume trains the settings the run started with; leave out {', '.join(given)} "
                         "(or start a new run with them).")
    stored = read_json(Path(args.run_dir) / "config.json")
    if not isinstance(stored, dict) or not isinstance(stored.get("config"), dict):
        raise ValueError(f"{args.run_dir} is not a run folder (it has no readable config.json); nothing to resume.")
    return dataclasses.replace(TrainConfig.from_dict(stored["config"]), run_dir=args.run_dir,
                               verbose=1 if sys.stdout.isatty() else 2)


def command_train(args: argparse.Namespace) -> int:
    """Train a model and publish its artifact (or, with --resume, go on with a stopped or failed run)."""
    from genre_models.training import train_model

    config = build_train_config(args)
    check_artifact_destination(config)
    result = train_model(config, progress=print_progress, resume=bool(getattr(args, "resume", False)))
    distribution = (result.metadata.get("training") or {}).get("distribution") or {}
    if result.artifact_dir is None and result.metadata and not distribution.get("chief", True):
        test = result.metadata["metrics"]["test"]
        print(json.dumps({"artifact": None, "run_dir": str(result.run_dir), "worker_index": distribution.get(
            "worker_index"), "workers": distribution.get("workers"), "note": "the chief (worker 0) publishes",
            "test": {key: test[key] for key in ("micro_f1", "macro_f1", "macro_average_precision", "recall_at_3")}}))
        return 0
    if result.artifact_dir is None:
        print(json.dumps({"artifact": None, "run_dir": str(result.run_dir), "stopped": True,
                          "note": "stopped before the first epoch finished; nothing was published"}))
        return 0
    report_dataset_from_metadata(result.metadata)
    test = result.metadata["metrics"]["test"]
    print(json.dumps({
        "artifact": str(result.artifact_dir),
        "run_dir": str(result.run_dir),
        "epochs_run": result.metadata["training"]["epochs_run"],
        "stopped": result.stopped,
        "seconds": result.metadata["training"]["seconds"],
        "test": {key: test[key] for key in ("micro_f1", "macro_f1", "macro_average_precision", "recall_at_3")},
    }))
    return 0


def check_artifact_destination(config: TrainConfig) -> None:
    """Refuse, before any training starts, an --out that publishing would lose data in: the artifact
    folder is replaced whole, so it must be new, empty, or an artifact of the same model (retrained).
    A folder of the user's files, another model's artifact or the artifacts root itself (``--out
    artifacts``, which holds every shipped model) is never replaced."""
    from genre_models.artifacts import METADATA_FILE

    if not config.out_dir:
        return
    out = Path(config.out_dir)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ValueError(f"--out {out} is not a folder; give a new or empty folder, or the artifact of "
                         f"{config.model_name} to replace.")
    if not out.is_dir() or not any(out.iterdir()):
        return
    metadata = read_json(out / METADATA_FILE)
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if name == config.model_name:
        return
    what = f"the artifact of another model ({name})" if name else "other files"
    raise ValueError(f"--out {out} holds {what}, which publishing would replace whole; give a new or empty folder, "
                     f"or the artifact of {config.model_name} to replace (for instance {out / config.model_name}).")

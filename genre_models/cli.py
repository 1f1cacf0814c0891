"""Command line: ``python -m genre_models {train,evaluate,predict,explain,models,baselines,cards,export,report}``.

The only place that parses arguments; everything it does is a call into the package.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

# TensorFlow's C++ start-up chatter drowns the useful output; errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from genre_models.batch import (  # noqa: E402
    check_output_path,
    describe_output,
    encode_line,
    predict_lines,
    write_output,
)
from genre_models.cli_explain import command_explain  # noqa: E402
from genre_models.cli_train import command_train  # noqa: E402
from genre_models.config import (  # noqa: E402
    DISTRIBUTE_CHOICES,
    resolve_artifacts_dir,
    resolve_data_dir,
)
from genre_models.console import (  # noqa: E402
    load_predictor,
    print_progress,
    report_dataset,
    report_skips,
    selected_model_names,
    warn,
)
from genre_models.dataset import (  # noqa: E402
    ID_COLUMN,
    OVERVIEW_COLUMN,
    DatasetReport,
    load_dataset,
    locate_dataset,
    read_catalog,
)
from genre_models.models import MODEL_REGISTRY  # noqa: E402


def command_evaluate(args: argparse.Namespace) -> int:
    """Evaluate shipped models on a split and print one JSON report per model."""
    from genre_models.metrics import evaluate_scores
    from genre_models.scoring import score_split

    predictor = load_predictor()
    names = selected_model_names(args.model) or predictor.model_names()
    datasets = {}

    def dataset_for(image_size):
        if image_size not in datasets:
            datasets[image_size] = load_dataset(resolve_data_dir(args.data_dir), image_size=image_size,
                                                progress=print_progress)
            report_dataset(datasets[image_size].report)
        return datasets[image_size]

    for name in names:
        loaded = predictor.get(name)
        scored = score_split(predictor, name, dataset_for, args.split)
        fingerprint = next(iter(datasets.values())).fingerprint
        print(json.dumps({
            "model": name,
            "split": args.split,
            "data_fingerprint": fingerprint,
            "same_data_as_training": fingerprint == loaded.metadata["data"]["fingerprint"],
            **evaluate_scores(scored.labels, scored.scores, loaded.thresholds, scored.genres, args.split),
        }, allow_nan=False))
    return 0


def command_predict(args: argparse.Namespace) -> int:
    """Predict every film of a course-format folder with the requested models; write JSON lines.

    Films are scored PREDICT_CHUNK at a time and their lines written before the next chunk is
    read, so memory stays flat however large the folder is."""
    check_output_path(args.out)
    predictor = load_predictor()
    wanted = [predictor.get(name) for name in selected_model_names(args.model) or predictor.model_names()]
    needed = {model.name for model in wanted} | {part for model in wanted for part, _ in model.parts}
    networks = [model for model in predictor.models if model.name in needed and not model.is_fusion]
    folder = locate_dataset(resolve_data_dir(args.data_dir), progress=print_progress)
    report = DatasetReport()
    table, _ = read_catalog(folder, report, require_labels=False)
    report_dataset(report)
    film_ids = table[ID_COLUMN].tolist()
    overviews = dict(zip(film_ids, table[OVERVIEW_COLUMN].str.strip()))
    skips: dict[str, dict[str, str]] = {}
    written = 0

    def write_lines(out_file) -> None:
        nonlocal written
        for line in predict_lines(wanted, networks, folder, film_ids, overviews, skips, progress=print_progress):
            out_file.write(encode_line(line))
            written += 1

    write_output(args.out, write_lines)
    report_skips({model.name: skips.get(model.name, {}) for model in wanted})
    sys.stderr.write(f"wrote {written} prediction(s) for {len(film_ids)} film(s) to {describe_output(args.out)}\n")
    return 0


def command_models(args: argparse.Namespace) -> int:
    """Print one JSON line per shipped model (the same row the app's tables show)."""
    from genre_models.artifacts import (
        describe_unavailable,
        find_unavailable_models,
        read_artifact_metadata,
    )
    from genre_models.metadata import summarize_for_table

    found, errors = read_artifact_metadata()
    for folder, reason in errors.items():
        warn(f"skipped artifact {reason}")
    for line in describe_unavailable(find_unavailable_models(found)):
        warn(f"unavailable on this machine (an optional package is missing; the artifacts are fine): {line}")
    for metadata in found:
        print(json.dumps(summarize_for_table(metadata)))
    return 0


def command_runs(args: argparse.Namespace) -> int:
    """Print one JSON line per training run (newest first), or with --csv every run's per-epoch scalars
    as one CSV; nothing in the runs folder is written."""
    from genre_models.run_exports import build_runs_csv
    from genre_models.runs import list_runs, read_history

    all_runs = list_runs(Path(args.runs_dir) if args.runs_dir else None)
    if args.csv:
        sys.stdout.write(build_runs_csv(all_runs))
        return 0
    for run in all_runs:
        print(json.dumps({"run": run.name, "model": run.model, "state": run.state, "epochs": len(read_history(run.folder)),
                          "error": run.error or None, "folder": str(run.folder)}))
    return 0


def command_baselines(args: argparse.Namespace) -> int:
    """Evaluate the genre-frequency baseline on the test split and record it beside the artifacts."""
    from genre_models.baselines import evaluate_frequency_baseline
    from genre_models.fileio import write_json_atomically
    from genre_models.metadata import utc_now

    dataset = load_dataset(resolve_data_dir(args.data_dir), progress=print_progress)
    report_dataset(dataset.report)
    baseline = evaluate_frequency_baseline(dataset)
    baseline.update({"command": "python -m genre_models " + shlex.join(sys.argv[1:]),
                     "data_fingerprint": dataset.fingerprint, "created_at": utc_now()})
    out_path = Path(args.out) if args.out else resolve_artifacts_dir() / "baselines.json"
    write_json_atomically(out_path, {"genre_frequency": baseline})
    if not args.out:
        from genre_models.artifacts import list_artifact_folders
        from genre_models.cards import write_installed_cards

        # Every model card quotes this baseline: keep the installed ones in step with it.
        written, _ = write_installed_cards(list_artifact_folders())
        sys.stderr.write(f"rewrote {len(written)} model card(s) beside it\n")
    test = baseline["metrics"]["test"]
    print(json.dumps({"name": "genre_frequency", "predicts_always": baseline["predicts_always"],
                      **{key: test[key] for key in ("micro_f1", "macro_f1", "macro_average_precision")}}))
    return 0


def command_cards(args: argparse.Namespace) -> int:
    """Rewrite the model card (README.md) of every installed artifact from its metadata.json."""
    from genre_models.artifacts import list_artifact_folders
    from genre_models.cards import write_installed_cards

    written, errors = write_installed_cards(list_artifact_folders())
    for name, reason in errors.items():
        warn(f"no card for {name}: {reason}")
    for name, path in written.items():
        print(json.dumps({"model": name, "card": str(path)}))
    if not written:
        raise ValueError(f"No artifact with a usable metadata.json in {resolve_artifacts_dir()}.")
    return 0


def command_export(args: argparse.Namespace) -> int:
    """Export an installed model as a TensorFlow SavedModel taking raw inputs; print what it takes and returns."""
    from genre_models.export import export_model

    info = export_model(args.model, args.out)
    print(json.dumps({key: info[key] for key in ("model", "path", "inputs", "output", "parts", "load_with")}))
    return 0


def command_report(args: argparse.Namespace) -> int:
    """Build the self-contained HTML report of the dataset and the chosen models; write it to --out."""
    from genre_models.report import build_report

    check_output_path(args.out)
    built = build_report(resolve_data_dir(args.data_dir), selected_model_names(args.models), args.split, args.sample,
                         args.seed, command="python -m genre_models " + shlex.join(sys.argv[1:]),
                         progress=print_progress)
    write_output(args.out, lambda handle: handle.write(built.html.encode("utf-8")))
    for note in built.content.notes:
        warn(note)
    sys.stderr.write(f"wrote the report of {len(built.content.models)} model(s) on the {args.split} split to "
                     f"{describe_output(args.out)}: {built.size_bytes / 1e6:.1f} MB in {built.seconds:.1f} s\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every sub-command (long, on purpose: one line per flag, the
    whole command line defined in one place)."""
    parser = argparse.ArgumentParser(prog="python -m genre_models",
                                     description="Multi-label movie-genre classification from posters and overviews.")
    commands = parser.add_subparsers(dest="command", required=True)
    data_help = "dataset folder or Multimodal_IMDB_dataset.zip (default: $GENRE_DATA_DIR, else data/Multimodal_IMDB_dataset)"

    train = commands.add_parser("train", help="train a registry model and publish its artifact")
    train.add_argument("--model", choices=sorted(MODEL_REGISTRY), help="registry model to train")
    train.add_argument("--config", help="train the TrainConfig stored in this JSON file (how the app starts runs)")
    train.add_argument("--parts-dir", help="for a fusion: the folder holding its parts' artifacts "
                                           "(default: the models in use, promoted runs included)")
    train.add_argument("--data-dir", help=data_help)
    train.add_argument("--epochs", type=int, help="maximum epochs (default: the model's recipe)")
    train.add_argument("--batch-size", type=int, help="mini-batch size (default: the model's recipe)")
    train.add_argument("--learning-rate", type=float, help="initial learning rate (default: the model's recipe)")
    train.add_argument("--patience", type=int, help="early-stopping patience in epochs; 0 disables it")
    train.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    train.add_argument("--max-films", type=int, help="train on at most this many films (a quick demo run)")
    train.add_argument("--train-fraction", type=float, default=1.0,
                       help="share of the training split to use, e.g. 0.1 for a quick demo (default 1)")
    train.add_argument("--image-size", type=int, nargs=2, metavar=("HEIGHT", "WIDTH"),
                       help="poster size for poster models (default: the model's recipe)")
    train.add_argument("--vocabulary-size", type=int, help="vocabulary size for text models")
    train.add_argument("--sequence-length", type=int, help="tokens kept per overview for text models")
    train.add_argument("--out", help="artifact folder (default: artifacts/<model>)")
    train.add_argument("--distribute", default="none", choices=DISTRIBUTE_CHOICES,
                       help="tf.distribute strategy; --batch-size is per replica (default: none)")
    train.add_argument("--run-dir", help="train in this run folder (status, metrics, checkpoint); default: a new one in runs/")
    train.add_argument("--resume", action="store_true",
                       help="go on with the stopped or failed run in --run-dir from the epoch after its last finished "
                            "one (its backup: model and optimizer weights, history, early stopping), with the "
                            "settings it started with")
    train.set_defaults(handler=command_train)

    evaluate = commands.add_parser("evaluate", help="evaluate shipped models; prints JSON")
    evaluate.add_argument("--model", required=True, help="artifact name, comma-separated names, or 'all'")
    evaluate.add_argument("--data-dir", help=data_help)
    evaluate.add_argument("--split", default="test", choices=["train", "validation", "test", "all"])
    evaluate.set_defaults(handler=command_evaluate)

    predict = commands.add_parser("predict", help="predict every film of a course-format folder; writes JSON lines")
    predict.add_argument("--model", required=True, help="artifact name, comma-separated names, or 'all'")
    predict.add_argument("--data-dir", help=data_help)
    predict.add_argument("--out", required=True, help="output .jsonl file (a new or regular file), or - for stdout")
    predict.set_defaults(handler=command_predict)

    explain = commands.add_parser(
        "explain", help="explain models' answers (poster heatmap, word weights, fusion shares); writes JSON lines",
        description="One JSON line per film and model: id, model, genre, probability, poster_heatmap (rows x "
                    "columns in [0, 1] over the whole poster, at most 512 pixels on its longer side) or null, "
                    "words ([{word, weight}] in the overview's order) or null, parts ({poster, overview} "
                    "shares of a fused model's probability) or null.")
    explain.add_argument("--model", required=True, help="artifact name, comma-separated names, or 'all'")
    explain.add_argument("--data-dir", help=data_help + "; without --film every film of it is explained")
    source = explain.add_mutually_exclusive_group()
    source.add_argument("--film", help="explain this film (Id) of the dataset")
    source.add_argument("--poster", help="explain this poster file (with --overview: a poster and its summary)")
    explain.add_argument("--overview", help="explain this summary (alone, with --poster, or instead of the "
                                            "--film's own)")
    explain.add_argument("--genre", help="genre to explain (default: each model's top genre for each film)")
    explain.add_argument("--out", required=True, help="output .jsonl file (a new or regular file), or - for stdout")
    explain.set_defaults(handler=command_explain)

    models = commands.add_parser("models", help="list shipped models, one JSON line each")
    models.set_defaults(handler=command_models)

    runs = commands.add_parser("runs", help="list the training runs, one JSON line each (--csv: every run's "
                                            "per-epoch scalars as one CSV on standard output)")
    runs.add_argument("--csv", action="store_true", help="print every run's per-epoch scalars as CSV")
    runs.add_argument("--runs-dir", help="folder of run folders (default: $GENRE_RUNS_DIR, else runs/)")
    runs.set_defaults(handler=command_runs)

    baselines = commands.add_parser("baselines", help="evaluate the genre-frequency baseline on the test split")
    baselines.add_argument("--data-dir", help=data_help)
    baselines.add_argument("--out", help="output JSON (default: artifacts/baselines.json)")
    baselines.set_defaults(handler=command_baselines)

    cards = commands.add_parser("cards", help="rewrite every installed artifact's model card (README.md) from its "
                                              "metadata.json (run it after anything edits a metadata.json)")
    cards.set_defaults(handler=command_cards)

    export = commands.add_parser(
        "export", help="export an installed model as a TensorFlow SavedModel (raw poster/overview in, 25 "
                       "probabilities out)",
        description="Writes a SavedModel whose 'serve' function (signature serving_default) takes uint8 posters "
                    "(films, height, width, 3) and/or overview strings (films, 1) and returns (films, 25) "
                    "probabilities; export.json beside it lists the genres and thresholds. A fusion is exported "
                    "as one graph running its parts; MiniLM exports need 'import tensorflow_text' before loading.")
    export.add_argument("--model", required=True, help="installed model name")
    export.add_argument("--out", required=True, help="output folder: new, empty, or an earlier export (replaced)")
    export.set_defaults(handler=command_export)

    report = commands.add_parser(
        "report", help="write one self-contained HTML report (dataset, results beside the baseline, training curves, "
                       "per-genre figures, sampled films, how it was made); opens offline, prints cleanly")
    report.add_argument("--data-dir", help=data_help)
    report.add_argument("--models", default="all", help="comma-separated model names, or 'all' (default)")
    report.add_argument("--split", default="test", choices=["test", "validation", "train", "all"],
                        help="split to evaluate (default test); the scores stored with each model are read "
                             "where they fit")
    report.add_argument("--sample", type=int, default=12, help="films shown with posters and answers (default 12)")
    report.add_argument("--seed", type=int, default=0, help="seed drawing the sampled films (default 0)")
    report.add_argument("--out", required=True, help="output .html file (a new or regular file), or - for stdout")
    report.set_defaults(handler=command_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors print one clear line and exit with status 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    except OSError as error:
        # A file system refusal (permissions, a full disk) is the user's to fix, not a crash.
        sys.stderr.write(f"error: {error.strerror or error}: {error.filename or ''}\n".replace(": \n", "\n"))
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130

"""The ``explain`` command: the films, posters and overviews it was asked about, and one JSON line per
film and model written as they are explained."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from genre_models.batch import (
    check_output_path,
    describe_output,
    encode_line,
    read_film_poster,
    write_output,
)
from genre_models.config import resolve_data_dir
from genre_models.console import (
    load_predictor,
    print_progress,
    report_dataset,
    report_skips,
    selected_model_names,
)
from genre_models.dataset import (
    ID_COLUMN,
    OVERVIEW_COLUMN,
    DatasetReport,
    decode_poster,
    locate_dataset,
    read_catalog,
)
from genre_models.inputs import POSTER


def explain_inputs(args: argparse.Namespace) -> tuple[list[tuple[str | None, object, str | None]], bool]:
    """Return the inputs ``explain`` was asked about as (id, poster pixels or None, overview or None),
    the poster replaced by why it is unusable (a str) for a dataset film, and whether the input was
    named (--film, --poster or --overview: a model that cannot read it is an error, not a skip)."""
    if args.poster:
        if args.data_dir:
            raise ValueError("--poster explains that file; leave --data-dir out (or give --film instead).")
        try:
            poster = decode_poster(Path(args.poster))
        except (ValueError, OSError) as error:
            raise ValueError(f"--poster {args.poster}: {error}") from error
        return [(args.poster, poster, args.overview)], True
    if args.overview is not None and not args.film:
        if args.data_dir:
            raise ValueError("--overview explains that text (alone, or with --film or --poster); "
                             "leave it out to explain every film of --data-dir.")
        return [(None, None, args.overview)], True
    folder = locate_dataset(resolve_data_dir(args.data_dir), progress=print_progress)
    report = DatasetReport()
    table, _ = read_catalog(folder, report, require_labels=False)
    report_dataset(report)
    films = list(zip(table[ID_COLUMN].tolist(), table[OVERVIEW_COLUMN].str.strip().tolist()))
    if args.film:
        films = [(film_id, overview) for film_id, overview in films if film_id == args.film.strip()]
        if not films:
            raise ValueError(f"No film {args.film!r} in {folder}.")
        if args.overview is not None:
            films = [(films[0][0], args.overview)]

    def poster_of(film_id: str):
        return read_film_poster(folder, film_id)

    # Posters are decoded one film at a time, as the lines are written.
    return [(film_id, poster_of, overview or None) for film_id, overview in films], bool(args.film)


def missing_inputs(model, poster, overview) -> str | None:
    """Return why a model cannot be explained on these inputs (a poster's problem, or the input not
    given), or None when it has what it reads."""
    if POSTER in model.input_kinds and not isinstance(poster, np.ndarray):
        return poster if isinstance(poster, str) else "no poster given"
    if "overview" in model.input_kinds and overview is None:
        return "no overview given"
    return None


def command_explain(args: argparse.Namespace) -> int:
    """Explain models' answers for dataset films or a given poster / overview; write JSON lines."""
    from genre_models.explain import Explainer

    check_output_path(args.out)
    predictor = load_predictor()
    named = selected_model_names(args.model)
    wanted = [predictor.get(name) for name in named or predictor.model_names()]
    if not wanted:
        raise ValueError("Name at least one model with --model (or 'all').")
    if args.genre is not None:
        for model in wanted:
            Explainer.genre_index(model, args.genre)
    films, single = explain_inputs(args)
    if single:
        film_id, poster, overview = films[0]
        films = [(film_id, poster(film_id) if callable(poster) else poster, overview)]
        for model in wanted if named is not None else []:
            reason = missing_inputs(model, films[0][1], overview)
            if reason:
                hint = "--poster or --film" if reason != "no overview given" else "--overview or --film"
                raise ValueError(f"{model.name} reads {' and '.join(sorted(model.input_kinds))}: {reason} "
                                 f"(give {hint}).")
    explainer = Explainer(predictor.models)
    skips: dict[str, dict[str, str]] = {}
    written = 0

    def write_lines(out_file) -> None:
        nonlocal written
        for number, (film_id, poster, overview) in enumerate(films, start=1):
            poster = poster(film_id) if callable(poster) else poster
            for model in wanted:
                reason = missing_inputs(model, poster, overview)
                if reason:
                    skips.setdefault(model.name, {})[str(film_id)] = reason
                    continue
                explanation = explainer.explain(model.name, poster=poster if POSTER in model.input_kinds else None,
                                                overview=overview if "overview" in model.input_kinds else None,
                                                genre=args.genre)
                line = explanation.to_record(film_id)
                out_file.write(encode_line(line))
                written += 1
            explainer.clear_cache()  # one film at a time: memory stays flat on large folders
            if len(films) > 1:
                print_progress(number, len(films), "explaining")

    write_output(args.out, write_lines)
    report_skips({model.name: skips.get(model.name, {}) for model in wanted})
    sys.stderr.write(f"wrote {written} explanation(s) for {len(films)} film(s) to {describe_output(args.out)}\n")
    return 0

"""Explanations: Grad-CAM heatmaps, word occlusion, exact TF-IDF contributions, fusion shares,
the ``explain`` command and the HTML the pages show.

Every registry model is checked on the tiny trained artifacts (tests/conftest.py: one epoch on 64
films); one real check runs on the shipped artifacts.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from conftest import read_rows, write_csv

from genre_models.cli import main
from genre_models.config import CSV_NAME, IMAGES_DIR_NAME, PROJECT_ROOT
from genre_models.explain import (
    MAX_HEATMAP_SIDE,
    UNIT_LOGIT,
    UNIT_PROBABILITY,
    Explainer,
    heatmap_size,
    hide_pixels,
    overlay_heatmap,
    remove_words,
    split_words,
)
from genre_models.models import MODEL_REGISTRY

# An overview with what tokenisers trip on: punctuation, a repeated word and bigram, extra spaces, a
# punctuation-only token, capitals, accents and a word no vocabulary has.
TRICKY = ("A ghost haunts the old house --  and the old house haunts   back. Café owners, "
          "Zzqxv-unknownword! GHOST night.")


def random_poster(rows: int, columns: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (rows, columns, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def tiny(tiny_trained):
    """An explainer over every tiny trained model."""
    from genre_models.artifacts import load_artifact

    return Explainer([load_artifact(result.artifact_dir, listed_as=name) for name, result in tiny_trained.items()])


@pytest.fixture(scope="module")
def real_film(real_data_dir):
    """A validation film of the real dataset: its decoded poster and its overview."""
    from genre_models.dataset import decode_poster, load_dataset

    dataset = load_dataset(real_data_dir, max_films=200)
    row = dataset.split_indices("validation")[0]
    return decode_poster(dataset.poster_path(dataset.ids[row])), str(dataset.overviews[row])


def logit(probability: float) -> float:
    return float(np.log(probability) - np.log1p(-probability))


def call_model(loaded, texts) -> np.ndarray:
    """The network's probabilities for texts, called directly (not through the explainer)."""
    import tensorflow as tf

    return np.asarray(loaded.model(tf.constant([[text] for text in texts]), training=False), dtype=np.float64)


# --- Every model of the registry ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(MODEL_REGISTRY))
def test_every_registry_model_is_explained(tiny, real_film, name):
    poster, overview = real_film
    loaded = tiny.get(name)
    explanation = tiny.explain(name, poster=poster, overview=overview)
    probabilities = tiny.probabilities(name, poster=poster, overview=overview)
    # The default genre is the model's top genre, with the probability the model gives it.
    assert explanation.genre == loaded.genres[int(np.argmax(probabilities))]
    assert explanation.probability == pytest.approx(probabilities.max(), abs=1e-5)
    reads_poster = "poster" in loaded.input_kinds
    reads_text = "overview" in loaded.input_kinds
    assert (explanation.heatmap is not None) == reads_poster
    assert (explanation.words is not None) == reads_text
    assert (explanation.shares is not None) == loaded.is_fusion
    record = explanation.to_record("tt0000001")
    assert set(record) == {"id", "model", "genre", "probability", "poster_heatmap", "words", "parts"}
    json.dumps(record)
    if reads_poster:
        assert explanation.heatmap.shape == poster.shape[:2]
        assert 0.0 <= explanation.heatmap.min() and explanation.heatmap.max() <= 1.0
    # Cached per (model, input, genre): asking again gives the same explanation back.
    assert tiny.explain(name, poster=poster, overview=overview, genre=explanation.genre) is explanation


def test_predictions_and_explanations_agree(tiny, real_film):
    from genre_models.inference import GenrePredictor

    poster, overview = real_film
    predictor = GenrePredictor(list(tiny._by_name.values()))
    for prediction in predictor.predict(poster=poster, overview=overview).predictions:
        explanation = tiny.explain(prediction.model, poster=poster, overview=overview)
        assert explanation.genre == prediction.top[0]
        assert explanation.probability == pytest.approx(prediction.probabilities[explanation.genre], abs=1e-5)


# --- Posters: Grad-CAM -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["course_cnn", "poster_cnn"])
@pytest.mark.parametrize("rows, columns", [(300, 150), (97, 61), (64, 200), (2000, 1100)])
def test_heatmap_has_the_posters_aspect_and_values_in_unit_range(tiny, name, rows, columns):
    poster = random_poster(rows, columns)
    heatmap = tiny.explain(name, poster=poster, genre="Drama").heatmap
    assert heatmap.dtype == np.float32 and np.isfinite(heatmap).all()
    assert heatmap.shape == heatmap_size(rows, columns)
    assert max(heatmap.shape) <= MAX_HEATMAP_SIDE
    assert heatmap.shape[0] / heatmap.shape[1] == pytest.approx(rows / columns, rel=0.01)
    assert heatmap.min() >= 0.0 and heatmap.max() <= 1.0
    assert heatmap.max() in (0.0, 1.0)  # scaled so that the hottest pixel is 1 (or nothing is hot)


def test_heatmap_size_keeps_the_poster_size_up_to_the_cap():
    assert heatmap_size(300, 150) == (300, 150)
    assert heatmap_size(4000, 2000) == (MAX_HEATMAP_SIDE, MAX_HEATMAP_SIDE // 2)
    assert heatmap_size(1, 5000) == (1, MAX_HEATMAP_SIDE)


def randomised(loaded, seed: int = 7):
    """The same network with freshly initialised (random) weights: Adebayo et al.'s model randomisation."""
    import keras

    keras.utils.set_random_seed(seed)
    clone = keras.models.clone_model(loaded.model)
    return dataclasses.replace(loaded, model=clone)


def hot_genre(explainer: Explainer, name: str, poster) -> str:
    """A genre whose Grad-CAM map is not zero everywhere for this poster."""
    for genre in explainer.get(name).genres:
        if explainer.explain(name, poster=poster, genre=genre).heatmap.max() > 0:
            return genre
    raise AssertionError(f"{name}: every genre's Grad-CAM map is zero")


def assert_maps_differ(first: np.ndarray, second: np.ndarray) -> None:
    if second.max() == 0:  # the randomised network finds nothing: certainly a different map
        return
    correlation = np.corrcoef(first.ravel(), second.ravel())[0, 1]
    assert correlation < 0.9 and np.abs(first - second).mean() > 0.05, correlation


@pytest.mark.parametrize("name", ["course_cnn", "poster_cnn"])
def test_heatmap_changes_when_the_weights_are_randomised(tiny, real_film, name):
    poster = real_film[0]
    genre = hot_genre(tiny, name, poster)
    trained = tiny.explain(name, poster=poster, genre=genre).heatmap
    scrambled = Explainer([randomised(tiny.get(name))]).explain(name, poster=poster, genre=genre).heatmap
    assert scrambled.shape == trained.shape
    assert_maps_differ(trained, scrambled)


def test_grad_cam_runs_with_augmentation_off(tiny, real_film):
    """poster_cnn holds random flips and shifts: the same poster must give the same heatmap every time."""
    poster = real_film[0]
    first = tiny.explain("poster_cnn", poster=poster, genre="Comedy").heatmap
    tiny.clear_cache()
    second = tiny.explain("poster_cnn", poster=poster, genre="Comedy").heatmap
    np.testing.assert_array_equal(first, second)


def test_overlay_and_hiding_helpers():
    poster = random_poster(40, 20)
    heatmap = np.linspace(0, 1, 40 * 20, dtype=np.float32).reshape(40, 20)
    np.testing.assert_array_equal(overlay_heatmap(poster, heatmap, 0.0), poster)
    assert overlay_heatmap(poster, heatmap[::2, ::2], 0.7).shape == poster.shape  # resized to the poster
    assert not np.array_equal(overlay_heatmap(poster, heatmap, 1.0), poster)
    mask = heatmap >= np.quantile(heatmap, 0.8)
    hidden = hide_pixels(poster, mask)
    np.testing.assert_array_equal(hidden[~mask], poster[~mask])
    assert (hidden[mask] == np.round(poster.reshape(-1, 3).mean(axis=0))).all()


# --- Overviews: words ---------------------------------------------------------------------------------------------

def test_words_are_the_users_words_with_their_spans():
    words, spans = split_words(TRICKY)
    assert words == TRICKY.split()
    assert [TRICKY[start:end] for start, end in spans] == words
    assert remove_words(TRICKY, spans, [0, 2]).split() == [w for i, w in enumerate(words) if i not in (0, 2)]


@pytest.mark.parametrize("name", ["course_lstm", "minilm_mlp", "minilm_tuned"])
def test_occlusion_weights_line_up_with_the_words(tiny, name):
    loaded = tiny.get(name)
    explanation = tiny.explain(name, overview=TRICKY, genre="Horror")
    assert explanation.words == TRICKY.split() and len(explanation.weights) == len(explanation.words)
    assert [explanation.text[start:end] for start, end in explanation.spans] == explanation.words
    assert explanation.weight_unit == UNIT_PROBABILITY
    # Each weight is the genre's probability minus its probability without that word.
    column = loaded.genres.index("Horror")
    for index in (0, 3, len(explanation.words) - 1):
        full, without = call_model(loaded, [TRICKY, remove_words(TRICKY, explanation.spans, [index])])[:, column]
        assert explanation.weights[index] == pytest.approx(full - without, abs=2e-5)
    assert explanation.probability == pytest.approx(call_model(loaded, [TRICKY])[0, column], abs=1e-5)


def test_occlusion_of_a_one_word_overview(tiny):
    explanation = tiny.explain("course_lstm", overview="  Vampires  ")
    assert explanation.words == ["Vampires"] and len(explanation.weights) == 1


@pytest.mark.parametrize("text", [TRICKY, "ghost", "the the the the", "Love, love & war: a story (1984)."])
def test_tfidf_contributions_sum_to_the_logit_minus_the_bias(tiny, text):
    loaded = tiny.get("tfidf_logreg")
    for genre in ("Drama", "Horror", "Comedy"):
        explanation = tiny.explain("tfidf_logreg", overview=text, genre=genre)
        assert explanation.weight_unit == UNIT_LOGIT and explanation.words == text.split()
        bias = float(np.asarray(loaded.model.get_layer("genres").bias)[loaded.genres.index(genre)])
        model_probability = call_model(loaded, [text])[0, loaded.genres.index(genre)]
        assert explanation.bias == pytest.approx(bias, abs=1e-6)
        assert explanation.logit == pytest.approx(logit(model_probability), abs=1e-4)
        assert explanation.weights.sum() == pytest.approx(explanation.logit - explanation.bias, abs=1e-6)


def test_tfidf_shares_a_repeated_word_equally_and_ignores_punctuation(tiny):
    explanation = tiny.explain("tfidf_logreg", overview="house -- house", genre="Horror")
    first, dash, second = explanation.weights
    assert dash == 0.0 and first == pytest.approx(second)


def test_shipped_models_real_check(real_film):
    """The shipped artifacts: heatmap shape and sanity check for course_cnn, exact TF-IDF sums, fused shares."""
    from genre_models.artifacts import load_all_artifacts

    poster, overview = real_film
    models, errors = load_all_artifacts(PROJECT_ROOT / "artifacts",
                                        names=["course_cnn", "course_lstm", "late_fusion", "tfidf_logreg"])
    assert not errors
    explainer = Explainer(models)
    genre = hot_genre(explainer, "course_cnn", poster)
    heatmap = explainer.explain("course_cnn", poster=poster, genre=genre).heatmap
    assert heatmap.shape == poster.shape[:2] and heatmap.max() == 1.0 and heatmap.min() >= 0.0
    scrambled = Explainer([randomised(explainer.get("course_cnn"))]).explain("course_cnn", poster=poster,
                                                                            genre=genre).heatmap
    assert_maps_differ(heatmap, scrambled)
    tfidf = explainer.explain("tfidf_logreg", overview=overview)
    assert tfidf.weights.sum() == pytest.approx(tfidf.logit - tfidf.bias, abs=1e-6)
    assert tfidf.probability == pytest.approx(explainer.probabilities("tfidf_logreg", overview=overview).max(),
                                              abs=1e-5)
    fused = explainer.explain("late_fusion", poster=poster, overview=overview)
    assert sum(fused.shares.values()) == pytest.approx(1.0)
    assert [part.model for part in fused.part_explanations] == ["course_cnn", "course_lstm"]


# --- Fused models ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["late_fusion", "multimodal_fusion", "text_ensemble"])
def test_fusion_shares_come_from_weights_and_part_scores(tiny, real_film, name):
    from genre_models.fusion import fuse_scores

    poster, overview = real_film
    loaded = tiny.get(name)
    explanation = tiny.explain(name, poster=poster, overview=overview, genre="Drama")
    parts = {part.name: part for part in explanation.parts}
    assert list(parts) == [part for part, _ in loaded.parts]
    weighted_sum = sum(weight * part.probability for weight, part in zip([w for _, w in loaded.parts], parts.values()))
    for part_name, weight in loaded.parts:
        part_probability = tiny.probabilities(part_name, poster=poster, overview=overview)[
            tiny.get(part_name).genres.index("Drama")]
        assert parts[part_name].weight == weight
        assert parts[part_name].probability == pytest.approx(part_probability, abs=1e-5)
        assert parts[part_name].share == pytest.approx(weight * part_probability / weighted_sum, abs=1e-5)
    # The fused probability is the fusion's own rule (mean of probabilities or of log-odds) of the parts'.
    weights = [weight for _, weight in loaded.parts]
    assert explanation.probability == pytest.approx(
        float(fuse_scores(weights, [p.probability for p in parts.values()], loaded.combine)))
    if loaded.combine == "probabilities":
        assert explanation.probability == pytest.approx(weighted_sum)
        assert explanation.pulls is None
    else:  # the inputs' pulls add up to the fused log-odds
        assert sum(explanation.pulls.values()) == pytest.approx(logit(explanation.probability), abs=1e-6)
    shares = explanation.shares
    assert shares["poster"] + shares["overview"] == pytest.approx(1.0)
    if all(tiny.get(part).input_kind == "overview" for part in parts):
        assert shares["poster"] == 0.0
    # The parts' own explanations, of the same genre.
    assert [(part.model, part.genre) for part in explanation.part_explanations] == [(p, "Drama") for p in parts]
    # Words: the fused probability's drop when the first word is removed, every text part scoring the text
    # without it (called directly), the poster parts unchanged.
    column = loaded.genres.index("Drama")
    without_first_word = remove_words(overview, explanation.spans, [0])
    scores_without = [call_model(tiny.get(part), [without_first_word])[0, column]
                      if tiny.get(part).input_kind == "overview" else parts[part].probability
                      for part, _ in loaded.parts]
    expected = explanation.probability - float(fuse_scores(weights, scores_without, loaded.combine))
    assert explanation.weights[0] == pytest.approx(expected, abs=2e-5)


# --- Refusals ----------------------------------------------------------------------------------------------------

def test_unknown_model_genre_or_missing_input_is_a_clear_error(tiny, real_film):
    poster, overview = real_film
    with pytest.raises(ValueError, match="no genre 'Cooking'"):
        tiny.explain("course_cnn", poster=poster, genre="Cooking")
    with pytest.raises(ValueError, match="No model named"):
        tiny.explain("no_such_model", poster=poster)
    with pytest.raises(ValueError, match="give a poster"):
        tiny.explain("late_fusion", overview=overview)
    with pytest.raises(ValueError, match="give a summary"):
        tiny.explain("course_lstm", poster=poster)
    with pytest.raises(ValueError, match="empty"):
        tiny.explain("tfidf_logreg", overview="   ")
    assert tiny.explain("tfidf_logreg", overview=overview, genre="drama").genre == "Drama"  # any case


# --- The explain command -----------------------------------------------------------------------------------------

@pytest.fixture
def few_films(small_real_dataset, tmp_path):
    """The first 3 films of the small real dataset, the second without its poster."""
    import shutil

    folder = tmp_path / "few"
    (folder / IMAGES_DIR_NAME).mkdir(parents=True)
    rows = read_rows(small_real_dataset / CSV_NAME)[:3]
    write_csv(folder / CSV_NAME, rows, list(rows[0]))
    for row in rows[::2]:
        name = f"{row['Id']}.jpg"
        shutil.copyfile(small_real_dataset / IMAGES_DIR_NAME / name, folder / IMAGES_DIR_NAME / name)
    return folder, rows


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_explain_command_writes_one_line_per_film_and_model(tiny_artifacts_dir, few_films, tmp_path, capsys):
    from genre_models.dataset import decode_poster

    folder, rows = few_films
    out = tmp_path / "why.jsonl"
    assert main(["explain", "--model", "all", "--data-dir", str(folder), "--out", str(out)]) == 0
    lines = read_jsonl(out)
    posterless = rows[1]["Id"]
    poster_readers = {name for name, spec in MODEL_REGISTRY.items() if spec.input_kind != "overview"}
    expected = {(row["Id"], name) for row in rows for name in MODEL_REGISTRY
                if not (row["Id"] == posterless and name in poster_readers)}
    assert {(line["id"], line["model"]) for line in lines} == expected and len(lines) == len(expected)
    overviews = {row["Id"]: row["Overview"] for row in rows}
    for line in lines:
        assert list(line) == ["id", "model", "genre", "probability", "poster_heatmap", "words", "parts"]
        spec = MODEL_REGISTRY[line["model"]]
        assert 0.0 <= line["probability"] <= 1.0
        if spec.input_kind == "overview" and not spec.is_fusion:
            assert line["poster_heatmap"] is None
        if spec.input_kind != "poster":
            assert [word["word"] for word in line["words"]] == overviews[line["id"]].split()
        else:
            assert line["words"] is None
        if line["poster_heatmap"] is not None:
            heatmap = np.array(line["poster_heatmap"])
            poster = decode_poster(folder / IMAGES_DIR_NAME / f"{line['id']}.jpg")
            assert heatmap.shape == poster.shape[:2] and heatmap.min() >= 0 and heatmap.max() <= 1
        assert (line["parts"] is not None) == spec.is_fusion
        if spec.is_fusion:
            assert set(line["parts"]) == {"poster", "overview"}
            assert sum(line["parts"].values()) == pytest.approx(1.0, abs=1e-5)
    assert "course_cnn: skipped 1 film(s): missing poster" in capsys.readouterr().err


def test_explain_command_one_film_genre_and_stdout(tiny_artifacts_dir, few_films, capsys):
    folder, rows = few_films
    film = rows[0]["Id"]
    assert main(["explain", "--model", "tfidf_logreg,course_cnn", "--data-dir", str(folder), "--film", film,
                 "--genre", "horror", "--out", "-"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["id"], line["model"], line["genre"]) for line in lines] == [
        (film, "tfidf_logreg", "Horror"), (film, "course_cnn", "Horror")]


def test_explain_command_poster_file_and_overview(tiny_artifacts_dir, few_films, capsys):
    folder, rows = few_films
    poster = folder / IMAGES_DIR_NAME / f"{rows[0]['Id']}.jpg"
    assert main(["explain", "--model", "late_fusion", "--poster", str(poster), "--overview",
                 "A cowboy rides into town.", "--out", "-"]) == 0
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["id"] == str(poster) and [w["word"] for w in line["words"]] == ["A", "cowboy", "rides", "into",
                                                                                 "town."]
    assert line["poster_heatmap"] and set(line["parts"]) == {"poster", "overview"}
    # A summary alone: only the models that read summaries, when every model is asked for.
    assert main(["explain", "--model", "all", "--overview", "A cowboy rides into town.", "--out", "-"]) == 0
    models = {json.loads(line)["model"] for line in capsys.readouterr().out.splitlines()}
    assert models == {name for name, spec in MODEL_REGISTRY.items() if spec.input_kind == "overview"}


@pytest.mark.parametrize("arguments, message", [
    (["--model", "course_cnn", "--film", "tt0000000"], "No film 'tt0000000'"),
    (["--model", "tfidf_logreg", "--overview", "x", "--genre", "Cooking"], "no genre 'Cooking'"),
    (["--model", "course_cnn", "--overview", "A ghost."], "course_cnn reads poster"),
    (["--model", "nope", "--overview", "A ghost."], "No shipped model named 'nope'"),
])
def test_explain_command_user_errors_exit_2_with_one_line(tiny_artifacts_dir, few_films, tmp_path, capsys,
                                                           arguments, message):
    folder, _ = few_films
    out = tmp_path / "never.jsonl"
    assert main(["explain", *arguments, "--data-dir", str(folder), "--out", str(out)]
                if "--film" in arguments else ["explain", *arguments, "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: ") and message in error
    assert not out.exists()


# --- What the pages show ------------------------------------------------------------------------------------------

def test_tinted_overview_html_escapes_the_words_and_tints_both_ways(tiny):
    from genre_app import explanations

    text = "<script>alert('x')</script> *bold* $x$ ghost & [link](http://e.x)"
    explanation = tiny.explain("tfidf_logreg", overview=text, genre="Horror")
    explanation = dataclasses.replace(explanation, weights=np.linspace(-1, 1, len(explanation.words)))
    html = explanations.tinted_overview_html(explanation)
    assert "<script>" not in html and "*bold*" not in html and "$x$" not in html and "](" not in html
    assert html.count('class="explained-word"') == len(explanation.words)
    assert "rgba(33, 102, 172, 0.80)" in html and "rgba(230, 97, 1, 0.80)" in html  # lowers / raises
    assert "ghost" in html and "&#60;script&#62;alert" in html
    legend = explanations.word_legend_html("Horror", explanation.weight_unit)
    assert "raises Horror" in legend and "lowers Horror" in legend and "logit" in legend


def test_a_long_summary_occludes_only_the_words_the_model_reads(real_film):
    from genre_models.artifacts import load_artifact
    from genre_models.inputs import MAX_OVERVIEW_CHARACTERS

    loaded = load_artifact(PROJECT_ROOT / "artifacts" / "course_lstm")
    explainer = Explainer([loaded])
    scored_texts = []
    score = explainer.score

    def count_and_score(model, texts):
        scored_texts.extend(texts if model.input_kind != "poster" else [])
        return score(model, texts)

    explainer.score = count_and_score
    text = " ".join([real_film[1]] * 60)[:MAX_OVERVIEW_CHARACTERS]
    words = split_words(text)[0]
    explanation = explainer.explain("course_lstm", overview=text, genre="Drama")
    notes = [note for note in explanation.notes if f"words (its input has a fixed length)" in note]
    read = int(notes[0].split("reads only the first ")[1].split()[0])
    # course_lstm reads 64 tokens; a word that is only punctuation is no token.
    assert len(words) > 500 and 64 <= read < 80
    assert np.all(explanation.weights[read:] == 0)
    # One variant per word read, the whole text, and a bisection of the prefixes: not one per word.
    assert len(scored_texts) <= read + 2 + int(np.ceil(np.log2(len(words))))
    # Removing a word after those it reads changes nothing; removing a read one is what its weight says.
    column = loaded.genres.index("Drama")
    full = call_model(loaded, [text])[0, column]
    for index in (0, len(words) - 1):
        without = call_model(loaded, [remove_words(text, explanation.spans, [index])])[0, column]
        assert explanation.weights[index] == pytest.approx(full - without, abs=2e-5)

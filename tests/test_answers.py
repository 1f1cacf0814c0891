"""genre_app/answers.py: the recommended model, answers in plain words, hit badges without emoji,
the course models beside the baseline, the answer in words (each genre with its own bar), and an indecisive
answer doubted. The reading itself: tests/test_readings.py."""

from __future__ import annotations

import json

import pytest

from genre_app import answers
from genre_models.config import PROJECT_ROOT
from genre_models.inference import ModelPrediction

ARTIFACTS = PROJECT_ROOT / "artifacts"


def prediction(model: str, kind: str, probabilities: dict[str, float], predicted: list[str]) -> ModelPrediction:
    top = sorted(probabilities, key=lambda g: -probabilities[g])[:3]
    return ModelPrediction(model, kind, probabilities, top, predicted)


def shipped_metadata() -> dict[str, dict]:
    return {folder.name: json.loads((folder / "metadata.json").read_text())
            for folder in ARTIFACTS.iterdir() if (folder / "metadata.json").is_file()}


PROBABILITIES = {"Drama": 0.72, "Romance": 0.41, "Comedy": 0.30, "Horror": 0.02}


@pytest.mark.parametrize("kinds, expected", [
    (("poster", "overview", "both"), "multimodal_fusion"),  # both inputs: the best fused model
    (("overview",), "text_ensemble"),  # a summary only: the best text model
    (("poster",), "poster_effnet"),  # a poster only: the best poster model
])
def test_the_recommended_model_is_the_best_by_validation_macro_ap_for_the_inputs(kinds, expected):
    metadata = shipped_metadata()
    answered = [prediction(name, m["input_kind"], PROBABILITIES, ["Drama"]) for name, m in metadata.items()
                if m["input_kind"] in kinds]
    assert answers.recommend(answered, metadata, both_given="both" in kinds).model == expected


def test_without_a_fused_answer_the_best_single_input_model_leads():
    metadata = shipped_metadata()
    answered = [prediction(name, "overview", PROBABILITIES, []) for name in ("course_lstm", "minilm_tuned")]
    assert answers.recommend(answered, metadata, both_given=True).model == "minilm_tuned"
    assert answers.recommend([], metadata, both_given=False) is None


def test_pages_open_on_the_model_with_the_best_validation_macro_ap():
    metadata = shipped_metadata()
    assert answers.recommended_name(sorted(metadata), metadata) == "multimodal_fusion"
    # A model without recorded validation figures never wins; no model, no choice.
    assert answers.recommended_name(["course_cnn", "mystery"], {"course_cnn": metadata["course_cnn"]}) == "course_cnn"
    assert answers.recommended_name([], metadata) is None


THRESHOLDS = {"Drama": 0.52, "Romance": 0.30, "Comedy": 0.35, "Horror": 0.01}


def test_the_plain_answer_names_each_genre_with_its_bar_most_likely_first():
    said = answers.plain_answer(prediction("m", "overview", PROBABILITIES, []), THRESHOLDS)
    assert said == ("**Drama** 72% (over its 52% bar), **Romance** 41% (over its 30% bar), Comedy 30% (under its "
                    "35% bar) and **Horror** 2% (over its 1% bar)")


def test_genre_names_are_shown_as_text_never_as_markdown():
    odd = "![x](https://example.invalid/beacon.png)"
    assert "](" not in answers.hit_badges([odd], {odd}) and "](" not in answers.hit_badges([odd], None)
    said = answers.plain_answer(prediction("m", "overview", {odd: 0.9}, []), [0.5])
    assert "![x](" not in said and "\\!\\[x\\]" in said


def test_an_example_button_names_the_films_genres_and_the_start_of_its_summary_in_short_lines():
    from genre_models.examples import EXAMPLES_DIR, load_examples

    for example in load_examples(EXAMPLES_DIR).examples:
        lines = answers.example_button_label(example).split("\n")
        assert lines[0] == ", ".join(example.genres) and 2 <= len(lines) <= 4
        assert " ".join(lines[1:]).rstrip("…") == " ".join(example.overview.split()[:answers.EXAMPLE_BUTTON_WORDS])
        assert all(len(line) <= answers.EXAMPLE_BUTTON_LINE for line in lines[1:])


def test_hits_are_text_colour_and_a_badge_never_emoji():
    marked = answers.hit_badges(["Drama", "Horror"], {"Drama", "Mystery", "Adventure"})
    # A wrong guess is "wrong"; a true genre left out is named as "missed".
    assert marked == (":green-badge[**hit** · Drama] :gray-badge[wrong · Horror] "
                      ":orange-badge[missed · Adventure] :orange-badge[missed · Mystery]")
    assert answers.hit_badges(["Drama"], {"Drama"}) == ":green-badge[**hit** · Drama]"
    assert answers.hit_badges(["Drama"], None) == "Drama"


def test_course_models_are_shown_beside_the_always_comedy_and_drama_baseline():
    baseline = json.loads((ARTIFACTS / "baselines.json").read_text())["genre_frequency"]
    course_cnn = shipped_metadata()["course_cnn"]
    said = answers.baseline_comparison(course_cnn, baseline)
    test = course_cnn["metrics"]["test"]
    assert said == (f"test micro-F1 {test['micro_f1']:.2f} and macro-F1 {test['macro_f1']:.2f}; "
                    f"answering always Comedy + Drama scores {baseline['metrics']['test']['micro_f1']:.2f} and "
                    f"{baseline['metrics']['test']['macro_f1']:.2f}")
    assert said.startswith("test micro-F1 0.46 and macro-F1 0.24")
    assert set(answers.COURSE_MODELS) <= set(shipped_metadata())


def test_fused_models_missing_an_input_are_named():
    class Fusion:
        is_fusion = True

        def __init__(self, name, kinds):
            self.name, self.input_kinds = name, kinds

    models = [Fusion("late_fusion", {"poster", "overview"}), Fusion("text_ensemble", {"overview"})]
    assert answers.skipped_fusions(models, {"overview"}) == ["late_fusion"]
    assert answers.skipped_fusions(models, {"poster", "overview"}) == []


def test_an_answer_at_the_base_rates_is_low_confidence():
    from genre_models.split_scores import read_split_scores

    metadata = shipped_metadata()["minilm_tuned"]
    stored = read_split_scores(ARTIFACTS / "minilm_tuned", metadata, "validation")
    reference = answers.reference_from_scores(stored.labels, stored.scores)
    flat = prediction("minilm_tuned", "overview", dict(zip(metadata["genres"], reference.base_rates)), [])
    assert answers.answer_doubts(flat, reference) and "less decisive" in answers.answer_doubts(flat, reference)[0]
    decisive = prediction("minilm_tuned", "overview", dict(zip(metadata["genres"], stored.scores[0])), [])
    # Most validation films are more decisive than the 5% quantile.
    flagged = sum(bool(answers.answer_doubts(
        prediction("m", "overview", dict(zip(metadata["genres"], row)), []), reference)) for row in stored.scores)
    assert flagged <= 0.06 * len(stored.scores)
    assert answers.answer_doubts(decisive, None) == []

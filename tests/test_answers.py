"""genre_app/answers.py: the recommended model, answers in plain words, hit badges without emoji,
the course models beside the baseline, and the reasons to doubt an answer."""

from __future__ import annotations

import json

import numpy as np
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
    (("poster",), "poster_cnn"),  # a poster only: the best poster model
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


def test_the_plain_answer_leads_with_the_genres_over_threshold_ranked_with_percentages():
    said = answers.plain_answer(prediction("m", "overview", PROBABILITIES, ["Romance", "Drama"]))
    assert said == "**Drama** (72%) and **Romance** (41%); next most likely **Comedy** (30%)"
    # A genre over its (low) threshold is in the answer even when it is not in the top 3.
    said = answers.plain_answer(prediction("m", "overview", PROBABILITIES, ["Horror"]))
    assert said.startswith("**Horror** (2%); next most likely **Drama** (72%) and **Romance** (41%)")
    said = answers.plain_answer(prediction("m", "overview", PROBABILITIES, []))
    assert said == "no genre reaches its threshold; the most likely are **Drama** (72%), **Romance** (41%) and " \
                   "**Comedy** (30%)"


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


def test_gibberish_and_overlong_summaries_are_doubted_real_ones_are_not():
    rng = np.random.default_rng(0)
    gibberish = " ".join("".join(rng.choice(list("qwrtzpsdfghjklxcvbnm"), 7)) for _ in range(980))  # ~7,800 chars
    doubts = answers.overview_doubts(gibberish)
    assert any("980 words" in d for d in doubts) and any("ordinary English words" in d for d in doubts)
    assert answers.overview_doubts("A retired hitman is pulled back in for one last job in Tokyo.") == []


def test_a_plain_gradient_is_doubted_as_a_poster_a_detailed_image_is_not():
    gradient = np.tile(np.linspace(0, 255, 300, dtype=np.uint8)[None, :, None], (450, 1, 3))
    assert answers.poster_doubts(gradient)
    noisy = np.random.default_rng(0).integers(0, 256, (450, 300, 3), dtype=np.uint8)
    assert answers.poster_doubts(noisy) == []


def test_dataset_posters_and_summaries_are_not_doubted(real_data_dir):
    from genre_models.dataset import load_dataset

    dataset = load_dataset(real_data_dir, image_size=(64, 64))
    test = dataset.split_indices("test")
    doubted_posters = sum(bool(answers.poster_doubts(dataset.posters[row])) for row in test)
    doubted_texts = sum(bool(answers.overview_doubts(str(dataset.overviews[row]))) for row in test)
    assert doubted_posters <= 0.01 * len(test) and doubted_texts <= 0.01 * len(test)


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

"""Single-film prediction from PIL images, bytes and strings."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

from genre_models.inference import GenrePredictor
from genre_models.inputs import (
    MAX_OVERVIEW_CHARACTERS,
    prepare_overview,
    prepare_poster,
)
from genre_models.models import MODEL_REGISTRY


@pytest.fixture(scope="module")
def predictor(tiny_trained):
    root = next(iter(tiny_trained.values())).artifact_dir.parent
    return GenrePredictor.from_artifacts(root)


def png_bytes(mode="RGB", size=(40, 80)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color=0).save(buffer, format="PNG")
    return buffer.getvalue()


def test_poster_and_overview_go_to_their_models(predictor):
    image = Image.new("RGB", (150, 300), color=(200, 30, 30))
    result = predictor.predict(poster=image, overview="Aliens invade a small town.")
    assert {p.model for p in result.predictions} == set(MODEL_REGISTRY)
    only_text = predictor.predict(overview="A love story in Paris.")
    assert {p.input_kind for p in only_text.predictions} == {"overview"}
    only_poster = predictor.predict(poster=png_bytes())
    assert {p.model for p in only_poster.predictions} == {
        name for name, spec in MODEL_REGISTRY.items() if spec.input_kind == "poster"}


def test_single_prediction_matches_batch_scoring(predictor):
    from genre_models.scoring import score_inputs

    cnn = predictor.get("course_cnn")
    poster = np.random.default_rng(1).integers(0, 256, (300, 150, 3), dtype=np.uint8)
    single = predictor.score_one(cnn, poster)
    batch = score_inputs(cnn.model, poster[None])[0]
    # Traced and eager oneDNN kernels round differently in the last digits.
    np.testing.assert_allclose(single, batch, atol=1e-4)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK", "I;16"])
def test_odd_image_modes_are_converted(mode):
    image = Image.new(mode, (10, 20))
    assert prepare_poster(image).shape == (20, 10, 3)


def test_bad_inputs_raise_value_errors_with_plain_messages(predictor):
    with pytest.raises(ValueError, match="empty"):
        predictor.predict(overview="   \n ")
    with pytest.raises(ValueError, match="poster, a summary"):
        predictor.predict()
    with pytest.raises(ValueError, match="not a readable image"):
        predictor.predict(poster=b"definitely not an image")
    with pytest.raises(ValueError, match="empty"):
        predictor.predict(poster=b"")


def test_long_and_odd_text_is_handled(predictor):
    text, truncated = prepare_overview("word " * 300_000)
    assert truncated and len(text) == MAX_OVERVIEW_CHARACTERS
    result = predictor.predict(overview="\u202eevil\u202c 🎬 \ud800 control\x00chars")
    assert result.predictions
    long_result = predictor.predict(overview="word " * 300_000)
    assert any("cut" in note for note in long_result.notes)


FUSIONS = sorted(name for name, spec in MODEL_REGISTRY.items() if spec.builder is None)


@pytest.mark.parametrize("name", FUSIONS)
def test_fused_prediction_is_the_weighted_sum_of_its_components(predictor, name):
    """A fusion of probabilities answers their weighted sum; a fusion of log-odds the sigmoid of the
    weighted sum of the parts' log-odds (computed here by hand, not through genre_models.fusion)."""
    image = Image.new("RGB", (150, 300), color=(20, 30, 200))
    result = {p.model: p for p in predictor.predict(poster=image, overview="A heist goes wrong.").predictions}
    fusion = predictor.get(name)
    parts = [(part["name"], part["weight"]) for part in fusion.metadata["components"]]
    combine = fusion.metadata["recipe"].get("combine", "probabilities")
    for genre, probability in result[name].probabilities.items():
        if combine == "logits":
            log_odds = sum(weight * math.log(p / (1 - p)) for part, weight in parts
                           for p in [min(max(result[part].probabilities[genre], 1e-6), 1 - 1e-6)])
            expected = 1 / (1 + math.exp(-log_odds))
        else:
            expected = sum(weight * result[part].probabilities[genre] for part, weight in parts)
        assert probability == pytest.approx(expected, abs=1e-6)


def test_a_fusion_needing_both_inputs_answers_only_when_both_are_given(predictor):
    only_text = {p.model for p in predictor.predict(overview="A heist goes wrong.").predictions}
    assert "late_fusion" not in only_text and "multimodal_fusion" not in only_text
    assert "text_ensemble" in only_text  # its components all read the overview


def test_fusion_whose_component_was_retrained_is_reported_not_used(tiny_trained):
    from genre_models.artifacts import load_all_artifacts

    models, errors = load_all_artifacts(next(iter(tiny_trained.values())).artifact_dir.parent)
    for loaded in models:
        if loaded.name == "course_cnn":
            loaded.metadata = {**loaded.metadata, "created_at": "later"}
    stale = GenrePredictor(models, errors)
    assert "late_fusion" not in stale.model_names()
    assert "retrained" in stale.load_errors["late_fusion"]

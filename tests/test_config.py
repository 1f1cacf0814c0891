"""Typed settings: TrainConfig round-trips through JSON (page -> worker), the read-only switch is strict."""

from __future__ import annotations

import json

import pytest

from genre_models.config import PosterRecipe, TrainConfig, read_only_reason
from genre_models.models import MODEL_REGISTRY


def test_train_config_round_trips_through_json():
    config = TrainConfig("poster_cnn", epochs=3, learning_rate=1e-3, image_size=(64, 32), train_fraction=0.5)
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@pytest.mark.parametrize("payload, message", [
    ({"model_name": "course_cnn", "epochs": "3"}, "epochs"),
    ({"model_name": "course_cnn", "learning_rate": "fast"}, "learning_rate"),
    ({"model_name": "course_cnn", "epochs": True}, "epochs"),
    ({"model_name": "course_cnn", "colour": "red"}, "colour"),
    ({"epochs": 3}, "model_name"),
    (["course_cnn"], "model_name"),
])
def test_a_mistyped_or_unknown_setting_is_refused_by_name(payload, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig.from_dict(payload)


def test_every_registry_recipe_is_typed_by_family():
    assert all(type(spec.defaults).__name__.endswith("Recipe") for spec in MODEL_REGISTRY.values())
    assert isinstance(MODEL_REGISTRY["poster_cnn"].defaults, PosterRecipe)
    assert MODEL_REGISTRY["minilm_tuned"].encoder == "minilm" and MODEL_REGISTRY["course_lstm"].encoder is None
    assert {name for name, spec in MODEL_REGISTRY.items() if spec.is_fusion} == {
        "late_fusion", "text_ensemble", "multimodal_fusion"}


@pytest.mark.parametrize("variable, value, read_only", [
    ("GENRE_READ_ONLY", "1", True), ("GENRE_READ_ONLY", "TRUE", True), ("GENRE_READ_ONLY", "0", False),
    ("GENRE_READ_ONLY", "perhaps", True), ("GENRE_TRAINING_ENABLED", "0", True),
    ("GENRE_TRAINING_ENABLED", "disabled", True), ("GENRE_TRAINING_ENABLED", "yes", False),
])
def test_the_read_only_switch_is_parsed_strictly_and_fails_safe(variable, value, read_only, monkeypatch):
    monkeypatch.delenv("GENRE_READ_ONLY", raising=False)
    monkeypatch.delenv("GENRE_TRAINING_ENABLED", raising=False)
    monkeypatch.setenv(variable, value)
    assert (read_only_reason() is not None) == read_only

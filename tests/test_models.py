"""Every registry model: builds, takes raw inputs, outputs one probability per genre."""

from __future__ import annotations

import numpy as np
import pytest

from genre_models.models import MODEL_REGISTRY, POSTER, build_model, get_model_spec

TEXTS = np.array(["a hero fights crime in the city", "two lovers meet in paris", "a haunted house at night"] * 4,
                 dtype=object)


def tiny_batch(input_kind: str):
    """Raw inputs as users give them: uint8 posters of an arbitrary size, or plain strings."""
    import tensorflow as tf

    if input_kind == POSTER:
        return tf.constant(np.random.default_rng(0).integers(0, 256, (2, 300, 150, 3), dtype=np.uint8))
    return tf.constant([["a hero fights crime"], ["an unseen wordzzz"]])


NETWORKS = sorted(name for name, spec in MODEL_REGISTRY.items() if spec.builder is not None)


@pytest.mark.parametrize("name", NETWORKS)
def test_forward_pass_on_a_tiny_batch(name):
    spec = MODEL_REGISTRY[name]
    model = build_model(spec, num_genres=7, training_texts=TEXTS)
    served = model
    if spec.encoder and spec.input_kind == POSTER:
        from genre_models.encoders import ENCODERS, wrap_with_encoder
        from genre_models.image_encoder import embed_posters

        # Served as encoder + head on raw posters; trained on the encoder's cached pooled features,
        # which the served model reproduces: the same layers and weights, up to round-off (the cache is
        # computed in a traced graph whose fused convolution and normalisation round differently from
        # eager calls: pooled features differ by ~1e-3 of their size on noise images).
        image_size = spec.defaults.image_size
        served = wrap_with_encoder(model, {"name": spec.encoder, "image_size": list(image_size)})
        posters = np.asarray(tiny_batch(POSTER))
        training_inputs = embed_posters(ENCODERS[spec.encoder]["variant"], posters, image_size)
        np.testing.assert_allclose(np.asarray(served(posters, training=False)),
                                   np.asarray(model(training_inputs, training=False)), atol=2e-3)
    elif spec.encoder:
        from genre_models.encoder_cache import encode_for_training
        from genre_models.encoders import wrap_with_encoder

        # Served as encoder + network on raw strings; trained on the encoder's cached output.
        tuned_layers = spec.defaults.tuned_layers
        served = wrap_with_encoder(model, {"name": spec.encoder, "tuned_layers": tuned_layers})
        training_inputs, _ = encode_for_training(spec.encoder, tuned_layers,
                                                 np.array(["a hero fights crime", "an unseen wordzzz"]))
        if isinstance(training_inputs, dict):
            training_inputs = {key: value.astype("float32") if value.dtype == np.float16 else value
                               for key, value in training_inputs.items()}
    else:
        training_inputs = tiny_batch(spec.input_kind)
    outputs = np.asarray(served(tiny_batch(spec.input_kind), training=False))
    assert outputs.shape == (2, 7)
    assert np.all((outputs >= 0) & (outputs <= 1))
    # One training step runs and produces a finite loss.
    logs = model.train_on_batch(training_inputs, np.eye(7)[:2].astype("float32"), return_dict=True)
    assert np.isfinite(logs["loss"])


def test_course_cnn_is_the_course_architecture():
    model = build_model(get_model_spec("course_cnn"), num_genres=25)
    convolutions = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert [layer.filters for layer in convolutions] == [16, 32, 32, 64, 64, 128, 128]
    assert convolutions[0].strides == (2, 2)
    dense = [layer.units for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert dense == [1024, 1024, 25]
    dropouts = [layer.rate for layer in model.layers if layer.__class__.__name__ == "Dropout"]
    assert dropouts == [0.2, 0.2, 0.2, 0.2, 0.5, 0.5]
    assert model.get_layer("resize").output.shape[1:3] == (64, 64)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-4)


def test_course_lstm_is_the_course_architecture():
    model = build_model(get_model_spec("course_lstm"), num_genres=25, training_texts=TEXTS)
    kinds = [layer.__class__.__name__ for layer in model.layers]
    assert kinds == ["InputLayer", "TextVectorization", "Embedding", "Bidirectional", "Bidirectional",
                     "Dense", "Dropout", "Dense"]
    embedding = model.layers[2]
    assert embedding.output_dim == 256 and embedding.mask_zero
    first, second = model.layers[3].forward_layer, model.layers[4].forward_layer
    assert (first.units, first.return_sequences, first.dropout, first.recurrent_dropout) == (256, True, 0.5, 0.2)
    assert (second.units, second.dropout, second.recurrent_dropout) == (128, 0.5, 0.2)
    assert model.layers[6].rate == 0.8
    assert get_model_spec("course_lstm").defaults.vocabulary_size == 10_000


def test_unknown_model_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="course_cnn"):
        get_model_spec("resnet9000")


def test_text_model_without_training_texts_is_refused():
    with pytest.raises(ValueError, match="vocabulary"):
        build_model(get_model_spec("course_lstm"), num_genres=3)


def test_fused_model_has_no_network_of_its_own():
    # Its forward pass (weighted mean of its components) is tested in test_inference.
    with pytest.raises(ValueError, match="fitted from other artifacts"):
        build_model(get_model_spec("late_fusion"), num_genres=3)


def test_tfidf_keeps_terms_of_two_or_more_overviews_and_ignores_the_rest():
    import dataclasses

    spec = get_model_spec("tfidf_logreg")
    texts = np.array(["a hero fights crime", "a hero saves the city", "lonely words here"], dtype=object)
    model = build_model(spec, num_genres=3, training_texts=texts)
    vocabulary = model.get_layer("vectorize").get_vocabulary()
    # "a", "hero" and the pair "a hero" appear in two overviews; everything else once.
    assert sorted(term for term in vocabulary if term != "[UNK]") == ["a", "a hero", "hero"]
    # Terms outside the vocabulary weigh nothing: an overview of them scores like an empty one.
    import tensorflow as tf

    unseen, empty = np.asarray(model(tf.constant([["lonely words here"], [""]])))
    np.testing.assert_allclose(unseen, empty, atol=1e-7)
    # With every term kept, the once-seen words count.
    everything = dataclasses.replace(spec, defaults=dataclasses.replace(spec.defaults, min_document_frequency=1))
    model = build_model(everything, num_genres=3, training_texts=texts)
    assert "lonely" in model.get_layer("vectorize").get_vocabulary()


def test_tfidf_with_no_term_frequent_enough_is_refused_clearly():
    spec = get_model_spec("tfidf_logreg")
    with pytest.raises(ValueError, match="No term appears in 2 training overviews"):
        build_model(spec, num_genres=3, training_texts=np.array(["one", "two"], dtype=object))

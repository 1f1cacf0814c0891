"""Charts of the app (genre_app.charts): figures carry the numbers they claim to show."""

from __future__ import annotations

import numpy as np

from genre_app import charts
from genre_models.dataset import load_dataset


def test_cooccurrence_counts_pairs_and_leaves_the_diagonal_blank(synthetic_dataset):
    dataset = load_dataset(synthetic_dataset)
    matrix = np.array(charts.plot_cooccurrence(dataset).data[0].z, dtype=float)
    labels = dataset.labels.astype(int)
    first, second = 0, 1
    both = int(np.sum(labels[:, first] & labels[:, second]))
    assert matrix.shape == (len(dataset.genres), len(dataset.genres))
    assert matrix[first, second] == matrix[second, first] == both
    # A genre with itself is its film count, drawn in the bars instead; here it would set the scale.
    assert np.isnan(np.diag(matrix)).all()
    assert np.nansum(matrix) == np.sum(labels.T @ labels) - np.sum(labels)

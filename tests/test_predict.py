"""genre_app/predict.py without a browser: where an addressed film is found, an address quoted safely, both
inputs empty refused naming both, and the inputs' fingerprint (the page itself: tests/test_page_predict.py)."""

from __future__ import annotations

import numpy as np
import pytest

from genre_app import predict


def test_an_addressed_film_is_looked_for_in_the_dataset_first_then_the_examples():
    assert predict.locate_film("tt1", True, ["tt1"], True) == (predict.FROM_DATASET, None)
    assert predict.locate_film("tt1", False, ["tt1"], True) == (predict.FROM_EXAMPLES, None)
    kind, problem = predict.locate_film("tt9", False, ["tt1"], False)
    assert kind is None and "`tt9`" in problem and "no dataset is configured" in problem
    assert "in the dataset or among the examples" in predict.locate_film("tt9", False, [], True)[1]


def test_an_address_value_is_quoted_short_without_backticks_or_control_characters():
    assert predict.quote_address_value("a`b\x00c") == "`a'bc`"
    assert predict.quote_address_value("x" * 200) == "`" + "x" * predict.MAX_QUOTED_ADDRESS + "…`"
    assert predict.quote_address_value("  ") == "(an empty Id)"


def test_both_inputs_empty_are_refused_naming_both():
    with pytest.raises(ValueError, match="both inputs are empty: upload a poster, type a plot summary"):
        predict.check_given(None, None, "  ")
    predict.check_given(None, b"bytes", None)
    predict.check_given(np.zeros((4, 4, 3), np.uint8), None, None)
    predict.check_given(None, None, "A plot.")


def test_the_fingerprint_changes_with_any_input():
    first = predict.Inputs(predict.SOURCES[0], overview="A plot.")
    assert first.fingerprint() == predict.Inputs(predict.SOURCES[0], overview="A plot.").fingerprint()
    assert first.fingerprint() != predict.Inputs(predict.SOURCES[0], overview="Another plot.").fingerprint()
    assert first.fingerprint() != predict.Inputs(predict.SOURCES[0], upload=b"x", overview="A plot.").fingerprint()

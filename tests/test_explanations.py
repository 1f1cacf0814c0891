"""The explanations view (genre_app.explanations): "Why?" in plain words (which words and which part of the
poster pushed towards the genre, which input pushed harder in a fused model). The tinted overview's HTML is
checked with real explanations in tests/test_explain.py."""

from __future__ import annotations

import numpy as np

from genre_app import explanations
from genre_models.explain.results import Explanation, PartShare


def word_explanation(words, weights, genre="Horror", model="text") -> Explanation:
    return Explanation(model=model, input_kind="overview", genre=genre, probability=0.7, method="occlusion",
                       text=" ".join(words), words=list(words), spans=[], weights=np.array(weights, dtype=float),
                       weight_unit="probability")


def poster_explanation(heatmap, genre="Horror") -> Explanation:
    return Explanation(model="poster", input_kind="poster", genre=genre, probability=0.6, method="Grad-CAM",
                       heatmap=np.asarray(heatmap, dtype=float))


def test_the_words_that_pushed_each_way_are_named_strongest_first():
    explained = word_explanation(["a", "ghost", "haunts", "the", "happy", "house", "blood"],
                                 [0.0, 0.30, 0.10, 0.0, -0.20, 0.05, 0.25])
    lines = explanations.plain_reasons(explained)
    assert lines[0] == "Words of the summary that pushed towards Horror: \u201cghost\u201d, \u201cblood\u201d and " \
                       "\u201chaunts\u201d."
    assert lines[1] == "Words that pushed away from Horror: \u201chappy\u201d."
    silent = explanations.plain_reasons(word_explanation(["a", "b"], [0.0, 0.0]))
    assert silent == ["No single word of the summary changed Horror's probability."]


def test_the_hottest_part_of_the_poster_is_named_in_words():
    heatmap = np.zeros((90, 60))
    heatmap[:30, 40:] = 1.0
    assert explanations.plain_reasons(poster_explanation(heatmap)) == [
        "In the poster, the top right pushed most towards Horror."]
    centre = np.zeros((90, 60))
    centre[30:60, 20:40] = 1.0
    assert explanations.hottest_part(centre) == "the centre"


def test_a_fused_model_says_which_input_pushed_harder_and_gives_its_parts_reasons():
    parts = [PartShare("poster", "poster", 1.0, 0.3, 0.2), PartShare("text", "overview", 1.0, 0.9, 0.8)]
    heatmap = np.zeros((90, 60))
    heatmap[60:, :20] = 1.0
    fused = Explanation(model="fusion", input_kind="both", genre="Horror", probability=0.8, method="fusion",
                        parts=parts, combine="logits",
                        part_explanations=[poster_explanation(heatmap), word_explanation(["ghost"], [0.4])])
    lines = explanations.plain_reasons(fused)
    assert lines[0] == "The poster pushed away from Horror and the summary towards it; the summary pushed harder."
    assert "Words of the summary that pushed towards Horror: \u201cghost\u201d." in lines
    assert "In the poster, the bottom left pushed most towards Horror." in lines
    together = Explanation(model="fusion", input_kind="both", genre="Horror", probability=0.8, method="fusion",
                           parts=[PartShare("poster", "poster", 1.0, 0.7, 0.4), parts[1]], combine="logits")
    assert explanations.plain_reasons(together)[0] == ("The poster and the summary both pushed towards Horror; the "
                                                       "summary pushed harder.")
    shared = Explanation(model="fusion", input_kind="both", genre="Horror", probability=0.8, method="fusion",
                         parts=parts, combine="probabilities")
    assert explanations.plain_reasons(shared)[0] == "The summary brought most of Horror's probability (80% of it)."

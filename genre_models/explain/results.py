"""What an explanation is: its method, units, word weights, poster heatmap and a fusion's shares."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from genre_models.inputs import OVERVIEW, POSTER
from genre_models.metrics import compute_log_odds

# Methods, as named in explanations and the UI.
METHOD_GRAD_CAM = "Grad-CAM"

METHOD_OCCLUSION = "leave-one-word-out occlusion"

METHOD_LINEAR = "exact TF-IDF contributions"

METHOD_FUSION = "fusion"

# Units of the word weights.
UNIT_PROBABILITY = "probability"  # the genre's probability minus its probability without the word

UNIT_LOGIT = "logit"  # the word's share of the logit (logit minus bias, summed over words)

@dataclass
class PartShare:
    """One part of a fused model and what it brought to the explained genre."""

    # Part (model) name.
    name: str
    # POSTER or OVERVIEW.
    input_kind: str
    # Its fusion weight.
    weight: float
    # The part's own probability for the genre.
    probability: float
    # weight x probability / the parts' sum of weight x probability (the shares sum to 1; for a fusion
    # of probabilities that sum is the fused probability).
    share: float

@dataclass
class Explanation:
    """Why one model gave one genre its probability for one input."""

    # Model name.
    model: str
    # POSTER, OVERVIEW or BOTH.
    input_kind: str
    # The explained genre.
    genre: str
    # The model's probability for it.
    probability: float
    # How it was explained (METHOD_*).
    method: str
    # Heat per poster pixel, (rows, columns) in [0, 1], the poster's aspect; None without a poster.
    heatmap: np.ndarray | None = None
    # The overview as the model read it (trimmed); None without an overview.
    text: str | None = None
    # Its words in order, their (start, end) character spans in ``text`` and their weights.
    words: list[str] | None = None
    spans: list[tuple[int, int]] | None = None
    weights: np.ndarray | None = None
    # UNIT_PROBABILITY or UNIT_LOGIT.
    weight_unit: str | None = None
    # Exact TF-IDF explanations: the genre's logit and the Dense bias (logit - bias = sum of weights).
    logit: float | None = None
    bias: float | None = None
    # Fused models: each part's share, and each part's own explanation of the same genre.
    parts: list[PartShare] = field(default_factory=list)
    # Fused models: how the parts are combined ("probabilities" or "logits"); None for a network.
    combine: str | None = None
    part_explanations: list[Explanation] = field(default_factory=list)
    # Anything the reader should know (a word cut by the model's length limit, say).
    notes: list[str] = field(default_factory=list)

    @property
    def shares(self) -> dict[str, float] | None:
        """A fused model's {"poster": share, "overview": share} of the genre's probability; None otherwise."""
        if not self.parts:
            return None
        return {kind: float(sum(part.share for part in self.parts if part.input_kind == kind))
                for kind in (POSTER, OVERVIEW)}

    @property
    def pulls(self) -> dict[str, float] | None:
        """A fusion of log-odds: each input's weighted log-odds, summed over its parts ({"poster": ...,
        "overview": ...}; positive raises the genre, negative lowers it; with the fusion's bias-free sum they
        give the fused log-odds). None for a network or a fusion of probabilities."""
        if not self.parts or self.combine != "logits":
            return None
        return {kind: float(sum(part.weight * compute_log_odds(part.probability)
                                for part in self.parts if part.input_kind == kind))
                for kind in (POSTER, OVERVIEW)}

    def word_weights(self) -> list[tuple[str, float]]:
        """Return (word, weight) pairs in the overview's order (empty without an overview)."""
        if self.words is None:
            return []
        return [(word, float(weight)) for word, weight in zip(self.words, self.weights)]

    def to_record(self, film_id: str | None) -> dict:
        """Return the JSON line of the ``explain`` command: id, model, genre, probability,
        poster_heatmap (rows x columns in [0, 1] or null), words ([{word, weight}] or null),
        parts ({poster, overview} shares or null)."""
        heatmap = None if self.heatmap is None else np.round(self.heatmap.astype(np.float64), 3).tolist()
        words = None if self.words is None else [{"word": word, "weight": round(weight, 6)}
                                                 for word, weight in self.word_weights()]
        shares = self.shares
        return {"id": film_id, "model": self.model, "genre": self.genre, "probability": round(self.probability, 6),
                "poster_heatmap": heatmap, "words": words,
                "parts": None if shares is None else {kind: round(value, 6) for kind, value in shares.items()}}

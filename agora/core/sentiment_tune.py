"""Tuning the social scorer's parameters on one half of a labelled set, checking on the other.

``agora sentiment --eval FILE --tune`` runs :func:`tune`: a coordinate search over a few of
:class:`~agora.core.sentiment_social.SocialParams` (each tried over a small grid of values, the
labelling thresholds searched afresh for every candidate) that maximises macro recall on half
``a`` of the file, then reports the same parameters on half ``b``, which the search never saw.
The values shipped in :data:`~agora.core.sentiment_social.TUNED` were found this way on the
TweetEval validation split; the TweetEval test split was never used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from agora.core.sentiment_eval import LABELS, Example, confusion, half
from agora.core.sentiment_social import TUNED, RuleScorer, SocialParams

#: The values tried for each tuned parameter (thresholds are searched separately).
GRID: Mapping[str, Sequence[float]] = {
    "negation": (-0.3, -0.5, -0.6, -0.75, -1.0),
    "negation_reach": (2, 3, 4),
    "boost": (0.1, 0.3, 0.5),
    "caps": (0.0, 0.3, 0.6, 1.0),
    "elongation": (0.0, 0.4, 0.8),
    "before_contrast": (0.25, 0.5, 0.75, 1.0),
    "after_contrast": (1.0, 1.25, 1.5, 2.0),
    "bang": (0.0, 0.15, 0.3, 0.5),
    "negative_weight": (0.8, 1.0, 1.2, 1.5),
    "negator": (0.0, -0.3, -0.6),
    "bang_alone": (0.0, 1.0, 2.0),
    "question": (1.0, 0.8, 0.6),
    "dead_zone": (0.0, 0.3, 0.6),
    "name": (1.0, 0.5, 0.25, 0.0),
    "conditional": (1.0, 0.5, 0.0),
}
#: Candidate negative and positive thresholds.
NEGATIVE_THRESHOLDS = tuple(round(-0.6 + 0.025 * k, 3) for k in range(25))
POSITIVE_THRESHOLDS = tuple(round(0.0 + 0.025 * k, 3) for k in range(1, 29))


def macro_recall(
    scores: npt.NDArray[np.float64], gold: npt.NDArray[np.int8], low: float, high: float
) -> float:
    """Macro recall of labelling ``scores`` with thresholds ``low``/``high`` (gold 0/1/2)."""
    predicted = np.where(scores >= high, 2, np.where(scores <= low, 0, 1))
    recalls = []
    for label in range(3):
        mask = gold == label
        total = int(mask.sum())
        recalls.append(float((predicted[mask] == label).sum()) / total if total else 0.0)
    return sum(recalls) / 3


def best_thresholds(
    scores: npt.NDArray[np.float64], gold: npt.NDArray[np.int8]
) -> tuple[float, float, float]:
    """The (negative, positive) thresholds with the best macro recall, and that recall."""
    best = (-0.05, 0.05, -1.0)
    for low in NEGATIVE_THRESHOLDS:
        for high in POSITIVE_THRESHOLDS:
            value = macro_recall(scores, gold, low, high)
            if value > best[2] + 1e-12:
                best = (low, high, value)
    return best


def _gold(examples: Sequence[Example]) -> npt.NDArray[np.int8]:
    return np.array([LABELS.index(e.label) for e in examples], dtype=np.int8)


def _scores(params: SocialParams, texts: Sequence[str]) -> npt.NDArray[np.float64]:
    scorer = RuleScorer(params)
    return np.array([scorer.score_text(t) for t in texts], dtype=np.float64)


@dataclass(slots=True)
class TuneResult:
    """What :func:`tune` found."""

    params: SocialParams
    tuned_recall: float
    """Macro recall on the half the search saw."""
    held_out_recall: float
    """Macro recall on the other half, with the same parameters and thresholds."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "params": {f.name: getattr(self.params, f.name) for f in fields(self.params)},
            "tuned_macro_recall": round(self.tuned_recall, 4),
            "held_out_macro_recall": round(self.held_out_recall, 4),
        }


def tune_thresholds(
    examples: Sequence[Example], tune_half: str = "a", params: SocialParams | None = None
) -> TuneResult:
    """The labelling thresholds only (the shipped method), searched on ``tune_half``."""
    return tune(examples, tune_half, start=params or TUNED, rounds=0)


def tune(
    examples: Sequence[Example],
    tune_half: str = "a",
    start: SocialParams | None = None,
    rounds: int = 2,
) -> TuneResult:
    """Coordinate search on ``tune_half`` of ``examples``; the other half is only measured.

    The rule parameters start from ``start`` (the defaults of :class:`SocialParams` when unset)
    and the search makes ``rounds`` passes over :data:`GRID`; 0 rounds tunes thresholds only.
    """
    seen = half(examples, tune_half)
    unseen = half(examples, "b" if tune_half == "a" else "a")
    texts = [e.text for e in seen]
    gold = _gold(seen)
    params = start or SocialParams()
    low, high, best = best_thresholds(_scores(params, texts), gold)
    for _ in range(rounds):
        improved = False
        for name, values in GRID.items():
            for value in values:
                if getattr(params, name) == value:
                    continue
                candidate = replace(params, **{name: float(value)})
                c_low, c_high, c_best = best_thresholds(_scores(candidate, texts), gold)
                if c_best > best + 1e-4:
                    params, low, high, best = candidate, c_low, c_high, c_best
                    improved = True
        if not improved:
            break
    params = replace(params, negative_threshold=low, positive_threshold=high)
    scorer = RuleScorer(params)
    predicted = [scorer.label(scorer.score_text(e.text)) for e in unseen]
    matrix = confusion((e.label for e in unseen), predicted)
    held_out = sum(matrix[k][k] / max(1, sum(matrix[k].values())) for k in LABELS) / 3
    return TuneResult(params=params, tuned_recall=best, held_out_recall=held_out)

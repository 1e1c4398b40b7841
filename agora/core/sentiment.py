"""Sentiment scoring, and ``None`` (never "neutral") for text a scorer cannot score.

Three scorers: ``"social"`` (the default, :mod:`agora.core.sentiment_model`), a linear model learnt
from labelled tweets with the rules below among its features, scored a batch at a time with numpy;
``"rules"`` (:mod:`agora.core.sentiment_social`), the VADER lexicon with rules for social text
alone; and ``"vader"``, bare VADER, kept as the baseline they are measured against
(``agora sentiment --eval``). All three read English only; scoring Finnish or Japanese with them
would give 0.0, counted as neutral, quietly diluting every figure on the wall. They therefore
return ``None`` for posts in another language: the source's tag, corrected on long posts, or the
language detected when there is no tag (:mod:`agora.core.langid`). What the scorers share (the
:class:`Scorer` protocol, the language check) is in :mod:`agora.core.sentiment_base`.
"""

from __future__ import annotations

from collections.abc import Mapping

from agora.core.langid import mostly_non_latin, primary_language
from agora.core.post import Sentiment
from agora.core.sentiment_base import (
    VADER_LANGUAGES,
    OneByOne,
    Scorer,
    english_scorable,
    english_scorable_many,
    label_for,
)

# what the scorers share lives in agora.core.sentiment_base (so that they need not import this
# module, which imports them); these names stay importable from here
__all__ = [
    "SCORER_NAMES",
    "VADER_LANGUAGES",
    "VADER_NEUTRAL_BAND",
    "NullScorer",
    "OneByOne",
    "Scorer",
    "VaderScorer",
    "english_scorable",
    "english_scorable_many",
    "label_for",
    "make_scorer",
    "mostly_non_latin",
    "primary_language",
]

#: The names ``[analytics] sentiment`` and ``agora sentiment --scorer`` accept.
SCORER_NAMES = ("social", "rules", "vader", "none")
#: VADER's own neutral band: compound scores within ±0.05 are neutral.
VADER_NEUTRAL_BAND = 0.05


class VaderScorer(OneByOne):
    """VADER's compound score with honest ``None`` for languages it does not know."""

    name = "vader"

    def __init__(self, neutral_band: float | None = None) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyser = SentimentIntensityAnalyzer()
        self._neutral_band = VADER_NEUTRAL_BAND if neutral_band is None else neutral_band

    def supports(self, text: str, lang: str | None) -> bool:
        """Whether this post can be scored honestly."""
        return english_scorable(text, lang)

    def score(self, text: str, lang: str | None) -> Sentiment | None:
        """Score ``text``; ``None`` for unsupported languages."""
        if not self.supports(text, lang):
            return None
        compound = float(self._analyser.polarity_scores(text)["compound"])
        return Sentiment(score=round(compound, 4), label=label_for(compound, self._neutral_band))


class NullScorer(OneByOne):
    """Scores nothing: every post gets ``None`` (``[analytics] sentiment = "none"``)."""

    name = "none"

    def score(self, text: str, lang: str | None) -> Sentiment | None:
        """Always ``None``."""
        return None


def make_scorer(
    kind: str = "social",
    neutral_band: float | None = None,
    lexicon: Mapping[str, float] | None = None,
) -> Scorer:
    """The scorer named in ``[analytics] sentiment``.

    ``neutral_band`` replaces the scorer's own labelling by ±band around 0 when given; ``lexicon``
    adds a brand's words and phrases to the social and rules scorers (bare VADER stays bare).
    """
    if kind == "none":
        return NullScorer()
    if kind == "vader":
        return VaderScorer(neutral_band)
    if kind == "social":
        from agora.core.sentiment_model import ModelScorer

        return ModelScorer(lexicon=lexicon, neutral_band=neutral_band)
    if kind == "rules":
        from agora.core.sentiment_social import RuleScorer

        return RuleScorer(lexicon=lexicon, neutral_band=neutral_band)
    raise ValueError(f"unknown sentiment scorer {kind!r} (one of: {', '.join(SCORER_NAMES)})")

"""Sentiment scoring, and ``None`` (never "neutral") for text a scorer cannot score.

Three scorers: ``"social"`` (the default, :mod:`agora.core.sentiment_model`), a linear model learnt
from labelled tweets with the rules below among its features, scored a batch at a time with numpy;
``"rules"`` (:mod:`agora.core.sentiment_social`), the VADER lexicon with rules for social text
alone; and ``"vader"``, bare VADER, kept as the baseline they are measured against
(``agora sentiment --eval``). All three read English only; scoring Finnish or Japanese with them
would give 0.0, counted as neutral, quietly diluting every figure on the wall. They therefore
return ``None`` for posts in another language: the source's tag, corrected on long posts, or the
language detected when there is no tag (:mod:`agora.core.langid`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Protocol

from agora.core.langid import post_language
from agora.core.post import Sentiment, SentimentLabel

#: Languages the VADER lexicon handles.
VADER_LANGUAGES = frozenset({"en"})
#: The names ``[analytics] sentiment`` and ``agora sentiment --scorer`` accept.
SCORER_NAMES = ("social", "rules", "vader", "none")
#: VADER's own neutral band: compound scores within ±0.05 are neutral.
VADER_NEUTRAL_BAND = 0.05


class Scorer(Protocol):
    """Anything that scores a text. ``None`` means "cannot be scored honestly"."""

    name: str

    def score(self, text: str, lang: str | None) -> Sentiment | None:
        """Score one text written in ``lang`` (BCP-47, or ``None`` when unknown)."""
        ...

    def score_many(
        self, texts: Sequence[str], langs: Sequence[str | None]
    ) -> list[Sentiment | None]:
        """Score a batch: the same results as :meth:`score` on each post, in order."""
        ...


class OneByOne:
    """``score_many`` for scorers that score one post at a time."""

    def score(self, text: str, lang: str | None) -> Sentiment | None:  # pragma: no cover
        """Score one post (defined by the scorer)."""
        raise NotImplementedError

    def score_many(
        self, texts: Sequence[str], langs: Sequence[str | None]
    ) -> list[Sentiment | None]:
        """:meth:`score` of each post, in order."""
        score = self.score
        return [score(t, lang) for t, lang in zip(texts, langs, strict=True)]


def label_for(score: float, neutral_band: float = 0.05) -> SentimentLabel:
    """The label of a compound score: within ±``neutral_band`` is neutral."""
    if score >= neutral_band:
        return "positive"
    if score <= -neutral_band:
        return "negative"
    return "neutral"


@functools.lru_cache(maxsize=512)
def primary_language(lang: str | None) -> str | None:
    """``"en"`` from ``"en-GB"`` / ``"EN_us"``; ``None`` stays ``None``."""
    if not lang:
        return None
    return lang.replace("_", "-").split("-", 1)[0].strip().lower() or None


#: A letter (word character that is not a digit or underscore).
_LETTER_RE = re.compile(r"[^\W\d_]")
#: A letter outside the Latin script. Latin letters, accented ones included, live below U+0250
#: and in U+1E00-U+1EFF.
_NON_LATIN_LETTER_RE = re.compile(r"(?![\u0000-\u024f\u1e00-\u1eff])[^\W\d_]")


def mostly_non_latin(text: str) -> bool:
    """True when most letters of ``text`` are outside the Latin script (CJK, Cyrillic, Arabic…)."""
    if text.isascii():
        return False
    foreign = len(_NON_LATIN_LETTER_RE.findall(text))
    if not foreign:
        return False
    return foreign * 2 > len(_LETTER_RE.findall(text))


def english_scorable(text: str, lang: str | None) -> bool:
    """Whether an English scorer can score this post honestly.

    The post's language is its tag, corrected on long posts, or detected when it has none
    (:func:`agora.core.langid.post_language`); a post whose language stays unknown (a few words,
    emoji only) is scorable unless most of its letters are outside the Latin script.
    """
    language = post_language(text, lang)
    if language is None:
        return not mostly_non_latin(text)
    return language in VADER_LANGUAGES


def english_scorable_many(texts: Sequence[str], langs: Sequence[str | None]) -> list[bool]:
    """:func:`english_scorable` of each post of a batch."""
    return [english_scorable(t, lang) for t, lang in zip(texts, langs, strict=True)]


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

"""What every sentiment scorer shares: the :class:`Scorer` protocol, :class:`OneByOne`, labels of a
score, and the check that a post is English enough to score.

It sits below the scorers (:mod:`agora.core.sentiment_social`, :mod:`agora.core.sentiment_model`)
and below :mod:`agora.core.sentiment`, which picks one of them: the scorers import this module,
never the one that picks them, so no module imports one that imports it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from agora.core.post import Sentiment, SentimentLabel
from agora.core.tokens import SHARED, read

#: Languages the VADER lexicon (and every scorer built on it) handles.
VADER_LANGUAGES = frozenset({"en"})


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


def english_scorable(text: str, lang: str | None) -> bool:
    """Whether an English scorer can score this post honestly.

    The post's language is its tag, corrected on long posts, or detected when it has none
    (:func:`agora.core.langid.post_language`); a post whose language stays unknown (a few words,
    emoji only) is scorable unless most of its letters are outside the Latin script.
    """
    shared = read(text)  # detected once per post, for the language filter too
    language = shared.language(lang)
    if language is None:
        return not shared.non_latin
    return language in VADER_LANGUAGES


def english_scorable_many(texts: Sequence[str], langs: Sequence[str | None]) -> list[bool]:
    """:func:`english_scorable` of each post of a batch (the same test, one call fewer a post)."""
    if len(langs) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(langs)} languages")
    out: list[bool] = []
    of = SHARED.of
    for text, lang in zip(texts, langs, strict=True):
        shared = of(text)
        language = shared.language(lang)
        out.append(language in VADER_LANGUAGES if language is not None else not shared.non_latin)
    return out

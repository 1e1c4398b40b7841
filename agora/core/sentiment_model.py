"""The default sentiment scorer: a linear model learnt from labelled tweets, scored with numpy.

:class:`ModelScorer` (``[analytics] sentiment = "social"``) reads the weights shipped in
``agora/assets/sentiment-model.npz`` (learnt by ``tools/train_sentiment.py``; the data, the
protocol and the held-out figures are in ``docs/SENTIMENT.md`` and in
``sentiment-model.json`` beside the weights). A batch of posts is scored at once: the features of
:mod:`agora.core.sentiment_features` are rows of one weight table, whose weights each token's
vocabulary entry holds already summed, so a post costs one lookup per token and its share of a few
numpy operations per batch; the class offsets chosen by macro-F1 (on development tweets and on the
training tweets cross-validated) are added; the label is the class with the highest value and the
score is P(positive) − P(negative), in [-1, 1].

A brand's lexicon (``[analytics] lexicon``) works on top of the model: the rule scorer's features
are computed with the brand's words, and a post where those words change the rule scorer's sum of
valences has its positive and negative classes moved by that change times
:data:`LEXICON_WEIGHT` (so ``"killer feature" = 2.5`` makes "the killer feature" positive, and
"not a killer feature" negative).

Posts in a language the model cannot score (anything but English, see
:func:`agora.core.langid.post_language`) get ``None``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from agora.core.post import Sentiment, SentimentLabel
from agora.core.sentiment_base import english_scorable_many
from agora.core.sentiment_features import DENSE, Batch, FeatureSettings, Featuriser
from agora.core.sentiment_social import TUNED, RuleScorer, phrase_words

#: The classes, in column order of the weights.
CLASSES: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")
#: Logit moved per unit of valence a brand's lexicon adds to a post (see the module docstring).
LEXICON_WEIGHT = 1.0
#: The shipped weights and their metadata.
MODEL_FILE = "sentiment-model.npz"
META_FILE = "sentiment-model.json"


class ModelError(RuntimeError):
    """The shipped weights are missing or do not match the feature code."""


@dataclass(frozen=True, slots=True)
class Model:
    """Weights of the linear model and the settings of its features.

    Only differences of classes matter to the label and the probabilities, so the neutral class is
    the reference: column 0 holds negative − neutral, column 1 positive − neutral.
    """

    weights: npt.NDArray[np.float32]
    """``(2, settings.rows)``: one column per hashed feature, then one per dense feature."""
    bias: npt.NDArray[np.float64]
    """``(2,)``: the intercepts plus the class offsets (see ``tools/train_sentiment.py``)."""
    settings: FeatureSettings
    meta: dict[str, Any]
    """What ``sentiment-model.json`` says (data, seed, protocol, figures)."""
    table: npt.NDArray[np.float64] = field(init=False, repr=False)
    """``(settings.rows - DENSE, 2)``: the weights of the hashed rows, a row's two side by side
    (what the vocabulary of :class:`~agora.core.sentiment_features.Featuriser` sums)."""
    dense_weights: npt.NDArray[np.float64] = field(init=False, repr=False)
    """``(DENSE, 2)``: the weights of the dense rule features, as float64."""

    def __post_init__(self) -> None:
        if self.weights.shape != (2, self.settings.rows):
            raise ModelError(
                f"weights of shape {self.weights.shape} do not fit the features "
                f"(2 × {self.settings.rows})"
            )
        table = np.ascontiguousarray(self.weights[:, :-DENSE].T, dtype=np.float64)
        object.__setattr__(self, "table", table)
        dense = np.ascontiguousarray(self.weights[:, -DENSE:].T, dtype=np.float64)
        object.__setattr__(self, "dense_weights", dense)

    @classmethod
    def load(cls, npz: Path | None = None, meta: Path | None = None) -> Model:
        """The weights in ``npz`` (default: the shipped ones) and their metadata in ``meta``."""
        assets = resources.files("agora").joinpath("assets")
        try:
            with assets.joinpath(MODEL_FILE).open("rb") if npz is None else npz.open("rb") as f:
                arrays = np.load(f)
                quantised = arrays["weights"]
                scale = arrays["scale"].astype(np.float32)
                bias = arrays["bias"].astype(np.float64)
            meta_text = (
                assets.joinpath(META_FILE).read_text("utf-8")
                if meta is None
                else meta.read_text("utf-8")
            )
            info = json.loads(meta_text)
            settings = FeatureSettings.from_dict(info["features"])
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"cannot read the sentiment model: {exc}") from exc
        weights = np.ascontiguousarray(quantised.astype(np.float32) * scale[:, None])
        return cls(weights, bias, settings, info)

    def featuriser(self, rules: RuleScorer) -> Featuriser:
        """A featuriser whose vocabulary keeps each token's sums of these weights."""
        return Featuriser(self.settings, rules, self.table)

    def logits(self, batch: Batch) -> npt.NDArray[np.float64]:
        """``(n, 2)``: negative − neutral and positive − neutral for each post of ``batch`` (made by
        :meth:`featuriser`).

        The vocabulary holds each token's weights already summed (its word and its slices): a
        post's are added up with one ``reduceat`` for its tokens and one for its pairs, each post
        on its own, so a post scores the same whatever else is in its batch.
        """
        vocabulary = batch.vocabulary
        if vocabulary.weights is not self.table:
            raise ModelError("the batch was not made by this model's featuriser")
        counts = batch.counts
        n = len(counts)
        starts = batch.starts
        # at the pipeline's batches of 20 the cost of each numpy call, not the arithmetic, is
        # what counts: when every post has tokens (most batches) the masks are skipped
        everyone = len(starts) == n
        if len(starts):
            # reduceat sums each post's segment on its own, in order
            sums = np.add.reduceat(vocabulary.sums[batch.keys], starts, axis=0)
            words = sums[:, :2]
            pairs = batch.pair_counts if everyone else batch.pair_counts[counts > 0]
            pair_starts = batch.pair_starts
            if len(pair_starts):
                pair_sums = np.add.reduceat(self.table[batch.pair_rows], pair_starts, axis=0)
                pair_sums *= self.settings.pair_weight
                if len(pair_starts) == len(pairs):
                    words += pair_sums
                else:
                    words[pairs > 0] += pair_sums
            word_scale = 1.0 / np.sqrt((counts if everyone else counts[counts > 0]) + pairs)
            hashed: npt.NDArray[np.float64] = words * word_scale[:, None] + sums[:, 2:4] / np.sqrt(
                sums[:, 4:5]
            )
        if everyone and n:
            out = hashed
        else:  # reduceat reads an empty segment as the row at its start: empty posts stay 0
            out = np.zeros((n, 2), dtype=np.float64)
            if len(starts):
                out[counts > 0] = hashed
        # products summed along each row: the same sums whatever the batch size (a matrix
        # product may round differently for different shapes)
        out += (batch.dense[:, :, None] * self.dense_weights[None, :, :]).sum(axis=1)
        out += self.bias
        return out


@functools.cache
def shipped_model() -> Model:
    """The model shipped with Agora, loaded once per process."""
    return Model.load()


def probabilities(logits: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``(n, 3)``: the probability of each class, from :meth:`Model.logits`."""
    full = np.zeros((len(logits), 3), dtype=np.float64)
    full[:, 0] = logits[:, 0]
    full[:, 2] = logits[:, 1]
    full -= full.max(axis=1, keepdims=True)
    exp = np.exp(full)
    return exp / exp.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


class ModelScorer:
    """The learnt scorer (see the module docstring)."""

    name = "social"

    def __init__(
        self,
        model: Model | None = None,
        lexicon: Mapping[str, float] | None = None,
        neutral_band: float | None = None,
    ) -> None:
        self.model = model or shipped_model()
        self.lexicon = dict(lexicon or {})
        self.neutral_band = neutral_band
        self.rules = RuleScorer(TUNED, self.lexicon)
        self.featurise = self.model.featuriser(self.rules)
        self._plain_rules = RuleScorer(TUNED) if self.lexicon else None
        self._lexicon_heads = frozenset(
            words[0] for words in (phrase_words(k) for k in self.lexicon) if words
        )

    def score(self, text: str, lang: str | None) -> Sentiment | None:
        """Score one post; ``None`` for a language the model cannot handle."""
        return self.score_many([text], [lang])[0]

    def score_many(
        self, texts: Sequence[str], langs: Sequence[str | None]
    ) -> list[Sentiment | None]:
        """Score a batch of posts at once (the same results as one at a time, faster)."""
        results: list[Sentiment | None] = [None] * len(texts)
        keep = [i for i, ok in enumerate(english_scorable_many(texts, langs)) if ok]
        if not keep:
            return results
        chosen = [texts[i] for i in keep]
        batch = self.featurise(chosen)
        logits = self.model.logits(batch)
        if self._plain_rules is not None:
            logits += self._lexicon_shift(chosen)[:, None] * np.array([-0.5, 0.5])
        probs = probabilities(logits)
        scores = probs[:, 2] - probs[:, 0]
        if self.neutral_band is None:
            labels = probs.argmax(axis=1).tolist()
        else:
            band = self.neutral_band
            labels = [2 if s >= band else 0 if s <= -band else 1 for s in scores.tolist()]
        for i, score, label, empty in zip(
            keep, scores.tolist(), labels, batch.empty.tolist(), strict=True
        ):
            if empty:
                results[i] = Sentiment(score=0.0, label="neutral")
            else:
                results[i] = Sentiment(score=round(score, 4), label=CLASSES[label])
        return results

    def _lexicon_shift(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """How much the brand's lexicon moves each post's sum of valences (0 for most posts)."""
        assert self._plain_rules is not None
        shift = np.zeros(len(texts), dtype=np.float64)
        heads = self._lexicon_heads
        for i, text in enumerate(texts):
            low = text.lower()
            if any(head in low for head in heads):
                with_brand = self.rules.parts(text)[0]
                without = self._plain_rules.parts(text)[0]
                shift[i] = (with_brand - without) * LEXICON_WEIGHT
        return shift

"""Measuring a sentiment scorer against labelled text: confusion matrix, accuracy, macro recall, F1.

``agora sentiment --eval FILE`` reads one example a line, ``label<TAB>text``, where the label is
``negative``/``neutral``/``positive`` or ``0``/``1``/``2`` (the TweetEval convention). A post the
scorer refuses to score (``None``: a language it cannot handle) is counted in an ``unscored``
column: it is a miss for recall, never a quiet "neutral".

The figures:

* **accuracy**: share of examples labelled right;
* **macro recall**: the mean over the three classes of the share of that class found (the
  SemEval-2017 Task 4A headline figure; blind to class imbalance);
* **macro F1**: the mean over the three classes of the harmonic mean of precision and recall;
* **F1 PN**: the mean F1 of the positive and negative classes only.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agora.core.post import Sentiment, SentimentLabel

if TYPE_CHECKING:
    from agora.core.sentiment_base import Scorer

#: The classes, in matrix order.
LABELS: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")
#: The column of the confusion matrix for examples the scorer refused (``None``).
UNSCORED = "unscored"

_LABEL_NAMES: dict[str, SentimentLabel] = {
    "0": "negative",
    "1": "neutral",
    "2": "positive",
    "negative": "negative",
    "neutral": "neutral",
    "positive": "positive",
}


class LabelledDataError(ValueError):
    """A labelled line that cannot be read (``FILE:LINE: message``)."""


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text."""

    label: SentimentLabel
    text: str


def parse_label(value: str) -> SentimentLabel:
    """``"2"`` or ``"Positive"`` → ``"positive"``; :class:`ValueError` for anything else."""
    label = _LABEL_NAMES.get(value.strip().lower())
    if label is None:
        raise ValueError(
            f"unknown label {value.strip()!r} (use negative/neutral/positive or 0/1/2)"
        )
    return label


def read_labelled(lines: Iterable[str], source: str = "<stdin>") -> list[Example]:
    """The examples of ``label<TAB>text`` lines; blank lines are skipped.

    Raises :class:`LabelledDataError` naming the file and line of the first bad line.
    """
    examples: list[Example] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        label_text, tab, text = line.partition("\t")
        if not tab:
            raise LabelledDataError(f"{source}:{number}: expected label<TAB>text")
        try:
            label = parse_label(label_text)
        except ValueError as exc:
            raise LabelledDataError(f"{source}:{number}: {exc}") from None
        examples.append(Example(label, text))
    return examples


def half(examples: Sequence[Example], which: str) -> list[Example]:
    """Half ``"a"`` (the 1st, 3rd, 5th… example) or ``"b"`` (the 2nd, 4th…) of ``examples``."""
    if which not in ("a", "b"):
        raise ValueError(f"half must be 'a' or 'b', not {which!r}")
    return list(examples[0 if which == "a" else 1 :: 2])


@dataclass(slots=True)
class Evaluation:
    """The figures of one scorer on one labelled set."""

    matrix: dict[str, dict[str, int]]
    """``matrix[gold][predicted]``; predicted includes :data:`UNSCORED`."""
    scorer: str = ""
    seconds: float = 0.0
    """Time spent scoring (0 when not measured)."""
    dataset: str = ""
    """The name of the labelled set (its file name)."""
    batch: int = 0
    """Posts per call of ``score_many`` (0 when not measured)."""
    recall: dict[str, float] = field(default_factory=dict)
    precision: dict[str, float] = field(default_factory=dict)
    f1: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for label in LABELS:
            found = self.matrix[label][label]
            gold_total = sum(self.matrix[label].values())
            predicted_total = sum(self.matrix[gold][label] for gold in LABELS)
            recall = found / gold_total if gold_total else 0.0
            precision = found / predicted_total if predicted_total else 0.0
            self.recall[label] = recall
            self.precision[label] = precision
            self.f1[label] = (
                2 * precision * recall / (precision + recall) if precision + recall else 0.0
            )

    @property
    def examples(self) -> int:
        """How many examples were measured."""
        return sum(sum(row.values()) for row in self.matrix.values())

    @property
    def unscored(self) -> int:
        """How many examples the scorer refused to score."""
        return sum(self.matrix[gold][UNSCORED] for gold in LABELS)

    @property
    def accuracy(self) -> float:
        """Share of examples labelled right."""
        total = self.examples
        return sum(self.matrix[label][label] for label in LABELS) / total if total else 0.0

    @property
    def macro_recall(self) -> float:
        """Mean recall over the three classes."""
        return sum(self.recall.values()) / len(LABELS)

    @property
    def macro_f1(self) -> float:
        """Mean F1 over the three classes."""
        return sum(self.f1.values()) / len(LABELS)

    @property
    def f1_pn(self) -> float:
        """Mean F1 of the positive and negative classes."""
        return (self.f1["positive"] + self.f1["negative"]) / 2

    @property
    def posts_per_s(self) -> float | None:
        """Scoring speed, when it was measured."""
        return self.examples / self.seconds if self.seconds > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """The figures as one JSON-ready object."""
        rate = self.posts_per_s
        return {
            "scorer": self.scorer,
            "dataset": {"name": self.dataset, "examples": self.examples},
            "examples": self.examples,
            "unscored": self.unscored,
            "labels": list(LABELS),
            "confusion": {gold: dict(row) for gold, row in self.matrix.items()},
            "accuracy": round(self.accuracy, 4),
            "macro_recall": round(self.macro_recall, 4),
            "macro_f1": round(self.macro_f1, 4),
            "f1_pn": round(self.f1_pn, 4),
            "recall": {k: round(v, 4) for k, v in self.recall.items()},
            "precision": {k: round(v, 4) for k, v in self.precision.items()},
            "f1": {k: round(v, 4) for k, v in self.f1.items()},
            "posts_per_s": round(rate) if rate is not None else None,
            "batch": self.batch,
        }

    def format(self) -> str:
        """A plain-text report: the confusion matrix, then the figures."""
        columns = (*LABELS, UNSCORED)
        lines = [
            f"scorer: {self.scorer or '?'}   examples: {self.examples}   unscored: {self.unscored}",
            f"dataset: {self.dataset or '?'}",
            "",
            "gold \\ predicted " + "".join(f"{c:>10}" for c in columns) + f"{'recall':>10}",
        ]
        for gold in LABELS:
            row = "".join(f"{self.matrix[gold][c]:>10}" for c in columns)
            lines.append(f"{gold:<17}{row}{self.recall[gold]:>10.4f}")
        lines.append(
            f"{'precision':<17}"
            + "".join(f"{self.precision[c]:>10.4f}" for c in LABELS)
            + f"{'':>10}{'':>10}"
        )
        lines += [
            "",
            f"accuracy        {self.accuracy:.4f}",
            f"macro recall    {self.macro_recall:.4f}",
            f"macro F1        {self.macro_f1:.4f}",
            f"F1 PN           {self.f1_pn:.4f}   (mean F1 of positive and negative)",
        ]
        rate = self.posts_per_s
        if rate is not None:
            lines.append(f"posts/s         {rate:,.0f}   (batches of {self.batch})")
        return "\n".join(lines)


def empty_matrix() -> dict[str, dict[str, int]]:
    """A confusion matrix of zeros."""
    return {gold: dict.fromkeys((*LABELS, UNSCORED), 0) for gold in LABELS}


def confusion(
    gold: Iterable[SentimentLabel], predicted: Iterable[SentimentLabel | None]
) -> dict[str, dict[str, int]]:
    """The confusion matrix of paired gold and predicted labels (``None``: unscored)."""
    matrix = empty_matrix()
    for g, p in zip(gold, predicted, strict=True):
        matrix[g][p if p is not None else UNSCORED] += 1
    return matrix


#: Posts per call of ``score_many``: the batch the pipeline scores in a live run.
BATCH = 20


def evaluate(
    scorer: Scorer,
    examples: Sequence[Example],
    lang: str | None = None,
    *,
    repeat: int = 1,
    batch: int = BATCH,
    dataset: str = "",
) -> Evaluation:
    """Score every example with ``scorer`` and compare with the gold labels.

    The examples are scored ``batch`` at a time, as the pipeline does. The scoring is timed in
    CPU time of this process (one core: other programs busy on the machine do not count); with
    ``repeat`` > 1 the set is scored that many times (the speed is the mean over all passes, the
    labels those of the last pass, identical to the first).
    """
    texts = [e.text for e in examples]
    langs = [lang] * len(texts)
    score_many = scorer.score_many
    size = max(1, batch)
    results: list[Sentiment | None] = []
    start = time.process_time()
    for _ in range(max(1, repeat)):
        results = []
        for at in range(0, len(texts), size):
            results.extend(score_many(texts[at : at + size], langs[at : at + size]))
    seconds = (time.process_time() - start) / max(1, repeat)
    predicted = [r.label if r is not None else None for r in results]
    matrix = confusion((e.label for e in examples), predicted)
    return Evaluation(matrix, scorer=scorer.name, seconds=seconds, dataset=dataset, batch=size)

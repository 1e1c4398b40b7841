"""Trending: the terms whose share of the conversation rose against the windows before.

Counts the terms (words and two-word phrases, without stopwords, the topics' own terms or the
brand's handles) of each shown post of someone other than the brand, in 10-minute slots
(bounded). The part scores each term against its expected count and writes the rising ones as
people write them ("almoço", "#LumenX1", "Berlin"), learnt from the latest texts.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from agora.core.figures.base import Batch, Figure, Window
from agora.core.post import Post
from agora.core.snapshot import TermTrend
from agora.core.terms import TermScanner, stopword_set
from agora.core.text import fold
from agora.core.tokens import TERM_WORD_RE
from agora.core.windows import SlottedCounter

#: labels remembered (folded word → how it is written) before the memory is cleared
_LABELS_CAP = 5_000
#: how many recent texts labels are learnt from
_LABEL_TEXTS = 2_000
#: where a sentence starts: its first word's capital says nothing about how the word is written
_SENTENCE_END = frozenset(".!?…\n")


def never_trending(
    topic_terms: Mapping[str, Sequence[str]], handles: Iterable[str], stopwords: Iterable[str]
) -> frozenset[str]:
    """The words that never trend: built-in stopwords, the config's, the topics' own terms and
    the brand's handles."""
    words = {fold(w).lstrip("#") for w in stopwords} | set(handles)
    for terms in topic_terms.values():
        for term in terms:
            for word in fold(term).strip("*").split():
                words.add(word.lstrip("#@").rstrip("*"))
    return stopword_set(words)


class Trending(Figure[tuple[TermTrend, ...]]):
    """Term counts per slot, and how trending words are written."""

    __slots__ = (
        "_asked",
        "_label_misses",
        "_labels",
        "_may_trend",
        "_recent_texts",
        "_scanner",
        "_texts_added",
        "counter",
        "limit",
        "term_filter",
    )

    def __init__(
        self,
        slot_s: int,
        slots: int,
        capacity: int,
        *,
        stop: frozenset[str],
        term_filter: Callable[[str], bool] | None = None,
        limit: int = 30,
    ) -> None:
        self.counter = SlottedCounter(slot_s, slots, capacity)
        self._scanner = TermScanner(stop)
        """Reads the terms of posts (remembering how it read their words)."""
        self.term_filter = term_filter
        """Tells which terms may never trend (blocked words, profanity); ``None``: all may."""
        self.limit = limit
        self._labels: dict[str, str] = {}
        """How trending words are written (folded word → label), learnt from recent posts."""
        self._recent_texts: deque[str] = deque(maxlen=_LABEL_TEXTS)
        """The texts of the latest shown posts (cut to 500 characters), to learn labels from."""
        self._texts_added = 0
        self._may_trend: dict[str, bool] = {}
        """Terms :attr:`term_filter` was asked about, and whether they may trend."""
        self._asked = term_filter
        self._label_misses: dict[str, int] = {}
        """Words no recent text showed, and ``_texts_added`` then: looked for again later."""

    def add(self, batch: Batch) -> None:
        slot_s = self.counter.slot_s
        scan = self._scanner.scan
        by_slot: dict[int, list[str]] = {}
        said = batch.said
        for entry in said:
            found = scan(entry.said or "")
            if found:
                slot = int(entry.ts // slot_s)
                terms = by_slot.get(slot)
                if terms is None:
                    terms = by_slot[slot] = []
                terms.extend(set(found))  # a post counts each of its terms once
        if not batch.late:
            recent = self._recent_texts
            for entry in said:
                recent.append(entry.post.text[:500])
            self._texts_added += len(said)
        for slot, found_terms in by_slot.items():
            self.counter.add_slot(slot, found_terms)

    def remove(self, post: Post) -> None:
        found = self._scanner.scan(fold(post.text))
        if found:
            self.counter.remove(int(post.timestamp // self.counter.slot_s), set(found))

    def part(self, window: Window) -> tuple[TermTrend, ...]:
        """Terms whose share of the conversation rose against the six windows before.

        The expectation is the term's count before scaled by how much the whole conversation
        grew or shrank (all terms counted), so a busy morning lifts no term by itself; the score
        is the excess over that in Poisson standard deviations. Without history every term is
        new, and the most used ones come first.
        """
        now_ts = window.moment.ts
        span = window.seconds if window.seconds is not None else 3600.0
        recent = self.counter.window(now_ts, span)
        if not recent:
            return ()
        before = self.counter.window(now_ts - span, span * 6)
        before_mass = sum(before.values())
        scale = sum(recent.values()) / before_mass if before_mass else 0.0
        # (-score, -count, term, expected): sorted as they are, the order the trends are shown in
        rows: list[tuple[float, int, str, float]] = []
        for term, n in recent.items():
            if n < 3:
                continue
            expected = before.get(term, 0) * scale
            score = (n - expected) / math.sqrt(expected + 1.0)
            if score > 0:
                rows.append((-round(score, 3), -n, term, expected))
        rows.sort()
        shown = self._shown_term
        # a word goes when a rising phrase (that may be shown) says it with nearly every one of
        # its mentions: "overheats" when "overheats charging" rises
        covered: dict[str, int] = {}
        for _, negative, term, _ in rows:
            if " " in term and shown(term):
                for word in term.split(" "):
                    if covered.get(word, 0) < -negative:
                        covered[word] = -negative
        trends: list[TermTrend] = []
        for negative_score, negative, term, expected in rows:
            if " " in term:
                if not shown(term):  # asked above: remembered
                    continue
            elif covered.get(term, 0) >= 0.8 * -negative or not shown(term):
                continue
            trends.append(TermTrend(term, -negative_score, -negative, round(expected, 2)))
            if len(trends) == self.limit:
                break
        return self._labelled(trends)

    def _shown_term(self, term: str) -> bool:
        """Whether ``term`` may trend (:attr:`term_filter`), remembered while the filter is the
        same."""
        if self._asked is not self.term_filter:  # another filter: ask again
            self._may_trend.clear()
            self._asked = self.term_filter
        known = self._may_trend.get(term)
        if known is None:
            blocked = self.term_filter
            known = blocked is None or not blocked(term)
            if len(self._may_trend) >= _LABELS_CAP * 4:
                self._may_trend.clear()
            self._may_trend[term] = known
        return known

    def _labelled(self, trends: Sequence[TermTrend]) -> tuple[TermTrend, ...]:
        """The trends with the words written as people write them (see :meth:`_learn_labels`)."""
        labels = self._labels
        words = {w for t in trends for w in t.term.split(" ")}
        misses = self._label_misses
        fresh = self._texts_added - _LABEL_TEXTS // 4
        missing = {w for w in words - labels.keys() if misses.get(w, fresh) <= fresh}
        if missing:
            self._learn_labels(missing)
            for word in missing - labels.keys():  # looked for again after 500 more posts
                misses[word] = self._texts_added
            if len(misses) > _LABELS_CAP:
                misses.clear()
        out: list[TermTrend] = []
        for trend in trends:
            parts = trend.term.split(" ")
            if all(w in labels for w in parts):
                out.append(replace(trend, label=" ".join(labels[w] for w in parts)))
            else:
                out.append(trend)
        return tuple(out)

    def _learn_labels(self, wanted: set[str]) -> None:
        """Find how recent posts write each folded word of ``wanted``: the commonest lower-case
        spelling when there is one ("almoço" for *almoco*), else the commonest capitalised one
        inside a sentence ("Berlin"), else the first-word-of-a-sentence spelling without its
        capital; for a hashtag, its commonest spelling ("#LumenX1")."""
        inside: dict[str, Counter[str]] = {}
        initial: dict[str, Counter[str]] = {}
        for text in self._recent_texts:
            for match in TERM_WORD_RE.finditer(text):  # words as people write them
                token = match.group()
                key = fold(token)
                if key not in wanted:
                    continue
                start = match.start()
                before = text[:start].rstrip()
                if key[0] != "#" and (not before or before[-1] in _SENTENCE_END):
                    counts = initial.setdefault(key, Counter())
                    counts[token[:1].lower() + token[1:]] += 1
                else:
                    inside.setdefault(key, Counter())[token] += 1
        if len(self._labels) + len(wanted) > _LABELS_CAP:
            self._labels.clear()
        for key in wanted:
            seen = inside.get(key)
            if seen and key.startswith("#"):  # capitals help read a hashtag
                self._labels[key] = max((n, f != f.lower(), f) for f, n in seen.items())[2]
            elif seen:
                lower = [(n, form) for form, n in seen.items() if form == form.lower()]
                self._labels[key] = max(lower or [(n, f) for f, n in seen.items()])[1]
            elif key in initial:
                self._labels[key] = max((n, f) for f, n in initial[key].items())[1]

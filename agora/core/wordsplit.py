"""Glued words read apart: "shitphone" → "shit phone", "whatthefuck" → "what the fuck".

The most likely split of a string of letters is the one whose words are the most frequent: by
Zipf's law a word of frequency rank ``r`` costs ``log(r · log N)``, and the split with the least
total cost wins ("therapist" stays whole: one frequent word beats "the" + "rapist"). The words and
their ranks are the English word list of the ``wordninja`` package (126,000 words from Wikipedia,
most frequent first; shipped in its wheel, nothing is downloaded). The list is read once, the
first time a glued word needs it (about 0.1 s, 11 MB); each split costs a few tens of µs, so
callers split only what may hide a listed word, and remember the answers.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import math
from collections.abc import Iterable
from pathlib import Path

#: longest word looked for (longer dictionary words are rare compounds)
MAX_WORD = 24
#: the cost of a letter no dictionary word covers: a split always exists, and a poor one
_UNKNOWN = 40.0
#: costs are kept in steps of 1/8: small integers, shared by every entry (memory)
_STEP = 8


class WordList:
    """English words by frequency: look-ups and the most likely split of glued words."""

    def __init__(self, words: list[str]) -> None:
        scale = math.log(len(words))
        costs: dict[str, int] = {}
        for rank, word in enumerate(words):
            if word.isalpha() and word.isascii() and word not in costs:
                costs[word] = round(math.log((rank + 1) * scale) * _STEP)
        self._costs = costs

    def __contains__(self, word: object) -> bool:
        return word in self._costs

    def __len__(self) -> int:
        return len(self._costs)

    def words(self) -> Iterable[str]:
        """Every word, most frequent first."""
        return self._costs.keys()

    def common(self, word: str, rank: int) -> bool:
        """True when ``word`` is among the ``rank`` most frequent words."""
        cost = self._costs.get(word)
        return cost is not None and cost <= math.log(rank * math.log(len(self))) * _STEP

    def split(self, letters: str) -> list[str]:
        """The most likely words of ``letters`` (lower-case ASCII letters), in order."""
        n = len(letters)
        if not n:
            return []
        costs = self._costs
        best = [0.0] * (n + 1)
        start = [0] * (n + 1)
        for end in range(1, n + 1):
            # one letter alone always fits, at a high price unless it is a word ("a", "i"); the
            # list's other letters (abbreviations) would read "assclown" as "as s clown"
            letter = letters[end - 1]
            found = best[end - 1] + (costs[letter] / _STEP if letter in "ai" else _UNKNOWN)
            begin = end - 1
            for length in range(2, min(end, MAX_WORD) + 1):
                cost = costs.get(letters[end - length : end])
                if cost is not None and best[end - length] + cost / _STEP < found:
                    found = best[end - length] + cost / _STEP
                    begin = end - length
            best[end] = found
            start[end] = begin
        words: list[str] = []
        end = n
        while end:
            words.append(letters[start[end] : end])
            end = start[end]
        words.reverse()
        return words


@functools.cache
def english() -> WordList:
    """The English word list (read once)."""
    spec = importlib.util.find_spec("wordninja")
    if spec is None or spec.origin is None:
        raise RuntimeError("the wordninja package is not installed")
    path = Path(spec.origin).parent / "wordninja" / "wordninja_words.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as file:
        return WordList(file.read().split())


__all__ = ["MAX_WORD", "WordList", "english"]

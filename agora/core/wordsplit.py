"""Glued words read apart: "shitphone" → "shit phone", "whatthefuck" → "what the fuck".

The most likely split of a string of letters is the one whose words are the most frequent: by
Zipf's law a word of frequency rank ``r`` costs ``log(r · log N)``, and the split with the least
total cost wins ("therapist" stays whole: one frequent word beats "the" + "rapist"). The words and
their ranks are the English word list of the ``wordninja`` package (126,000 words from Wikipedia,
most frequent first; shipped in its wheel, nothing is downloaded). The list is read once, the
first time a glued word needs it (about 0.3 s, 4 MB); a split of a dozen letters costs about
0.1 ms (most pieces tried are no word: their first three letters and length rule them out in one
set look-up), so callers still split only what may hide a listed word, and remember the answers.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import math
from array import array
from collections.abc import Iterator
from pathlib import Path

#: longest word looked for (longer dictionary words are rare compounds)
MAX_WORD = 24
#: the cost of a letter no dictionary word covers: a split always exists, and a poor one
_UNKNOWN = 40.0
#: the most frequent words are kept in a dictionary as well: most look-ups that find a word find
#: one of these, without a binary search
_FREQUENT = 20_000


class WordList:
    """English words by frequency: look-ups and the most likely split of glued words.

    Kept compact (about 4 MB instead of the 15 a dictionary of 126,000 strings takes): the words
    of each length sorted in one string, their ranks in an array beside it; a look-up is a set
    look-up that rules most non-words out (the first three letters and the length of every word),
    then the frequent words' dictionary, then a binary search (a few µs)."""

    def __init__(self, words: list[str]) -> None:
        self._scale = math.log(max(len(words), 2))
        by_length: dict[int, dict[str, int]] = {}
        for rank, word in enumerate(words):
            if word.isalpha() and word.isascii() and len(word) <= MAX_WORD:
                by_length.setdefault(len(word), {}).setdefault(word, rank)
        self._tables: dict[int, tuple[str, array[int]]] = {}
        for length, ranks in by_length.items():
            ordered = sorted(ranks)
            self._tables[length] = ("".join(ordered), array("I", (ranks[w] for w in ordered)))
        self._size = sum(len(r) for r in by_length.values())
        self._frequent = {
            word: rank
            for ranks in by_length.values()
            for word, rank in ranks.items()
            if rank < _FREQUENT
        }
        # a word of three letters or more begins with one of these (its first three letters and
        # its length as one character): one set look-up rejects most pieces a split tries
        self._heads = frozenset(
            word[:3] + chr(length)
            for length, ranks in by_length.items()
            if length >= 3
            for word in ranks
        )

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.rank(word) is not None

    def __len__(self) -> int:
        return self._size

    def rank(self, word: str) -> int | None:
        """How frequent ``word`` is (0: the most frequent), ``None`` when it is not a word."""
        n = len(word)
        if n >= 3 and word[:3] + chr(n) not in self._heads:
            return None
        found = self._frequent.get(word)
        if found is not None:
            return found
        table = self._tables.get(n)
        if table is None:
            return None
        text, ranks = table
        low, high = 0, len(ranks)
        while low < high:
            middle = (low + high) // 2
            if text[middle * n : middle * n + n] < word:
                low = middle + 1
            else:
                high = middle
        if low < len(ranks) and text[low * n : low * n + n] == word:
            return ranks[low]
        return None

    def words(self, limit: int | None = None) -> Iterator[str]:
        """Every word (in no particular order), or the ``limit`` most frequent."""
        for length, (text, ranks) in self._tables.items():
            for index, rank in enumerate(ranks):
                if limit is None or rank < limit:
                    yield text[index * length : index * length + length]

    def common(self, word: str, rank: int) -> bool:
        """True when ``word`` is among the ``rank`` most frequent words."""
        found = self.rank(word)
        return found is not None and found < rank

    def cost(self, word: str) -> float | None:
        """The price of ``word`` in a split (rarer words cost more), ``None`` for a non-word."""
        rank = self.rank(word)
        return None if rank is None else math.log((rank + 1) * self._scale)

    def split(self, letters: str) -> list[str]:
        """The most likely words of ``letters`` (lower-case ASCII letters), in order."""
        n = len(letters)
        if not n:
            return []
        best = [0.0] * (n + 1)
        start = [0] * (n + 1)
        for end in range(1, n + 1):
            # one letter alone always fits, at a high price unless it is a word ("a", "i"); the
            # list's other letters (abbreviations) would read "assclown" as "as s clown"
            letter = letters[end - 1]
            single = self.cost(letter) if letter in "ai" else None
            found = best[end - 1] + (_UNKNOWN if single is None else single)
            begin = end - 1
            for length in range(2, min(end, MAX_WORD) + 1):
                cost = self.cost(letters[end - length : end])
                if cost is not None and best[end - length] + cost < found:
                    found = best[end - length] + cost
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

"""The features of the sentiment model, computed for a whole batch of posts at once.

One module serves both sides: ``tools/train_sentiment.py`` builds the training matrix with it, and
:class:`~agora.core.sentiment_model.ModelScorer` scores posts with the very same code, so a
feature means the same at training and at run time. Every feature is a row of one weight table:

* **words**: the tokens of the normalised text (words, hashtags, emoticons, emoji, runs of ``!``
  and ``?``) and pairs of neighbouring tokens, hashed with CRC-32 (stable across processes and
  machines, unlike Python's salted ``hash()``);
* **characters**: every 2- to 5-character slice of the normalised text, hashed by a polynomial over
  the code points, computed with numpy over the whole batch in a few array operations;
* **rules**: a handful of dense values: the rule scorer's polarity (VADER lexicon, emoji, negation,
  contrast…), its positive and negative parts, and a few marks of emphasis.

Both hashed families fall into ``2**bits`` rows; the dense values take the last :data:`DENSE`
rows. The text is normalised first: escapes read, URLs and @mentions replaced by a placeholder,
lower case, digits folded to ``0``, letters repeated more than three times cut to three.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from agora.core.sentiment_social import RuleScorer

#: Names of the dense rule features, in column order.
DENSE_NAMES = (
    "rule_score",
    "rule_positive",
    "rule_negative",
    "rule_positive_sum",
    "rule_negative_sum",
    "exclamation",
    "question",
    "elongation",
    "caps",
    "negation",
)
#: How many dense rule features there are.
DENSE = len(DENSE_NAMES)

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
#: Multiplier of the character polynomial (odd, so no information is lost in the low bits).
_POLY = np.uint64(0x100000001B3)
#: Fibonacci hashing: the top bits of ``h * _GOLDEN`` index the table.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
#: One salt per feature family, so a word and the same characters as a slice differ.
_SALT_WORD = np.uint64(0x51ED270B27A1C6F3)
_SALT_PAIR = np.uint64(0x2545F4914F6CDD1D)
_SALT_CHAR = np.uint64(0x94D049BB133111EB)


@dataclass(frozen=True, slots=True)
class FeatureSettings:
    """What the features are; saved beside the weights and checked when they are loaded."""

    bits: int = 18
    """The hashed features fall into ``2**bits`` rows."""
    char_min: int = 2
    """Shortest character slice."""
    char_max: int = 5
    """Longest character slice."""
    word_pairs: bool = True
    """Pairs of neighbouring tokens as well as single tokens."""
    negation_marks: bool = True
    """Tokens after a negator (up to the next punctuation) are marked as negated."""
    version: int = 1
    """Bumped whenever the feature code changes what a setting means."""

    @property
    def rows(self) -> int:
        """Rows of the weight table: the hashed rows and the dense ones."""
        return (1 << self.bits) + DENSE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSettings:
        """The settings saved by :meth:`to_dict`."""
        return cls(**data)


# ------------------------------------------------------------------------------------------------
# normalisation and tokens

_ESCAPE_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
#: Applied after lower-casing (a case-sensitive pattern is several times faster).
_URL_RE = re.compile(r"(?:https?://|www\.)\S+")
_MENTION_RE = re.compile(r"@\w+")
#: A character repeated four times or more (not across lines: ``.`` stops at a newline).
_REPEAT_RE = re.compile(r"(.)\1\1\1+")
_DIGITS = str.maketrans("123456789", "000000000")
_ELONGATED_RE = re.compile(r"([^\W\d_])\1\1")
_CAPS_WORD_RE = re.compile(r"\b[A-Z]{3,}\b")

_EMOJI_CLASS = (
    "\U0001f300-\U0001f5ff\U0001f600-\U0001f64f\U0001f680-\U0001f6ff\U0001f900-\U0001f9ff"
    "\U0001fa70-\U0001faff\u2600-\u27bf\u2b50\u2b55\u2190-\u21ff\u2300-\u23ff\u2764"
)
#: One token: a word (with inner apostrophes), a hashtag or the mention placeholder, an emoticon,
#: a run of ``!``/``?``, or one emoji. Words come first (most tokens are words); no emoticon
#: starts with a word character (digits are all ``0`` by then), so the order changes nothing else.
_TOKEN_RE = re.compile(
    r"[#@]?\w+(?:'\w+)*"
    r"|(?:[:;=8][-'^o]?[()\[\]dpo/\\|*3$@]+|[()\[\]][-'^o]?[:;=]|</?3+|\^_?\^|-_-|>_<)"
    r"|[!?]+|[" + _EMOJI_CLASS + "]"
)
#: The tokens and each mark of punctuation between clauses (tried after every other alternative,
#: one character at a time, so the tokens found are the same).
_CLAUSE_RE = re.compile(_TOKEN_RE.pattern + r"|[.,;:]")
#: Words that negate what follows them, up to the next punctuation.
NEGATORS = frozenset(
    ["not", "no", "never", "nor", "neither", "nobody", "nothing", "nowhere", "none", "without", "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "wont", "wouldnt", "shouldnt", "couldnt", "hasnt", "havent", "hadnt", "aint", "n't", "don't", "can't", "won't", "isn't", "aren't", "wasn't", "weren't", "doesn't", "didn't", "couldn't", "wouldn't", "shouldn't", "hasn't", "haven't", "hadn't", "ain't"]
)
_CLAUSE_END = ".,;:!?"


def _unescape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char.isprintable() else " "


def _prepare(text: str) -> str:
    """One post's text on one line: escapes read, line breaks and NULs made spaces."""
    if "\\u" in text:
        text = _ESCAPE_RE.sub(_unescape, text)
    if "&" in text and ";" in text:
        text = html.unescape(text)
    return text.replace("\n", " ").replace("\r", " ").replace("\x00", " ")


def normalise_many(texts: Sequence[str]) -> list[str]:
    """:func:`normalise` of each text, with one pass of each step over the whole batch."""
    joined = "\n".join(map(_prepare, texts))
    text = joined.replace("’", "'").replace("‘", "'").lower()
    if "://" in text or "www." in text:
        text = _URL_RE.sub(" httpurl ", text)
    if "@" in text:
        text = _MENTION_RE.sub(" @user ", text)
    text = _REPEAT_RE.sub(r"\1\1\1", text).translate(_DIGITS)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    if len(lines) != len(texts):  # pragma: no cover - every line break was removed first
        raise ValueError("a post's text changed the number of lines")
    return lines


def normalise(text: str) -> str:
    """The text the hashed features are read from (see the module docstring)."""
    return normalise_many([text])[0]


def tokens(normalised: str, negation_marks: bool = True) -> list[str]:
    """The tokens of a normalised text; after a negator, tokens get a ``~`` until punctuation."""
    toks: list[str] = _TOKEN_RE.findall(normalised)
    if not negation_marks or NEGATORS.isdisjoint(toks):
        return toks
    # read again with the punctuation that ends a clause, which is not a token itself
    marked: list[str] = []
    negated = False
    for tok in _CLAUSE_RE.findall(normalised):
        if tok in NEGATORS:
            negated = True
            marked.append(tok)
        elif not tok.strip(_CLAUSE_END):  # punctuation, not an emoticon such as ":)"
            negated = False
            if tok[0] in "!?":
                marked.append(tok)
        else:
            marked.append("~" + tok if negated else tok)
    return marked


# ------------------------------------------------------------------------------------------------
# hashing


def _rows(salted: npt.NDArray[np.uint64], bits: int) -> npt.NDArray[np.int64]:
    """Rows ``0 … 2**bits - 1`` for salted 64-bit hashes (Fibonacci hashing, mixed twice)."""
    mixed = salted * _GOLDEN
    mixed ^= mixed >> np.uint64(29)
    mixed *= _GOLDEN
    return (mixed >> np.uint64(64 - bits)).astype(np.int64)


_INVERSE = np.uint64(pow(int(_POLY), -1, 1 << 64))
_powers: list[npt.NDArray[np.uint64]] = [np.ones(1, np.uint64), np.ones(1, np.uint64)]


def _power_tables(size: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """``_POLY**k`` and ``_INVERSE**k`` for ``k < size`` (grown on demand, kept)."""
    if len(_powers[0]) < size:
        grown = max(size, 2 * len(_powers[0]), 4096)
        for i, base in enumerate((_POLY, _INVERSE)):
            table = np.full(grown, base, dtype=np.uint64)
            table[0] = 1
            _powers[i] = np.cumprod(table, dtype=np.uint64)
    return _powers[0], _powers[1]


def word_hashes(toks: Sequence[str]) -> npt.NDArray[np.uint64]:
    """A polynomial hash of each token's code points (the same arithmetic as
    :func:`char_hashes`), for all tokens of a batch in a few array operations.

    With ``G[i]`` the sum of ``code[k] * _INVERSE**k`` for ``k < i``, the hash of the codes from
    ``s`` to ``e`` is ``(G[e] - G[s]) * _POLY**(e - 1)``, all modulo 2**64.
    """
    if not toks:
        return np.zeros(0, dtype=np.uint64)
    joined = "".join(toks)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lengths = np.fromiter(map(len, toks), dtype=np.int64, count=len(toks))
    ends = np.cumsum(lengths)
    powers, inverses = _power_tables(len(codes) + 1)
    prefix = np.zeros(len(codes) + 1, dtype=np.uint64)
    np.cumsum((codes.astype(np.uint64) + np.uint64(1)) * inverses[: len(codes)], out=prefix[1:])
    return (prefix[ends] - prefix[ends - lengths]) * powers[ends - 1]  # type: ignore[no-any-return]


def char_hashes(
    codes: npt.NDArray[np.uint64], left: npt.NDArray[np.int64], smallest: int, largest: int
) -> npt.NDArray[np.uint64]:
    """Polynomial hashes of the slices of ``smallest`` to ``largest`` characters of ``codes``,
    position after position (and at each position, shortest first).

    ``left[i]`` is how many characters of its post start at ``i`` (0 on the separators between
    posts): a slice of ``n`` characters is taken where ``left >= n``, so none crosses into the next
    post. Each length is built from the one before (``h(n) = h(n-1) * _POLY + code``); unsigned
    64-bit arithmetic wraps, which is the modulus of the polynomial.
    """
    table = np.zeros((len(codes), largest - smallest + 1), dtype=np.uint64)
    h = codes
    for n in range(2, largest + 1):
        h = h[: len(codes) - n + 1] * _POLY + codes[n - 1 :]
        if n >= smallest:
            table[: len(h), n - smallest] = h + (np.uint64(n) << np.uint64(56))
    sizes = np.arange(smallest, largest + 1)
    return table[left[:, None] >= sizes[None, :]]


# ------------------------------------------------------------------------------------------------
# the batch

#: The two hashed families: each is scaled to unit length per post.
WORDS = 0
CHARS = 1


@dataclass(slots=True)
class Group:
    """Hashed features of one kind (words, pairs of words, slices of one length) for a batch."""

    family: int
    """:data:`WORDS` or :data:`CHARS`."""
    rows: npt.NDArray[np.int64]
    """Rows of the weight table, post after post."""
    counts: npt.NDArray[np.int64]
    """How many of ``rows`` belong to each post."""


@dataclass(slots=True)
class Batch:
    """The features of a batch of ``n`` posts."""

    groups: list[Group]
    scale: npt.NDArray[np.float64]
    """``(2, n)``: the value of every feature of a family in a post: ``1/sqrt(count)``, as if its
    counts were scaled to unit length."""
    dense: npt.NDArray[np.float64]
    """``(n, DENSE)``: the rule features of each post."""
    empty: npt.NDArray[np.bool_]
    """Posts without a single token (nothing to score)."""

    def triples(
        self,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """(post, row, value) of every hashed feature: the training matrix is built from these."""
        n = len(self.empty)
        posts = [np.repeat(np.arange(n), g.counts) for g in self.groups]
        values = [self.scale[g.family][p] for g, p in zip(self.groups, posts, strict=True)]
        return (
            np.concatenate(posts),
            np.concatenate([g.rows for g in self.groups]),
            np.concatenate(values),
        )


class Featuriser:
    """Turns a batch of texts into :class:`Batch` features (see the module docstring)."""

    def __init__(self, settings: FeatureSettings, rules: RuleScorer) -> None:
        self.settings = settings
        self.rules = rules

    def __call__(self, texts: Sequence[str]) -> Batch:
        """The features of ``texts``."""
        s = self.settings
        n = len(texts)
        normalised = normalise_many(texts)
        # words and pairs of neighbouring words
        all_toks: list[str] = []
        word_counts = np.zeros(n, dtype=np.int64)
        for i, norm in enumerate(normalised):
            toks = tokens(norm, s.negation_marks)
            word_counts[i] = len(toks)
            all_toks.extend(toks)
        empty = word_counts == 0
        words = word_hashes(all_toks)
        salted = [words ^ _SALT_WORD]
        counts = [word_counts]
        if s.word_pairs:
            # every token but the last of its post starts a pair
            last = np.cumsum(word_counts)[~empty] - 1
            starts_pair = np.ones(len(all_toks), dtype=np.bool_)
            starts_pair[last] = False
            first = np.flatnonzero(starts_pair)
            salted.append((words[first] * _POLY + words[first + 1]) ^ _SALT_PAIR)
            counts.append(np.maximum(word_counts - 1, 0))
        # slices of " text " of each post, over the batch joined by a separator
        padded = "\x00".join(f" {norm} " for norm in normalised)
        codes = np.frombuffer(padded.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        lengths = np.array([len(norm) + 2 for norm in normalised], dtype=np.int64)
        # characters left in the post from each position (0 on the separator after a post)
        ends = np.cumsum(lengths + 1) - 1
        left = np.repeat(ends, lengths + 1)[: len(codes)] - np.arange(len(codes))
        codes64 = codes.astype(np.uint64) + np.uint64(1)
        salted.append(char_hashes(codes64, left, s.char_min, s.char_max) ^ _SALT_CHAR)
        sizes = np.arange(s.char_min, s.char_max + 1)
        counts.append(np.maximum(lengths[:, None] - sizes[None, :] + 1, 0).sum(axis=1))
        # one pass of the mixing for every feature of the batch, then cut back into groups
        rows = _rows(np.concatenate(salted), s.bits)
        cuts = np.cumsum([len(part) for part in salted])[:-1]
        families = (WORDS, WORDS, CHARS) if s.word_pairs else (WORDS, CHARS)
        groups = [
            Group(family, part, count)
            for family, part, count in zip(families, np.split(rows, cuts), counts, strict=True)
        ]
        scale = np.zeros((2, n), dtype=np.float64)
        for family in (WORDS, CHARS):
            total = sum(g.counts for g in groups if g.family == family)
            assert isinstance(total, np.ndarray)
            nonzero = total > 0
            scale[family, nonzero] = 1.0 / np.sqrt(total[nonzero])
        return Batch(groups=groups, scale=scale, dense=self.dense(texts), empty=empty)

    def dense(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """The rule features of each text (:data:`DENSE_NAMES`)."""
        n = len(texts)
        out = np.zeros((n, DENSE), dtype=np.float64)
        if not n:
            return out
        parts = np.array(list(map(self.rules.parts, texts)), dtype=np.float64).reshape(n, 4)
        total, positive, negative, negated = parts.T
        score = total / np.sqrt(total * total + self.rules.params.alpha)
        out[:, 0] = score
        out[:, 1] = np.maximum(score, 0.0)
        out[:, 2] = np.maximum(-score, 0.0)
        out[:, 3] = positive / (positive + 4.0)
        out[:, 4] = negative / (negative + 4.0)
        out[:, 5] = ["!" in t for t in texts]
        out[:, 6] = ["?" in t for t in texts]
        # the two patterns are slow over whole texts: numpy finds the few posts with three equal
        # characters, or three capitals, in a row, and the patterns check only those
        joined = "\x00".join(texts)
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        ends = np.cumsum([len(t) + 1 for t in texts])
        same = (codes[:-2] == codes[1:-1]) & (codes[1:-1] == codes[2:])
        capital = (codes >= 65) & (codes <= 90)
        caps = capital[:-2] & capital[1:-1] & capital[2:]
        for column, pattern, hits in ((7, _ELONGATED_RE, same), (8, _CAPS_WORD_RE, caps)):
            where = np.flatnonzero(hits)
            if len(where):
                for i in set(np.searchsorted(ends, where, side="right").tolist()):
                    out[i, column] = pattern.search(texts[i]) is not None
        out[:, 9] = negated > 0
        return out

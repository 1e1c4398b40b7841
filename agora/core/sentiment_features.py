"""The features of the sentiment model, computed for a whole batch of posts at once.

One module serves both sides: ``tools/train_sentiment.py`` builds the training matrix with it, and
:class:`~agora.core.sentiment_model.ModelScorer` scores posts with the very same code, so a
feature means the same at training and at run time. Every feature is a row of one weight table:

* **words**: the tokens the rule scorer reads (words, hashtags, @mentions, emoticons, emoji, runs
  of ``!`` and ``?``; URLs are left out), in a normal form: lower case, digits folded to ``0``, a
  character repeated more than three times cut to three, every @mention the same token. A negator
  marks the tokens after it, up to the next punctuation, with ``~``. Pairs of neighbouring tokens
  are features too;
* **characters**: every 2- to 5-character slice of each token written between spaces (``" ok "``:
  ``" o"``, ``"ok"``, ``"k "``, ``" ok"``, ``"ok "``, ``" ok "``);
* **rules**: a handful of dense values: the rule scorer's polarity (VADER lexicon, emoji,
  negation, contrast…), its positive and negative parts, marks of emphasis, and what says a post
  may hold no opinion (nothing the rule scorer counts; a question word first).

Both hashed families fall into ``2**bits`` rows (a polynomial hash over the code points, the same
on every machine); each family is scaled to unit length per post; the dense values take the last
:data:`DENSE` rows.

Speed: a post's tokens come from the rule scorer's reading of it, which takes them from the post's
shared reading (:mod:`agora.core.tokens`: one tokenisation for every stage of the pipeline), and
every distinct token is worked out once (:class:`Vocabulary`): its normal form, its rows, the rows
of its slices and, when scoring, the sum of their weights. A post then costs a dictionary lookup
per token and its share of a few numpy operations per batch.
"""

from __future__ import annotations

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
    "no_evidence",
    "asks",
)
#: How many dense rule features there are.
DENSE = len(DENSE_NAMES)

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
    pair_weight: float = 0.5
    """The value of a pair of tokens beside a single token's (pairs are many and most are rare:
    at full weight they outvote the words in short posts)."""
    version: int = 2
    """Bumped whenever the feature code changes what a setting means (2: the rule scorer's tokens,
    slices of each token, weighted pairs, two more dense features)."""

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
# tokens in their normal form

#: A character repeated four times or more.
_REPEAT_RE = re.compile(r"(.)\1\1\1+")
_DIGITS = str.maketrans("123456789", "000000000")
_ELONGATED_RE = re.compile(r"([^\W\d_])\1\1")
_CAPS_WORD_RE = re.compile(r"\b[A-Z]{3,}\b")
#: Punctuation the rule scorer's tokens are made of: a run of it ends a clause.
_CLAUSE_END = "!?.,;:"
#: The normal form of every @mention.
MENTION = "@user"


def _words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` (keeps the word lists below readable)."""
    return frozenset(text.split())


#: Words that negate what follows them, up to the next punctuation.
NEGATORS = _words("""
    not no never nor neither nobody nothing nowhere none without cannot cant dont doesnt didnt
    isnt arent wasnt werent wont wouldnt shouldnt couldnt hasnt havent hadnt aint n't don't can't
    won't isn't aren't wasn't weren't doesn't didn't couldn't wouldn't shouldn't hasn't haven't
    hadn't ain't
""")
#: First words of a post that asks something ("How do I…", "Is there…").
QUESTION_WORDS = _words("""
    how what when where why who whom whose which can could does do did is are was were will would
    should shall may has have any anyone anybody
""")

#: Kinds of token (:attr:`Vocabulary.kinds`).
WORD = 0
"""A word, hashtag, @mention, emoticon or emoji: marked after a negator."""
NEGATOR = 1
"""A negator: marks what follows it."""
END = 2
"""A run of punctuation (``!!``, ``...``, ``?!``): ends a clause."""


def normal_form(token: str) -> tuple[str, int]:
    """The normal form of one of the rule scorer's tokens, and its kind."""
    low = token.lower()
    if low[0] == "@":
        return MENTION, WORD
    # each step only when it may change something: most tokens are letters and repeat nothing,
    # and a substitution with a template costs ten searches
    form = low if low.isalpha() else low.translate(_DIGITS)
    if _REPEAT_RE.search(form) is not None:
        form = _REPEAT_RE.sub(r"\1\1\1", form)
    if not low.strip(_CLAUSE_END):
        return form, END
    return form, NEGATOR if form in NEGATORS else WORD


def tokens(text: str, rules: RuleScorer, negation_marks: bool = True) -> list[str]:
    """The word features of ``text`` in their normal form, ``~`` marking negated ones (for tests
    and for reading; the scorer works on ids, see :meth:`Featuriser.__call__`)."""
    marked: list[str] = []
    negated = False
    for tok in rules.read(text)[3]:
        form, kind = normal_form(tok)
        if kind == NEGATOR:
            negated = negation_marks
        elif kind == END:
            negated = False
        marked.append("~" + form if negated and kind == WORD else form)
    return marked


# ------------------------------------------------------------------------------------------------
# hashing


def _rows(salted: npt.NDArray[np.uint64], bits: int) -> npt.NDArray[np.int64]:
    """Rows ``0 … 2**bits - 1`` for salted 64-bit hashes (Fibonacci hashing, mixed twice)."""
    mixed = salted * _GOLDEN
    mixed ^= mixed >> np.uint64(29)
    mixed *= _GOLDEN
    return (mixed >> np.uint64(64 - bits)).astype(np.int64)


def _codes(texts: Sequence[str], separator: str = "") -> npt.NDArray[np.uint32]:
    """The code points of ``texts`` joined by ``separator``."""
    joined = separator.join(texts)
    return np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


_INVERSE = np.uint64(pow(int(_POLY), -1, 1 << 64))
#: What :func:`word_hashes` adds for the negation mark ``~`` in front of a word (its code + 1).
_MARK_CODE = np.uint64(ord("~") + 1)
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


def word_hashes(words: Sequence[str]) -> npt.NDArray[np.uint64]:
    """A polynomial hash of each word's code points (the same arithmetic as
    :func:`char_hashes`), for many words in a few array operations.

    With ``G[i]`` the sum of ``code[k] * _INVERSE**k`` for ``k < i``, the hash of the codes from
    ``s`` to ``e`` is ``(G[e] - G[s]) * _POLY**(e - 1)``, all modulo 2**64.
    """
    if not words:
        return np.zeros(0, dtype=np.uint64)
    codes = _codes(words)
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
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

    ``left[i]`` is how many characters of its token start at ``i``: a slice of ``n`` characters is
    taken where ``left >= n``, so none crosses into the next token. Each length is built from the
    one before (``h(n) = h(n-1) * _POLY + code``); unsigned 64-bit arithmetic wraps, which is the
    modulus of the polynomial.
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
# every distinct token, worked out once


class Vocabulary:
    """The tokens seen so far and what the features need of each, worked out once per token.

    A token (as the rule scorer reads it) maps to the key of its normal form: form ``i`` has key
    ``2 * i``, and ``2 * i + 1`` is the same form marked as negated. The arrays are indexed by key.
    With ``weights`` (scoring: ``(rows, 2)``, a row's weights for the two classes), :attr:`sums`
    holds what the scorer adds up for a token; without (training), :attr:`slices` keeps the rows of
    each form's slices.

    It forgets everything once it holds ``limit`` tokens (a post's features do not depend on what
    was seen before it, so nothing changes but the time): about 20 MB at most.
    """

    def __init__(
        self,
        settings: FeatureSettings,
        weights: npt.NDArray[np.float64] | None = None,
        limit: int = 100_000,
    ) -> None:
        self.settings = settings
        self.weights = weights
        self.limit = limit
        self.clear()

    def clear(self) -> None:
        """Forget every token."""
        self.index: dict[str, int] = {}
        """A token → the key of its form."""
        self.forms: dict[str, int] = {}
        """A normal form → its key."""
        self.kinds: list[int] = []
        """By key: the kind of the form (:data:`WORD`, :data:`NEGATOR`, :data:`END`)."""
        self.negators: set[int] = set()
        """Keys of the negators."""
        self.shouting: set[str] = set()
        """Tokens written in capitals (three or more: ``"NEVER"``, not ``"TV"``)."""
        self.elongated: set[str] = set()
        """Tokens with a letter written three times in a row (``"sooo"``)."""
        self.pending: list[str] = []
        """Forms added since the last :meth:`commit` (their arrays are not filled in yet)."""
        self.size = 0
        """Keys whose arrays are filled in."""
        self.hashes = np.zeros(0, dtype=np.uint64)
        """By key: the polynomial hash of the (marked) form, for pairs."""
        self.rows = np.zeros(0, dtype=np.int64)
        """By key: the row of the (marked) form's word feature."""
        self.slice_counts = np.zeros(0, dtype=np.int64)
        """By key: how many character slices the form has."""
        self.slices: list[npt.NDArray[np.int64]] = []
        """By form (key // 2), when training: the rows of the form's slices."""
        self.sums = np.zeros((0, 5), dtype=np.float64)
        """By key, when scoring: the word feature's two weights, the sums of the slices' two
        weights, and how many slices there are."""

    @property
    def full(self) -> bool:
        """Whether it holds its limit of tokens."""
        return len(self.index) >= self.limit

    def keys(self, toks: Sequence[str]) -> list[int]:
        """The key of each token's form (new forms wait for :meth:`commit`)."""
        keys = list(map(self.index.get, toks))  # one C-level pass
        if None in keys:  # a new token (more than half the posts of a stream of new ones)
            add = self._add
            keys = [add(tok) if key is None else key for tok, key in zip(toks, keys, strict=True)]
        return keys  # type: ignore[return-value]

    def _add(self, tok: str) -> int:
        # three capitals in a row need two after the first character: most words have none
        if not tok[1:].islower() and _CAPS_WORD_RE.search(tok) is not None:
            self.shouting.add(tok)
        if _ELONGATED_RE.search(tok) is not None:
            self.elongated.add(tok)
        form, kind = normal_form(tok)
        found = self.forms.get(form)
        if found is None:
            found = self.forms[form] = len(self.kinds)
            self.kinds += (kind, kind)
            self.pending.append(form)
            if kind == NEGATOR:
                self.negators.add(found)
        self.index[tok] = found
        return found

    def commit(self) -> None:
        """Work out the arrays of the forms added since the last call, in one numpy pass."""
        forms = self.pending
        new = len(forms)
        if not new:
            return
        s = self.settings
        plain = word_hashes(forms)
        sizes_of_forms = np.fromiter(map(len, forms), dtype=np.int64, count=new)
        hashes = np.empty(2 * new, dtype=np.uint64)
        hashes[0::2] = plain
        # the form marked as negated, "~form": its hash is the form's plus the mark's code
        # times _POLY ** len(form) (word_hashes' arithmetic, without hashing it again)
        powers = _power_tables(int(sizes_of_forms.max()) + 1)[0]
        hashes[1::2] = plain + _MARK_CODE * powers[sizes_of_forms]
        rows = _rows(hashes ^ _SALT_WORD, s.bits)
        # the slices of " form " of each form, over the forms joined by a separator
        padded = [f" {f} " for f in forms]
        lengths = sizes_of_forms + 2
        codes = _codes(padded, "\x00").astype(np.uint64) + np.uint64(1)
        ends = np.cumsum(lengths + 1) - 1
        left = np.repeat(ends, lengths + 1)[: len(codes)] - np.arange(len(codes))
        char_rows = _rows(char_hashes(codes, left, s.char_min, s.char_max) ^ _SALT_CHAR, s.bits)
        sizes = np.arange(s.char_min, s.char_max + 1)
        counts = np.maximum(lengths[:, None] - sizes[None, :] + 1, 0).sum(axis=1)
        self.hashes = _extend(self.hashes, hashes, self.size)
        self.rows = _extend(self.rows, rows, self.size)
        self.slice_counts = _extend(self.slice_counts, np.repeat(counts, 2), self.size)
        if self.weights is None:
            self.slices.extend(np.split(char_rows, np.cumsum(counts)[:-1]))
        else:
            w = self.weights
            sums = np.empty((2 * new, 5), dtype=np.float64)
            sums[:, :2] = w[rows]
            starts = np.cumsum(counts) - counts  # every form has slices: " x " has three
            slice_sums = np.add.reduceat(w[char_rows], starts, axis=0)
            sums[0::2, 2:4] = slice_sums
            sums[1::2, 2:4] = slice_sums
            sums[:, 4] = np.repeat(counts, 2)
            self.sums = _extend(self.sums, sums, self.size)
        self.size += 2 * new
        self.pending = []


def _extend(array: npt.NDArray[Any], more: npt.NDArray[Any], used: int) -> npt.NDArray[Any]:
    """``array[:used]`` followed by ``more``, in place when there is room (room doubles as it
    grows, so filling in a token costs the same however many are known)."""
    size = used + len(more)
    if size > len(array):
        grown = np.zeros((max(size, 2 * len(array), 1024), *array.shape[1:]), dtype=array.dtype)
        grown[:used] = array[:used]
        array = grown
    array[used:size] = more
    return array


# ------------------------------------------------------------------------------------------------
# the batch

#: The two hashed families: each is scaled to unit length per post.
WORDS = 0
CHARS = 1


@dataclass(slots=True)
class Batch:
    """The features of a batch of ``n`` posts."""

    vocabulary: Vocabulary
    keys: npt.NDArray[np.int64]
    """The vocabulary key of every token (plus 1 when negated), post after post."""
    counts: npt.NDArray[np.int64]
    """``(n,)``: how many of ``keys`` belong to each post."""
    pair_rows: npt.NDArray[np.int64]
    """The rows of the pairs of neighbouring tokens, post after post."""
    pair_counts: npt.NDArray[np.int64]
    """``(n,)``: how many of ``pair_rows`` belong to each post."""
    dense: npt.NDArray[np.float64]
    """``(n, DENSE)``: the rule features of each post."""
    starts: npt.NDArray[np.int64]
    """Where in ``keys`` each post with tokens starts (posts without any have no entry)."""
    pair_starts: npt.NDArray[np.int64]
    """Where in ``pair_rows`` each post with pairs starts (posts without any have no entry)."""

    @property
    def empty(self) -> npt.NDArray[np.bool_]:
        """Posts without a single token (nothing to score)."""
        return self.counts == 0  # type: ignore[no-any-return]

    def scale(self) -> npt.NDArray[np.float64]:
        """``(2, n)``: the value of every feature of a family (:data:`WORDS`, :data:`CHARS`) in a
        post: ``1/sqrt(count)``, as if its counts were scaled to unit length."""
        counts = self.counts
        present = counts > 0
        chars = np.zeros(len(counts), dtype=np.int64)
        if len(self.keys):
            starts = (np.cumsum(counts) - counts)[present]
            chars[present] = np.add.reduceat(self.vocabulary.slice_counts[self.keys], starts)
        scale = np.zeros((2, len(counts)), dtype=np.float64)
        scale[WORDS, present] = 1.0 / np.sqrt((counts + self.pair_counts)[present])
        scale[CHARS, present] = 1.0 / np.sqrt(chars[present])
        return scale

    def triples(
        self,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """(post, row, value) of every hashed feature: the training matrix is built from these
        (needs a vocabulary without weights, which keeps the slices)."""
        vocabulary = self.vocabulary
        post = np.arange(len(self.counts))
        of_token = np.repeat(post, self.counts)
        posts = [
            of_token,
            np.repeat(post, self.pair_counts),
            np.repeat(of_token, vocabulary.slice_counts[self.keys]),
        ]
        slices = [vocabulary.slices[k] for k in (self.keys >> 1).tolist()]
        rows = [
            vocabulary.rows[self.keys],
            self.pair_rows,
            np.concatenate(slices) if slices else np.zeros(0, dtype=np.int64),
        ]
        scale = self.scale()
        values = [
            scale[WORDS][posts[0]],
            scale[WORDS][posts[1]] * self.vocabulary.settings.pair_weight,
            scale[CHARS][posts[2]],
        ]
        return np.concatenate(posts), np.concatenate(rows), np.concatenate(values)


#: How many facts :class:`Featuriser` notes reading a post: the rule scorer's sum of valences, its
#: positive and negative parts (:meth:`~agora.core.sentiment_social.RuleScorer.parts`), then
#: whether it has a ``!``, a ``?``, an elongated word, a word in capitals, a negator that flipped a
#: sentiment word, and whether it starts with a question word. The flags are in the order of
#: :data:`DENSE_NAMES` from ``exclamation`` on, so that they fill their columns in one step.
FACTS = 9


class Featuriser:
    """Turns a batch of texts into :class:`Batch` features (see the module docstring).

    ``weights`` (the model's, ``(rows, 2)``, when scoring) lets the vocabulary keep the sums of
    each token's weights instead of the rows of its slices.
    """

    def __init__(
        self,
        settings: FeatureSettings,
        rules: RuleScorer,
        weights: npt.NDArray[np.float64] | None = None,
    ) -> None:
        self.settings = settings
        self.rules = rules
        self.vocabulary = Vocabulary(settings, weights)

    def __call__(self, texts: Sequence[str]) -> Batch:
        """The features of ``texts``."""
        s = self.settings
        rules = self.rules
        vocabulary = self.vocabulary
        if vocabulary.full:
            vocabulary.clear()
        all_keys: list[int] = []
        marked: list[int] = []  # positions in all_keys of negated tokens
        starts: list[int] = []  # positions in all_keys of the first token of each post with one
        pair_starts: list[int] = []  # positions in the pairs of the first pair of each post
        counts: list[int] = []
        facts: list[float] = []  # FACTS a post, post after post
        negators = vocabulary.negators
        shouting = vocabulary.shouting
        elongated = vocabulary.elongated
        kinds = vocabulary.kinds
        for text in texts:
            reading = rules.read(text)
            raw = reading[3]
            keys = vocabulary.keys(raw)
            total, positive, negative, flipped = rules.weigh(text, reading)
            facts += (
                total,
                positive,
                negative,
                "!" in text,
                "?" in text,
                not elongated.isdisjoint(raw),
                not shouting.isdisjoint(raw),
                flipped > 0,
                bool(raw) and raw[0].lower() in QUESTION_WORDS,
            )
            at = len(all_keys)
            if s.negation_marks and not negators.isdisjoint(keys):
                negated = False
                for j, key in enumerate(keys):
                    kind = kinds[key]
                    if kind == NEGATOR:
                        negated = True
                    elif kind == END:
                        negated = False
                    elif negated:
                        marked.append(at + j)
            counts.append(len(keys))
            if len(keys) > 1:
                # the pairs before this post: one fewer than tokens in each post before it
                pair_starts.append(at - len(starts))
            if keys:
                starts.append(at)
            all_keys += keys
        vocabulary.commit()
        keys_array = np.array(all_keys, dtype=np.int64)
        if marked:
            keys_array[marked] += 1
        count_array = np.array(counts, dtype=np.int64)
        start_array = np.array(starts, dtype=np.int64)
        if s.word_pairs and len(keys_array) > 1:
            # pairs of neighbours over the whole batch, less those that span two posts (after
            # the last token of every post with tokens but the last one)
            hashes = vocabulary.hashes[keys_array]
            paired = hashes[:-1] * _POLY + hashes[1:]
            if len(starts) > 1:
                within = np.ones(len(keys_array) - 1, dtype=np.bool_)
                within[start_array[1:] - 1] = False
                paired = paired[within]
            pair_rows = _rows(paired ^ _SALT_PAIR, s.bits)
            pair_counts = np.maximum(count_array - 1, 0)
        else:
            pair_rows = np.zeros(0, dtype=np.int64)
            pair_counts = np.zeros(len(texts), dtype=np.int64)
            pair_starts = []
        dense = self.dense(facts)
        return Batch(
            vocabulary,
            keys_array,
            count_array,
            pair_rows,
            pair_counts,
            dense,
            start_array,
            np.array(pair_starts, dtype=np.int64),
        )

    def dense(self, facts: Sequence[float]) -> npt.NDArray[np.float64]:
        """The rule features (:data:`DENSE_NAMES`) of each post from the :data:`FACTS` noted
        reading it, post after post: a few whole-column steps (at the pipeline's batches of 20
        the cost of a numpy call, not the arithmetic, is what counts)."""
        n = len(facts) // FACTS
        out = np.zeros((n, DENSE), dtype=np.float64)
        if not n:
            return out
        found = np.array(facts, dtype=np.float64).reshape(n, FACTS)
        total = found[:, 0]
        score = total / np.sqrt(total * total + self.rules.params.alpha)
        out[:, 0] = score
        np.maximum(score, 0.0, out=out[:, 1])
        np.maximum(-score, 0.0, out=out[:, 2])
        sides = found[:, 1:3]  # the sums of positive and of negative valences
        np.divide(sides, sides + 4.0, out=out[:, 3:5])
        out[:, 5:10] = found[:, 3:8]  # !, ?, elongation, caps, negation
        # no opinion to go on: no sentiment word, emoji or emoticon, no "!" alone (the rule scorer
        # counts those), no negator flipping anything
        out[:, 10] = (found[:, :3] == 0.0).all(axis=1)
        out[:, 11] = found[:, 8]
        return out

"""A fast lexicon scorer for social text: emoji, emoticons, negation, contrast, slang, hashtags.

:class:`RuleScorer` reads the word valences of the VADER lexicon shipped inside the installed
``vaderSentiment`` package (nothing is downloaded), adds a few rules for how people write on
social networks, and scores a post in a single pass over its tokens:

* the post's tokens are those of its shared reading (:mod:`agora.core.tokens`, one tokenisation
  for every stage of the pipeline); URLs and @mentions are dropped;
* every token is looked up once in a precomputed table that says what it is (a sentiment word,
  a negator, an intensifier, a contrast word, a clause boundary, the first word of a phrase);
* emoji and emoticons carry valence of their own; elongated words ("sooo goooood") are squeezed
  back to the dictionary form and count as emphasised; hashtags are split into words
  (``#EpicFail``, ``#notgood``) and remembered;
* a negator flips and damps the next few sentiment words of its clause; "but" weights what comes
  after it above what came before; intensifiers and diminishers scale the next sentiment word;
  all-caps words and exclamation marks add emphasis;
* the sum of valences is squashed into [-1, 1]; labels come from thresholds tuned on validation
  tweets (see :data:`TUNED` and the README's "Sentiment" section).

A config can add its brand's own vocabulary (``[analytics] lexicon``), single words or phrases,
which take precedence over everything built in.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Set
from dataclasses import dataclass, replace
from enum import IntEnum
from importlib import resources

from agora.core.post import Sentiment, SentimentLabel
from agora.core.sentiment_base import OneByOne, english_scorable
from agora.core.tokens import EMOTICONS, SHARED, TOKEN_RE, case_words

# ------------------------------------------------------------------------------------------------
# token kinds of the lookup table


class Kind(IntEnum):
    """What a token of the lookup table is.

    The last three kinds mean something only with their neighbours (see
    :meth:`RuleScorer._meaning`); the scoring loop finds them with one comparison (``>= PHRASE``)
    for every token the tables know. That is why this is an ``IntEnum``: with a plain ``Enum`` it
    would take a set lookup, four times slower (an enum member's hash is computed in Python).
    """

    SENT = 0
    """A word, emoji or emoticon with a valence."""
    NEG = 1
    """A negator: flips the next sentiment words of its clause."""
    BOOST = 2
    """An intensifier (positive value) or diminisher (negative value) of the next sentiment word."""
    CONTRAST = 3
    """A contrast word ("but"): what follows counts more than what came before."""
    STOP = 4
    """A clause boundary: ends the reach of negators and intensifiers."""
    BANG = 5
    """Exclamation marks: emphasis on the whole post."""
    IF = 6
    """A conditional ("if", "unless"): the rest of its clause is hypothetical and counts less."""
    PHRASE = 7
    """The first word of one or more phrases (see :attr:`Tables.phrases`); its own entry is kept
    in :attr:`Tables.heads`."""
    DUAL = 8
    """A sentiment word that is an intensifier before another sentiment word ("super", "damn")."""
    LIKE = 9
    """A word that carries sentiment only after a subject or adverb ("I like", not "looks like")."""


# The kinds as module names too, for the scoring loop: Python 3.11 reads an enum member through
# its class (``Kind.SENT``) in about 0.1 µs, eight times as long as a module global, and the loop
# compares kinds several times for every token the tables know.
SENT = Kind.SENT
NEG = Kind.NEG
BOOST = Kind.BOOST
CONTRAST = Kind.CONTRAST
STOP = Kind.STOP
BANG = Kind.BANG
IF = Kind.IF
PHRASE = Kind.PHRASE
DUAL = Kind.DUAL
LIKE = Kind.LIKE

#: An entry of the lookup table: its kind, its value (a valence for :attr:`Kind.SENT`, a strength
#: in units of :attr:`SocialParams.boost` for :attr:`Kind.BOOST`, the number of marks for
#: :attr:`Kind.BANG`, else 0) and a second value (a :attr:`Kind.DUAL` word's strength as a booster).
Entry = tuple[Kind, float, float]

#: A post read by :meth:`RuleScorer.read`: its tokens, their lower-case forms, their entries, and
#: its tokens before hashtags are split into words.
Reading = tuple[list[str], list[str], list[Entry | None], list[str]]
#: Largest magnitude of a valence, in the VADER lexicon's scale.
MAX_VALENCE = 4.0


@dataclass(frozen=True, slots=True)
class SocialParams:
    """The few numbers of the scoring rules. :data:`TUNED` holds the values tuned on validation data."""

    negation: float = -0.6
    """Factor on a negated sentiment word (negative: flips it, and damps it)."""
    negation_reach: float = 3
    """How many tokens after a negator are negated (within its clause)."""
    boost: float = 0.3
    """What one intensifier ("very") adds to the magnitude of the next sentiment word, per unit."""
    caps: float = 0.6
    """What an all-caps sentiment word adds to its magnitude (when the post is not all caps)."""
    elongation: float = 0.4
    """What an elongated sentiment word ("gooood") adds to its magnitude."""
    before_contrast: float = 0.5
    """Weight of what came before "but"."""
    after_contrast: float = 1.5
    """Weight of what follows "but"."""
    bang: float = 0.3
    """What each exclamation mark (up to four) adds to the magnitude of the sum."""
    negative_weight: float = 1.0
    """Weight of negative valences against positive ones (tweets understate negativity)."""
    conditional: float = 1.0
    """Factor on sentiment words in a conditional clause ("if you're interested")."""
    name: float = 1.0
    """Factor on a capitalised sentiment word inside a run of capitalised words (a name)."""
    dead_zone: float = 0.0
    """Taken off every valence's magnitude: mild words ("want", "top") say little in tweets."""
    negator: float = 0.0
    """Valence of a negator that negates no sentiment word ("no", "never" on their own)."""
    bang_alone: float = 0.0
    """Valence of exclamation marks in a post with no sentiment word (excitement)."""
    question: float = 1.0
    """Factor on the sum of a post that asks a question."""
    alpha: float = 15.0
    """Squashing constant: score = sum / sqrt(sum² + alpha)."""
    positive_threshold: float = 0.05
    """Scores at or above this are positive."""
    negative_threshold: float = -0.05
    """Scores at or below this are negative."""


#: The parameters shipped: the rule weights above with four settings chosen by hand and checked
#: on both halves of the TweetEval validation split, and the labelling thresholds tuned on half A
#: only (``agora sentiment --eval FILE --tune``; half B is the held-out check).
TUNED = SocialParams(
    question=0.8,
    bang_alone=2.0,
    name=0.0,
    conditional=0.5,
    positive_threshold=0.375,
    negative_threshold=-0.075,
)


def _words(text: str) -> list[str]:
    """The whitespace-separated words of ``text`` (keeps the word lists below readable)."""
    return text.split()


# ------------------------------------------------------------------------------------------------
# built-in vocabulary (our own lists and values; the word valences come from the VADER lexicon)

NEGATORS = frozenset(
    _words("""
    not no never nor neither nobody nothing nowhere none without cannot cant dont doesnt didnt
    isnt arent wasnt werent wont wouldnt shouldnt couldnt hasnt havent hadnt aint mustnt neednt
    hardly barely seldom rarely nope nah don't can't won't isn't aren't wasn't weren't doesn't
    didn't couldn't wouldn't shouldn't hasn't haven't hadn't ain't mustn't needn't shan't
    """)
)

#: Intensifiers (positive) and diminishers (negative), in units of :attr:`SocialParams.boost`.
BOOSTERS: dict[str, float] = {
    **dict.fromkeys(
        _words("""
        very really so too totally absolutely completely extremely incredibly utterly truly
        super mega hella highly seriously literally insanely ridiculously especially deeply
        entirely fully purely remarkably thoroughly tremendously unbelievably exceptionally
        most more much such freaking fricking frickin fucking effing damn bloody way
        """),
        1.0,
    ),
    **dict.fromkeys(
        _words(
            "slightly somewhat barely hardly marginally partly occasionally little less kinda sorta"
        ),
        -1.0,
    ),
}

#: Words after which "like" is the verb of liking.
LIKE_SUBJECTS = frozenset(
    _words("""
    i we they you u really totally also just still definitely so do does did dont don't didn't
    doesn't not never would i'd we'd to actually kinda sorta
    """)
)
#: The words that are sentiment only after :data:`LIKE_SUBJECTS`, and their valence then.
LIKE_WORDS: dict[str, float] = {"like": 2.0}

CONDITIONALS = frozenset({"if", "unless", "whether"})

CONTRASTS = frozenset(
    {"but", "however", "yet", "though", "although", "nevertheless", "nonetheless"}
)

#: Social-media words the lexicon lacks or scores oddly for tweets (our own values).
SOCIAL_WORDS: dict[str, float] = {
    "epic": 1.8,
    "awesomeness": 2.8,
    "fab": 2.2,
    "luv": 2.6,
    "wow": 1.8,
    "woohoo": 2.5,
    "woot": 2.0,
    "yass": 2.3,
    "yasss": 2.3,
    "stoked": 2.4,
    "psyched": 2.0,
    "pumped": 1.8,
    "goat": 1.6,
    "lit": 1.6,
    "dope": 1.8,
    "fire": 0.0,
    "congratulations": 2.6,
    "fml": -2.4,
    "smh": -1.6,
    "ffs": -2.2,
    "wtf": -2.4,
    "meh": -1.0,
    "ugh": -2.0,
    "ew": -1.8,
    "eww": -1.8,
    "yikes": -1.6,
    "sucks": -2.3,
    "sucked": -2.3,
    "rip": -1.5,
    "fail": -2.0,
    "epicfail": -2.8,
    "broken": -1.8,
    "crashed": -1.8,
    "crashes": -1.8,
    "refund": -1.0,
    "scam": -2.6,
    "overpriced": -1.8,
    "laggy": -1.8,
    "buggy": -1.8,
    "unusable": -2.4,
    "disappointing": -2.2,
    "disappointed": -2.2,
    "ripoff": -2.4,
    "overrated": -1.6,
    "glitchy": -1.8,
    "crashing": -1.8,
    "outage": -1.8,
    "canceled": -1.0,
    "trash": -1.8,
    "garbage": -2.0,
    "corrupt": -2.4,
    "hypocrite": -2.4,
    "hypocrisy": -2.2,
    "bigot": -2.6,
    "bigotry": -2.6,
    "sexist": -2.4,
    "disgraceful": -2.6,
    "crook": -2.2,
    "clown": -1.2,
}

#: Phrases (our own values). Brand overrides from the config come on top of these.
PHRASES: dict[str, float] = {
    "can't wait": 2.2,
    "cant wait": 2.2,
    "cannot wait": 2.2,
    "no problem": 1.2,
    "no worries": 1.2,
    "no doubt": 1.0,
    "not bad": 1.2,
    "epic fail": -2.8,
    "waste of": -2.0,
    "waste of time": -2.6,
    "waste of money": -2.6,
    "fell apart": -2.0,
    "stopped working": -2.2,
    "doesn't work": -2.0,
    "does not work": -2.0,
    "didn't work": -2.0,
    "not working": -2.0,
    "never again": -2.2,
    "thank you": 1.8,
    "happy birthday": 2.2,
    "yeah right": -1.2,
    "can't stand": -2.4,
    "the bomb": 2.2,
    "the shit": 2.0,
    "killed it": 2.2,
    "kill it": 1.6,
    "well done": 2.2,
    "must see": 1.8,
    "must have": 1.5,
    "kind of": 0.0,
    "sort of": 0.0,
    "a bit": 0.0,
    "as well": 0.0,
    "a joke": -1.6,
}
#: Phrases that act as diminishers rather than carrying a valence.
PHRASE_BOOSTERS: dict[str, float] = {"kind of": -1.0, "sort of": -1.0, "a bit": -1.0}

#: Emoji whose meaning on social networks differs from their Unicode name (our own values).
#: Other emoji are scored from their names in the VADER emoji list.
EMOJI: dict[str, float] = {
    "😂": 1.6,
    "🤣": 1.8,
    "😭": -0.8,
    "😍": 3.0,
    "🥰": 3.0,
    "😘": 2.5,
    "😊": 2.4,
    "☺": 2.2,
    "🙂": 1.4,
    "😀": 2.2,
    "😃": 2.3,
    "😄": 2.4,
    "😁": 2.3,
    "😆": 2.0,
    "😉": 1.6,
    "😎": 1.8,
    "🤩": 2.8,
    "🥳": 2.8,
    "😻": 2.8,
    "🙌": 2.2,
    "👏": 2.0,
    "👍": 1.8,
    "👌": 1.6,
    "💪": 1.6,
    "🔥": 1.6,
    "💯": 1.8,
    "✨": 1.0,
    "🎉": 2.4,
    "🎊": 2.2,
    "❤": 2.8,
    "♥": 2.6,
    "💕": 2.8,
    "💖": 2.8,
    "💗": 2.7,
    "💙": 2.5,
    "💚": 2.5,
    "💛": 2.5,
    "💜": 2.5,
    "🧡": 2.5,
    "😇": 2.0,
    "🙏": 1.4,
    "⭐": 1.4,
    "🌟": 1.8,
    "🏆": 2.0,
    "😢": -2.2,
    "😞": -2.2,
    "😔": -1.8,
    "😟": -1.8,
    "😩": -2.0,
    "😫": -2.0,
    "😤": -2.0,
    "😠": -2.6,
    "😡": -2.8,
    "🤬": -3.0,
    "🙄": -1.6,
    "😒": -1.8,
    "😑": -1.0,
    "😐": -0.5,
    "😕": -1.4,
    "🙁": -1.8,
    "☹": -2.0,
    "😣": -1.8,
    "😖": -2.0,
    "😰": -1.8,
    "😱": -1.2,
    "🤮": -2.8,
    "🤢": -2.4,
    "💩": -2.0,
    "👎": -2.2,
    "💔": -2.6,
    "😪": -1.2,
    "🤦": -1.8,
    "😬": -1.0,
    "🤔": 0.0,
    "😅": 0.6,
}

#: Everyday words for splitting hashtags ("#happymonday"); sentiment words come from the lexicon.
COMMON_WORDS = frozenset(
    _words("""
    a i an the and or of to in on at by for with from up down out off over under again is are was
    were be been am do does did have has had will would can could should shall may might must my
    your his her its our their me you he she it we they them us this that these those what which
    who whom whose when where why how all any both each few more most other some such own same than
    then so just now new old day days night today tomorrow yesterday week weekend morning evening
    time year life world game games team fan fans phone camera battery screen app update service
    customer support store shop price money work job home family friend friends girl boy man woman
    people thing things way first last next one two three get got go going went come came make made
    take took see saw look looks watch watching want need know think feel feeling let say said tell
    give keep still even back here there every never always ever why monday tuesday wednesday
    thursday friday saturday sunday music movie movies show food coffee tea beer wine weather city
    school class exam news story book books live life style selfie photo pic video car road trip
    travel summer winter spring fall season christmas birthday holiday party night nights vibes
    mood goals squad throwback thursday flashback friday motivation monday
    """)
)

#: Three of the same letter in a row: the post may have elongated words.
_ELONGATED_RE = re.compile(r"([a-zA-Z])\1\1")
_SQUEEZE3_RE = re.compile(r"([^\W\d_])\1{2,}")


def phrase_words(phrase: str) -> tuple[str, ...]:
    """The lower-case tokens of a lexicon key, as the scorer sees them (``"Killer  feature"``)."""
    return tuple(t.lower() for t in TOKEN_RE.findall(phrase.strip().replace("’", "'")))


# ------------------------------------------------------------------------------------------------
# the lexicon tables, built once per process


@functools.cache
def vader_lexicon() -> dict[str, float]:
    """Token → mean valence, from ``vader_lexicon.txt`` inside the installed vaderSentiment."""
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text("utf-8")
    lexicon: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            try:
                lexicon[parts[0].strip().lower()] = float(parts[1])
            except ValueError:
                continue
    return lexicon


#: Words of emoji names that say nothing about sentiment there ("raised hand", "waving hand").
_EMOJI_NAME_NOISE = frozenset({"hand", "hands"})


@functools.cache
def emoji_valences() -> dict[str, float]:
    """Emoji → valence: :data:`EMOJI`, then the VADER emoji names scored with the lexicon."""
    lexicon = vader_lexicon()
    valences: dict[str, float] = {}
    try:
        text = (
            resources.files("vaderSentiment").joinpath("emoji_utf8_lexicon.txt").read_text("utf-8")
        )
    except OSError:
        text = ""
    for line in text.splitlines():
        char, _, name = line.partition("\t")
        char = char.replace("\ufe0f", "")
        if len(char) != 1 or not name:
            continue
        values = [
            lexicon[w] for w in name.lower().split() if w in lexicon and w not in _EMOJI_NAME_NOISE
        ]
        if values:
            valences[char] = max(-MAX_VALENCE, min(MAX_VALENCE, sum(values) / len(values)))
    valences.update({k.replace("\ufe0f", ""): v for k, v in EMOJI.items()})
    return valences


@dataclass(frozen=True, slots=True)
class Tables:
    """The precomputed lookup tables of one scorer."""

    entries: dict[str, Entry]
    """Lower-case token → (kind, value)."""
    phrases: dict[str, tuple[tuple[tuple[str, ...], Entry], ...]]
    """First word → (rest of the phrase, entry), longest first."""
    heads: dict[str, Entry | None]
    """First word of a phrase → its own entry when it is not followed by the rest of one."""
    seconds: dict[str, frozenset[str]]
    """First word of a phrase → the words that may follow it in one (most tokens that start a
    phrase, "the" or "a", start none: this set says so without slicing the post)."""
    vocabulary: frozenset[str]
    """Words a hashtag may be split into."""


def build_tables(overrides: Mapping[str, float] | None = None) -> Tables:
    """The lookup tables: lexicon, social words, emoji, emoticons, rules, then ``overrides``."""
    entries: dict[str, Entry] = {}
    for word, value in vader_lexicon().items():
        entries[word] = (Kind.SENT, value, 0.0)
    for word, value in SOCIAL_WORDS.items():
        entries[word] = (Kind.SENT, value, 0.0)
    for char, value in emoji_valences().items():
        entries[char] = (Kind.SENT, value, 0.0)
    for emoticon, value in EMOTICONS.items():
        entries[emoticon.lower()] = (Kind.SENT, value, 0.0)
    for word, value in BOOSTERS.items():
        known = entries.get(word)
        if known is not None and known[0] == Kind.SENT and known[1] != 0.0:
            entries[word] = (Kind.DUAL, known[1], value)
        else:
            entries[word] = (Kind.BOOST, value, 0.0)
    for word, value in LIKE_WORDS.items():
        entries[word] = (Kind.LIKE, value, 0.0)
    for word in NEGATORS:
        entries[word] = (Kind.NEG, 0.0, 0.0)
    for word in CONTRASTS:
        entries[word] = (Kind.CONTRAST, 0.0, 0.0)
    for word in CONDITIONALS:
        entries[word] = (Kind.IF, 0.0, 0.0)
    for mark in (".", ",", ";", ":", "?", "...", "?!", "??", "..", "…"):
        entries[mark] = (Kind.STOP, 0.0, 0.0)
    for mark in ("!", "!!", "!!!", "!!!!"):
        entries[mark] = (Kind.BANG, float(len(mark)), 0.0)

    phrases: dict[tuple[str, ...], Entry] = {}
    for phrase, value in PHRASES.items():
        words = phrase_words(phrase)
        boost = PHRASE_BOOSTERS.get(phrase)
        phrases[words] = (Kind.BOOST, boost, 0.0) if boost is not None else (Kind.SENT, value, 0.0)
    for key, value in (overrides or {}).items():
        words = phrase_words(key)
        if not words:
            continue
        if len(words) == 1:
            entries[words[0]] = (Kind.SENT, float(value), 0.0)
        else:
            phrases[words] = (Kind.SENT, float(value), 0.0)

    by_first: dict[str, list[tuple[tuple[str, ...], Entry]]] = {}
    for words, entry in phrases.items():
        by_first.setdefault(words[0], []).append((words[1:], entry))
    grouped = {
        first: tuple(sorted(tails, key=lambda t: len(t[0]), reverse=True))
        for first, tails in by_first.items()
    }
    vocabulary = frozenset(
        w
        for w in (*entries, *COMMON_WORDS)
        if w.isalpha() and w.isascii() and (len(w) > 1 or w in ("a", "i"))
    )
    heads = {first: entries.get(first) for first in grouped}
    seconds = {first: frozenset(tail[0] for tail, _ in tails) for first, tails in grouped.items()}
    for first in grouped:
        entries[first] = (Kind.PHRASE, 0.0, 0.0)
    return Tables(
        entries=entries, phrases=grouped, vocabulary=vocabulary, heads=heads, seconds=seconds
    )


@functools.lru_cache(maxsize=16)
def cached_tables(overrides: tuple[tuple[str, float], ...] = ()) -> Tables:
    """:func:`build_tables` once per distinct set of overrides (the tables are never mutated)."""
    return build_tables(dict(overrides))


def split_hashtag(tag: str, vocabulary: frozenset[str]) -> tuple[str, ...]:
    """The words of a hashtag: ``#EpicFail`` and ``#epicfail`` → ``("epic", "fail")``.

    Camel case is split where it is written; a lower-case tag is split into the fewest dictionary
    words that cover it. A tag that cannot be covered by dictionary words keeps only the
    dictionary words of four letters or more found in the best split (so ``#trumptrain`` says
    nothing and ``#happymonday`` says "happy").
    """
    body = tag.lstrip("#")
    if not body:
        return ()
    if not body.islower() and not body.isupper():
        parts = [p.lower() for p in case_words(body, initials=True)]
        if len(parts) > 1:
            return tuple(parts)
    body = body.lower()
    if body in vocabulary:
        return (body,)
    n = len(body)
    if n > 40:
        return ()
    # best[i] = (cost, pieces) covering body[:i]; a dictionary word costs 1, an unknown letter 2
    nothing: tuple[str, ...] = ()
    best: list[tuple[float, tuple[str, ...]]] = [(0.0, nothing)] + [(math.inf, nothing)] * n
    for end in range(1, n + 1):
        cost, pieces = best[end - 1]
        best[end] = (cost + 2, (*pieces, "\x00"))
        for start in range(max(0, end - 20), end):
            piece = body[start:end]
            if piece in vocabulary and best[start][0] + 1 < best[end][0]:
                best[end] = (best[start][0] + 1, (*best[start][1], piece))
    pieces = best[n][1]
    if "\x00" not in pieces:
        return pieces
    return tuple(p for p in pieces if len(p) >= 4)


# ------------------------------------------------------------------------------------------------
# the scorer


class RuleScorer(OneByOne):
    """Single-pass lexicon scorer for social text (see the module docstring)."""

    name = "rules"

    def __init__(
        self,
        params: SocialParams = TUNED,
        lexicon: Mapping[str, float] | None = None,
        neutral_band: float | None = None,
    ) -> None:
        if neutral_band is not None:
            params = replace(
                params, positive_threshold=neutral_band, negative_threshold=-neutral_band
            )
        self.params = params
        self.tables = cached_tables(tuple(sorted((lexicon or {}).items())))
        self._hashtags: dict[str, tuple[str, ...]] = {}

    def label(self, score: float) -> SentimentLabel:
        """The label of a score under this scorer's thresholds."""
        if score >= self.params.positive_threshold:
            return "positive"
        if score <= self.params.negative_threshold:
            return "negative"
        return "neutral"

    def score_text(self, text: str) -> float:
        """The polarity of ``text`` in [-1, 1], assuming it is English."""
        return self.squash(self.parts(text)[0])

    def score(self, text: str, lang: str | None) -> Sentiment | None:
        """Score ``text``; ``None`` for languages the lexicon does not cover."""
        if not english_scorable(text, lang):
            return None
        value = self.score_text(text)
        return Sentiment(score=round(value, 4), label=self.label(value))

    def tokens(self, text: str) -> list[str]:
        """The tokens scored: URLs gone, hashtags split into their words (@mentions stay, unscored).

        Escapes left over from another format are read as what they stand for: ``\\u2019``
        written out in JSON that was escaped twice, ``&amp;`` in HTML.
        """
        return self.read(text)[0]

    def read(self, text: str) -> Reading:
        """The tokens of ``text`` (as :meth:`tokens`), their lower-case forms, their entries in the
        tables, and the tokens before hashtags are split (the sentiment model's words, so that a
        post is tokenised once for both).
        """
        raw = SHARED.of(text).strings  # the post's shared tokens (agora.core.tokens)
        toks = raw
        if "#" in text or "\\u" in text:
            entries = self.tables.entries
            toks = []
            for tok in raw:
                if tok[0] == "#" and tok.lower() not in entries:
                    toks.extend(self._hashtag(tok))
                else:
                    toks.append(tok)
        lows = list(map(str.lower, toks))
        return toks, lows, list(map(self.tables.entries.get, lows)), raw

    def _hashtag(self, tag: str) -> tuple[str, ...]:
        words = self._hashtags.get(tag)
        if words is None:
            words = split_hashtag(tag, self.tables.vocabulary)
            if len(self._hashtags) > 50_000:
                self._hashtags.clear()
            self._hashtags[tag] = words
        return words

    def raw(self, text: str) -> float:
        """The weighted sum of valences of ``text`` (before squashing into [-1, 1])."""
        return self.parts(text)[0]

    def squash(self, total: float) -> float:
        """A weighted sum of valences squashed into [-1, 1]."""
        if total == 0.0:
            return 0.0
        return total / math.sqrt(total * total + self.params.alpha)

    def parts(self, text: str) -> tuple[float, float, float, int]:
        """The weighted sum of valences of ``text``, its positive and negative parts (both ≥ 0,
        before emphasis by ``!`` and damping of questions), and how many sentiment words a
        negator flipped. The sentiment model reads all four as features.

        Every token is read with its lower-case form and its entry (see :meth:`read`); the Python
        loop then visits only the tokens the tables know (a fifth of them in typical posts).
        """
        return self.weigh(text, self.read(text))

    def weigh(self, text: str, reading: Reading) -> tuple[float, float, float, int]:
        """:meth:`parts` of ``text`` from its :meth:`read` (which it may change).

        One pass over the tokens the tables know. A token whose meaning depends on its neighbours
        (a phrase, a dual word, "like") first gets the meaning it has here (:meth:`_meaning`).
        A sentiment word then adds its valence: its :meth:`_magnitude`, with its sign, flipped and
        damped by a negator in reach, times the weight of its part of the post. Every other kind
        changes what reaches the next sentiment words. The post's sum is finished by
        :meth:`_finish`.
        """
        toks, lows, found, _ = reading
        if not toks:
            return 0.0, 0.0, 0.0, 0
        p = self.params
        emphasised = self._elongations(lows, found) if _ELONGATED_RE.search(text) else _NONE
        # The sums over the post. (Plain locals, not an object: this loop is on the ingest hot
        # path, and attribute reads and method calls per token cost several per cent of a post.)
        total = positive = negative = 0.0
        flipped = 0  # sentiment words flipped by a negator
        idle_negators = 0  # negators that negated no sentiment word
        bangs = 0.0  # exclamation marks
        weight = 1.0  # of the part being read: after_contrast once past a contrast word
        # The clause being read: what reaches its next sentiment word (None: no such word).
        negator_at: int | None = None
        negator_used = False  # the last negator negated a sentiment word already
        booster_at: int | None = None
        boost = 0.0  # what the last booster adds to the magnitude of a sentiment word
        hypothetical = False  # a conditional ("if") came earlier in the clause
        next_at = 0  # the tokens before it are the rest of a phrase already read
        for i, entry in enumerate(found):
            if entry is None or i < next_at:
                continue
            if entry[0] >= PHRASE:
                meaning, next_at = self._meaning(i, entry, lows, found)
                if meaning is None:
                    continue
                entry = meaning  # noqa: PLW2901 (the token's entry, as read here)
            kind, value, _ = entry
            if kind == SENT:
                if value == 0.0:
                    continue
                # a booster reaches the second word after it ("very very good", "so damn good")
                boosted = boost if booster_at is not None and i - booster_at <= 2 else 0.0
                magnitude = self._magnitude(
                    toks, text, i, value, boosted=boosted, emphasised=emphasised
                )
                if not magnitude > 0.0:
                    continue
                v = magnitude if value > 0 else -magnitude * p.negative_weight
                if negator_at is not None and i - negator_at <= p.negation_reach:
                    v *= p.negation
                    flipped += 1
                    if not negator_used:
                        idle_negators -= 1
                        negator_used = True
                v *= weight * p.conditional if hypothetical else weight
                total += v
                if v > 0:
                    positive += v
                else:
                    negative -= v
            elif kind == NEG:
                negator_at = i
                negator_used = False
                idle_negators += 1
            elif kind == BOOST:
                # an elongated booster ("sooo good") counts twice
                boost = value * p.boost * (2.0 if i in emphasised else 1.0)
                booster_at = i
            elif kind == STOP:
                # the clause ends: its negator, booster and conditional reach no further
                negator_at = booster_at = None
                hypothetical = False
            elif kind == BANG:
                # exclamation marks emphasise the whole post (see _finish) and end the clause
                bangs += value
                negator_at = booster_at = None
                hypothetical = False
            elif kind == CONTRAST:
                # what came before "but" counts less, what follows more; a booster before it
                # still reaches the next word (as it always has; "so but good" is rare)
                total *= p.before_contrast
                positive *= p.before_contrast
                negative *= p.before_contrast
                weight = p.after_contrast
                negator_at = None
                hypothetical = False
            elif kind == IF:
                hypothetical = True
        return self._finish(text, total, idle_negators, bangs), positive, negative, flipped

    def _meaning(
        self, i: int, entry: Entry, lows: list[str], found: list[Entry | None]
    ) -> tuple[Entry | None, int]:
        """What the token at ``i`` (a phrase's first word, a dual word or "like") means here, or
        ``None`` if nothing; and the index of the next token to read (past a phrase found here).

        * A phrase's first word followed by the rest of the phrase reads as the phrase; otherwise
          as the word alone.
        * A dual word ("super", "damn") is an intensifier before a token the tables know that is
          not a clause boundary ("super good"), and a sentiment word otherwise ("that was super!").
        * "like" is a sentiment word only after a subject or adverb ("I like it"), and nothing
          elsewhere ("looks like rain").
        """
        if entry[0] == PHRASE:
            low = lows[i]
            matched = (
                self._phrase(lows, i)
                if i + 1 < len(lows) and lows[i + 1] in self.tables.seconds[low]
                else None
            )
            if matched is not None:
                return matched
            head = self.tables.heads[low]
            if head is None:
                return None, 0
            entry = head
        kind, value, second = entry
        if kind == DUAL:
            following = found[i + 1] if i + 1 < len(found) else None
            if following is not None and following[0] != STOP and following[0] != BANG:
                return (BOOST, second, 0.0), 0
            return (SENT, value, 0.0), 0
        if kind == LIKE:
            if i == 0 or lows[i - 1] not in LIKE_SUBJECTS:
                return None, 0
            return (SENT, value, 0.0), 0
        return entry, 0

    def _magnitude(
        self,
        toks: list[str],
        text: str,
        i: int,
        value: float,
        *,
        boosted: float,
        emphasised: Set[int],
    ) -> float:
        """How much the sentiment word at ``i`` of valence ``value`` weighs here: the size of its
        valence less the dead zone; more when elongated ("gooood"), by ``boosted`` (what a booster
        in reach adds), and in caps ("GOOD", unless the whole post is); damped inside a name
        ("Grand Prix")."""
        p = self.params
        magnitude = abs(value) - p.dead_zone
        if i in emphasised:
            magnitude += p.elongation
        magnitude += boosted
        tok = toks[i]
        if tok.isupper() and len(tok) > 1:
            if not text.isupper():
                magnitude += p.caps
        elif _in_name(toks, i) and not text.istitle():
            magnitude *= p.name
        return magnitude

    def _finish(self, text: str, total: float, idle_negators: int, bangs: float) -> float:
        """The post's sum: its sentiment words' valences, plus ``negator`` for each negator that
        negated nothing ("no.", "never"); emphasised by exclamation marks (``bang`` each, up to
        four), or ``bang_alone`` if they are all it has; damped (``question``) if it asks."""
        p = self.params
        if idle_negators:
            total += idle_negators * p.negator
        if bangs:
            if total:
                extra = min(bangs, 4.0) * p.bang
                total += extra if total > 0 else -extra
            else:
                total = p.bang_alone
        if p.question != 1.0 and "?" in text:
            total *= p.question
        return total

    def _phrase(self, lows: list[str], i: int) -> tuple[Entry, int] | None:
        """The phrase starting at token ``i``, and the index after it; ``None`` if none does."""
        n = len(lows)
        for tail, entry in self.tables.phrases[lows[i]]:
            end = i + 1 + len(tail)
            if end <= n and tuple(lows[i + 1 : end]) == tail:
                return entry, end
        return None

    def _elongations(self, lows: list[str], found: list[Entry | None]) -> set[int]:
        """Look up elongated unknown words squeezed ("goooood" → "good"); their positions, which
        count as emphasised."""
        entries = self.tables.entries
        emphasised: set[int] = set()
        for i, low in enumerate(lows):
            if found[i] is None and _ELONGATED_RE.search(low):
                for squeezed in (_SQUEEZE3_RE.sub(r"\1\1", low), _SQUEEZE3_RE.sub(r"\1", low)):
                    entry = entries.get(squeezed)
                    if entry is not None:
                        lows[i] = squeezed
                        found[i] = entry
                        emphasised.add(i)
                        break
        return emphasised


#: No token of the post is emphasised by elongation.
_NONE: frozenset[int] = frozenset()


def _in_name(toks: list[str], i: int) -> bool:
    """The capitalised word at ``i`` is inside a run of them, so part of a name ("Foo Fighters",
    "Manchester United"): the token before it starts with a letter and is not "I", and it or the
    token after it is capitalised too. (The caller leaves out posts written in title case.)"""
    if i == 0 or not toks[i][0].isupper():
        return False
    before = toks[i - 1]
    return (
        before[0].isalpha()
        and before != "I"
        and (before[0].isupper() or (i + 1 < len(toks) and toks[i + 1][0].isupper()))
    )

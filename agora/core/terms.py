"""Terms for trending: words, hashtags and two-word phrases of a post, without stopwords.

Works on folded text (see :func:`agora.core.text.fold`). Mentions and URLs are dropped: trending is
about what people talk about, not whom they address or link to.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

from agora.core.bounded import remember
from agora.core.text import fold
from agora.core.tokens import URL_RE, term_tokens

_DIGITS_RE = re.compile(r"^[\d\-']+$")

#: Languages whose stopword lists (from the ``stop-words`` package) are added to the project's own
#: English list. English has its own list here: the package's marks words like "great" or "help"
#: as stopwords, and those are exactly what a brand wants to see trend.
OTHER_LANGUAGES = [
    "fr",
    "de",
    "es",
    "pt",
    "it",
    "nl",
    "fi",
    "sv",
    "da",
    "no",
    "pl",
    "ca",
    "id",
    "tr",
]


def _other_language_stopwords() -> frozenset[str]:
    from stop_words import StopWordError, get_stop_words

    words: set[str] = set()
    for language in OTHER_LANGUAGES:
        try:
            listed = get_stop_words(language)
        except StopWordError:  # pragma: no cover - a language dropped by a later release
            continue
        words.update(fold(w.strip()) for w in listed if w.strip())
    return frozenset(words)


#: Common words of the wall's languages that never trend. Per-config additions come from
#: ``[analytics] stopwords``.
_OWN_STOPWORDS: frozenset[str] = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "aren't",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "can't",
        "cannot",
        "could",
        "couldn't",
        "did",
        "didn't",
        "do",
        "does",
        "doesn't",
        "doing",
        "don't",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "get",
        "gets",
        "got",
        "had",
        "hadn't",
        "has",
        "hasn't",
        "have",
        "haven't",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "i'm",
        "i've",
        "if",
        "in",
        "into",
        "is",
        "isn't",
        "it",
        "it's",
        "its",
        "itself",
        "just",
        "let's",
        "like",
        "me",
        "more",
        "most",
        "much",
        "my",
        "myself",
        "new",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "one",
        "only",
        "or",
        "other",
        "ought",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "really",
        "rt",
        "same",
        "she",
        "should",
        "shouldn't",
        "so",
        "some",
        "still",
        "such",
        "than",
        "that",
        "that's",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "there's",
        "these",
        "they",
        "they're",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "us",
        "very",
        "via",
        "was",
        "wasn't",
        "we",
        "we're",
        "were",
        "weren't",
        "what",
        "what's",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "won't",
        "would",
        "wouldn't",
        "yes",
        "yet",
        "you",
        "you're",
        "your",
        "yours",
        "yourself",
        "amp",
        "gonna",
        "im",
        "ive",
        "dont",
        "cant",
        "thats",
        "youre",
        "lol",
        "omg",
        "ok",
        "okay",
        "oh",
        "today",
        "day",
        "even",
        "ja",
        "ei",
        "se",
        "että",
        "oli",
        "ovat",
        "mutta",
        "kun",
        "tai",
        "niin",
        "kuin",
        "myös",
        "jo",
        "vain",
        "olen",
        "olla",
        "tämä",
        "mitä",
        "der",
        "die",
        "das",
        "und",
        "ist",
        "nicht",
        "ein",
        "eine",
        "mit",
        "auf",
        "für",
        "den",
        "dem",
        "des",
        "von",
        "zu",
        "es",
        "ich",
        "sie",
        "wir",
        "auch",
        "aber",
        "el",
        "la",
        "los",
        "las",
        "y",
        "en",
        "de",
        "que",
        "un",
        "una",
        "por",
        "con",
        "para",
        "lo",
        "del",
        "al",
        "muy",
        "pero",
        "más",
        "mi",
        "le",
        "les",
        "et",
        "est",
        "pas",
        "une",
        "du",
        "pour",
        "dans",
        "qui",
        "sur",
        "avec",
        "au",
        "ce",
        "je",
        "il",
        "elle",
        "mais",
        "très",
        "o",
        "os",
        "e",
        "é",
        "da",
        "em",
        "um",
        "uma",
        "com",
        "não",
        "muito",
        "mas",
        # social filler: frequent in any conversation, never news
        "anyone",
        "anything",
        "back",
        "ever",
        "everyone",
        "fwiw",
        "going",
        "imo",
        "imho",
        "know",
        "make",
        "need",
        "people",
        "please",
        "see",
        "someone",
        "something",
        "tbh",
        "thank",
        "thanks",
        "thing",
        "things",
        "think",
        "time",
        "wanna",
        "want",
        "way",
        "week",
        "weeks",
        "days",
        "month",
        "months",
        "year",
        "years",
        "hour",
        "hours",
        "yesterday",
        "tonight",
    ]
)
STOPWORDS: frozenset[str] = _OWN_STOPWORDS | _other_language_stopwords()


def tokens(folded_text: str, stop: frozenset[str] = STOPWORDS) -> list[str]:
    """Candidate single terms of a folded text, in order, stopwords and noise removed."""
    return [t for t in scan(folded_text, stop, phrases=False) if " " not in t]


def terms(folded_text: str, extra_stopwords: Iterable[str] = (), phrases: bool = True) -> set[str]:
    """Distinct trending terms of a post: words, hashtags and two-word phrases.

    A phrase is two words that stand next to each other in the text, neither a stopword: "take
    it back" gives no phrase, "battery life" does. Hashtags and mentions never form phrases.
    """
    stop = STOPWORDS | frozenset(extra_stopwords) if extra_stopwords else STOPWORDS
    return set(scan(folded_text, stop, phrases))


def stopword_set(extra: Iterable[str]) -> frozenset[str]:
    """The built-in stopwords plus ``extra`` (already folded, without ``#``)."""
    return STOPWORDS | frozenset(extra)


def scan(folded_text: str, stop: frozenset[str] = STOPWORDS, phrases: bool = True) -> list[str]:
    """Terms in text order (single terms, each phrase right after its second word)."""
    return _scan(folded_text, stop, phrases, {}, sys.maxsize)  # a memory of this text alone


#: the longest piece of text (between two spaces) a :class:`TermScanner` remembers its reading of
_REMEMBERED_CHARS = 40


class TermScanner:
    """:func:`scan` with one stopword set, remembering how it read each piece of text between two
    spaces (a word, a word and its comma, a hashtag…) of the latest texts: a wall's posts use the
    same few thousand such pieces again and again, and each is read once instead of at every post.

    Bounded: at most ``capacity`` pieces of up to :data:`_REMEMBERED_CHARS` characters each, then
    it starts again (:func:`agora.core.bounded.remember`).
    """

    __slots__ = ("_known", "capacity", "stop")

    def __init__(self, stop: frozenset[str], capacity: int = 20_000) -> None:
        self.stop = stop
        self.capacity = capacity
        self._known: dict[str, tuple[str, ...]] = {}

    def scan(self, folded_text: str) -> list[str]:
        """``scan(folded_text, self.stop)``: the same terms, in the same order."""
        return _scan(folded_text, self.stop, True, self._known, self.capacity)


def _scan(
    text: str,
    stop: frozenset[str],
    phrases: bool,
    known: dict[str, tuple[str, ...]],
    capacity: int,
) -> list[str]:
    """:func:`scan`, each piece of text between two spaces read through ``known`` (piece → its
    reading, see :func:`_read_piece`), which it adds to, keeping at most ``capacity``.

    Once the links are out (as :func:`~agora.core.tokens.term_tokens` takes them out), reading the
    pieces one by one finds the tokens reading the whole text finds: no token holds a space, so
    none reaches from one piece into the next. The phrases are made here, across pieces.
    """
    if "http" in text or "www." in text:
        text = URL_RE.sub(" ", text)
    out: list[str] = []
    append = out.append
    remembered = known.get
    prev: str | None = None
    for piece in text.split():
        reading = remembered(piece)
        if reading is None:
            reading = _read_piece(piece, stop)
            if len(piece) <= _REMEMBERED_CHARS:
                remember(known, piece, reading, capacity)
        for term in reading:
            if not term:  # a token that is no term: no phrase is made across it
                prev = None
            elif term[0] == "#":  # hashtags never form phrases
                append(term)
                prev = None
            else:
                append(term)
                if prev is not None and phrases:
                    append(prev + " " + term)
                prev = term
    return out


def _read_piece(piece: str, stop: frozenset[str]) -> tuple[str, ...]:
    """What each token of ``piece`` (text without spaces) is: the term it gives (a word, or a
    hashtag with its ``#``), or ``""`` for one that gives none (a stopword, a mention, a number,
    punctuation, a word too short), which also ends a phrase."""
    read: list[str] = []
    for raw in term_tokens(piece):
        # "partner's battery": the partner trends, not the possessive
        token = raw[:-2] if raw.endswith(("'s", "’s")) else raw
        # the common cases first: a stopword, or a short token (punctuation is one character)
        if token in stop or len(token) < 3:
            read.append("")
            continue
        first = token[0]
        if first == "#":
            word = token[1:]
            kept = len(word) >= 3 and word not in stop and not _DIGITS_RE.match(word)
            read.append(token if kept else "")
        elif first == "@" or (first.isdigit() and _DIGITS_RE.match(token)):
            read.append("")
        else:
            read.append(token)
    return tuple(read)

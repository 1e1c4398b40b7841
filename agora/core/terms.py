"""Terms for trending: words, hashtags and two-word phrases of a post, without stopwords.

Works on folded text (see :func:`agora.core.text.fold`). Mentions and URLs are dropped: trending is
about what people talk about, not whom they address or link to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from agora.core.text import fold
from agora.core.tokens import term_tokens

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
    text = folded_text
    out: list[str] = []
    prev: str | None = None
    possessive = "'s" in text or "’s" in text
    for raw in term_tokens(text):
        # "partner's battery": the partner trends, not the possessive
        token = raw[:-2] if possessive and raw.endswith(("'s", "’s")) else raw
        # the common cases first: a stopword, or a short token (punctuation is one character)
        if token in stop or len(token) < 3:
            prev = None
            continue
        first = token[0]
        if first == "#":
            word = token[1:]
            if len(word) >= 3 and word not in stop and not _DIGITS_RE.match(word):
                out.append(token)
            prev = None
            continue
        if first == "@" or (first.isdigit() and _DIGITS_RE.match(token)):
            prev = None
            continue
        out.append(token)
        if prev is not None and phrases:
            out.append(prev + " " + token)
        prev = token
    return out

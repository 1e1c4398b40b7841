"""Word lists for moderation: profanity in several languages and the wall's own blocked words.

The profanity lists are the data files of the ``glin-profanity`` package (maintained lists in two
dozen languages); only its lists are used, the matching is our own so it runs at ingest speed:

* whole words only ("class" and "analysis" are not matched by "ass" and "anal"); phrases match as
  consecutive words ("haista vittu");
* leetspeak is folded (``sh1t``, ``a$$``, ``b!tch``, ``@ss``), masked letters are recognised
  (``f*ck``, ``sh**t`` when at least half the letters show and the first one does), and stretched
  letters are collapsed (``shiiiit``);
* case and accents never matter (the text is folded first, see :func:`agora.core.text.fold`);
* words of scripts written without spaces (Chinese, Japanese, Thai) match anywhere in the text;
* camel-cased hashtags are read as words (``#WhatTheFuck``).

A post is checked against the lists of the wall's languages (``[moderation] profanity_languages``
and ``languages``) and the list of its own language. :class:`Lexicon` is built once per
combination of languages and answers :meth:`Lexicon.find` with a few set look-ups per post.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from agora.core.text import fold

#: BCP-47 primary language → the name of its list in ``glin-profanity``.
LIST_NAMES: Mapping[str, str] = {
    "ar": "arabic",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "en": "english",
    "eo": "esperanto",
    "es": "spanish",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "hi": "hindi",
    "hu": "hungarian",
    "it": "italian",
    "ja": "japanese",
    "ko": "korean",
    "nb": "norwegian",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ru": "russian",
    "sv": "swedish",
    "th": "thai",
    "tr": "turkish",
    "zh": "chinese",
}
LANGUAGES: frozenset[str] = frozenset(LIST_NAMES)

#: digits and symbols read as letters in leetspeak
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"}
)
_LEET_EXTRA = str.maketrans({"!": "i", "|": "i"})
#: a word: letters and digits of any script, with the symbols leetspeak and masking use
_TOKEN_RE = re.compile(r"[\w$@*|!]+")
#: a character written three times in a row: the cheap test before looking for stretched words
_TRIPLE_RE = re.compile(r"(.)\1\1", re.DOTALL)
#: a letter written three or more times in a row ("shiiit")
_STRETCH_RE = re.compile(r"([^\W\d_])\1{2,}")
#: scripts written without spaces between words: their listed words match anywhere
_UNSPACED_RE = re.compile("[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HASHTAG_RE = re.compile(r"#(\w{2,})")
_CAMEL_RE = re.compile(r"[A-Z]{2,}(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|[A-Z]+|\d+")


def _leet(word: str) -> str:
    return word.translate(_LEET).translate(_LEET_EXTRA)


def normal_word(word: str) -> str:
    """A listed word or phrase in the form tokens are compared in: folded, leetspeak read."""
    words: list[str] = []
    for token in _TOKEN_RE.findall(fold(word)):
        for part in token.split("_"):
            core = part.strip("!|*")
            if core:
                words.append(core if core.isalpha() or core.isdigit() else _leet(core))
    return " ".join(words)


def _variants(token: str) -> tuple[str, ...]:
    """The words a token with digits or symbols may stand for: the bare word, its leetspeak
    reading, a mention's name (remembered: the same odd tokens come back in post after post)."""
    found = _VARIANTS.get(token)
    if found is None:
        found = _read_variants(token)
        if len(_VARIANTS) >= _VARIANTS_CAP:
            _VARIANTS.clear()
        _VARIANTS[token] = found
    return found


_VARIANTS: dict[str, tuple[str, ...]] = {}
_VARIANTS_CAP = 20_000


def _read_variants(token: str) -> tuple[str, ...]:
    if "_" in token:
        return tuple(v for part in token.split("_") if part for v in _read_variants(part))
    core = token.strip("!|*")
    if not core or core.isdigit():
        return ()
    if core.isalpha():
        return (core,)
    leet = _leet(core)
    if core[0] == "@":
        name = core[1:]
        return (name, leet) if name.isalpha() else (_leet(name), leet)
    return (leet,)


def _normal_token(token: str) -> str:
    """A token as the word phrases are compared with."""
    if token.isalpha() or token.isdigit():
        return token
    found = _variants(token)
    return found[0] if found else ""


def hashtag_words(text: str) -> str:
    """The words of camel-cased hashtags in ``text``, folded ("#NoMoreFoo" → "no more foo");
    empty when no hashtag splits into several words."""
    parts: list[str] = []
    for tag in _HASHTAG_RE.findall(text):
        pieces = _CAMEL_RE.findall(tag)
        if len(pieces) > 1:
            parts.extend(pieces)
    return fold(" ".join(parts)) if parts else ""


def mask_word(word: str) -> str:
    """A matched word for a log line or a reason: first and last letter kept ("f**k")."""
    if len(word) <= 2:
        return word[0] + "*" * (len(word) - 1)
    return word[0] + "*" * (len(word) - 2) + word[-1]


@functools.cache
def list_words(language: str) -> tuple[str, ...]:
    """The profanity list of a language (BCP-47 primary code) as the package ships it; empty when
    there is none."""
    name = LIST_NAMES.get(language)
    if name is None:
        return ()
    from glin_profanity.data.dictionary import dictionary

    words = dictionary.get_words(name)
    return tuple(dict.fromkeys(w.strip() for w in words if isinstance(w, str) and w.strip()))


#: Words the lists include whose everyday sense is harmless on a brand's wall, or which are the
#: mild complaints a brand wants to see ("Lumen sucks", "pissed", "wtf", "negro" is Spanish for
#: black, "escort" a car). They are not treated as profanity unless ``profanity = "strict"``.
EVERYDAY_WORDS: tuple[str, ...] = (
    "barenaked",
    "bastinado",
    "boner",
    "bs",
    "butt",
    "domination",
    "escort",
    "eunuch",
    "fingering",
    "hardcore",
    "hoe",
    "intercourse",
    "lmfao",
    "lolita",
    "mf",
    "negro",
    "nude",
    "omfg",
    "pissed",
    "playboy",
    "santorum",
    "scat",
    "sexy",
    "simp",
    "snatch",
    "spunk",
    "suck",
    "sucks",
    "swinger",
    "testbad01",
    "twinkie",
    "undressing",
    "wtf",
    "xx",
)


@dataclass(slots=True)
class Lexicon:
    """Words and phrases to find in posts, each with the reason given when it is found."""

    words: dict[str, str] = field(default_factory=dict)
    """Single words (normalised) → reason."""
    phrases: dict[str, list[tuple[tuple[str, ...], int, str]]] = field(default_factory=dict)
    """The longest word of a phrase (the rarest, most likely: "one night stand" is looked for
    only in posts that say "stand") → (the phrase's words, that word's position, reason)."""
    _masked: dict[tuple[int, str], list[str]] = field(default_factory=dict)
    _unspaced: re.Pattern[str] | None = None
    _unspaced_reasons: dict[str, str] = field(default_factory=dict)
    _size: int = 0

    @classmethod
    def build(cls, entries: Iterable[tuple[str, str]], allow: Iterable[str] = ()) -> Lexicon:
        """A lexicon of ``(word or phrase, reason)`` pairs; ``allow`` lists words never found."""
        allowed = {normal_word(w) for w in allow}
        lexicon = cls()
        unspaced: list[str] = []
        for entry, reason in entries:
            word = normal_word(entry)
            if not word:  # no letters at all (an emoji): matched anywhere, as it is
                word = entry.strip()
                if not word:
                    continue
            elif (len(word) < 2 and not _UNSPACED_RE.search(word)) or word.replace(
                " ", ""
            ).isdigit():
                continue  # one letter, or a number, is never a word to block
            if word in allowed:
                continue
            if _UNSPACED_RE.search(word) or not _TOKEN_RE.fullmatch(word.replace(" ", "")):
                if word not in lexicon._unspaced_reasons:
                    lexicon._unspaced_reasons[word] = reason
                    unspaced.append(word)
                continue
            parts = word.split(" ")
            if len(parts) > 1:
                key = max(range(len(parts)), key=lambda i: (len(parts[i]), -i))
                lexicon.phrases.setdefault(parts[key], []).append((tuple(parts), key, reason))
            elif word not in lexicon.words:
                lexicon.words[word] = reason
                lexicon._masked.setdefault((len(word), word[0]), []).append(word)
        if unspaced:
            unspaced.sort(key=len, reverse=True)
            lexicon._unspaced = re.compile("|".join(re.escape(w) for w in unspaced))
        lexicon._size = (
            len(lexicon.words)
            + sum(len(v) for v in lexicon.phrases.values())
            + len(lexicon._unspaced_reasons)
        )
        return lexicon

    def __len__(self) -> int:
        # counted once in build(): truth tests of a lexicon run for every post
        return self._size

    def find(self, folded: str) -> tuple[str, str] | None:
        """The first listed word or phrase in ``folded`` text and its reason, else ``None``."""
        words = self.words
        keys = words.keys()
        tokens = _TOKEN_RE.findall(folded)
        if not keys.isdisjoint(tokens):
            for token in tokens:
                if token in words:
                    return token, words[token]
        odd = [t for t in tokens if not t.isalpha()]
        odd_words: list[str] = []
        for token in odd:
            variants = _variants(token)
            for variant in variants:
                if variant in words:
                    return variant, words[variant]
                if "*" in variant:
                    unmasked = self._unmask(variant)
                    if unmasked is not None:
                        return unmasked, words[unmasked]
            odd_words.extend(variants)
        phrases = self.phrases
        if phrases:
            keys_of_phrases = phrases.keys()
            if not keys_of_phrases.isdisjoint(tokens) or not keys_of_phrases.isdisjoint(odd_words):
                found = self._phrase(tokens)
                if found is not None:
                    return found
        if _TRIPLE_RE.search(folded) is not None and _STRETCH_RE.search(folded) is not None:
            for repl in (r"\1", r"\1\1"):
                squeezed = _STRETCH_RE.sub(repl, folded)
                for token in _TOKEN_RE.findall(squeezed):
                    for variant in _variants(token):
                        if variant in words:
                            return variant, words[variant]
        if self._unspaced is not None and not folded.isascii():
            match = self._unspaced.search(folded)
            if match is not None:
                return match.group(0), self._unspaced_reasons[match.group(0)]
        return None

    def _unmask(self, token: str) -> str | None:
        """A listed word that ``token`` spells with some letters masked (``f*ck``)."""
        shown = sum(1 for ch in token if ch != "*")
        if token[0] == "*" or shown * 2 < len(token):
            return None
        for word in self._masked.get((len(token), token[0]), ()):
            if all(a in ("*", b) for a, b in zip(token, word, strict=True)):
                return word
        return None

    def _phrase(self, tokens: list[str]) -> tuple[str, str] | None:
        """A listed phrase in ``tokens``; only the words around a phrase's key word are
        normalised."""
        phrases = self.phrases
        for index, raw in enumerate(tokens):
            options = phrases.get(raw)
            if options is None:
                if raw.isalpha():
                    continue
                options = phrases.get(_normal_token(raw))
                if options is None:
                    continue
            for words, key, reason in options:
                start = index - key
                around = tokens[start : start + len(words)] if start >= 0 else []
                if len(around) == len(words) and all(
                    t == w or _normal_token(t) == w for t, w in zip(around, words, strict=True)
                ):
                    return " ".join(words), reason
        return None


def profanity_entries(languages: Iterable[str]) -> list[tuple[str, str]]:
    """``(word, "profanity")`` for every listed word of ``languages`` (unknown ones skipped)."""
    entries: list[tuple[str, str]] = []
    for language in sorted(set(languages)):
        entries.extend((w, "profanity") for w in list_words(language))
    return entries


__all__ = [
    "EVERYDAY_WORDS",
    "LANGUAGES",
    "LIST_NAMES",
    "Lexicon",
    "hashtag_words",
    "list_words",
    "mask_word",
    "normal_word",
    "profanity_entries",
]

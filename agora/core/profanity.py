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
* single letters spelled apart are read together (``f u c k``, ``f.u.c.k``, ``s-h-i-t``,
  ``f_u_c_k``); the English words are also found inflected (``fucks``, ``motherfuckers``,
  ``shitting``, ``fuckin'``: :data:`SUFFIXES`, less :data:`INNOCENT_FORMS`) and written backwards
  (``kcuf``, unless the backwards form is an English word: "Lana", "Tums");
* look-alike letters, invisible code points and emoji inside a word are read as a person reads
  them (``ѕһіт``, ``ꜰᴜᴄᴋ``, ``🇫🇺🇨🇰``, ``fu🖕ck``: :func:`agora.core.canonical.readings`);
* hashtags are read as words: by case (``#WhatTheFuck``, ``#FUCKyou``) and, when a listed word
  hides inside, by an English dictionary (``#shitphone``, ``#whatthefuck``, ``#NOKIASHIT``:
  :mod:`agora.core.wordsplit`); a hashtag that is a word of its own (``#therapist``,
  ``#Scunthorpe``) is never split. Display names are read the same way, every word as a hashtag.

A post is checked against the lists of the wall's languages (``[moderation] profanity_languages``
and ``languages``) and the list of its own language. :class:`Lexicon` is built once per
combination of languages; :meth:`Lexicon.scan` costs a few set look-ups for plain ASCII text and
looks further only where the text gives a reason to (non-ASCII letters, single letters in a row,
a hashtag).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from agora.core.canonical import readings
from agora.core.text import fold
from agora.core.wordsplit import english

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
#: what keeps single letters apart inside one token ("f_u_c_k", "f*u*c*k")
_APART_RE = re.compile(r"[_*]+")
#: the words of a camel-cased hashtag: "NoMoreFoo", "HTTPServer" (an upper-case run before a
#: capitalised word is a word of its own)
_CAMEL_RE = re.compile(r"[A-Z]{2,}(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|[A-Z]+|\d+")
#: the same, where an upper-case run is a word before lower case too: "FUCKyou", "NOKIAsucks"
_CASE_RE = re.compile(r"[A-Z]{2,}|[A-Z]?[a-z]+|\d+")
#: runs of ASCII letters in folded text: the pieces of a glued word looked up in the dictionary
_LETTERS_RE = re.compile(r"[a-z]+")
#: a glued word shorter than this is not split (three letters are a word or an abbreviation)
_GLUED_MIN = 5
#: two consecutive single letters are joined across at most this much (" ", ". ", " - ")
_SPACED_GAP = 3
_APOSTROPHES = frozenset("'\u2019")
#: the most frequent English words: "common" ones
_COMMON = 30_000


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
    letters = _APART_RE.split(token.strip("_*"))
    if len(letters) >= 3 and all(len(part) == 1 for part in letters):
        # single letters kept apart by underscores or asterisks ("f_u_c_k", "f*u*c*k")
        joined = "".join(letters)
        return (joined,) if joined.isalpha() else (_leet(joined),)
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


def hashtag_words(text: str, *, every_word: bool = False) -> str:
    """The words of camel-cased hashtags in ``text``, folded ("#NoMoreFoo" → "no more foo",
    "#FUCKyou" → "fuck you"); empty when no hashtag splits into several words. With
    ``every_word`` each word of ``text`` is read as a hashtag (a display name: "ShitPhone Fan")."""
    parts: list[str] = []
    tags = _TOKEN_RE.findall(text) if every_word else _HASHTAG_RE.findall(text)
    for tag in tags:
        pieces = _CAMEL_RE.findall(tag)
        if len(pieces) > 1:
            parts.extend(pieces)
        other = _CASE_RE.findall(tag)
        if len(other) > 1 and other != pieces:
            parts.extend(other)
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


#: Endings an English listed word is also found with: plurals and verb forms ("fucks", "cunts",
#: "fucked", "shitting", "fucker", "motherfuckers", "fuckin'"; "-in" after four letters or more:
#: "cumin" is a spice). "-es" only after s, x, z, ch and sh; a final "e" is dropped before a vowel
#: ("raped") and a final consonant after a single vowel is also doubled ("shitting").
SUFFIXES: tuple[str, ...] = ("s", "es", "ed", "ing", "er", "ers", "in")

#: Inflected forms that are everyday words of their own, never looked for (found by checking every
#: form :func:`inflections` makes of the English list against an English dictionary): "a cocked
#: hat", "a cocker spaniel", "both sexes", "spiced rum", "a titter", "flame-retarding".
INNOCENT_FORMS: frozenset[str] = frozenset(
    {
        "boobed",
        "boobing",
        "cocked",
        "cocker",
        "cockers",
        "cocking",
        "cummings",
        "dicker",
        "dickers",
        "retarder",
        "retarders",
        "retarding",
        "sexed",
        "sexes",
        "sexing",
        "skeeter",
        "skeeters",
        "spiced",
        "spicer",
        "spicing",
        "titer",
        "titers",
        "titter",
        "titters",
    }
)

_VOWELS = frozenset("aeiou")


def inflections(word: str) -> set[str]:
    """The forms of an English ``word`` with each of :data:`SUFFIXES` (see there)."""
    if len(word) < 3 or not (word.isalpha() and word.isascii()):
        return set()
    forms = {word + "s"}
    if word.endswith(("s", "x", "z", "ch", "sh")):
        forms.add(word + "es")
    stem = word[:-1] if word.endswith("e") else word
    doubles = (
        word[-1] not in _VOWELS
        and word[-1] not in "wxy"
        and word[-2] in _VOWELS
        and word[-3] not in _VOWELS
    )
    for suffix in SUFFIXES[2:]:
        if suffix == "in" and len(word) < 4:
            continue
        forms.add(stem + suffix)
        if doubles:
            forms.add(word + word[-1] + suffix)
    forms.discard(word)
    return forms


@dataclass(slots=True)
class Lexicon:
    """Words and phrases to find in posts, each with the reason given when it is found."""

    words: dict[str, str] = field(default_factory=dict)
    """Single words (normalised, with the inflections of the English ones) → reason."""
    phrases: dict[str, list[tuple[tuple[str, ...], int, str]]] = field(default_factory=dict)
    """The longest word of a phrase (the rarest, most likely: "one night stand" is looked for
    only in posts that say "stand") → (the phrase's words, that word's position, reason)."""
    backwards: dict[str, str] = field(default_factory=dict)
    """English words written backwards ("kcuf") → the word."""
    _masked: dict[tuple[int, str], list[str]] = field(default_factory=dict)
    _unspaced: re.Pattern[str] | None = None
    _unspaced_reasons: dict[str, str] = field(default_factory=dict)
    _size: int = 0
    _inner: frozenset[str] = frozenset()
    """Listed English words of three letters or more that may hide inside a glued word."""
    _inner_lengths: tuple[int, ...] = ()
    _glued: dict[tuple[str, bool], tuple[str, str] | None] = field(default_factory=dict)
    """Glued words looked at (a hashtag, a name) → what was found in them (remembered)."""
    _ambiguous: dict[str, bool] = field(default_factory=dict)
    _tags: dict[str, tuple[str, str] | None] = field(default_factory=dict)
    """Hashtags read as words → what was found in them (remembered)."""
    _watch: frozenset[str] = frozenset()
    """The keys of ``words`` and ``backwards``: one look-up per token finds either."""

    @classmethod
    def build(
        cls,
        entries: Iterable[tuple[str, str]],
        allow: Iterable[str] = (),
        *,
        english_words: Iterable[str] = (),
    ) -> Lexicon:
        """A lexicon of ``(word or phrase, reason)`` pairs; ``allow`` lists words never found.
        The single words of ``english_words`` (entries too) are also found inflected and written
        backwards."""
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
        lexicon._add_english({normal_word(w) for w in english_words}, allowed)
        return lexicon

    def _add_english(self, english_words: set[str], allowed: set[str]) -> None:
        """Add the inflections and backwards forms of the listed ``english_words``."""
        words = self.words
        listed = [w for w in english_words if w in words]
        # glued words are read with an English dictionary: only English words are looked for
        inner = {w for w in listed if len(w) >= 3 and w.isascii() and w.isalpha()}
        for word in listed:
            reason = words[word]
            for form in inflections(word):
                if form not in words and form not in allowed and form not in INNOCENT_FORMS:
                    words[form] = reason
            backwards = word[::-1]
            if len(word) >= 4 and word.isalpha() and backwards not in words:
                self.backwards[backwards] = word
        self._inner = frozenset(inner)
        self._inner_lengths = tuple(sorted({len(w) for w in inner}))
        self._watch = frozenset(words.keys() | self.backwards.keys())

    def __len__(self) -> int:
        # counted once in build(): truth tests of a lexicon run for every post
        return self._size

    # -- matching --------------------------------------------------------------------------------

    def scan(self, text: str, folded: str, *, glued: bool = False) -> tuple[str, str] | None:
        """The first listed word or phrase in ``text`` (``folded``: its folded form) and its
        reason, else ``None``: as written, as it reads (look-alikes, invisible code points), and
        in its hashtags read as words. ``glued``: every word may be glued (a display name, a
        trending term)."""
        hit = self.find(folded)
        if hit is not None:
            return hit
        other = readings(text, folded)
        for reading in other:
            hit = self.find(reading)
            if hit is not None:
                return hit
        if glued or "#" in text:
            find_tags = _TOKEN_RE.findall if glued else _HASHTAG_RE.findall
            for tag in find_tags(text):
                hit = self._tag(tag)
                if hit is not None:
                    return hit
            for reading in other:
                for tag in find_tags(reading):
                    hit = self._glued_tag(tag)
                    if hit is not None:
                        return hit
        return None

    def _tag(self, tag: str) -> tuple[str, str] | None:
        """A listed word in a hashtag (or a word of a name) read as words: by its case
        ("WhatTheFuck", "FUCKyou") and, unless its case shows its words ("PenIsland"), by the
        dictionary ("shitphone"). Answers are remembered: the same tags come back all day."""
        if tag in self._tags:
            return self._tags[tag]
        hit = None
        words = hashtag_words(f"#{tag}")
        if words:
            hit = self.find(words)
        if hit is None and not _cased_words(tag):
            # a capitalised word is most often a name ("Leacock", "Alcock"): only an unambiguous
            # listed word is looked for inside it
            proper = tag[:1].isupper() and tag[1:].islower()
            hit = self._glued_tag(fold(tag), proper=proper)
        if len(self._tags) >= _VARIANTS_CAP:
            self._tags.clear()
        self._tags[tag] = hit
        return hit

    def find(self, folded: str) -> tuple[str, str] | None:
        """The first listed word or phrase in ``folded`` text and its reason, else ``None``."""
        words = self.words
        tokens = _TOKEN_RE.findall(folded)
        listed = not self._watch.isdisjoint(tokens)  # a listed word, or one written backwards
        if listed:
            for token in tokens:
                if token in words:
                    return token, words[token]
        odd = list(itertools.filterfalse(str.isalpha, tokens))
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
        backwards = self.backwards
        if listed and backwards:
            for token in tokens:
                if token in backwards and token not in english():
                    return backwards[token], words[backwards[token]]
        lengths = list(map(len, tokens))
        # three one-character words in a row: maybe a word spelled apart (the string of their
        # lengths is searched in C: cheaper than a regular expression over the text)
        if lengths.count(1) >= 3 and "\x01\x01\x01" in "".join(map(chr, lengths)):
            return self._spaced(folded)
        return None

    def _spaced(self, folded: str) -> tuple[str, str] | None:
        """A listed word spelled with its letters apart ("f u c k", "f.u.c.k", "s-h-i-t"): runs
        of three or more one-character words, each close to the next. A letter beside an
        apostrophe belongs to a contraction ("it's a b c" is not "sabc")."""
        run: list[str] = []
        end = 0
        for match in _TOKEN_RE.finditer(folded):
            token = match.group(0)
            before = folded[end : match.start()]
            after = folded[match.end() : match.end() + 1]
            single = len(token) == 1 and not _APOSTROPHES & set(before + after)
            if single and run and len(before) <= _SPACED_GAP:
                run.append(token)
            else:
                hit = self._joined(run)
                if hit is not None:
                    return hit
                run = [token] if single else []
            end = match.end()
        return self._joined(run)

    def _joined(self, letters: list[str]) -> tuple[str, str] | None:
        """What a run of single letters spells, when it is listed (also in leetspeak, backwards,
        or glued to other words: "f u c k y o u")."""
        if len(letters) < 3:
            return None
        word = "".join(letters)
        for variant in dict.fromkeys((word, *_variants(word))):
            if variant in self.words:
                return variant, self.words[variant]
            original = self.backwards.get(variant)
            if original is not None and variant not in english():
                return original, self.words[original]
            if variant.isalpha() and variant.isascii():
                hit = self.glued(variant)
                if hit is not None:
                    return hit
        return None

    def _glued_tag(self, tag: str, *, proper: bool = False) -> tuple[str, str] | None:
        """A listed word glued to others in a folded hashtag or name word (letters only: the
        digits and underscores between them part words)."""
        for letters in _LETTERS_RE.findall(tag):
            hit = self.glued(letters, proper=proper)
            if hit is not None:
                return hit
        return None

    def glued(self, letters: str, *, proper: bool = False) -> tuple[str, str] | None:
        """A listed word inside a glued word of lower-case ASCII letters ("shitphone",
        "whatthefuck"), as the most likely split into English words reads it; ``None`` for a word
        of its own ("therapist", "scunthorpe", "cocktail"). ``proper``: a name, where a listed
        word that begins or ends common words is not looked for ("Alcock"). Remembered."""
        key = (letters, proper)
        if key in self._glued:
            return self._glued[key]
        hit = self._read_glued(letters, proper)
        if len(self._glued) >= _VARIANTS_CAP:
            self._glued.clear()
        self._glued[key] = hit
        return hit

    def _read_glued(self, letters: str, proper: bool) -> tuple[str, str] | None:
        words = self.words
        if letters in words:
            return letters, words[letters]
        if len(letters) < _GLUED_MIN or letters in INNOCENT_FORMS or not self._hides_word(letters):
            return None
        dictionary = english()
        if letters in dictionary:
            return None
        parts = dictionary.split(letters)
        for index, part in enumerate(parts):
            if part not in words:
                continue
            others = parts[:index] + parts[index + 1 :]
            if any(_junk(p) for p in others):
                return None  # a poor split: more likely a word the dictionary lacks
            if self._is_ambiguous(part) and (
                proper or not all(dictionary.common(p, _COMMON) for p in others)
            ):
                return None  # "cockatiel": "cock a tiel" (a rare word beside a common prefix)
            return part, words[part]
        return None

    def _hides_word(self, letters: str) -> bool:
        """True when a listed word of three letters or more is inside ``letters``."""
        inner = self._inner
        n = len(letters)
        for length in self._inner_lengths:
            if length > n:
                break
            for start in range(n - length + 1):
                if letters[start : start + length] in inner:
                    return True
        return False

    def _is_ambiguous(self, word: str) -> bool:
        """True when common English words begin or end with listed ``word`` ("cock": "cockpit",
        "peacock"; "tit": "title"; not "shit", "fuck"), so a glued word that does may well be one
        of them (remembered)."""
        known = self._ambiguous.get(word)
        if known is None:
            words = self.words
            count = 0
            for other in english().words(_COMMON):
                if (other.startswith(word) or other.endswith(word)) and other not in words:
                    count += 1
                    if count >= 2:
                        break
            known = self._ambiguous[word] = count >= 2
        return known

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


def _cased_words(tag: str) -> bool:
    """True when the case of ``tag`` shows its words: camel case whose every word has three
    letters or more ("PenIsland", "WhatTheFuck"; not "ShItPhone")."""
    pieces = _CAMEL_RE.findall(tag)
    return len(pieces) > 1 and all(len(p) >= 3 or p.isdigit() or p in ("A", "I") for p in pieces)


def _junk(part: str) -> bool:
    """True for a piece of a split that is not a word one would write: a single letter other
    than "a" and "i", an uncommon two-letter word ("yz", "ep")."""
    if len(part) == 1:
        return part not in "ai"
    return len(part) == 2 and not english().common(part, 1_000)


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

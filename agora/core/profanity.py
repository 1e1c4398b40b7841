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
from typing import Any

from agora.core.bounded import contains_any, remember
from agora.core.canonical import readings
from agora.core.text import fold
from agora.core.tokens import LONG_HASHTAG_WORD_RE, MASKED_WORD_RE, case_words
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
_LEET_EXTRA = str.maketrans({"!": "i", "|": "i", "+": "t"})
#: a character written three times in a row: the cheap test before looking for stretched words
_TRIPLE_RE = re.compile(r"(.)\1\1", re.DOTALL)
#: a letter written three or more times in a row ("shiiit")
_STRETCH_RE = re.compile(r"([^\W\d_])\1{2,}")
#: scripts written without spaces between words: their listed words match anywhere
_UNSPACED_RE = re.compile("[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: what keeps single letters apart inside one token ("f_u_c_k", "f*u*c*k", "f|u|c|k", "f+u+c+k")
_APART_RE = re.compile(r"[_*|+]+")
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
    for token in MASKED_WORD_RE.findall(fold(word)):
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
        if len(token) <= _CACHED_KEY:  # a hostile post's long tokens would only fill memory
            remember(_VARIANTS, token, found, VARIANTS_CAP)
    return found


_VARIANTS: dict[str, tuple[str, ...]] = {}
VARIANTS_CAP = 20_000
#: tokens, hashtags and glued words longer than this are not remembered
_CACHED_KEY = 64


def _read_variants(token: str) -> tuple[str, ...]:
    if "|_|" in token:  # a "u" drawn with a pipe on each side ("f|_|ck")
        token = token.replace("|_|", "u")
    letters = _APART_RE.split(token.strip("_*|+"))
    if len(letters) >= 3 and all(len(part) == 1 for part in letters):
        # single letters kept apart by underscores, asterisks, pipes or plus signs ("f_u_c_k")
        joined = "".join(letters)
        return (joined,) if joined.isalpha() else (_leet(joined),)
    if "+" in token:
        # a plus sign is a "t" ("b!+ch") or stands between two words ("fuck+you")
        parts = tuple(v for part in token.split("+") if part for v in _read_variants(part))
        core = token.strip("!|*+")
        return (_leet(core), *parts) if core else parts
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


#: ASCII text as :data:`MASKED_WORD_RE` reads it without a plus sign: the characters of its
#: words kept, every other one a space (a word is then a run of kept characters)
_MASKED_BYTES = bytes(
    code if chr(code).isascii() and (chr(code).isalnum() or chr(code) in "_$@*|!") else 0x20
    for code in range(256)
)


#: what keeps a text from being split by :data:`_MASKED_BYTES`: a plus sign (it may join words),
#: or a letter or digit past ASCII (part of a word)
_UNSPLIT_RE = re.compile(r"\+|[^\W\x00-\x7f]")


def masked_words(folded: str) -> list[str]:
    """``MASKED_WORD_RE.findall(folded)``: a text without a plus sign whose characters past ASCII
    are no part of a word (most posts: emoji, punctuation) is split in C at the characters that
    are no part of a word (each character past ASCII reads "?": one of them), two to four times
    faster than the search."""
    if folded.isascii():
        if "+" not in folded:
            return folded.encode("ascii").translate(_MASKED_BYTES).decode("ascii").split()
    elif _UNSPLIT_RE.search(folded) is None:
        return folded.encode("ascii", "replace").translate(_MASKED_BYTES).decode("ascii").split()
    return MASKED_WORD_RE.findall(folded)


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
    tags = MASKED_WORD_RE.findall(text) if every_word else LONG_HASHTAG_WORD_RE.findall(text)
    for tag in tags:
        pieces = case_words(tag)
        if len(pieces) > 1:
            parts.extend(pieces)
        other = case_words(tag, runs=True)
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

#: Spellings of English listed words that the list lacks, written to slip past it: found like
#: the list's own words (inflected, backwards, inside glued words).
ENGLISH_SPELLINGS: tuple[str, ...] = (
    "azzhole",
    "biatch",
    "biotch",
    "fck",
    "fcker",
    "fcking",
    "fckn",
    "fcuk",
    "fcuking",
    "fukin",
    "fuking",
    "fukk",
    "fukker",
    "fukking",
    "motherfucka",
    "muthafucka",
    "phuk",
    "phuking",
    "sheeit",
    "shyt",
)

#: Words of the other languages' lists that read as profanity whatever the language of the post
#: around them (sworn across borders, and no everyday word elsewhere that a wall would show):
#: checked in every post, like the lists of the wall's own languages. Other words of those lists
#: are looked for only in posts in their language (the post's tag, or the language detected),
#: because many are everyday words of other languages ("con", "fica", "paal").
UNMISTAKABLE: Mapping[str, tuple[str, ...]] = {
    "cs": ("kokot", "kurva", "zmrd"),
    "de": ("arschloch", "fotze", "hurensohn", "scheiße", "schlampe", "wichser"),
    "es": ("cabrón", "gilipollas", "hijo de puta", "hijoputa", "mierda", "puta"),
    "fi": (
        "kusipää",
        "kyrpä",
        "mulkku",
        "paska",
        "paskiainen",
        "perkele",
        "runkkari",
        "vittu",
        "vittumainen",
        "vitun",
    ),
    "fr": ("connard", "connasse", "enculé", "fils de pute", "merde", "putain", "salope"),
    "hu": ("bazmeg", "picsa"),
    "it": ("cazzo", "coglione", "minchia", "puttana", "stronzo", "vaffanculo"),
    "nl": ("godverdomme", "klootzak", "teringlijer"),
    "pl": ("chuj", "jebać", "kurwa", "pierdolić", "skurwysyn"),
    "pt": ("caralho", "filho da puta", "foda-se", "puta que pariu"),
    "ru": ("блядь", "хуй", "pizda"),
    "sv": ("jävlar", "knulla"),
}

#: Words of the other languages' lists that are everyday words there, at least as often as they
#: are anything else: goods, a hole, to put, gingerbread (Finnish), fish, a queen, to come
#: (Italian), beer, to eat (Portuguese), a hammer (Spanish), a pot, a paw (Dutch), naked
#: (German), sauce (Swedish), "what's the difference" (Russian), an egg (Polish). They are
#: treated like :data:`EVERYDAY_WORDS`: now that untagged posts are checked with the lists of the
#: language they are written in, these would hide ordinary posts in it.
EVERYDAY_ELSEWHERE: Mapping[str, tuple[str, ...]] = {
    "cs": ("bordel", "čumět"),
    "de": ("bonze", "mufti", "nackt", "rosette"),
    "es": ("asesinato", "asno", "drogas", "infierno", "martillo", "orina", "racista", "trio"),
    "fi": (
        "haahka",
        "hatullinen",
        "jätkä",
        "muna",
        "paljaalla",
        "panna",
        "pipari",
        "pistää",
        "reikä",
        "suklaaosasto",
        "tavara",
        "tuhkaluukku",
        "viiksi",
    ),
    "hu": ("búr", "marha"),
    "it": (
        "bagnarsi",
        "battere",
        "biga",
        "cadavere",
        "cammello",
        "cappella",
        "carciofo",
        "carità",
        "cozza",
        "duro",
        "fava",
        "grilletto",
        "guanto",
        "lumaca",
        "manico",
        "montare",
        "nave scuola",
        "nudo",
        "pesce",
        "pipa",
        "pisello",
        "pistola",
        "pompa",
        "quaglia",
        "regina",
        "sbattere",
        "sega",
        "spagnola",
        "tirare",
        "uccello",
        "vacca",
        "venire",
    ),
    "nl": (
        "anita",
        "balen",
        "bekken",
        "beurt",
        "boemelen",
        "de hond uitlaten",
        "gat",
        "gras maaien",
        "griet",
        "hol",
        "johny",
        "kanen",
        "knor",
        "matje",
        "muts",
        "naakt",
        "nicht",
        "paal",
        "palen",
        "poot",
        "pot",
        "raaskallen",
        "reutelen",
        "schatje",
        "spuiten",
        "standje",
        "toeter",
        "watje",
        "wippen",
        "zaadje",
        "zuigen",
    ),
    "pl": ("burdel", "jajeczko", "jajko", "jajo"),
    "pt": (
        "amador",
        "aranha",
        "ariano",
        "bissexual",
        "burro",
        "cerveja",
        "comer",
        "consolo",
        "frango assado",
        "heterosexual",
        "homosexual",
        "inferno",
        "mama",
        "pau",
        "pinto",
        "saco",
        "torneira",
    ),
    "ru": ("бардак", "бугор", "голый", "другой дразнится", "какая разница", "обнаженный", "хапать"),
    "sv": ("hård", "sås", "tusan"),
}

#: English listed words that are everyday words of other languages: "dick" is German for thick,
#: "slut" Swedish and Danish for an end, "sex" Swedish for six, "rape" French for a grater (and
#: "râpé", grated), "cum" Romanian for how. Such a word does not hide a post whose other words
#: are in one of those languages (Norwegian is there too: the detector often cannot tell the
#: Scandinavian languages apart).
ELSEWHERE: Mapping[str, frozenset[str]] = {
    "cum": frozenset({"ro"}),
    "dick": frozenset({"de", "lb"}),
    "rape": frozenset({"fr"}),
    "sex": frozenset({"sv"}),
    "slut": frozenset({"da", "nb", "nn", "no", "sv"}),
}

#: Phrases in which a listed word is innocent: a novel, birds, a pudding, idioms. Matched as
#: consecutive words, in hashtags too ("#MobyDick", "#bluetit").
INNOCENT_PHRASES: tuple[str, ...] = (
    "bearded tit",
    "blue tit",
    "blue tits",
    "coal tit",
    "coal tits",
    "cock a doodle doo",
    "cock and bull",
    "cock robin",
    "crested tit",
    "great tit",
    "long tailed tit",
    "marsh tit",
    "moby dick",
    "penduline tit",
    "pussy willow",
    "pussy willows",
    "spic and span",
    "spick and span",
    "spotted dick",
    "tit for tat",
    "willow tit",
)

#: Listed words that are also people's names ("Dick Smith", "Philip K. Dick", "Alan Cumming",
#: "John Lee Hooker"): written as a name, they are read as one (see :meth:`Lexicon.scan`).
NAME_WORDS: tuple[str, ...] = ("cumming", "dick", "hooker")

#: Words that make a name word an insult rather than a name ("Dick Head"): never read as the
#: surname after it (besides the most frequent English words, which are not surnames either).
INSULT_COMPOUNDS: frozenset[str] = frozenset(
    {
        "bag",
        "bags",
        "brain",
        "brains",
        "cheese",
        "face",
        "faces",
        "fest",
        "head",
        "heads",
        "hole",
        "holes",
        "ish",
        "job",
        "less",
        "lick",
        "licker",
        "lickers",
        "licking",
        "licks",
        "lover",
        "lovers",
        "move",
        "moves",
        "nose",
        "pic",
        "pics",
        "rider",
        "riders",
        "riding",
        "shot",
        "shots",
        "size",
        "suck",
        "sucker",
        "suckers",
        "sucking",
        "sucks",
        "tease",
        "wad",
        "wads",
        "weed",
        "weeds",
    }
)

#: Endings of English place names: a capitalised glued word ending in one reads as a place
#: ("Penistone", "Cockermouth"), and a listed word is looked for only before the ending ("Peni").
PLACE_ENDINGS: tuple[str, ...] = (
    "borough",
    "bridge",
    "bury",
    "caster",
    "chester",
    "combe",
    "field",
    "ford",
    "hampton",
    "hurst",
    "minster",
    "mouth",
    "stead",
    "stone",
    "thorpe",
    "wick",
    "worth",
)

#: The reason given for a text too costly to read (hostile input: hundreds of unknown hashtags,
#: glued or leetspeak words)
UNREADABLE = "too many unknown words to read"

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


#: What a token may matter to in :meth:`Lexicon.find` (a token with none of these is plain):
#: a listed word or one backwards; a first piece of a listed word split in two, or what may
#: complete one; a phrase's key word; digits or symbols (leetspeak); one character (letters spelled
#: apart); a letter three times in a row (stretched).
_WATCH, _HEAD, _TAIL, _PHRASE, _ODD, _SINGLE, _STRETCH = (1 << bit for bit in range(7))
#: And what a token may matter to in :meth:`Lexicon.scan`: a name word inside it (in lower case:
#: the text is folded), or a listed word of an innocent phrase.
_NAME, _INNOCENT = 1 << 7, 1 << 8


class _UnreadableError(Exception):
    """A text would cost more to read than a post may (see :class:`_Budget`)."""


@dataclass(slots=True)
class _Budget:
    """What one scan may still spend: the dictionary splits of unknown glued words (by their
    letters), the hashtags or name words and the leetspeak tokens read for the first time. A
    post of hundreds of unknown hashtags would otherwise cost tens of milliseconds on the single
    ingest thread; past the budget the text is not shown (nobody can read such a post either)."""

    letters: int = 160
    tags: int = 128
    tokens: int = 400
    """Tokens with digits or symbols read for the first time (leetspeak)."""

    def split(self, letters: int) -> None:
        self.letters -= letters
        if self.letters < 0:
            raise _UnreadableError

    def tag(self) -> None:
        self.tags -= 1
        if self.tags < 0:
            raise _UnreadableError

    def token(self) -> None:
        self.tokens -= 1
        if self.tokens < 0:
            raise _UnreadableError


@dataclass(slots=True)
class Lexicon:
    """Words and phrases to find in posts, each with the reason given when it is found."""

    words: dict[str, str] = field(default_factory=dict)
    """Single words (normalised, with the inflections of the English ones) → reason."""
    phrases: dict[str, list[tuple[tuple[str, ...], int, str]]] = field(default_factory=dict)
    """The longest word of a phrase (the rarest, most likely: "one night stand" is looked for
    only in posts that say "stand") → (the phrase's words, that word's position, reason)."""
    backwards: dict[str, str] = field(default_factory=dict)
    """English words written backwards ("kcuf", "skcuf") → the word."""
    foreign: dict[str, frozenset[str]] = field(default_factory=dict)
    """Words and phrases that are profanity only in some languages → those languages: the
    caller decides whether the post is written in one of them (see :meth:`build`)."""
    _masked: dict[tuple[int, str], list[str]] = field(default_factory=dict)
    _unspaced: re.Pattern[str] | None = None
    _unspaced_first: re.Pattern[str] | None = None
    """Finds a character that each word of ``_unspaced`` has: a text without any has none."""
    _unspaced_reasons: dict[str, str] = field(default_factory=dict)
    _size: int = 0
    _inner: re.Pattern[str] | None = None
    """Finds a listed English word of three letters or more (one that may hide inside a glued
    word)."""
    _glued: dict[tuple[str, bool], tuple[str, str] | None] = field(default_factory=dict)
    """Glued words looked at (a hashtag, a name) → what was found in them (remembered)."""
    _ambiguous: dict[str, bool] = field(default_factory=dict)
    _tags: dict[str, tuple[str, str] | None] = field(default_factory=dict)
    """Hashtags read as words → what was found in them (remembered)."""
    _watch: frozenset[str] = frozenset()
    """The keys of ``words`` and ``backwards``: one look-up per token finds either."""
    _innocent: dict[str, list[tuple[tuple[str, ...], int]]] = field(default_factory=dict)
    """A listed word → the innocent phrases it is part of, with its position in each."""
    _heads: frozenset[str] = frozenset()
    """The first pieces of the English listed words a split in two may leave ("fu" of "fu ck")."""
    _halves: frozenset[str] = frozenset()
    """The English listed words of four letters or more: what two pieces may be joined into."""
    _tails: dict[str, frozenset[str]] = field(default_factory=dict)
    """A piece of :attr:`_heads` → what completes it into one of :attr:`_halves` ("fu": "ck")."""
    _any_tail: frozenset[str] = frozenset()
    """Every piece of :attr:`_tails`."""
    _kinds: dict[str, int] = field(default_factory=dict)
    """Tokens seen that may matter (``_WATCH``, ``_HEAD``… bits; bounded): each is looked at once."""
    _odd_hits: dict[str, tuple[tuple[str, str] | None, tuple[str, str] | None]] = field(
        default_factory=dict
    )
    """Tokens with digits or symbols → what they read as (:meth:`_read_odd`; bounded)."""
    _plain: set[str] = field(default_factory=set)
    """Tokens seen that matter to none of the checks of :meth:`find` alone (bounded): most
    tokens of most posts, set aside at once."""
    remembered: int = VARIANTS_CAP
    """How many tokens, hashtags and glued words each of the lexicon's memories keeps before it
    starts again (a wall's main lexicon keeps the most; one of a post's own languages fewer)."""
    _names: re.Pattern[str] | None = None
    """Finds a listed name word written as a name ("Dick", "Cumming")."""
    _name_words: tuple[str, ...] = ()
    """The name words (folded): a text without any is not searched for names."""
    _phrases_re: re.Pattern[str] | None = None
    _innocent_words: tuple[str, ...] = ()
    """The listed words of the innocent phrases: a folded text without any has none of them."""

    @classmethod
    def build(
        cls,
        entries: Iterable[tuple[str, str]],
        allow: Iterable[str] = (),
        *,
        english_words: Iterable[str] = (),
        foreign: Iterable[tuple[str, str]] = (),
        remembered: int = VARIANTS_CAP,
    ) -> Lexicon:
        """A lexicon of ``(word or phrase, reason)`` pairs; ``allow`` lists words never found.
        The single words of ``english_words`` (entries too) are also found inflected, written
        backwards, inside glued words and split in two. ``foreign`` pairs ``(word, language)``
        are found too (reason ``"profanity"``) unless an entry has them, and :attr:`foreign`
        names their languages. ``remembered``: see :attr:`remembered`."""
        allowed = {normal_word(w) for w in allow}
        lexicon = cls(remembered=remembered)
        unspaced: list[str] = []
        pairs: list[tuple[str, str, str | None]] = [(e, reason, None) for e, reason in entries]
        pairs.extend((entry, "profanity", language) for entry, language in foreign)
        for entry, reason, listed_in in pairs:
            language = listed_in
            word = normal_word(entry)
            if not word:  # no letters at all (an emoji): matched anywhere, as it is
                word = entry.strip()
                if not word:
                    continue
                language = None  # and read the same in every language
            elif (len(word) < 2 and not _UNSPACED_RE.search(word)) or word.replace(
                " ", ""
            ).isdigit():
                continue  # one letter, or a number, is never a word to block
            if word in allowed:
                continue
            if language is not None:
                if not lexicon._has(word):
                    lexicon.foreign[word] = frozenset({language})
                elif word in lexicon.foreign:
                    lexicon.foreign[word] |= {language}
                    continue
                else:
                    continue  # checked in every post already
            if _UNSPACED_RE.search(word) or not MASKED_WORD_RE.fullmatch(word.replace(" ", "")):
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
            lexicon._unspaced = _alternation(unspaced)
            # a character each of them has (its first one past ASCII, which they are looked for
            # in): most non-ASCII posts (accents, emoji) have none of them
            lexicon._unspaced_first = re.compile(
                "[" + "".join(sorted({re.escape(_telling_char(w)) for w in unspaced})) + "]"
            )
        lexicon._size = (
            len(lexicon.words)
            + sum(len(v) for v in lexicon.phrases.values())
            + len(lexicon._unspaced_reasons)
        )
        lexicon._add_english({normal_word(w) for w in english_words}, allowed)
        lexicon._add_contexts()
        return lexicon

    def _has(self, word: str) -> bool:
        """True when ``word`` (normalised) is an entry already."""
        if word in self.words or word in self._unspaced_reasons:
            return True
        parts = tuple(word.split(" "))
        return any(words == parts for options in self.phrases.values() for words, _, _ in options)

    def _add_english(self, english_words: set[str], allowed: set[str]) -> None:
        """Add the inflections and backwards forms of the listed ``english_words``."""
        words = self.words
        foreign = self.foreign
        # longest first, then alphabetical: a form two listed words make ("fuckers" backwards)
        # is reported as the longer one ("fucker", not "fuck"), whatever the order of the set
        listed = sorted((w for w in english_words if w in words), key=lambda w: (-len(w), w))
        # glued words are read with an English dictionary: only English words are looked for
        inner = {w for w in listed if len(w) >= 3 and w.isascii() and w.isalpha()}
        for word in listed:
            reason = words[word]
            languages = foreign.get(word)
            forms = [
                form
                for form in inflections(word)
                if form not in words and form not in allowed and form not in INNOCENT_FORMS
            ]
            for form in forms:
                words[form] = reason
                if languages is not None:
                    foreign[form] = languages
            if word.isalpha() and word.isascii():
                # backwards, inflected too ("skcuf"); a backwards form that is a word of its
                # own ("Lana", "Tums") is left alone when it is read
                for form in (word, *forms):
                    backwards = form[::-1]
                    if len(form) >= 4 and backwards not in words:
                        self.backwards.setdefault(backwards, word)
        self._inner = _alternation(inner) if inner else None
        self._halves = frozenset(w for w in inner if len(w) >= 4 and w not in foreign)
        self._heads = frozenset(w[:cut] for w in self._halves for cut in range(2, len(w) - 1))
        tails: dict[str, set[str]] = {}
        for word in self._halves:
            for cut in range(1, len(word)):
                if word[:cut] in self._heads:
                    tails.setdefault(word[:cut], set()).add(word[cut:])
        self._tails = {head: frozenset(ends) for head, ends in tails.items()}
        self._any_tail = frozenset(end for ends in tails.values() for end in ends)
        self._watch = frozenset(words.keys() | self.backwards.keys())

    def _add_contexts(self) -> None:
        """Index the innocent phrases and the name words of the listed words."""
        found: list[str] = []
        for phrase in INNOCENT_PHRASES:
            parts = tuple(normal_word(phrase).split(" "))
            for position, part in enumerate(parts):
                if part in self.words and part not in self.foreign:
                    self._innocent.setdefault(part, []).append((parts, position))
                    found.append(r"[\s_\-]*".join(map(re.escape, parts)))
        if found:
            self._innocent_words = tuple(sorted(self._innocent))
            self._phrases_re = re.compile(
                "(?:" + "|".join(sorted(set(found))) + r")(?![^\W_])", re.IGNORECASE
            )
        names = [w for w in NAME_WORDS if w in self.words]
        if names:
            # no look-behind: a pattern that begins with its words is searched much faster
            # followed by no lower-case letter: a word ("Dick Smith") or glued ("DickGrayson")
            self._name_words = tuple(names)
            self._names = re.compile("(?:" + "|".join(w.capitalize() for w in names) + ")(?![a-z])")

    def __len__(self) -> int:
        # counted once in build(): truth tests of a lexicon run for every post
        return self._size

    # -- matching --------------------------------------------------------------------------------

    def scan(
        self, text: str, folded: str, *, glued: bool = False, tags: list[str] | None = None
    ) -> tuple[str, str] | None:
        """The first listed word or phrase in ``text`` (``folded``: its folded form) and its
        reason, else ``None``: as written, as it reads (look-alikes, invisible code points), and
        in its hashtags read as words. ``glued``: every word may be glued (a display name, a
        trending term). A listed word written as a person's name ("Dick Smith") or in an
        innocent phrase ("Moby Dick", "a blue tit") is not found there. A text that would cost
        too much to read gives ``("", UNREADABLE)``. ``tags``: the words of the hashtags of
        ``text`` as written, when the caller has them (the post's shared tokens)."""
        try:
            return self._scan(text, folded, glued, _Budget(), tags)
        except _UnreadableError:
            return "", UNREADABLE

    def _scan(
        self, text: str, folded: str, glued: bool, budget: _Budget, tags: list[str] | None
    ) -> tuple[str, str] | None:
        # the words of the folded text, read once: they tell which checks to make (a name word
        # is in the folded text wherever the text shows it as a name, "Dick" as "dick")
        tokens = masked_words(folded)
        present = set(tokens)
        flags = self._flags(present)
        cleared = text
        if flags & _NAME and self._names is not None and self._names.search(text) is not None:
            cleared = self._clear_names(cleared)
        if flags & _INNOCENT and self._phrases_re is not None:
            # blanked in the text, so that no glued reading of it finds their word either
            cleared = self._phrases_re.sub(lambda m: "_" * len(m.group(0)), cleared)
        if cleared != text:
            text, folded = cleared, match_form(cleared)
            tags = None  # names or phrases blanked: not the text the tags were read from
            hit = self.find(folded, budget)
        else:
            hit = self._find(folded, budget, tokens, present, flags)
        if hit is not None:
            return hit
        other = readings(text, folded)
        for reading in other:
            hit = self.find(reading, budget)
            if hit is not None:
                return hit
        if glued or "#" in text:
            find_tags = MASKED_WORD_RE.findall if glued else LONG_HASHTAG_WORD_RE.findall
            written = find_tags(text) if glued or tags is None else [t for t in tags if len(t) > 1]
            for tag in written:
                hit = self._tag(tag, budget)
                if hit is not None:
                    return hit
            for reading in other:
                for tag in find_tags(reading):
                    hit = self._glued_tag(tag, budget)
                    if hit is not None:
                        return hit
        return None

    def _clear_names(self, text: str) -> str:
        """``text`` with the name words that are written as part of a person's name blanked
        out (by underscores: a glued word around one is still read): a name word capitalised
        and followed by a capitalised surname ("Dick Smith", "Dick Van Dyke"), or after an
        initial ("Philip K. Dick"). A surname is no listed word, no insult made with the name
        word ("Dick Head") and none of the most frequent English words ("Dick Is")."""

        def blank(match: re.Match[str]) -> str:
            start, end = match.span()
            if start and text[start - 1].isalnum():
                return match.group(0)  # inside a word ("McDick")
            before = text[max(0, start - 4) : start]
            if _INITIAL_RE.search(before) is not None:
                return "_" * (end - start)
            after = _SURNAME_RE.match(text, end)
            if after is not None:
                surname = after.group(1).lower()
                dictionary = english()
                if (
                    surname not in self._watch
                    and surname not in INSULT_COMPOUNDS
                    and not dictionary.common(surname, _FREQUENT_WORDS)
                ):
                    return "_" * (end - start)
            return match.group(0)

        assert self._names is not None
        return self._names.sub(blank, text)

    def _tag(self, tag: str, budget: _Budget) -> tuple[str, str] | None:
        """A listed word in a hashtag (or a word of a name) read as words: by its case
        ("WhatTheFuck", "FUCKyou") and, unless its case shows its words ("PenIsland"), by the
        dictionary ("shitphone"). Answers are remembered: the same tags come back all day."""
        if tag in self._tags:
            return self._tags[tag]
        budget.tag()
        hit = None
        words = hashtag_words(f"#{tag}")
        if words:
            hit = self.find(words, budget)
        if hit is None and not _cased_words(tag):
            # a capitalised word is most often a name ("Leacock", "Alcock"): only an unambiguous
            # listed word is looked for inside it
            proper = tag[:1].isupper() and tag[1:].islower()
            hit = self._glued_tag(fold(tag), budget, proper=proper)
            if hit is None and not tag.isalpha():
                # glued in leetspeak ("sh1tcompany")
                for variant in _variants(fold(tag)):
                    if variant.isalpha() and variant.isascii():
                        hit = self.glued(variant, budget)
                        if hit is not None:
                            break
        if len(tag) <= _CACHED_KEY:
            remember(self._tags, tag, hit, self.remembered)
        return hit

    def find(self, folded: str, budget: _Budget | None = None) -> tuple[str, str] | None:
        """The first listed word or phrase in ``folded`` text and its reason, else ``None``.

        Each distinct token is classified once (:meth:`_kind_of`, remembered): the checks below
        run only when a token of the text gives them a reason to, so a clean post costs its
        tokenisation and a set difference."""
        tokens = masked_words(folded)
        present = set(tokens)
        if budget is None:
            budget = _Budget()
        return self._find(folded, budget, tokens, present, self._flags(present))

    def _flags(self, present: set[str]) -> int:
        """What the tokens ``present`` in a text may matter to (:meth:`_kind_of` of each)."""
        kinds = self._kinds
        flags = 0
        for token in present.difference(self._plain):
            kind = kinds.get(token)
            flags |= self._kind_of(token) if kind is None else kind
        return flags

    def _find(
        self, folded: str, budget: _Budget, tokens: list[str], present: set[str], flags: int
    ) -> tuple[str, str] | None:
        """:meth:`find` with the text's ``tokens``, the set of them and their :meth:`_flags`."""
        words = self.words
        listed = bool(flags & _WATCH)  # a listed word, or one written backwards
        if listed:
            hit = self._listed(tokens)
            if hit is not None:
                return hit
        if flags & _HEAD and flags & _TAIL and self._may_rejoin(present):
            hit = self._rejoined(tokens, folded)
            if hit is not None:
                return hit
        odd_words: list[str] = []
        if flags & _ODD:
            stretched: bool | None = None  # a character three times in a row (asked once)
            odd_hits = self._odd_hits
            for token in itertools.filterfalse(str.isalpha, tokens):
                if token not in _VARIANTS:
                    budget.token()
                variants = _variants(token)
                known = odd_hits.get(token)
                if known is None:
                    known = self._read_odd(token, variants)
                hit, if_stretched = known
                if hit != if_stretched:
                    if stretched is None:
                        stretched = _TRIPLE_RE.search(folded) is not None
                    if stretched:
                        hit = if_stretched
                if hit is not None:
                    return hit
                odd_words.extend(variants)
        phrases = self.phrases
        if (
            phrases
            and (flags & _PHRASE or not phrases.keys().isdisjoint(odd_words))
            and self._may_hold_phrase(present.union(odd_words) if odd_words else present)
        ):
            found = self._phrase(tokens)
            if found is not None:
                return found
        if flags & _STRETCH:
            # only the tokens with a letter three times in a row are read again ("shiiit")
            long = [_STRETCH_RE.search(token) is not None for token in tokens]
            for repl in (r"\1", r"\1\1"):
                reread = [
                    _STRETCH_RE.sub(repl, token) if stretch else token
                    for token, stretch in zip(tokens, long, strict=True)
                ]
                hit = self._listed(reread)
                if hit is not None:
                    return hit
                for token, stretch in zip(reread, long, strict=True):
                    if stretch and not token.isalpha():
                        for variant in _variants(token):
                            if variant in words:
                                return variant, words[variant]
        if (
            self._unspaced is not None
            and not folded.isascii()
            and self._unspaced_first is not None
            and self._unspaced_first.search(folded) is not None
        ):
            match = self._unspaced.search(folded)
            if match is not None:
                return match.group(0), self._unspaced_reasons[match.group(0)]
        backwards = self.backwards
        if listed and backwards:
            for token in tokens:
                if token in backwards and token not in english():
                    return backwards[token], words[backwards[token]]
        if flags & _SINGLE:
            lengths = list(map(len, tokens))
            # three one-character words in a row: maybe a word spelled apart (the string of
            # their lengths is searched in C: cheaper than a regular expression over the text)
            if lengths.count(1) >= 3 and "\x01\x01\x01" in "".join(map(chr, lengths)):
                return self._spaced(folded, budget)
        return None

    def _read_odd(
        self, token: str, variants: tuple[str, ...]
    ) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
        """The listed word a token with digits or symbols reads as (its ``variants``: plain, or
        masked "f*ck"), when the text has no character three times in a row and when it has
        (then a stretched variant is read squeezed too: "sh1iiiiit"); remembered (bounded)."""
        found = (self._odd_hit(variants, stretched=False), self._odd_hit(variants, stretched=True))
        if len(token) <= _CACHED_KEY:
            remember(self._odd_hits, token, found, self.remembered)
        return found

    def _odd_hit(self, variants: tuple[str, ...], *, stretched: bool) -> tuple[str, str] | None:
        words = self.words
        for variant in variants:
            if variant in words:
                return variant, words[variant]
            if "*" in variant:
                unmasked = self._unmask(variant)
                if unmasked is not None:
                    return unmasked, words[unmasked]
            if stretched and len(variant) >= 3 and _STRETCH_RE.search(variant) is not None:
                # leetspeak stretched ("sh1iiiiit"): the letters are read first
                for repl in (r"\1", r"\1\1"):
                    squeezed = _STRETCH_RE.sub(repl, variant)
                    if squeezed in words:
                        return squeezed, words[squeezed]
        return None

    def _kind_of(self, token: str) -> int:
        """What ``token`` may matter to in :meth:`find` (``_WATCH``, ``_HEAD``… bits; 0:
        nothing on its own), remembered (bounded) unless the token is long."""
        kind = 0
        if token in self._watch:
            kind |= _WATCH
        if token in self._heads:
            kind |= _HEAD
        if token in self._any_tail:
            kind |= _TAIL
        if token in self.phrases:
            kind |= _PHRASE
        if not token.isalpha():
            kind |= _ODD
        if len(token) == 1:
            kind |= _SINGLE
        if _STRETCH_RE.search(token) is not None:
            kind |= _STRETCH
        if contains_any(token, self._name_words):
            kind |= _NAME
        if contains_any(token, self._innocent_words):
            kind |= _INNOCENT
        if len(token) <= _CACHED_KEY:
            if kind:
                remember(self._kinds, token, kind, self.remembered)
            else:
                if len(self._plain) >= self.remembered:
                    self._plain.clear()
                self._plain.add(token)
        return kind

    def _listed(self, tokens: list[str]) -> tuple[str, str] | None:
        """The first token that is a listed word, unless it is part of an innocent phrase."""
        words = self.words
        innocent = self._innocent
        for index, token in enumerate(tokens):
            if token in words:
                if token in innocent and self._innocent_at(tokens, index):
                    continue
                return token, words[token]
        return None

    def _innocent_at(self, tokens: list[str], index: int) -> bool:
        """True when the listed word ``tokens[index]`` is part of an innocent phrase there."""
        for words, position in self._innocent.get(tokens[index], ()):
            start = index - position
            if start >= 0 and tuple(tokens[start : start + len(words)]) == words:
                return True
        return False

    def _may_rejoin(self, present: set[str]) -> bool:
        """False when no two of the tokens ``present`` make a word of :attr:`_halves` (a piece
        of :attr:`_heads` and what completes it): :meth:`_rejoined` would find nothing."""
        tails = self._tails
        for head in present.intersection(self._heads):
            ends = tails.get(head)
            if ends is not None and not ends.isdisjoint(present):
                return True
        return False

    def _rejoined(self, tokens: list[str], folded: str) -> tuple[str, str] | None:
        """An English listed word split in two by a space, a hyphen or a dot ("fu ck", "sh it",
        "fu-ck", "as shole"): two pieces joined when they make a listed word of four letters or
        more and are not both words of their own ("is it", "pen is", "an al")."""
        heads = self._heads
        halves = self._halves
        for index in range(len(tokens) - 1):
            first = tokens[index]
            if first not in heads:
                continue
            second = tokens[index + 1]
            joined = first + second
            if joined not in halves or (_own_word(first) and _own_word(second)):
                continue
            # the two pieces must stand next to each other, not a sentence apart
            apart = rf"(?<!\w){re.escape(first)}[\s.\-]{{1,2}}{re.escape(second)}(?!\w)"
            if re.search(apart, folded) is not None:
                return joined, self.words[joined]
        return None

    def _spaced(self, folded: str, budget: _Budget) -> tuple[str, str] | None:
        """A listed word spelled with its letters apart ("f u c k", "f.u.c.k", "s-h-i-t"): runs
        of three or more one-character words, each close to the next. A letter beside an
        apostrophe belongs to a contraction ("it's a b c" is not "sabc")."""
        run: list[str] = []
        end = 0
        for match in MASKED_WORD_RE.finditer(folded):
            token = match.group(0)
            before = folded[end : match.start()]
            after = folded[match.end() : match.end() + 1]
            single = len(token) == 1 and not _APOSTROPHES & set(before + after)
            if single and run and len(before) <= _SPACED_GAP:
                run.append(token)
            else:
                hit = self._joined(run, budget)
                if hit is not None:
                    return hit
                run = [token] if single else []
            end = match.end()
        return self._joined(run, budget)

    def _joined(self, letters: list[str], budget: _Budget) -> tuple[str, str] | None:
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
                hit = self.glued(variant, budget)
                if hit is not None:
                    return hit
        return None

    def _glued_tag(
        self, tag: str, budget: _Budget, *, proper: bool = False
    ) -> tuple[str, str] | None:
        """A listed word glued to others in a folded hashtag or name word (letters only: the
        digits and underscores between them part words)."""
        for letters in _LETTERS_RE.findall(tag):
            hit = self.glued(letters, budget, proper=proper)
            if hit is not None:
                return hit
        return None

    def glued(
        self, letters: str, budget: _Budget | None = None, *, proper: bool = False
    ) -> tuple[str, str] | None:
        """A listed word inside a glued word of lower-case ASCII letters ("shitphone",
        "whatthefuck"), as the most likely split into English words reads it; ``None`` for a word
        of its own ("therapist", "scunthorpe", "cocktail") or an innocent phrase ("mobydick").
        ``proper``: a name, where a listed word that begins or ends common words is not looked
        for ("Alcock"), nor one across the ending of a place name ("Penistone"). Remembered."""
        key = (letters, proper)
        if key in self._glued:
            return self._glued[key]
        hit = self._read_glued(letters, proper, budget or _Budget())
        if len(letters) <= _CACHED_KEY:
            remember(self._glued, key, hit, self.remembered)
        return hit

    def _read_glued(self, letters: str, proper: bool, budget: _Budget) -> tuple[str, str] | None:
        words = self.words
        if letters in words:
            return letters, words[letters]
        if len(letters) < _GLUED_MIN or letters in INNOCENT_FORMS or not self._hides_word(letters):
            return None
        dictionary = english()
        if letters in dictionary:
            return None
        if proper:
            ending = _place_ending(letters)
            if ending:  # "Penistone": a place; only what stands before "stone" is read
                stem = letters[: -len(ending)]
                return self._read_glued(stem, proper, budget) if len(stem) >= 3 else None
        parts = _split(letters, budget)
        for index, part in enumerate(parts):
            if part not in words:
                continue
            if part in self._innocent and self._innocent_at(parts, index):
                continue  # "mobydick"
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
        return self._inner is not None and self._inner.search(letters) is not None

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

    def _may_hold_phrase(self, present: set[str]) -> bool:
        """False when no listed phrase can be in a text whose tokens and readings of them (of
        the tokens that are not letters only) are ``present``: every word of a phrase is one.
        Most posts that show a phrase's key word show no other word of it ("phone" of "phone
        sex")."""
        phrases = self.phrases
        for key in phrases.keys() & present:
            for words, _, _ in phrases[key]:
                if all(w in present for w in words):
                    return True
        return False

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


#: an initial just before a name word: "Philip K. Dick", "P.K. Dick"
_INITIAL_RE = re.compile(r"(?<![\w])[A-Z]\.\s*$")
#: the capitalised word after a name word: its surname ("Smith", "Van", "O'Brien", "Smith-Jones"),
#: or glued to it in a handle or hashtag ("DickGrayson24")
_SURNAME_RE = re.compile(r"[ \t]*([A-Z][a-z]+(?:['\-][A-Z]?[a-z]+)?)(?![a-z])")
#: the most frequent English words, which are no surnames ("Dick Is", "Dick Big")
_FREQUENT_WORDS = 1_000
#: the splits of glued words, shared by every lexicon (remembered)
_SPLITS: dict[str, list[str]] = {}


def _split(letters: str, budget: _Budget) -> list[str]:
    """The most likely words of ``letters`` (remembered; a new split is paid from ``budget``)."""
    parts = _SPLITS.get(letters)
    if parts is None:
        budget.split(len(letters))
        parts = english().split(letters)
        if len(letters) <= _CACHED_KEY:
            remember(_SPLITS, letters, parts, VARIANTS_CAP)
    return parts


def _telling_char(word: str) -> str:
    """The first character of ``word`` past ASCII, else its first character."""
    for char in word:
        if not char.isascii():
            return char
    return word[0]


def _place_ending(letters: str) -> str:
    """The place-name ending ``letters`` ends with (the longest), else ``""``."""
    found = ""
    for ending in PLACE_ENDINGS:
        if letters.endswith(ending) and len(ending) > len(found):
            found = ending
    return found


def _own_word(piece: str) -> bool:
    """True when a piece of a word split in two is a word of its own: a frequent English word
    ("as", "it", "pen", "is"); two letters only among the thousand most frequent ("sh", "fu",
    "ck" are not)."""
    if len(piece) <= 2:
        return english().common(piece, 1_000)
    return english().common(piece, _COMMON)


def _alternation(words: Iterable[str]) -> re.Pattern[str]:
    """A regular expression that finds any of ``words``, written as a tree of their common
    beginnings (one branch per letter: searched in C without trying every word at every
    position)."""
    tree: dict[str, Any] = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + pattern(child) for ch, child in sorted(node.items()) if ch]
        if "" in node:  # a word ends here: the shortest is enough to know one is there
            return ""
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return re.compile(pattern(tree))


def match_form(text: str) -> str:
    """``text`` folded as moderation matches it: case and accents gone, letters without a case
    of their own in lower case, zero-width joiners removed."""
    folded = fold(text)
    if not folded.islower():
        folded = folded.casefold()
    if "\u200d" in folded or "\u200c" in folded:
        folded = folded.translate(_ZERO_WIDTH)
    return folded


_ZERO_WIDTH = str.maketrans("", "", "\u200c\u200d")


def _cased_words(tag: str) -> bool:
    """True when the case of ``tag`` shows its words: camel case of two words or more, each of
    three letters or more ("PenIsland", "WhatTheFuck"; not "ShItPhone", "2fuckingbad")."""
    words = [p for p in case_words(tag) if not p.isdigit()]  # digits show no case
    return len(words) > 1 and all(len(p) >= 3 or p in ("A", "I") for p in words)


def _junk(part: str) -> bool:
    """True for a piece of a split that is not a word one would write: a single letter other
    than "a" and "i", an uncommon two-letter word ("yz", "ep")."""
    if len(part) == 1:
        return part not in "ai"
    return len(part) == 2 and not english().common(part, 1_000)


def profanity_entries(languages: Iterable[str]) -> list[tuple[str, str]]:
    """``(word, "profanity")`` for every listed word of ``languages`` (unknown ones skipped),
    with :data:`ENGLISH_SPELLINGS` beside the English list."""
    entries: list[tuple[str, str]] = []
    for language in sorted(set(languages)):
        entries.extend((w, "profanity") for w in list_words(language))
        if language == "en":
            entries.extend((w, "profanity") for w in ENGLISH_SPELLINGS)
    return entries


def english_words() -> tuple[str, ...]:
    """The English words found inflected, backwards, glued and split: the English list and
    :data:`ENGLISH_SPELLINGS`."""
    return (*list_words("en"), *ENGLISH_SPELLINGS)


def unmistakable_entries() -> list[tuple[str, str]]:
    """``(word, "profanity")`` for the :data:`UNMISTAKABLE` words of every language."""
    return [(w, "profanity") for language in sorted(UNMISTAKABLE) for w in UNMISTAKABLE[language]]


def everyday_words() -> tuple[str, ...]:
    """The listed words that are not profanity unless ``profanity = "strict"``:
    :data:`EVERYDAY_WORDS` and :data:`EVERYDAY_ELSEWHERE`."""
    return (*EVERYDAY_WORDS, *(w for words in EVERYDAY_ELSEWHERE.values() for w in words))


def foreign_entries(skip: Iterable[str]) -> list[tuple[str, str]]:
    """``(word, language)`` for the listed words of every language but those of ``skip``,
    less the frequent English words ("con", "bite", "fan", "am"): the words a post may contain
    in a language of its own, to be confirmed by that language (see :attr:`Lexicon.foreign`).
    A frequent English word is left to the posts in its list's language: in any other post it
    is most likely English."""
    skipped = set(skip)
    dictionary = english()
    entries: list[tuple[str, str]] = []
    for language in sorted(set(LIST_NAMES) - skipped):
        for word in list_words(language):
            normal = normal_word(word)
            if max(map(len, normal.split(" "))) < 3 and normal.isascii():
                continue  # letters of an abbreviation ("a.q", "amk" read "am k"): noise elsewhere
            if " " not in normal and dictionary.common(normal, _COMMON):
                continue
            entries.append((word, language))
        if language == "en":
            entries.extend((w, "en") for w in ENGLISH_SPELLINGS)
    return entries


__all__ = [
    "ELSEWHERE",
    "ENGLISH_SPELLINGS",
    "EVERYDAY_ELSEWHERE",
    "EVERYDAY_WORDS",
    "INNOCENT_PHRASES",
    "LANGUAGES",
    "LIST_NAMES",
    "NAME_WORDS",
    "UNMISTAKABLE",
    "UNREADABLE",
    "VARIANTS_CAP",
    "Lexicon",
    "english_words",
    "everyday_words",
    "foreign_entries",
    "hashtag_words",
    "list_words",
    "mask_word",
    "match_form",
    "normal_word",
    "profanity_entries",
    "unmistakable_entries",
]

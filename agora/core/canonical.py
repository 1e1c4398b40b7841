"""How text reads to a person, for matching word lists: look-alike letters as the Latin ones they
pose as, invisible code points gone, emoji inside a word taken out.

An attacker can write a listed word so that it looks the same on screen but is made of other code
points: letters of other scripts that look like Latin ones (Cyrillic "ѕһіт", Greek "ΡΟΡΝ"), small
capitals ("ꜰᴜᴄᴋ"), regional-indicator and enclosed letters ("🇫🇺🇨🇰", "🅵🆄🅲🅺"), invisible code
points inside a word ("f\\u034fuck", "sh\\u3164it", "fu\\ufe0fck"), emoji inside a word ("fu🖕ck").
:func:`readings` gives the ways folded text (see :func:`agora.core.text.fold`, which already
applies the compatibility decomposition: full-width and mathematical letters, ``ⓕ``) reads once
these are undone. They are used for matching only: a post keeps its text for display.

The data is Unicode's, read from maintained packages once, the first time a text needs it (about
0.1 s): the ``regex`` module's Default_Ignorable_Code_Point, Latin and Regional_Indicator
properties; ``anyascii`` for the plain letter of each Latin letter-like; Unicode's confusables (the
data file of ``confusable-homoglyphs``) for letters of other scripts. Text that is plain ASCII
after folding costs one ``str.isascii``; other text one or two searches for a character class.

Letters of another script are read as Latin only where they pose as Latin: in a word that mixes
them with Latin letters, or in a text with no other letter of that script. A Russian or Greek post
keeps its words ("мама" is not "mama"); the word lists of its own language match it as written.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from agora.core.text import fold

#: stands for a symbol (emoji) between translation and the look at its neighbours
_SYMBOL = "\x00"
#: a symbol run (emoji) with a letter on each side: inside a word ("fu🖕ck")
_INFIX_RE = re.compile(f"(?<=[^\\W\\d_]){_SYMBOL}+(?=[^\\W\\d_])")
#: a run of letters (any script)
_WORD_RE = re.compile(r"[^\W\d_]+")
#: scripts that many people write every day: a word of theirs with one letter unlike any Latin
#: one is a word of that script ("καλό"), however few words the text has
_EVERYDAY_SCRIPTS = frozenset({"ARABIC", "ARMENIAN", "CYRILLIC", "GEORGIAN", "GREEK", "HEBREW"})
#: Latin letters of phonetics and upside-down writing that read as another letter than the one
#: they transliterate to (Unicode's confusables do not pair them): an esh is a long "s"
#: ("ʃhit"), a dotless j with stroke an upside-down "f" ("ɟuck"), a turned m a "m"…
_LOOKS = {
    "ʃ": "s",
    "ʄ": "f",
    "ɟ": "f",
    "ɥ": "h",
    "ɯ": "m",
    "ɔ": "c",
    "ʌ": "v",
    "ꞁ": "l",
}


@dataclass(frozen=True, slots=True)
class _Tables:
    worth: re.Pattern[str]
    """Finds a character of the Basic Multilingual Plane the reading changes (invisible, Latin
    letter-like, look-alike) or a symbol (dingbats, pictographs), or any character past U+FFFF.
    A class with many characters past U+FFFF is searched one range at a time in ``re``: those
    rarer characters are all found by one range and looked up one by one instead."""
    plain: dict[int, str | None]
    """Invisible code points → removed, Latin letter-likes → letters, symbols → ``_SYMBOL``."""
    latin: dict[int, str]
    """Letters of other scripts that look like a Latin letter → that letter."""
    second: dict[int, str]
    """The letters of ``latin`` that may be read two ways → the other reading (a vertical
    stroke: "l" or "i"; a lower-case letter whose capital looks like another one: "ν", "Ν")."""
    latin_re: re.Pattern[str]
    """Finds a letter of ``latin`` of the Basic Multilingual Plane."""


#: a character past U+FFFF (emoji, enclosed letters, tags)
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")


def readings(text: str, folded: str) -> list[str]:
    """The ways ``text`` reads, folded, that differ from ``folded`` (its folded form as written);
    none for plain text.

    Usually one; two when a symbol inside a word may stand for a letter ("f🖕ck" reads "fck" and
    "f*ck") or a vertical stroke may be an "l" or an "i". Look-alikes are read before folding:
    a capital may look like a Latin letter its lower case does not ("Ν", "ν")."""
    if folded.isascii():
        return []
    tables = _tables()
    # the text as written: folding may turn a look-alike into another one ("ϲ" into "ς")
    if not _worth_reading(text, tables):
        return []
    plain = text.translate(tables.plain)
    texts = [plain]
    if _SYMBOL in plain:
        texts = [
            _INFIX_RE.sub("", plain).replace(_SYMBOL, " "),
            _INFIX_RE.sub(lambda m: "*" * len(m.group(0)), plain).replace(_SYMBOL, " "),
        ]
    if _has_look_alike(plain, tables):
        other = tables.second
        both = any(ord(ch) in other for ch in plain if not ch.isascii())
        texts = [
            _as_latin(t, tables, second)
            for t in texts
            for second in ((False, True) if both else (False,))
        ]
    found = (fold(t) for t in texts)
    return [t for t in dict.fromkeys(found) if t != folded]


def _worth_reading(text: str, tables: _Tables) -> bool:
    """True when ``text`` has a letter the reading changes, or invisible code points or
    symbols inside a word (elsewhere they part words as they are: "❤\ufe0f" in an emoji)."""
    first = tables.worth.search(text)
    if first is None:
        return False
    plain = tables.plain
    latin = tables.latin
    for match in tables.worth.finditer(text, first.start()):
        start, end = match.span()
        point = ord(text[start])
        value = plain.get(point, _SYMBOL)
        if point in latin or (value is not None and value != _SYMBOL):
            return True  # a look-alike, a Latin letter-like, a regional indicator
        if _inside_word(text, start, end):
            return True
    return False


def _inside_word(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` has a letter on each side, past other symbols and
    invisible code points ("fu👨\u200d👩ck")."""
    before = start - 1
    while before >= 0 and not text[before].isalnum() and not text[before].isspace():
        before -= 1
    if before < 0 or not text[before].isalpha():
        return False
    after, size = end, len(text)
    while after < size and not text[after].isalnum() and not text[after].isspace():
        after += 1
    return after < size and text[after].isalpha()


def _has_look_alike(text: str, tables: _Tables) -> bool:
    """True when ``text`` has a letter of another script that looks like a Latin one."""
    if tables.latin_re.search(text) is not None:
        return True
    return any(ord(m.group(0)) in tables.latin for m in _ASTRAL_RE.finditer(text))


def _as_latin(text: str, tables: _Tables, second: bool = False) -> str:
    """``text`` with the look-alike letters of words posing as Latin read as Latin letters
    (``second``: the other reading of those that have two)."""
    latin = tables.latin
    table = {**latin, **tables.second} if second else latin
    # letters of a script that are not look-alikes show the text is really written in it
    genuine = {
        _script(ch)
        for ch in set(text)
        if not ch.isascii() and ch.isalpha() and ord(ch) not in latin and _script(ch) != "LATIN"
    }

    def read(match: re.Match[str]) -> str:
        word = match.group(0)
        if not _has_look_alike(word, tables):
            return word
        if genuine and not any(ch.isascii() for ch in word):
            scripts = {_script(ch) for ch in word if ord(ch) in latin}
            if scripts & genuine:
                odd = [ch for ch in word if ord(ch) not in latin]
                if (
                    len(odd) == 1
                    and len(word) >= 4
                    and evidence[_script(odd[0])] == 1
                    and _script(odd[0]) not in _EVERYDAY_SCRIPTS
                ):
                    # the only letter of a rarely written script in the text that looks like no
                    # Latin one, in a word of look-alikes ("ᏚᎻᏆᎢ"): a masked letter ("sh*t")
                    return word.translate(table).replace(odd[0], "*")
                return word  # a word of a text written in that script
        return word.translate(table)

    words = _WORD_RE.findall(text) if genuine else []
    # how many words of each script have a letter that looks like no Latin one
    evidence: Counter[str] = Counter(
        script
        for word in words
        for script in {_script(ch) for ch in word if not ch.isascii() and ord(ch) not in latin}
    )
    return _WORD_RE.sub(read, text)


@functools.lru_cache(maxsize=4096)
def _script(ch: str) -> str:
    """The script a letter belongs to, from the first word of its Unicode name ("CYRILLIC")."""
    return unicodedata.name(ch, "").partition(" ")[0]


@functools.cache
def _tables() -> _Tables:
    """Build the tables (once per process)."""
    import regex  # type: ignore[import-untyped]  # Unicode properties the re module lacks
    from anyascii import anyascii

    every = _every_character()
    plain: dict[int, str | None] = {}
    for ch in regex.findall(r"\p{Default_Ignorable_Code_Point}", every):
        plain[ord(ch)] = None
    for ch in regex.findall(r"[\p{Latin}\p{Regional_Indicator}]", every):
        if fold(ch).isascii():
            continue  # folding reads it already ("é", "ｆ"): the common case stays fast
        letters = "".join(c for c in anyascii(ch) if c.isascii() and c.isalpha()).lower()
        if 1 <= len(letters) <= 2 and ord(ch) not in plain:
            plain[ord(ch)] = letters
    # enclosed Latin letters without a compatibility decomposition ("🅵", negative squared)
    for ch in regex.findall(r"\p{Block=Enclosed_Alphanumeric_Supplement}", every):
        if "LATIN" in unicodedata.name(ch, "") and ord(ch) not in plain:
            letters = "".join(c for c in anyascii(ch) if c.isascii() and c.isalpha()).lower()
            if len(letters) == 1:
                plain[ord(ch)] = letters
    symbols = [ch for ch in regex.findall(r"[\p{So}\p{Sk}]", every) if ord(ch) not in plain]
    for ch in symbols:
        plain[ord(ch)] = _SYMBOL
    latin, second = _look_alikes(set(plain))
    for ch, looks in _LOOKS.items():
        # read by their look, their sound (the transliteration) as the other reading
        sound = plain.pop(ord(ch), None)
        latin[ord(ch)] = looks
        if sound and sound != looks:
            second[ord(ch)] = sound
    changing = [cp for cp in plain if cp <= 0xFFFF]
    changes = _char_class([*changing, *(cp for cp in latin if cp <= 0xFFFF)])
    return _Tables(
        plain=plain,
        latin=latin,
        second=second,
        latin_re=re.compile(_char_class(cp for cp in latin if cp <= 0xFFFF)),
        # one class for both (one search of the text): one range past U+FFFF costs little
        worth=re.compile(f"{changes[:-1]}\U00010000-\U0010ffff]"),
    )


def _every_character() -> str:
    """Every code point past ASCII where text may hide something (surrogates left out)."""
    ranges = (range(0x80, 0xD800), range(0xE000, 0x30000), range(0xE0000, 0xE1000))
    points = array("I")
    if points.itemsize != 4:  # pragma: no cover - 4 bytes on every platform Agora runs on
        return "".join(chr(cp) for span in ranges for cp in span)
    for span in ranges:  # the last one: tags and variation selectors
        points.extend(span)
    return points.tobytes().decode(f"utf-32-{sys.byteorder[0]}e")  # 5x faster than chr()


def _look_alikes(taken: set[int]) -> tuple[dict[int, str], dict[int, str]]:
    """Letters of other scripts that Unicode's confusables data says look like one Latin letter
    (folded: lower case), from the ``confusable-homoglyphs`` package's data file; and the second
    reading of those that have two."""
    source = resources.files("confusable_homoglyphs").joinpath("confusables.json")
    # each homoglyph is {"c": character, "n": its name}: kept as the character alone while the
    # file is read (the names would be most of the memory it takes)
    data: dict[str, list[str]] = json.loads(
        source.read_text(encoding="utf-8"),
        object_pairs_hook=lambda pairs: (
            pairs[0][1] if pairs and pairs[0][0] == "c" else dict(pairs)
        ),
    )
    found: dict[str, set[str]] = {}
    for ch, glyphs in data.items():
        if len(ch) != 1 or not ch.isalpha() or ord(ch) in taken or fold(ch).isascii():
            continue
        letters = {g.lower() for g in glyphs if len(g) == 1 and g.isascii() and g.isalpha()}
        if letters:
            found[ch] = letters
    del data
    latin: dict[int, str] = {}
    second: dict[int, str] = {}
    for ch, letters in found.items():
        latin[ord(ch)] = min(letters)
        if letters & {"i", "l"} == {"l"}:
            second[ord(ch)] = "i"  # a vertical stroke: "Ӏ" in "ЅНӀТ"
    # a lower-case letter read as its capital reads: a small capital ("т" for "Т", "к" for "К"),
    # or the folded form of a capital ("ν" of "Ν", "N"; itself it looks like "v")
    for ch in {c.lower() for c in found} | {c.casefold() for c in found}:
        if len(ch) != 1 or ord(ch) in taken or not ch.isalpha():
            continue
        capital = ch.upper()
        if len(capital) != 1 or capital not in found or _script(capital) == "LATIN":
            continue
        read = min(found[capital])
        if ord(ch) not in latin:
            latin[ord(ch)] = read
        elif latin[ord(ch)] != read:
            second[ord(ch)] = read
    return latin, second


def _char_class(points: Iterable[int]) -> str:
    """A regular-expression character class of ``points`` (consecutive ones as ranges)."""
    ordered = sorted(set(points))
    if not ordered:
        return "[^\\s\\S]"  # matches nothing
    parts: list[str] = []
    start = previous = ordered[0]
    for point in [*ordered[1:], -1]:
        if point == previous + 1:
            previous = point
            continue
        parts.append(
            re.escape(chr(start))
            if start == previous
            else f"{re.escape(chr(start))}-{re.escape(chr(previous))}"
        )
        start = previous = point
    return f"[{''.join(parts)}]"


__all__ = ["readings"]

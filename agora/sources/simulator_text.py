"""The words of the simulated stream (:mod:`agora.sources.simulator`), read from data files.

Everything the simulator writes comes from ``agora/assets/simulator/`` (all of it written for
Agora; no real post is quoted):

``phrases/<tag>.toml``  one :class:`PhraseBank` per language; the file name is the BCP-47 tag
                        written on the posts (``pt-BR.toml``)
``words.toml``          what the languages share (:class:`Words`): model names, emoji by mood,
                        generic hashtags, English launch openers and the ``[slots]`` lists
``authors.toml``        who posts (:class:`Authors`): cultures (share, language, names),
                        nicknames, news sites, communities, Mastodon-like servers

How the simulator puts a post together from a bank (``[part]`` is added now and then; ``""`` in
a list means "leave the part out this time", so it weighs that chance):

* an opinion: ``[opener] subject predicate [detail] [ending]``, each part from the list of the
  post's mood (``pos``, ``neu``, ``neg``);
* a question: ``question [detail]``; a complaint: ``complaint tail [ending]``;
* a launch post (during the spike): ``launch [detail] [ending]``; a comparison with a competitor:
  ``comparison [detail] [ending]``;
* a care reply from the brand: ``greeting body [closing]``;
* the English bank also writes the RSS ``headlines`` and the brand's ``announcements``; pictures
  get one of the bank's ``alts``.

Placeholders (``str.format_map`` fields, filled when first used):

``{ref}``    the topic the post is about (a configured term or label, e.g. "Lumen")
``{other}``  a competitor topic (comparisons and headlines)
``{camp}``   the campaign topic, or the brand and a model name when there is none (launch posts
             and announcements)
``{user}``   the handle a care reply answers (``@mira_k``; replies only)
``{prod}``   a product noun of the post's language; ``{model}`` and ``{old}`` a model name
``{n}`` ``{m}`` ``{d}`` ``{w}``  small numbers; ``{ticket}`` a ticket number
``{task}``, ``{fail}``, …  a word of the ``[slots]`` list of that name in ``words.toml``

**Checked when read.** :func:`load` reads the files once, when the first simulator is created, and
raises :class:`SimulatorTextError` naming the file and the key for: a missing or unknown field,
an empty list, a placeholder the simulator does not fill in that list, a phrase of a
topic-bearing list that names no topic (the topic matcher must find every post), and, in a bank
whose parts join without spaces (``sep = ""``, Japanese), a topic placeholder without a space on
each side (the matcher works on word boundaries and kana count as letters).
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Final

__all__ = [
    "MOODS",
    "Authors",
    "Culture",
    "PhraseBank",
    "SimulatorTextError",
    "SimulatorTexts",
    "Words",
    "load",
    "read",
]

#: The moods of opinions; every per-mood table has exactly these keys.
MOODS: Final = ("pos", "neu", "neg")


class SimulatorTextError(ValueError):
    """A data file of the simulator is wrong; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class PhraseBank:
    """The phrases of one language (``phrases/<lang>.toml``)."""

    lang: str
    """BCP-47 tag written on the posts (the file's name)."""
    products: tuple[str, ...]
    openers: dict[str, tuple[str, ...]]
    """Per mood; an opener is followed by a lower-case subject (``"honestly,"``)."""
    subjects: tuple[str, ...]
    predicates: dict[str, tuple[str, ...]]
    details: dict[str, tuple[str, ...]]
    endings: dict[str, tuple[str, ...]]
    questions: tuple[str, ...]
    complaints: tuple[str, ...]
    complaint_tails: tuple[str, ...]
    launch: tuple[str, ...]
    comparisons: dict[str, tuple[str, ...]]
    reply_greetings: tuple[str, ...]
    reply_bodies: tuple[str, ...]
    reply_closings: tuple[str, ...]
    alts: tuple[str, ...]
    announcements: tuple[str, ...] = ()
    """English only (the brand announces in English)."""
    headlines: tuple[str, ...] = ()
    """English only (the simulated news sites write in English)."""
    sep: str = " "
    """What joins the parts of a post (Japanese joins sentences without spaces)."""
    capitalise: bool = True
    """Whether a post starts with a capital letter."""


@dataclass(frozen=True, slots=True)
class Words:
    """What the languages share (``words.toml``)."""

    models: tuple[str, ...]
    """Fictional model names for ``{model}`` and ``{old}``."""
    generic_tags: tuple[str, ...]
    """Hashtags added now and then (never a configured term, so they do not skew topics)."""
    launch_openers_en: tuple[str, ...]
    """Openers of English launch posts (the other openers speak of weeks of use)."""
    emoji: dict[str, tuple[str, ...]]
    """Per mood."""
    slots: dict[str, tuple[str, ...]]
    """The vocabulary of each further placeholder (``{task}``: ``"back up my contacts"``)."""


@dataclass(frozen=True, slots=True)
class Culture:
    """Fictional people of one culture."""

    weight: float
    """Relative share of the authors."""
    lang: str
    """The language they write in when they do not write in English (a bank's tag)."""
    given: tuple[str, ...]
    family: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Authors:
    """Who posts (``authors.toml``)."""

    cultures: dict[str, Culture]
    japanese_script: dict[str, str]
    """Japanese display names of the romanised names of the ``japanese`` culture."""
    nick_adjectives: tuple[str, ...]
    """Words of Reddit-style usernames (``Quiet-Lantern-4821``) and nicknames."""
    nick_nouns: tuple[str, ...]
    sites: tuple[tuple[str, str], ...]
    """Fictional publications of the RSS items: (name, host)."""
    communities: tuple[str, ...]
    """Subreddit-like community names for Reddit URLs."""
    instances: tuple[str, ...]
    """Mastodon-like servers (all on the reserved ``.example`` domain)."""


@dataclass(frozen=True, slots=True)
class SimulatorTexts:
    """Everything under ``agora/assets/simulator/``, checked."""

    banks: dict[str, PhraseBank]
    """Every bank by language tag; ``"en"`` is always there."""
    words: Words
    authors: Authors


@cache
def load() -> SimulatorTexts:
    """The simulator's words from the package's ``assets/simulator/``, read and checked once."""
    return read(resources.files("agora") / "assets" / "simulator")


def read(root: Traversable) -> SimulatorTexts:
    """The words under ``root`` (laid out like ``agora/assets/simulator/``), checked.

    Raises :class:`SimulatorTextError` (see the module docstring)."""
    words = _read_words(_File(root / "words.toml"))
    known = _ALWAYS | frozenset(words.slots)
    banks: dict[str, PhraseBank] = {}
    try:
        found = sorted((root / "phrases").iterdir(), key=lambda r: r.name)
    except OSError as exc:
        raise SimulatorTextError(f"{root / 'phrases'}: {exc}") from None
    for resource in found:
        if resource.name.endswith(".toml"):
            bank = _read_bank(_File(resource), resource.name.removesuffix(".toml"), known)
            banks[bank.lang] = bank
    if "en" not in banks:
        raise SimulatorTextError(f"{root / 'phrases'}: no en.toml (the simulator's main language)")
    authors = _read_authors(_File(root / "authors.toml"), banks)
    return SimulatorTexts(banks=banks, words=words, authors=authors)


# ------------------------------------------------------------------------------------------------
# what each list may contain

_FORMATTER: Final = string.Formatter()

#: Placeholders the simulator fills in any phrase (``simulator._Slots``), besides the ``[slots]``.
_ALWAYS: Final = frozenset({"n", "m", "d", "w", "ticket", "prod", "model", "old"})


@dataclass(frozen=True, slots=True)
class _Rule:
    """What the phrases of one list of a bank may and must contain."""

    fields: frozenset[str] = frozenset({"ref"})
    """Placeholders filled there besides :data:`_ALWAYS` and the ``[slots]``."""
    names_topic: tuple[frozenset[str], ...] = ()
    """Each phrase contains one of these sets of placeholders (none: no requirement)."""
    blanks: bool = False
    """Whether ``""`` (leave the part out) is allowed."""
    by_mood: bool = False
    required: bool = True


_REF: Final = frozenset({"ref"})
_RULES: Final[dict[str, _Rule]] = {
    "products": _Rule(fields=frozenset()),
    "openers": _Rule(blanks=True, by_mood=True),
    "subjects": _Rule(names_topic=(_REF,)),
    "predicates": _Rule(by_mood=True),
    "details": _Rule(by_mood=True),
    "endings": _Rule(blanks=True, by_mood=True),
    "questions": _Rule(names_topic=(_REF,)),
    "complaints": _Rule(names_topic=(_REF,)),
    "complaint_tails": _Rule(blanks=True),
    "launch": _Rule(fields=frozenset({"ref", "camp"}), names_topic=(_REF, frozenset({"camp"}))),
    "comparisons": _Rule(
        fields=frozenset({"ref", "other"}),
        names_topic=(frozenset({"ref", "other"}),),
        by_mood=True,
    ),
    "reply_greetings": _Rule(fields=frozenset({"user"})),
    "reply_bodies": _Rule(fields=frozenset({"user"})),
    "reply_closings": _Rule(fields=frozenset({"user"}), blanks=True),
    "alts": _Rule(),
    "announcements": _Rule(
        fields=frozenset({"ref", "camp"}), names_topic=(_REF, frozenset({"camp"})), required=False
    ),
    "headlines": _Rule(fields=frozenset({"ref", "other"}), names_topic=(_REF,), required=False),
}
#: Lists the English bank must have although the others need not.
_ENGLISH_ONLY: Final = frozenset({"announcements", "headlines"})
_TOPICS: Final = ("ref", "other", "camp")
#: A topic placeholder without a space (or with the phrase's edge) on one side.
_UNSPACED_TOPIC: Final = re.compile(r"(?<! )\{(?:ref|other|camp)\}|\{(?:ref|other|camp)\}(?! )")


# ------------------------------------------------------------------------------------------------
# reading


class _File:
    """One data file being read: its parsed content, and errors that name it."""

    def __init__(self, resource: Traversable) -> None:
        self.label = str(resource)
        try:
            self.data: dict[str, Any] = tomllib.loads(resource.read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SimulatorTextError(f"{self.label}: {exc}") from None

    def error(self, key: str, problem: str) -> SimulatorTextError:
        return SimulatorTextError(f"{self.label}: {key}: {problem}")

    def no_other_keys(self, data: dict[str, Any], known: Collection[str], prefix: str = "") -> None:
        for key in data:
            if key not in known:
                raise self.error(prefix + key, "unknown field (a typo?)")

    def get(self, data: dict[str, Any], key: str, prefix: str = "") -> Any:
        if key not in data:
            raise self.error(prefix + key, "missing")
        return data[key]

    def table(self, data: dict[str, Any], key: str, prefix: str = "") -> dict[str, Any]:
        value = self.get(data, key, prefix)
        if not isinstance(value, dict):
            raise self.error(prefix + key, "expected a table")
        return value

    def texts(self, value: object, key: str, *, blanks: bool = False) -> tuple[str, ...]:
        """A non-empty list of text; ``""`` only where ``blanks``."""
        if not isinstance(value, list) or not value:
            raise self.error(key, "expected a non-empty list of text")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(f"{key}[{index}]", f"expected text, found {item!r}")
            if not item and not blanks:
                raise self.error(f"{key}[{index}]", 'an empty phrase ("" is not allowed here)')
        return tuple(value)

    def by_mood(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        """A table of one list per mood (the lists still unchecked)."""
        table = self.table(data, key)
        self.no_other_keys(table, MOODS, f"{key}.")
        return {mood: self.get(table, mood, f"{key}.") for mood in MOODS}

    def placeholders(self, phrase: str, key: str, allowed: frozenset[str]) -> set[str]:
        """The placeholders of ``phrase``; an error for one the simulator does not fill."""
        try:
            parts = list(_FORMATTER.parse(phrase))
        except ValueError as exc:
            raise self.error(key, f"{phrase!r}: {exc} (write {{{{ or }}}} for a brace)") from None
        names: set[str] = set()
        for _, name, spec, conversion in parts:
            if name is None:
                continue
            if spec or conversion:
                raise self.error(key, f"{phrase!r}: a placeholder takes no format: {{{name}}}")
            if name not in allowed:
                known = " ".join(f"{{{n}}}" for n in sorted(allowed))
                raise self.error(
                    key, f"{phrase!r}: unknown placeholder {{{name}}} here (known: {known})"
                )
            names.add(name)
        return names


def _read_bank(file: _File, lang: str, known: frozenset[str]) -> PhraseBank:
    data = file.data
    file.no_other_keys(data, {*_RULES, "sep", "capitalise"})
    sep = data.get("sep", " ")
    if not isinstance(sep, str):
        raise file.error("sep", "expected text")
    capitalise = data.get("capitalise", True)
    if not isinstance(capitalise, bool):
        raise file.error("capitalise", "expected true or false")
    lists: dict[str, Any] = {}
    for name, rule in _RULES.items():
        if name not in data:
            if lang == "en" and name in _ENGLISH_ONLY:
                raise file.error(name, "missing (English writes the headlines and announcements)")
            if not rule.required:
                continue
        allowed = known | rule.fields
        if rule.by_mood:
            raw = file.by_mood(data, name)
            lists[name] = {
                mood: _phrases(file, value, f"{name}.{mood}", rule=rule, allowed=allowed, sep=sep)
                for mood, value in raw.items()
            }
        else:
            value = file.get(data, name)
            if name == "products":  # nouns put in as they are
                lists[name] = file.texts(value, name)
            else:
                lists[name] = _phrases(file, value, name, rule=rule, allowed=allowed, sep=sep)
    return PhraseBank(lang=lang, sep=sep, capitalise=capitalise, **lists)


def _phrases(
    file: _File, value: object, key: str, *, rule: _Rule, allowed: frozenset[str], sep: str
) -> tuple[str, ...]:
    phrases = file.texts(value, key, blanks=rule.blanks)
    for index, phrase in enumerate(phrases):
        where = f"{key}[{index}]"
        names = file.placeholders(phrase, where, allowed)
        if rule.names_topic and not any(need <= names for need in rule.names_topic):
            wanted = " or ".join(
                " and ".join(f"{{{name}}}" for name in sorted(need)) for need in rule.names_topic
            )
            raise file.error(where, f"{phrase!r} names no topic (it needs {wanted})")
        if not sep and (match := _UNSPACED_TOPIC.search(phrase)):
            raise file.error(
                where, f"{phrase!r}: put a space on each side of {match.group().strip()}"
            )
    return phrases


def _read_words(file: _File) -> Words:
    data = file.data
    fields = ("models", "generic_tags", "launch_openers_en", "emoji", "slots")
    file.no_other_keys(data, fields)
    emoji = file.by_mood(data, "emoji")
    raw_slots = file.table(data, "slots")
    slots: dict[str, tuple[str, ...]] = {}
    for name, value in raw_slots.items():
        if name in _ALWAYS or name in _TOPICS or name == "user" or not name.isidentifier():
            raise file.error(f"slots.{name}", "not a name a list can have")
        words = file.texts(value, f"slots.{name}")
        # a word is filled in turn, with the numbers only (a list naming itself would loop)
        for index, word in enumerate(words):
            file.placeholders(word, f"slots.{name}[{index}]", _ALWAYS)
        slots[name] = words
    launch_allowed = _ALWAYS | frozenset(slots) | _RULES["launch"].fields
    launch_openers = file.texts(file.get(data, "launch_openers_en"), "launch_openers_en")
    for index, opener in enumerate(launch_openers):
        file.placeholders(opener, f"launch_openers_en[{index}]", launch_allowed)
    return Words(
        models=file.texts(file.get(data, "models"), "models"),
        generic_tags=file.texts(file.get(data, "generic_tags"), "generic_tags"),
        launch_openers_en=launch_openers,
        emoji={mood: file.texts(value, f"emoji.{mood}") for mood, value in emoji.items()},
        slots=slots,
    )


def _read_authors(file: _File, banks: dict[str, PhraseBank]) -> Authors:
    data = file.data
    fields = (
        "cultures",
        "japanese_script",
        "nick_adjectives",
        "nick_nouns",
        "sites",
        "communities",
        "instances",
    )
    file.no_other_keys(data, fields)
    cultures: dict[str, Culture] = {}
    for name, raw in file.table(data, "cultures").items():
        prefix = f"cultures.{name}."
        if not isinstance(raw, dict):
            raise file.error(prefix[:-1], "expected a table")
        file.no_other_keys(raw, ("weight", "lang", "given", "family"), prefix)
        weight = file.get(raw, "weight", prefix)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise file.error(prefix + "weight", "expected a number, 0 or more")
        lang = file.get(raw, "lang", prefix)
        if lang not in banks:
            raise file.error(prefix + "lang", f"no phrases/{lang}.toml for {lang!r}")
        cultures[name] = Culture(
            weight=float(weight),
            lang=lang,
            given=file.texts(file.get(raw, "given", prefix), prefix + "given"),
            family=file.texts(file.get(raw, "family", prefix), prefix + "family"),
        )
    if not cultures or not sum(c.weight for c in cultures.values()):
        raise file.error("cultures", "expected at least one culture with a weight")
    script = file.table(data, "japanese_script")
    if not all(isinstance(value, str) and value for value in script.values()):
        raise file.error("japanese_script", "expected a name in Japanese script for each name")
    japanese = cultures.get("japanese")
    for name in (*japanese.given, *japanese.family) if japanese else ():
        if name not in script:  # the simulator shows a Japanese author's name either way
            raise file.error("japanese_script", f"no Japanese script for {name!r}")
    sites: list[tuple[str, str]] = []
    raw_sites = file.get(data, "sites")
    for index, site in enumerate(raw_sites if isinstance(raw_sites, list) else ()):
        key = f"sites[{index}]"
        if not isinstance(site, dict):
            raise file.error(key, "expected { name = …, host = … }")
        file.no_other_keys(site, ("name", "host"), f"{key}.")
        name, host = file.get(site, "name", f"{key}."), file.get(site, "host", f"{key}.")
        if not (isinstance(name, str) and name and isinstance(host, str) and host):
            raise file.error(key, "expected a name and a host")
        sites.append((name, host))
    if not sites:
        raise file.error("sites", "expected a non-empty list of { name = …, host = … }")
    return Authors(
        cultures=cultures,
        japanese_script=dict(script),
        nick_adjectives=file.texts(file.get(data, "nick_adjectives"), "nick_adjectives"),
        nick_nouns=file.texts(file.get(data, "nick_nouns"), "nick_nouns"),
        sites=tuple(sites),
        communities=file.texts(file.get(data, "communities"), "communities"),
        instances=file.texts(file.get(data, "instances"), "instances"),
    )

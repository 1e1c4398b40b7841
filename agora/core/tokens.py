"""The tokens of a post, worked out once and read by every stage: moderation, topics, trending and
sentiment.

:func:`tokenise` splits a text into :class:`Token` objects, each with its :class:`Kind` (a word,
number, hashtag, mention, emoticon, emoji, run of punctuation, or a link). :class:`PostText` holds
one text and what the stages read of it, each worked out on first use and kept: the folded text
(:func:`agora.core.text.fold`), the form moderation matches, the tokens, the links and their
hosts, the language (detected once, for the language filter, the profanity lists and the
scorer). Trending reads the folded text with a memory of its own for the words it has read
(:class:`agora.core.terms.TermScanner`). :data:`SHARED` keeps the :class:`PostText` of the latest posts by
their text, so the pipeline's stages, which each receive a post, find the same one: a post is
tokenised once however many stages read it. The stages that must split a word differently (the
profanity lists keep ``$@*|!`` inside a word: ``a$$``, ``f*ck``) read their view from the same
:class:`PostText`, made once per post as well.

Case words of a hashtag (``#FUCKyou``, ``#EpicFail``) are split by :func:`case_words`, the one
camel-case splitter.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from enum import Enum
from typing import NamedTuple

from agora.core.langid import Detection, detect_details, mostly_non_latin, post_language
from agora.core.text import fold


class Kind(Enum):
    """What a token is."""

    WORD = "word"
    """Letters (and digits) with inner apostrophes: ``don't``, ``x30``, ``café``."""
    NUMBER = "number"
    """Digits only: ``2026``."""
    HASHTAG = "hashtag"
    """``#`` and a word: ``#LumenX1``."""
    MENTION = "mention"
    """``@`` and a word: ``@lumen``."""
    EMOTICON = "emoticon"
    """A face drawn in symbols: ``:)``, ``<3``, ``xD``."""
    EMOJI = "emoji"
    """One emoji character: ``😂``."""
    PUNCTUATION = "punctuation"
    """A run of clause punctuation: ``!!``, ``?!``, ``...``."""
    URL = "url"
    """A link: ``https://…`` or ``www.…`` (taken out of the text before the other tokens)."""


class Token(NamedTuple):
    """One token of a text and its kind."""

    text: str
    kind: Kind


def _shapes(text: str) -> list[str]:
    """The whitespace-separated shapes of ``text`` (keeps the list below readable)."""
    return text.split()


#: Emoticons and the feeling they show (valence in the VADER lexicon's scale, which the sentiment
#: scorers read). The tokeniser finds the ones that start with a symbol anywhere, also glued to
#: words ("great:)"); the ones that start with a letter ("xD") are words, looked up in lower case.
EMOTICONS: dict[str, float] = {
    **dict.fromkeys(
        _shapes(":) :-) :] :-] =) =] :o) :} :-} ^_^ ^^ ^.^ (: (-: :)) :-)) ;) ;-) ;] ;D :3"), 2.0
    ),
    **dict.fromkeys(_shapes(":D :-D =D xD XD :DD"), 2.5),
    **dict.fromkeys(_shapes(":P :-P :p :-p =P ;P ;p xP XP"), 1.2),
    **dict.fromkeys(_shapes("<3 <33 <333"), 2.8),
    **dict.fromkeys(_shapes(":( :-( :[ :-[ =( ): )-: :(( :-(( >:( :/ :-/ =/ :\\ :-\\"), -2.0),
    **dict.fromkeys(_shapes(":'( :'-( ;( ;-( ;_; </3 >_< -_-"), -2.3),
}


def _emoticon_alternatives() -> str:
    """A regex alternation of the emoticons that start with a symbol, longest first (a cheap
    look-ahead on the first character keeps it off the common path)."""
    symbolic = [e for e in EMOTICONS if not e[0].isalpha()]
    escaped = sorted((re.escape(e) for e in symbolic), key=len, reverse=True)
    first = "".join(sorted({re.escape(e[0]) for e in symbolic}))
    return f"(?=[{first}])(?:" + "|".join(escaped) + ")(?![0-9A-Za-z])"


EMOJI_CLASS = (
    "\U0001f300-\U0001f5ff\U0001f600-\U0001f64f\U0001f680-\U0001f6ff\U0001f900-\U0001f9ff"
    "\U0001fa70-\U0001faff\u2600-\u27bf\u2b50\u2b55\u2190-\u21ff\u2300-\u23ff"
)
#: Clause punctuation: a run of it is one token.
CLAUSE_MARKS = "!?.,;:"
#: One token: a word (with inner apostrophes), a hashtag or mention, an emoticon, a run of clause
#: punctuation, or an emoji. Links are taken out before. Words come first: they are most tokens.
TOKEN_RE = re.compile(
    r"\w+(?:'\w+)*|[#@]\w+|" + _emoticon_alternatives() + rf"|[{CLAUSE_MARKS}]+|[{EMOJI_CLASS}]"
)
#: A link as the tokeniser takes it out (any case: "HTTPS://", "WWW.").
URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_ESCAPE_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
_EMOJI_RE = re.compile(f"[{EMOJI_CLASS}]")


def _unescape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char.isprintable() else " "


def prepared(text: str) -> str:
    """``text`` as it is tokenised: escapes left over from another format read as what they
    stand for (``\\u2019`` written out in JSON that was escaped twice, ``&amp;`` in HTML), links
    taken out (:func:`links`), typographic apostrophes made plain. Each step runs only when a
    cheap test says it may change something."""
    if "\\u" in text:
        text = _ESCAPE_RE.sub(_unescape, text)
    if "&" in text and ";" in text:
        text = html.unescape(text)
    if "://" in text or "www." in text or "WWW." in text:
        text = URL_RE.sub(" ", text)
    if "’" in text:
        text = text.replace("’", "'")
    return text


def links(text: str) -> list[str]:
    """The links :func:`prepared` takes out of ``text``, in order."""
    if "\\u" in text:
        text = _ESCAPE_RE.sub(_unescape, text)
    if "&" in text and ";" in text:
        text = html.unescape(text)
    if "://" in text or "www." in text or "WWW." in text:
        return URL_RE.findall(text)
    return []


#: Called with the text each time :func:`tokenise` runs (tests count tokenisations with it).
TOKENISED: list[Callable[[str], None]] = []


def token_strings(text: str) -> list[str]:
    """The tokens of ``text`` as strings, links left out (see :func:`tokenise`)."""
    if TOKENISED:
        for hook in TOKENISED:
            hook(text)
    return TOKEN_RE.findall(prepared(text))


def kind_of(token: str) -> Kind:
    """The kind of one of :func:`token_strings`' tokens."""
    first = token[0]
    if first == "#":
        return Kind.HASHTAG
    if first == "@":
        return Kind.MENTION
    if token in EMOTICONS:
        return Kind.EMOTICON
    if not token.strip(CLAUSE_MARKS):
        return Kind.PUNCTUATION
    if len(token) == 1 and _EMOJI_RE.match(token) is not None:
        return Kind.EMOJI
    if token.isdigit():
        return Kind.NUMBER
    return Kind.WORD


def tokenise(text: str) -> list[Token]:
    """The tokens of ``text`` with their kinds, in order; its links come first, as
    :attr:`Kind.URL` tokens (they are taken out of the text before the rest is read)."""
    found = [Token(url, Kind.URL) for url in links(text)]
    return [*found, *(Token(t, kind_of(t)) for t in token_strings(text))]


# ------------------------------------------------------------------------------------------------
# the readings that split a word differently
#
# Two stages read words that the tokens above cut in pieces, and must go on reading them so (the
# wall hides and trends what it did before): the profanity lists read a word with the symbols
# that mask its letters ("a$$", "f*ck", "sh!t", "b!+ch") and match it in the canonical form of the
# text (agora.core.canonical), not in the text as written; trending keeps a hyphenated word whole
# ("state-of-the-art") and a mention with its host ("@user@mastodon.social"). Their patterns live
# here beside the tokens', so that every way Agora splits a text is in this one module.

#: A word as the profanity lists read it: letters and digits of any script, with the symbols
#: leetspeak and masking use; a plus sign only between two of them ("b!+ch"; "C++" and "A+" keep
#: their letters apart).
MASKED_WORD_RE = re.compile(r"[\w$@*|!]+(?:\+[\w$@*|!]+)*")
#: A hashtag's word (without ``#``), any length: what a blocked term may hide in.
HASHTAG_WORD_RE = re.compile(r"#(\w+)")
#: A hashtag's word of at least two characters: what the profanity lists read as a glued word.
LONG_HASHTAG_WORD_RE = re.compile(r"#(\w{2,})")
#: A word as trending reads it: letters and digits joined by apostrophes and hyphens, with its
#: ``#`` when it is a hashtag.
TERM_WORD_RE = re.compile(r"#?[^\W_]+(?:['’\-][^\W_]+)*")
#: Trending's tokens: a mention with its host, a :data:`TERM_WORD_RE` word, or one mark that ends
#: a phrase (a token of its own, so that no phrase is made across it).
TERM_TOKEN_RE = re.compile(r"@[\w.@\-]+|" + TERM_WORD_RE.pattern + r"|[.,;:!?…()\[\]\"“”/|]")


def term_tokens(folded: str) -> list[str]:
    """Trending's tokens of a folded text, its links left out (:data:`TERM_TOKEN_RE`)."""
    if "http" in folded or "www." in folded:
        folded = URL_RE.sub(" ", folded)
    return TERM_TOKEN_RE.findall(folded)


# ------------------------------------------------------------------------------------------------
# camel case

#: The words of a camel-cased tag, an upper-case run before a capitalised word being a word of
#: its own ("NoMoreFoo", "HTTPServer"; "FUCKyou" is "FUC" "Kyou", "IPhone" is "IP" "hone").
_CAMEL_RE = re.compile(r"[A-Z]{2,}(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|[A-Z]+|\d+")
#: The same, an upper-case run being a word before lower case too ("FUCKyou", "NOKIAsucks").
_CASE_RE = re.compile(r"[A-Z]{2,}|[A-Z]?[a-z]+|\d+")
#: The same, a single capital beginning the next word ("IPhone" is "I" "Phone").
_SHORT_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def case_words(tag: str, *, runs: bool = False, initials: bool = False) -> list[str]:
    """The words the case of ``tag`` shows (ASCII letters and digits; other characters part
    words). By default a run of capitals before a capitalised word is a word of its own
    ("HTTPServer" → "HTTP" "Server"); ``runs``: a run of capitals is a word before lower case
    too ("FUCKyou" → "FUCK" "you"); ``initials``: a single capital before another begins the next
    word ("IPhone" → "I" "Phone")."""
    pattern = _CASE_RE if runs else _SHORT_RE if initials else _CAMEL_RE
    return pattern.findall(tag)


# ------------------------------------------------------------------------------------------------
# a post's text, read once

#: the beginning of a post its language is detected from when only a guess is wanted (enough to
#: tell; a hostile post of 5,000 characters would cost milliseconds)
DETECTED_CHARS = 600


class PostText:
    """One text and what the stages read of it, each worked out on first use and kept."""

    __slots__ = (
        "_detection",
        "_folded",
        "_head",
        "_language",
        "_non_latin",
        "_strings",
        "_tokens",
        "text",
    )

    def __init__(self, text: str) -> None:
        self.text = text
        self._folded: str | None = None
        self._strings: list[str] | None = None
        self._tokens: list[Token] | None = None
        self._detection: Detection | None = None
        self._head: str | None = None
        self._language: tuple[str | None, str | None] | None = None
        self._non_latin: bool | None = None

    @property
    def folded(self) -> str:
        """The folded text (case and accents gone: :func:`agora.core.text.fold`)."""
        if self._folded is None:
            self._folded = fold(self.text)
        return self._folded

    @property
    def strings(self) -> list[str]:
        """The tokens as strings (:func:`token_strings`; do not change the list)."""
        found = self._strings
        if found is None:  # token_strings(), without a call more a post
            text = self.text
            if TOKENISED:
                for hook in TOKENISED:
                    hook(text)
            if "\\u" in text or "&" in text or "://" in text or "www." in text or "WWW." in text:
                text = prepared(text)
            elif "’" in text:
                text = text.replace("’", "'")
            found = self._strings = TOKEN_RE.findall(text)
        return found

    @property
    def tokens(self) -> list[Token]:
        """The tokens with their kinds, links first (:func:`tokenise`, from the same reading as
        :attr:`strings`)."""
        if self._tokens is None:
            found = [Token(url, Kind.URL) for url in links(self.text)]
            self._tokens = [*found, *(Token(t, kind_of(t)) for t in self.strings)]
        return self._tokens

    def hashtags(self) -> list[str] | None:
        """The hashtags' words (without ``#``) as written, in order: the tokens of kind
        :attr:`Kind.HASHTAG`. ``None`` when the tokens were not read from the text as it is
        written (escapes read, links taken out: a link's ``#anchor`` is no hashtag to the
        tokeniser), so a stage that reads the written text must find its own."""
        text = self.text
        if "\\u" in text or ("&" in text and ";" in text) or "://" in text:
            return None
        if "www." in text or "WWW." in text:
            return None
        return [t[1:] for t in self.strings if t[0] == "#"]

    def detection(self) -> Detection:
        """What the language detector makes of the whole text (asked once)."""
        if self._detection is None:
            self._detection = detect_details(self.text)
        return self._detection

    def language(self, lang: str | None) -> str | None:
        """The post's language with its tag ``lang``: :func:`agora.core.langid.post_language`,
        the text detected once for every tag asked about."""
        known = self._language  # every stage asks with the post's tag: one answer is kept
        if known is not None and known[0] == lang:
            return known[1]
        found = post_language(self.text, lang, self._detected)
        self._language = (lang, found)
        return found

    def _detected(self, text: str) -> Detection:
        if text is not self.text:
            return detect_details(text)
        found = self._detection
        if found is None:
            found = self._detection = detect_details(text)
        return found

    def guess(self) -> str | None:
        """The language detected from the beginning of the text (:data:`DETECTED_CHARS`): the
        whole text's when it is that short."""
        if self._head is None:
            if len(self.text) <= DETECTED_CHARS:
                found = self.detection()[0]
            else:
                found = detect_details(self.text[:DETECTED_CHARS])[0]
            self._head = found or ""
        return self._head or None

    @property
    def non_latin(self) -> bool:
        """:func:`agora.core.langid.mostly_non_latin` of the text (worked out once)."""
        if self._non_latin is None:
            self._non_latin = mostly_non_latin(self.text)
        return self._non_latin


class TextCache:
    """The :class:`PostText` of the latest texts, by text: between ``capacity`` and twice as
    many (two generations: when the newer is full it becomes the older, and the older goes; no
    bookkeeping per text)."""

    def __init__(self, capacity: int = 1_024) -> None:
        self.capacity = capacity
        self._texts: dict[str, PostText] = {}
        self._older: dict[str, PostText] = {}
        self.made = 0
        """How many :class:`PostText` were made (tests and benchmarks read it)."""

    def of(self, text: str) -> PostText:
        """The :class:`PostText` of ``text``, made once while it is among the latest."""
        found = self._texts.get(text)
        if found is None:
            found = self._older.get(text)
            if found is None:
                found = PostText(text)
                self.made += 1
            if len(self._texts) >= self.capacity:
                self._older = self._texts
                self._texts = {}
            self._texts[text] = found
        return found

    def get(self, text: str) -> PostText | None:
        """The :class:`PostText` of ``text`` when it is among the latest, else ``None``."""
        found = self._texts.get(text)
        return self._older.get(text) if found is None else found

    def clear(self) -> None:
        """Forget every text (a benchmark times a stage on its own from a cold start)."""
        self._texts = {}
        self._older = {}

    def __len__(self) -> int:
        return len(self._texts) + len(self._older)


#: The texts of the latest posts: every stage of the pipeline reads a post through this.
SHARED = TextCache()


def read(text: str) -> PostText:
    """The shared :class:`PostText` of ``text`` (:data:`SHARED`)."""
    return SHARED.of(text)


__all__ = [
    "CLAUSE_MARKS",
    "DETECTED_CHARS",
    "EMOJI_CLASS",
    "EMOTICONS",
    "HASHTAG_WORD_RE",
    "LONG_HASHTAG_WORD_RE",
    "MASKED_WORD_RE",
    "SHARED",
    "TERM_TOKEN_RE",
    "TERM_WORD_RE",
    "TOKENISED",
    "TOKEN_RE",
    "URL_RE",
    "Kind",
    "PostText",
    "TextCache",
    "Token",
    "case_words",
    "kind_of",
    "links",
    "prepared",
    "read",
    "term_tokens",
    "token_strings",
    "tokenise",
]

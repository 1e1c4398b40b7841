"""The language of a post, for posts that carry no tag and for tags that are plainly wrong.

RSS, Hacker News, Reddit and many webhook posts carry no language tag; Mastodon tags a post with
its author's default language, which is often not the language of the post. Sentiment (an
English model) and the ``languages`` moderation rule both ask :func:`post_language` (through the
post's shared reading, :class:`agora.core.tokens.PostText`, so a post is detected once), which
keeps the source's tag unless the post is long and the detector is sure it says otherwise, and
detects the language of untagged posts.

Detection uses CLD2 (the ``pycld2`` package: Chromium's compact language detector, Apache-2.0,
its tables compiled into the wheel, so nothing is ever downloaded), about 10 µs per short post.
URLs, @mentions and hashtags are removed first: they are names, not language. On short posts CLD2
is asked for its best effort; a post it cannot place (a few words, emoji only) stays unknown
(``None``) and is judged by its script alone (:func:`mostly_non_latin`; see
:func:`agora.core.sentiment_base.english_scorable`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import pycld2

#: Posts at least this long (in characters, after cleaning) may have their tag corrected.
LONG_POST = 80
#: How much of a long post CLD2 must place in one language to overrule the post's tag (percent).
OVERRULE_PERCENT = 90
#: Tags that name no language ("undetermined", "multiple", "no linguistic content").
UNTAGGED = frozenset({"und", "mul", "mis", "zxx"})
#: CLD2's codes that differ from BCP-47 primary tags.
_RENAMED = {"iw": "he", "jw": "jv", "in": "id", "zh-hant": "zh"}

_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_TAG_RE = re.compile(r"[@#][\w.]+")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _clean(text: str) -> bytes:
    """The words of ``text`` as UTF-8 CLD2 accepts (no control characters, no lone surrogates).

    Each pattern runs only when a cheap test says it may match: most posts need one or none.
    """
    if "://" in text or "www." in text or "WWW." in text:
        text = _URL_RE.sub(" ", text)
    if "@" in text or "#" in text:
        text = _TAG_RE.sub(" ", text)
    if not text.isprintable():
        text = _CONTROL_RE.sub(" ", text)
    return text.encode("utf-8", "replace")


def _code(code: str) -> str | None:
    """A BCP-47 primary tag from a CLD2 code; ``None`` for unknown."""
    if code == "un" or not code:
        return None
    code = code.lower()
    code = _RENAMED.get(code, code)
    return code.split("-", 1)[0]


#: What the detector says of a text: (language, reliable, percent of the text, bytes of text).
Detection = tuple[str | None, bool, int, int]


def detect_details(text: str) -> Detection:
    """CLD2's best guess for ``text``: (language, reliable, percent of the text, bytes of text)."""
    cleaned = _clean(text)
    try:
        reliable, found, details = pycld2.detect(cleaned, isPlainText=True, bestEffort=True)
    except pycld2.error:
        return None, False, 0, 0
    _name, code, percent, _score = details[0]
    return _code(code), bool(reliable), int(percent), int(found)


def detect(text: str) -> str | None:
    """The primary language tag of ``text`` (``"en"``, ``"fi"``…), or ``None`` when unsure."""
    return detect_details(text)[0]


@functools.lru_cache(maxsize=512)
def primary_language(lang: str | None) -> str | None:
    """``"en"`` from ``"en-GB"`` / ``"EN_us"``; ``None`` stays ``None``."""
    if not lang:
        return None
    return lang.replace("_", "-").split("-", 1)[0].strip().lower() or None


#: A letter (word character that is not a digit or underscore).
_LETTER_RE = re.compile(r"[^\W\d_]")
#: A letter outside the Latin script. Latin letters, accented ones included, live below U+0250
#: and in U+1E00-U+1EFF.
_NON_LATIN_LETTER_RE = re.compile(r"(?![\u0000-\u024f\u1e00-\u1eff])[^\W\d_]")


def mostly_non_latin(text: str) -> bool:
    """True when most letters of ``text`` are outside the Latin script (CJK, Cyrillic, Arabic…)."""
    if text.isascii():
        return False
    foreign = len(_NON_LATIN_LETTER_RE.findall(text))
    if not foreign:
        return False
    return foreign * 2 > len(_LETTER_RE.findall(text))


def post_language(
    text: str, lang: str | None, details: Callable[[str], Detection] = detect_details
) -> str | None:
    """The primary language of a post: its tag, corrected on long posts, else detected.

    ``lang`` is the source's tag (BCP-47, any case, or ``None``). An untagged post gets the
    detector's best guess (``None`` when it has none). A tagged post keeps its tag, unless it is at
    least :data:`LONG_POST` characters long and the detector places at least
    :data:`OVERRULE_PERCENT` % of it, reliably, in another language. ``details`` detects (a
    caller that has detected the text already passes what it found).
    """
    if not lang:  # most untagged posts: straight to the detector
        return details(text)[0]
    tag = primary_language(lang)
    if tag is None or tag in UNTAGGED:
        return details(text)[0]
    if len(text) < LONG_POST:
        return tag
    found, reliable, percent, size = details(text)
    overruled = reliable and percent >= OVERRULE_PERCENT and size >= LONG_POST
    return found if overruled and found is not None else tag

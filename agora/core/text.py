"""Plain-text hygiene for hostile input: post text and author names.

Everything a source hands us is untrusted. These helpers turn it into plain text that is safe to
store, score and draw: HTML reduced to text, control characters removed, whitespace normalised and
absurd lengths cut at a word boundary. Nothing here ever produces markup.
"""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser

#: Longest post text kept, in characters. A wall shows a few hundred at most; longer text is cut at
#: a word boundary and marked with an ellipsis.
MAX_TEXT_CHARS = 5_000
#: Longest author name or handle kept.
MAX_NAME_CHARS = 200

# C0 and C1 control characters except tab/newline/carriage return (folded as whitespace later),
# DEL, bidi embeddings/overrides/isolates (they can reorder a whole line of the layout), invisible
# characters that mostly serve to dodge filters (soft hyphen, Mongolian vowel separator, zero-width
# space, word joiner, invisible operators), the BOM and Unicode non-characters. ZWJ/ZWNJ stay:
# emoji sequences and several scripts need them.
_UNSAFE_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u180e\u200b"
    "\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb\ufffe\uffff]"
)
# Terminal escape sequences, whole: removing only their ESC would leave "[0;31m" on screen.
# CSI (ESC [ or U+009B, parameters, intermediates, a final byte); OSC, DCS, SOS, PM and APC (ESC ],
# P, X, ^, _ or their C1 forms) up to BEL or ST (ESC backslash or U+009C), or up to the end of the
# line when unterminated; an escape with intermediates ("ESC ( B") or a private one ("ESC 7").
# A letter after a lone ESC stays: the ESC most likely only split a word ("N<ESC>ame").
_ESCAPE_RE = re.compile(
    "(?:\x1b\\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    "|(?:\x1b[\\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\\\|\x9c)?"
    "|\x1b[\x20-\x2f]+[\x30-\x7e]?|\x1b[\x30-\x3f]?"
)
_ESCAPE_START_RE = re.compile("[\x1b\x90\x98\x9b\x9d-\x9f]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_SPACE_RE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u2028\u2029\u3000]+")
_NEWLINES_RE = re.compile(r"\s*\n\s*")


def strip_unsafe(text: str) -> str:
    """Remove terminal escape sequences, control, bidi-override and unpaired-surrogate
    characters."""
    if _ESCAPE_START_RE.search(text):
        text = _ESCAPE_RE.sub("", text)
    text = _UNSAFE_RE.sub("", text)
    if _SURROGATE_RE.search(text):
        text = _SURROGATE_RE.sub("\ufffd", text)
    return text


def normalise_whitespace(text: str, *, keep_newlines: bool = False) -> str:
    """Collapse runs of whitespace; optionally keep single line breaks between paragraphs."""
    if not keep_newlines:
        return " ".join(text.split())
    text = _SPACE_RE.sub(" ", text)
    return _NEWLINES_RE.sub("\n", text).strip()


def elide(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut ``text`` to at most ``limit`` characters at a word boundary, ending with ``ellipsis``."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - len(ellipsis))]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip() + ellipsis


def clean_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Plain text safe to store and draw: unsafe characters removed, whitespace folded, elided."""
    if len(text) > limit * 4:
        # Do not spend time normalising megabytes that will be thrown away.
        text = text[: limit * 4]
    return elide(normalise_whitespace(strip_unsafe(text)), limit)


def clean_name(name: str) -> str:
    """An author name or handle as plain, single-line text."""
    return clean_text(name, MAX_NAME_CHARS)


_MENTION_RE = re.compile(r"(?<![\w@])@[\w.\-]*\w(?:@[\w\-]+(?:\.[\w\-]+)+)?")


def mask_mentions(text: str, keep: frozenset[str] = frozenset()) -> str:
    """``text`` with every @mention of an account replaced by ``@…`` (for a wall that shows no
    names or handles); handles in ``keep`` (folded, without the leading ``@``: the brand's own
    accounts) stay."""
    if "@" not in text:
        return text

    def mask(match: re.Match[str]) -> str:
        handle = match.group(0)
        return handle if fold(handle[1:]) in keep else "@…"

    return _MENTION_RE.sub(mask, text)


class _DropCombining(dict[int, int | None]):
    """A ``str.translate`` table that drops combining marks, filled as characters are met (so
    known characters are looked up in C, and nothing is computed at import)."""

    def __missing__(self, codepoint: int) -> int | None:
        value = None if unicodedata.combining(chr(codepoint)) else codepoint
        if len(self) < 100_000:
            self[codepoint] = value
        return value


_DROP_COMBINING = _DropCombining()


def fold(text: str) -> str:
    """Case- and accent-insensitive form used for matching ("Café" -> "cafe")."""
    text = text.casefold()
    if text.isascii():
        return text
    # case once more after compatibility decomposition: "𝐅𝐔𝐋𝐋" (mathematical bold) and "🄵"
    # have no case of their own and only become "FULL" / "F" here
    return unicodedata.normalize("NFKD", text).translate(_DROP_COMBINING).casefold()


class _TextExtractor(HTMLParser):
    _BREAKS = frozenset({"br", "p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "tr"})
    _SKIP = frozenset({"script", "style", "template", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Reduce an HTML fragment (Mastodon content, RSS summaries) to clean plain text."""
    if "<" not in markup and "&" not in markup:
        return clean_text(markup, limit)
    if "<" not in markup:
        return clean_text(html.unescape(markup), limit)
    parser = _TextExtractor()
    parser.feed(markup[: limit * 8])
    parser.close()
    return clean_text("".join(parser.parts), limit)

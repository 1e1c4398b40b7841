"""Hostile text made safe to draw: bidi runs isolated, "zalgo" marks limited, elided at words.

Qt widgets that take a string (``QLabel``) guess whether it is rich text. Post text and names
are never given to them without :func:`plain_label` (``Qt.TextFormat.PlainText``), or they are
drawn with ``QPainter``/``QTextLayout``, which never interpret markup.
"""

from __future__ import annotations

import logging
import unicodedata

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QLabel, QWidget

log = logging.getLogger("agora.ui")

FSI = "\u2068"  # first strong isolate
PDI = "\u2069"  # pop directional isolate
MAX_MARKS = 2


def limit_marks(text: str, max_marks: int = MAX_MARKS) -> str:
    """Keep at most ``max_marks`` combining marks on each base character (tames "zalgo")."""
    if text.isascii():
        return text
    out: list[str] = []
    run = 0
    for ch in text:
        if unicodedata.combining(ch):
            run += 1
            if run > max_marks:
                continue
        else:
            run = 0
        out.append(ch)
    return "".join(out)


def isolate(text: str) -> str:
    """Wrap ``text`` in a first-strong isolate so a right-to-left run cannot reorder the layout
    around it (e.g. a name followed by a handle and a time)."""
    if text.isascii():
        return text
    return f"{FSI}{text}{PDI}"


def display_text(text: str) -> str:
    """Post text ready to draw: marks limited, bidi isolated."""
    return isolate(limit_marks(text))


def elide_words(text: str, metrics: QFontMetricsF, width: float) -> str:
    """One line of ``text`` that fits ``width``, cut at a word boundary with an ellipsis. An
    isolated text (:func:`isolate`) stays isolated: the cut happens inside the isolate."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    if len(text) > 2 and text[0] == FSI and text[-1] == PDI:
        return f"{FSI}{elide_words(text[1:-1], metrics, width)}{PDI}"
    words = text.split(" ")
    line = ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if metrics.horizontalAdvance(candidate + "…") > width:
            break
        line = candidate
    if not line:  # a single very long word: cut it by characters
        return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
    return line.rstrip(",;:.-–—") + "…"


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A ``QLabel`` that never interprets markup and never opens links."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    label.setOpenExternalLinks(False)
    label.setText(text)
    return label


#: What a text cannot do without: letters and digits (a missing emoji or symbol is one box in a
#: readable post; a missing script is a post of boxes).
_READ = ("L", "N")
#: family -> character -> whether a font of that family (or one Qt falls back to) draws it
_DRAWN: dict[str, dict[str, bool]] = {}
#: characters remembered per family before the memory starts again (a stream of posts written to
#: use every code point must not grow it without end)
_DRAWN_CAP = 20_000
#: families a missing glyph was logged for (once each)
_WARNED: set[str] = set()


def can_draw(text: str, font: QFont) -> bool:
    """Whether every letter and digit of ``text`` has a glyph in ``font`` or in a font Qt falls
    back to. A wall shows no text it would draw as empty boxes: a machine without Japanese fonts
    leaves Japanese posts and terms out (and says so once in the log) instead of showing a row
    of boxes to a lobby. Answers are kept per family and character."""
    if text.isascii():
        return True
    known = _DRAWN.setdefault(font.family(), {})
    metrics: QFontMetricsF | None = None
    for char in text:
        if char < "\x80":
            continue
        drawn = known.get(char)
        if drawn is None:
            if metrics is None:
                metrics = QFontMetricsF(font)
            drawn = metrics.inFontUcs4(ord(char)) or not unicodedata.category(char).startswith(
                _READ
            )
            if len(known) >= _DRAWN_CAP:
                known.clear()
            known[char] = drawn
            if not drawn and font.family() not in _WARNED:
                _WARNED.add(font.family())
                log.warning(
                    "no installed font draws U+%04X (%s): texts with it are left off the wall; "
                    "install fonts for the languages it shows (Debian: fonts-noto-cjk, "
                    "fonts-noto-core)",
                    ord(char),
                    unicodedata.name(char, "unnamed"),
                )
        if not drawn:
            return False
    return True

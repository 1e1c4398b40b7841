"""Hostile text made safe to draw: bidi runs isolated, "zalgo" marks limited, elided at words.

Qt widgets that take a string (``QLabel``) guess whether it is rich text. Post text and names
are never given to them without :func:`plain_label` (``Qt.TextFormat.PlainText``), or they are
drawn with ``QPainter``/``QTextLayout``, which never interpret markup.
"""

from __future__ import annotations

import unicodedata

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QLabel, QWidget

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

"""Small drawing widgets shared by panels: wrapped plain text that never overflows its box.

:class:`TextBlock` lays its text out once per (text, size, font) and keeps each line as a
``QStaticText``: a repaint (a fade, a neighbour changing, a cross-fade) only replays the glyphs
instead of shaping the text again. Text larger than Qt's glyph cache (64 device pixels) is drawn
by the raster engine as filled outlines on every paint, which costs milliseconds for a few lines of
a featured post; such a block keeps a picture of its lines and repaints by copying it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFontInfo,
    QFontMetricsF,
    QPainter,
    QPaintEvent,
    QPixmap,
    QStaticText,
    QTextLayout,
    QTextOption,
    QTransform,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from agora.ui.safetext import display_text, elide_words

#: Device-pixel size above which Qt's raster engine stops caching glyphs (QT_MAX_CACHED_GLYPH_SIZE).
CACHED_GLYPH_LIMIT = 64


class TextBlock(QWidget):
    """Plain text wrapped to the widget's width; the last line that fits is elided at a word
    boundary. Never interprets markup, never draws outside its rectangle."""

    def __init__(self, parent: QWidget | None = None, *, max_lines: int = 0) -> None:
        super().__init__(parent)
        self._text = ""
        self._shown = ""
        self._color = QColor("#ffffff")
        self._max_lines = max_lines
        self._alignment = Qt.AlignmentFlag.AlignLeft
        self._line_spacing = 1.15
        self._layout_cache: tuple[int, int, str] | None = None
        self._lines: list[tuple[str, float]] = []
        self._static: list[tuple[QStaticText, QPointF]] = []
        self._picture: QPixmap | None = None
        self._picture_key: tuple[object, ...] | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        """Set the text (plain; markup is shown literally)."""
        shown = display_text(text)
        if shown == self._shown:
            return
        self._text = text
        self._shown = shown
        self._layout_cache = None
        self.update()

    def text(self) -> str:
        """The text as given."""
        return self._text

    def setColor(self, color: QColor) -> None:  # noqa: N802
        """Text colour."""
        if color != self._color:
            self._color = QColor(color)
            self.update()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        """A new font invalidates the wrapped layout."""
        if event.type() == QEvent.Type.FontChange:
            self._layout_cache = None
            self.update()
        super().changeEvent(event)

    def setAlignment(self, alignment: Qt.AlignmentFlag) -> None:  # noqa: N802
        """Horizontal alignment of each line."""
        self._alignment = alignment
        self._layout_cache = None
        self.update()

    def visible_lines(self) -> list[str]:
        """The lines as drawn at the current size (for tests)."""
        self._relayout()
        return [line for line, _ in self._lines]

    def sizeHint(self) -> QSize:  # noqa: N802
        """A modest default; panels size text blocks through their layouts."""
        metrics = QFontMetricsF(self.font())
        return QSize(200, int(metrics.lineSpacing() * max(1, self._max_lines or 2)))

    def _relayout(self) -> None:
        key = (self.width(), self.height(), self._shown)
        if self._layout_cache == key:
            return
        self._layout_cache = key
        self._lines = []
        width = float(max(1, self.width()))
        metrics = QFontMetricsF(self.font())
        line_height = metrics.lineSpacing() * self._line_spacing
        # the first line needs its own height, each further one the spaced line height
        fit = 1 + int(max(0.0, self.height() + 1 - metrics.height()) // line_height)
        if self._max_lines:
            fit = min(fit, self._max_lines)
        layout = QTextLayout(self._shown, self.font())
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(option)
        layout.beginLayout()
        starts: list[tuple[int, int]] = []
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            starts.append((line.textStart(), line.textLength()))
            if len(starts) > fit:
                break
        layout.endLayout()
        text = self._shown
        # QTextLayout counts UTF-16 code units: emoji and other characters beyond the BMP take two
        # of them, so its offsets are turned into string positions before slicing
        if not text.isascii() and any(ord(ch) > 0xFFFF for ch in text):
            positions = _utf16_positions(text)
            starts = [(positions[a], positions[a + n] - positions[a]) for a, n in starts]
        font = self.font()
        y = metrics.ascent()
        self._static = []
        # the direction drawText would use for a line (the widget's), not one guessed per line
        direction = QTextOption()
        direction.setTextDirection(self.layoutDirection())
        for index, (start, length) in enumerate(starts[:fit]):
            piece = text[start : start + length].rstrip()
            if index == fit - 1 and len(starts) > fit:
                piece = elide_words(text[start:].replace("\n", " "), metrics, width)
            self._lines.append((piece, y))
            static = QStaticText(piece)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.setTextOption(direction)
            static.prepare(QTransform(), font)
            x = 0.0
            if self._alignment & Qt.AlignmentFlag.AlignHCenter:
                x = (width - metrics.horizontalAdvance(piece)) / 2
            elif self._alignment & Qt.AlignmentFlag.AlignRight:
                x = width - metrics.horizontalAdvance(piece)
            # a static text is placed by its top-left corner, drawText by its baseline
            self._static.append((static, QPointF(max(0.0, x), y - metrics.ascent())))
            y += line_height

    def _draw_lines(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.setPen(self._color)
        painter.setFont(self.font())
        for static, at in self._static:
            painter.drawStaticText(at, static)

    def _large(self, ratio: float) -> bool:
        return QFontInfo(self.font()).pixelSize() * ratio > CACHED_GLYPH_LIMIT

    def _lines_picture(self, ratio: float) -> QPixmap:
        key = (self._layout_cache, self._color.rgba(), ratio, int(self._alignment.value))
        if self._picture is None or key != self._picture_key:
            picture = QPixmap(
                max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio))
            )
            picture.setDevicePixelRatio(ratio)
            picture.fill(Qt.GlobalColor.transparent)
            painter = QPainter(picture)
            self._draw_lines(painter)
            painter.end()
            self._picture = picture
            self._picture_key = key
        return self._picture

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """Draw the wrapped lines, clipped to the widget (from a picture when the text is large)."""
        self._relayout()
        painter = QPainter(self)
        ratio = target_ratio(painter, self)
        painter.setClipRect(self.rect())
        if self._large(ratio):
            painter.drawPixmap(QPointF(0, 0), self._lines_picture(ratio))
        else:
            self._picture = None
            self._draw_lines(painter)
        painter.end()


def target_ratio(painter: QPainter, widget: QWidget) -> float:
    """The device pixel ratio of what ``painter`` really paints into: the window's backing store,
    or the picture a ``render()`` into a ratio-2 pixmap (``agora snapshot --dpr 2``) aims at."""
    engine = painter.paintEngine()
    device = engine.paintDevice() if engine is not None else None
    ratio = device.devicePixelRatioF() if device is not None else 0.0
    return float(ratio or widget.devicePixelRatioF() or 1.0)


def _utf16_positions(text: str) -> list[int]:
    """For each UTF-16 offset into ``text`` (and the end), the index of the character there."""
    positions: list[int] = []
    for index, ch in enumerate(text):
        positions.append(index)
        if ord(ch) > 0xFFFF:
            positions.append(index + 1)  # the second half of a pair: the next character starts
    positions.append(len(text))
    return positions


def rounded_rect(painter: QPainter, rect: QRectF, radius: float, color: QColor) -> None:
    """Fill a rounded rectangle without an outline."""
    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.drawRoundedRect(rect, radius, radius)
    painter.restore()

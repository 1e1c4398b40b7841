"""The visual grid editor: a page's cells and panels, drawn at the screen's aspect ratio.

Mouse: drag a panel to move it; drag its lower-right corner to change its span; drag across empty
cells to add a panel there; click to select. Keyboard (the editor has focus): arrows move the
selected panel, Shift+arrows change its span, Page Up / Page Down select the previous / next
panel, Insert adds a panel in the first free cell, Delete removes the selected one.

The editor holds no config of its own: the screens tab gives it the page's panels and writes
what the editor reports (``moved``, ``added``, ``removed``) into the document, which then gives
the editor the page again — so what it shows is what the file says.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

Cell = tuple[int, int]


@dataclass(frozen=True, slots=True)
class PanelBox:
    """One panel as the editor draws it."""

    kind: str
    at: Cell
    span: Cell
    title: str = ""

    def cells(self) -> set[Cell]:
        """Every cell the panel covers."""
        (c, r), (w, h) = self.at, self.span
        return {(x, y) for x in range(c, c + w) for y in range(r, r + h)}


def first_free_cell(grid: Cell, panels: list[PanelBox]) -> Cell | None:
    """The first cell (row by row) no panel covers."""
    taken: set[Cell] = set()
    for panel in panels:
        taken |= panel.cells()
    for row in range(grid[1]):
        for col in range(grid[0]):
            if (col, row) not in taken:
                return col, row
    return None


def _colour(kind: str) -> QColor:
    hue = zlib.crc32(kind.encode()) % 360
    return QColor.fromHsl(hue, 110, 200)


class GridEditor(QWidget):
    """A page's grid with its panels; reports the user's changes as signals."""

    moved = Signal(int, object, object)
    """Panel index, new ``at`` (col, row), new ``span`` (cols, rows)."""
    added = Signal(object, object)
    """``at`` and ``span`` of a panel to add."""
    removed = Signal(int)
    selected = Signal(int)
    """The selected panel's index (-1: none)."""

    HANDLE = 12.0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("grid-editor")
        self.setAccessibleName("Page grid")
        self.setAccessibleDescription(
            "Arrows move the selected panel, Shift+arrows change its span, Page Up and Page Down "
            "select panels, Insert adds a panel, Delete removes it"
        )
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 140)
        self.grid: Cell = (3, 2)
        self.panels: list[PanelBox] = []
        self.aspect = 16 / 9
        self.selection = -1
        self._drag: str = ""
        """``move``, ``span`` or ``new`` while the mouse is down."""
        self._anchor: Cell = (0, 0)
        self._offset: Cell = (0, 0)
        self._ghost: PanelBox | None = None

    # -- the page ---------------------------------------------------------------------------

    def set_page(self, grid: Cell, panels: list[PanelBox], aspect: float | None = None) -> None:
        """Show a page (called again after every change the document accepted)."""
        self.grid = (max(1, grid[0]), max(1, grid[1]))
        self.panels = list(panels)
        if aspect:
            self.aspect = aspect
        if self.selection >= len(self.panels):
            self.select(len(self.panels) - 1)
        self._ghost = None
        self.update()

    def select(self, index: int) -> None:
        """Select a panel (-1: none)."""
        index = index if 0 <= index < len(self.panels) else -1
        if index != self.selection:
            self.selection = index
            self.selected.emit(index)
        self.update()

    # -- geometry ---------------------------------------------------------------------------

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(480, int(480 / self.aspect))

    def area(self) -> QRectF:
        """Where the page is drawn: the largest rectangle of the screen's aspect that fits."""
        bounds = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        width = min(bounds.width(), bounds.height() * self.aspect)
        height = width / self.aspect
        return QRectF(
            bounds.x() + (bounds.width() - width) / 2,
            bounds.y() + (bounds.height() - height) / 2,
            width,
            height,
        )

    def cell_rect(self, at: Cell, span: Cell = (1, 1)) -> QRectF:
        """The rectangle of a block of cells."""
        area = self.area()
        cw, ch = area.width() / self.grid[0], area.height() / self.grid[1]
        return QRectF(area.x() + at[0] * cw, area.y() + at[1] * ch, span[0] * cw, span[1] * ch)

    def cell_at(self, point: QPointF) -> Cell:
        """The cell under a point (clamped to the grid)."""
        area = self.area()
        col = int((point.x() - area.x()) / max(1.0, area.width()) * self.grid[0])
        row = int((point.y() - area.y()) / max(1.0, area.height()) * self.grid[1])
        return (min(max(col, 0), self.grid[0] - 1), min(max(row, 0), self.grid[1] - 1))

    def panel_at(self, point: QPointF) -> int:
        """The topmost panel under a point (-1: none)."""
        for index in reversed(range(len(self.panels))):
            panel = self.panels[index]
            if self.cell_rect(panel.at, panel.span).contains(point):
                return index
        return -1

    def _on_handle(self, index: int, point: QPointF) -> bool:
        if index < 0:
            return False
        panel = self.panels[index]
        corner = self.cell_rect(panel.at, panel.span).bottomRight()
        return abs(point.x() - corner.x()) <= self.HANDLE and abs(point.y() - corner.y()) <= (
            self.HANDLE
        )

    def _clamp(self, at: Cell, span: Cell) -> tuple[Cell, Cell]:
        cols, rows = self.grid
        w = min(max(1, span[0]), cols)
        h = min(max(1, span[1]), rows)
        c = min(max(0, at[0]), cols - w)
        r = min(max(0, at[1]), rows - h)
        return (c, r), (w, h)

    # -- mouse ------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        point = event.position()
        cell = self.cell_at(point)
        if self._on_handle(self.selection, point):
            self._drag = "span"
            self._ghost = self.panels[self.selection]
            return
        index = self.panel_at(point)
        if index >= 0:
            self.select(index)
            panel = self.panels[index]
            self._drag = "move"
            self._offset = (cell[0] - panel.at[0], cell[1] - panel.at[1])
            self._ghost = panel
            return
        self.select(-1)
        self._drag = "new"
        self._anchor = cell
        self._ghost = PanelBox("new", cell, (1, 1))
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        point = event.position()
        if not self._drag:
            over = self._on_handle(self.selection, point)
            shape = Qt.CursorShape.SizeFDiagCursor if over else Qt.CursorShape.ArrowCursor
            if self.panel_at(point) >= 0 and not over:
                shape = Qt.CursorShape.OpenHandCursor
            self.setCursor(shape)
            return
        cell = self.cell_at(point)
        ghost = self._ghost
        if ghost is None:
            return
        if self._drag == "move":
            at, span = self._clamp(
                (cell[0] - self._offset[0], cell[1] - self._offset[1]), ghost.span
            )
        elif self._drag == "span":
            start = self.panels[self.selection].at
            at, span = self._clamp(start, (cell[0] - start[0] + 1, cell[1] - start[1] + 1))
        else:
            c0, r0 = self._anchor
            at = (min(c0, cell[0]), min(r0, cell[1]))
            span = (abs(cell[0] - c0) + 1, abs(cell[1] - r0) + 1)
        self._ghost = PanelBox(ghost.kind, at, span, ghost.title)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        drag, ghost = self._drag, self._ghost
        self._drag, self._ghost = "", None
        if not drag or ghost is None:
            return
        if drag == "new":
            self.added.emit(ghost.at, ghost.span)
        elif 0 <= self.selection < len(self.panels):
            panel = self.panels[self.selection]
            if (ghost.at, ghost.span) != (panel.at, panel.span):
                self.moved.emit(self.selection, ghost.at, ghost.span)
        self.update()

    # -- keys -------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        steps = {
            Qt.Key.Key_Left: (-1, 0),
            Qt.Key.Key_Right: (1, 0),
            Qt.Key.Key_Up: (0, -1),
            Qt.Key.Key_Down: (0, 1),
        }
        if key in steps and 0 <= self.selection < len(self.panels):
            dx, dy = steps[Qt.Key(key)]
            panel = self.panels[self.selection]
            if shift:
                at, span = self._clamp(panel.at, (panel.span[0] + dx, panel.span[1] + dy))
            else:
                at, span = self._clamp((panel.at[0] + dx, panel.at[1] + dy), panel.span)
            if (at, span) != (panel.at, panel.span):
                self.moved.emit(self.selection, at, span)
            return
        if key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp) and self.panels:
            step = 1 if key == Qt.Key.Key_PageDown else -1
            self.select((self.selection + step) % len(self.panels))
            return
        if key == Qt.Key.Key_Insert:
            free = first_free_cell(self.grid, self.panels)
            if free is not None:
                self.added.emit(free, (1, 1))
            return
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selection >= 0:
            self.removed.emit(self.selection)
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        if self.selection < 0 and self.panels:
            self.select(0)
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self.update()

    # -- painting ---------------------------------------------------------------------------

    def overlaps(self) -> set[Cell]:
        """Cells covered by more than one panel, or panels reaching out of the grid."""
        seen: dict[Cell, int] = {}
        bad: set[Cell] = set()
        for panel in self.panels:
            for cell in panel.cells():
                if cell in seen or cell[0] >= self.grid[0] or cell[1] >= self.grid[1]:
                    bad.add(cell)
                seen[cell] = 1
        return bad

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        area = self.area()
        painter.fillRect(area, QColor(32, 34, 40))
        grid_pen = QPen(QColor(90, 94, 104), 1, Qt.PenStyle.DashLine)
        painter.setPen(grid_pen)
        for col in range(self.grid[0]):
            for row in range(self.grid[1]):
                painter.drawRect(self.cell_rect((col, row)).adjusted(0.5, 0.5, -0.5, -0.5))
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF()))
        painter.setFont(font)
        bad = self.overlaps()
        for index, panel in enumerate(self.panels):
            if self._drag in ("move", "span") and index == self.selection:
                continue
            self._paint_panel(painter, panel, index == self.selection, bad)
        if self._ghost is not None:
            self._paint_panel(painter, self._ghost, True, set(), ghost=True)
        if self.hasFocus():
            focus = QPen(palette.highlight().color(), 2)
            painter.setPen(focus)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(self.rect()).adjusted(1, 1, -1, -1))
        painter.end()

    def _paint_panel(
        self, painter: QPainter, panel: PanelBox, chosen: bool, bad: set[Cell], ghost: bool = False
    ) -> None:
        rect = self.cell_rect(panel.at, panel.span).adjusted(3, 3, -3, -3)
        colour = _colour(panel.kind)
        if ghost:
            colour.setAlpha(150)
        painter.setBrush(colour)
        wrong = bool(panel.cells() & bad)
        pen = QPen(QColor("#c62828") if wrong else QColor(20, 20, 24), 3 if chosen else 1)
        if chosen and not wrong:
            pen.setColor(QColor("#1565c0"))
        painter.setPen(pen)
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(QColor(20, 20, 24))
        label = panel.kind if not panel.title else f"{panel.kind}\n{panel.title}"
        if wrong:
            label += "\n(overlaps or out of the grid)"
        painter.drawText(
            rect.adjusted(6, 4, -6, -4),
            int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap),
            label,
        )
        if chosen and not ghost:
            corner = rect.bottomRight()
            painter.setBrush(QColor("#1565c0"))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRect(QRectF(corner.x() - 9, corner.y() - 9, 9, 9))

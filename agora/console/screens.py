"""Screens → pages → panels: the tree, the page's grid editor, the panel's options, the preview.

Selecting a page shows its fields, its grid (drag panels to place and span them) and its live
preview; selecting a panel in the grid shows its kind and options. Every change is written into
the document at once and the grid is drawn again from it.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agora.config.locate import KeyPath
from agora.config.schema import PANEL_KINDS, PageConfig, PanelConfig, ScreenConfig, parse_pair
from agora.console.forms import SectionForm, error_label, scrolled, show_problems
from agora.console.grid import Cell, GridEditor, PanelBox
from agora.console.model import ConfigModel
from agora.console.preview import PreviewPane
from agora.reading.stored import WallData

_GRID_RE = re.compile(r"^\s*(\d+)\s*x\s*(\d+)\s*$")

Selection = tuple[int, int]  # (screen, page); page -1: the screen itself


def _pair(value: Any, default: Cell) -> Cell:
    try:
        return parse_pair(value, "cell")
    except ValueError:
        return default


def _grid(value: Any) -> Cell | None:
    if isinstance(value, str) and (match := _GRID_RE.match(value)):
        cols, rows = int(match.group(1)), int(match.group(2))
        if 1 <= cols <= 12 and 1 <= rows <= 12:
            return cols, rows
    return None


def pair_text(cell: Cell) -> str:
    """``(2, 1)`` → ``"2,1"`` (the file's way of writing cells)."""
    return f"{cell[0]},{cell[1]}"


class ScreensTab(QWidget):
    """Screens, their pages and each page's panels, with the grid editor and the preview."""

    def __init__(self, model: ConfigModel, wall_data: WallData | None) -> None:
        super().__init__()
        self.model = model
        self.selection: Selection = (-1, -1)
        self.panel = 0
        self._structure: list[tuple[str, list[str]]] = []
        self._last_grid: Cell = (3, 2)

        # tree
        self.tree = QTreeWidget()
        self.tree.setObjectName("screens-tree")
        self.tree.setHeaderHidden(True)
        self.tree.setAccessibleName("Screens and pages")
        self.tree.currentItemChanged.connect(self._tree_selected)
        add_screen = QPushButton("Add scree&n")
        add_screen.clicked.connect(self.add_screen)
        add_page = QPushButton("Add pa&ge")
        add_page.clicked.connect(self.add_page)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.remove_selected)
        up = QPushButton("Up")
        up.clicked.connect(lambda: self.move_selected(-1))
        down = QPushButton("Down")
        down.clicked.connect(lambda: self.move_selected(1))
        self.tree_problems = error_label()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("Screens and pages"))
        left_layout.addWidget(self.tree, 1)
        row1 = QHBoxLayout()
        row1.addWidget(add_screen)
        row1.addWidget(add_page)
        row2 = QHBoxLayout()
        row2.addWidget(remove)
        row2.addWidget(up)
        row2.addWidget(down)
        left_layout.addLayout(row1)
        left_layout.addLayout(row2)
        left_layout.addWidget(self.tree_problems)

        # middle: the screen's or the page's fields, and the grid
        self.screen_form = SectionForm(model, ScreenConfig, ("screens", 0), skip=("pages",))
        self.page_form = SectionForm(
            model,
            PageConfig,
            ("screens", 0, "pages", 0),
            skip=("panels",),
            first=("name",),
            show_own=False,  # a page's own problems (panels overlapping) show by its grid
        )
        self.forms = QStackedWidget()
        self.forms.addWidget(scrolled(self.screen_form))
        self.forms.addWidget(scrolled(self.page_form))
        empty = QLabel("Add a screen to start.")
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.forms.addWidget(empty)

        self.grid = GridEditor()
        self.grid.moved.connect(self._panel_moved)
        self.grid.added.connect(self._panel_added)
        self.grid.removed.connect(self._panel_removed)
        self.grid.selected.connect(self._panel_selected)
        self.new_kind = QComboBox()
        self.new_kind.setObjectName("new-panel-kind")
        for kind in PANEL_KINDS:
            self.new_kind.addItem(kind, kind)
        self.new_kind.setCurrentIndex(PANEL_KINDS.index("river"))
        new_label = QLabel("New &panels:")
        new_label.setBuddy(self.new_kind)
        hint = QLabel(
            "Drag a panel to move it, its corner to span it, empty cells to add one. Keys: "
            "arrows move, Shift+arrows span, PgUp/PgDn select, Ins adds, Del removes."
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(placeholder-text);")
        self.grid_problems = error_label()
        grid_box = QWidget()
        grid_layout = QVBoxLayout(grid_box)
        grid_layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(new_label)
        top.addWidget(self.new_kind)
        top.addStretch(1)
        grid_layout.addLayout(top)
        grid_layout.addWidget(self.grid, 1)
        grid_layout.addWidget(self.grid_problems)
        grid_layout.addWidget(hint)
        middle = QSplitter(Qt.Orientation.Vertical)
        middle.addWidget(self.forms)
        middle.addWidget(grid_box)
        middle.setSizes([150, 380])
        self.grid_box = grid_box

        # right: the preview and the selected panel's options
        self.preview = PreviewPane(model, wall_data)
        self.panel_form = SectionForm(
            model, PanelConfig, ("screens", 0, "pages", 0, "panels", 0), first=("kind",)
        )
        self.panel_title = QLabel("Panel")
        panel_box = QWidget()
        panel_layout = QVBoxLayout(panel_box)
        panel_layout.setContentsMargins(0, 0, 0, 0)
        panel_layout.addWidget(self.panel_title)
        panel_layout.addWidget(scrolled(self.panel_form), 1)
        self.panel_box = panel_box
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.preview)
        right.addWidget(panel_box)
        right.setSizes([330, 200])

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(middle)
        splitter.addWidget(right)
        splitter.setSizes([220, 520, 560])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        # tree → fields → grid → panel options → preview
        QWidget.setTabOrder(self.tree, add_screen)
        QWidget.setTabOrder(add_screen, add_page)
        QWidget.setTabOrder(add_page, remove)
        QWidget.setTabOrder(remove, up)
        QWidget.setTabOrder(up, down)
        # the page's fields, the grid, the selected panel's options, then the preview's controls
        chain: list[QWidget] = [self.new_kind, self.grid]
        chain += [field.editor for field in self.panel_form.fields.values()]
        chain += [self.preview.size_box, self.preview.data_box, self.preview.refresh_button]
        for before, after in itertools.pairwise(chain):
            QWidget.setTabOrder(before, after)

        model.changed.connect(self.sync)
        model.validated.connect(self._show_problems)
        self.sync()

    # -- paths ------------------------------------------------------------------------------

    def page_path(self) -> KeyPath:
        screen, page = self.selection
        return ("screens", screen, "pages", page)

    def panels_path(self) -> KeyPath:
        return (*self.page_path(), "panels")

    def panel_path(self, index: int) -> KeyPath:
        return (*self.panels_path(), index)

    def _screens(self) -> list[dict[str, Any]]:
        screens = self.model.get(("screens",)) or []
        return [s if isinstance(s, dict) else {} for s in screens]

    def page_panels(self) -> list[dict[str, Any]]:
        """The selected page's panels as the file holds them."""
        if self.selection[1] < 0:
            return []
        panels = self.model.get(self.panels_path()) or []
        return [p if isinstance(p, dict) else {} for p in panels]

    def page_grid(self) -> Cell:
        """The selected page's grid (the last readable one while it is being typed)."""
        page = self.model.get(self.page_path()) if self.selection[1] >= 0 else None
        value = page.get("grid", "3x2") if isinstance(page, dict) else "3x2"
        grid = _grid(value)
        if grid is not None:
            self._last_grid = grid
        return self._last_grid

    def boxes(self) -> list[PanelBox]:
        """The selected page's panels as the grid editor draws them."""
        out = []
        for panel in self.page_panels():
            out.append(
                PanelBox(
                    kind=str(panel.get("kind", "?")),
                    at=_pair(panel.get("at", "0,0"), (0, 0)),
                    span=_pair(panel.get("span", "1,1"), (1, 1)),
                    title=str(panel.get("title", "") or ""),
                )
            )
        return out

    # -- tree -------------------------------------------------------------------------------

    def _structure_now(self) -> list[tuple[str, list[str]]]:
        out = []
        for index, screen in enumerate(self._screens()):
            output = screen.get("output", 0)
            label = f"Screen {index + 1} — output {output}"
            pages = []
            for number, raw in enumerate(screen.get("pages") or []):
                page = raw if isinstance(raw, dict) else {}
                name = page.get("name") or ", ".join(
                    str(p.get("kind", "?")) for p in page.get("panels") or [] if isinstance(p, dict)
                )
                pages.append(f"{number + 1}. {name or 'page'} ({page.get('grid', '3x2')})")
            out.append((label, pages))
        return out

    def sync(self) -> None:
        """Show what the document holds: the tree, the forms, the grid."""
        structure = self._structure_now()
        if structure != self._structure:
            self._structure = structure
            self.tree.blockSignals(True)
            self.tree.clear()
            for s, (label, pages) in enumerate(structure):
                item = QTreeWidgetItem([label])
                item.setData(0, Qt.ItemDataRole.UserRole, (s, -1))
                for p, page_label in enumerate(pages):
                    child = QTreeWidgetItem([page_label])
                    child.setData(0, Qt.ItemDataRole.UserRole, (s, p))
                    item.addChild(child)
                self.tree.addTopLevelItem(item)
            self.tree.expandAll()
            self.tree.blockSignals(False)
            self._restore_selection()
        self._show_selection()

    def _restore_selection(self) -> None:
        screen, page = self.selection
        screens = len(self._structure)
        if screens == 0:
            self.selection = (-1, -1)
            self._show_selection()
            return
        screen = min(max(screen, 0), screens - 1)
        pages = len(self._structure[screen][1])
        if self.selection == (-1, -1):
            page = 0 if pages else -1
        page = min(page, pages - 1)
        self.select(screen, page)

    def select(self, screen: int, page: int) -> None:
        """Select a screen (``page`` -1) or one of its pages."""
        top = self.tree.topLevelItem(screen)
        if top is None:
            return
        item = top if page < 0 else top.child(page)
        if item is None:
            item = top
            page = -1
        if (screen, page) != self.selection:
            self.panel = 0  # the first panel's options show at once
        self.selection = (screen, page)
        self.tree.blockSignals(True)
        self.tree.setCurrentItem(item)
        self.tree.blockSignals(False)
        self._show_selection()

    def _tree_selected(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        if current is None:
            return
        screen, page = current.data(0, Qt.ItemDataRole.UserRole)
        if (screen, page) != self.selection:
            self.panel = 0  # the first panel's options show at once
            self.grid.selection = -1
        self.selection = (int(screen), int(page))
        self._show_selection()

    def _show_selection(self) -> None:
        screen, page = self.selection
        if screen < 0:
            self.forms.setCurrentIndex(2)
            self.grid_box.setEnabled(False)
            self.panel_box.setEnabled(False)
            return
        if page < 0:
            self.forms.setCurrentIndex(0)
            self.screen_form.rebase(ScreenConfig, ("screens", screen))
            self.grid_box.setEnabled(False)
            self.panel_box.setEnabled(False)
            self.grid.blockSignals(True)  # no page: the panel chosen on the page stays chosen
            self.grid.set_page((1, 1), [])
            self.grid.blockSignals(False)
            self.preview.show_page(screen, 0)
            return
        self.forms.setCurrentIndex(1)
        self.page_form.rebase(PageConfig, self.page_path())
        self.grid_box.setEnabled(True)
        boxes = self.boxes()
        aspect = self._aspect()
        self.grid.set_page(self.page_grid(), boxes, aspect)
        if self.panel >= len(boxes):
            self.panel = len(boxes) - 1
        self.grid.select(self.panel)
        self._show_panel()
        self.preview.show_page(screen, page)
        self._show_problems()

    def _aspect(self) -> float:
        loaded = self.model.last_good
        if loaded is None:
            return 16 / 9
        width, height = self.preview.target_size(loaded)
        return width / height

    # -- panels -----------------------------------------------------------------------------

    def _panel_selected(self, index: int) -> None:
        self.panel = index
        self._show_panel()

    def _show_panel(self) -> None:
        panels = self.page_panels()
        if not 0 <= self.panel < len(panels):
            self.panel_box.setEnabled(False)
            self.panel_title.setText("Panel: select one in the grid")
            return
        self.panel_box.setEnabled(True)
        kind = panels[self.panel].get("kind", "?")
        self.panel_title.setText(f"Panel {self.panel + 1}: {kind}")
        self.panel_form.rebase(PanelConfig, self.panel_path(self.panel))

    def _write_panel(self, index: int, at: Cell, span: Cell) -> None:
        panels = self.page_panels()
        if not 0 <= index < len(panels):
            return
        panel = dict(panels[index])
        panel["at"] = pair_text(at)
        if span != (1, 1) or "span" in panel:
            panel["span"] = pair_text(span)
        self.model.set(self.panel_path(index), panel)

    def _panel_moved(self, index: int, at: object, span: object) -> None:
        assert isinstance(at, tuple)
        assert isinstance(span, tuple)
        self._write_panel(index, at, span)

    def _panel_added(self, at: object, span: object) -> None:
        assert isinstance(at, tuple)
        assert isinstance(span, tuple)
        if self.selection[1] < 0:
            return
        panel: dict[str, Any] = {"kind": self.new_kind.currentData(), "at": pair_text(at)}
        if span != (1, 1):
            panel["span"] = pair_text(span)
        index = self.model.append(self.panels_path(), panel)
        self.panel = index
        self.sync()
        self.grid.select(index)

    def _panel_removed(self, index: int) -> None:
        if 0 <= index < len(self.page_panels()):
            self.model.remove(self.panel_path(index))
            self.panel = min(index, len(self.page_panels()) - 1)
            self.sync()

    # -- screens and pages ------------------------------------------------------------------

    def add_screen(self) -> None:
        """Add a screen (on the next output) with one page."""
        outputs = [s.get("output", 0) for s in self._screens()]
        numbers = [o for o in outputs if isinstance(o, int)]
        output = max(numbers) + 1 if numbers else 0
        index = self.model.append(
            ("screens",),
            {
                "output": output,
                "pages": [{"seconds": 30, "grid": "3x2", "panels": [{"kind": "featured"}]}],
            },
        )
        self.sync()
        self.select(index, 0)

    def add_page(self) -> None:
        """Add a page to the selected screen."""
        screen = self.selection[0]
        if screen < 0:
            self.add_screen()
            return
        index = self.model.append(
            ("screens", screen, "pages"),
            {"seconds": 30, "grid": "3x2", "panels": [{"kind": "featured", "at": "0,0"}]},
        )
        self.sync()
        self.select(screen, index)

    def remove_selected(self) -> None:
        """Remove the selected page (or screen)."""
        screen, page = self.selection
        if screen < 0:
            return
        if page < 0:
            self.model.remove(("screens", screen))
        else:
            self.model.remove(("screens", screen, "pages", page))
        self.sync()

    def move_selected(self, step: int) -> None:
        """Move the selected page (or screen) up or down."""
        screen, page = self.selection
        if screen < 0:
            return
        if page < 0:
            to = screen + step
            if 0 <= to < len(self._structure):
                self.model.move(("screens",), screen, to)
                self.sync()
                self.select(to, -1)
            return
        to = page + step
        if 0 <= to < len(self._structure[screen][1]):
            self.model.move(("screens", screen, "pages"), page, to)
            self.sync()
            self.select(screen, to)

    # -- problems ---------------------------------------------------------------------------

    def _show_problems(self) -> None:
        show_problems(
            self.tree_problems,
            [i.message for i in self.model.issues_at(("screens",), below=False)],
        )
        if self.selection[1] >= 0:
            page_level = [i.message for i in self.model.issues_at(self.page_path(), below=False)]
            panels_level = [
                i.message for i in self.model.issues_at(self.panels_path(), below=False)
            ]
            show_problems(self.grid_problems, page_level + panels_level)
        else:
            show_problems(self.grid_problems, [])
        for s in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(s)
            if top is None:
                continue
            bad = bool(self.model.issues_at(("screens", s)))
            top.setForeground(0, Qt.GlobalColor.red if bad else self.palette().text().color())
            for p in range(top.childCount()):
                child = top.child(p)
                if child is None:
                    continue
                bad = bool(self.model.issues_at(("screens", s, "pages", p)))
                child.setForeground(0, Qt.GlobalColor.red if bad else self.palette().text().color())

"""The operator console's window: ``agora console CONFIG``.

Tabs for the wall, topics, sources, moderation rules, screens (grid editor and live preview),
analytics, the raw TOML, the moderation queue and the sources' health; below them, every problem
``agora check`` would report, and Save. Everything is reachable from the keyboard: Alt plus the
underlined letter, Ctrl+1…9 for the tabs, Ctrl+S to save, Tab through the fields in reading
order. It fits a 1366×768 laptop screen.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from agora.config.loader import summary
from agora.config.schema import (
    AnalyticsConfig,
    ModerationConfig,
    StoreConfig,
    WallConfig,
    WallSection,
)
from agora.config.watch import ConfigWatcher
from agora.console.forms import SectionForm, scrolled
from agora.console.model import ConfigModel, SaveRefusedError
from agora.console.queue import HealthTab, ModerationTab
from agora.console.raw import RawTab
from agora.console.screens import ScreensTab
from agora.console.sections import SourcesTab, TopicsTab
from agora.reading.stored import WallData
from agora.ui.qtlog import route_qt_messages

log = logging.getLogger("agora.console")

#: The size the window opens at: a 1366×768 screen minus a panel and the title bar.
DEFAULT_SIZE = (1366, 720)
ROOT_SECTIONS = ("wall", "topics", "sources", "moderation", "analytics", "store", "screens")


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 1.1)
    label.setFont(font)
    return label


def _page(*sections: tuple[str, QWidget]) -> QWidget:
    """A tab page of forms, each under its heading."""
    page = QWidget()
    layout = QVBoxLayout(page)
    for heading, form in sections:
        layout.addWidget(_heading(heading))
        layout.addWidget(form)
    return page


class ConsoleWindow(QMainWindow):
    """The operator console for one config file."""

    def __init__(self, config_path: Path, *, data_dir: Path | None = None) -> None:
        super().__init__()
        self.model = ConfigModel(config_path, self)
        self.ask_on_close = True
        name = self._wall_name()
        good = self.model.last_good
        place = good.config.store if good is not None else None
        self.wall_data: WallData | None = WallData(data_dir, name, place=place)
        self.setWindowTitle("Agora console")

        # -- the tabs ---------------------------------------------------------------------
        self.tabs = QTabWidget()
        self.tabs.setObjectName("console-tabs")
        self.tabs.setUsesScrollButtons(True)
        self.tabs.setDocumentMode(True)

        self.root_form = SectionForm(self.model, WallConfig, (), skip=ROOT_SECTIONS)
        self.wall_form = SectionForm(self.model, WallSection, ("wall",))
        wall_page = _page(
            ("This file", self.root_form),
            ("[wall]: name, look, privacy, quiet hours", self.wall_form),
        )
        self.topics = TopicsTab(self.model)
        self.sources = SourcesTab(self.model)
        self.rules_form = SectionForm(self.model, ModerationConfig, ("moderation",))
        rules_page = _page(("[moderation]: what may be shown", self.rules_form))
        self.screens = ScreensTab(self.model, self.wall_data)
        self.analytics_form = SectionForm(self.model, AnalyticsConfig, ("analytics",))
        self.store_form = SectionForm(self.model, StoreConfig, ("store",))
        analytics_page = _page(
            ("[analytics]: how figures are computed", self.analytics_form),
            ("[store]: what the wall remembers", self.store_form),
        )
        self.raw = RawTab(self.model)
        self.queue = ModerationTab(self.model, self.wall_data)
        self.health = HealthTab(self.model)
        self.queue.health_listeners.append(self.health.show_view)

        self.tabs.addTab(scrolled(wall_page), "&Wall")
        self.tabs.addTab(self.topics, "&Topics")
        self.tabs.addTab(self.sources, "&Sources")
        self.tabs.addTab(scrolled(rules_page), "&Rules")
        self.tabs.addTab(self.screens, "S&creens")
        self.tabs.addTab(scrolled(analytics_page), "Anal&ytics")
        self.tabs.addTab(self.raw, "Raw T&OML")
        self.tabs.addTab(self.queue, "&Queue")
        self.tabs.addTab(self.health, "H&ealth")
        for index in range(self.tabs.count()):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{index + 1}"), self)
            shortcut.activated.connect(lambda i=index: self.show_tab(i))

        # -- problems and saving ----------------------------------------------------------
        self.problems = QListWidget()
        self.problems.setObjectName("problems")
        self.problems.setAccessibleName("Problems")
        self.problems.itemActivated.connect(self._problem_chosen)
        self.verdict = QLabel("")
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.verdict.setWordWrap(True)
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Save (Ctrl+S): atomically, keeping the previous file as .bak")
        self.save_button.clicked.connect(self.save)
        self.revert_button = QPushButton("Re&vert")
        self.revert_button.setToolTip("Drop the unsaved changes and read the file again")
        self.revert_button.clicked.connect(self.revert)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        problems_label = QLabel("Pro&blems")
        problems_label.setBuddy(self.problems)
        bar.addWidget(problems_label)
        bar.addWidget(self.verdict, 1)
        bar.addWidget(self.revert_button)
        bar.addWidget(self.save_button)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(6, 0, 6, 4)
        bottom_layout.addLayout(bar)
        bottom_layout.addWidget(self.problems)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tabs)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        self.problems.setMinimumHeight(44)
        splitter.setSizes([620, 76])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)
        self._menus()

        self.model.changed.connect(self._update_title)
        self.model.validated.connect(self._show_problems)
        self.model.saved.connect(lambda message: self.statusBar().showMessage(message, 8000))
        self._show_problems()
        self._update_title()

        # the file may change on disk (another editor, another console)
        self._disk = ConfigWatcher([self.model.path], settle=0.2)
        self._disk_timer = QTimer(self)
        self._disk_timer.timeout.connect(self._check_disk)
        self._disk_timer.start(1000)
        self.resize(*DEFAULT_SIZE)

    def _wall_name(self) -> str:
        good = self.model.last_good
        if good is not None:
            return good.config.wall.name
        name = self.model.get(("wall", "name"))
        return name if isinstance(name, str) and name else WallSection().name

    def _menus(self) -> None:
        menu = self.menuBar().addMenu("&File")
        save = QAction("&Save", self)
        save.setShortcut(QKeySequence.StandardKey.Save)
        save.triggered.connect(self.save)
        menu.addAction(save)
        force = QAction("Save with problems…", self)
        force.triggered.connect(self.save_anyway)
        menu.addAction(force)
        reload = QAction("&Reload from disk", self)
        reload.setShortcut(QKeySequence("Ctrl+R"))
        reload.triggered.connect(self.revert)
        menu.addAction(reload)
        menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        menu.addAction(quit_action)

    # -- state ------------------------------------------------------------------------------

    def show_tab(self, index: int) -> None:
        """Show a tab and put the keyboard focus in it."""
        self.tabs.setCurrentIndex(index)
        page = self.tabs.currentWidget()
        if page is not None:
            page.setFocus(Qt.FocusReason.ShortcutFocusReason)
            page.focusNextChild()

    def _update_title(self) -> None:
        mark = " *" if self.model.dirty else ""
        self.setWindowTitle(f"{self.model.path.name}{mark} — Agora console")

    def _show_problems(self) -> None:
        model = self.model
        # while the text is not TOML at all, only the raw tab (and the queue) can be used
        for index in range(self.tabs.count()):
            page = self.tabs.widget(index)
            if page is not None and page not in (self.raw, self.queue, self.health):
                page.setEnabled(model.syntax_ok)
        self.problems.clear()
        for issue in model.issues:
            item = QListWidgetItem(issue.format())
            item.setData(Qt.ItemDataRole.UserRole, issue.line or 0)
            item.setForeground(Qt.GlobalColor.red)
            self.problems.addItem(item)
        if model.valid and model.loaded is not None:
            text = summary(model.loaded).split(": ok: ", 1)[-1]
            self.verdict.setText(f"✓ valid — {text}")
            self.verdict.setStyleSheet("color: #2e7d32;")
            self.problems.addItem(QListWidgetItem("No problems: agora check would accept it."))
        else:
            count = len(model.issues)
            self.verdict.setText(
                f"{count} problem{'s' if count != 1 else ''}: fix {'them' if count != 1 else 'it'}"
                " to save (the wall keeps running on the saved file meanwhile)"
            )
            self.verdict.setStyleSheet("color: #c62828;")
        self.save_button.setEnabled(model.valid and model.dirty)
        self.revert_button.setEnabled(model.dirty)
        self._update_title()

    def _problem_chosen(self, item: QListWidgetItem) -> None:
        line = int(item.data(Qt.ItemDataRole.UserRole) or 0)
        if line:
            self.tabs.setCurrentWidget(self.raw)
            self.raw.go_to_line(line)

    # -- saving -----------------------------------------------------------------------------

    def save(self) -> bool:
        """Save, unless there is a problem (then say so)."""
        self.raw.commit()
        try:
            self.model.save()
        except SaveRefusedError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            self.problems.setFocus()
            return False
        except OSError as exc:
            self.statusBar().showMessage(f"not saved: {exc}", 10000)
            return False
        self._disk.accept()
        self._show_problems()
        return True

    def save_anyway(self) -> bool:
        """Save a config with problems, after asking (the running wall will refuse it)."""
        self.raw.commit()
        answer = QMessageBox.question(
            self,
            "Save with problems?",
            "The config has problems: a running wall will refuse it and keep the last good one. "
            "Save anyway?",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.model.save(force=True)
        self._disk.accept()
        self._show_problems()
        return True

    def revert(self) -> None:
        """Read the file again, dropping unsaved changes."""
        self.model.reload()
        self._disk.accept()
        self.statusBar().showMessage(f"read {self.model.path} again", 5000)

    def _check_disk(self) -> None:
        if not self._disk.poll():
            return
        if self.model.dirty:
            self.statusBar().showMessage(
                f"{self.model.path.name} changed on disk; File → Reload from disk takes it "
                "(your unsaved changes would be lost)",
                15000,
            )
        else:
            self.model.reload()
            self.statusBar().showMessage(
                f"{self.model.path.name} changed on disk: read again", 8000
            )

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Ask before unsaved changes are lost."""
        self.raw.commit()
        if self.model.dirty and self.ask_on_close:
            answer = QMessageBox.question(
                self,
                "Unsaved changes",
                "Save the changes before closing?",
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
            )
            if answer == QMessageBox.StandardButton.Cancel or (
                answer == QMessageBox.StandardButton.Save and not self.save()
            ):
                event.ignore()
                return
        self._disk_timer.stop()
        if self.wall_data is not None:
            self.wall_data.close()
        event.accept()


def run_console(config_path: Path, *, data_dir: Path | None = None) -> int:
    """Open the console until it is closed. Returns the exit status."""
    route_qt_messages()
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setApplicationName("agora console")
    window = ConsoleWindow(config_path, data_dir=data_dir)
    window.show()
    return int(app.exec())

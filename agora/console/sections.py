"""The tabs with a list on the left and a form on the right: topics and sources.

A source's form is generated from the schema model of its ``kind`` (the discriminated union of
``[[sources]]`` entries), so each kind shows exactly the keys it takes. "Test this source" runs
one fetch round of the entry as typed, on a worker thread, and lists the posts it brought (with
the topics, sentiment and moderation the wall would give them) or the error in plain words.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from agora.config.edit import EditError
from agora.config.schema import SourceConfig, TopicConfig
from agora.console.forms import SectionForm, error_label, scrolled, show_problems
from agora.console.model import ConfigModel
from agora.console.worker import run_in_background
from agora.reading.trial import SourceTrial, fetch_once


def source_models() -> dict[str, type[BaseModel]]:
    """Source kind → its schema model, in the schema's order."""
    union = typing.get_args(SourceConfig)[0]
    models: dict[str, type[BaseModel]] = {}
    for member in typing.get_args(union):
        kind = typing.get_args(member.model_fields["kind"].annotation)[0]
        models[str(kind)] = member
    return models


SOURCE_MODELS = source_models()


def _buttons(*buttons: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    for button in buttons:
        row.addWidget(button)
    row.addStretch(1)
    return row


class _ListTab(QWidget):
    """A list of entries beside the form of the selected one."""

    def __init__(self, model: ConfigModel, title: str) -> None:
        super().__init__()
        self.model = model
        self.list = QListWidget()
        self.list.setObjectName(f"{title}-list")
        self.list.setAccessibleName(title)
        self.list.currentRowChanged.connect(self._selected)
        self.list_problems = error_label()
        self.detail = QWidget()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel(title))
        left_layout.addWidget(self.list, 1)
        self.left_buttons = QHBoxLayout()
        left_layout.addLayout(self.left_buttons)
        left_layout.addWidget(self.list_problems)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._keys: list[Any] = []
        model.changed.connect(self.sync)
        model.validated.connect(self._show_list_problems)

    # subclasses
    def entries(self) -> list[tuple[Any, str]]:
        raise NotImplementedError

    def select(self, key: Any) -> None:
        raise NotImplementedError

    def list_problem_messages(self) -> list[str]:
        return []

    def _show_list_problems(self) -> None:
        show_problems(self.list_problems, self.list_problem_messages())
        for row, key in enumerate(self._keys):
            item = self.list.item(row)
            if item is not None:
                bad = bool(self.item_issues(key))
                item.setForeground(Qt.GlobalColor.red if bad else self.palette().text().color())

    def item_issues(self, key: Any) -> list[str]:
        return []

    def sync(self) -> None:
        """Show the entries the document holds (keeping the selection)."""
        entries = self.entries()
        keys = [k for k, _ in entries]
        current = self.list.currentRow()
        if keys != self._keys or [self.list.item(i).text() for i in range(self.list.count())] != [
            label for _, label in entries
        ]:
            self.list.blockSignals(True)
            self.list.clear()
            for _, label in entries:
                QListWidgetItem(label, self.list)
            self._keys = keys
            self.list.blockSignals(False)
            row = min(max(current, 0), len(keys) - 1)
            self.list.setCurrentRow(row)
            self._selected(row)
        self._show_list_problems()

    def _selected(self, row: int) -> None:
        self.detail.setEnabled(0 <= row < len(self._keys))
        if 0 <= row < len(self._keys):
            self.select(self._keys[row])

    def select_row(self, row: int) -> None:
        """Select an entry by position."""
        self.list.setCurrentRow(row)


# ---------------------------------------------------------------------------------------------
# topics


class TopicsTab(_ListTab):
    """``[topics.<key>]``: brands, competitors and campaigns, and their terms."""

    def __init__(self, model: ConfigModel) -> None:
        super().__init__(model, "Topics")
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("topic-key")
        self.key_edit.setToolTip(
            "The topic's key in the file (letters, digits, _ and -); panels name topics by it"
        )
        self.key_edit.editingFinished.connect(self._rename)
        self.key_error = error_label()
        self.form = SectionForm(model, TopicConfig, ("topics", "_"))
        add = QPushButton("&Add topic")
        add.clicked.connect(self.add_topic)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.remove_topic)
        self.left_buttons.addWidget(add)
        self.left_buttons.addWidget(remove)
        self.left_buttons.addStretch(1)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        top = QFormLayout()
        key_label = QLabel("&Key *")
        key_label.setBuddy(self.key_edit)
        key_box = QVBoxLayout()
        key_box.addWidget(self.key_edit)
        key_box.addWidget(self.key_error)
        top.addRow(key_label, key_box)
        layout.addLayout(top)
        layout.addWidget(self.form, 1)
        note = QLabel(
            "The first topic is the brand: its care queue is tracked. Terms match whole words, "
            'case- and accent-insensitive; "#tag" and "@handle" too; end a term with * to match '
            "prefixes."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        detail = QVBoxLayout(self.detail)
        detail.setContentsMargins(0, 0, 0, 0)
        detail.addWidget(scrolled(inner))
        self.current: str | None = None
        self.sync()

    def entries(self) -> list[tuple[Any, str]]:
        topics = self.model.get(("topics",)) or {}
        if not isinstance(topics, dict):
            return []
        out = []
        for key, value in topics.items():
            label = value.get("label") if isinstance(value, dict) else None
            out.append((key, f"{label} ({key})" if label else key))
        return out

    def item_issues(self, key: Any) -> list[str]:
        return [i.message for i in self.model.issues_at(("topics", key))]

    def list_problem_messages(self) -> list[str]:
        return [i.message for i in self.model.issues_at(("topics",), below=False)]

    def select(self, key: Any) -> None:
        self.current = str(key)
        if not self.key_edit.hasFocus():
            self.key_edit.setText(self.current)
        self.form.rebase(TopicConfig, ("topics", self.current))

    def _rename(self) -> None:
        new = self.key_edit.text().strip()
        if self.current is None or not new or new == self.current:
            self.key_edit.setText(self.current or "")
            show_problems(self.key_error, [])
            return
        try:
            self.model.rename(("topics", self.current), new)
        except EditError as exc:
            show_problems(self.key_error, [str(exc)])
            return
        show_problems(self.key_error, [])
        self.current = new
        self.sync()

    def add_topic(self) -> None:
        """Add a topic with a free key; its terms are to be filled in."""
        existing = {k for k, _ in self.entries()}
        number = 1
        while f"topic{number}" in existing:
            number += 1
        key = f"topic{number}"
        self.model.set(("topics", key), {"label": f"Topic {number}", "terms": []})
        self.sync()
        self.select_row(self._keys.index(key))
        self.key_edit.setFocus()
        self.key_edit.selectAll()

    def remove_topic(self) -> None:
        """Remove the selected topic."""
        if self.current is not None:
            self.model.remove(("topics", self.current))
            self.sync()


# ---------------------------------------------------------------------------------------------
# sources


class SourcesTab(_ListTab):
    """``[[sources]]``: each source with the keys its kind takes, and a test button."""

    def __init__(self, model: ConfigModel) -> None:
        super().__init__(model, "Sources")
        self.index = -1
        self.kind_box = QComboBox()
        self.kind_box.setObjectName("source-kind")
        for kind, schema in SOURCE_MODELS.items():
            self.kind_box.addItem(kind, kind)
            self.kind_box.setItemData(
                self.kind_box.count() - 1,
                " ".join((schema.__doc__ or "").split()),
                Qt.ItemDataRole.ToolTipRole,
            )
        self.kind_box.activated.connect(self._kind_chosen)
        self.kind_help = QLabel()
        self.kind_help.setWordWrap(True)
        self.kind_help.setTextFormat(Qt.TextFormat.PlainText)
        first_schema = next(iter(SOURCE_MODELS.values()))
        self.form = SectionForm(
            model, first_schema, ("sources", 0), skip=("kind",), first=("name",)
        )
        add = QToolButton()
        add.setText("&Add source")
        add.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(add)
        for kind in SOURCE_MODELS:
            action = QAction(kind, menu)
            action.triggered.connect(lambda _checked=False, k=kind: self.add_source(k))
            menu.addAction(action)
        add.setMenu(menu)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.remove_source)
        up = QPushButton("Up")
        up.clicked.connect(lambda: self.move_source(-1))
        down = QPushButton("Down")
        down.clicked.connect(lambda: self.move_source(1))
        for widget in (add, remove, up, down):
            self.left_buttons.addWidget(widget)
        self.left_buttons.addStretch(1)

        self.test_button = QPushButton("Test t&his source")
        self.test_button.setToolTip(
            "Run one fetch round of this entry as typed (cursors stay in memory) and show the "
            "posts or the error"
        )
        self.test_button.clicked.connect(self.run_test)
        self.test_status = QLabel("")
        self.test_status.setTextFormat(Qt.TextFormat.PlainText)
        self.test_status.setWordWrap(True)
        self.test_output = QPlainTextEdit()
        self.test_output.setObjectName("source-test-output")
        self.test_output.setReadOnly(True)
        self.test_output.setPlaceholderText("Test results appear here.")
        self.test_output.setMinimumHeight(120)
        self.last_test: SourceTrial | None = None

        inner = QWidget()
        layout = QVBoxLayout(inner)
        top = QFormLayout()
        kind_label = QLabel("&Kind *")
        kind_label.setBuddy(self.kind_box)
        top.addRow(kind_label, self.kind_box)
        top.addRow("", self.kind_help)
        layout.addLayout(top)
        layout.addWidget(self.form)
        detail = QVBoxLayout(self.detail)
        detail.setContentsMargins(0, 0, 0, 0)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(scrolled(inner))
        test_box = QWidget()
        test_layout = QVBoxLayout(test_box)
        test_layout.setContentsMargins(0, 0, 0, 0)
        test_layout.addLayout(_buttons(self.test_button, self.test_status))
        test_layout.addWidget(self.test_output, 1)
        splitter.addWidget(test_box)
        splitter.setSizes([420, 160])
        detail.addWidget(splitter)
        self.sync()

    def _entries_data(self) -> list[dict[str, Any]]:
        sources = self.model.get(("sources",)) or []
        return [s if isinstance(s, dict) else {} for s in sources]

    def entries(self) -> list[tuple[Any, str]]:
        out: list[tuple[Any, str]] = []
        for index, entry in enumerate(self._entries_data()):
            name = entry.get("name") or "(no name)"
            kind = entry.get("kind") or "?"
            off = "" if entry.get("enabled", True) is not False else ", off"
            out.append((index, f"{name} ({kind}{off})"))
        return out

    def item_issues(self, key: Any) -> list[str]:
        return [i.message for i in self.model.issues_at(("sources", key))]

    def list_problem_messages(self) -> list[str]:
        return [i.message for i in self.model.issues_at(("sources",), below=False)]

    def select(self, key: Any) -> None:
        self.index = int(key)
        entry = self._entries_data()[self.index]
        kind = str(entry.get("kind", ""))
        schema = SOURCE_MODELS.get(kind)
        found = self.kind_box.findData(kind)
        self.kind_box.setCurrentIndex(found)
        if schema is None:
            self.kind_help.setText(
                f'"{kind}" is not a source kind; pick one (known: {", ".join(SOURCE_MODELS)})'
            )
            self.form.setEnabled(False)
            return
        self.form.setEnabled(True)
        self.kind_help.setText(" ".join((schema.__doc__ or "").split()).replace("``", ""))
        self.form.rebase(schema, ("sources", self.index))
        if self.last_test is None or self.last_test.name != entry.get("name"):
            self.test_output.clear()
            self.test_status.setText("")

    def _kind_chosen(self, row: int) -> None:
        kind = str(self.kind_box.itemData(row))
        if self.index < 0:
            return
        entry = self._entries_data()[self.index]
        if entry.get("kind") == kind:
            return
        schema = SOURCE_MODELS[kind]
        kept = {k: v for k, v in entry.items() if k in schema.model_fields}
        kept["kind"] = kind
        self.model.set(("sources", self.index), kept)
        self.select(self.index)

    def add_source(self, kind: str) -> None:
        """Append a source of ``kind`` with a free name; the required keys are to be filled."""
        names = {str(e.get("name")) for e in self._entries_data()}
        number = 1
        while f"{kind}{number}" in names:
            number += 1
        index = self.model.append(("sources",), {"name": f"{kind}{number}", "kind": kind})
        self.sync()
        self.select_row(index)
        self.form.field("name").editor.setFocus()

    def remove_source(self) -> None:
        """Remove the selected source."""
        if 0 <= self.index < len(self._keys):
            self.model.remove(("sources", self.index))
            self.sync()

    def move_source(self, step: int) -> None:
        """Move the selected source up or down."""
        if 0 <= self.index < len(self._keys):
            to = self.index + step
            if 0 <= to < len(self._keys):
                self.model.move(("sources",), self.index, to)
                self.sync()
                self.select_row(to)

    # -- test -------------------------------------------------------------------------------

    def run_test(self) -> None:
        """One fetch round of the selected entry, off the GUI thread."""
        if self.index < 0:
            return
        entry = dict(self._entries_data()[self.index])
        good = self.model.last_good
        wall = good.config if good is not None else None
        config_dir = self.model.path.parent.resolve()
        self.test_button.setEnabled(False)
        self.test_status.setText(f"testing {entry.get('name', '')}…")
        self.test_output.clear()
        run_in_background(
            lambda: fetch_once(entry, wall=wall, config_dir=config_dir),
            self._tested,
            self._test_failed,
        )

    def _tested(self, result: object) -> None:
        assert isinstance(result, SourceTrial)
        self.last_test = result
        self.test_button.setEnabled(True)
        if result.error:
            self.test_status.setText(f"{result.name}: {result.state} — {result.error}")
        else:
            self.test_status.setText(
                f"{result.name}: {result.state}, {len(result.posts)} post(s) in "
                f"{result.seconds:.1f} s"
            )
        lines = []
        for post in result.posts:
            topics = ", ".join(post.topics) or "no topic"
            mood = post.sentiment.label if post.sentiment else "unscored"
            state = post.moderation.state
            text = " ".join(post.text.split())
            lines.append(
                f"{post.created_at:%Y-%m-%d %H:%M} {post.author.handle} [{topics}; {mood}; "
                f"{state}]\n    {text[:280]}"
            )
        if not lines and not result.error:
            lines.append("No new posts in this round (the source works; nothing matched yet).")
        self.test_output.setPlainText("\n".join(lines))

    def _test_failed(self, error: BaseException) -> None:
        self.test_button.setEnabled(True)
        self.test_status.setText(f"the test failed: {error}")

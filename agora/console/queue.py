"""The moderation queue and the sources' health, read from the running wall's store.

Pending posts (``manual`` and ``trusted-only`` approval), recent posts, and the decision log.
Approve, hide, pin, unpin and block-author are recorded as decisions in the store
(:meth:`~agora.store.base.Store.add_decision`); the running wall picks them up from there. The
store is read again every few seconds on a worker thread.

Source health is what the running wall last reported: each source's state, last success and last
error in plain words.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from PySide6 import QtGui
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from agora.console.model import ConfigModel
from agora.console.worker import run_in_background
from agora.core.post import Post
from agora.reading.stored import StoreView, WallData, effective_states

#: Seconds between two reads of the store.
REFRESH_S = 3.0


def operator_name() -> str:
    """Who is deciding: ``console (user@host)``."""
    try:
        user = getpass.getuser()
    except Exception:
        user = "operator"
    return f"console ({user}@{socket.gethostname()})"


def _local(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _item(text: str, data: object = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)  # plain text: post text is hostile input, never markup
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if data is not None:
        item.setData(Qt.ItemDataRole.UserRole, data)
    # a tooltip is rich text whenever it looks like markup: hand Qt the plain text as HTML
    shown = text if len(text) < 2_000 else text[:2_000] + "…"
    item.setToolTip(QtGui.Qt.convertFromPlainText(shown, Qt.WhiteSpaceMode.WhiteSpaceNormal))
    return item


def _table(headers: list[str], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setAccessibleName(name)
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(False)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
    table.setTabKeyNavigation(False)  # Tab leaves the table: keyboard users move on
    return table


class ModerationTab(QWidget):
    """Pending and recent posts with the operator's actions, and the decision log."""

    ACTIONS = (
        ("approve", "&Approve", "A"),
        ("hide", "&Hide", "H"),
        ("pin", "&Pin", "P"),
        ("unpin", "&Unpin", "U"),
        ("block", "Bloc&k author", "B"),
    )

    def __init__(self, model: ConfigModel, wall_data: WallData | None) -> None:
        super().__init__()
        self.model = model
        self.wall_data = wall_data
        self.view: StoreView | None = None
        self.actor = operator_name()
        self.status = QLabel("")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        headers = ["time", "source", "author", "state", "why", "text"]
        self.pending = _table(headers, "pending posts")
        self.recent = _table(headers, "recent posts")
        self.log = _table(["#", "time", "action", "target", "by", "reason"], "decision log")
        self.lists = QTabWidget()
        self.lists.addTab(self.pending, "Pen&ding")
        self.lists.addTab(self.recent, "Rece&nt")
        self.reason = QLineEdit()
        self.reason.setObjectName("decision-reason")
        self.reason.setPlaceholderText("reason (optional), kept in the decision log")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        self.buttons: dict[str, QPushButton] = {}
        for action, label, key in self.ACTIONS:
            button = QPushButton(label)
            button.setToolTip(f"{label.replace('&', '')} the selected post(s) ({key} in the list)")
            button.clicked.connect(lambda _c=False, a=action: self.decide(a))
            buttons.addWidget(button)
            self.buttons[action] = button
        self._keys = {
            Qt.Key(ord(key)): action for action, _label, key in self.ACTIONS
        }  # Qt's key codes of the capital letters are their character codes
        for table in (self.pending, self.recent):
            table.installEventFilter(self)  # A/H/P/U/B act on the selected posts
        reason_label = QLabel("Reason")
        reason_label.setBuddy(self.reason)
        buttons.addWidget(reason_label)
        buttons.addWidget(self.reason, 1)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        buttons.addWidget(refresh)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.lists, 1)
        top_layout.addLayout(buttons)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        log_label = QLabel("Decision &log (newest first)")
        log_label.setBuddy(self.log)
        bottom_layout.addWidget(log_label)
        bottom_layout.addWidget(self.log, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setSizes([360, 160])
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)
        self._reading = False
        self.reads = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(int(REFRESH_S * 1000))
        self.health_listeners: list[Callable[[StoreView], None]] = []
        if wall_data is None:
            self.status.setText("No data directory: the moderation queue needs the wall's store.")
            self.setEnabled(False)
        else:
            self.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """The action keys in a post list."""
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            and Qt.Key(event.key()) in self._keys
        ):
            self.decide(self._keys[Qt.Key(event.key())])
            return True
        return super().eventFilter(watched, event)

    # -- reading ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the store again (off the GUI thread)."""
        data = self.wall_data
        if data is None or self._reading:
            return
        self._reading = True
        run_in_background(data.read, self._show, self._failed)

    def _failed(self, error: BaseException) -> None:
        self._reading = False
        self.status.setText(f"Could not read the store: {error}")

    def _show(self, result: object) -> None:
        self._reading = False
        assert isinstance(result, StoreView)
        self.view = result
        self.reads += 1
        for listener in self.health_listeners:
            listener(result)
        if result.error:
            self.status.setText(result.error)
            return
        states = effective_states(result.posts, result.decisions)
        pending = [p for p in result.posts if states[p.id][0] == "pending"]
        approval = self.model.last_good.config.moderation.approval if self.model.last_good else ""
        mode = f" (approval: {approval})" if approval else ""
        assert self.wall_data is not None
        self.status.setText(
            f"{len(pending)} pending{mode}, {len(result.posts)} recent posts, "
            f"{len(result.decisions)} decisions — {self.wall_data.path}, read "
            f"{_local(result.read_at)}"
        )
        self.lists.setTabText(0, f"Pen&ding ({len(pending)})")
        self._fill_posts(self.pending, pending, states)
        self._fill_posts(self.recent, result.posts, states)
        self._fill_log()

    def _fill_posts(
        self,
        table: QTableWidget,
        posts: list[Post],
        states: Mapping[str, tuple[str, str]],
    ) -> None:
        selected = set(self.selected_ids(table))
        current = table.currentRow()
        table.setUpdatesEnabled(False)
        table.setRowCount(len(posts))
        for row, post in enumerate(posts):
            state, why = states.get(post.id, (post.moderation.state, ""))
            text = " ".join(post.text.split())
            values = [
                _local(post.created_at),
                post.source,
                post.author.handle,
                state,
                why,
                text,
            ]
            for column, value in enumerate(values):
                table.setItem(row, column, _item(value, post.id if column == 0 else None))
            if post.id in selected:
                table.selectRow(row)
        if 0 <= current < len(posts) and not selected:
            table.setCurrentCell(current, 0)
        table.setUpdatesEnabled(True)

    def _fill_log(self) -> None:
        assert self.view is not None
        decisions = list(reversed(self.view.decisions))
        self.log.setRowCount(len(decisions))
        for row, decision in enumerate(decisions):
            values = [
                str(decision.seq),
                _local(decision.at),
                decision.action,
                decision.target,
                decision.actor,
                decision.reason,
            ]
            for column, value in enumerate(values):
                self.log.setItem(row, column, _item(value))

    # -- deciding ---------------------------------------------------------------------------

    def current_table(self) -> QTableWidget:
        """The post list on show."""
        widget = self.lists.currentWidget()
        assert isinstance(widget, QTableWidget)
        return widget

    def selected_ids(self, table: QTableWidget | None = None) -> list[str]:
        """Ids of the selected posts."""
        table = table or self.current_table()
        rows = sorted({index.row() for index in table.selectionModel().selectedRows()})
        if not rows and table.currentRow() >= 0 and table is self.current_table():
            rows = [table.currentRow()]
        ids = []
        for row in rows:
            item = table.item(row, 0)
            if item is not None:
                ids.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return ids

    def _post(self, post_id: str) -> Post | None:
        if self.view is None:
            return None
        return next((p for p in self.view.posts if p.id == post_id), None)

    def decide(self, action: str) -> int:
        """Record ``action`` on the selected posts (or their authors); how many decisions."""
        if self.wall_data is None:
            return 0
        targets: list[str] = []
        for post_id in self.selected_ids():
            if action == "block":
                post = self._post(post_id)
                if post is not None and post.author.handle not in targets:
                    targets.append(post.author.handle)
            else:
                targets.append(post_id)
        if not targets:
            self.status.setText("Select a post first (arrows and Space in the list).")
            return 0
        reason = self.reason.text().strip()
        try:
            for target in targets:
                self.wall_data.decide(action, target, self.actor, reason)
        except Exception as exc:
            self.status.setText(f"The decision could not be saved: {exc}")
            return 0
        self.status.setText(
            f"{action}: {', '.join(targets)} — recorded; the wall applies it on its next look "
            "at the store"
        )
        self.reason.clear()
        self.refresh()
        return len(targets)


class HealthTab(QWidget):
    """Each source's state, last success and last error, as the running wall last reported."""

    def __init__(self, model: ConfigModel) -> None:
        super().__init__()
        self.model = model
        self.status = QLabel("Waiting for the wall's report…")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.table = _table(
            ["source", "kind", "state", "last success", "posts", "last error"], "source health"
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        note = QLabel(
            "States: ok · idle (not started yet) · degraded (some rounds or items fail) · "
            "failing (nothing works; retrying) · needs-auth (credentials missing or refused) · "
            "disabled-by-server. Test a source on the Sources tab."
        )
        note.setWordWrap(True)
        layout.addWidget(note)

    def show_view(self, view: StoreView) -> None:
        """Show the health found in one read of the store."""
        report: dict[str, Any] = view.health or {}
        sources: dict[str, Any] = report.get("sources") or {}
        configured = self.model.last_good.config.sources if self.model.last_good else []
        rows: list[list[str]] = []
        for name, health in sources.items():
            rows.append(
                [
                    name,
                    str(health.get("kind", "")),
                    str(health.get("state", "")),
                    _local(_parse_time(health.get("last_success"))),
                    str(health.get("posts", "")),
                    str(health.get("last_error") or ""),
                ]
            )
        for entry in configured:
            if entry.name not in sources:
                state = "off in the config" if not entry.enabled else "not reported"
                rows.append([entry.name, entry.kind, state, "", "", ""])
        self.table.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                item = _item(value)
                if column == 2 and value not in ("ok", "idle", ""):
                    item.setForeground(Qt.GlobalColor.red)
                self.table.setItem(row, column, item)
        at = _parse_time(report.get("at"))
        if view.error:
            self.status.setText(view.error)
        elif at is None:
            self.status.setText(
                "The wall has not reported yet (is it running with this data directory?)."
            )
        else:
            age = (datetime.now(UTC) - at).total_seconds()
            stale = "" if age < 60 else " — the wall seems to be stopped (no report since)"
            self.status.setText(f"As the wall reported at {_local(at)}{stale}.")

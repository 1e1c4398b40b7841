"""The raw TOML tab: the whole file as text, for those who prefer it.

It edits the same document as the forms (typing here updates them, and changes made in the forms
appear here). Problems are listed with their line numbers below; a problem's line is highlighted.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontDatabase, QTextCursor, QTextFormat
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

from agora.console.model import ConfigModel

TYPING_DELAY_MS = 250


class RawTab(QWidget):
    """The document as TOML text."""

    def __init__(self, model: ConfigModel) -> None:
        super().__init__()
        self.model = model
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("raw-toml")
        self.editor.setAccessibleName("Raw TOML")
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.editor.setFont(font)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setTabChangesFocus(True)  # keyboard users can leave the editor with Tab
        self.editor.setPlainText(model.text)
        self.editor.textChanged.connect(self._typed)
        note = QLabel(
            "The file as it will be saved. Comments and layout are kept; the forms and this "
            "text are the same document."
        )
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.editor, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TYPING_DELAY_MS)
        self._timer.timeout.connect(self.commit)
        self._own_change = False
        model.changed.connect(self._model_changed)
        model.validated.connect(self._mark_problems)

    def _typed(self) -> None:
        if not self._own_change:
            self._timer.start()

    def commit(self) -> None:
        """Hand what was typed to the document now."""
        self._timer.stop()
        self._own_change = True
        try:
            self.model.set_text(self.editor.toPlainText())
        finally:
            self._own_change = False

    def _model_changed(self) -> None:
        if self._own_change or self.editor.toPlainText() == self.model.text:
            return
        cursor = self.editor.textCursor()
        position = cursor.position()
        scroll = self.editor.verticalScrollBar().value()
        self._own_change = True
        try:
            self.editor.setPlainText(self.model.text)
        finally:
            self._own_change = False
        cursor = self.editor.textCursor()
        cursor.setPosition(min(position, len(self.model.text)))
        self.editor.setTextCursor(cursor)
        self.editor.verticalScrollBar().setValue(scroll)

    def _mark_problems(self) -> None:
        selections = []
        path = self.model.path.resolve()
        for issue in self.model.issues:
            if issue.line is None or issue.file.resolve() != path:
                continue
            block = self.editor.document().findBlockByLineNumber(issue.line - 1)
            if not block.isValid():
                continue
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(QColor(255, 205, 210))
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            selection.format.setToolTip(issue.message)
            cursor = QTextCursor(block)
            selection.cursor = cursor
            selections.append(selection)
        self.editor.setExtraSelections(selections)

    def go_to_line(self, line: int) -> None:
        """Put the cursor on a line (from a problem in the list)."""
        block = self.editor.document().findBlockByLineNumber(max(0, line - 1))
        if block.isValid():
            cursor = QTextCursor(block)
            self.editor.setTextCursor(cursor)
            self.editor.centerCursor()
            self.editor.setFocus(Qt.FocusReason.OtherFocusReason)

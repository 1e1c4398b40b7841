"""Forms generated from the schema: one editor per key, its help line and its problems.

:class:`SectionForm` lays out the keys of one section (``[wall]``, a ``[[sources]]`` entry, a
panel…) at a key path of the document. Each :class:`FieldEditor` writes what is typed straight
into the :class:`~agora.console.model.ConfigModel` and shows, under the field, the messages
``agora check`` gives for that key. Empty boxes mean "not written": the placeholder shows the
default (or the value inherited through ``extends``).
"""

from __future__ import annotations

from pydantic import BaseModel
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from agora.config.locate import KeyPath
from agora.console.fields import (
    REMOVE,
    FieldSpec,
    InputError,
    duration_text,
    field_specs,
    from_text,
    to_text,
)
from agora.console.model import ConfigModel

ERROR_STYLE = "color: #c62828;"
HELP_STYLE = "color: palette(placeholder-text);"


def error_label() -> QLabel:
    """A label for problems: red, wrapped, plain text, hidden while empty."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


def show_problems(label: QLabel, messages: list[str]) -> None:
    """Show ``messages`` (one a line) in an error label, or hide it."""
    text = "\n".join(dict.fromkeys(messages))
    if label.text() != text:
        label.setText(text)
        # a wrapped label claims too little height inside a scroll area: ask for its lines
        label.setMinimumHeight(label.fontMetrics().lineSpacing() * (text.count("\n") + 1))
    label.setVisible(bool(text))


class FieldEditor(QWidget):
    """The editor of one key, with its help line and its problems under it."""

    def __init__(self, model: ConfigModel, spec: FieldSpec, path: KeyPath) -> None:
        super().__init__()
        self.model = model
        self.spec = spec
        self.path = path
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        self._layout = layout
        self.editor: QWidget = self._make_editor()
        # a long form scrolls; its fields never shrink below their natural height
        self.editor.setMinimumHeight(self.editor.sizeHint().height())
        self.editor.setObjectName(f"field-{spec.name}")
        self.editor.setToolTip(" ".join(spec.doc.split()))
        layout.addWidget(self.editor)
        self.error = error_label()
        layout.addWidget(self.error)
        self.local_error = ""
        self.refresh()

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        """No: a form row then gets the field's whole minimum height, so the help line and the
        problems under the editor never overlap it (wrapped labels under-report otherwise)."""
        return False

    def add_help(self, text: str) -> None:
        """A grey line under the field (the first sentence of the key's docstring)."""
        self._layout.insertWidget(1, _help(text))

    # -- editors ----------------------------------------------------------------------------

    def _make_editor(self) -> QWidget:
        spec = self.spec
        if spec.kind == "bool":
            box = QCheckBox(spec.summary if len(spec.summary) < 90 else "")
            box.toggled.connect(self._bool_changed)
            return box
        if spec.kind == "choice":
            combo = QComboBox()
            if not spec.required:
                default = spec.default
                combo.addItem(f"(default: {default})" if default is not None else "(none)", REMOVE)
            for choice in spec.choices:
                combo.addItem(choice, choice)
            combo.currentIndexChanged.connect(self._choice_changed)
            return combo
        line = QLineEdit()
        line.setClearButtonEnabled(spec.kind not in ("pair", "grid"))
        line.textEdited.connect(self._text_edited)
        return line

    def _bool_changed(self, checked: bool) -> None:
        self.model.set(self.path, checked)

    def _choice_changed(self, index: int) -> None:
        combo = self.editor
        assert isinstance(combo, QComboBox)
        self.model.set(self.path, combo.itemData(index))

    def _text_edited(self, text: str) -> None:
        try:
            value = from_text(self.spec, text)
        except InputError as exc:
            self.local_error = str(exc)
            self.show_issues()
            return
        self.local_error = ""
        self.model.set(self.path, value, inline=self.spec.kind == "mapping")

    # -- showing ----------------------------------------------------------------------------

    def placeholder(self) -> str:
        """The default, or the value inherited through ``extends``."""
        spec = self.spec
        inherited = self.model.effective(self.path) if self.model.get(("extends",)) else None
        if spec.kind == "duration" and isinstance(inherited, int | float):
            inherited = duration_text(float(inherited))
        if inherited is not None and inherited != spec.default and inherited not in ([], {}):
            return f"inherited: {to_text(spec, inherited)}"
        if spec.required:
            return "required"
        if spec.default is None or spec.default in ([], {}):
            return "not set"
        return f"default: {to_text(spec, spec.default)}"

    def refresh(self) -> None:
        """Show the value written in the file (not while the editor is being typed in)."""
        value = self.model.get(self.path)
        editor = self.editor
        if editor.hasFocus() and isinstance(editor, QLineEdit):
            return
        editor.blockSignals(True)
        try:
            if isinstance(editor, QCheckBox):
                effective = self.model.effective(self.path)
                default = effective if effective is not None else self.spec.default
                editor.setChecked(bool(value if value is not None else default))
            elif isinstance(editor, QComboBox):
                index = editor.findData(value if value is not None else REMOVE)
                if index < 0 and value is not None:
                    editor.addItem(f"{value} (not allowed)", value)
                    index = editor.count() - 1
                editor.setCurrentIndex(max(0, index))
            elif isinstance(editor, QLineEdit):
                text = to_text(self.spec, value)
                if text != editor.text():
                    editor.setText(text)
                editor.setPlaceholderText(self.placeholder())
        finally:
            editor.blockSignals(False)

    def show_issues(self) -> None:
        """The problems ``agora check`` reports for this key (and what was typed)."""
        messages = [issue.message for issue in self.model.issues_at(self.path)]
        if self.local_error:
            messages.insert(0, self.local_error)
        show_problems(self.error, messages)

    @property
    def problems(self) -> str:
        """The problem text shown (for tests)."""
        return self.error.text() if self.error.isVisible() or self.error.text() else ""


class SectionForm(QWidget):
    """The keys of one section at a key path, generated from its schema model."""

    edited = Signal()

    def __init__(
        self,
        model: ConfigModel,
        schema: type[BaseModel],
        path: KeyPath,
        *,
        skip: tuple[str, ...] = (),
        first: tuple[str, ...] = (),
        show_own: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.show_own = show_own
        self.model = model
        self.schema = schema
        self.path = path
        self.skip = skip
        self.first = first
        self.fields: dict[str, FieldEditor] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.section_error = error_label()
        layout.addWidget(self.section_error)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.form.setVerticalSpacing(6)
        layout.addLayout(self.form)
        layout.addStretch(1)
        self._build()
        model.changed.connect(self.refresh)
        model.validated.connect(self.show_issues)
        self.show_issues()

    def _build(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields.clear()
        for spec in field_specs(self.schema, skip=self.skip, first=self.first):
            editor = FieldEditor(self.model, spec, (*self.path, spec.name))
            label = QLabel(f"{spec.label}{' *' if spec.required else ''}")
            label.setBuddy(editor.editor)
            label.setToolTip(" ".join(spec.doc.split()))
            if (spec.kind != "bool" or len(spec.summary) >= 90) and spec.summary:
                editor.add_help(spec.summary)
            self.form.addRow(label, editor)
            self.fields[spec.name] = editor

    def rebase(self, schema: type[BaseModel], path: KeyPath) -> None:
        """Edit another section (another source, another panel)."""
        if schema is self.schema and path == self.path:
            self.refresh()
            return
        rebuild = schema is not self.schema
        self.schema = schema
        self.path = path
        if rebuild:
            self._build()
        else:
            for name, editor in self.fields.items():
                editor.path = (*path, name)
                editor.local_error = ""
        self.refresh()
        self.show_issues()

    def refresh(self) -> None:
        """Show what the file holds now."""
        for editor in self.fields.values():
            editor.refresh()

    def show_issues(self) -> None:
        """Problems next to their fields; problems of the section itself at the top."""
        for editor in self.fields.values():
            editor.show_issues()
        own = [
            issue.message
            for issue in self.model.issues_at(self.path, below=False)
            if self.path and self.show_own  # the document's own problems are listed below
        ]
        unknown = [
            f"{issue.key}: {issue.message}"
            for issue in self.model.issues_at(self.path)
            if issue.key.split(".")[-1].split("[")[0] not in self.fields
            and issue.key != _key(self.path)
            and _direct_child(issue.key, self.path)
        ]
        show_problems(self.section_error, own + unknown)

    def field(self, name: str) -> FieldEditor:
        """The editor of one key."""
        return self.fields[name]


def _key(path: KeyPath) -> str:
    from agora.config.loader import dotted_key

    return dotted_key(path)


def _direct_child(key: str, path: KeyPath) -> bool:
    """True when ``key`` names a key right inside ``path`` (not deeper)."""
    base = _key(path)
    rest = key[len(base) :].lstrip(".") if base else key
    return bool(rest) and "." not in rest and "[" not in rest


def _help(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setStyleSheet(HELP_STYLE)
    font = label.font()
    font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
    label.setFont(font)
    label.setMinimumHeight(label.fontMetrics().lineSpacing())
    return label


def scrolled(widget: QWidget) -> QScrollArea:
    """``widget`` in a scroll area that fits its width."""
    area = QScrollArea()
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the fields, which scroll into view
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(widget)
    return area

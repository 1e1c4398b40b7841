"""The config being edited: one document shared by every form and the raw TOML tab.

:class:`ConfigModel` holds the file's text as a :class:`~agora.config.edit.ConfigDocument`.
Every change goes through it; after each change (debounced) the text is validated exactly as
``agora check`` validates the saved file (:func:`~agora.config.loader.check_config` with the
unsaved text), so the forms show the same messages next to the fields at fault. Saving is refused
while there is a problem, unless the caller insists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from agora.config.edit import ConfigDocument, EditError, save_text
from agora.config.loader import ConfigIssue, LoadedConfig, check_config, dotted_key
from agora.config.locate import KeyPath
from agora.console.fields import REMOVE

log = logging.getLogger("agora.console")

#: Milliseconds between the last change and its validation.
VALIDATE_DELAY_MS = 150


class SaveRefusedError(Exception):
    """The config has problems (or is unchanged) and was not saved."""


class ConfigModel(QObject):
    """The document, its validation and saving."""

    changed = Signal()
    """The text changed (forms update the fields they do not have focus in)."""
    validated = Signal()
    """:attr:`issues` and :attr:`loaded` describe the current text."""
    saved = Signal(str)
    """The file was written (the message says where the backup is)."""

    def __init__(self, path: Path | str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        text = self.path.read_text(encoding="utf-8").removeprefix("\ufeff")
        self.saved_text = text
        self.text = text
        self.doc = ConfigDocument(text) if _parses(text) else ConfigDocument("")
        self.syntax_ok = _parses(text)
        self.issues: list[ConfigIssue] = []
        self.loaded: LoadedConfig | None = None
        self.last_good: LoadedConfig | None = None
        """The newest config that validated (the preview and source tests use it)."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(VALIDATE_DELAY_MS)
        self._timer.timeout.connect(self.validate_now)
        self.validate_now()

    # -- state ------------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        """True when the text differs from the file as last read or saved."""
        return self.text != self.saved_text

    @property
    def valid(self) -> bool:
        """True when the current text validates without a problem."""
        return self.syntax_ok and self.loaded is not None and not self.issues

    def get(self, path: KeyPath, default: Any = None) -> Any:
        """The value written in this file at ``path``."""
        return self.doc.get(path, default)

    def effective(self, path: KeyPath) -> Any:
        """The value after ``extends`` merging in the last good config (``None`` if unknown)."""
        if self.last_good is None:
            return None
        node: Any = self.last_good.config.model_dump(mode="json")
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    # -- changing ---------------------------------------------------------------------------

    def _apply(self, change: Callable[[ConfigDocument], Any]) -> Any:
        if not self.syntax_ok:
            raise EditError("fix the TOML syntax in the Raw TOML tab first")
        result = change(self.doc)
        text = self.doc.text
        if text != self.text:
            self.text = text
            self.changed.emit()
            self._timer.start()
        return result

    def set(self, path: KeyPath, value: Any, *, inline: bool = False) -> None:
        """Write a value (``REMOVE`` takes the key out; ``inline``: a mapping as ``{ … }``)."""
        if value is REMOVE:
            self._apply(lambda doc: doc.remove(path))
        else:
            self._apply(lambda doc: doc.set(path, value, inline=inline))

    def remove(self, path: KeyPath) -> None:
        """Take a key (or list element) out."""
        self._apply(lambda doc: doc.remove(path))

    def append(self, path: KeyPath, value: Any) -> int:
        """Append to a list; returns the new element's index."""
        index: int = self._apply(lambda doc: doc.append(path, value))
        return index

    def move(self, path: KeyPath, index: int, to: int) -> None:
        """Move a list element."""
        self._apply(lambda doc: doc.move(path, index, to))

    def rename(self, path: KeyPath, new_key: str) -> None:
        """Give a table entry another key."""
        self._apply(lambda doc: doc.rename(path, new_key))

    def set_text(self, text: str) -> None:
        """Replace the whole text (the raw TOML tab)."""
        if text == self.text:
            return
        self.text = text
        if _parses(text):
            self.doc = ConfigDocument(text)
            self.syntax_ok = True
        else:
            self.syntax_ok = False
        self.changed.emit()
        self._timer.start()

    def reload(self) -> None:
        """Read the file again, dropping unsaved changes."""
        text = self.path.read_text(encoding="utf-8").removeprefix("\ufeff")
        self.saved_text = text
        self.set_text(text)
        self.validate_now()

    # -- validation -------------------------------------------------------------------------

    def validate_now(self) -> None:
        """Validate the current text now."""
        self._timer.stop()
        loaded, issues = check_config(self.path, self.text)
        self.loaded = loaded
        self.issues = issues
        if loaded is not None and not issues:
            self.last_good = loaded
        elif loaded is not None and self.last_good is None:
            self.last_good = loaded  # valid but for a missing file: good enough for a preview
        self.validated.emit()

    def issues_at(self, path: KeyPath, *, below: bool = True) -> list[ConfigIssue]:
        """Issues about ``path`` in this file (and, with ``below``, about keys under it)."""
        key = dotted_key(path)
        found = []
        for issue in self.issues:
            if issue.key == key or (
                below and (issue.key.startswith(key + ".") or issue.key.startswith(key + "["))
            ):
                found.append(issue)
        return found

    # -- saving -----------------------------------------------------------------------------

    def save(self, *, force: bool = False) -> Path:
        """Write the file atomically, keeping a backup. Refused while there is a problem unless
        ``force``. Returns the path written."""
        if self._timer.isActive():
            self.validate_now()
        if not force and not self.valid:
            count = len(self.issues) or 1
            raise SaveRefusedError(
                f"not saved: {count} problem{'s' if count != 1 else ''} to fix first"
            )
        written = save_text(self.path, self.text)
        self.saved_text = self.text
        self.saved.emit(f"saved {written} (the previous version is {written.name}.bak)")
        log.info("console: saved %s", written)
        return written


def _parses(text: str) -> bool:
    try:
        ConfigDocument(text)
    except EditError:
        return False
    return True

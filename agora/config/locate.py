"""Where each key of a TOML document is written: ``("screens", 0, "pages", 1) → line 42``.

:mod:`tomllib` parses a file but forgets positions. Error messages must name the line a key is on,
so this module walks the text once more with a small scanner that understands just enough TOML:
table headers (``[a.b]``, ``[[a]]``), dotted and quoted keys, strings of all four kinds, comments,
arrays and inline tables, including ones that span several lines. It runs only on text that
:mod:`tomllib` has already accepted and never raises: on anything it does not follow it stops and
returns what it has found so far.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

KeyPath = tuple[str | int, ...]


class _UnfollowedError(Exception):
    """The scanner reached something it does not follow."""


@dataclass(slots=True)
class _Scanner:
    text: str
    pos: int = 0
    line: int = 1
    lines: dict[KeyPath, int] = field(default_factory=dict)
    array_last: dict[KeyPath, int] = field(default_factory=dict)

    # -- characters -------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> str:
        index = self.pos + ahead
        return self.text[index] if index < len(self.text) else ""

    def advance(self, count: int = 1) -> None:
        for _ in range(count):
            if self.pos < len(self.text):
                if self.text[self.pos] == "\n":
                    self.line += 1
                self.pos += 1

    def skip_blank(self, newlines: bool) -> None:
        """Skip spaces, tabs, comments and (when ``newlines``) line breaks."""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in " \t\r" or (newlines and char == "\n"):
                self.advance()
            elif char == "#":
                while self.pos < len(self.text) and self.text[self.pos] != "\n":
                    self.pos += 1
            else:
                return

    # -- pieces -----------------------------------------------------------------------------

    def string(self) -> str:
        """A basic, literal or multi-line string at the cursor; returns its (rough) value."""
        quote = self.peek()
        if self.text.startswith(quote * 3, self.pos):
            self.advance(3)
            end = self.text.find(quote * 3, self.pos)
            while end != -1 and quote == '"' and _escaped(self.text, end):
                end = self.text.find(quote * 3, end + 1)
            if end == -1:
                raise _UnfollowedError
            # a multi-line string may end with up to two extra quotes
            while self.text.startswith(quote * 4, end):
                end += 1
            value = self.text[self.pos : end]
            self.advance(end + 3 - self.pos)
            return value
        self.advance()
        start = self.pos
        while True:
            char = self.peek()
            if char in ("", "\n"):
                raise _UnfollowedError
            if char == "\\" and quote == '"':
                self.advance(2)
                continue
            if char == quote:
                value = self.text[start : self.pos]
                self.advance()
                return value
            self.advance()

    def key(self) -> list[str]:
        """A possibly dotted, possibly quoted key."""
        parts: list[str] = []
        while True:
            self.skip_blank(newlines=False)
            char = self.peek()
            if char in ('"', "'"):
                parts.append(self.string())
            else:
                start = self.pos
                while self.peek() and (self.peek().isalnum() or self.peek() in "_-"):
                    self.advance()
                if self.pos == start:
                    raise _UnfollowedError
                parts.append(self.text[start : self.pos])
            self.skip_blank(newlines=False)
            if self.peek() != ".":
                return parts
            self.advance()

    def value(self, path: KeyPath) -> None:
        """Skip a value, recording the lines of the arrays' elements and inline tables' keys."""
        self.skip_blank(newlines=False)
        char = self.peek()
        self.lines.setdefault(path, self.line)
        if char in ('"', "'"):
            self.string()
        elif char == "[":
            self.advance()
            index = 0
            while True:
                self.skip_blank(newlines=True)
                if self.peek() == "]":
                    self.advance()
                    return
                if not self.peek():
                    raise _UnfollowedError
                self.value((*path, index))
                index += 1
                self.skip_blank(newlines=True)
                if self.peek() == ",":
                    self.advance()
        elif char == "{":
            self.advance()
            while True:
                self.skip_blank(newlines=True)
                if self.peek() == "}":
                    self.advance()
                    return
                if not self.peek():
                    raise _UnfollowedError
                line = self.line
                parts = self.key()
                for depth in range(1, len(parts) + 1):
                    self.lines.setdefault((*path, *parts[:depth]), line)
                if self.peek() != "=":
                    raise _UnfollowedError
                self.advance()
                self.value((*path, *parts))
                self.skip_blank(newlines=True)
                if self.peek() == ",":
                    self.advance()
        else:
            # numbers, booleans, dates: up to the next delimiter
            while self.peek() and self.peek() not in ",]}\n#":
                self.advance()

    def concrete(self, parts: list[str]) -> KeyPath:
        """A header's path with the current index of every array of tables on the way."""
        path: KeyPath = ()
        for part in parts:
            path = (*path, part)
            if path in self.array_last:
                path = (*path, self.array_last[path])
        return path

    def document(self) -> None:
        table: KeyPath = ()
        while True:
            self.skip_blank(newlines=True)
            if not self.peek():
                return
            line = self.line
            if self.peek() == "[":
                array = self.peek(1) == "["
                self.advance(2 if array else 1)
                parts = self.key()
                self.advance(2 if array else 1)
                if array:
                    parent = self.concrete(parts[:-1])
                    base = (*parent, parts[-1])
                    index = self.array_last.get(base, -1) + 1
                    self.array_last[base] = index
                    self.lines.setdefault(base, line)
                    table = (*base, index)
                else:
                    table = self.concrete(parts)
                for depth in range(1, len(table) + 1):
                    self.lines.setdefault(table[:depth], line)
                continue
            parts = self.key()
            for depth in range(1, len(parts) + 1):
                self.lines.setdefault((*table, *parts[:depth]), line)
            if self.peek() != "=":
                raise _UnfollowedError
            self.advance()
            self.value((*table, *parts))


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and text[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def key_lines(text: str) -> dict[KeyPath, int]:
    """Line (from 1) of every key, table, array element and inline-table key found in ``text``."""
    scanner = _Scanner(text)
    with contextlib.suppress(_UnfollowedError, IndexError):
        scanner.document()
    return scanner.lines


def line_of(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of ``path`` or, failing that, of its nearest written ancestor."""
    for depth in range(len(path), 0, -1):
        found = lines.get(path[:depth])
        if found is not None:
            return found
    return None

"""Editing a wall's TOML file in place: load → change some keys → dump, keeping everything else.

The operator console changes one value at a time. :class:`ConfigDocument` wraps a :mod:`tomlkit`
document so that a change touches only the lines it must: comments, blank lines, key order,
quoting and the layout of arrays stay as the person who wrote the file left them. New keys go
after the last key of their table (not after the comments that introduce the next section), new
sections go where the schema's order puts them, and an inline table (a panel) that changes is
written again in the file's ``{ key = value, … }`` style.

Values change through tomlkit's public API. A change that adds, removes, moves or renames a table
is made on the text and the document is parsed again: tomlkit keeps the comment and blank lines
written above a header inside the table before it, and its API cannot list or move them. Where
they go is explained at "Where the comments go" below.

:func:`save_text` writes atomically (a temporary file in the same directory, then
:func:`os.replace`) and keeps the previous version as ``<name>.bak``.

Qt-free: the console's forms call this module; it is tested on its own.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Array, InlineTable, Item, Table
from tomlkit.toml_document import TOMLDocument

from agora.config.locate import KeyPath

#: Top-level sections in the order the schema declares them: a new section goes where it belongs.
SECTION_ORDER = (
    "extends",
    "wall",
    "topics",
    "sources",
    "moderation",
    "analytics",
    "store",
    "screens",
)

#: Suffix of the backup of the previous version written by :func:`save_text`.
BACKUP_SUFFIX = ".bak"


class EditError(ValueError):
    """A change that cannot be made (the path does not lead anywhere, the text is not TOML)."""


_MISSING = object()


def plain(value: Any) -> Any:
    """A tomlkit item (or anything) as plain Python: dicts, lists, str, int, float, bool."""
    if isinstance(value, Item | TOMLDocument):
        return value.unwrap()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _parse(text: str) -> TOMLDocument:
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise EditError(f"not valid TOML: {exc}") from None
    except (ValueError, TypeError) as exc:  # tomlkit raises a few plain errors too
        raise EditError(f"not valid TOML: {exc}") from None


def _inline(mapping: Mapping[str, Any]) -> InlineTable:
    """``{ key = value, … }`` with a space inside the braces and after each comma."""
    if not mapping:
        return tomlkit.inline_table()
    parts = [f"{_key_text(k)} = {_value_item(v).as_string()}" for k, v in mapping.items()]
    parsed = tomlkit.parse(f"x = {{ {', '.join(parts)} }}")["x"]
    assert isinstance(parsed, InlineTable)
    return parsed


def _key_text(key: str) -> str:
    return tomlkit.key(key).as_string()


def _value_item(value: Any, like: Item | None = None) -> Item:
    """A tomlkit item for a plain value; arrays keep the multi-line layout of ``like``."""
    if isinstance(value, Mapping):
        return _inline(value)
    if isinstance(value, list | tuple):
        array = tomlkit.array()
        for element in value:
            array.append(_value_item(element))
        if (isinstance(like, Array) and "\n" in like.as_string()) or (
            like is None and len(value) > 1 and all(isinstance(v, Mapping) for v in value)
        ):
            array.multiline(True)
        return array
    item: Item = tomlkit.item(value)
    if isinstance(like, Item) and type(like) is type(item):
        # a trailing comment on the line stays with the new value
        item.trivia.comment_ws = like.trivia.comment_ws
        item.trivia.comment = like.trivia.comment
    return item


class ConfigDocument:
    """A config file's text as an editable document. Paths are key paths as in
    :mod:`agora.config.locate`: ``("screens", 0, "pages", 1, "grid")``."""

    def __init__(self, text: str) -> None:
        self._doc: TOMLDocument = _parse(text)

    @classmethod
    def read(cls, path: Path | str) -> ConfigDocument:
        """The document of a file (UTF-8; a byte-order mark is dropped)."""
        text = Path(path).read_text(encoding="utf-8").removeprefix("\ufeff")
        return cls(text)

    # -- reading ----------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The document as TOML text."""
        return tomlkit.dumps(self._doc)

    def data(self) -> dict[str, Any]:
        """The whole document as plain Python."""
        unwrapped: dict[str, Any] = self._doc.unwrap()
        return unwrapped

    def _node(self, path: KeyPath) -> Any:
        node: Any = self._doc
        for part in path:
            try:
                if isinstance(part, int):
                    if not isinstance(node, AoT | Array | list):
                        return _MISSING
                    node = node[part]
                else:
                    if not isinstance(node, TOMLDocument | Table | InlineTable | dict):
                        return _MISSING
                    if part not in node:
                        return _MISSING
                    node = node[part]
            except (IndexError, KeyError):
                return _MISSING
        return node

    def get(self, path: KeyPath, default: Any = None) -> Any:
        """The plain value at ``path``, or ``default`` when it is not written."""
        node = self._node(path)
        return default if node is _MISSING else plain(node)

    def length(self, path: KeyPath) -> int:
        """Number of elements of the array (or entries of the table) at ``path``; 0 if absent."""
        node = self._node(path)
        if node is _MISSING:
            return 0
        return len(node)

    # -- changing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _change(self) -> Iterator[None]:
        """A change that fails half-way leaves the document as it was."""
        before = self._doc.as_string()
        try:
            yield
        except BaseException:
            self._doc = _parse(before)
            raise

    def set(self, path: KeyPath, value: Any, *, inline: bool = False) -> bool:
        """Write ``value`` at ``path`` (creating the tables on the way). Returns False when the
        file already says exactly that (nothing is touched then). A new mapping becomes a
        ``[table]`` unless ``inline`` (then ``key = { … }``, as for a lexicon)."""
        if not path:
            raise EditError("cannot replace the whole document")
        value = plain(value)
        current = self._node(path)
        if (
            current is not _MISSING
            and plain(current) == value
            and type(plain(current)) is type(value)
        ):
            return False
        with self._change():
            self._set(path, value, current, inline=inline)
        return True

    def _set(self, path: KeyPath, value: Any, current: Any, *, inline: bool) -> None:
        inline_at = self._inline_owner(path)
        if inline_at is not None:
            self._rewrite_inline(path, inline_at, value)
            return
        parent = self._ensure_parent(path[:-1])
        key = path[-1]
        if isinstance(key, int):
            if not isinstance(parent, AoT | Array):
                raise EditError(f"{_show(path[:-1])} is not a list")
            if not 0 <= key < len(parent):
                raise EditError(f"{_show(path)}: no element {key}")
            old = parent[key]
            if isinstance(parent, AoT) and isinstance(value, Mapping):
                # a [[table]] changes key by key, so its comments and the lines after it stay
                self._set_table_keys(path, old, value)
            elif isinstance(parent, AoT):
                parent[key] = self._table(value)
            else:
                parent[key] = _value_item(value, old if isinstance(old, Item) else None)
            return
        if (
            isinstance(value, Mapping)
            and not isinstance(current, InlineTable)
            and not (inline and not isinstance(current, Table))
        ):
            # a table written as [a.b]: change it key by key, so its comments stay
            if not isinstance(current, Table):
                self._insert_key(path[:-1], key, self._table({}))
                current = self._node(path)
            self._set_table_keys(path, current, value)
            return
        tables = isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value)
        if tables and (
            isinstance(current, AoT)
            or (
                current is _MISSING
                and not isinstance(parent, InlineTable)
                and not _inline_context(path)
            )
        ):
            # arrays of tables ([[sources]]): replace element by element
            for index, element in enumerate(value):
                if index < self.length(path):
                    self.set((*path, index), element)
                else:
                    self.append(path, element)
            while self.length(path) > len(value):
                self.remove((*path, self.length(path) - 1))
            return
        if (
            isinstance(current, Array)
            and isinstance(value, list)
            and not any(isinstance(v, Mapping | list) for v in value)
        ):
            _edit_array(current, value)  # element by element: comments and layout stay
            return
        item = _value_item(value, current if isinstance(current, Item) else None)
        if current is _MISSING:
            self._insert_key(path[:-1], key, item)
            return
        parent[key] = item
        if isinstance(current, Table | AoT):
            # a table that became a value moved among the plain keys: read it as it now reads
            self._doc = _parse(self._doc.as_string())

    def _set_table_keys(self, path: KeyPath, table: Table, value: Mapping[str, Any]) -> None:
        for sub_key in [k for k in plain(table) if k not in value]:
            del table[sub_key]
        for sub_key, sub_value in value.items():
            self.set((*path, sub_key), sub_value)

    def remove(self, path: KeyPath) -> bool:
        """Remove the key or element at ``path``; False when it was not written."""
        if not path or self._node(path) is _MISSING:
            return False
        with self._change():
            self._remove(path)
        return True

    def _remove(self, path: KeyPath) -> None:
        inline_at = self._inline_owner(path)
        if inline_at is not None:
            owner = self.get(inline_at)
            inner = path[len(inline_at) :]
            if len(inner) == 1 and isinstance(owner, dict):
                owner.pop(str(inner[0]), None)
                self._replace_inline(inline_at, owner)
                return
            if isinstance(owner, dict | list):
                _drop(owner, inner)
                self._replace_inline(inline_at, owner)
                return
        parent = self._node(path[:-1])
        key = path[-1]
        if isinstance(parent, AoT) and isinstance(key, int):
            self._remove_table(path[:-1], key)
            return
        del parent[key]
        self._drop_if_empty(path[:-1])

    def _drop_if_empty(self, path: KeyPath) -> None:
        """A section left without keys goes too (the console made it, most likely), unless
        comments right under its header (commented-out keys) keep it; ``[topics]`` left without
        a ``[topics.<key>]`` goes as well (it prints nothing)."""
        table = self._node(path)
        if not path or isinstance(path[-1], int) or not isinstance(table, Table) or len(table):
            return
        if table.is_super_table():
            del self._node(path[:-1])[path[-1]]
        else:
            expected = self._expected(path[:-1], lambda parent: parent.pop(path[-1]))
            layout = _Layout(self._doc)
            start = layout.start(table)
            after = layout.after_values(table)  # it has no values: after its header line
            text, at = layout.render()
            end = _gap_end(text, at[after])
            gap = text[at[after] : end]
            if _has_comment(gap[: _first_blank_line(gap)]):
                return
            # its header goes; the comments below it stay (with one blank line above them)
            head = text[: at[start]]
            if _ends_with_blank_line(head):
                gap = gap[_blank_lines(gap) :]
            self._commit(head + gap + text[end:], expected)
        self._drop_if_empty(path[:-1])

    def append(self, path: KeyPath, value: Any) -> int:
        """Append ``value`` to the array (or array of tables) at ``path``, creating it when
        absent. Returns the new element's index."""
        value = plain(value)
        with self._change():
            return self._append(path, value)

    def _append(self, path: KeyPath, value: Any) -> int:
        node = self._node(path)
        inline_at = self._inline_owner((*path, 0))
        if inline_at is not None and inline_at != (*path, 0):
            owner = self.get(inline_at)
            inner = path[len(inline_at) :]
            holder = _dig(owner, inner[:-1])
            if isinstance(holder, dict) and inner[-1] not in holder:
                holder[inner[-1]] = []  # a list the inline table does not have yet
            listed = _dig(owner, inner)
            if not isinstance(listed, list):
                raise EditError(f"{_show(path)} is not a list")
            listed.append(value)
            self._replace_inline(inline_at, owner)
            return len(listed) - 1
        if (
            isinstance(node, Array)
            and not len(node)
            and isinstance(value, Mapping)
            and not _inline_context(path)
        ):
            # ``screens = []`` (the last screen was removed): the list is written anew as tables
            del self._node(path[:-1])[path[-1]]
            node = _MISSING
        if node is _MISSING:
            self._ensure_parent(path[:-1])
            created: Item
            if isinstance(value, Mapping) and not _inline_context(path):
                created = tomlkit.aot()
                created.append(self._table(value))
            else:
                created = tomlkit.array()
                if isinstance(value, Mapping):
                    created.multiline(True)
                created.append(_value_item(value))
            self._insert_key(path[:-1], path[-1], created)
            return 0
        if isinstance(node, AoT):
            index = len(node)
            self._add_table(path, index, self._table(value))
            return index
        if isinstance(node, Array):
            node.append(_value_item(value))
            return len(node) - 1
        raise EditError(f"{_show(path)} is not a list")

    def move(self, path: KeyPath, index: int, to: int) -> bool:
        """Move element ``index`` of the list at ``path`` to position ``to``."""
        node = self._node(path)
        if not isinstance(node, AoT | Array) or not (0 <= index < len(node)):
            return False
        to = max(0, min(to, len(node) - 1))
        if to == index:
            return False
        with self._change():
            if isinstance(node, AoT):
                self._move_tables(path, index, to)
            else:
                values = plain(node)
                values.insert(to, values.pop(index))
                for position in range(min(index, to), max(index, to) + 1):
                    self.set((*path, position), values[position])
        return True

    def rename(self, path: KeyPath, new_key: str) -> bool:
        """Give the table entry at ``path`` another key (a topic key), in the same place."""
        node = self._node(path)
        old_key = path[-1] if path else None
        if node is _MISSING or not isinstance(old_key, str) or new_key == old_key:
            return False
        if self._node((*path[:-1], new_key)) is not _MISSING:
            raise EditError(f"{_show((*path[:-1], new_key))} exists already")
        inline_at = self._inline_owner(path)
        parent = self._node(path[:-1])
        with self._change():
            if inline_at is not None or isinstance(parent, InlineTable):
                owner_path = inline_at if inline_at is not None else path[:-1]
                owner = self.get(owner_path)
                container = _dig(owner, path[len(owner_path) : -1])
                renamed = {(new_key if k == old_key else k): v for k, v in container.items()}
                container.clear()
                container.update(renamed)
                self._replace_inline(owner_path, owner)
            elif isinstance(parent, Table | TOMLDocument):
                self._rename_key(path, new_key)
            else:
                raise EditError(f"{_show(path[:-1])} is not a table")
        return True

    # -- internals --------------------------------------------------------------------------

    def _inline_owner(self, path: KeyPath) -> KeyPath | None:
        """The path of the outermost inline table (or inline array) that holds ``path``."""
        node: Any = self._doc
        for depth, part in enumerate(path[:-1]):
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
            if isinstance(node, InlineTable):
                return path[: depth + 1]
            if isinstance(node, Array) and not isinstance(node, AoT):
                # an element of a plain array: the array itself is rewritten element-wise
                return path[: depth + 2] if depth + 1 < len(path) - 1 else None
        return None

    def _rewrite_inline(self, path: KeyPath, owner_path: KeyPath, value: Any) -> None:
        owner = self.get(owner_path)
        inner = path[len(owner_path) :]
        _assign(owner, inner, value)
        self._replace_inline(owner_path, owner)

    def _replace_inline(self, owner_path: KeyPath, value: Any) -> None:
        parent = self._node(owner_path[:-1])
        key = owner_path[-1]
        old = self._node(owner_path)
        if isinstance(value, Mapping):
            new: Item = _inline(value)
            if isinstance(old, InlineTable):
                new.trivia.comment_ws = old.trivia.comment_ws
                new.trivia.comment = old.trivia.comment
        else:
            new = _value_item(value, old if isinstance(old, Item) else None)
        parent[key] = new

    def _table(self, value: Mapping[str, Any]) -> Table:
        table = tomlkit.table()
        for key, sub in value.items():
            if isinstance(sub, Mapping):
                table.append(key, _inline(sub))
            else:
                table.append(key, _value_item(sub))
        return table

    def _ensure_parent(self, path: KeyPath) -> Any:
        """The table at ``path``, created (as ``[a.b]`` tables) when missing."""
        node: Any = self._doc
        for depth, part in enumerate(path):
            if isinstance(part, int):
                if not isinstance(node, AoT | Array) or not 0 <= part < len(node):
                    raise EditError(f"{_show(path[: depth + 1])}: no such element")
                node = node[part]
                continue
            if part not in node:
                if isinstance(node, InlineTable):
                    node[part] = tomlkit.inline_table()
                else:
                    # the missing tables are added at once: [topics] alone, which only holds
                    # [topics.<key>] tables, has no header and would print nothing
                    self._insert_key(path[:depth], part, _chain(path[depth:]))
                    return self._node(path)
            node = node[part]
        return node

    def _commit(self, text: str, expected: dict[str, Any]) -> None:
        """Take ``text`` as the document, once sure it reads as ``expected``: a change made on
        the text never alters anything else, or it is refused."""
        document = _parse(text)
        if plain(document) != expected:
            raise EditError("this change cannot be made in this file's layout")
        self._doc = document

    def _expected(self, path: KeyPath, change: Callable[[Any], None]) -> dict[str, Any]:
        """The document's data with ``change`` made to the table or list at ``path``."""
        data = self.data()
        change(_dig(data, path))
        return data

    def _insert_key(self, parent_path: KeyPath, key: str | int, item: Item) -> None:
        """Add ``key`` to the table at ``parent_path``: after its last plain key, or for a table,
        after its last table (for a new top-level section, where :data:`SECTION_ORDER` puts
        it)."""
        if isinstance(key, int):
            raise EditError("cannot create a list element by index")
        parent = self._node(parent_path)
        if isinstance(parent, InlineTable):
            parent[key] = item
        elif isinstance(parent, Table | TOMLDocument) and isinstance(item, Table | AoT):
            self._add_table(parent_path, key, item)
        elif isinstance(parent, Table | TOMLDocument):
            self._add_key(parent_path, key, item)
        else:
            raise EditError(f"cannot add {key!r} here")

    # -- tables that come, go, move and change their key (see "Where the comments go") ---------

    def _add_key(self, parent_path: KeyPath, key: str, item: Item) -> None:
        """A new plain key, on the line after the last plain key of its table (before the
        comments that close the table and before its sub-tables)."""
        parent = self._node(parent_path)
        if isinstance(parent, Table) and parent.is_super_table() and _last_value(parent) is None:
            # [a] of [a.b] prints no header of its own: tomlkit gives it one, above [a.b]
            parent.append(key, item)
            self._doc = _parse(self._doc.as_string())
            return
        expected = self._expected(parent_path, lambda table: table.update({key: plain(item)}))
        layout = _Layout(self._doc)
        after = layout.after_values(parent)
        text, at = layout.render()
        position = at[after]
        line = _on_new_line(_alone(key, item))  # an inline table parsed alone has no newline
        self._commit(_on_new_line(text[:position]) + line + text[position:], expected)

    def _add_table(self, parent_path: KeyPath, key: str | int, item: Table | AoT) -> None:
        """Add a table (``key`` a string), a chain of tables (``[a.b]`` with a new ``a``), an array
        of tables with its first element, or an element to the array of tables at
        ``parent_path`` (``key`` its new index). Sub-tables and elements go after the last table
        of their parent; a new top-level section goes where :data:`SECTION_ORDER` puts it."""
        doc = self._doc
        parent = self._node(parent_path)
        if isinstance(parent, AoT):
            expected = self._expected(parent_path, lambda tables: tables.append(plain(item)))
        else:
            expected = self._expected(parent_path, lambda table: table.update({key: plain(item)}))
        layout = _Layout(doc)
        follows: Table | None = None  # the table it comes after: its gap is shared out
        before_section: str | None = None  # the section it is put in before
        if isinstance(parent, AoT):
            follows = _last_table(parent[len(parent) - 1])
        elif isinstance(item, Table) and not item.is_super_table():
            if parent is doc:
                before_section = _following_section(doc, str(key))
                follows = _section_before(doc, before_section)
            elif len(parent):
                follows = _last_table(parent)
        elif parent is doc:
            before_section = _following_section(doc, str(key))
        after_follows = layout.after_values(follows) if follows is not None else None
        empty_parent = None
        if isinstance(parent, Table) and not len(parent):
            empty_parent = layout.after_values(parent)
        if before_section is not None:
            # tomlkit cannot put a key at a place of one's choosing: the section is written on
            # its own and put in before the header of the section that follows it
            following = doc.item(before_section)
            if not isinstance(following, Item):  # a table written in parts around the file
                raise EditError(f"cannot add [{key}] before {before_section}, written in parts")
            start = layout.start(following)
            text, at = layout.render()
            position = at[start]
            new = _alone(str(key), item)
            spaced = False
        else:
            # tomlkit writes the new table where it goes (its header written in full), and it
            # is cut out of the text to be put in again with the blank lines the rules say
            if isinstance(parent, AoT):
                parent.append(item)
                spaced = False  # the elements of a list of tables follow each other closely
            else:
                parent.append(key, item)
                spaced = isinstance(item, Table)
            first = _unindent(item)
            start = layout.start(first)
            end = layout.after_values(_last_table(first))
            text, at = layout.render()
            position = at[start]
            new = text[position : at[end]]
            text = text[:position] + text[at[end] :]
            if empty_parent is not None and at[empty_parent] == position:
                spaced = False  # the first thing in its table: right under the header
        if after_follows is not None:
            cut = at[after_follows]
            above, below = _share_gap(text[cut:position])
            head = text[:cut] + above
        else:
            head, below = text[:position], "\n"
        if spaced and head and not _ends_with_blank_line(head):
            head += "\n"
        self._commit(_on_new_line(head) + new + below + text[position:], expected)

    def _remove_table(self, path: KeyPath, index: int) -> None:
        """Remove element ``index`` of the array of tables at ``path``: its keys (and the
        comments among them) go; of the gaps above and below it, what has a comment stays."""
        tables = self._node(path)
        count = len(tables)
        if count == 1:  # the list goes first, and comes back empty below
            expected = self._expected(path[:-1], lambda table: table.pop(path[-1]))
        else:
            expected = self._expected(path, lambda elements: elements.pop(index))
        layout = _Layout(self._doc)
        start = layout.start(tables[index])
        after = layout.after_values(_last_table(tables[index]))
        above = layout.after_values(_last_table(tables[index - 1])) if index else None
        below = layout.start(tables[index + 1]) if index + 1 < count else None
        text, at = layout.render()
        end = at[below] if below is not None else _gap_end(text, at[after])
        gap_below = text[at[after] : end]
        if above is not None and below is None:
            # the last one: the gap above it stays if it has a comment, then the gap below it
            # (which closes the list) with one blank line where the two meet
            cut = at[above]
            gap_above = text[cut : at[start]]
            kept = gap_above if _has_comment(gap_above) else ""
            if kept:
                gap_below = gap_below[_blank_lines(gap_below) :]
        else:
            # the gap above stays as it is; the one below if it has a comment (with one blank
            # line where the two meet)
            cut, kept = at[start], ""
            if not _has_comment(gap_below):
                gap_below = ""
            elif _ends_with_blank_line(text[:cut]):
                gap_below = gap_below[_blank_lines(gap_below) :]
        self._commit(text[:cut] + kept + gap_below + text[end:], expected)
        if count == 1:
            # the list stays, written empty with the plain keys of its table (as tomlkit does)
            self._add_key(path[:-1], str(path[-1]), tomlkit.array())

    def _move_tables(self, path: KeyPath, index: int, to: int) -> None:
        """Move element ``index`` of the array of tables at ``path`` to ``to``: each table moves
        with the comments among its keys; the gaps between the tables stay where they are."""
        tables = self._node(path)
        count = len(tables)
        expected = self._expected(path, lambda elements: elements.insert(to, elements.pop(index)))
        layout = _Layout(self._doc)
        starts = [layout.start(tables[p]) for p in range(count)]
        ends = [layout.after_values(_last_table(tables[p])) for p in range(count)]
        text, at = layout.render()
        last_end = _gap_end(text, at[ends[-1]])
        bounds = [at[s] for s in starts[1:]] + [last_end]
        bodies = [text[at[starts[p]] : at[ends[p]]] for p in range(count)]
        gaps = [text[at[ends[p]] : bounds[p]] for p in range(count)]
        order = list(range(count))
        order.insert(to, order.pop(index))
        out = text[: at[starts[0]]]
        for position, source in enumerate(order):
            out = _on_new_line(out) + bodies[source] + gaps[position]
        self._commit(out + text[last_end:], expected)

    def _rename_key(self, path: KeyPath, new_key: str) -> None:
        """Write the key of the table, array of tables or value at ``path`` anew, in its place."""
        node = self._node(path)
        expected = self._expected(
            path[:-1], lambda table: table.update({new_key: table.pop(path[-1])})
        )
        layout = _Layout(self._doc)
        if isinstance(node, Table | AoT):
            elements = list(node) if isinstance(node, AoT) else [node]
            if any(_first_header(t) is not t for t in elements):
                raise EditError(f"{_show(path)}: a table without a header of its own")
            bracket = "[[" if isinstance(node, AoT) else "["
            header = bracket + _header_key((*path[:-1], new_key)) + bracket.replace("[", "]")
            indents = [len(t.trivia.indent) for t in elements]
            places = [
                (layout.start(t), indent, layout.header_end(t))
                for t, indent in zip(elements, indents, strict=True)
            ]
            text, at = layout.render()
            for start, indent, end in reversed(places):
                text = text[: at[start] + indent] + header + text[at[end] :]
        else:
            parent = self._node(path[:-1])
            item = parent.item(path[-1])
            indent = len(item.trivia.indent)
            start = layout.start(item)
            text, at = layout.render()
            begin = at[start] + indent
            match = _KEY.match(text, begin)
            if match is None:
                raise EditError(f"{_show(path)}: its key is not where it should be")
            text = text[:begin] + _key_text(new_key) + text[match.end() :]
        self._commit(text, expected)


# ---------------------------------------------------------------------------------------------
# Where the comments go
#
# The comment and blank lines between the last key of a table and the next header (the table's
# "gap") are about what follows them: a divider, a note on the next table. tomlkit's parser keeps
# them inside the table above, and its public API can neither list nor move a line that has no
# key. So tables are added, removed, moved and renamed on the text, and the document is parsed
# again. The places that matter are found by rendering the document with markers written into
# public ``Item.trivia`` fields (a table's ``indent`` is printed before its header, an item's
# ``trail`` after its line, a header's ``comment_ws`` after its ``]``), see :class:`_Layout`.
#
# * A new table goes after the last table before it, between the first blank lines of that
#   table's gap and its comments: the comments go on introducing what follows.
# * A table that moves takes its keys and the comments among them; the gaps stay in place.
# * A table that goes takes its keys and the comments among them; the comments of the gaps
#   above and below it stay (with one blank line where the two meet): none is lost.
# * A section left without keys goes (the comments below its header stay), unless comments right
#   under its header, commented-out keys most likely, keep it.
# * A header always starts a line, also after a file whose last line has no newline.
# * The new text must read as the document with that one change, or the change is refused.

_MARKER = re.compile("\x00[0-9]+\x00")
"""A place marker. NUL cannot appear in a TOML document, so a marker is never part of the text."""

_KEY = re.compile(r"""[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*'""")
"""A key as written in TOML: bare or quoted."""


class _Layout:
    """Places in the document's text. Each method puts a marker into the trivia of an item and
    names it; :meth:`render` writes the document, takes the markers out again (and puts the
    trivia back as they were) and says where each one was."""

    def __init__(self, doc: TOMLDocument) -> None:
        self._doc = doc
        self._changes: list[tuple[Any, str, str]] = []
        self._shift: dict[str, int] = {}
        self._at_start: list[str] = []

    def _mark(self, item: Item, field: str, *, after: bool = False) -> str:
        # always written before the field's text: after a newline, a marker would make tomlkit
        # think a line is unfinished (it then adds a newline before the next header)
        marker = f"\x00{len(self._changes) + len(self._at_start)}\x00"
        trivia = item.trivia
        old = getattr(trivia, field)
        self._changes.append((trivia, field, old))
        setattr(trivia, field, marker + old)
        self._shift[marker] = len(old) if after else 0
        return marker

    def start(self, item: Item) -> str:
        """Where ``item`` starts: the header of a table (its first table's when it prints none),
        the first table of an array of tables, the line of a value."""
        if isinstance(item, AoT):
            item = item[0]
        if isinstance(item, Table):
            item = _first_header(item)
        return self._mark(item, "indent")

    def header_end(self, table: Table) -> str:
        """Right after the ``]`` of the header of ``table``."""
        return self._mark(table, "comment_ws")

    def after_values(self, container: Table | TOMLDocument) -> str:
        """After the line of the last plain value of ``container``; after its header line when
        it has none (the start of the text for a document)."""
        last = _last_value(container)
        if last is not None:
            return self._mark(last, "trail", after=True)
        if isinstance(container, Table):
            return self._mark(container, "trail", after=True)
        marker = f"\x00{len(self._changes) + len(self._at_start)}\x00"
        self._at_start.append(marker)
        return marker

    def render(self) -> tuple[str, dict[str, int]]:
        """The document's text, and where each marker was in it."""
        try:
            rendered = self._doc.as_string()
        finally:
            for trivia, field, old in reversed(self._changes):
                setattr(trivia, field, old)
        at = dict.fromkeys(self._at_start, 0)
        parts: list[str] = []
        length = done = 0
        for match in _MARKER.finditer(rendered):
            parts.append(rendered[done : match.start()])
            length += match.start() - done
            at[match.group()] = length + self._shift[match.group()]
            done = match.end()
        parts.append(rendered[done:])
        if len(at) != len(self._changes) + len(self._at_start):
            raise EditError("this change cannot be made in this file's layout")
        return "".join(parts), at


def _last_value(container: Table | TOMLDocument) -> Item | None:
    """The last plain value (not a table) of ``container``."""
    last = None
    for key in container:
        item = container.item(key)
        if isinstance(item, Item) and not isinstance(item, Table | AoT):
            last = item
    return last


def _last_table(table: Table) -> Table:
    """The table printed last inside ``table``, whose gap closes it: its last sub-table (or
    the last table of its last array of tables), all the way down, or ``table`` itself."""
    keys = list(table)
    if keys:
        last = table.item(keys[-1])
        if isinstance(last, Table):
            return _last_table(last)
        if isinstance(last, AoT) and len(last):
            return _last_table(last[len(last) - 1])
    return table


def _first_header(table: Table) -> Table:
    """``table``, or when it prints no header (``[a]`` of ``[a.b]``), the first table under it."""
    while table.is_super_table() and len(table) and _last_value(table) is None:
        child = table.item(next(iter(table)))
        if isinstance(child, AoT):
            child = child[0]
        if not isinstance(child, Table):
            break
        table = child
    return table


def _unindent(item: Table | AoT) -> Table:
    """The first table of the new ``item`` that prints a header, with the indentation tomlkit
    gave the new tables taken away (the rules decide the blank lines above them)."""
    table = item[0] if isinstance(item, AoT) else item
    table.trivia.indent = ""
    while table.is_super_table() and len(table):
        child = table.item(next(iter(table)))
        child = child[0] if isinstance(child, AoT) else child
        if not isinstance(child, Table):
            break
        table = child
        table.trivia.indent = ""
    return table


def _chain(parts: KeyPath) -> Table:
    """New empty tables for ``parts`` (``("topics", "x")``: ``[topics.x]``), each inside the one
    before; all but the last are only the way to it (they print no header)."""
    if any(isinstance(part, int) for part in parts):
        raise EditError(f"{_show(parts)}: no such element")
    tables = [tomlkit.table(is_super_table=depth + 1 < len(parts)) for depth in range(len(parts))]
    for outer, inner, name in zip(tables, tables[1:], parts[1:], strict=False):
        outer.append(str(name), inner)
    return tables[0]


def _following_section(doc: TOMLDocument, key: str) -> str | None:
    """The first top-level table that :data:`SECTION_ORDER` puts after ``key`` (plain values,
    ``screens = []`` too, are written above every table: a table never goes before them)."""
    rank = SECTION_ORDER.index(key) if key in SECTION_ORDER else len(SECTION_ORDER)
    for name in doc:
        if (
            name in SECTION_ORDER
            and SECTION_ORDER.index(name) > rank
            and isinstance(doc.item(name), Table | AoT)
        ):
            return name
    return None


def _section_before(doc: TOMLDocument, following: str | None) -> Table | None:
    """The table printed last before the top-level key ``following`` (before the end)."""
    keys = list(doc)
    if following is not None:
        keys = keys[: keys.index(following)]
    last = doc.item(keys[-1]) if keys else None
    if isinstance(last, AoT) and len(last):
        return _last_table(last[len(last) - 1])
    if isinstance(last, Table):
        return _last_table(last)
    return None


def _alone(key: str, item: Item) -> str:
    """What tomlkit writes for ``key`` and ``item`` at the top of an empty document."""
    scratch = tomlkit.document()
    scratch.append(key, item)
    return scratch.as_string()


def _header_key(path: KeyPath) -> str:
    return ".".join(_key_text(part) for part in path if isinstance(part, str))


def _share_gap(gap: str) -> tuple[str, str]:
    """The lines above and below a new table put into ``gap``, the gap of the table before it:
    its blank lines stay above and its comments go below; a gap without a comment stays above
    with one blank line below; no gap at all becomes a blank line above."""
    if not gap:
        return "\n", ""
    if not _has_comment(gap):
        return gap, "\n"
    blank = _blank_lines(gap)
    return gap[:blank], "\n" + gap[blank:]


def _lines(text: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """Each line of ``text`` from ``start``: where it starts, and what it says (stripped)."""
    position = start
    while position < len(text):
        newline = text.find("\n", position)
        end = len(text) if newline < 0 else newline + 1
        yield position, text[position:end].strip()
        position = end


def _gap_end(text: str, start: int) -> int:
    """Where the comment and blank lines from ``start`` end: the next line that says
    something, or the end of the text."""
    return next(
        (at for at, line in _lines(text, start) if line and not line.startswith("#")), len(text)
    )


def _blank_lines(gap: str) -> int:
    """Length of the blank lines at the start of ``gap``."""
    return next((at for at, line in _lines(gap) if line), len(gap))


def _first_blank_line(gap: str) -> int:
    """Where the first blank line of ``gap`` starts (its length when there is none)."""
    return next((at for at, line in _lines(gap) if not line), len(gap))


def _has_comment(gap: str) -> bool:
    return any(line.lstrip().startswith("#") for line in gap.split("\n"))


def _ends_with_blank_line(text: str) -> bool:
    body = text.removesuffix("\n")
    return not body[body.rfind("\n") + 1 :].strip()


def _on_new_line(text: str) -> str:
    """``text``, ending with a newline unless empty: what comes next starts a line."""
    return text if not text or text.endswith("\n") else text + "\n"


def _edit_array(array: Array, values: list[Any]) -> None:
    """Turn ``array`` into ``values`` by deleting and inserting elements, so the elements that
    stay keep their comments and the array its layout."""
    old = [plain(v) for v in array]
    matcher = difflib.SequenceMatcher(a=old, b=values, autojunk=False)
    for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
        if tag == "equal":
            continue
        # the new elements go in before the old ones leave: an array never empty keeps its layout
        for offset, value in enumerate(values[j1:j2]):
            array.insert(i2 + offset, _value_item(value))
        for index in reversed(range(i1, i2)):
            del array[index]


def _inline_context(path: KeyPath) -> bool:
    """Lists of tables written inline by convention (a page's ``panels``)."""
    return bool(path) and path[-1] == "panels"


def _assign(target: Any, inner: KeyPath, value: Any) -> None:
    node = target
    for part in inner[:-1]:
        node = node[part]
    node[inner[-1]] = value


def _drop(target: Any, inner: KeyPath) -> None:
    node = target
    for part in inner[:-1]:
        node = node[part]
    del node[inner[-1]]


def _dig(target: Any, inner: KeyPath) -> Any:
    node = target
    for part in inner:
        node = node[part]
    return node


def _show(path: KeyPath) -> str:
    from agora.config.loader import dotted_key

    return dotted_key(path) or "(top level)"


# ---------------------------------------------------------------------------------------------
# saving


def backup_path(path: Path) -> Path:
    """Where :func:`save_text` keeps the previous version of ``path``."""
    return path.with_name(path.name + BACKUP_SUFFIX)


def save_text(path: Path | str, text: str, *, backup: bool = True) -> Path:
    """Write ``text`` to ``path`` atomically; the previous version (if any) is kept as
    :func:`backup_path`. Returns the path written (a symlink's target)."""
    target = Path(path)
    with contextlib.suppress(OSError):
        target = target.resolve(strict=True)
    directory = target.parent
    mode: int | None = None
    if target.exists():
        with contextlib.suppress(OSError):
            mode = target.stat().st_mode & 0o7777
        if backup:
            shutil.copy2(target, backup_path(target))
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where that is possible
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return target


__all__ = [
    "BACKUP_SUFFIX",
    "SECTION_ORDER",
    "ConfigDocument",
    "EditError",
    "backup_path",
    "plain",
    "save_text",
]

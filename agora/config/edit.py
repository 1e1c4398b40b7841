"""Editing a wall's TOML file in place: load → change some keys → dump, keeping everything else.

The operator console changes one value at a time. :class:`ConfigDocument` wraps a :mod:`tomlkit`
document so that a change touches only the lines it must: comments, blank lines, key order,
quoting and the layout of arrays stay as the person who wrote the file left them. New keys go
after the last key of their table (not after the comments that introduce the next section), new
sections go where the schema's order puts them, and an inline table (a panel) that changes is
written again in the file's ``{ key = value, … }`` style.

:func:`save_text` writes atomically (a temporary file in the same directory, then
:func:`os.replace`) and keeps the previous version as ``<name>.bak``.

Qt-free: the console's forms call this module; it is tested on its own.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Array, Comment, InlineTable, Item, Null, Table, Whitespace
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
    if isinstance(value, Item | Container):
        return value.unwrap()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


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


def _body(container: Table | Container) -> list[tuple[Any, Any]]:
    inner = container.value if isinstance(container, Table) else container
    body: list[tuple[Any, Any]] = inner.body
    return body


def _last_key_index(container: Table | Container) -> int:
    """Index in the body of the last key (-1 when there is none)."""
    body = _body(container)
    return max((i for i, (key, _) in enumerate(body) if key is not None), default=-1)


def _trailing_trivia(container: Table | Container) -> list[Item]:
    """Comments and blank lines after the last key (they introduce what comes next)."""
    body = _body(container)
    start = _last_key_index(container) + 1
    # a removed key leaves a Null behind; after the last key none of them is mapped: drop them
    body[start:] = [(k, v) for k, v in body[start:] if not isinstance(v, Null)]
    return [item for _, item in body[start:]]


def _take_trailing_comments(container: Table | Container) -> list[Item]:
    """Remove the comments after the last key of ``container`` (keeping one blank line) and return
    them: a table inserted after ``container`` takes them, so they keep introducing what follows."""
    body = _body(container)
    start = _last_key_index(container) + 1
    tail = _trailing_trivia(container)
    if not any(isinstance(item, Comment) for item in tail):
        return []
    keep = 1 if tail and isinstance(tail[0], Whitespace) else 0
    moved = tail[keep:]
    del body[start + keep :]
    return moved


def _give_trivia(table: Table, items: Sequence[Item]) -> None:
    if items and not isinstance(items[0], Whitespace):
        table.value.body.append((None, Whitespace("\n")))
    for item in items:
        table.value.body.append((None, item))


def _place_after(previous: Table | None, new: Table) -> None:
    """``new`` is printed right after ``previous``: it takes over the comments that closed
    ``previous`` (they introduce what follows), and a blank line separates them. When
    ``previous`` ended the file, ``new`` ends it now (no blank line after it)."""
    if previous is not None:
        if not _trailing_trivia(previous):
            previous.value.body.append((None, Whitespace("\n")))
            return
        moved = _take_trailing_comments(previous)
        if moved:
            _give_trivia(new, moved)
            return
    new.value.body.append((None, Whitespace("\n")))


class ConfigDocument:
    """A config file's text as an editable document. Paths are key paths as in
    :mod:`agora.config.locate`: ``("screens", 0, "pages", 1, "grid")``."""

    def __init__(self, text: str) -> None:
        try:
            self._doc: TOMLDocument = tomlkit.parse(text)
        except TOMLKitError as exc:
            raise EditError(f"not valid TOML: {exc}") from None
        except (ValueError, TypeError) as exc:  # tomlkit raises a few plain errors too
            raise EditError(f"not valid TOML: {exc}") from None

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
                    if not isinstance(node, Container | Table | InlineTable | dict):
                        return _MISSING
                    if part not in node:
                        return _MISSING
                    node = node[part]
            except (IndexError, KeyError):
                return _MISSING
        return node

    def has(self, path: KeyPath) -> bool:
        """True when the key is written in this file."""
        return self._node(path) is not _MISSING

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
        inline_at = self._inline_owner(path)
        if inline_at is not None:
            return self._rewrite_inline(path, inline_at, value)
        parent = self._ensure_parent(path[:-1])
        key = path[-1]
        if isinstance(key, int):
            if not isinstance(parent, AoT | Array):
                raise EditError(f"{_show(path[:-1])} is not a list")
            if not 0 <= key < len(parent):
                raise EditError(f"{_show(path)}: no element {key}")
            old = parent[key]
            if isinstance(parent, AoT):
                parent[key] = self._table(value)
            else:
                parent[key] = _value_item(value, old if isinstance(old, Item) else None)
            return True
        if (
            isinstance(value, Mapping)
            and not isinstance(current, InlineTable)
            and not (inline and not isinstance(current, Table))
        ):
            # a table written as [a.b]: change it key by key, so its comments stay
            table = current if isinstance(current, Table) else None
            if table is None:
                self._insert_key(parent, key, self._table({}))
                table = self._node(path)
                assert isinstance(table, Table)
            for sub_key in [k for k in plain(table) if k not in value]:
                del table[sub_key]
            for sub_key, sub_value in value.items():
                self.set((*path, sub_key), sub_value)
            return True
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
            if current is _MISSING:
                self._insert_key(parent, key, tomlkit.aot())
            for index, element in enumerate(value):
                if index < self.length(path):
                    self.set((*path, index), element)
                else:
                    self.append(path, element)
            while self.length(path) > len(value):
                self.remove((*path, self.length(path) - 1))
            return True
        if (
            isinstance(current, Array)
            and isinstance(value, list)
            and not any(isinstance(v, Mapping | list) for v in value)
        ):
            _edit_array(current, value)  # element by element: comments and layout stay
            return True
        item = _value_item(value, current if isinstance(current, Item) else None)
        if current is _MISSING:
            self._insert_key(parent, key, item)
        else:
            parent[key] = item
        return True

    def remove(self, path: KeyPath) -> bool:
        """Remove the key or element at ``path``; False when it was not written."""
        if not path or self._node(path) is _MISSING:
            return False
        inline_at = self._inline_owner(path)
        if inline_at is not None:
            owner = self.get(inline_at)
            inner = path[len(inline_at) :]
            if len(inner) == 1 and isinstance(owner, dict):
                owner.pop(str(inner[0]), None)
                return self._replace_inline(inline_at, owner)
            if isinstance(owner, dict | list):
                _drop(owner, inner)
                return self._replace_inline(inline_at, owner)
        parent = self._node(path[:-1])
        key = path[-1]
        if isinstance(parent, AoT) and isinstance(key, int):
            removed = parent[key]
            tail = _trailing_trivia(_deepest_last_table(removed))
            del parent[key]
            if key == len(parent) and len(parent):
                # what closed the last table (comments introducing the next section, or the end
                # of the file) closes the new last one
                last = _deepest_last_table(parent[len(parent) - 1])
                own = _trailing_trivia(last)
                body = _body(last)
                if not any(isinstance(t, Comment) for t in own):
                    del body[_last_key_index(last) + 1 :]
                    own = []
                start = 1 if own and tail and isinstance(tail[0], Whitespace) else 0
                for item in tail[start:]:
                    body.append((None, item))
            return True
        del parent[key]
        self._drop_if_empty(path[:-1])
        return True

    def _drop_if_empty(self, path: KeyPath) -> None:
        """A section left without keys or comments goes too (the console made it, most likely)."""
        table = self._node(path)
        if (
            not path
            or isinstance(path[-1], int)
            or not isinstance(table, Table)
            or table.is_super_table()
            or len(table)
            or any(isinstance(item, Comment) for _, item in _body(table))
        ):
            return
        parent = self._node(path[:-1])
        if isinstance(parent, Table | Container):
            del parent[path[-1]]
            self._drop_if_empty(path[:-1])

    def append(self, path: KeyPath, value: Any) -> int:
        """Append ``value`` to the array (or array of tables) at ``path``, creating it when
        absent. Returns the new element's index."""
        value = plain(value)
        node = self._node(path)
        inline_at = self._inline_owner((*path, 0))
        if inline_at is not None and inline_at != (*path, 0):
            owner = self.get(inline_at)
            listed = _dig(owner, path[len(inline_at) :])
            if not isinstance(listed, list):
                raise EditError(f"{_show(path)} is not a list")
            listed.append(value)
            self._replace_inline(inline_at, owner)
            return len(listed) - 1
        if node is _MISSING:
            parent = self._ensure_parent(path[:-1])
            if isinstance(value, Mapping) and not _inline_context(path):
                self._insert_key(parent, path[-1], tomlkit.aot())
            else:
                array = tomlkit.array()
                if isinstance(value, Mapping):
                    array.multiline(True)
                self._insert_key(parent, path[-1], array)
            node = self._node(path)
        if isinstance(node, AoT):
            table = self._table(value)
            _place_after(_deepest_last_table(node[len(node) - 1]) if len(node) else None, table)
            node.append(table)
            return len(node) - 1
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
        values = plain(node)
        values.insert(to, values.pop(index))
        if isinstance(node, Array):
            for position in range(min(index, to), max(index, to) + 1):
                self.set((*path, position), values[position])
            return True
        # arrays of tables: a table moves with the comments inside it; the comments between
        # tables (introducing the next section) stay where they are in the file
        tails: list[list[Item]] = []
        for position in range(len(node)):
            last = _deepest_last_table(node[position])
            tails.append(_trailing_trivia(last))
            del _body(last)[_last_key_index(last) + 1 :]
        table = node[index]
        del node[index]
        node.insert(to, table)
        for position, tail in enumerate(tails):
            body = _body(_deepest_last_table(node[position]))
            body.extend((None, item) for item in tail)
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
        if inline_at is not None or isinstance(parent, InlineTable):
            owner_path = inline_at if inline_at is not None else path[:-1]
            owner = self.get(owner_path)
            container = _dig(owner, path[len(owner_path) : -1])
            renamed = {(new_key if k == old_key else k): v for k, v in container.items()}
            container.clear()
            container.update(renamed)
            return self._replace_inline(owner_path, owner)
        if not isinstance(parent, Table | Container):
            raise EditError(f"{_show(path[:-1])} is not a table")
        body = _body(parent)
        position = next(
            i for i, (key, _) in enumerate(body) if key is not None and key.key == old_key
        )
        del parent[old_key]
        if isinstance(node, Table):
            node.display_name = None  # the header is written from the new key
            node.name = new_key
        _insert_at(parent, position, new_key, node)
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

    def _rewrite_inline(self, path: KeyPath, owner_path: KeyPath, value: Any) -> bool:
        owner = self.get(owner_path)
        inner = path[len(owner_path) :]
        _assign(owner, inner, value)
        return self._replace_inline(owner_path, owner)

    def _replace_inline(self, owner_path: KeyPath, value: Any) -> bool:
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
        return True

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
                    # [topics] only holds [topics.<key>] tables: no header of its own
                    table = tomlkit.table(is_super_table=depth + 1 < len(path))
                    self._insert_key(node, part, table)
            node = node[part]
        return node

    def _insert_key(self, parent: Any, key: str | int, item: Item) -> None:
        """Add ``key`` to ``parent``: after its last key, or, for a new top-level section, where
        :data:`SECTION_ORDER` puts it."""
        if isinstance(key, int):
            raise EditError("cannot create a list element by index")
        if isinstance(parent, InlineTable):
            parent[key] = item
            return
        if isinstance(parent, TOMLDocument) and isinstance(item, Table | AoT):
            self._insert_section(key, item)
            return
        if isinstance(parent, Table | Container):
            container = parent.value if isinstance(parent, Table) else parent
            if isinstance(item, Table | AoT):
                # sub-tables come after every plain key anyway: append at the end
                if isinstance(item, Table) and not item.is_super_table():
                    previous = _deepest_last_table(parent) if isinstance(parent, Table) else None
                    _place_after(previous if len(container) else None, item)
                parent.append(key, item)  # a table's append keeps its own dict in step
                return
            index = _last_plain_key_index(container)
            if index + 1 >= len(container.body):
                parent.append(key, item)
            else:
                _insert_at(parent, index + 1, key, item)
            return
        raise EditError(f"cannot add {key!r} here")

    def _insert_section(self, key: str, item: Table | AoT) -> None:
        doc = self._doc
        rank = SECTION_ORDER.index(key) if key in SECTION_ORDER else len(SECTION_ORDER)
        body = doc.body
        following = None
        for position, (existing, _) in enumerate(body):
            if existing is None:
                continue
            name = existing.key
            if name in SECTION_ORDER and SECTION_ORDER.index(name) > rank:
                following = position
                break
        position = len(body) if following is None else following
        if isinstance(item, Table) and not item.is_super_table():
            _place_after(self._section_before(position), item)
        if following is None:
            doc.append(key, item)
        else:
            doc._insert_at(following, key, item)

    def _section_before(self, position: int) -> Table | None:
        body = self._doc.body
        for existing, item in reversed(body[:position]):
            if existing is None:
                continue
            if isinstance(item, AoT) and len(item):
                last = item[len(item) - 1]
                return _deepest_last_table(last)
            if isinstance(item, Table):
                return _deepest_last_table(item)
            return None
        return None


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


def _insert_at(parent: Table | Container, index: int, key: str, item: Item) -> None:
    """Insert ``key`` at a position of ``parent``'s body. A table keeps its keys twice (its body
    and its own dict, which ``del table[key]`` also updates): both are kept in step."""
    if isinstance(parent, Table):
        parent.value._insert_at(index, key, item)
        dict.__setitem__(parent, key, parent.value[key])
    else:
        parent._insert_at(index, key, item)


def _deepest_last_table(table: Table) -> Table:
    """The table whose body is printed last inside ``table`` (its last sub-table, if any)."""
    body = _body(table)
    for key, item in reversed(body):
        if key is None:
            continue
        if isinstance(item, Table):
            return _deepest_last_table(item)
        if isinstance(item, AoT) and len(item):
            return _deepest_last_table(item[len(item) - 1])
        return table
    return table


def _last_plain_key_index(container: Container) -> int:
    """Index of the last key that is not a sub-table (-1 when there is none)."""
    last = -1
    for position, (key, item) in enumerate(container.body):
        if key is not None and not isinstance(item, Table | AoT):
            last = position
    return last


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

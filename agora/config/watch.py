"""Noticing that a config file changed on disk, for the running wall's hot reload.

:class:`ConfigWatcher` polls: every call to :meth:`ConfigWatcher.poll` looks at each watched
file's modification time, size and inode, and reads and hashes it only when one of those moved (or
every few polls, in case a write kept all three). A change is reported once the content has been
the same for ``settle`` seconds, so an editor that writes a file in several steps is read once,
whole. Saving the same content again is not a change. No thread, no extra dependency: the caller
polls on its own timer (the wall on a Qt timer every half second).

Qt-free.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

#: How often the wall polls, in seconds.
POLL_INTERVAL_S = 0.5
#: Read and hash a file at least every this many polls even when its stat looks unchanged.
REHASH_EVERY = 8


@dataclass(frozen=True, slots=True)
class _Stat:
    mtime_ns: int
    size: int
    inode: int


@dataclass(slots=True)
class _State:
    stat: _Stat | None
    digest: str | None
    """Hash of the content the caller last accepted (``None``: the file is missing)."""
    pending: str | None = None
    """Hash of new content seen but not reported yet (it must stay the same for a while)."""
    has_pending: bool = False
    pending_since: float = 0.0
    polls: int = 0


def _stat(path: Path) -> _Stat | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return _Stat(info.st_mtime_ns, info.st_size, info.st_ino)


def _digest(path: Path) -> str | None:
    try:
        return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    except OSError:
        return None


class ConfigWatcher:
    """Watches a few files (a config, the files it extends, its theme file)."""

    def __init__(
        self,
        paths: Iterable[Path],
        *,
        settle: float = 0.25,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settle = settle
        self._monotonic = monotonic
        self._states: dict[Path, _State] = {}
        self.watch(paths)

    @property
    def paths(self) -> list[Path]:
        """The files watched."""
        return list(self._states)

    def watch(self, paths: Iterable[Path]) -> None:
        """Watch exactly these files from now on; their current content is the accepted one."""
        wanted = [Path(os.path.abspath(p)) for p in paths]
        states: dict[Path, _State] = {}
        for path in wanted:
            states[path] = self._states.get(path) or _State(_stat(path), _digest(path))
        self._states = states

    def accept(self) -> None:
        """Take every file's current content as the accepted one (after a reload or save)."""
        for path, state in self._states.items():
            state.stat = _stat(path)
            state.digest = _digest(path)
            state.has_pending = False

    def poll(self) -> list[Path]:
        """The files whose content changed (and then stayed the same for ``settle`` seconds)
        since it was last accepted; their new content becomes the accepted one."""
        now = self._monotonic()
        changed: list[Path] = []
        for path, state in self._states.items():
            state.polls += 1
            stat = _stat(path)
            if stat == state.stat and not state.has_pending and state.polls % REHASH_EVERY:
                continue
            state.stat = stat
            digest = _digest(path) if stat is not None else None
            if digest == state.digest:
                state.has_pending = False
                continue
            if not state.has_pending or digest != state.pending:
                state.pending, state.has_pending = digest, True
                state.pending_since = now
                if self.settle > 0:
                    continue
            if now - state.pending_since >= self.settle:
                state.digest = digest
                state.has_pending = False
                changed.append(path)
        return changed


__all__ = ["POLL_INTERVAL_S", "ConfigWatcher"]

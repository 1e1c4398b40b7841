"""Normalised posts from a file, one JSON object a line (``kind = "jsonl"``).

The file holds posts in the normalised shape (what ``agora fetch`` prints); ``path`` is relative to
the config file. Two modes:

``replay = false`` (default)
    :meth:`JsonlSource.fetch` returns what the file holds beyond the saved cursor, all at once
    (``live`` is ``False``: ``agora analyse`` and ``agora snapshot`` read such a source once).
    :meth:`JsonlSource.run` does the same and then follows the file like ``tail -f``: lines appended
    later are picked up every ``every`` seconds (default 5 s). A file that is truncated or replaced
    is read again from its start.
``replay = true``
    :meth:`JsonlSource.run` replays the posts at their original pace: the gap between consecutive
    ``created_at`` values, divided by ``speed`` and capped at :attr:`JsonlSource.max_gap` real
    seconds, separates two emissions. **Each replayed post's ``created_at`` is rewritten to the
    moment it is emitted** (``context.clock()``), so the wall shows an archive as if it were
    happening now; ids and everything else stay as in the file. When the file is exhausted the
    replay ends and ``live`` turns ``False``. :meth:`fetch` in this mode reads without pacing and
    keeps the original times.

Reading is streaming and memory-safe: the file is read line by line in binary; a line longer than
:data:`MAX_LINE_BYTES` is skipped without being held in memory; each line is decoded as UTF-8 with
invalid bytes replaced (the post is kept and the repair reported). Every bad line (invalid JSON, not
an object, no id or text, a date before 2000, …) is skipped and reported through
:attr:`~agora.sources.base.Source.problems` as ``"<path>:<line>: <message>"``, logged once per kind
of problem; repairs made by :func:`~agora.core.post.parse_post` (text cut, a future date set to the
time of arrival, control characters removed) are reported as kind ``"repaired"``.

Field defaults: ``feed`` is the source's name when the line has none; an ``id`` without a known
``<kind>:`` prefix gets ``jsonl:`` prefixed; ``source`` stays as given, else comes from the id's
prefix (``jsonl`` for prefixed ids).

The cursor (``context.set_cursor(name, "<size>:<offset>:<mtime_ns>")``) records how far the file
was read, so a restarted wall does not send the same posts again. Reading resumes at the saved byte
offset while the file only grew; it starts over when the file shrank below the offset, or kept its
size but changed (rewritten in place), or (within one process) was replaced by another file. A final
line without a newline is taken when it is complete JSON, and otherwise left for the writer to
finish.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Final

from agora.config import schema
from agora.core.post import SOURCE_KINDS, Post, PostError, parse_post
from agora.sources.base import Sink, Source, SourceContext

__all__ = ["MAX_LINE_BYTES", "FileCursor", "JsonlSource"]

#: Longest line read; longer lines are skipped (and reported) without being loaded whole.
MAX_LINE_BYTES: Final = 4 * 1024 * 1024
_SKIP_CHUNK: Final = 1024 * 1024
_BOM: Final = b"\xef\xbb\xbf"


@dataclass(slots=True, frozen=True)
class FileCursor:
    """How far a file was read: its ``size`` and ``mtime_ns`` then, and the byte ``offset``."""

    size: int
    offset: int
    mtime_ns: int

    def encode(self) -> str:
        """``"size:offset:mtime_ns"`` as stored by ``context.set_cursor``."""
        return f"{self.size}:{self.offset}:{self.mtime_ns}"

    @classmethod
    def decode(cls, text: str | None) -> FileCursor | None:
        """Parse a stored cursor; ``None`` when absent or unreadable."""
        if not text:
            return None
        parts = text.split(":")
        if len(parts) != 3:
            return None
        try:
            size, offset, mtime_ns = (int(p) for p in parts)
        except ValueError:
            return None
        if size < 0 or offset < 0 or offset > size:
            return None
        return cls(size, offset, mtime_ns)


@dataclass(slots=True)
class _Chunk:
    """One read: the posts, the byte offset after each post's line, and where reading stopped."""

    posts: list[Post]
    ends: list[int]
    offset: int
    lineno: int
    size: int
    mtime_ns: int
    eof: bool

    def cursor(self, offset: int | None = None) -> str:
        return FileCursor(
            self.size, self.offset if offset is None else offset, self.mtime_ns
        ).encode()


def _iter_lines(fh: BinaryIO, limit: int) -> Iterator[tuple[bytes | None, int, bool]]:
    """Yield ``(line, length in bytes, terminated)``; ``line`` is ``None`` for a line longer than
    ``limit`` bytes, which is skipped in chunks and never held whole."""
    while True:
        chunk = fh.readline(limit + 1)
        if not chunk:
            return
        if len(chunk) > limit and not chunk.endswith(b"\n"):
            length = len(chunk)
            del chunk
            terminated = False
            while True:
                more = fh.readline(_SKIP_CHUNK)
                if not more:
                    break
                length += len(more)
                if more.endswith(b"\n"):
                    terminated = True
                    break
            yield None, length, terminated
            continue
        yield chunk, len(chunk), chunk.endswith(b"\n")


def _count_lines(path: Path, offset: int) -> int:
    """Newlines in the first ``offset`` bytes (line numbers when resuming from a saved cursor)."""
    count = 0
    with path.open("rb") as fh:
        remaining = offset
        while remaining > 0:
            block = fh.read(min(remaining, _SKIP_CHUNK))
            if not block:
                break
            count += block.count(b"\n")
            remaining -= len(block)
    return count


class JsonlSource(Source):
    """Posts from a JSON Lines file; see the module docstring."""

    kind: ClassVar[str] = "jsonl"
    offline: ClassVar[bool] = True
    #: Seconds between two looks at the file for appended lines (``every`` overrides it).
    default_every: ClassVar[float] = 5.0
    #: Posts read per step of :meth:`run`.
    batch_size: int = 2_000
    #: Longest real-time wait between two replayed posts, in seconds.
    max_gap: float = 60.0
    #: Posts due within this many seconds of each other are emitted together in replay.
    replay_slack: float = 0.02
    #: Most posts in one replay batch.
    replay_batch: int = 500

    def __init__(self, config: Any, context: SourceContext) -> None:
        super().__init__(config, context)
        self.config: schema.JsonlSource = config
        self.path: Path = (context.config_dir / config.path).resolve()
        self._replay_done = False
        # what this process knows about the file: inode, and the line number at a byte offset
        self._inode: int | None = None
        self._known: tuple[int, int] | None = None

    @property
    def live(self) -> bool:
        """True only while a replay is in progress."""
        return bool(self.config.replay) and not self._replay_done

    # -- reading ---------------------------------------------------------------------------------

    def _resume(self, cursor_text: str | None, st: os.stat_result) -> tuple[int, int]:
        """Byte offset and line number to continue from."""
        saved = FileCursor.decode(cursor_text)
        start_over = (
            saved is None
            or st.st_size < saved.offset
            or (st.st_size == saved.size and st.st_mtime_ns != saved.mtime_ns)
            or (self._inode is not None and st.st_ino != self._inode)
        )
        self._inode = st.st_ino
        if saved is None or start_over:
            return 0, 0
        if self._known is not None and self._known[0] == saved.offset:
            return saved.offset, self._known[1]
        return saved.offset, _count_lines(self.path, saved.offset)

    def _read(
        self,
        limit: int | None,
        now: datetime,
        *,
        cursor_text: str | None = None,
        position: tuple[int, int] | None = None,
    ) -> _Chunk:
        """Read up to ``limit`` posts from the saved cursor (or from ``position``: offset, line).
        Runs in a worker thread; raises ``OSError`` when the file cannot be read."""
        st = os.stat(self.path)
        if position is None:
            offset, lineno = self._resume(cursor_text, st)
        else:
            offset, lineno = position
        shown = str(self.path)
        report = self.problems.report
        posts: list[Post] = []
        ends: list[int] = []
        eof = True
        with self.path.open("rb") as fh:
            fh.seek(offset)
            for raw, length, terminated in _iter_lines(fh, MAX_LINE_BYTES):
                if limit is not None and len(posts) >= limit:
                    eof = False
                    break
                lineno += 1
                where = f"{shown}:{lineno}"
                if raw is None:
                    if not terminated:  # still being written; look again later
                        lineno -= 1
                        break
                    offset += length
                    report("line-too-long", f"{where}: line longer than {MAX_LINE_BYTES} bytes")
                    continue
                line = raw.strip()
                if lineno == 1 and line.startswith(_BOM):
                    line = line[len(_BOM) :].strip()
                if not line:
                    offset += length
                    continue
                obj, problem = self._decode(line, where, final=not terminated)
                if problem == "incomplete":
                    lineno -= 1
                    break
                offset += length
                if obj is None:
                    continue
                post = self._parse(obj, where, now)
                if post is not None:
                    posts.append(post)
                    ends.append(offset)
        self._known = (offset, lineno)
        return _Chunk(posts, ends, offset, lineno, st.st_size, st.st_mtime_ns, eof)

    def _decode(self, line: bytes, where: str, *, final: bool) -> tuple[Any, str | None]:
        """JSON from one line: ``(object, None)``, ``(None, "bad")`` when reported and skipped, or
        ``(None, "incomplete")`` for an unfinished last line."""
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = line.decode("utf-8", errors="replace")
            invalid: UnicodeDecodeError | None = exc
        else:
            invalid = None
        try:
            obj = json.loads(text)
        except RecursionError:
            self.problems.report("invalid-json", f"{where}: not valid JSON: nested too deeply")
            return None, "bad"
        except ValueError as exc:
            try:
                obj = json.loads(text, strict=False)  # raw control characters inside strings
            except (ValueError, RecursionError):
                if final:
                    return None, "incomplete"
                self.problems.report("invalid-json", f"{where}: not valid JSON: {exc}")
                return None, "bad"
            self.problems.report("repaired", f"{where}: raw control characters in a string removed")
        if invalid is not None:
            self.problems.report(
                "invalid-utf8",
                f"{where}: invalid UTF-8 at byte {invalid.start} replaced with U+FFFD",
            )
        return obj, None

    def _parse(self, obj: Any, where: str, now: datetime) -> Post | None:
        """A post from a decoded line, with this source's defaults; ``None`` when reported."""
        if isinstance(obj, dict):
            if not isinstance(obj.get("feed"), str) or not obj.get("feed"):
                obj["feed"] = self.name
            post_id = obj.get("id")
            if isinstance(post_id, int) and not isinstance(post_id, bool):
                post_id = str(post_id)
            if isinstance(post_id, str) and post_id.strip():
                stripped = post_id.strip()
                prefix = stripped.split(":", 1)[0] if ":" in stripped else ""
                given = obj.get("source")
                if prefix not in SOURCE_KINDS and prefix != given:
                    stripped = f"jsonl:{stripped}"
                obj["id"] = stripped
        repairs: list[str] = []
        try:
            post = parse_post(obj, now=now, repairs=repairs)
        except PostError as exc:
            self.problems.report(exc.kind, f"{where}: {exc}")
            return None
        except Exception as exc:  # a shape parse_post did not expect costs this line only
            self.problems.report("invalid-post", f"{where}: {type(exc).__name__}: {exc}")
            return None
        if repairs:
            self.problems.report("repaired", f"{where}: {'; '.join(repairs)}")
        return post

    def _cannot_read(self, exc: OSError) -> None:
        if isinstance(exc, FileNotFoundError):
            reason = "No such file"
        else:
            reason = exc.strerror or type(exc).__name__
        self.mark_error(f"{self.name}: cannot read {self.path}: {reason}")

    # -- the Source interface ------------------------------------------------------------------

    async def fetch(self, limit: int | None = None) -> list[Post]:
        """The posts beyond the saved cursor (at most ``limit``), all at once; saves the cursor.
        A file that cannot be read marks the source failing and returns no posts."""
        cursor_text = self.context.get_cursor(self.name)
        now = self.context.clock()
        try:
            chunk = await asyncio.to_thread(self._read, limit, now, cursor_text=cursor_text)
        except OSError as exc:
            self._cannot_read(exc)
            return []
        self.context.set_cursor(self.name, chunk.cursor())
        self.mark_ok(len(chunk.posts))
        return chunk.posts

    async def run(self, sink: Sink, stop: asyncio.Event) -> None:
        """Replay at the original pace (``replay = true``), or read everything and then follow the
        file for appended lines until ``stop`` is set. Never raises for a missing file."""
        if self.config.replay:
            await self._replay(sink, stop)
            return
        while not stop.is_set():
            while not stop.is_set():
                posts = await self.fetch(self.batch_size)
                if posts:
                    sink(posts)
                if len(posts) < self.batch_size:
                    break
            if await self._wait(stop, self.every):
                return

    @staticmethod
    async def _wait(stop: asyncio.Event, seconds: float) -> bool:
        """Wait ``seconds`` or until ``stop``; True when stopped."""
        if seconds <= 0:
            return stop.is_set()
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    async def _replay(self, sink: Sink, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        speed = float(self.config.speed)
        position: tuple[int, int] | None = None
        previous: float | None = None
        due = loop.time()
        batch: list[Post] = []
        batch_end = 0
        chunk: _Chunk | None = None

        def flush() -> None:
            nonlocal batch
            if not batch or chunk is None:
                return
            moment = self.context.clock()
            sink([replace(post, created_at=moment) for post in batch])
            self.context.set_cursor(self.name, chunk.cursor(batch_end))
            self.mark_ok(len(batch))
            batch = []

        while not stop.is_set():
            cursor_text = self.context.get_cursor(self.name) if position is None else None
            try:
                chunk = await asyncio.to_thread(
                    self._read,
                    self.batch_size,
                    self.context.clock(),
                    cursor_text=cursor_text,
                    position=position,
                )
            except OSError as exc:
                self._cannot_read(exc)
                if await self._wait(stop, self.every):
                    return
                continue
            position = (chunk.offset, chunk.lineno)
            for post, end in zip(chunk.posts, chunk.ends, strict=True):
                moment = post.timestamp
                if previous is not None:
                    due += min(self.max_gap, max(0.0, (moment - previous) / speed))
                previous = moment
                delay = due - loop.time()
                if delay > self.replay_slack or len(batch) >= self.replay_batch:
                    flush()
                    if delay > 0 and await self._wait(stop, delay):
                        return
                batch.append(post)
                batch_end = end
            flush()
            if chunk.eof:
                if not chunk.posts:
                    self.mark_ok(0)
                break
        self._replay_done = True

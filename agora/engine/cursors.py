"""Sources' saved places (cursors), written only once the posts before them are stored."""

from __future__ import annotations

import logging
import threading

from agora.store.base import Store

log = logging.getLogger("agora.engine")


class CursorBook:
    """Where each source has got to, held back until the posts before it are stored.

    Sources save their place (``context.set_cursor``) at the end of a round, just before they
    hand over its posts; the engine's ingest thread stores those posts later. Writing the place
    at once would let a crash in between skip them for good. The book keeps each new place
    *staged*: the next batch a source delivers carries every staged place along, and the ingest
    thread writes them after storing that batch. Places staged without posts (a round with
    nothing new, a stream's resume point) are flushed every second from the source loop, behind
    the posts that went before. Reading a place gives the newest one, written or not.

    Staging and delivering happen on the source loop's thread with no await in between, so a
    flush (on the same loop) never lands between a place and the posts it covers.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._staged: dict[str, str | None] = {}
        self._latest: dict[str, str | None] = {}

    def get(self, name: str) -> str | None:
        """The newest place saved under ``name`` (staged, else stored)."""
        with self._lock:
            if name in self._latest:
                return self._latest[name]
        return self._store.get_cursor(name)

    def stage(self, name: str, value: str | None) -> None:
        """Keep a source's new place until the posts before it are stored."""
        with self._lock:
            self._staged[name] = value
            self._latest[name] = value

    def take(self) -> dict[str, str | None]:
        """Every staged place (and forget them: the caller writes them)."""
        with self._lock:
            staged, self._staged = self._staged, {}
        return staged

    def write(self, cursors: dict[str, str | None]) -> None:
        """Store places whose posts are stored (on the ingest thread)."""
        for name, value in cursors.items():
            try:
                self._store.set_cursor(name, value)
            except Exception as exc:  # the next round saves it again
                log.warning("store: could not save the place of %s: %s", name, exc)

"""Running slow work (a source's fetch, reading the store) off the GUI thread.

:func:`run_in_background` runs a function on Qt's thread pool and calls ``done`` (or ``failed``)
with its result on the GUI thread. Workers never touch a widget: they return plain data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger("agora.console")


class _Relay(QObject):
    """Lives on the GUI thread; its signals, emitted from a worker, are delivered there."""

    finished = Signal(object)
    errored = Signal(object)


class _Job(QRunnable):
    def __init__(self, work: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.work = work
        self.relay = relay
        self.setAutoDelete(True)

    def run(self) -> None:
        failure: Exception | None = None
        result: Any = None
        try:
            result = self.work()
        except Exception as exc:
            failure = exc
        try:
            if failure is None:
                self.relay.finished.emit(result)
            else:
                self.relay.errored.emit(failure)
        except RuntimeError:  # the application is closing: nobody waits for it any more
            log.debug("console: background work finished after the console closed")


_running: set[_Relay] = set()


def run_in_background(
    work: Callable[[], Any],
    done: Callable[[Any], None],
    failed: Callable[[BaseException], None] | None = None,
) -> None:
    """Run ``work()`` on a worker thread; ``done(result)`` or ``failed(error)`` on the GUI
    thread afterwards."""
    relay = _Relay()
    _running.add(relay)

    def finish(result: object) -> None:
        _running.discard(relay)
        try:
            done(result)
        except RuntimeError as exc:  # the widget waiting for it was closed meanwhile
            log.debug("console: a result arrived for a closed widget: %s", exc)

    def fail(error: object) -> None:
        _running.discard(relay)
        try:
            if failed is not None and isinstance(error, BaseException):
                failed(error)
            else:
                log.error("console: background work failed: %s", error)
        except RuntimeError as exc:
            log.debug("console: an error arrived for a closed widget: %s", exc)

    relay.finished.connect(finish)
    relay.errored.connect(fail)
    QThreadPool.globalInstance().start(_Job(work, relay))


def busy() -> int:
    """How many background jobs have not reported back yet (tests wait for 0)."""
    return len(_running)

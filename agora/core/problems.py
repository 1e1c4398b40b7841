"""Log-once reporting of repeated problems (malformed payloads, repaired fields)."""

from __future__ import annotations

import logging
import threading
from collections import Counter


class ProblemLog:
    """Counts problems by kind and logs the first one of each kind (then every ``every``-th).

    A feed with ten thousand malformed items writes a handful of log lines, not ten thousand, and
    the counts remain available for the wall's status line and the closing summary of a command.
    """

    def __init__(self, logger: logging.Logger, *, every: int = 1000, max_kinds: int = 256) -> None:
        self._logger = logger
        self._every = every
        self._max_kinds = max_kinds
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def report(self, kind: str, message: str, *, level: int = logging.WARNING) -> None:
        """Record a problem of ``kind``; log it when it is the first (or every n-th) of its kind."""
        with self._lock:
            if kind not in self.counts and len(self.counts) >= self._max_kinds:
                kind = "other"
            self.counts[kind] += 1
            n = self.counts[kind]
        if n == 1:
            self._logger.log(level, "%s", message)
        elif n % self._every == 0:
            self._logger.log(level, "%s (%d times so far)", message, n)

    @property
    def total(self) -> int:
        """How many problems were reported in all."""
        with self._lock:
            return sum(self.counts.values())

    def summary(self) -> str:
        """``"3 invalid-json, 1 missing-id"`` or an empty string."""
        with self._lock:
            return ", ".join(f"{n} {kind}" for kind, n in self.counts.most_common())

"""Health of a source as the wall and ``agora fetch`` report it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from agora.core.post import format_time

HealthState = Literal["ok", "idle", "degraded", "failing", "needs-auth", "disabled-by-server"]


@dataclass(slots=True, frozen=True)
class SourceHealth:
    """State of one configured source.

    ``state``: ``ok`` (last round succeeded), ``idle`` (not started yet), ``degraded`` (some rounds
    or items fail), ``failing`` (nothing works, retrying with back-off), ``needs-auth`` (credentials
    missing or refused), ``disabled-by-server`` (the server turned the feature off).
    ``last_error`` is one line in plain words, never a traceback and never a secret.
    """

    name: str
    kind: str
    state: HealthState = "idle"
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    posts: int = 0
    skipped: int = 0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form used in the snapshot's ``sources`` key."""
        return {
            "kind": self.kind,
            "state": self.state,
            "last_success": format_time(self.last_success) if self.last_success else None,
            "last_error": self.last_error,
            "last_error_at": format_time(self.last_error_at) if self.last_error_at else None,
            "posts": self.posts,
            "skipped": self.skipped,
        }

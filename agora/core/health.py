"""Health of a source as the wall and ``agora fetch`` report it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from agora.core.post import PostError, format_time, parse_time

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


def health_from_record(record: Mapping[str, object] | None) -> dict[str, SourceHealth]:
    """The sources' health from a report kept in a store (``{"at", "wall", "sources"}``, as
    the wall and the collector write it): ``{}`` without one; unreadable entries are skipped."""
    sources = record.get("sources") if record else None
    found: dict[str, SourceHealth] = {}
    if not isinstance(sources, Mapping):
        return found
    for name, entry in sources.items():
        if not isinstance(name, str) or not isinstance(entry, Mapping):
            continue
        state = entry.get("state")
        found[name] = SourceHealth(
            name=name,
            kind=str(entry.get("kind") or "?"),
            state=state if state in _STATES else "idle",
            last_success=_time(entry.get("last_success")),
            last_error=str(entry["last_error"]) if entry.get("last_error") else None,
            last_error_at=_time(entry.get("last_error_at")),
            posts=_count(entry.get("posts")),
            skipped=_count(entry.get("skipped")),
        )
    return found


_STATES: frozenset[HealthState] = frozenset(
    ("ok", "idle", "degraded", "failing", "needs-auth", "disabled-by-server")
)


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except PostError:
        return None


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def merged_reports(raw: Mapping[str, str]) -> dict[str, Any] | None:
    """The sources' health reports kept in a store (a wall's own, or one per collector of a
    shared store) as one report: every source, the newest time; ``None`` without any."""
    merged: dict[str, Any] | None = None
    for key in sorted(raw):
        try:
            record = json.loads(raw[key])
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if merged is None:
            merged = {"at": record.get("at"), "wall": record.get("wall"), "sources": {}}
        sources = record.get("sources")
        if isinstance(sources, dict):
            merged["sources"].update(sources)
        at = record.get("at")
        if isinstance(at, str) and (not isinstance(merged["at"], str) or at > merged["at"]):
            merged["at"] = at
    return merged

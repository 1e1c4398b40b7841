"""KPIs: the headline numbers (mentions today, per minute lately, the busiest minute).

Reads the per-minute count of all posts (kept by :mod:`~agora.core.figures.volume`); "today" is
the wall's own day, in its time zone.
"""

from __future__ import annotations

from datetime import tzinfo

from agora.core.figures.base import Figure, Window
from agora.core.figures.counts import Counts
from agora.core.figures.volume import ALL
from agora.core.snapshot import Kpis as KpisPart


class Kpis(Figure[KpisPart]):
    """Headline numbers; the same whatever the window (they end at the window's moment)."""

    __slots__ = ("_counts", "_tz")

    def __init__(self, counts: Counts, timezone: tzinfo | None) -> None:
        self._counts = counts
        self._tz = timezone

    def part(self, window: Window) -> KpisPart:
        moment = window.moment
        now = moment.now
        local = now.astimezone(self._tz) if self._tz else now.astimezone()
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        minutes_today = max(1, int((now - midnight).total_seconds() // 60) + 1)
        day = self._counts.per_minute(ALL, moment.minute, 24 * 60)
        today = sum(day[-minutes_today:]) if minutes_today <= len(day) else sum(day)
        last10 = day[-10:]
        return KpisPart(
            mentions_today=today,
            per_minute=round(sum(last10) / 10.0, 2),
            peak_per_minute=max(day) if day else 0,
        )

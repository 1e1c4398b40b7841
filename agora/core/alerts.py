"""Spike and surge detection on the per-minute series, with hysteresis.

Volume is binned in 5-minute bins. A bin is a spike when it exceeds both twice the median of the
preceding six hours and the median plus four robust standard deviations (1.4826 × MAD), with at
least ``min_count`` posts. The alert stays active until a bin falls below median + 1 MAD, so one
surge raises one alert, not fifty. Negative surges compare the share of negative posts in a bin
with its share over the baseline.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from agora.core.snapshot import Alert
from agora.core.windows import MinuteSeries

BIN_MINUTES = 5
BASELINE_BINS = 72  # six hours
MIN_BASELINE_BINS = 24  # no verdict before two hours of history


@dataclass(slots=True)
class _Active:
    alert: Alert
    clear_below: float


class SpikeDetector:
    """Evaluates completed bins in order and keeps the active and recent alerts."""

    def __init__(self, topics: dict[str, str], *, min_count: int = 12, history: int = 20) -> None:
        self._topics = topics
        self._min_count = min_count
        self._last_bin: int | None = None
        self._active: dict[tuple[str, str | None], _Active] = {}
        self._recent: deque[Alert] = deque(maxlen=history)

    def alerts(self) -> tuple[Alert, ...]:
        """Active alerts first, then recently ended ones, newest first."""
        active = [a.alert for a in self._active.values()]
        active.sort(key=lambda a: a.started_at, reverse=True)
        ended = sorted(self._recent, key=lambda a: a.started_at, reverse=True)
        return tuple(active + ended)

    def evaluate(self, series: MinuteSeries, now_minute: int) -> None:
        """Evaluate every bin completed since the last call (all kept history the first time)."""
        last_complete = now_minute // BIN_MINUTES - 1
        first = (
            self._last_bin + 1
            if self._last_bin is not None
            else (now_minute - series.minutes) // BIN_MINUTES + BASELINE_BINS
        )
        first = max(first, last_complete - 600)
        for bin_index in range(first, last_complete + 1):
            self._evaluate_bin(series, bin_index)
        if last_complete >= first:
            self._last_bin = last_complete

    def _bins(self, series: MinuteSeries, key: str, bin_index: int) -> tuple[int, list[int]]:
        count = BASELINE_BINS + 1
        end_minute = (bin_index + 1) * BIN_MINUTES - 1
        minutes = series.series(key, end_minute, count * BIN_MINUTES)
        bins = [sum(minutes[i : i + BIN_MINUTES]) for i in range(0, len(minutes), BIN_MINUTES)]
        # bins from before the first data are unknown, not quiet: leave them out of the baseline
        first = series.first if series.first is not None else end_minute
        first_bin = first // BIN_MINUTES + (1 if first % BIN_MINUTES else 0)
        known = max(0, bin_index - first_bin)
        baseline = bins[:-1][-known:] if known else []
        return bins[-1], baseline

    def _evaluate_bin(self, series: MinuteSeries, bin_index: int) -> None:
        at = datetime.fromtimestamp(bin_index * BIN_MINUTES * 60, UTC)
        targets: list[tuple[str | None, str]] = [(None, "all")]
        targets += [(key, f"topic:{key}") for key in self._topics]
        for topic, key in targets:
            current, baseline = self._bins(series, key, bin_index)
            self._volume(topic, current, baseline, at)
        neg_now, neg_base = self._bins(series, "label:negative", bin_index)
        all_now, all_base = self._bins(series, "all", bin_index)
        self._negative(neg_now, sum(neg_base), all_now, sum(all_base), at)

    def _raise(self, kind: str, topic: str | None, alert: Alert, clear_below: float) -> None:
        self._active[(kind, topic)] = _Active(alert, clear_below)

    def _clear(self, kind: str, topic: str | None, at: datetime) -> None:
        active = self._active.pop((kind, topic), None)
        if active is not None:
            self._recent.append(replace(active.alert, active=False, ended_at=at))

    def _volume(self, topic: str | None, current: int, baseline: list[int], at: datetime) -> None:
        kind = "volume-spike"
        median = statistics.median(baseline) if baseline else 0.0
        mad = statistics.median(abs(b - median) for b in baseline) if baseline else 0.0
        sigma = 1.4826 * mad
        active = self._active.get((kind, topic))
        if active is not None:
            if current < active.clear_below:
                self._clear(kind, topic, at)
            return
        threshold = max(2.0 * median, median + 4.0 * sigma, float(self._min_count))
        if current >= threshold and len(baseline) >= MIN_BASELINE_BINS:
            label = self._topics.get(topic, topic) if topic else "All mentions"
            per_min = current / BIN_MINUTES
            usual = median / BIN_MINUTES
            message = f"{label}: {per_min:.0f} mentions/min, usually {usual:.1f}"
            alert = Alert(kind, topic, at, message, value=per_min, baseline=usual)
            self._raise(kind, topic, alert, median + max(sigma, 1.0))

    def _negative(self, neg: int, neg_base: int, total: int, total_base: int, at: datetime) -> None:
        kind = "negative-surge"
        active = self._active.get((kind, None))
        base_share = neg_base / total_base if total_base else 0.0
        share = neg / total if total else 0.0
        if active is not None:
            if share < active.clear_below:
                self._clear(kind, None, at)
            return
        if total < self._min_count or total_base < self._min_count * MIN_BASELINE_BINS // 2:
            return
        expected = total * base_share
        z = (neg - expected) / max(1.0, expected) ** 0.5
        if neg >= 6 and share >= max(1.6 * base_share, base_share + 0.15) and z >= 3.0:
            message = f"Negative posts at {share:.0%}, usually {base_share:.0%}"
            alert = Alert(kind, None, at, message, value=share, baseline=base_share)
            self._raise(kind, None, alert, base_share + (share - base_share) * 0.3)

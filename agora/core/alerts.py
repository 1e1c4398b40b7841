"""Spike and surge detection on the per-minute series: seasonal, robust, with hysteresis.

Volume is judged in 5-minute bins against what is *usual for that time of day*:

* With a day of history behind a bin, the expectation is seasonal: the median of the bins
  around the same time on the previous days (±30 minutes, yesterday and the day before when
  kept), scaled by how busy today has been so far compared with the same six hours on those
  days. A morning that is busier than the night is not news; a morning twice as busy as usual is.
* Without that history (a fresh wall), the expectation is the median of the last hour, so a
  gradual rise (the morning) moves the baseline with it and only a sudden jump stands out.

The spread is robust: 1.4826 × the median absolute deviation of the last six hours' bins from
their expectations, never less than Poisson noise (√expected). A bin is a spike when it reaches
twice the expectation *and* the expectation plus four spreads, with at least ``min_count`` posts.
An alert then stays active until two bins in a row fall below the expectation plus one spread
(hysteresis), so one surge raises one alert, not fifty. Negative surges compare the share of
negative posts in a bin with its share over the last six hours, with the same hysteresis.

Every alert raised or ended is logged (``agora.alerts``); the wall shows the active ones.
"""

from __future__ import annotations

import logging
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from agora.core.snapshot import Alert
from agora.core.windows import MinuteSeries

log = logging.getLogger("agora.alerts")

BIN_MINUTES = 5
RECENT_BINS = 72  # six hours: today's level and the spread
LEVEL_BINS = 12  # one hour: the expectation without a day of history
DAY_BINS = 24 * 60 // BIN_MINUTES
SEASON_HALF = 6  # ±30 minutes around the same time on earlier days
MIN_RECENT_BINS = 24  # no verdict before two hours of history
CLEAR_AFTER = 2  # bins in a row below the clearing level end an alert
FIRST_LOOK_BINS = 12 * 60 // BIN_MINUTES  # a fresh detector judges the last twelve hours


@dataclass(slots=True)
class _Active:
    alert: Alert
    clear_below: float
    quiet_bins: int = 0


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a bin was expected to hold, how much it usually varies, and how that was judged."""

    expected: float
    spread: float
    seasonal: bool


class _Bins:
    """5-minute bin counts of one key, read from the minute series once per evaluation run."""

    def __init__(self, series: MinuteSeries, key: str, first_bin: int, last_bin: int) -> None:
        self.first_bin = first_bin
        minutes = series.series(
            key, (last_bin + 1) * BIN_MINUTES - 1, (last_bin - first_bin + 1) * BIN_MINUTES
        )
        self.counts = [
            sum(minutes[i : i + BIN_MINUTES]) for i in range(0, len(minutes), BIN_MINUTES)
        ]
        first = series.first
        # bins from before the first data are unknown, not quiet
        self.known_from = (
            last_bin + 1
            if first is None
            else first // BIN_MINUTES + (1 if first % BIN_MINUTES else 0)
        )

    def get(self, index: int) -> int | None:
        """The count of bin ``index``, or ``None`` when it is unknown."""
        if index < self.known_from or index < self.first_bin:
            return None
        offset = index - self.first_bin
        return self.counts[offset] if offset < len(self.counts) else None

    def known(self, indexes: range) -> list[int]:
        """The known counts among ``indexes``."""
        out = []
        for index in indexes:
            value = self.get(index)
            if value is not None:
                out.append(value)
        return out


def _mad_spread(residuals: Sequence[float]) -> float:
    if not residuals:
        return 0.0
    centre = statistics.median(residuals)
    return 1.4826 * statistics.median(abs(r - centre) for r in residuals)


def expectation(bins: _Bins, index: int) -> Expectation | None:
    """What bin ``index`` should hold, or ``None`` without enough history to judge."""
    recent_range = range(index - RECENT_BINS, index)
    recent = bins.known(recent_range)
    if len(recent) < MIN_RECENT_BINS:
        return None
    days = [d for d in (1, 2) if bins.get(index - d * DAY_BINS - RECENT_BINS) is not None]
    if days:
        season_around = [
            value
            for d in days
            for value in bins.known(
                range(index - d * DAY_BINS - SEASON_HALF, index - d * DAY_BINS + SEASON_HALF + 1)
            )
        ]

        def usual(j: int) -> float:
            values = [v for d in days if (v := bins.get(j - d * DAY_BINS)) is not None]
            return sum(values) / len(values) if values else 0.0

        usual_recent = [usual(j) for j in recent_range]
        level = (sum(recent) + 1.0) / (sum(usual_recent) + 1.0)
        level = min(5.0, max(0.2, level))
        expected = level * statistics.median(season_around)
        residuals = [
            count - level * u
            for j, u in zip(recent_range, usual_recent, strict=True)
            if (count := bins.get(j)) is not None
        ]
        spread = _mad_spread(residuals)
        seasonal = True
    else:
        expected = float(statistics.median(recent[-LEVEL_BINS:]))
        spread = _mad_spread(recent[-LEVEL_BINS:])
        seasonal = False
    return Expectation(expected, max(spread, expected**0.5, 1.0), seasonal)


def _told_order(alert: Alert) -> tuple[datetime, bool]:
    return alert.started_at, alert.topic is not None


class SpikeDetector:
    """Evaluates completed bins in order and keeps the active and recent alerts."""

    def __init__(self, topics: dict[str, str], *, min_count: int = 12, history: int = 20) -> None:
        self._topics = topics
        self._min_count = min_count
        self._last_bin: int | None = None
        self._active: dict[tuple[str, str | None], _Active] = {}
        self._recent: deque[Alert] = deque(maxlen=history)

    def alerts(self) -> tuple[Alert, ...]:
        """Active alerts first, then recently ended ones, newest first; of alerts that started
        together a topic's (brand first) comes before "All mentions", which says less."""
        active = [a.alert for a in self._active.values()]
        active.sort(key=_told_order, reverse=True)
        ended = sorted(self._recent, key=_told_order, reverse=True)
        return tuple(active + ended)

    def evaluate(self, series: MinuteSeries, now_minute: int) -> None:
        """Evaluate every bin completed since the last call (the last twelve hours the first
        time, or after the clock jumped far)."""
        last_complete = now_minute // BIN_MINUTES - 1
        if self._last_bin is not None and last_complete < self._last_bin:
            # the clock went back (an NTP correction): judge from here on again, not only once
            # the clock has caught up with the time it had shown
            self._last_bin = last_complete
            return
        first = (
            self._last_bin + 1
            if self._last_bin is not None
            else last_complete - FIRST_LOOK_BINS + 1
        )
        first = max(first, last_complete - FIRST_LOOK_BINS + 1)
        if last_complete < first:
            return
        reach = 2 * DAY_BINS + RECENT_BINS + SEASON_HALF
        start = first - reach
        targets: list[tuple[str | None, str]] = [(None, "all")]
        targets += [(key, f"topic:{key}") for key in self._topics]
        volume = {key: _Bins(series, key, start, last_complete) for _, key in targets}
        negative = _Bins(series, "label:negative", first - RECENT_BINS, last_complete)
        for bin_index in range(first, last_complete + 1):
            at = datetime.fromtimestamp(bin_index * BIN_MINUTES * 60, UTC)
            for topic, key in targets:
                self._volume(topic, volume[key], bin_index, at)
            self._negative(negative, volume["all"], bin_index, at)
        self._last_bin = last_complete

    def _raise(self, kind: str, topic: str | None, alert: Alert, clear_below: float) -> None:
        self._active[(kind, topic)] = _Active(alert, clear_below)
        log.info("alert: %s (%s)", alert.message, kind)

    def _maybe_clear(self, kind: str, topic: str | None, value: float, at: datetime) -> bool:
        """Count a quiet bin for an active alert; end it after :data:`CLEAR_AFTER` in a row.
        Returns whether an alert was active (the bin is then not judged again)."""
        active = self._active.get((kind, topic))
        if active is None:
            return False
        if value < active.clear_below:
            active.quiet_bins += 1
            if active.quiet_bins >= CLEAR_AFTER:
                del self._active[(kind, topic)]
                ended = replace(active.alert, active=False, ended_at=at)
                self._recent.append(ended)
                log.info("alert ended: %s (%s)", active.alert.message, kind)
        else:
            active.quiet_bins = 0
        return True

    def _volume(self, topic: str | None, bins: _Bins, index: int, at: datetime) -> None:
        kind = "volume-spike"
        current = bins.get(index)
        if current is None:
            return
        if self._maybe_clear(kind, topic, current, at):
            return
        usual = expectation(bins, index)
        if usual is None:
            return
        threshold = max(
            2.0 * usual.expected, usual.expected + 4.0 * usual.spread, float(self._min_count)
        )
        if current >= threshold:
            label = self._topics.get(topic, topic) if topic else "All mentions"
            per_min = current / BIN_MINUTES
            typical = usual.expected / BIN_MINUTES
            when = "for this time of day" if usual.seasonal else "this past hour"
            message = f"{label}: {per_min:.0f} mentions/min, usually {typical:.1f} {when}"
            alert = Alert(kind, topic, at, message, value=per_min, baseline=typical)
            self._raise(kind, topic, alert, usual.expected + usual.spread)

    def _negative(self, negative: _Bins, everything: _Bins, index: int, at: datetime) -> None:
        kind = "negative-surge"
        neg = negative.get(index) or 0
        total = everything.get(index) or 0
        share = neg / total if total else 0.0
        if self._maybe_clear(kind, None, share, at):
            return
        window = range(index - RECENT_BINS, index)
        neg_base = sum(negative.known(window))
        total_base = sum(everything.known(window))
        if total < self._min_count or total_base < self._min_count * MIN_RECENT_BINS // 2:
            return
        base_share = neg_base / total_base
        expected = total * base_share
        z = (neg - expected) / max(1.0, expected) ** 0.5
        if neg >= 6 and share >= max(1.6 * base_share, base_share + 0.15) and z >= 3.0:
            message = f"Negative posts at {share:.0%}, usually {base_share:.0%}"
            alert = Alert(kind, None, at, message, value=share, baseline=base_share)
            self._raise(kind, None, alert, base_share + (share - base_share) * 0.3)

"""Bounded, incrementally updated time windows: per-minute series and slotted top-k counters.

Nothing here grows with the number of posts: series are fixed-size rings of minute buckets, and the
counters keep at most ``capacity`` keys per slot (rarely seen keys are evicted first, the way a
heavy-hitters sketch does), so a wall holds the same memory on day 30 as on day 1.
"""

from __future__ import annotations

import heapq
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping


class MinuteSeries:
    """Counts per minute for a set of keys over the last ``minutes`` minutes (a ring buffer).

    ``add(minute, key)`` is O(1). The ring advances with the newest minute seen; counts older than
    the ring are dropped. Out-of-order minutes inside the ring are fine (backfills, replays).
    """

    __slots__ = ("_rings", "first", "head", "minutes")

    def __init__(self, minutes: int) -> None:
        self.minutes = minutes
        self.head: int | None = None
        """Newest minute index (POSIX seconds // 60) the ring covers."""
        self._rings: dict[str, array[int]] = {}
        self.first: int | None = None
        """Oldest minute ever counted (history before it is unknown, not zero)."""

    def _advance(self, minute: int) -> None:
        head = self.head
        if head is None:
            self.head = minute
            return
        steps = minute - head
        if steps >= self.minutes:
            for ring in self._rings.values():
                for i in range(self.minutes):
                    ring[i] = 0
        else:
            for m in range(head + 1, minute + 1):
                slot = m % self.minutes
                for ring in self._rings.values():
                    ring[slot] = 0
        self.head = minute

    def add(self, minute: int, keys: Iterable[str], amount: int = 1) -> bool:
        """Count ``amount`` for each key at ``minute`` (a key given twice counts twice). False
        when the minute is too old to keep."""
        counts: dict[str, int] = {}
        for key in keys:
            counts[key] = counts.get(key, 0) + amount
        return self.add_counts(minute, counts)

    def add_counts(self, minute: int, counts: Mapping[str, int]) -> bool:
        """Add ``counts`` (key → amount) at ``minute``. False when the minute is too old to keep."""
        head = self.head
        if head is None or minute > head:
            self._advance(minute)
            head = minute
        if minute <= head - self.minutes:
            return False
        if self.first is None or minute < self.first:
            self.first = minute
        slot = minute % self.minutes
        rings = self._rings
        for key, amount in counts.items():
            ring = rings.get(key)
            if ring is None:
                # 64-bit: engagement sums (likes a minute) may pass 2**31 — or be made to
                ring = rings[key] = array("q", bytes(8 * self.minutes))
            ring[slot] += amount
        return True

    def advance_to(self, minute: int) -> None:
        """Move the ring forward to ``minute`` (time passes even when nothing is posted)."""
        if self.head is None or minute > self.head:
            self._advance(minute)

    def keys(self) -> list[str]:
        """Every key counted at least once since the series was created."""
        return list(self._rings)

    def series(self, key: str, end_minute: int, count: int) -> list[int]:
        """``count`` per-minute values ending at ``end_minute`` (inclusive), oldest first."""
        ring = self._rings.get(key)
        head = self.head
        if ring is None or head is None or count <= 0:
            return [0] * max(0, count)
        first = end_minute - count + 1
        lo = max(first, head - self.minutes + 1)
        hi = min(end_minute, head)
        if lo > hi:
            return [0] * count
        return [0] * (lo - first) + self._values(ring, lo, hi) + [0] * (end_minute - hi)

    def total(self, key: str, end_minute: int, count: int) -> int:
        """Sum of ``count`` minutes ending at ``end_minute``."""
        ring = self._rings.get(key)
        head = self.head
        if ring is None or head is None:
            return 0
        lo = max(end_minute - count + 1, head - self.minutes + 1)
        hi = min(end_minute, head)
        return sum(self._values(ring, lo, hi)) if lo <= hi else 0

    def _values(self, ring: array[int], lo: int, hi: int) -> list[int]:
        """The ring's values for minutes ``lo``..``hi`` (inside the ring), oldest first."""
        n = self.minutes
        a, b = lo % n, hi % n
        if a <= b:
            return ring[a : b + 1].tolist()
        return ring[a:].tolist() + ring[: b + 1].tolist()

    def state(self) -> dict[str, object]:
        """A JSON-ready copy of the buckets (non-zero only) for persistence."""
        return {
            "head": self.head,
            "minutes": self.minutes,
            "rings": {k: {i: v for i, v in enumerate(r) if v} for k, r in self._rings.items()},
        }


class SlottedCounter:
    """Counts of keys (authors, terms) per time slot, bounded, for windowed top-k queries.

    Each slot covers ``slot_s`` seconds; ``slots`` of them are kept. A slot holding more than
    ``capacity`` keys drops its least-counted half, so frequent keys survive. All slots together
    hold at most ``budget`` keys (default ``capacity * 16``): past it, the oldest slots give up
    their tails first. So memory reaches its ceiling within hours at a high ingest rate and stays
    there, instead of growing until the horizon is full. An all-time counter with the same bound
    as a slot (times four) answers "all".
    """

    __slots__ = (
        "_all",
        "_merged",
        "_slots",
        "_total_keys",
        "budget",
        "capacity",
        "head",
        "slot_s",
        "slots",
    )

    def __init__(self, slot_s: int, slots: int, capacity: int, budget: int | None = None) -> None:
        self.slot_s = slot_s
        self.slots = slots
        self.capacity = capacity
        self.budget = budget if budget is not None else capacity * 16
        self._total_keys = 0
        self.head: int | None = None
        self._slots: dict[int, Counter[str]] = {}
        self._all: Counter[str] = Counter()
        self._merged: dict[tuple[int, int], Counter[str]] = {}

    def add(self, timestamp: float, keys: Iterable[str], amount: int = 1) -> None:
        """Count ``keys`` at ``timestamp`` (``amount`` each)."""
        index = int(timestamp // self.slot_s)
        if amount == 1:
            self.add_slot(index, keys if isinstance(keys, list) else list(keys))
        else:
            self.add_slot(index, [key for key in keys for _ in range(amount)])

    def add_slot(self, index: int, keys: list[str]) -> None:
        """Count every item of ``keys`` (repeats count again) in slot ``index``."""
        head = self.head
        if head is None or index > head:
            self.head = head = index
            floor = index - self.slots
            for old in [i for i in self._slots if i <= floor]:
                self._total_keys -= len(self._slots.pop(old))
            self._merged.clear()
        counter: Counter[str] | None = None
        if index > head - self.slots:
            counter = self._slots.get(index)
            if counter is None:
                counter = self._slots[index] = Counter()
            before = len(counter)
            # Counter.update counts an iterable in C: much faster than a loop here
            counter.update(keys)
            if index < head:  # a late post changed a closed slot: merged windows are stale
                self._merged.clear()
            if len(counter) > self.capacity:
                _shrink(counter, self.capacity // 2)
            self._total_keys += len(counter) - before
            if self._total_keys > self.budget:
                self._trim_oldest()
        everything = self._all
        everything.update(keys)
        if len(everything) > self.capacity * 4:
            _shrink(everything, self.capacity * 2)

    def _trim_oldest(self) -> None:
        """Halve the oldest slots' key sets (keeping their most counted keys) until the counter
        is back under :attr:`budget`, leaving the newest slot alone."""
        target = self.budget * 3 // 4
        for index in sorted(self._slots)[:-1]:
            counter = self._slots[index]
            if len(counter) > 16:
                before = len(counter)
                _shrink(counter, max(16, before // 4))
                self._total_keys -= before - len(counter)
            if self._total_keys <= target:
                break
        self._merged.clear()

    def window(self, end: float, seconds: float | None) -> Counter[str]:
        """Counts over the ``seconds`` before ``end`` (whole slots); ``None`` means all time.

        The closed slots of a window are merged once and reused until a slot closes or changes,
        so asking again for the same window costs one copy and the open slot's update.
        """
        if seconds is None:
            return Counter(self._all)
        last = int(end // self.slot_s)
        first = last - max(1, round(seconds / self.slot_s)) + 1
        head = self.head if self.head is not None else last
        closed_last = min(last, head - 1)
        total: Counter[str] = Counter()
        if closed_last >= first:
            key = (first, closed_last)
            merged = self._merged.get(key)
            if merged is None:
                merged = Counter()
                for index, counter in self._slots.items():
                    if first <= index <= closed_last:
                        merged.update(counter)
                if len(self._merged) >= 8:
                    self._merged.clear()
                self._merged[key] = merged
            total.update(merged)
        for index in range(max(first, closed_last + 1), last + 1):
            open_slot = self._slots.get(index)
            if open_slot:
                total.update(open_slot)
        return total

    def remove(self, index: int, keys: Iterable[str]) -> None:
        """Take back one count of each of ``keys`` in slot ``index`` and in the all-time counts
        (a post hidden after it was counted). Counts never go below zero."""
        counter = self._slots.get(index)
        everything = self._all
        changed = False
        for key in keys:
            if counter is not None and (n := counter.get(key)) is not None:
                changed = True
                if n <= 1:
                    del counter[key]
                    self._total_keys -= 1
                else:
                    counter[key] = n - 1
            if (n := everything.get(key)) is not None:
                if n <= 1:
                    del everything[key]
                else:
                    everything[key] = n - 1
        if changed and self.head is not None and index < self.head:
            self._merged.clear()

    def all_keys(self) -> set[str]:
        """Every key counted anywhere (all time and every slot)."""
        found = set(self._all)
        for counter in self._slots.values():
            found.update(counter)
        return found

    def discard(self, key: str) -> None:
        """Forget a key everywhere (a blocked author or word)."""
        self._all.pop(key, None)
        for counter in self._slots.values():
            if counter.pop(key, None) is not None:
                self._total_keys -= 1
        for counter in self._merged.values():
            counter.pop(key, None)

    def __len__(self) -> int:
        return len(self._all) + sum(len(c) for c in self._slots.values())


def _shrink(counter: Counter[str], keep: int) -> None:
    """Keep the ``keep`` most counted keys of ``counter`` (in place)."""
    if len(counter) <= keep:
        return
    survivors = heapq.nlargest(keep, counter.items(), key=lambda kv: kv[1])
    counter.clear()
    counter.update(dict(survivors))

"""Bounded time windows."""

from __future__ import annotations

from agora.core.windows import MinuteSeries, SlottedCounter


def test_minute_series_counts_and_rolls_over() -> None:
    series = MinuteSeries(10)
    series.add(100, ["a"])
    series.add(100, ["a", "b"])
    series.add(105, ["a"])
    assert series.series("a", 105, 6) == [2, 0, 0, 0, 0, 1]
    assert series.total("b", 105, 10) == 1
    # out of order inside the ring is fine, too old is refused
    assert series.add(99, ["a"])
    assert not series.add(95, ["a"])
    series.advance_to(112)
    assert series.series("a", 112, 10) == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]  # minutes 103..112
    series.advance_to(500)
    assert series.total("a", 500, 10) == 0


def test_minute_series_memory_is_fixed() -> None:
    series = MinuteSeries(60)
    for minute in range(100_000):
        series.add(minute, ["k"])
    assert len(series.keys()) == 1
    assert series.total("k", 99_999, 60) == 60


def test_slotted_counter_windows_and_bounds() -> None:
    counter = SlottedCounter(slot_s=60, slots=10, capacity=100)
    for i in range(5_000):
        counter.add(i * 0.5, [f"rare{i}", "hot"])
    # windows are whole slots: the slot [2460, 2520) holds posts at 2460.0 … 2499.5
    assert counter.window(2_499, 60)["hot"] == 80
    assert counter.window(2_499, 120)["hot"] == 200
    assert counter.window(2_499, None)["hot"] == 5_000
    # bounded: slots beyond the horizon dropped, each slot and the all-time counter capped
    assert len(counter) < 100 * 10 + 100 * 4 + 100
    counter.discard("hot")
    assert "hot" not in counter.window(2_499, None)


def test_minute_series_batch_counts_match_single_adds() -> None:
    one, batch = MinuteSeries(30), MinuteSeries(30)
    for minute, keys in [(10, ["a", "b"]), (10, ["a"]), (12, ["b"]), (40, ["a"])]:
        one.add(minute, keys)
    batch.add_counts(10, {"a": 2, "b": 1})
    batch.add_counts(12, {"b": 1})
    batch.add_counts(40, {"a": 1})
    assert not batch.add_counts(5, {"a": 1})  # older than the ring
    for key in ("a", "b"):
        assert one.series(key, 40, 45) == batch.series(key, 40, 45)
        assert one.total(key, 40, 30) == batch.total(key, 40, 30)
    # a window reaching before the ring and past the head is padded with zeros
    assert batch.series("a", 45, 40) == [0] * 34 + [1] + [0] * 5


def test_slotted_counter_window_cache_sees_late_posts_and_new_slots() -> None:
    counter = SlottedCounter(slot_s=60, slots=10, capacity=100)
    counter.add_slot(1, ["x", "y"])
    counter.add_slot(2, ["x"])
    counter.add_slot(3, ["x"])  # slot 3 is open, 1 and 2 are closed
    assert counter.window(3 * 60 + 5, 180) == {"x": 3, "y": 1}
    counter.add_slot(2, ["y", "y"])  # a late post changes a closed slot
    assert counter.window(3 * 60 + 5, 180) == {"x": 3, "y": 3}
    counter.add_slot(3, ["z"])  # the open slot is always read fresh
    assert counter.window(3 * 60 + 5, 180)["z"] == 1
    counter.add_slot(4, ["x"])  # slot 3 closes, slot 1 leaves the 3-slot window
    assert counter.window(4 * 60 + 5, 180) == {"x": 3, "y": 2, "z": 1}
    counter.discard("x")
    assert "x" not in counter.window(4 * 60 + 5, 180)


def test_slotted_counter_memory_stops_at_its_budget() -> None:
    counter = SlottedCounter(slot_s=60, slots=100, capacity=500, budget=2_000)
    sizes = []
    for slot in range(400):
        counter.add_slot(slot, [f"t{slot}-{i}" for i in range(300)] + ["hot"] * 5)
        sizes.append(sum(len(c) for c in counter._slots.values()))
    assert max(sizes) <= 2_000 + 305  # the budget, plus the newest slot before it is trimmed
    assert sizes[-1] == counter._total_keys
    # the newest slots keep their detail; the most counted key survives everywhere
    assert len(counter.window(399 * 60, 60)) == 301
    assert counter.window(399 * 60, 100 * 60)["hot"] == 100 * 5

"""Hot reload in the engine: a new config applies without losing data; only changed sources
restart; new topics or rules rebuild the figures from the store with decisions kept."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agora.config.schema import WallConfig
from agora.core.post import Author, Post
from agora.engine import HEALTH_STATE_KEY, Engine
from agora.store.base import Decision
from agora.store.memory import MemoryStore

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def post(n: int, text: str, minutes: int = 0, handle: str = "@ana") -> Post:
    return Post(
        id=f"jsonl:{n}",
        source="jsonl",
        feed="archive",
        text=text,
        created_at=NOW - timedelta(minutes=minutes),
        author=Author(handle, "Ana", None, None, 10),
        lang="en",
    )


def config(**overrides: Any) -> WallConfig:
    data: dict[str, Any] = {
        "topics": {"brand": {"label": "Lumen", "terms": ["lumen"]}},
        "screens": [{"pages": [{"grid": "1x1", "panels": [{"kind": "featured"}]}]}],
    }
    data.update(overrides)
    return WallConfig.model_validate(data)


@pytest.fixture
def engine() -> Iterator[Engine]:
    store = MemoryStore()
    made = Engine(config(), store, config_dir=Path("."), clock=lambda: NOW, sources=[])
    made.ingest_now(
        [
            post(1, "lumen camera is great", 1),
            post(2, "corvid battery is bad", 2),
            post(3, "lumen and corvid side by side", 3),
            post(4, "win a lumen giveaway now", 4, handle="@spammer"),
        ]
    )
    yield made
    made.close()


def by_topic(engine: Engine) -> dict[str, int]:
    return dict(engine.publish(force=True).summary(None).posts.by_topic)


def test_new_topics_rebuild_the_figures_from_the_store(engine: Engine) -> None:
    assert by_topic(engine) == {"brand": 3}
    new = config(
        topics={
            "brand": {"label": "Lumen", "terms": ["lumen"]},
            "rival": {"label": "Corvid", "terms": ["corvid"]},
        }
    )
    changes = engine.reconfigure(new)
    assert changes == ["figures rebuilt from the store (topics changed)"]
    assert engine.config is new
    assert by_topic(engine) == {"brand": 3, "rival": 2}
    assert engine.store.count_posts() == 4  # nothing was lost
    assert dict(engine.snapshot.topics) == {"brand": "Lumen", "rival": "Corvid"}


def test_decisions_survive_a_rebuild_and_new_rules_apply_to_stored_posts(engine: Engine) -> None:
    engine.apply_decision(Decision("hide", "jsonl:1", "test", NOW))
    engine.apply_decision(Decision("pin", "jsonl:3", "test", NOW))
    engine.reconfigure(config(moderation={"block_terms": ["giveaway"]}))
    shown = {p.id: p.moderation.state for p in engine.publish(force=True).newest}
    assert "jsonl:1" not in shown  # still hidden by the operator
    assert "jsonl:4" not in shown  # hidden by the new rule
    assert shown["jsonl:3"] == "pinned"


def test_screens_only_change_the_windows_the_figures_cover(engine: Engine) -> None:
    new = config(
        screens=[
            {
                "pages": [
                    {"grid": "1x1", "panels": [{"kind": "volume", "window": "6h"}]},
                ]
            }
        ]
    )
    before = engine.pipeline
    assert engine.reconfigure(new) == []
    assert engine.pipeline is before
    assert "6h" in engine.publish(force=True).windows


class FakeSource:
    """Stands for a built source: the engine only needs a name, health and run()."""

    offline = True

    def __init__(self, entry: Any, context: Any) -> None:
        from agora.core.health import SourceHealth

        self.config = entry
        self.name = entry.name
        self.kind = entry.kind
        self.health = SourceHealth(name=entry.name, kind=entry.kind)
        self.runs = 0

    async def run(self, sink: Any, stop: Any) -> None:
        self.runs += 1
        await stop.wait()

    def mark_error(self, message: str) -> None:
        raise AssertionError(message)


def test_only_the_sources_whose_entry_changed_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agora.sources import registry

    monkeypatch.setattr(registry, "build_source", FakeSource)
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.jsonl").write_text("", encoding="utf-8")
    sources = [
        {"name": "a", "kind": "jsonl", "path": "a.jsonl"},
        {"name": "b", "kind": "jsonl", "path": "b.jsonl"},
        {"name": "c", "kind": "jsonl", "path": "c.jsonl"},
    ]
    old = config(sources=sources)
    built = [FakeSource(entry, None) for entry in old.sources]
    engine = Engine(old, MemoryStore(), config_dir=tmp_path, sources=built)  # type: ignore[arg-type]
    engine.start()
    try:
        deadline = time.monotonic() + 60  # a safety net for a busy machine
        while sum(s.runs for s in built) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        new = config(
            sources=[
                {"name": "a", "kind": "jsonl", "path": "a.jsonl"},
                {"name": "b", "kind": "jsonl", "path": "b.jsonl", "every": "1m"},
                {"name": "d", "kind": "jsonl", "path": "c.jsonl"},
            ]
        )
        changes = engine.reconfigure(new, config_dir=tmp_path)
        assert changes == ["sources: restarted b; started d; stopped c"]
        names = [s.name for s in engine.sources]
        assert names == ["a", "b", "d"]
        assert engine.sources[0] is built[0]  # untouched: never stopped
        assert engine.sources[1] is not built[1]
        deadline = time.monotonic() + 60  # a safety net for a busy machine
        while time.monotonic() < deadline and not all(
            getattr(s, "runs", 0) == 1 for s in engine.sources
        ):
            time.sleep(0.01)
        assert [getattr(s, "runs", 0) for s in engine.sources] == [1, 1, 1]
        assert built[0].runs == 1
        assert set(engine.health()) == {"a", "b", "d"}
    finally:
        engine.close()


def test_source_health_is_kept_in_the_store_for_the_console(engine: Engine) -> None:
    engine.save_health(force=True)
    saved = engine.store.get_state(HEALTH_STATE_KEY)
    assert saved is not None
    record = json.loads(saved)
    assert record["sources"] == {}
    assert record["at"] == "2026-11-22T12:00:00Z"


def test_a_new_scorer_rescores_every_stored_post_a_batch_at_a_time(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agora.engine import wiring

    engine.ingest_now([post(10 + n, f"lumen works {n}", 5 + n) for n in range(3)])
    before = {p.id: p.sentiment for p in engine.publish(force=True).newest}
    assert len(before) == 7 and all(s is not None for s in before.values())
    batches: list[int] = []  # the batch sizes the new pipeline's scorer is asked
    real = wiring.make_scorer

    def counting(*args: Any, **kwargs: Any) -> Any:
        made = real(*args, **kwargs)
        score_many = made.score_many

        def counted(texts: Any, langs: Any) -> Any:
            batches.append(len(texts))
            return score_many(texts, langs)

        made.score_many = counted  # type: ignore[method-assign]
        return made

    monkeypatch.setattr(wiring, "make_scorer", counting)
    monkeypatch.setattr(wiring, "RESCORE_BATCH", 3)
    engine.reconfigure(config(analytics={"sentiment": "vader"}))
    after = {p.id: p.sentiment for p in engine.publish(force=True).newest}
    assert after.keys() == before.keys()
    # every stored post was scored again by VADER, the last two in a batch of their own
    assert batches == [3, 3, 1]
    assert after["jsonl:2"] is not None and after["jsonl:2"].label == "negative"
    assert all(s is not None and s.score == round(s.score, 4) for s in after.values())
    vader_scores = {pid: s.score for pid, s in after.items() if s is not None}
    assert vader_scores != {pid: s.score for pid, s in before.items() if s is not None}

"""What a hot reload changes in the running sources, and how to say it in the log.

:func:`plan_sources` compares the old and the new config's ``[[sources]]`` with what runs: an
entry that is gone or edited (or that reads the topics, when the topics changed) is stopped, a
new or edited one is built and started from its saved place, the others keep running.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from agora.config.schema import WallConfig
from agora.sources.base import Source, SourceContext

log = logging.getLogger("agora.engine")


def reads_topics(entry: object) -> bool:
    """Sources that take the topics' terms as their own: restarted when the topics change."""
    kind = getattr(entry, "kind", "")
    return kind == "simulator" or (kind == "bluesky" and not getattr(entry, "keywords", None))


@dataclass(slots=True)
class SourcePlan:
    """The sources a reload stops and starts, and the running order afterwards."""

    stopping: list[str] = field(default_factory=list)
    starting: list[Source] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    """Every source after the reload, in config order."""

    def describe(self) -> str:
        """``"sources: restarted a; started b; stopped c"``, or ``""`` when nothing changes."""
        if not self.stopping and not self.starting:
            return ""
        started = [s.name for s in self.starting]
        parts = []
        if restarted := [n for n in self.stopping if n in started]:
            parts.append(f"restarted {', '.join(restarted)}")
        if added := [n for n in started if n not in self.stopping]:
            parts.append(f"started {', '.join(added)}")
        if removed := [n for n in self.stopping if n not in started]:
            parts.append(f"stopped {', '.join(removed)}")
        if self.failed:
            parts.append(f"could not start {', '.join(self.failed)}")
        return "sources: " + "; ".join(parts)


def plan_sources(
    old: WallConfig, new: WallConfig, running: Sequence[Source], context: SourceContext
) -> SourcePlan:
    """What to stop and start so the running sources match ``new`` (sources not built from
    ``old``'s entries — tests, benchmarks — are left alone)."""
    from agora.sources.registry import build_source

    old_entries = {entry.name: entry for entry in old.sources if entry.enabled}
    new_entries = {entry.name: entry for entry in new.sources if entry.enabled}
    topics_changed = old.topics != new.topics
    by_name = {source.name: source for source in running}
    plan = SourcePlan()
    for name in by_name:
        if name not in old_entries:
            continue
        entry = new_entries.get(name)
        if entry is None or entry != old_entries[name] or (topics_changed and reads_topics(entry)):
            plan.stopping.append(name)
    for name, entry in new_entries.items():
        if name in by_name and name not in plan.stopping:
            continue
        try:
            plan.starting.append(build_source(entry, context))
        except Exception as exc:  # an unknown kind or a bad file: the others still start
            log.error("source %s could not be started: %s", name, exc)
            plan.failed.append(name)
    kept = [s for s in running if s.name not in plan.stopping]
    after = {s.name: s for s in [*kept, *plan.starting]}
    order = [e.name for e in new.sources if e.name in after]
    plan.sources = [after[n] for n in order] + [s for s in kept if s.name not in order]
    return plan

"""``agora bench ingest``: simulator posts through the whole pipeline into a real SQLite store.

Measures, in one run and on the same texts:

* ``pipeline_posts_per_s``: normalise → dedupe → moderate → sentiment → topics → store →
  aggregates, batches of ``batch`` posts, SQLite on disk (WAL);
* ``vader_posts_per_s``: bare VADER ``polarity_scores`` on the same texts;
* ``scorer_posts_per_s``: the pipeline's own sentiment scorer (``[analytics] sentiment``, the
  social scorer by default) alone on the same texts, language check included;
* ``peak_rss_mb`` and the RSS after 10 % of the posts and at the end, to show memory stops growing.

Post generation is not timed: posts are generated a batch at a time just before they are ingested,
so the benchmark never holds more than one batch of posts in memory.
"""

from __future__ import annotations

import gc
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agora.config.schema import SimulatorSource, TopicConfig, WallConfig
from agora.engine import build_pipeline
from agora.sources.base import SourceContext

BENCH_CONFIG = WallConfig(
    topics={
        "brand": TopicConfig(label="Lumen", terms=["lumen", "#lumen", "@lumen", "lumen x1"]),
        "rival": TopicConfig(label="Corvid", terms=["corvid", "#corvid"]),
        "other": TopicConfig(label="Halcyon", terms=["halcyon", "#halcyon"]),
        "launch": TopicConfig(label="X1 launch", terms=["#lumenx1", "lumen x1"]),
    },
)


def rss_mb() -> float:
    """Current resident set size in MiB (Linux ``/proc``; falls back to the peak)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ingest_bench(
    posts: int = 200_000, batch: int = 500, data_dir: Path | None = None
) -> dict[str, Any]:
    """Run the benchmark and return its figures."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from agora.core.sentiment import make_scorer
    from agora.sources.simulator import SimulatorSource as Simulator
    from agora.store.sqlite import SqliteStore

    with tempfile.TemporaryDirectory(prefix="agora-bench-") as tmp:
        directory = data_dir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        store = SqliteStore(directory / "bench.sqlite3")
        config = BENCH_CONFIG.model_copy(
            update={"sources": [SimulatorSource(name="sim", kind="simulator", rate=600, seed=3)]}
        )
        start = datetime(2026, 11, 2, tzinfo=UTC)
        context = SourceContext(wall=config, config_dir=directory, clock=lambda: start)
        simulator = Simulator(config.sources[0], context)
        pipeline = build_pipeline(config, store)
        analyser = SentimentIntensityAnalyzer()
        analytics = config.analytics
        scorer = make_scorer(analytics.sentiment, analytics.neutral_band, analytics.lexicon)
        stream = simulator.stream(start - timedelta(days=2))

        pipeline_s = 0.0
        vader_s = 0.0
        scorer_s = 0.0
        done = 0
        rss_at_10pct: float | None = None
        gc.collect()
        rss_start = rss_mb()
        while done < posts:
            chunk = [next(stream) for _ in range(min(batch, posts - done))]
            texts = [p.text for p in chunk]
            now = chunk[-1].created_at
            t0 = time.perf_counter()
            pipeline.ingest(chunk, now=now)
            t1 = time.perf_counter()
            for text in texts:
                analyser.polarity_scores(text)
            t2 = time.perf_counter()
            for post in chunk:
                scorer.score(post.text, post.lang)
            t3 = time.perf_counter()
            pipeline_s += t1 - t0
            vader_s += t2 - t1
            scorer_s += t3 - t2
            done += len(chunk)
            if rss_at_10pct is None and done >= posts // 10:
                rss_at_10pct = rss_mb()
        t0 = time.perf_counter()
        snapshot = pipeline.aggregates.snapshot()
        snapshot_s = time.perf_counter() - t0
        stored = store.count_posts()
        store.close()
        return {
            "posts": done,
            "batch": batch,
            "pipeline_posts_per_s": round(done / pipeline_s),
            "vader_posts_per_s": round(done / vader_s),
            "pipeline_vs_vader": round(vader_s / pipeline_s, 3),
            "scorer": scorer.name,
            "scorer_posts_per_s": round(done / scorer_s) if scorer_s else None,
            "snapshot_ms": round(snapshot_s * 1000, 1),
            "stored_posts": stored,
            "rss_mb_start": round(rss_start, 1),
            "rss_mb_at_10pct": round(rss_at_10pct or 0.0, 1),
            "rss_mb_end": round(rss_mb(), 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "featured": len(snapshot.featured),
        }

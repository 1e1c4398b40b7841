"""``agora bench ingest``: simulator posts through the whole pipeline into a real SQLite store.

The conditions are those of a live wall, not the ones that flatter it:

* **batches as sources deliver them**: ``batch`` posts at a time (20 by default; a live source
  hands over a few posts a round, the simulator a second's worth);
* **the demo's config with every moderation filter on**: the demo's topics, analytics and
  moderation (profanity, blocked terms) plus every other filter ``[moderation]`` has
  (:data:`EXTRA_FILTERS`: patterns, authors, domains, sources, the language filter, trusted authors
  and untrusted media), so each post goes through every check a wall can ask for;
* **a store that already holds a day of posts**: the demo simulator's last 24 hours (``history_s``)
  are ingested first, untimed, so the deduper asks a full store and the aggregates carry a day;
* **English texts only**: the scorers are compared on what all of them score. A post an English
  scorer would not score (:func:`agora.core.sentiment.english_scorable`: its language tag,
  corrected or detected) is left out before timing, and counted in ``skipped``; the pipeline, bare
  VADER and the pipeline's scorer then see exactly the same texts.

Figures (``--json`` keys):

* ``pipeline_posts_per_s``: normalise → dedupe → moderate → sentiment → topics → store →
  aggregates, SQLite on disk (WAL);
* ``vader_posts_per_s``: bare VADER ``polarity_scores`` on the same texts, one by one;
* ``ratio``: pipeline / bare VADER (1.0: the whole pipeline is as fast as VADER alone);
* ``scorer`` and ``scorer_posts_per_s``: the pipeline's sentiment scorer (``--scorer``, else the
  config's) alone on the same texts, through ``score_many`` in the same batches the pipeline uses;
* ``pipeline_cpu_posts_per_s``, ``vader_cpu_posts_per_s`` and ``ratio_cpu``: the same on the
  thread's CPU time (what a neighbour's load on a shared machine does not change; the pipeline's
  waits for the disk are left out of it);
* ``english_texts`` (timed) and ``skipped`` (left out as not English);
* ``peak_rss_mb`` and the RSS after 10 % of the posts and at the end, to show memory stops growing.

Post generation and the language check are not timed: posts are generated a batch at a time just
before they are ingested, so the benchmark never holds more than one batch in memory. The three
measurements are interleaved batch by batch, so a neighbour's load on a shared machine weighs on
all three alike.
"""

from __future__ import annotations

import gc
import resource
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agora.config.schema import AnalyticsConfig, ModerationConfig, SimulatorSource, WallConfig
from agora.core.post import Post
from agora.core.tokens import SHARED
from agora.engine import build_pipeline
from agora.sources.base import SourceContext

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "assets" / "demo.toml"
#: The filters the demo leaves off, turned on for the benchmark (values that match nothing the
#: simulator sends, or little: the cost is in checking, and hidden posts are still counted).
EXTRA_FILTERS: dict[str, Any] = {
    "block_patterns": [r"free\s+(followers|likes)", r"\bdm\s+me\s+for\b", r"crypto\s*airdrop"],
    "block_authors": ["@spam@spam.example", "bot.bsky.example", "reddit:u/spammer"],
    "block_domains": ["spam.example", "clickbait.example"],
    "block_sources": ["spam-feed"],
    "languages": ["en"],
    "hide_sensitive": True,
    "hide_untrusted_media": True,
}
#: Simulated posts a minute of the timed stream (the launch-day peak of a busy brand).
STREAM_RATE = 600.0


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


def bench_config(scorer: str | None = None) -> WallConfig:
    """The demo's config, every moderation filter on, ``scorer`` as its sentiment scorer."""
    from agora.config.loader import load_config

    demo = load_config(DEMO_CONFIG).config
    moderation = ModerationConfig.model_validate(
        {
            **demo.moderation.model_dump(),
            **EXTRA_FILTERS,
            "allow_authors": list(demo.analytics.owned_accounts),
        }
    )
    analytics = demo.analytics
    if scorer is not None:
        analytics = AnalyticsConfig.model_validate({**analytics.model_dump(), "sentiment": scorer})
    return demo.model_copy(update={"moderation": moderation, "analytics": analytics})


def filters_on(moderation: ModerationConfig) -> list[str]:
    """The ``[moderation]`` settings that are on (the report says which)."""
    dumped = moderation.model_dump()
    return sorted(k for k, v in dumped.items() if v and k not in ("approval", "profanity_allow"))


def _simulator(config: WallConfig, source: SimulatorSource, directory: Path, at: datetime) -> Any:
    from agora.sources.simulator import SimulatorSource as Simulator

    context = SourceContext(wall=config, config_dir=directory, clock=lambda: at)
    return Simulator(source, context)


def run_ingest_bench(
    posts: int = 200_000,
    batch: int = 20,
    data_dir: Path | None = None,
    *,
    scorer: str | None = None,
    history_s: float = 86_400.0,
) -> dict[str, Any]:
    """Run the benchmark and return its figures. ``posts``: English posts timed; ``scorer``: the
    pipeline's sentiment scorer (default: the demo config's); ``history_s``: seconds of the demo's
    history in the store before timing (0: an empty store)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from agora.core.sentiment import english_scorable
    from agora.store.sqlite import SqliteStore

    if batch < 1:
        raise ValueError("batch must be at least 1")
    config = bench_config(scorer)
    start = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="agora-bench-") as tmp:
        directory = data_dir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        store = SqliteStore(directory / "bench.sqlite3")
        pipeline = build_pipeline(config, store)
        demo_source = next(s for s in config.sources if isinstance(s, SimulatorSource))

        # a day behind the wall, untimed: every language, the demo's own rate and seed
        history_started = time.perf_counter()
        history = 0
        if history_s > 0:
            since = start - timedelta(seconds=history_s)
            past = _simulator(config, demo_source, directory, start).generate(since, start)
            for at in range(0, len(past), 500):
                part = past[at : at + 500]
                pipeline.ingest(part, now=part[-1].created_at)
            history = len(past)
            del past
        history_s = time.perf_counter() - history_started
        stored_before = store.count_posts()

        live = SimulatorSource(name="live", kind="simulator", rate=STREAM_RATE, seed=3)
        stream: Iterator[Post] = _simulator(config, live, directory, start).stream(start)
        analyser = SentimentIntensityAnalyzer()
        own_scorer = pipeline.sentiment.scorer

        pipeline_s = vader_s = scorer_s = pipeline_cpu = vader_cpu = 0.0
        done = skipped = 0
        rss_at_10pct: float | None = None
        gc.collect()
        rss_start = rss_mb()
        while done < posts:
            chunk: list[Post] = []
            want = min(batch, posts - done)
            while len(chunk) < want:
                post = next(stream)
                if english_scorable(post.text, post.lang):
                    chunk.append(post)
                else:
                    skipped += 1
            texts = [p.text for p in chunk]
            langs = [p.lang for p in chunk]
            now = chunk[-1].created_at
            # the language check above read these texts: the pipeline must read them afresh
            SHARED.clear()
            c0, t0 = time.thread_time(), time.perf_counter()
            pipeline.ingest(chunk, now=now)
            c1, t1 = time.thread_time(), time.perf_counter()
            for text in texts:
                analyser.polarity_scores(text)
            c2, t2 = time.thread_time(), time.perf_counter()
            SHARED.clear()  # nor may the scorer alone find what the pipeline read of them
            t_scorer = time.perf_counter()
            own_scorer.score_many(texts, langs)  # the call the pipeline makes for this batch
            t3 = time.perf_counter()
            pipeline_s += t1 - t0
            vader_s += t2 - t1
            scorer_s += t3 - t_scorer
            pipeline_cpu += c1 - c0
            vader_cpu += c2 - c1
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
            "scorer": own_scorer.name,
            "pipeline_posts_per_s": round(done / pipeline_s),
            "vader_posts_per_s": round(done / vader_s),
            "ratio": round(vader_s / pipeline_s, 3),
            "scorer_posts_per_s": round(done / scorer_s) if scorer_s else None,
            "pipeline_cpu_posts_per_s": round(done / pipeline_cpu) if pipeline_cpu else None,
            "vader_cpu_posts_per_s": round(done / vader_cpu) if vader_cpu else None,
            "ratio_cpu": round(vader_cpu / pipeline_cpu, 3) if pipeline_cpu else None,
            "english_texts": done,
            "skipped": skipped,
            "moderation_filters": filters_on(config.moderation),
            "history_posts": history,
            "history_ingest_s": round(history_s, 1),
            "stored_before": stored_before,
            "stored_posts": stored,
            "snapshot_ms": round(snapshot_s * 1000, 1),
            "rss_mb_start": round(rss_start, 1),
            "rss_mb_at_10pct": round(rss_at_10pct or 0.0, 1),
            "rss_mb_end": round(rss_mb(), 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "featured": len(snapshot.featured),
        }

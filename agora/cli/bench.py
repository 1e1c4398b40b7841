"""``agora bench``: the performance figures (run by hand, reported in closing notes)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from agora.cli.common import EXIT_OK, Command, Parents, window


def register(sub: Any, parents: Parents) -> dict[str, Command]:
    """Add ``bench`` and its benchmarks to the parser."""
    common = parents.common
    p = sub.add_parser("bench", parents=[common], help="performance benchmarks")
    bench = p.add_subparsers(dest="bench", metavar="BENCH", required=True)
    b = bench.add_parser("ingest", parents=[common], help="simulator posts through the pipeline")
    b.add_argument("--posts", type=int, default=200_000, help="English posts timed")
    b.add_argument(
        "--batch", type=int, default=20, help="posts per ingest call (default 20, as live)"
    )
    b.add_argument(
        "--scorer",
        choices=("social", "rules", "vader", "none"),
        default=None,
        help="the pipeline's sentiment scorer (default: the demo config's)",
    )
    b.add_argument(
        "--history",
        type=window,
        default=86_400.0,
        help="the demo's history in the store before timing (default 24h; 0s: empty)",
    )
    b.add_argument("--json", action="store_true")
    b.add_argument("--data-dir", type=Path, default=None, help="store directory (default: temp)")
    b = bench.add_parser(
        "render", parents=[common], help="the demo wall on six offscreen screens under a stream"
    )
    b.add_argument("--seconds", type=float, default=60.0, help="how long to measure (default 60)")
    b.add_argument("--rate", type=float, default=20.0, help="live posts a second (default 20)")
    b.add_argument(
        "--history",
        type=window,
        default=None,
        help="history ingested first (default: the demo's backfill, 24h)",
    )
    b.add_argument(
        "--screens",
        type=Path,
        default=None,
        help="offscreen screens JSON (default: the bundled six screens)",
    )
    b.add_argument("--json", action="store_true")
    b.add_argument("--data-dir", type=Path, default=None, help="store directory (default: temp)")
    b = bench.add_parser(
        "soak",
        parents=[common],
        help="the demo wall's memory: days on a fake clock, or --realtime minutes on six screens",
    )
    b.add_argument("--days", type=float, default=10.0, help="simulated days (default 10)")
    b.add_argument("--rate", type=float, default=None, help="posts a minute (default: the demo's)")
    b.add_argument(
        "--realtime",
        type=float,
        default=None,
        metavar="MINUTES",
        help="instead: six screens in real time for MINUTES, RSS each minute, slope in MB/hour",
    )
    b.add_argument(
        "--posts-per-s",
        type=float,
        default=20.0,
        help="with --realtime: live posts a second (0: none, the wall only animates)",
    )
    b.add_argument(
        "--prefill",
        type=float,
        default=0.0,
        metavar="MINUTES",
        help="with --realtime: first ingest MINUTES of the live stream at its rate (full figures)",
    )
    b.add_argument(
        "--trace",
        type=Path,
        default=None,
        metavar="FILE",
        help="with --realtime: after the warm-up, where memory goes each minute (JSON lines)",
    )
    b.add_argument(
        "--warmup",
        type=float,
        default=None,
        metavar="MINUTES",
        help="with --realtime: minutes left out of the slope (default a third, at most 10)",
    )
    b.add_argument("--json", action="store_true")
    b = bench.add_parser(
        "sources", parents=[common], help="a local Jetstream replay into the bluesky source"
    )
    b.add_argument("--events", type=int, default=100_000, help="events replayed (default 100000)")
    b.add_argument(
        "--match-rate", type=float, default=1.0, help="share of events that match (default 1.0)"
    )
    b.add_argument("--json", action="store_true")
    b = bench.add_parser(
        "fanout",
        parents=[common],
        help="one collector and N walls on one PostgreSQL database: lags, decisions, load",
    )
    b.add_argument("--walls", type=int, default=50, help="walls following (default 50)")
    b.add_argument("--rate", type=float, default=100.0, help="posts a second (default 100)")
    b.add_argument("--seconds", type=float, default=30.0, help="how long to feed (default 30)")
    b.add_argument(
        "--walls-as",
        choices=("engines", "followers", "mixed"),
        default="engines",
        help="engines: what agora run runs, timed at each snapshot (default); followers: only "
        "what a wall asks of the database (for more walls than this machine can compute); "
        "mixed: five engines among followers",
    )
    b.add_argument(
        "--url",
        default=None,
        help="a PostgreSQL database to use (a schema of its own, dropped at the end; password "
        "from AGORA_DB_PASSWORD); default: a temporary local server",
    )
    b.add_argument("--json", action="store_true")
    return {"bench": run}


def _print(report: dict[str, Any], as_json: bool, width: int = 16) -> None:
    if as_json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>{width}}: {value}")


def run(args: argparse.Namespace) -> int:
    """``agora bench ingest``, ``render``, ``soak``, ``sources`` and ``fanout``."""
    if args.bench == "fanout":
        from agora.bench.fanout import format_report as fanout_report
        from agora.bench.fanout import run_fanout_bench

        def say(message: str) -> None:
            if not args.json:
                print(message, flush=True)

        fanout = run_fanout_bench(
            args.walls,
            args.rate,
            args.seconds,
            kind=args.walls_as,
            url=args.url,
            progress=say,
        )
        print(json.dumps(fanout) if args.json else fanout_report(fanout))
        return EXIT_OK
    if args.bench == "sources":
        from agora.bench.sources import run_sources_bench

        _print(run_sources_bench(events=args.events, match_rate=args.match_rate), args.json)
        return EXIT_OK
    if args.bench == "soak" and args.realtime is not None:
        from agora.bench.soak import run_realtime_soak

        def sampled(minute: float, rss: float) -> None:
            if not args.json:
                print(f"{minute:6.1f} min: RSS {rss:.1f} MB", flush=True)

        realtime = run_realtime_soak(
            args.realtime,
            rate_per_s=args.posts_per_s,
            warmup_minutes=args.warmup,
            on_sample=sampled,
            trace=args.trace,
            prefill_minutes=args.prefill,
        )
        _print(realtime, args.json, width=20)
        return EXIT_OK
    if args.bench == "soak":
        from agora.bench.soak import run_soak_bench

        def day_done(day: int, rss: float) -> None:
            if not args.json:
                print(f"day {day}: RSS {rss:.1f} MB", flush=True)

        _print(run_soak_bench(args.days, rate_per_min=args.rate, on_day=day_done), args.json)
        return EXIT_OK
    if args.bench == "render":
        from agora.bench.render import format_report, run_render_bench

        result = run_render_bench(
            seconds=args.seconds,
            rate_per_s=args.rate,
            history_s=args.history,
            data_dir=args.data_dir,
            screens_file=args.screens,
        )
        print(json.dumps(result) if args.json else format_report(result))
        return EXIT_OK
    from agora.bench.ingest import run_ingest_bench

    result = run_ingest_bench(
        posts=args.posts,
        batch=args.batch,
        data_dir=args.data_dir,
        scorer=args.scorer,
        history_s=args.history or 0.0,
    )
    _print(result, args.json, width=28)
    return EXIT_OK

"""The ``agora`` command line.

Every command prints errors as one clear line on stderr and exits non-zero; a traceback appears only
with ``--debug``. Commands that touch the store take ``--data-dir``. Heavy modules (Qt, the
sources) are imported by the command that needs them, so ``agora check`` and ``agora sentiment``
start quickly and run without a display.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from agora import __version__

if TYPE_CHECKING:
    from agora.config.loader import LoadedConfig
    from agora.core.post import Post
    from agora.core.sentiment import Scorer
    from agora.core.sentiment_eval import Example
    from agora.core.snapshot import Snapshot
    from agora.sources.base import Source

log = logging.getLogger("agora")

#: allocations between collections of the youngest generation (Python's default is 700)
GC_THRESHOLD = 10_000

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CONFIG = 2

#: ``agora fetch``: how long a stream is listened to, and the longest ``Retry-After`` waited
#: out within the round (``--seconds`` sets both).
FETCH_LISTEN_S = 10.0
FETCH_RETRY_S = 60.0


class CommandError(Exception):
    """An error the user can act on: printed as one line, exit status 1."""


# ---------------------------------------------------------------------------------------------
# argument parsing


def _window(value: str) -> float | None:
    from agora.config.schema import parse_duration

    if value == "all":
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _time(value: str) -> datetime:
    from agora.core.post import PostError, parse_time

    try:
        return parse_time(value)
    except PostError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _size(value: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not WIDTHxHEIGHT, e.g. 1920x1080") from None
    if not (64 <= width <= 16384 and 64 <= height <= 16384):
        raise argparse.ArgumentTypeError(f"{value!r}: width and height must be 64 to 16384")
    return width, height


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    # SUPPRESS: a flag given before the command (`agora -q bench …`) is not reset by the
    # command's own copy of the option
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="verbose logs and tracebacks",
    )
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="only warnings and errors",
    )
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where the wall keeps its database (default: the platform data directory)",
    )

    parser = argparse.ArgumentParser(
        prog="agora",
        description="A multi-screen wall of live public conversation about a brand.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"agora {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("check", parents=[common], help="validate a config file")
    p.add_argument("config", type=Path)

    p = sub.add_parser(
        "fetch", parents=[common, data], help="one polling round; enriched posts as JSON Lines"
    )
    p.add_argument("config", type=Path)
    p.add_argument("--source", help="only the source with this name")
    p.add_argument("--limit", type=int, default=None, help="at most N posts per source")
    p.add_argument(
        "--seconds",
        type=float,
        default=None,
        help=f"how long to listen to a stream (default {FETCH_LISTEN_S:g}), and the longest wait "
        f"for a server's Retry-After before trying again (default {FETCH_RETRY_S:g})",
    )

    p = sub.add_parser(
        "analyse",
        aliases=["analyze"],
        parents=[common, data],
        help="ingest the offline sources and print the aggregate snapshot",
    )
    p.add_argument("config", type=Path)
    p.add_argument("--json", action="store_true", help="print JSON (the default)")
    p.add_argument("--window", type=_window, default=None, help="all (default), 1h, 24h, …")
    p.add_argument("--now", type=_time, default=None, help="measure windows back from this time")

    p = sub.add_parser(
        "sentiment",
        parents=[common],
        help='text lines on stdin → {"score", "label"} JSON lines; --eval FILE measures a scorer',
    )
    p.add_argument("--lang", default=None, help="language of every line (default: guess)")
    p.add_argument(
        "--scorer",
        choices=("social", "rules", "vader", "none"),
        default=None,
        help="social (default: the learnt model), rules (the lexicon and rules alone), "
        "vader (the bare baseline) or none",
    )
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="take the scorer, neutral band and lexicon from this config's [analytics]",
    )
    p.add_argument(
        "--eval",
        metavar="FILE",
        default=None,
        help="label<TAB>text lines (negative/neutral/positive or 0/1/2; - for stdin): "
        "print the confusion matrix, accuracy, macro recall and macro F1",
    )
    p.add_argument(
        "--half",
        choices=("a", "b"),
        default=None,
        help="with --eval: only the odd (a) or even (b) lines, to check tuning on held-out data",
    )
    p.add_argument("--json", action="store_true", help="with --eval: one JSON object")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="with --eval: score the set N times for a steadier posts/s",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=20,
        metavar="N",
        help="with --eval: posts per batch, as the pipeline scores them (default 20)",
    )
    p.add_argument(
        "--tune",
        action="store_true",
        help="with --eval: tune the rules scorer on half a, report it on half b (and back)",
    )

    for name, helptext in (
        ("run", "the wall, fullscreen on every configured screen"),
        ("demo", "the wall on the bundled demo config and simulated stream"),
    ):
        p = sub.add_parser(name, parents=[common, data], help=helptext)
        if name == "run":
            p.add_argument("config", type=Path)
        p.add_argument("--windowed", action="store_true", help="ordinary windows on a desktop")
        p.add_argument("--seconds", type=float, default=None, help="quit after N seconds")
        p.add_argument(
            "--log-file",
            type=Path,
            default=None,
            help="rotating JSON Lines log (default: <platform log dir>/<wall>.log; - for none)",
        )
        p.add_argument(
            "--supervise",
            action="store_true",
            help="run the wall in a child process and start it again after a crash",
        )

    p = sub.add_parser(
        "install-autostart",
        parents=[common, data],
        help="start this wall with the desktop session and restart it after a crash",
    )
    p.add_argument("config", type=Path)
    p.add_argument(
        "--kind",
        choices=("auto", "systemd", "xdg"),
        default="auto",
        help="systemd user unit (default where systemd runs) or XDG autostart entry",
    )
    p.add_argument(
        "--no-enable", action="store_true", help="only write the file; do not run systemctl"
    )

    p = sub.add_parser(
        "console",
        parents=[common, data],
        help="the operator window: edit the config with a live preview, moderate, source health",
    )
    p.add_argument("config", type=Path)

    p = sub.add_parser(
        "snapshot", parents=[common, data], help="render one screen's page offscreen to a PNG"
    )
    p.add_argument("config", type=Path)
    p.add_argument("--screen", type=int, default=0)
    p.add_argument("--page", type=int, default=0)
    p.add_argument("--size", type=_size, default=(1920, 1080), help="WIDTHxHEIGHT (1920x1080)")
    p.add_argument("--dpr", type=float, default=1.0, help="device pixel ratio (2 for 4K)")
    p.add_argument("--now", type=_time, default=None, help="measure windows back from this time")
    p.add_argument("--out", type=Path, required=True)

    p = sub.add_parser(
        "moderation",
        parents=[common, data],
        help="the approval queue, decisions and block list of a wall; approve, hide, pin, block",
    )
    p.add_argument("config", type=Path)
    p.add_argument(
        "action",
        choices=("list", "approve", "hide", "pin", "unpin", "block", "unblock"),
        help="list the approval queue, latest decisions and blocked authors, or decide",
    )
    p.add_argument(
        "target",
        nargs="?",
        help="a post id (approve, hide, pin, unpin); an author's handle, or a post id whose "
        "author it is (block, unblock)",
    )
    p.add_argument("--reason", default="", help="why (kept with the decision)")
    p.add_argument("--actor", default=None, help="who decides (default: the user's name)")
    p.add_argument("--limit", type=int, default=20, help="list: at most N of each (default 20)")
    p.add_argument("--json", action="store_true", help="list: one JSON object")

    p = sub.add_parser("bench", parents=[common], help="performance benchmarks")
    bench = p.add_subparsers(dest="bench", metavar="BENCH", required=True)
    b = bench.add_parser("ingest", parents=[common], help="simulator posts through the pipeline")
    b.add_argument("--posts", type=int, default=200_000)
    b.add_argument("--batch", type=int, default=500)
    b.add_argument("--json", action="store_true")
    b.add_argument("--data-dir", type=Path, default=None, help="store directory (default: temp)")
    b = bench.add_parser(
        "render", parents=[common], help="the demo wall on six offscreen screens under a stream"
    )
    b.add_argument("--seconds", type=float, default=60.0, help="how long to measure (default 60)")
    b.add_argument("--rate", type=float, default=20.0, help="live posts a second (default 20)")
    b.add_argument(
        "--history",
        type=_window,
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
        "soak", parents=[common], help="a week of the demo wall on a fake clock: RSS per day"
    )
    b.add_argument("--days", type=float, default=7.0, help="simulated days (default 7)")
    b.add_argument("--rate", type=float, default=None, help="posts a minute (default: the demo's)")
    b.add_argument("--json", action="store_true")
    b = bench.add_parser(
        "sources", parents=[common], help="a local Jetstream replay into the bluesky source"
    )
    b.add_argument("--events", type=int, default=100_000, help="events replayed (default 100000)")
    b.add_argument(
        "--match-rate", type=float, default=1.0, help="share of events that match (default 1.0)"
    )
    b.add_argument("--json", action="store_true")

    return parser


# ---------------------------------------------------------------------------------------------
# commands


def _load(path: Path) -> LoadedConfig:
    from agora.config.loader import load_config

    return load_config(path)


def cmd_check(args: argparse.Namespace) -> int:
    """``agora check CONFIG``."""
    from agora.config.loader import check_config, summary
    from agora.core.redact import redact

    loaded, issues = check_config(args.config)
    if loaded is None or issues:
        for issue in issues:
            print(redact(issue.format()), file=sys.stderr)
        return EXIT_CONFIG
    print(summary(loaded))
    return EXIT_OK


def cmd_fetch(args: argparse.Namespace) -> int:
    """``agora fetch CONFIG``: one round of each (or the named) source, JSON Lines on stdout."""
    from agora.engine import build_pipeline
    from agora.offline import apply_decisions, stored_decisions
    from agora.sources.base import SourceContext
    from agora.sources.registry import build_sources
    from agora.store.memory import MemoryStore

    loaded = _load(args.config)
    config = loaded.config
    if args.source and config.source(args.source) is None:
        names = ", ".join(s.name for s in config.sources) or "none"
        raise CommandError(f"no source named {args.source!r} in {args.config} (sources: {names})")
    # with --data-dir, the wall's operators' decisions show in the printed moderation state
    decisions = []
    if _wall_store(args, loaded, "no operator decisions to apply"):
        decisions = _stored(lambda: stored_decisions(config, args.data_dir))
    # fetch never changes what the wall remembers: cursors and posts stay in memory
    store = MemoryStore()
    seconds = args.seconds
    context = SourceContext(
        wall=config,
        config_dir=loaded.config_dir,
        get_cursor=store.get_cursor,
        set_cursor=store.set_cursor,
        listen_seconds=FETCH_LISTEN_S if seconds is None else seconds,
        retry_within=FETCH_RETRY_S if seconds is None else seconds,
    )
    sources = [
        s for s in build_sources(config, context) if not args.source or s.name == args.source
    ]
    pipeline = build_pipeline(config, store)
    out = sys.stdout
    total = 0
    budget = max(context.listen_seconds, context.retry_within)
    for source in sources:
        try:
            posts = asyncio.run(_fetch_one(source, args.limit, budget))
        except Exception as exc:
            source.mark_error(f"{source.name}: {exc}")
            posts = []
        result = pipeline.ingest(posts, keep=True)
        shown = apply_decisions(result.posts, decisions) if decisions else result.posts
        for post in shown[: args.limit] if args.limit else shown:
            out.write(post.to_json())
            out.write("\n")
            total += 1
        health = source.health
        detail = f", last error: {health.last_error}" if health.last_error else ""
        skipped = source.problems.total + pipeline.problems.total
        print(
            f"{source.name} ({source.kind}): {health.state}, {len(result.posts)} posts"
            f"{f', {skipped} skipped or repaired' if skipped else ''}{detail}",
            file=sys.stderr,
        )
    out.flush()
    failing = [s for s in sources if s.health.state not in ("ok", "idle")]
    return EXIT_ERROR if failing and total == 0 else EXIT_OK


async def _fetch_one(source: Source, limit: int | None, seconds: float) -> list[Post]:
    from agora.sources.identity import stamp

    posts = await asyncio.wait_for(source.fetch(limit), timeout=max(seconds, 1.0) + 30.0)
    return stamp(source, posts)


T = TypeVar("T")


def _stored(read: Callable[[], T]) -> T:
    """``read()`` of the wall's store, its failure as one line."""
    from agora.offline import StoreReadError

    try:
        return read()
    except StoreReadError as exc:
        raise CommandError(str(exc)) from None


def _wall_store(args: argparse.Namespace, loaded: LoadedConfig, instead: str) -> bool:
    """Whether ``--data-dir`` holds the wall's store; when it names a directory without one
    (the wall has not run there yet), stderr says what the command does ``instead``."""
    from agora.store import database_path

    if args.data_dir is None:
        return False
    path = database_path(args.data_dir, loaded.config.wall.name)
    if path.is_file():
        return True
    print(f"agora: no store at {path} yet; {instead}", file=sys.stderr)
    return False


def _snapshot(args: argparse.Namespace, loaded: LoadedConfig) -> Snapshot:
    """What ``analyse`` and ``snapshot`` show: with ``--data-dir``, what the wall's store holds
    (read-only); else, or while there is no store, what the offline sources hold."""
    from agora.offline import offline_snapshot, stored_snapshot

    window = getattr(args, "window", None)
    if _wall_store(args, loaded, "showing what the offline sources hold"):
        data_dir = args.data_dir
        return _stored(lambda: stored_snapshot(loaded, data_dir, now=args.now, window=window))
    return offline_snapshot(loaded, now=args.now, window=window).snapshot


def cmd_analyse(args: argparse.Namespace) -> int:
    """``agora analyse CONFIG --json``: the snapshot of what the offline sources hold, or with
    ``--data-dir`` what the wall's store holds."""
    snapshot = _snapshot(args, _load(args.config))
    json.dump(snapshot.to_dict(args.window), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


def _sentiment_scorer(args: argparse.Namespace) -> Scorer:
    """The scorer ``agora sentiment`` uses: ``--scorer``, else the config's, else social."""
    from agora.core.sentiment import make_scorer

    if args.config is None:
        return make_scorer(args.scorer or "social")
    analytics = _load(args.config).config.analytics
    return make_scorer(
        args.scorer or analytics.sentiment, analytics.neutral_band, analytics.lexicon
    )


def cmd_sentiment(args: argparse.Namespace) -> int:
    """``agora sentiment``: score each stdin line; one JSON object per line, same order.

    With ``--eval FILE``: score labelled lines and print how the scorer did.
    """
    scorer = _sentiment_scorer(args)
    if args.eval is not None:
        return _sentiment_eval(args, scorer)
    out = sys.stdout
    stdin = sys.stdin.buffer
    # from a file or a pipe, lines are scored 20 at a time (as the pipeline does, several times
    # faster); typed at a terminal, each line is answered at once
    size = 1 if sys.stdin.isatty() else 20
    while lines := list(itertools.islice(stdin, size)):
        texts = [raw.decode("utf-8", errors="replace").rstrip("\r\n") for raw in lines]
        for result in scorer.score_many(texts, [args.lang] * len(texts)):
            if result is None:
                record: dict[str, object] = {"score": None, "label": None}
            else:
                record = {"score": result.score, "label": result.label}
            out.write(json.dumps(record))
            out.write("\n")
        if size == 1:
            out.flush()
    out.flush()
    return EXIT_OK


def _sentiment_eval(args: argparse.Namespace, scorer: Scorer) -> int:
    """``agora sentiment --eval FILE``."""
    from agora.core.sentiment_eval import LabelledDataError, evaluate, half, read_labelled

    try:
        if args.eval == "-":
            lines = sys.stdin.buffer.read().decode("utf-8", errors="replace").splitlines()
            examples = read_labelled(lines, "<stdin>")
        else:
            with open(args.eval, encoding="utf-8", errors="replace") as handle:
                examples = read_labelled(handle, args.eval)
    except OSError as exc:
        raise CommandError(f"cannot read {args.eval}: {exc.strerror or exc}") from None
    except LabelledDataError as exc:
        raise CommandError(str(exc)) from None
    if args.half:
        examples = half(examples, args.half)
    if not examples:
        raise CommandError(f"{args.eval}: no labelled lines")
    if args.tune:
        return _sentiment_tune(args, examples)
    name = "<stdin>" if args.eval == "-" else os.path.basename(args.eval)
    result = evaluate(
        scorer, examples, args.lang, repeat=args.repeat, batch=max(1, args.batch), dataset=name
    )
    if args.json:
        record = result.to_dict()
        if args.half:
            record["half"] = args.half
        print(json.dumps(record))
    else:
        print(result.format())
    return EXIT_OK


def _sentiment_tune(args: argparse.Namespace, examples: list[Example]) -> int:
    """``agora sentiment --eval FILE --tune``: thresholds, then rules too, on each half."""
    from agora.core.sentiment_tune import tune, tune_thresholds

    report: dict[str, object] = {}
    for seen in ("a", "b"):
        report[f"thresholds_on_{seen}"] = tune_thresholds(examples, seen).to_dict()
        report[f"rules_on_{seen}"] = tune(examples, seen).to_dict()
    if args.json:
        print(json.dumps(report))
        return EXIT_OK
    for name, found in report.items():
        assert isinstance(found, dict)
        params = found["params"]
        print(
            f"{name:<16} macro recall tuned {found['tuned_macro_recall']:.4f}, "
            f"held out {found['held_out_macro_recall']:.4f}; thresholds "
            f"{params['negative_threshold']} / {params['positive_threshold']}"
        )
    return EXIT_OK


def demo_config_path() -> Path:
    """The bundled demo config."""
    return Path(__file__).resolve().parent / "assets" / "demo.toml"


def cmd_run(args: argparse.Namespace) -> int:
    """``agora run CONFIG`` and ``agora demo``."""
    from agora import service

    path = demo_config_path() if args.command == "demo" else args.config
    loaded = _load(path)  # report config errors before any window opens
    if args.supervise:
        argv = [a for a in (sys.argv[1:] if args.argv is None else args.argv) if a != "--supervise"]
        return service.supervise([sys.executable, "-m", "agora", *argv])
    if str(args.log_file) != "-":
        log_file = args.log_file or (
            service.default_log_dir() / f"{service.slug(loaded.config.wall.name)}.log"
        )
        try:
            handler = service.file_log_handler(log_file, service.config_secrets(loaded.config))
        except OSError as exc:
            log.warning("cannot write the log file %s (%s); logging to stderr only", log_file, exc)
        else:
            handler.setLevel(logging.INFO)
            logging.getLogger().addHandler(handler)
            log.info("logging to %s", log_file)
    from agora.ui.app import run_wall

    return run_wall(path, data_dir=args.data_dir, windowed=args.windowed, seconds=args.seconds)


def cmd_install_autostart(args: argparse.Namespace) -> int:
    """``agora install-autostart CONFIG``: a systemd user unit or an XDG autostart entry."""
    from agora import service

    loaded = _load(args.config)
    kind = args.kind
    if kind == "auto":
        kind = "systemd" if service.has_systemd_user() else "xdg"
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    result = service.install_autostart(
        loaded.config.wall.name, loaded.path, args.data_dir, kind=kind, config_home=config_home
    )
    print(f"wrote {result.path}")
    if result.env_file is not None:
        print(f"secrets the config reads with env:NAME go in {result.env_file} (NAME=value)")
    if kind == "systemd" and not args.no_enable:
        if service.enable_autostart(result):
            print("enabled: the wall starts with the desktop session and restarts after a crash")
        else:
            print("could not enable it; run:", *result.enable, sep="\n  ")
    else:
        print("to enable it:", *result.enable, sep="\n  ")
    print("to undo:", *result.undo, sep="\n  ")
    return EXIT_OK


def cmd_moderation(args: argparse.Namespace) -> int:
    """``agora moderation CONFIG list|approve|hide|pin|unpin|block|unblock [TARGET]``."""
    from agora.moderation_cli import ModerationError, run

    try:
        return run(args)
    except ModerationError as exc:
        raise CommandError(str(exc)) from None


def cmd_console(args: argparse.Namespace) -> int:
    """``agora console CONFIG``: the operator window (it opens even on a config with problems,
    to fix them)."""
    if not args.config.is_file():
        raise CommandError(f"{args.config}: no such file")
    from agora.console.window import run_console

    return run_console(args.config, data_dir=args.data_dir)


def cmd_snapshot(args: argparse.Namespace) -> int:
    """``agora snapshot CONFIG --screen N --out FILE.png``."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    loaded = _load(args.config)
    snapshot = _snapshot(args, loaded)
    from agora.ui.render import render_page

    out = render_page(
        loaded,
        snapshot,
        screen=args.screen,
        page=args.page,
        size=args.size,
        out=args.out,
        dpr=args.dpr,
    )
    print(out)
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    """``agora bench ingest``, ``render``, ``soak`` and ``sources``."""
    if args.bench == "sources":
        from agora.bench.sources import run_sources_bench

        report = run_sources_bench(events=args.events, match_rate=args.match_rate)
        if args.json:
            print(json.dumps(report))
        else:
            for key, value in report.items():
                print(f"{key:>16}: {value}")
        return EXIT_OK
    if args.bench == "soak":
        from agora.bench.soak import run_soak_bench

        def day_done(day: int, rss: float) -> None:
            if not args.json:
                print(f"day {day}: RSS {rss:.1f} MB", flush=True)

        report = run_soak_bench(args.days, rate_per_min=args.rate, on_day=day_done)
        if args.json:
            print(json.dumps(report))
        else:
            for key, value in report.items():
                print(f"{key:>16}: {value}")
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

    result = run_ingest_bench(posts=args.posts, batch=args.batch, data_dir=args.data_dir)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>28}: {value}")
    return EXIT_OK


COMMANDS = {
    "check": cmd_check,
    "fetch": cmd_fetch,
    "install-autostart": cmd_install_autostart,
    "analyse": cmd_analyse,
    "analyze": cmd_analyse,
    "sentiment": cmd_sentiment,
    "bench": cmd_bench,
    "run": cmd_run,
    "demo": cmd_run,
    "snapshot": cmd_snapshot,
    "moderation": cmd_moderation,
    "console": cmd_console,
}


def configure_logging(debug: bool, quiet: bool) -> None:
    """Log lines on stderr, one per event; every record and uncaught traceback redacted."""
    from agora import service

    service.install_redaction()
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    root = logging.getLogger()
    root.handlers[:] = [service.stderr_log_handler()]
    root.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``agora`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else None
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_CONFIG
    debug = bool(getattr(args, "debug", False) or os.environ.get("AGORA_DEBUG"))
    # Ingest allocates many short-lived objects per post (tokens, keys, rows) while the
    # aggregates keep a large, stable heap: collecting the youngest generation every 10,000
    # allocations instead of every 700 takes ~3 % off ingest, for a few hundred KB of garbage.
    gc.set_threshold(GC_THRESHOLD, 20, 20)
    configure_logging(debug, bool(getattr(args, "quiet", False)))
    from agora.config.loader import ConfigError
    from agora.core.redact import redact
    from agora.service import format_error

    handler = COMMANDS[args.command]
    try:
        return handler(args)
    except ConfigError as exc:
        for issue in exc.issues:
            print(redact(issue.format()), file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`agora fetch … | head`): not an error
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return EXIT_OK
    except CommandError as exc:
        print(f"agora: {format_error(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        # a message or traceback may quote a URL or an answer that carries a token
        if debug:
            sys.stderr.write(format_error(exc, trace=True))
            print(f"agora: error: {format_error(exc)}", file=sys.stderr)
        else:
            print(
                f"agora: error: {format_error(exc)} (run with --debug for details)", file=sys.stderr
            )
        return EXIT_ERROR

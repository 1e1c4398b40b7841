"""``agora sentiment``: score lines of text, or measure a scorer on labelled lines."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agora.cli.common import EXIT_OK, Command, CommandError, Parents, load

if TYPE_CHECKING:
    from agora.core.sentiment_base import Scorer
    from agora.core.sentiment_eval import Example


def register(sub: Any, parents: Parents) -> dict[str, Command]:
    """Add ``sentiment`` to the parser."""
    p = sub.add_parser(
        "sentiment",
        parents=[parents.common],
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
    return {"sentiment": sentiment}


def _scorer(args: argparse.Namespace) -> Scorer:
    """The scorer ``agora sentiment`` uses: ``--scorer``, else the config's, else social."""
    from agora.core.sentiment import make_scorer

    if args.config is None:
        return make_scorer(args.scorer or "social")
    analytics = load(args.config).config.analytics
    return make_scorer(
        args.scorer or analytics.sentiment, analytics.neutral_band, analytics.lexicon
    )


def sentiment(args: argparse.Namespace) -> int:
    """``agora sentiment``: score each stdin line; one JSON object per line, same order.

    With ``--eval FILE``: score labelled lines and print how the scorer did.
    """
    scorer = _scorer(args)
    if args.eval is not None:
        return _evaluate(args, scorer)
    out = sys.stdout
    stdin = sys.stdin.buffer
    # from a file or a pipe, lines are scored 20 at a time (as the pipeline does, several times
    # faster); typed at a terminal, each line is answered at once
    batch = 1 if sys.stdin.isatty() else 20
    while lines := list(itertools.islice(stdin, batch)):
        texts = [raw.decode("utf-8", errors="replace").rstrip("\r\n") for raw in lines]
        for result in scorer.score_many(texts, [args.lang] * len(texts)):
            if result is None:
                record: dict[str, object] = {"score": None, "label": None}
            else:
                record = {"score": result.score, "label": result.label}
            out.write(json.dumps(record))
            out.write("\n")
        if batch == 1:
            out.flush()
    out.flush()
    return EXIT_OK


def _evaluate(args: argparse.Namespace, scorer: Scorer) -> int:
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
        return _tune(args, examples)
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


def _tune(args: argparse.Namespace, examples: list[Example]) -> int:
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

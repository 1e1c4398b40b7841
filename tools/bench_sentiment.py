"""Speed of a sentiment scorer beside bare VADER, measured in the same run.

Usage::

    taskset -c 1 python tools/bench_sentiment.py /tmp/sets/tweeteval-validation.tsv \\
        --batch 20 500 --rounds 5

The machine this project is built on is shared, so a posts/s figure alone says little: this script
scores the texts of a labelled file (``label<TAB>text``, the labels are ignored) with the scorer,
in batches as the pipeline scores them and untagged (the language check runs on every post), and
with bare VADER's ``polarity_scores`` one post at a time, round after round, so both see the same
load. It prints the median posts/s of each (CPU time of this process) and their ratio.

The scorer keeps what it worked out for each token it has seen (its vocabulary), so after the
first round every token of the file is known. ``cold_batch_N`` is each round scored by a new scorer
in the first of the batch sizes: every token met for the first time, as in a wall's first minutes.
A post's shared reading (its tokens and language, :data:`agora.core.tokens.SHARED`) is forgotten
before each timed pass, as the pipeline forgets it after each batch: no pass reuses a text's tokens
or language from the one before.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agora.core.sentiment import SCORER_NAMES, make_scorer  # noqa: E402
from agora.core.tokens import SHARED  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Measure and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="label<TAB>text lines")
    parser.add_argument("--scorer", default="social", choices=SCORER_NAMES)
    parser.add_argument("--batch", type=int, nargs="+", default=[20, 500])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    lines = args.file.read_text(encoding="utf-8").splitlines()
    texts = [line.partition("\t")[2] for line in lines if line.strip()]
    scorer = make_scorer(args.scorer)
    vader = SentimentIntensityAnalyzer()
    scorer.score_many(texts[:20], [None] * 20)  # load the weights and tables before timing
    rates: dict[str, list[float]] = {f"batch_{size}": [] for size in args.batch}
    cold = f"cold_batch_{args.batch[0]}"
    rates[cold] = []
    rates["vader"] = []
    for _ in range(args.rounds):
        fresh = make_scorer(args.scorer)
        SHARED.clear()
        start = time.process_time()
        for at in range(0, len(texts), args.batch[0]):
            chunk = texts[at : at + args.batch[0]]
            fresh.score_many(chunk, [None] * len(chunk))
        rates[cold].append(len(texts) / (time.process_time() - start))
        for size in args.batch:
            SHARED.clear()
            start = time.process_time()
            for at in range(0, len(texts), size):
                chunk = texts[at : at + size]
                scorer.score_many(chunk, [None] * len(chunk))
            rates[f"batch_{size}"].append(len(texts) / (time.process_time() - start))
        start = time.process_time()
        for text in texts:
            vader.polarity_scores(text)
        rates["vader"].append(len(texts) / (time.process_time() - start))
    medians = {name: round(statistics.median(values)) for name, values in rates.items()}
    report = {
        "scorer": scorer.name,
        "texts": len(texts),
        "rounds": args.rounds,
        "posts_per_s": medians,
        "ratio_to_vader": {
            name: round(rate / medians["vader"], 2)
            for name, rate in medians.items()
            if name != "vader"
        },
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

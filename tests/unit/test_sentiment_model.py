"""The learnt sentiment model: the shipped weights, batches, languages, a brand's lexicon, training.

The training script runs on a tiny labelled set written here (it needs the ``train`` extra:
scikit-learn). An optional conformance test measures the shipped model on the TweetEval
validation split in ``../shared/fixtures`` (a held-out set: it took no part in training or
choosing) and skips when it is absent.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from agora.core.post import Author, Post, Sentiment
from agora.core.sentiment import make_scorer
from agora.core.sentiment_eval import Example, evaluate, read_labelled
from agora.core.sentiment_features import (
    CHARS,
    DENSE,
    WORDS,
    FeatureSettings,
    Featuriser,
    normalise,
    normalise_many,
    tokens,
)
from agora.core.sentiment_model import CLASSES, Model, ModelError, ModelScorer, shipped_model
from agora.core.sentiment_social import TUNED, RuleScorer

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "tools" / "train_sentiment.py"
FIXTURES = ROOT.parent / "shared" / "fixtures" / "sentiment"


@pytest.fixture(scope="module")
def model() -> ModelScorer:
    return ModelScorer()


def label(scorer: ModelScorer, text: str) -> str | None:
    result = scorer.score(text, "en")
    return None if result is None else result.label


# ------------------------------------------------------------------------------------------------
# the shipped weights


def test_the_shipped_weights_and_their_metadata() -> None:
    shipped = shipped_model()
    meta = shipped.meta
    assets = resources.files("agora").joinpath("assets")
    npz = assets.joinpath("sentiment-model.npz").read_bytes()
    assert hashlib.sha256(npz).hexdigest() == meta["weights_sha256"]
    assert len(npz) < 4_000_000  # a few MB at most
    # the settings the training script uses by default are the ones the weights were made with
    assert meta["features"] == FeatureSettings().to_dict()
    assert shipped.weights.shape == (2, FeatureSettings().rows)
    assert meta["classes"] == list(CLASSES)
    assert meta["seed"] == 14
    assert meta["data"]["dev"]["files"] == ["twitter-2016dev.tsv", "twitter-2016devtest.tsv"]
    assert set(meta["data"]["held_out"]) == {"tweeteval-validation", "crowdflower"}
    # the held-out figures the README reports come from this file
    held_out = meta["held_out"]
    assert held_out["tweeteval-validation"]["examples"] == 2000
    assert held_out["tweeteval-validation"]["macro_recall"] >= 0.65
    assert held_out["crowdflower"]["macro_recall"] >= 0.5


def test_weights_that_do_not_fit_the_features_are_refused(tmp_path: Path) -> None:
    npz = tmp_path / "m.npz"
    np.savez(npz, weights=np.zeros((2, 10), np.int8), scale=np.ones(2), bias=np.zeros(2))
    meta = tmp_path / "m.json"
    meta.write_text(json.dumps({"features": FeatureSettings(bits=12).to_dict()}))
    with pytest.raises(ModelError, match="do not fit"):
        Model.load(npz, meta)
    with pytest.raises(ModelError, match="cannot read"):
        Model.load(tmp_path / "missing.npz", meta)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I love this phone, it is wonderful", "positive"),
        ("Best concert of my life!! Thank you so much 😍", "positive"),
        ("This is the worst service ever, I hate it", "negative"),
        ("My flight got cancelled again, absolutely furious", "negative"),
        ("The meeting is at 3pm in room 4", "neutral"),
        ("Store opens at 9am tomorrow", "neutral"),
    ],
)
def test_clear_cases(model: ModelScorer, text: str, expected: str) -> None:
    assert label(model, text) == expected


def test_scores_stay_in_range_and_agree_with_labels(model: ModelScorer) -> None:
    texts = ["", "love " * 300, "hate " * 300, "ok", "😍" * 50, "!!!???"]
    for result in model.score_many(texts, ["en"] * len(texts)):
        assert result is not None
        assert -1.0 <= result.score <= 1.0
    assert model.score("", "en") == model.score("   ", "en")
    empty = model.score("", "en")
    assert empty is not None and (empty.score, empty.label) == (0.0, "neutral")
    loved = model.score("I love it, wonderful, amazing", "en")
    hated = model.score("I hate it, awful, terrible", "en")
    assert loved is not None and hated is not None
    assert loved.score > 0.5 > -0.5 > hated.score


def test_a_batch_scores_exactly_like_one_post_at_a_time(model: ModelScorer) -> None:
    texts = [
        "I love this phone, it is wonderful",
        "Rakastan tätä puhelinta",
        "",
        "not bad at all :) http://example.com @someone",
        "This is the worst service ever",
        "Sooooo goooood #blessed 🎉🎉",
        "The phone ships on Tuesday",
        "Das Handy ist gut, aber der Akku hält nicht lange",
        "a\x00b\nc\r\u2028d",
        "WHY IS IT BROKEN AGAIN?!",
    ] * 3
    langs = ["en", "fi", None, None, "en", None, "en-GB", None, None, "en"] * 3
    one_by_one = [model.score(t, lang) for t, lang in zip(texts, langs, strict=True)]
    assert model.score_many(texts, langs) == one_by_one
    for size in (1, 2, 7):
        got = []
        for at in range(0, len(texts), size):
            got += model.score_many(texts[at : at + size], langs[at : at + size])
        assert got == one_by_one
    assert model.score_many([], []) == []


def test_languages_it_cannot_handle_get_none(model: ModelScorer) -> None:
    assert model.score("Rakastan tätä puhelinta", "fi") is None
    assert model.score("I love it", "fi") is None
    assert model.score("Tämä puhelin on ihan hyvä mutta akku loppuu nopeasti", None) is None
    assert model.score("Das Handy ist wirklich gut, aber der Akku ist schwach", None) is None
    assert model.score("この電話が大好きです", None) is None
    assert model.score("I love it", "en-GB") is not None
    assert model.score("I love this phone, it is wonderful", None) is not None
    assert model.score("Café crème, I love it 😍", None) is not None


class CountingScorer:
    """The shipped model, counting the batches it is asked to score."""

    name = "social"

    def __init__(self) -> None:
        self.model = ModelScorer()
        self.batches: list[int] = []

    def score(self, text: str, lang: str | None) -> Sentiment | None:
        raise AssertionError("the pipeline scores whole batches")

    def score_many(
        self, texts: Sequence[str], langs: Sequence[str | None]
    ) -> list[Sentiment | None]:
        self.batches.append(len(texts))
        return self.model.score_many(texts, langs)


def test_the_pipeline_scores_each_ingest_batch_in_one_call() -> None:
    from agora.config.schema import TopicConfig, WallConfig
    from agora.engine import build_pipeline

    config = WallConfig(topics={"brand": TopicConfig(label="Lumen", terms=["lumen"])})
    pipeline = build_pipeline(config, None)
    counting = CountingScorer()
    pipeline.sentiment.scorer = counting
    texts = ["I love my Lumen", "Lumen is awful", "Lumen ships Tuesday", "Rakastan Lumenia"] * 5
    posts = [
        Post(
            id=f"jsonl:{i}",
            source="jsonl",
            feed="test",
            text=text,
            created_at=datetime(2026, 11, 22, 8, 0, tzinfo=UTC),
            author=Author("@ana", "Ana"),
            lang="fi" if text.startswith("Rakastan") else "en",
        )
        for i, text in enumerate(texts)
    ]
    result = pipeline.ingest(posts, now=datetime(2026, 11, 22, 8, 1, tzinfo=UTC), keep=True)
    assert counting.batches == [20]
    expected = [counting.model.score(p.text, p.lang) for p in posts]
    assert [p.sentiment for p in result.posts] == expected
    assert sum(p.sentiment is None for p in result.posts) == 5


# ------------------------------------------------------------------------------------------------
# a brand's lexicon on top of the model


def test_a_lexicon_override_flips_a_label() -> None:
    plain = ModelScorer()
    brand = ModelScorer(lexicon={"killer feature": 2.5, "sick camera": 2.0})
    # the last needs the logit shift: the rule features alone leave it negative
    for text in (
        "the killer feature of the Lumen X1",
        "what a sick camera",
        "damn that sick camera",
    ):
        assert label(plain, text) == "negative", text
        assert label(brand, text) == "positive", text
    # the phrase, not its words; and negation reaches it
    assert label(brand, "a killer bug ate my battery") == "negative"
    assert label(brand, "not a killer feature at all") == "negative"
    # posts without the brand's words score exactly as without a lexicon
    for text in ("I love this phone", "the worst service ever", "ships on Tuesday"):
        assert brand.score(text, "en") == plain.score(text, "en")


def test_the_config_picks_the_model_rules_or_vader() -> None:
    assert make_scorer().name == "social"
    assert isinstance(make_scorer("social", lexicon={"meh": -2.0}), ModelScorer)
    assert isinstance(make_scorer("rules"), RuleScorer)
    # neutral_band replaces the model's own labelling by thresholds on the score
    text = "best camera I have ever had 😍"
    plain = make_scorer("social").score(text, "en")
    assert plain is not None and plain.label == "positive" and plain.score < 0.8
    wide = make_scorer("social", neutral_band=0.8).score(text, "en")
    assert wide is not None and wide.label == "neutral" and wide.score == plain.score


# ------------------------------------------------------------------------------------------------
# the features


def test_normalisation() -> None:
    assert normalise("Sooooo GOOOOD!!!!! http://x.co/abc @Bob_1 10:30") == (
        "sooo goood!!! httpurl @user 00:00"
    )
    assert normalise(r"I don\u2019t &amp; won’t") == "i don't & won't"
    # a batch is normalised line by line, whatever the posts contain
    texts = ["a\nb", "", "c\r\nd", "\x00", "&#10;x"]
    assert normalise_many(texts) == [normalise(t) for t in texts] == ["a b", "", "c d", "", "x"]


def test_tokens_and_negation_marks() -> None:
    # the comma ends the negated clause; it is not a token itself
    assert tokens(normalise("not good, but great :) #win 😍")) == [
        "not",
        "~good",
        "but",
        "great",
        ":)",
        "#win",
        "😍",
    ]
    assert tokens(normalise("never again...:-( sad")) == ["never", "~again", ":-(", "sad"]
    assert tokens("not good", negation_marks=False) == ["not", "good"]


def test_hashing_is_stable() -> None:
    """The weights are only valid for these exact rows: a change here needs new weights."""
    featurise = Featuriser(FeatureSettings(), RuleScorer(TUNED))
    batch = featurise(["Great phone :)"])
    words = [g.rows.tolist() for g in batch.groups if g.family == WORDS]
    assert words == [[191332, 166079, 8755], [174898, 98445]]  # great, phone, :) ; the pairs
    chars = [g for g in batch.groups if g.family == CHARS]
    assert [g.counts.tolist() for g in chars] == [[54]]  # " great phone :) ": 15 + 14 + 13 + 12
    assert chars[0].rows[:6].tolist() == [57163, 185639, 98613, 224480, 4573, 4782]
    assert batch.dense.shape == (1, DENSE)
    assert batch.dense[0, 0] == pytest.approx(0.7964, abs=1e-4)  # the rule scorer's polarity


# ------------------------------------------------------------------------------------------------
# the training script


def tiny_data(tmp_path: Path) -> tuple[Path, Path]:
    """A SemEval-like folder (train and the two dev files) and a TweetEval-like one."""
    semeval = tmp_path / "semeval"
    semeval.mkdir(exist_ok=True)
    positive = ["I love it", "great phone", "wonderful day :)", "so happy with it", "amazing"]
    negative = ["I hate it", "awful phone", "terrible day :(", "so angry with it", "horrible"]
    neutral = ["it ships today", "the phone is blue", "meeting at noon", "new model out", "ok"]
    rows = []
    for i in range(6):
        rows += [f"positive\t{t} {i}" for t in positive]
        rows += [f"negative\t{t} {i}" for t in negative]
        rows += [f"neutral\t{t} {i}" for t in neutral]
    # a tweet of the held-out set, written differently: removed from training
    rows.append("negative\tSEEN IN VALIDATION!!! http://t.co/x")
    (semeval / "twitter-2013train.tsv").write_text("\n".join(rows[:-9]) + "\n", "utf-8")
    (semeval / "twitter-2016dev.tsv").write_text("\n".join(rows[-9:-4]) + "\n", "utf-8")
    (semeval / "twitter-2016devtest.tsv").write_text("\n".join(rows[-4:]) + "\n", "utf-8")
    tweeteval = tmp_path / "tweeteval"
    tweeteval.mkdir(exist_ok=True)
    (tweeteval / "val_text.txt").write_text("seen in validation\nI love it so much\n", "utf-8")
    (tweeteval / "val_labels.txt").write_text("0\n2\n", "utf-8")
    return semeval, tweeteval


def run_training(tmp_path: Path, out: Path) -> subprocess.CompletedProcess[str]:
    semeval, tweeteval = tiny_data(tmp_path)
    return subprocess.run(
        [
            sys.executable,
            str(TRAIN),
            "--semeval",
            str(semeval),
            "--tweeteval",
            str(tweeteval),
            "--no-crowdflower",
            "--out",
            str(out),
            "--bits",
            "12",
            "--c",
            "4",
            "--date",
            "2026-01-01",
            "--held-out",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_training_is_deterministic_and_keeps_held_out_tweets_out(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="the train extra is not installed")
    first = run_training(tmp_path, tmp_path / "a")
    assert first.returncode == 0, first.stderr
    second = run_training(tmp_path, tmp_path / "b")
    assert second.returncode == 0, second.stderr
    for name in ("sentiment-model.npz", "sentiment-model.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    meta = json.loads((tmp_path / "a" / "sentiment-model.json").read_text("utf-8"))
    assert meta["features"] == FeatureSettings(bits=12).to_dict()
    assert meta["data"]["removed_as_in_held_out_sets"] == 1
    assert meta["data"]["held_out"] == {"tweeteval-validation": 2}
    assert meta["date"] == "2026-01-01"
    # the weights written are read by the run-time code and have learnt the tiny set
    model = Model.load(
        tmp_path / "a" / "sentiment-model.npz", tmp_path / "a" / "sentiment-model.json"
    )
    scorer = ModelScorer(model)
    assert label(scorer, "I love it 3") == "positive"
    assert label(scorer, "awful phone 2") == "negative"
    assert meta["held_out"]["tweeteval-validation"]["examples"] == 2


# ------------------------------------------------------------------------------------------------
# held-out figures (optional: the labelled tweets stay in ../shared)


def test_model_on_tweeteval_validation_held_out() -> None:
    texts = FIXTURES / "val_text.txt"
    labels = FIXTURES / "val_labels.txt"
    if not texts.is_file() or not labels.is_file():
        pytest.skip(f"TweetEval validation split not found in {FIXTURES} (optional fixture)")
    lines = [
        f"{gold.strip()}\t{text}"
        for gold, text in zip(
            labels.read_text(encoding="utf-8").splitlines(),
            texts.read_text(encoding="utf-8").splitlines(),
            strict=True,
        )
    ]
    examples: list[Example] = read_labelled(lines, str(texts))
    figures = evaluate(ModelScorer(), examples)
    rules = evaluate(RuleScorer(), examples)
    assert figures.macro_recall >= 0.65, figures.format()
    assert figures.macro_recall > rules.macro_recall
    assert figures.posts_per_s is not None

"""The learnt sentiment model: the shipped weights, batches, languages, a brand's lexicon, training.

The training script runs on a tiny labelled set written here (it needs the ``train`` extra:
scikit-learn). An optional conformance test measures the shipped model on the TweetEval
validation split in ``../shared/fixtures`` (a held-out set: it took no part in training or
choosing) and skips when it is absent.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections import Counter
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
    DENSE,
    END,
    NEGATOR,
    WORD,
    FeatureSettings,
    Featuriser,
    normal_form,
    tokens,
)
from agora.core.sentiment_model import CLASSES, Model, ModelError, ModelScorer, shipped_model
from agora.core.sentiment_social import TUNED, RuleScorer

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "tools" / "train_sentiment.py"
FIXTURES = ROOT.parent / "shared" / "fixtures" / "sentiment"


#: How many of :data:`PLAIN` the shipped model must call neutral, and at most negative.
PLAIN_NEUTRAL_AT_LEAST = 32
PLAIN_NEGATIVE_AT_MOST = 2


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
    # chosen on dev by a model that never saw it, then learnt again with dev's tweets
    assert meta["data"]["shipped_weights_learnt_from"] == "train and dev"
    assert set(meta["data"]["held_out"]) == {"tweeteval-validation", "crowdflower"}
    # the class offsets were chosen by macro-F1 over dev and the training tweets cross-validated
    assert "macro-F1" in meta["decision"]["criterion"]
    assert meta["decision"]["dev"]["recall_neutral"] >= 0.5
    # the held-out figures the README reports come from this file
    held_out = meta["held_out"]
    assert held_out["tweeteval-validation"]["examples"] == 2000
    assert held_out["crowdflower"]["examples"] == 34690
    assert held_out["tweeteval-validation"]["macro_recall"] >= 0.68
    assert held_out["crowdflower"]["macro_recall"] >= 0.55
    # neutral holds on posts it never saw (it was the weak side: 0.45 and 0.43 before)
    for figures in held_out.values():
        assert figures["recall"]["neutral"] >= 0.55, figures


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


#: Plain statements and questions about a product, with no opinion in them (written for this test).
#: On a lobby wall the headline figure is net sentiment: each of these read as negative drags it
#: down and puts a how-to question into the care queue.
PLAIN = [
    "The phone ships on Tuesday",
    "Lumen has a camera",
    "How do I change the Lumen wallpaper?",
    "The Lumen X1 comes in black and silver",
    "Lumen X1 launches in March",
    "The update is out today",
    "Where can I buy a Lumen X1?",
    "Does the Lumen X1 support wireless charging?",
    "The store on Main Street opens at 9am",
    "Lumen and Corvid side by side",
    "What time does the keynote start?",
    "The battery is 4500 mAh",
    "Version 2.3 of the app was released this morning",
    "Is the Lumen X1 available in Canada?",
    "The new model has two SIM slots",
    "Anyone know if the case fits the X1?",
    "Lumen will announce its results on Thursday",
    "The screen is 6.1 inches",
    "How much does the Lumen X1 cost in Europe?",
    "Pre-orders start next week",
    "The charger is sold separately",
    "Which carrier sells the Lumen X1?",
    "The phone weighs 180 grams",
    "Can I move my contacts from Corvid to Lumen?",
    "Lumen opened a new office in Berlin",
    "The firmware update is 1.2 GB",
    "Does it come with headphones?",
    "The keynote is streamed on YouTube",
    "My order number is 48213",
    "Lumen X1 review coming tomorrow",
    "When does the Lumen app get dark mode?",
    "The camera has three lenses",
    "Shipping to Ireland takes five days",
    "How do I reset my Lumen password?",
    "Corvid released a tablet this week",
    "The X1 runs the latest version of Android",
    "Is there a student discount on the X1?",
    "Lumen support is open until 6pm",
    "I picked up my Lumen X1 at the store today",
    "The event is in San Francisco on Monday",
]
#: Clear opinions about the same product (written for this test): they must keep their label.
OPINIONS = [
    ("positive", "I love my new Lumen X1, the camera is amazing"),
    ("positive", "Best phone I have ever owned 😍"),
    ("positive", "The Lumen support team was so helpful, thank you!"),
    ("positive", "Wow, the battery lasts forever. Great job Lumen"),
    ("positive", "Really happy with the update, everything feels faster"),
    ("positive", "The X1 screen is gorgeous"),
    ("negative", "My Lumen X1 keeps crashing, this is so frustrating"),
    ("negative", "Worst customer service ever, I want a refund"),
    ("negative", "The battery dies in two hours. Terrible phone"),
    ("negative", "I hate the new update, it ruined my phone"),
    ("negative", "Lumen charged me twice and nobody answers. Awful"),
    ("negative", "The screen cracked after one day, really disappointed"),
]


def test_plain_statements_and_questions_come_out_neutral(model: ModelScorer) -> None:
    results = model.score_many(PLAIN, ["en"] * len(PLAIN))
    labels = Counter(r.label for r in results if r is not None)
    wrong = [
        (t, r) for t, r in zip(PLAIN, results, strict=True) if r is None or r.label != "neutral"
    ]
    # the learnt model had 22 of 40 neutral, 10 negative ("Lumen has a camera")
    assert labels["neutral"] >= PLAIN_NEUTRAL_AT_LEAST, wrong
    assert labels["negative"] <= PLAIN_NEGATIVE_AT_MOST, wrong


def test_clear_opinions_keep_their_label(model: ModelScorer) -> None:
    results = model.score_many([t for _, t in OPINIONS], ["en"] * len(OPINIONS))
    assert [r.label if r else None for r in results] == [g for g, _ in OPINIONS]


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


#: Posts of every shape a batch may mix (written for this test): several tokens, one token (no
#: pairs), none at all (a URL, an @mention alone is a token), punctuation, emoji, negation.
SHAPES = [
    "I love this phone, it is wonderful",
    "ok",
    "http://example.com/only-a-link",
    "Worst. Service. Ever!!!",
    "😍",
    "not bad, NOT BAD at all :)",
    "",
    "#EpicFail #notgood",
    "@lumen",
    "How do I change the wallpaper?",
    "sooo goooood",
    "!!!",
    "The battery isn't great but the screen is gorgeous",
    "meh",
    "Lumen X1 ships on Tuesday 📦",
    "never again... :-( sad",
]


def test_every_batch_size_gives_the_same_logits(model: ModelScorer) -> None:
    """A post's values must not depend on its batch: the pipeline scores 20 at a time, ``--eval``
    any ``--batch``; batches where every post has several tokens take a shorter path (no masks),
    and so do batches without a single pair or without a single token."""
    featurise, logits = model.featurise, model.model.logits
    alone = np.concatenate([logits(featurise([t])) for t in SHAPES])
    assert len({round(v, 6) for v in alone[:, 1].tolist()}) > 10  # the posts do differ
    several = [i for i, t in enumerate(SHAPES) if len(model.rules.read(t)[3]) > 1]
    single = [i for i, t in enumerate(SHAPES) if len(model.rules.read(t)[3]) == 1]
    assert len(several) >= 8 and len(single) >= 4
    for group in (several, single, list(range(len(SHAPES))), [2, 6], [1, 2, 0]):
        together = logits(featurise([SHAPES[i] for i in group]))
        assert np.array_equal(together, alone[group]), group
    for size in (2, 3, 5, 20, 500):
        texts = SHAPES * 3
        got = [
            row
            for at in range(0, len(texts), size)
            for row in logits(featurise(texts[at : at + size]))
        ]
        assert np.array_equal(np.array(got), np.concatenate([alone] * 3)), size
    scored = [model.score(t, "en") for t in SHAPES]
    for size in (1, 3, 20):
        got_scores = []
        for at in range(0, len(SHAPES), size):
            got_scores += model.score_many(
                SHAPES[at : at + size], ["en"] * len(SHAPES[at : at + size])
            )
        assert got_scores == scored


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


def test_the_ingest_benchmark_times_the_scorer_in_the_pipelines_batches(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``agora bench ingest`` reports the scorer alone: scored in the pipeline's batches through
    ``score_many`` (as a live wall's batches are), never one post at a time."""
    from agora.bench.ingest import run_ingest_bench
    from agora.engine import wiring

    made: list[CountingScorer] = []

    def counting(*args: object, **kwargs: object) -> CountingScorer:
        made.append(CountingScorer())
        return made[-1]

    # the wiring builds the pipeline's scorer; the bench times that same scorer alone
    monkeypatch.setattr(wiring, "make_scorer", counting)
    result = run_ingest_bench(posts=50, batch=20, data_dir=tmp_path, history_s=0.0)
    assert len(made) == 1
    batches = made[0].batches
    # each batch of 20, 20 and 10 English posts: the pipeline's call (moderation may hold some
    # back), then the bench's own call on the whole batch
    assert batches[1::2] == [20, 20, 10], batches
    assert all(0 < size <= own for size, own in zip(batches[0::2], batches[1::2], strict=True))
    assert result["scorer_posts_per_s"] > 0


# ------------------------------------------------------------------------------------------------
# a brand's lexicon on top of the model


def test_a_lexicon_override_flips_a_label() -> None:
    plain = ModelScorer()
    brand = ModelScorer(lexicon={"killer feature": 2.5, "sick camera": 2.0, "wicked fast": 2.5})
    # the last needs the logit shift: the rule features alone leave it negative
    for text in (
        "the Lumen X1 is wicked fast",
        "what a sick camera",
        "damn that sick camera",
    ):
        assert label(plain, text) != "positive", text
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
    assert plain is not None and plain.label == "positive" and plain.score < 0.95
    wide = make_scorer("social", neutral_band=0.95).score(text, "en")
    assert wide is not None and wide.label == "neutral" and wide.score == plain.score


# ------------------------------------------------------------------------------------------------
# the features


def test_normal_forms_of_tokens() -> None:
    assert normal_form("Sooooo") == ("sooo", WORD)
    assert normal_form("GOOOOD") == ("goood", WORD)
    assert normal_form("@Bob_1") == normal_form("@ana") == ("@user", WORD)
    assert normal_form("10") == ("00", WORD)
    # repeats are cut after lower case and digit folding, not in the token as written
    assert normal_form("AAaa") == ("aaa", WORD)
    assert normal_form("12345") == ("000", WORD)
    assert normal_form("x1y") == ("x0y", WORD)
    assert normal_form("#Win") == ("#win", WORD)
    assert normal_form("Don't") == ("don't", NEGATOR)
    assert normal_form("!!!!!") == ("!!!", END)
    assert normal_form("...") == ("...", END)
    assert normal_form(":-)") == (":-)", WORD)


def test_tokens_and_negation_marks() -> None:
    rules = RuleScorer(TUNED)
    # the comma ends the negated clause; URLs are left out, @mentions are all one token
    assert tokens("Not good, but great :) #win 😍 http://x.co/a @Bob", rules) == [
        "not",
        "~good",
        ",",
        "but",
        "great",
        ":)",
        "#win",
        "😍",
        "@user",
    ]
    assert tokens("never again... :-( sad", rules) == ["never", "~again", "...", ":-(", "sad"]
    assert tokens("not good", rules, negation_marks=False) == ["not", "good"]
    # escapes are read as what they stand for
    assert tokens(r"I don\u2019t &amp; won’t", rules) == ["i", "don't", "won't"]


def training_matrix(settings: FeatureSettings, texts: list[str]) -> np.ndarray:
    """The features of ``texts`` as the training script builds them, as a dense array."""
    batch = Featuriser(settings, RuleScorer(TUNED))(texts)
    posts, rows, values = batch.triples()
    x = np.zeros((len(texts), settings.rows))
    np.add.at(x, (posts, rows), values)
    x[:, -DENSE:] = batch.dense
    return x


def test_the_scorer_adds_up_what_the_training_matrix_holds() -> None:
    """The scorer sums each token's weights once per token (words and slices together); the
    training script builds the sparse matrix of every feature. Both must give the same logits."""
    settings = FeatureSettings(bits=10)
    weights = np.random.default_rng(3).normal(size=(2, settings.rows)).astype(np.float32)
    model = Model(weights, np.array([0.1, -0.2]), settings, {})
    texts = [
        "I love this phone, it is wonderful",
        "not bad, NOT BAD at all!!! sooo good",
        "",
        "...",
        "http://example.com @someone #EpicFail",
        "How do I change the wallpaper?",
        "It isn't great. Not terrible either :(",
        "10:30 ships on Tuesday 😍😍",
    ]
    expected = training_matrix(settings, texts) @ weights.T.astype(np.float64) + model.bias
    scored = model.logits(model.featuriser(RuleScorer(TUNED))(texts))
    assert np.allclose(scored, expected, rtol=0, atol=1e-9)
    # the posts do differ (the test would hold for weights of zeros)
    assert len({round(v, 6) for v in scored[:, 0].tolist()}) == len(texts)


def test_a_full_vocabulary_starts_again_and_scores_the_same() -> None:
    model = shipped_model()
    scorer = ModelScorer(model)
    texts = ["I love this phone", "worst service ever", "ships on Tuesday", "sooo goooood"] * 3
    expected = scorer.score_many(texts, ["en"] * len(texts))
    small = ModelScorer(model)
    small.featurise.vocabulary.limit = 5
    got = [small.score(t, "en") for t in texts]
    assert got == expected
    assert len(small.featurise.vocabulary.index) <= 5 + 4  # started again, one post at a time


#: The rows of the features of "Great phone :)" (see the test below).
STABLE_WORD_ROWS = [191332, 166079, 8755]
STABLE_PAIR_ROWS = [174898, 98445]
STABLE_SLICE_ROWS = [57163, 185639, 98613, 224480, 4573, 4782]
#: not, ~great, ",", never, ~sooo, ~good
STABLE_NEGATED_ROWS = [82545, 82060, 65749, 167167, 112477, 206952]


def test_hashing_is_stable() -> None:
    """The weights are only valid for these exact rows: a change here needs new weights."""
    featurise = Featuriser(FeatureSettings(), RuleScorer(TUNED))
    batch = featurise(["Great phone :)"])
    assert batch.vocabulary.rows[batch.keys].tolist() == STABLE_WORD_ROWS  # great, phone, :)
    assert batch.pair_rows.tolist() == STABLE_PAIR_ROWS
    _, rows, _ = batch.triples()
    # " great ": 6 + 5 + 4 + 3 slices; " phone ": 18; " :) ": 3 + 2 + 1
    assert len(rows) == 3 + 2 + 18 + 18 + 6
    assert rows[5:11].tolist() == STABLE_SLICE_ROWS
    assert batch.dense.shape == (1, DENSE)
    assert batch.dense[0, 0] == pytest.approx(0.7964, abs=1e-4)  # the rule scorer's polarity
    # words marked as negated ("~great", "~sooo", "~good") have rows of their own
    negated = Featuriser(FeatureSettings(), RuleScorer(TUNED))(["not great, never sooo good"])
    assert negated.keys.tolist() == [0, 3, 4, 6, 9, 11]  # odd keys: marked
    assert negated.vocabulary.rows[negated.keys].tolist() == STABLE_NEGATED_ROWS


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


def run_training(
    tmp_path: Path, out: Path, *extra: str, semeval: Path | None = None
) -> subprocess.CompletedProcess[str]:
    folder, tweeteval = tiny_data(tmp_path)
    return subprocess.run(
        [
            sys.executable,
            str(TRAIN),
            "--semeval",
            str(semeval or folder),
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
            *extra,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_training_is_deterministic_and_keeps_held_out_tweets_out(tmp_path: Path) -> None:
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


def test_the_shipped_weights_learn_from_dev_once_it_has_chosen(tmp_path: Path) -> None:
    """C and the offsets are chosen on dev by a model that never saw it; the weights written then
    learn from dev's tweets too, unless --train-only."""
    tiny, _ = tiny_data(tmp_path)
    semeval = tmp_path / "with-a-word-of-dev"
    shutil.copytree(tiny, semeval)
    # a word only dev's tweets have, always negative there
    (semeval / "twitter-2016dev.tsv").write_text(
        "".join(f"negative\tzorblax again {i}\n" for i in range(8)), "utf-8"
    )

    def zorblax(out: Path, *extra: str) -> tuple[float, dict[str, object]]:
        done = run_training(tmp_path, out, *extra, semeval=semeval)
        assert done.returncode == 0, done.stderr
        meta = json.loads((out / "sentiment-model.json").read_text("utf-8"))
        model = Model.load(out / "sentiment-model.npz", out / "sentiment-model.json")
        scored = ModelScorer(model).score("zorblax", "en")
        assert scored is not None
        return scored.score, meta

    shipped, meta = zorblax(tmp_path / "shipped")
    alone, meta_alone = zorblax(tmp_path / "alone", "--train-only")
    assert shipped < alone - 0.1  # learnt that the word is negative
    assert meta["data"]["shipped_weights_learnt_from"] == "train and dev"  # type: ignore[index]
    assert meta_alone["data"]["shipped_weights_learnt_from"] == "train"  # type: ignore[index]
    # dev's figure of weights that learnt from dev would say nothing: only the chooser's is kept
    assert "dev" not in meta
    assert "dev" in meta_alone
    assert "dev" in meta["decision"]  # type: ignore[operator]


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
    assert figures.macro_recall >= 0.68, figures.format()
    assert figures.recall["neutral"] >= 0.58, figures.format()
    assert figures.macro_recall > rules.macro_recall
    assert figures.posts_per_s is not None

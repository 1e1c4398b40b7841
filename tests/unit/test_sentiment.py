"""Sentiment: the evaluation figures, each rule of the rules scorer, brand lexicons, languages.

The examples are written here. An optional conformance test measures the rules scorer on the
TweetEval validation split in ``../shared/fixtures/sentiment`` and skips when it is absent. The
learnt model (the default, ``social``) is tested in ``test_sentiment_model.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agora.config.loader import load_config
from agora.config.schema import AnalyticsConfig
from agora.core.sentiment import NullScorer, VaderScorer, make_scorer
from agora.core.sentiment_eval import Evaluation as Figures
from agora.core.sentiment_eval import (
    Example,
    LabelledDataError,
    confusion,
    evaluate,
    half,
    parse_label,
    read_labelled,
)
from agora.core.sentiment_social import TUNED, RuleScorer, SocialParams, split_hashtag
from agora.core.sentiment_tune import best_thresholds, tune

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "sentiment"


@pytest.fixture(scope="module")
def rules() -> RuleScorer:
    return RuleScorer()


def score(scorer: RuleScorer, text: str) -> float:
    return scorer.score_text(text)


def label(scorer: RuleScorer, text: str) -> str:
    result = scorer.score(text, "en")
    assert result is not None
    return result.label


# ------------------------------------------------------------------------------------------------
# the figures


def hand_checked() -> Figures:
    # gold:      4 negative, 3 neutral, 3 positive (one refused by the scorer)
    gold = ["negative"] * 4 + ["neutral"] * 3 + ["positive"] * 3
    predicted = ["negative", "negative", "neutral", "positive"]
    predicted += ["neutral", "neutral", "negative"]
    predicted += ["positive", "positive", None]
    return Figures(confusion(gold, predicted), scorer="hand")  # type: ignore[arg-type]


def test_confusion_matrix_counts_each_pair_and_the_unscored() -> None:
    figures = hand_checked()
    assert figures.matrix == {
        "negative": {"negative": 2, "neutral": 1, "positive": 1, "unscored": 0},
        "neutral": {"negative": 1, "neutral": 2, "positive": 0, "unscored": 0},
        "positive": {"negative": 0, "neutral": 0, "positive": 2, "unscored": 1},
    }
    assert figures.examples == 10
    assert figures.unscored == 1


def test_metrics_on_a_hand_checked_matrix() -> None:
    figures = hand_checked()
    # 6 of 10 right
    assert figures.accuracy == pytest.approx(0.6)
    # recall: 2/4, 2/3, 2/3 (the unscored positive is a miss)
    assert figures.recall == pytest.approx({"negative": 0.5, "neutral": 2 / 3, "positive": 2 / 3})
    assert figures.macro_recall == pytest.approx((0.5 + 2 / 3 + 2 / 3) / 3)
    # precision: every predicted column holds 3, of which 2 are right
    assert figures.precision == pytest.approx(
        dict.fromkeys(("negative", "neutral", "positive"), 2 / 3)
    )
    # F1 negative = 2 * (2/3 * 1/2) / (2/3 + 1/2) = 4/7
    assert figures.f1["negative"] == pytest.approx(4 / 7)
    assert figures.f1["neutral"] == pytest.approx(2 / 3)
    assert figures.macro_f1 == pytest.approx((4 / 7 + 2 / 3 + 2 / 3) / 3)
    assert figures.f1_pn == pytest.approx((4 / 7 + 2 / 3) / 2)
    record = figures.to_dict()
    assert record["accuracy"] == 0.6
    assert record["macro_recall"] == round((0.5 + 4 / 3) / 3, 4)
    assert record["confusion"]["positive"]["unscored"] == 1
    text = figures.format()
    assert "macro recall    0.6111" in text
    assert "accuracy        0.6000" in text


def test_metrics_of_an_empty_class_are_zero_not_an_error() -> None:
    figures = Figures(confusion(["positive", "positive"], ["positive", "neutral"]))
    assert figures.recall["negative"] == 0.0
    assert figures.f1["negative"] == 0.0
    assert figures.accuracy == 0.5


def test_labels_are_names_or_tweeteval_digits() -> None:
    assert parse_label("0") == "negative"
    assert parse_label(" Neutral ") == "neutral"
    assert parse_label("2") == "positive"
    with pytest.raises(ValueError, match="unknown label"):
        parse_label("3")


def test_labelled_lines_are_read_with_their_line_numbers() -> None:
    lines = ["2\tlove it\n", "\n", "negative\thate\tit\r\n", "neutral\t\n"]
    examples = read_labelled(lines, "set.tsv")
    assert examples == [
        Example("positive", "love it"),
        Example("negative", "hate\tit"),
        Example("neutral", ""),
    ]
    with pytest.raises(LabelledDataError, match=r"^set\.tsv:2: expected label<TAB>text"):
        read_labelled(["1\tok", "no tab here"], "set.tsv")
    with pytest.raises(LabelledDataError, match=r"^set\.tsv:1: unknown label 'great'"):
        read_labelled(["great\tok"], "set.tsv")


def test_halves_alternate_lines() -> None:
    examples = [Example("neutral", str(i)) for i in range(5)]
    assert [e.text for e in half(examples, "a")] == ["0", "2", "4"]
    assert [e.text for e in half(examples, "b")] == ["1", "3"]
    with pytest.raises(ValueError, match="half"):
        half(examples, "c")


def test_evaluate_times_the_scorer_and_counts_refusals() -> None:
    examples = [
        Example("positive", "I love this phone, it is wonderful"),
        Example("negative", "This phone is terrible and I hate it"),
        Example("neutral", "The phone ships on Tuesday"),
        Example("neutral", "この電話は火曜日に出荷されます"),
    ]
    figures = evaluate(RuleScorer(), examples)
    assert figures.scorer == "rules"
    assert figures.accuracy == 0.75
    assert figures.unscored == 1
    assert figures.posts_per_s is not None and figures.posts_per_s > 0


def test_threshold_search_finds_the_separating_band() -> None:
    import numpy as np

    scores = np.array([-0.9, -0.5, -0.3, 0.0, 0.1, 0.2, 0.6, 0.8])
    gold = np.array([0, 0, 0, 1, 1, 1, 2, 2], dtype=np.int8)
    low, high, best = best_thresholds(scores, gold)
    assert best == 1.0
    assert -0.3 <= low < 0.0
    assert 0.2 < high <= 0.6


def test_tune_reports_the_half_it_never_saw() -> None:
    texts = [
        ("positive", "I love it"),
        ("negative", "I hate it"),
        ("neutral", "it ships today"),
        ("positive", "great phone"),
        ("negative", "awful phone"),
        ("neutral", "the phone is blue"),
    ] * 4
    examples = [Example(g, t) for g, t in texts]  # type: ignore[arg-type]
    result = tune(examples, "a", rounds=1)
    assert result.tuned_recall == 1.0
    assert result.held_out_recall == 1.0
    assert set(result.to_dict()) == {"params", "tuned_macro_recall", "held_out_macro_recall"}


# ------------------------------------------------------------------------------------------------
# the rules of the rules scorer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new phone 😍", "positive"),
        ("new phone 😡", "negative"),
        ("the update 👎", "negative"),
        ("got it :)", "positive"),
        ("got it :(", "negative"),
        ("great:)", "positive"),
        ("lol xD", "positive"),
        ("broken again </3", "negative"),
        ("meet at 10:30 tomorrow", "neutral"),
    ],
)
def test_emoji_and_emoticons(rules: RuleScorer, text: str, expected: str) -> None:
    assert label(rules, text) == expected


def test_emoji_without_a_value_of_ours_are_scored_from_their_names(rules: RuleScorer) -> None:
    # not in our own table: 😓 is "downcast face with sweat", 😌 "relieved face", 🌈 "rainbow",
    # 👋 "waving hand" (the lexicon's "hand", as in "give a hand", is ignored in emoji names)
    assert score(rules, "😓") < 0
    assert score(rules, "😌") > 0
    assert score(rules, "🌈") == 0.0
    assert score(rules, "👋") == 0.0


def test_negation_flips_within_its_clause(rules: RuleScorer) -> None:
    assert label(rules, "the camera is good") == "positive"
    assert label(rules, "the camera is not good") == "negative"
    assert label(rules, "the camera isn't great") == "negative"
    assert label(rules, "the camera isnt great") == "negative"
    assert label(rules, "never happy with it") == "negative"
    assert score(rules, "not bad at all") > 0
    # the clause ends at the full stop: "good" is not negated
    assert label(rules, "not today. good camera") == "positive"
    # and beyond the reach of three tokens
    assert score(rules, "not that I ever said it was good") > 0


def test_contrast_weighs_what_follows_but(rules: RuleScorer) -> None:
    assert label(rules, "The screen is great but the battery is terrible") == "negative"
    assert label(rules, "The battery is terrible but the screen is great") == "positive"


def test_intensifiers_diminishers_and_elongations(rules: RuleScorer) -> None:
    good = score(rules, "good camera")
    assert score(rules, "very good camera") > good
    assert score(rules, "really really good camera") > good
    assert score(rules, "slightly good camera") < good
    assert score(rules, "sooo good camera") > score(rules, "so good camera") > good
    assert score(rules, "goooood camera") > good
    assert score(rules, "loooove it") > 0
    assert score(rules, "baaaad camera") < 0


def test_intensifier_words_that_are_sentiment_words_on_their_own(rules: RuleScorer) -> None:
    # "pretty" boosts the next sentiment word ("pretty bad" is bad), and is a compliment alone
    assert label(rules, "the camera is pretty bad") == "negative"
    assert label(rules, "the phone is pretty") == "positive"


def test_caps_add_emphasis_unless_the_whole_post_shouts(rules: RuleScorer) -> None:
    assert score(rules, "GOOD camera") > score(rules, "good camera")
    assert score(rules, "GOOD CAMERA") == score(rules, "good camera")


def test_exclamation_marks_add_emphasis(rules: RuleScorer) -> None:
    assert score(rules, "love it!!!") > score(rules, "love it!") > score(rules, "love it")
    assert score(rules, "hate it!!") < score(rules, "hate it")


def test_hashtags_are_split_into_words() -> None:
    vocabulary = RuleScorer().tables.vocabulary
    assert split_hashtag("#EpicFail", vocabulary) == ("epic", "fail")
    assert split_hashtag("#NotHappy", vocabulary) == ("not", "happy")
    assert split_hashtag("#happymonday", vocabulary) == ("happy", "monday")
    assert split_hashtag("#sogood", vocabulary) == ("so", "good")
    assert split_hashtag("#blessed", vocabulary) == ("blessed",)
    # unknown names say nothing rather than a sentiment word found by accident
    assert split_hashtag("#zqxlumenx", vocabulary) == ()
    assert split_hashtag("#", vocabulary) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new phone #epicfail", "negative"),
        ("new phone #EpicFail", "negative"),
        ("new phone #NotHappy", "negative"),
        ("new phone #sogood", "positive"),
        ("new phone #blessed", "positive"),
        ("new phone #launchday", "neutral"),
    ],
)
def test_hashtag_sentiment(rules: RuleScorer, text: str, expected: str) -> None:
    assert label(rules, text) == expected


def test_mentions_and_urls_are_not_scored(rules: RuleScorer) -> None:
    assert score(rules, "@happy_love https://great.example/love-win-best") == 0.0
    assert score(rules, "@killer www.terrible.example/awful") == 0.0
    assert label(rules, "@hater I love it https://bad.example/hate") == "positive"


def test_like_is_sentiment_only_as_a_verb(rules: RuleScorer) -> None:
    assert label(rules, "looks like rain on launch day") == "neutral"
    assert label(rules, "I like it") == "positive"
    assert label(rules, "I don't like it") == "negative"


def test_names_made_of_capitalised_words_are_not_sentiment(rules: RuleScorer) -> None:
    assert label(rules, "tickets for the Grand Prix go on sale") == "neutral"
    assert label(rules, "what a grand day") == "positive"


def test_phrases_and_idioms(rules: RuleScorer) -> None:
    assert label(rules, "can't wait for the launch") == "positive"
    assert label(rules, "what a joke") == "negative"
    assert label(rules, "no problem, thanks") == "positive"
    assert label(rules, "my phone stopped working") == "negative"


def test_escapes_from_other_formats_are_read(rules: RuleScorer) -> None:
    assert label(rules, r"I don\u2019t like it") == "negative"
    assert label(rules, "I don’t like it") == "negative"
    assert label(rules, "salt &amp; pepper") == "neutral"


def test_questions_and_conditionals_count_less(rules: RuleScorer) -> None:
    assert 0 < score(rules, "is it good?") < score(rules, "it is good")
    assert 0 < score(rules, "if it is good") < score(rules, "it is good")


def test_scores_stay_in_range_and_empty_text_is_neutral(rules: RuleScorer) -> None:
    assert score(rules, "") == 0.0
    huge = " ".join(["love"] * 500 + ["😍"] * 500)
    assert 0.99 < score(rules, huge) <= 1.0
    assert -1.0 <= score(rules, " ".join(["hate"] * 500)) < -0.99


def test_neutral_band_replaces_the_tuned_thresholds() -> None:
    assert TUNED.positive_threshold > 0.05
    wide = RuleScorer(neutral_band=0.9)
    result = wide.score("I love it", "en")
    assert result is not None and result.label == "neutral"
    narrow = RuleScorer(SocialParams(), neutral_band=0.01)
    assert narrow.params.negative_threshold == -0.01


# ------------------------------------------------------------------------------------------------
# a brand's own vocabulary


BRAND = {"killer feature": 2.5, "sick camera": 2.0, "#lumenx1": 1.5, "meh": -2.0}


def test_lexicon_overrides_words_and_phrases() -> None:
    plain = RuleScorer()
    brand = RuleScorer(lexicon=BRAND)
    assert label(plain, "the killer feature") == "negative"
    assert label(brand, "the killer feature") == "positive"
    assert label(plain, "what a sick camera") == "negative"
    assert label(brand, "what a SICK camera!") == "positive"
    # the phrase, not its words: "killer" alone is still what the lexicon says
    assert label(brand, "a killer bug") == "negative"
    # negation reaches phrases too
    assert label(brand, "not a killer feature") == "negative"
    assert score(brand, "my #LumenX1") > 0
    assert score(brand, "meh") < score(plain, "meh")


def test_lexicon_from_config(tmp_path: Path) -> None:
    config = tmp_path / "wall.toml"
    config.write_text(
        """
[wall]
name = "Lumen"
[topics.brand]
terms = ["lumen"]
[[sources]]
name = "demo"
kind = "simulator"
[analytics]
lexicon = { "Killer Feature" = 2.5, "sick camera" = 2.0 }
[[screens]]
output = 0
[[screens.pages]]
panels = [{ kind = "sentiment", at = "0,0" }]
""",
        encoding="utf-8",
    )
    analytics = load_config(config).config.analytics
    assert analytics.sentiment == "social"
    assert analytics.lexicon == {"killer feature": 2.5, "sick camera": 2.0}
    scorer = make_scorer(analytics.sentiment, analytics.neutral_band, analytics.lexicon)
    result = scorer.score("Lumen's killer feature", "en")
    assert result is not None and result.label == "positive"


@pytest.mark.parametrize(
    ("lexicon", "message"),
    [
        ({"great": 5.0}, "use a number from -4"),
        ({"great": float("nan")}, "use a number from -4"),
        ({"  ": 1.0}, "has no word"),
        ({"one two three four five six seven": 1.0}, "at most 6"),
    ],
)
def test_lexicon_values_are_validated(lexicon: dict[str, float], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AnalyticsConfig(lexicon=lexicon)


def test_lexicon_is_refused_for_the_bare_baseline() -> None:
    with pytest.raises(ValidationError, match="social and rules scorers only"):
        AnalyticsConfig(sentiment="vader", lexicon={"great": 1.0})


# ------------------------------------------------------------------------------------------------
# scorers and languages


def test_make_scorer_names() -> None:
    assert make_scorer().name == "social"
    assert make_scorer("social").name == "social"
    assert make_scorer("rules").name == "rules"
    assert isinstance(make_scorer("vader"), VaderScorer)
    assert isinstance(make_scorer("none"), NullScorer)
    with pytest.raises(ValueError, match="unknown sentiment scorer"):
        make_scorer("bert")


@pytest.mark.parametrize("scorer", [RuleScorer(), VaderScorer()], ids=["rules", "vader"])
def test_languages_it_cannot_handle_get_none(scorer: RuleScorer | VaderScorer) -> None:
    assert scorer.score("Rakastan tätä puhelinta", "fi") is None
    assert scorer.score("I love it", "fi") is None
    assert scorer.score("この電話が大好きです", None) is None
    assert scorer.score("Это лучший телефон", None) is None
    assert scorer.score("I love it", "en-GB") is not None
    assert scorer.score("I love it", "EN_us") is not None
    assert scorer.score("Café crème, I love it 😍", None) is not None


# ------------------------------------------------------------------------------------------------
# conformance on labelled tweets nobody here wrote (optional)


def tweeteval_validation() -> list[Example]:
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
    return read_labelled(lines, str(texts))


def test_rules_scorer_on_tweeteval_validation() -> None:
    examples = tweeteval_validation()
    assert len(examples) == 2000
    rules = evaluate(RuleScorer(), examples)
    vader = evaluate(VaderScorer(), examples)
    assert rules.macro_recall >= 0.62, rules.format()
    for which in ("a", "b"):
        assert evaluate(RuleScorer(), half(examples, which)).macro_recall >= 0.62
    assert rules.macro_recall > vader.macro_recall + 0.03
    assert rules.macro_f1 > vader.macro_f1

"""Topic matching and sentiment scoring."""

from __future__ import annotations

import pytest

from agora.core.sentiment import NullScorer, VaderScorer, label_for, mostly_non_latin
from agora.core.terms import terms
from agora.core.text import fold
from agora.core.topics import TopicMatcher


@pytest.fixture(scope="module")
def matcher() -> TopicMatcher:
    return TopicMatcher(
        {
            "brand": ["nokia", "#lumia"],
            "care": ["@nokiacare"],
            "phrase": ["nokia x30"],
            "prefix": ["nokiap*"],
            "cafe": ["café"],
        }
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I love my Nokia", {"brand"}),
        ("NOKIA!!!", {"brand"}),
        ("#Nokia rocks", {"brand"}),
        ("@nokia please reply", {"brand"}),
        ("nokia's new phone", {"brand"}),
        ("I read nokiapedia all day", {"prefix"}),
        ("Nokiaphone", {"prefix"}),
        ("mynokia is not a mention", set()),
        ("#lumia forever", {"brand"}),
        ("lumia without hashtag", set()),
        ("foo#lumia glued hashtag", set()),
        ("hey @NokiaCare my phone broke", {"care"}),
        ("@nokiacare@social.example help", {"care"}),
        ("nokiacare without at", set()),
        ("the Nokia   X30 is here", {"brand", "phrase"}),
        ("nokia x300 is not the phrase", {"brand"}),
        ("Cafe culture", {"cafe"}),
        ("CAFÉ culture", {"cafe"}),
        ("cafés", set()),
    ],
)
def test_topic_matching(matcher: TopicMatcher, text: str, expected: set[str]) -> None:
    assert set(matcher.match(fold(text))) == expected


def test_vader_scores_english_and_refuses_other_languages() -> None:
    scorer = VaderScorer()
    good = scorer.score("I love this phone, it is great!", "en")
    bad = scorer.score("This is the worst phone ever, I hate it", "en-GB")
    assert good is not None and good.label == "positive" and good.score > 0.5
    assert bad is not None and bad.label == "negative" and bad.score < -0.5
    neutral = scorer.score("The phone ships on Tuesday", None)
    assert neutral is not None and neutral.label == "neutral"
    assert scorer.score("Rakastan tätä puhelinta", "fi") is None
    assert scorer.score("この電話が大好きです", None) is None
    assert scorer.score("Это лучший телефон", None) is None
    assert NullScorer().score("I love it", "en") is None


def test_labels_and_script_detection() -> None:
    assert label_for(0.05) == "positive"
    assert label_for(-0.05) == "negative"
    assert label_for(0.04) == "neutral"
    assert mostly_non_latin("日本語のテキスト abc")
    assert not mostly_non_latin("Café crème brûlée")


def test_trending_terms_drop_stopwords_mentions_and_urls() -> None:
    found = terms(fold("The battery life of the #LumenX1 is amazing @lumen https://x.example/a"))
    assert "battery" in found and "#lumenx1" in found and "battery life" in found
    assert "the" not in found and "@lumen" not in found
    assert not any("http" in t or "example" in t for t in found)


def test_trending_terms_drop_the_english_possessive() -> None:
    found = terms(fold("My partner's Lumen camera, it's the Corvid’s battery life"))
    assert {"partner", "corvid", "partner lumen", "corvid battery"} <= found
    assert not {t for t in found if "'" in t or "’" in t}
    assert "it" not in found and "its" not in found


def test_trending_phrases_are_adjacent_words_within_a_sentence() -> None:
    found = terms(fold("I took it to the shop, battery life! “Great camera” (really)"))
    assert "great camera" in found and "battery life" in found
    assert "shop battery" not in found  # a comma ends a phrase
    assert "took shop" not in found  # stopwords stood between them
    assert "camera really" not in found


def test_stopwords_of_other_languages_never_trend() -> None:
    found = terms(fold("Le téléphone rame depuis la mise à jour, das Display ist kaputt"))
    assert "depuis" not in found and "das" not in found and "ist" not in found
    assert "telephone" in found and "display" in found and "kaputt" in found

"""One reading of a post for every stage (issues 15 and 16): the pipeline tokenises each post once
and detects its language once, and moderation, trending and sentiment read what that one
reading found."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pycld2
import pytest

from agora.bench.ingest import bench_config
from agora.config.schema import ModerationConfig, SimulatorSource
from agora.core.moderation import RuleModeration
from agora.core.post import Author, Post
from agora.core.sentiment_social import TUNED, RuleScorer, split_hashtag
from agora.core.tokens import (
    SHARED,
    TOKENISED,
    Kind,
    TextCache,
    Token,
    case_words,
    read,
    tokenise,
)
from agora.engine import build_pipeline
from agora.sources.base import SourceContext
from agora.sources.simulator import SimulatorSource as Simulator
from agora.store.sqlite import SqliteStore

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Counter[str], Counter[bytes]]]:
    """(texts tokenised, texts handed to the language detector), each with how often: counted
    by the tokeniser's own hook and by wrapping the detector itself (CLD2)."""
    tokenised: Counter[str] = Counter()
    detected: Counter[bytes] = Counter()
    real = pycld2.detect

    def detect(text: bytes, *args: Any, **kwargs: Any) -> Any:
        detected[text] += 1
        return real(text, *args, **kwargs)

    def tokenise_hook(text: str) -> None:
        tokenised[text] += 1

    monkeypatch.setattr(pycld2, "detect", detect)
    SHARED.clear()
    TOKENISED.append(tokenise_hook)
    try:
        yield tokenised, detected
    finally:
        TOKENISED.pop()
        SHARED.clear()


def _posts(tmp_path: Path, hours: float) -> list[Post]:
    config = bench_config()
    source = next(s for s in config.sources if isinstance(s, SimulatorSource))
    context = SourceContext(wall=config, config_dir=tmp_path, clock=lambda: START)
    return Simulator(source, context).generate(START - timedelta(hours=hours), START)


def test_the_pipeline_reads_each_post_once(
    tmp_path: Path, counted: tuple[Counter[str], Counter[bytes]]
) -> None:
    tokenised, detected = counted
    posts = _posts(tmp_path, 1.0)
    store = SqliteStore(tmp_path / "wall.sqlite3")
    # per batch (a reading lasts one batch): texts tokenised, detections, and their bound
    batches: list[tuple[Counter[str], int, int]] = []
    try:
        pipeline = build_pipeline(bench_config("social"), store)  # every filter on
        new: list[Post] = []
        for at in range(0, len(posts), 20):
            part = posts[at : at + 20]
            tokens_before, detected_before = tokenised.copy(), sum(detected.values())
            new += pipeline.ingest(part, now=part[-1].created_at, keep=True).posts
            texts = {p.text for p in part}
            # one detection a text (and one more of the first 600 characters of a longer
            # one, for the profanity lists)
            bound = len(texts) + sum(1 for t in texts if len(t) > 600)
            batches.append(
                (tokenised - tokens_before, sum(detected.values()) - detected_before, bound)
            )
    finally:
        store.close()
    shown = [p for p in new if p.moderation.state != "hidden"]
    scored = [p for p in new if p.sentiment is not None]
    hidden_for_language = [p for p in new if "language" in " ".join(p.moderation.reasons)]
    # the run went through every stage: posts shown, scored, hidden by the language filter
    assert len(new) > 100 and shown and scored and hidden_for_language
    assert sum(1 for p in new if "#" in p.text and p.sentiment is not None) > 20
    for tokenised_now, detections, bound in batches:
        # each text tokenised once, though moderation (hashtags) and the scorer both read
        # tokens; the language filter and the scorer both ask each post's language
        assert set(tokenised_now.values()) <= {1}
        assert detections <= bound
    assert sum(d for _, d, _ in batches) > len(posts) * 0.5


def test_kinds_of_tokens() -> None:
    found = tokenise("#FUCKyou @lumen 😂 :) xD 2026 wow!! https://spam.example/a café")
    assert found == [
        Token("https://spam.example/a", Kind.URL),
        Token("#FUCKyou", Kind.HASHTAG),
        Token("@lumen", Kind.MENTION),
        Token("😂", Kind.EMOJI),
        Token(":)", Kind.EMOTICON),
        Token("xD", Kind.EMOTICON),
        Token("2026", Kind.NUMBER),
        Token("wow", Kind.WORD),
        Token("!!", Kind.PUNCTUATION),
        Token("café", Kind.WORD),
    ]


TRICKY = [
    "#FUCKyou Lumen",
    "ѕһіт phone from Lumen",  # Cyrillic look-alikes
    "fu🖕ck this 😡 update",
    "see https://spam.example/#shitphone now",
    "#WhatTheFuck is #LumenX1 doing",
    "I love it :) <3 but the battery &amp; screen…",
]


@pytest.mark.parametrize("text", TRICKY)
def test_moderation_and_sentiment_read_one_reading(text: str) -> None:
    SHARED.clear()
    moderation = RuleModeration(ModerationConfig(languages=["en"]))
    post = Post("x:1", "x", "x", text, START, Author("someone"))
    moderation(post, read(text).folded)
    shared = read(text)
    # the scorer's tokens are the very list the shared reading holds, not a copy made again
    assert RuleScorer(TUNED).read(text)[3] is shared.strings
    # and the language moderation detected is the one the scorer's language check reads
    assert shared.language(None) == shared.language(post.lang)
    assert [t.text for t in shared.tokens if t.kind is not Kind.URL] == shared.strings


def test_moderation_and_sentiment_agree_on_a_cased_hashtag() -> None:
    moderation = RuleModeration(ModerationConfig())
    post = Post("x:2", "x", "x", "new phone #FUCKyou", START, Author("someone"))
    verdict = moderation(post, read(post.text).folded)
    assert verdict.state == "hidden"
    # one splitter: the profanity lists read "FUCK you", the scorer "fuc kyou" (its own rule
    # for a capital that begins the next word), both from case_words
    assert case_words("FUCKyou", runs=True) == ["FUCK", "you"]
    assert split_hashtag("#FUCKyou", frozenset()) == ("fuc", "kyou")
    assert case_words("IPhone", initials=True) == ["I", "Phone"]
    assert case_words("IPhone") == ["IP", "hone"]
    assert case_words("HTTPServer") == case_words("HTTPServer", initials=True)


def test_the_cache_forgets_the_oldest_texts_first() -> None:
    cache = TextCache(capacity=2)
    first = cache.of("one")
    cache.of("two")
    assert cache.of("one") is first and cache.made == 2
    cache.of("three")  # the newer generation was full: "one" and "two" are the older now
    assert cache.get("one") is first and cache.of("one") is first and cache.made == 3
    cache.of("four")
    cache.of("five")  # "two" was in the older generation only: gone
    assert cache.get("two") is None and cache.get("one") is not None
    assert cache.made == 5 and len(cache) <= 4


def test_a_long_post_is_guessed_from_its_beginning(
    counted: tuple[Counter[str], Counter[bytes]],
) -> None:
    _, detected = counted
    text = "Das ist ein langer Beitrag über das neue Telefon. " * 20
    shared = read(text)
    assert shared.guess() == "de"
    assert shared.language(None) == "de"  # the whole text, detected once more (it is longer)
    assert shared.language("") == "de" and shared.guess() == "de"
    assert detected[text.encode()] == 1 and detected[text[:600].encode()] == 1


@pytest.mark.parametrize(
    "text", ["#FUCKyou", "new #ѕһітphone today", "love it #fu🖕ck 😂", "#WhatTheFuck @lumen"]
)
def test_moderation_reads_the_hashtags_the_scorer_reads(
    text: str, counted: tuple[Counter[str], Counter[bytes]]
) -> None:
    tokenised, _ = counted
    moderation = RuleModeration(ModerationConfig())
    post = Post("x:3", "x", "x", text, START, Author("someone"))
    assert moderation(post, read(text).folded).state == "hidden"
    assert tokenised[text] == 1  # moderation asked for the post's tokens (its hashtags)
    RuleScorer(TUNED).read(text)
    assert tokenised[text] == 1  # and the scorer read the same ones
    shared = read(text)
    assert shared.hashtags() == [t.text[1:] for t in shared.tokens if t.kind is Kind.HASHTAG]


def test_a_link_is_one_token_and_its_anchor_still_read_by_moderation() -> None:
    text = "see https://spam.example/#shitphone now"
    assert tokenise(text)[0] == Token("https://spam.example/#shitphone", Kind.URL)
    assert read(text).hashtags() is None  # not read as written: moderation finds its own
    moderation = RuleModeration(ModerationConfig())
    post = Post("x:4", "x", "x", text, START, Author("someone"))
    assert moderation(post, read(text).folded).state == "hidden"

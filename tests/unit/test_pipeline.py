"""The pipeline stages and the aggregates they feed."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from agora.config.schema import AnalyticsConfig, ModerationConfig, TopicConfig, WallConfig
from agora.core.post import Author, Metrics, Post
from agora.engine import build_pipeline

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

CONFIG = WallConfig(
    topics={
        "brand": TopicConfig(label="Lumen", terms=["lumen", "#lumen", "@lumen"]),
        "rival": TopicConfig(label="Corvid", terms=["corvid"]),
    },
    moderation=ModerationConfig(block_terms=["giveaway"], block_authors=["@spammer"]),
    analytics=AnalyticsConfig(owned_accounts=["jsonl:@lumencare"]),
)

_counter = 0


def post(text: str, *, at: datetime = T0, handle: str = "@ana", **kw: object) -> Post:
    global _counter
    _counter += 1
    fields: dict[str, object] = {
        "id": f"jsonl:{_counter}",
        "source": "jsonl",
        "feed": "test",
        "text": text,
        "created_at": at,
        "author": Author(handle, handle.strip("@").title(), followers=100),
        "lang": "en",
    }
    fields.update(kw)
    return Post(**fields)  # type: ignore[arg-type]


def test_enrichment_topics_sentiment_and_share() -> None:
    pipeline = build_pipeline(CONFIG, None)
    result = pipeline.ingest(
        [
            post("I love my Lumen, it is wonderful"),
            post("Corvid phones are terrible and slow"),
            post("Lumen or Corvid? Both fine"),
            post("Rakastan Lumen puhelinta", lang="fi"),
        ],
        now=T0,
        keep=True,
    )
    assert result.new == 4
    first, second, both, finnish = result.posts
    assert first.topics == ("brand",) and first.sentiment and first.sentiment.label == "positive"
    assert second.topics == ("rival",) and second.sentiment and second.sentiment.label == "negative"
    assert both.topics == ("brand", "rival")
    assert finnish.sentiment is None
    snap = pipeline.aggregates.snapshot(T0)
    summary = snap.summary(None)
    assert summary.share_counts == {"brand": 3, "rival": 2}
    assert summary.share_of_voice["brand"] == pytest.approx(0.6)
    assert sum(summary.share_of_voice.values()) == pytest.approx(1.0)
    assert summary.multi_topic == 1
    assert summary.sentiment.unscored == 1
    assert summary.sentiment.scored == 3
    assert snap.to_dict()["sentiment"]["unscored"] == 1


def test_dedupe_counts_once_and_updates_metrics() -> None:
    pipeline = build_pipeline(CONFIG, None)
    original = post("Lumen battery lasts two days, impressive", metrics=Metrics(likes=1))
    pipeline.ingest([original], now=T0)
    again = dataclasses.replace(original, metrics=Metrics(likes=500))
    result = pipeline.ingest([again, dataclasses.replace(again)], now=T0)
    assert (result.new, result.updated) == (0, 2)
    snap = pipeline.aggregates.snapshot(T0)
    assert snap.summary(None).posts.total == 1
    assert snap.featured[0].post.metrics.likes == 500
    assert "500 likes" in snap.featured[0].why


def test_reposts_are_counted_but_not_shown_twice() -> None:
    pipeline = build_pipeline(CONFIG, None)
    original = post("The Lumen camera is stunning")
    boosts = [
        post(
            "The Lumen camera is stunning", handle=f"@fan{i}", is_repost=True, repost_of=original.id
        )
        for i in range(3)
    ]
    pipeline.ingest([original, *boosts], now=T0)
    snap = pipeline.aggregates.snapshot(T0)
    assert snap.summary(None).posts.total == 4
    assert snap.summary(None).posts.reposts == 3
    assert [p.id for p in snap.newest] == [original.id]
    assert [f.post.id for f in snap.featured] == [original.id]


def test_moderation_rules_hide_blocked_terms_and_authors() -> None:
    pipeline = build_pipeline(CONFIG, None)
    result = pipeline.ingest(
        [
            post("Huge Lumen #giveaway click now"),
            post("Lumen is nice", handle="@Spammer"),
            post("Lumen is nice and calm"),
        ],
        now=T0,
        keep=True,
    )
    states = [p.moderation.state for p in result.posts]
    assert states == ["hidden", "hidden", "approved"]
    assert result.posts[0].moderation.reasons == ("blocked term: giveaway",)
    snap = pipeline.aggregates.snapshot(T0)
    assert snap.summary(None).posts.hidden == 2
    assert snap.summary(None).posts.shown == 1
    assert [p.text for p in snap.newest] == ["Lumen is nice and calm"]
    assert all(t.term != "giveaway" for t in snap.summary(None).trending)


def test_care_queue_question_answered_by_owned_account() -> None:
    pipeline = build_pipeline(CONFIG, None)
    question = post("How do I reset my Lumen? It won't start", handle="@bob")
    complaint = post("@lumencare my Lumen screen is broken, terrible support", handle="@cy")
    praise = post("Lumen is lovely", handle="@di")
    pipeline.ingest([question, complaint, praise], now=T0)
    reply = post(
        "Hi Bob, hold power for 10 s",
        handle="@LumenCare",
        at=T0 + timedelta(minutes=12),
        reply_to=question.id,
    )
    pipeline.ingest([reply], now=T0 + timedelta(minutes=12))
    care = pipeline.aggregates.snapshot(T0 + timedelta(minutes=13)).care
    assert [p.id for p in care.open] == [complaint.id]
    assert care.total == 2 and care.answered == 1
    assert care.response_rate == 0.5
    assert care.median_first_reply_s == 720.0


def test_reply_arriving_before_its_question_still_answers_it() -> None:
    pipeline = build_pipeline(CONFIG, None)
    question = post("Why does my Lumen keep crashing?", handle="@bob")
    reply = post(
        "Sorry! DM us", handle="@lumencare", at=T0 + timedelta(minutes=5), reply_to=question.id
    )
    pipeline.ingest([reply], now=T0)
    pipeline.ingest([question], now=T0)
    care = pipeline.aggregates.snapshot(T0 + timedelta(minutes=6)).care
    assert care.open == () and care.answered == 1


def test_engagement_rates_for_owned_accounts_and_mentions() -> None:
    pipeline = build_pipeline(CONFIG, None)
    pipeline.ingest(
        [
            post(
                "Lumen update is out",
                handle="@lumencare",
                metrics=Metrics(likes=10, reposts=4, replies=2),
            ),
            post("Lumen rocks", metrics=Metrics(likes=1, reposts=0, replies=1)),
            post("Lumen ok", handle="@eve", metrics=Metrics(likes=3, reposts=2, replies=1)),
        ],
        now=T0,
    )
    summary = pipeline.aggregates.snapshot(T0).summary(3600)
    assert (summary.owned.posts, summary.owned.applause, summary.owned.amplification) == (
        1,
        10.0,
        4.0,
    )
    assert summary.mentions.posts == 2
    assert summary.mentions.applause == 2.0
    assert summary.mentions.conversation == 1.0


def test_windows_volume_and_kpis() -> None:
    pipeline = build_pipeline(CONFIG, None)
    posts = [post("Lumen!", at=T0 - timedelta(minutes=m)) for m in range(180)]
    pipeline.ingest(posts, now=T0)
    snap = pipeline.aggregates.snapshot(T0)
    assert snap.summary(3600).posts.total == 60
    assert snap.summary(86400).posts.total == 180
    assert len(snap.volume.total) == 24 * 60
    assert sum(snap.volume.total) == 180
    assert snap.volume.by_topic["brand"][-1] == 1
    assert snap.kpis.per_minute == 1.0
    data = snap.to_dict(3600)
    assert len(data["volume"]["total"]) == 60
    assert data["volume"]["step_s"] == 60
    assert data["posts"]["total"] == 60


def test_featured_never_repeats_an_author_and_prefers_engagement() -> None:
    pipeline = build_pipeline(CONFIG, None)
    posts = [
        post(
            f"Lumen post number {i} with enough text",
            handle=f"@a{i % 3}",
            metrics=Metrics(likes=i * 10),
            at=T0 - timedelta(minutes=i),
        )
        for i in range(30)
    ]
    pipeline.ingest(posts, now=T0)
    featured = pipeline.aggregates.snapshot(T0).featured
    handles = [f.post.author.handle for f in featured]
    assert len(handles) == len(set(handles)) == 3
    assert featured[0].score >= featured[1].score >= featured[2].score


def test_trending_finds_a_rising_term() -> None:
    pipeline = build_pipeline(CONFIG, None)
    rng = random.Random(4)
    filler = ["battery", "camera", "screen", "price", "colour", "design"]
    old = [
        post(
            f"Lumen {rng.choice(filler)} {rng.choice(filler)}",
            handle=f"@u{i}",
            at=T0 - timedelta(hours=2, minutes=rng.randint(0, 300)),
        )
        for i in range(600)
    ]
    new = [
        post(
            f"Lumen overheating {rng.choice(filler)}",
            handle=f"@n{i}",
            at=T0 - timedelta(minutes=rng.randint(0, 50)),
        )
        for i in range(40)
    ]
    pipeline.ingest(old + new, now=T0)
    trending = pipeline.aggregates.snapshot(T0).summary(3600).trending
    assert trending[0].term == "overheating"
    assert "lumen" not in {t.term for t in trending}


def test_trending_words_are_shown_as_people_write_them() -> None:
    pipeline = build_pipeline(CONFIG, None)
    texts = [
        "Almoço com o Lumen novo, que câmera",  # capital only at the start of the sentence
        "almoço e Lumen, câmera incrível",
        "Lumen launch party in Berlin tonight #LumenX1",
        "Berlin queue for the Lumen #LumenX1 #lumenx1",
        "Lumen #LumenX1 in Berlin: battery life is great, battery life!",
        "Näyttö välkkyy taas, Lumen. Näyttö pimenee",  # only ever first in a sentence
    ]
    posts = [
        post(text, handle=f"@p{i}{k}", at=T0 - timedelta(minutes=k))
        for k in range(4)
        for i, text in enumerate(texts)
    ]
    pipeline.ingest(posts, now=T0)
    trending = {t.term: t for t in pipeline.aggregates.snapshot(T0).summary(3600).trending}
    assert trending["almoco"].shown == "almoço"  # accents back, sentence capitals not
    assert trending["camera"].shown == "câmera"
    assert trending["berlin"].shown == "Berlin"  # always capitalised: a name
    assert trending["#lumenx1"].shown == "#LumenX1"
    assert trending["battery life"].shown == "battery life"
    assert trending["naytto valkkyy"].shown == "näyttö välkkyy"  # not a sentence's capital
    # a term no recent post shows (every post of it withdrawn) keeps its folded form
    assert dataclasses.replace(trending["berlin"], label="").shown == "berlin"
    summary = pipeline.aggregates.snapshot(T0).to_dict()["trending"]
    assert {"term": "almoco", "label": "almoço"}.items() <= next(
        t for t in summary if t["term"] == "almoco"
    ).items()


def test_a_word_that_a_rising_phrase_says_is_not_listed_twice() -> None:
    pipeline = build_pipeline(CONFIG, None)
    rng = random.Random(7)
    posts = [
        post(f"Lumen overheats charging {rng.choice(['again', 'today', 'badly'])}", handle=f"@o{i}")
        for i in range(20)
    ] + [post(f"Lumen overheats {i}", handle=f"@p{i}") for i in range(2)]
    posts += [post("Lumen camera sharp", handle=f"@c{i}") for i in range(10)]
    posts += [post("Lumen camera", handle=f"@d{i}") for i in range(10)]
    pipeline.ingest(posts, now=T0)
    terms = [t.term for t in pipeline.aggregates.snapshot(T0).summary(3600).trending]
    assert "overheats charging" in terms
    assert "overheats" not in terms and "charging" not in terms  # the phrase says them
    assert "camera" in terms and "camera sharp" in terms  # half the camera posts say more


def test_one_spike_raises_one_alert() -> None:
    pipeline = build_pipeline(CONFIG, None)
    rng = random.Random(1)
    posts = []
    start = T0 - timedelta(hours=8)
    for minute in range(8 * 60):
        n = 3 + rng.randint(0, 2)
        if 7 * 60 <= minute < 7 * 60 + 30:
            n = 40  # thirty minutes of a surge
        posts += [
            post(
                "Lumen news",
                handle=f"@s{minute}-{k}",
                at=start + timedelta(minutes=minute, seconds=k),
            )
            for k in range(n)
        ]
    pipeline.ingest(posts, now=T0)
    alerts = pipeline.aggregates.snapshot(T0).alerts
    spikes = [a for a in alerts if a.kind == "volume-spike" and a.topic is None]
    assert len(spikes) == 1
    assert spikes[0].started_at == start + timedelta(hours=7)
    assert not spikes[0].active  # it ended when volume fell back


def test_snapshot_is_immutable() -> None:
    pipeline = build_pipeline(CONFIG, None)
    pipeline.ingest([post("Lumen")], now=T0)
    snap = pipeline.aggregates.snapshot(T0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.version = 5  # type: ignore[misc]
    assert isinstance(snap.newest, tuple)


def test_pools_stay_bounded() -> None:
    pipeline = build_pipeline(CONFIG, None)
    aggregates = pipeline.aggregates
    for chunk in range(20):
        batch = [
            post(
                f"How do I fix my Lumen {chunk}-{i}? help",
                handle=f"@h{chunk}-{i}",
                at=T0 + timedelta(seconds=chunk * 1000 + i),
            )
            for i in range(1000)
        ]
        pipeline.ingest(batch, now=T0 + timedelta(days=1))
    assert len(aggregates.featured.candidates) <= 2_000
    assert len(aggregates.newest) <= 300
    assert len(aggregates.care.open) <= 1_000
    assert len(aggregates.authors.info) <= 16_000


def test_batched_aggregates_equal_one_post_at_a_time() -> None:
    rng = random.Random(11)
    words = ["Lumen", "Corvid", "battery life", "great camera", "terrible", "help?", "#lumen"]
    posts = [
        post(
            " ".join(rng.choice(words) for _ in range(6)),
            at=T0 + timedelta(seconds=rng.randrange(0, 7200)),
            handle=rng.choice(["@ana", "@ben", "@lumencare", "@cy"]),
            metrics=Metrics(likes=rng.randrange(5), replies=rng.randrange(3)),
            reply_to="jsonl:1" if rng.random() < 0.1 else None,
        )
        for _ in range(400)
    ]
    one, batched = build_pipeline(CONFIG, None), build_pipeline(CONFIG, None)
    for p in posts:
        one.ingest([dataclasses.replace(p)], now=T0 + timedelta(hours=3))
    batched.ingest([dataclasses.replace(p) for p in posts], now=T0 + timedelta(hours=3))
    now = T0 + timedelta(hours=2)
    a, b = one.aggregates.snapshot(now), batched.aggregates.snapshot(now)
    assert a.windows == b.windows
    assert a.volume == b.volume
    assert a.kpis == b.kpis
    assert [f.post.id for f in a.featured] == [f.post.id for f in b.featured]
    assert [p.id for p in a.newest] == [p.id for p in b.newest]
    assert a.care == b.care


def _daily_stream(days: float, spike_at: timedelta | None = None) -> list[Post]:
    """Mentions with a strong daily rhythm (quiet nights, busy days) ending at T0."""
    rng = random.Random(5)
    start = T0 - timedelta(days=days)
    out: list[Post] = []
    for minute in range(int(days * 1440)):
        at = start + timedelta(minutes=minute)
        hour = at.hour + at.minute / 60
        rate = 1.0 + 7.0 * max(0.0, math.sin(math.pi * (hour - 6) / 16)) if 6 <= hour <= 22 else 1.0
        n = sum(1 for _ in range(int(rate * 3)) if rng.random() < 1 / 3)
        if spike_at is not None and spike_at <= at - start < spike_at + timedelta(minutes=20):
            n += 30
        out += [
            post("Lumen news", handle=f"@d{minute}-{k}", at=at + timedelta(seconds=k))
            for k in range(n)
        ]
    return out


def test_the_daily_rhythm_is_not_a_spike_but_a_launch_is() -> None:
    quiet = build_pipeline(CONFIG, None)
    quiet.ingest(_daily_stream(2.5), now=T0)
    spikes = [a for a in quiet.aggregates.snapshot(T0).alerts if a.kind == "volume-spike"]
    assert spikes == []  # mornings rise every day: usual for that time of day
    launch = build_pipeline(CONFIG, None)
    launch.ingest(_daily_stream(2.5, spike_at=timedelta(days=2, hours=4)), now=T0)
    spikes = [
        a
        for a in launch.aggregates.snapshot(T0).alerts
        if a.kind == "volume-spike" and a.topic is None
    ]
    assert len(spikes) == 1
    assert "for this time of day" in spikes[0].message
    assert not spikes[0].active
    # the brand's alert and the all-mentions one start together: the brand's is told first
    together = [
        a for a in launch.aggregates.snapshot(T0).alerts if a.started_at == spikes[0].started_at
    ]
    assert [a.topic for a in together] == ["brand", None]


def test_a_fresh_wall_follows_a_gradual_rise() -> None:
    pipeline = build_pipeline(CONFIG, None)
    rng = random.Random(3)
    start = T0 - timedelta(hours=8)
    posts = []
    for minute in range(8 * 60):
        rate = 2.0 + 4.0 * min(1.0, max(0.0, (minute - 180) / 180))  # 2/min rising to 6/min
        n = sum(1 for _ in range(int(rate * 3)) if rng.random() < 1 / 3)
        posts += [
            post("Lumen", handle=f"@r{minute}-{k}", at=start + timedelta(minutes=minute, seconds=k))
            for k in range(n)
        ]
    pipeline.ingest(posts, now=T0)
    assert [a for a in pipeline.aggregates.snapshot(T0).alerts if a.kind == "volume-spike"] == []


def test_featured_mixes_authors_and_sources_and_says_why() -> None:
    pipeline = build_pipeline(CONFIG, None)
    xs = [
        post("Lumen camera review thread", handle=f"@x{i}", source="x", metrics=Metrics(likes=100))
        for i in range(6)
    ]
    twice = post(
        "Lumen again from the same author", handle="@x0", source="x", metrics=Metrics(likes=500)
    )
    fedi = post(
        "Lumen on the fediverse, lovely", handle="@m", source="mastodon", metrics=Metrics(likes=70)
    )
    pipeline.ingest([*xs, twice, fedi], now=T0)
    featured = pipeline.aggregates.snapshot(T0).featured
    handles = [f.post.author.handle for f in featured]
    assert len(handles) == len(set(handles))  # one post per author
    assert [f.post.source for f in featured[:2]] == ["x", "mastodon"]  # a second source early
    assert "from x above" in featured[2].why
    assert all(a.score >= b.score for a, b in itertools.pairwise(featured))


def test_the_brands_own_accounts_are_not_on_the_leaderboard_or_trending() -> None:
    pipeline = build_pipeline(CONFIG, None)
    posts = [
        post(
            "Lumen firmware update rolling out today",
            handle="@lumencare",
            at=T0 - timedelta(minutes=i),
        )
        for i in range(10)
    ] + [
        post("my Lumen overheating again", handle=f"@p{i}", at=T0 - timedelta(minutes=i))
        for i in range(4)
    ]
    pipeline.ingest(posts, now=T0)
    summary = pipeline.aggregates.snapshot(T0).summary(3600)
    assert "@lumencare" not in {a.handle for a in summary.authors}
    assert {t.term for t in summary.trending} >= {"overheating"}
    assert not {"firmware", "rolling"} & {t.term for t in summary.trending}
    assert summary.owned.posts == 10  # still counted where they belong: the brand's own rates


def test_spikes_are_judged_again_soon_after_the_clock_goes_back() -> None:
    pipeline = build_pipeline(CONFIG, None)
    start = T0 - timedelta(hours=6)
    quiet = [
        post("Lumen news", handle=f"@q{m}-{k}", at=start + timedelta(minutes=m, seconds=k))
        for m in range(6 * 60)
        for k in range(3)
    ]
    pipeline.ingest(quiet, now=T0)
    aggregates = pipeline.aggregates
    aggregates.snapshot(T0 + timedelta(hours=1))  # the clock ran an hour ahead, then NTP fixed it
    aggregates.snapshot(T0)
    burst = [
        post("Lumen news", handle=f"@b{k}", at=T0 + timedelta(seconds=k % 290)) for k in range(200)
    ]
    pipeline.ingest(burst, now=T0 + timedelta(minutes=5))
    alerts = aggregates.snapshot(T0 + timedelta(minutes=11)).alerts
    assert any(a.kind == "volume-spike" and a.started_at == T0 for a in alerts)

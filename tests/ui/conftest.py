"""Fixtures for UI tests: snapshots built by the real pipeline, hostile strings, rendering to PNG."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from agora.config.schema import (
    AnalyticsConfig,
    PanelConfig,
    TopicConfig,
    WallConfig,
)
from agora.core.post import Author, Media, Metrics, Post
from agora.core.snapshot import Snapshot
from agora.engine import build_pipeline
from agora.ui.panels import Panel, PanelContext, panel_class
from agora.ui.theme import theme_for

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

UI_CONFIG = WallConfig(
    topics={
        "brand": TopicConfig(label="Lumen", terms=["lumen", "#lumen", "@lumen"]),
        "rival": TopicConfig(label="Corvid", terms=["corvid", "#corvid"]),
        "other": TopicConfig(label="Halcyon", terms=["halcyon"]),
    },
    analytics=AnalyticsConfig(owned_accounts=["jsonl:@lumencare"]),
)

#: Text that must never break a panel: markup shown literally, bidi, zalgo, emoji, huge lines.
HOSTILE_TEXTS: tuple[str, ...] = (
    "<b>bold</b> <i>not italic</i> <img src='https://evil.example/x.png'> <h1>BIG</h1> Lumen",
    "<script>alert('x')</script><a href='javascript:alert(1)'>click</a> Lumen",
    "%s %d {0} {name} %(x)s $HOME `rm -rf` Lumen",
    "\u202eLumen gnp.exe \u2066isolated\u2069 עברית ועוד טקסט Lumen العربية نص",
    "Z̷̢̛̖̗̘̙̜̝̞̟̠̤̥̦̩̪̫̬̭̮̯̰̱̲̳̹̺̻̼ͅa̴l̸g̵o̶ Lumen" + "\u0301" * 200,
    "Lumen " + "😀👍🏽👨‍👩‍👧‍👦🇫🇮" * 10,
    "Lumen\u200b\u200b\u200bzero\u200dwidth\ufeff",
    "Lumen " + "x" * 2_000,
    ("Lumen " + "word " * 400).strip(),
    "Lumen " + "A" * 100_000,
    # more of the same kind, for the moderation work: terminals, Qt's own syntax, entities
    "<qt><b>rich?</b></qt> <!DOCTYPE html><style>*{color:red}</style> &lt;b&gt; &amp; Lumen",
    "\x1b[31mred\x1b[0m \x00nul\x07bell\x08 Lumen\ttab\r\nnew line",
    "&Accelerator %n %1 %% {{}} ${PATH} \\N{BULLET} \\x00 Lumen",
    "\u202d\u2067unbalanced isolate \u202b\u200f\u061c Lumen \u2068left open",
    "Lumen" + "\n" * 2_000 + "after two thousand newlines",
    "Lumen 👩🏽‍💻🏳️‍🌈🧑‍🤝‍🧑🏿" + "\u200d" * 50 + "🫶🏻" * 40,
    "Lumen " + "ą̷̧̛̖̗̘̙̜" * 3_000,
    ("Lumen " + "الكلمة " * 300).strip(),
    "Lumen " + ("longword" * 40 + " ") * 300,
)

_ids = iter(range(10**9))


def build_panel(
    qtbot: QtBot,
    spec: PanelConfig,
    wall: WallConfig = UI_CONFIG,
    size: tuple[int, int] = (960, 720),
) -> Panel:
    """A panel of ``spec`` on a 1920×1080 dark theme, shown at ``size`` (closed by qtbot)."""
    theme = theme_for("dark").scaled(1920, 1080)
    context = PanelContext(wall=wall, theme=theme, clock=lambda: NOW)
    panel = panel_class(spec.kind)(spec, context)
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def make_post(
    text: str = "Loving the new Lumen camera, the night shots are wonderful",
    *,
    at: datetime | None = None,
    handle: str = "@ana@social.example",
    name: str = "Ana Example",
    source: str = "mastodon",
    likes: int | None = 12,
    followers: int | None = 300,
    image: bool = False,
    lang: str | None = "en",
    reply_to: str | None = None,
) -> Post:
    """A post in the normalised shape (text is not cleaned here: tests pass hostile input)."""
    n = next(_ids)
    return Post(
        id=f"{source}:ui-{n}",
        source=source,
        feed="test",
        text=text,
        created_at=at or NOW - timedelta(minutes=n % 50),
        author=Author(handle, name, None, None, followers),
        url=None,
        lang=lang,
        metrics=Metrics(likes=likes, reposts=(likes or 0) // 3, replies=(likes or 0) // 5),
        media=(Media("image", "https://img.example/a.jpg", None, "a photo"),) if image else (),
        reply_to=reply_to,
    )


def sample_posts(count: int = 200, seed: int = 5) -> list[Post]:
    """A plausible mix over the last six hours: topics, sentiment, sources, questions."""
    rng = random.Random(seed)
    subjects = ["Lumen", "Lumen X1", "#lumen", "Corvid", "Halcyon", "Lumen and Corvid"]
    bodies = [
        "camera is stunning at night",
        "battery died after two hours, really disappointed",
        "how do I move my photos to the new phone?",
        "price is fair for what you get",
        "screen cracked on day one. terrible.",
        "love the colours!! sooo good",
        "shipping to Finland next week",
    ]
    sources = ["mastodon", "bluesky", "reddit", "hackernews", "rss", "x", "youtube"]
    posts = []
    for _i in range(count):
        at = NOW - timedelta(seconds=rng.randint(0, 6 * 3600))
        posts.append(
            make_post(
                f"{rng.choice(subjects)} {rng.choice(bodies)}",
                at=at,
                handle=f"@user{rng.randint(0, 60)}@social.example",
                name=rng.choice(["Ana", "Bo", "Chen Wei", "Dara O'Neill", "Émile", "Fatima"]),
                source=rng.choice(sources),
                likes=int(rng.paretovariate(1.3)) - 1,
                followers=int(rng.lognormvariate(5, 2)),
                image=rng.random() < 0.2,
            )
        )
    return posts


@pytest.fixture
def snapshot_of() -> Callable[..., Snapshot]:
    """``snapshot_of(posts, now=NOW, config=UI_CONFIG)``: run posts through the real pipeline."""

    def build(
        posts: Sequence[Post] = (), now: datetime = NOW, config: WallConfig = UI_CONFIG
    ) -> Snapshot:
        pipeline = build_pipeline(config, None)
        if posts:
            pipeline.ingest(list(posts), now=now)
        return pipeline.aggregates.snapshot(now)

    return build


@pytest.fixture
def panel_spec() -> Callable[..., PanelConfig]:
    """``panel_spec("volume", window="24h")``: a validated panel config."""

    def build(kind: str, **options: object) -> PanelConfig:
        return PanelConfig.model_validate({"kind": kind, **options})

    return build


@pytest.fixture
def render_dir(tmp_path: Path) -> Path:
    """Where tests write PNGs (set AGORA_KEEP_RENDERS=dir to keep them for a look)."""
    import os

    keep = os.environ.get("AGORA_KEEP_RENDERS")
    if keep:
        path = Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path

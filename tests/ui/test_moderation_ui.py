"""What a lobby screen shows under moderation: hostile text drawn as plain text inside its panel,
an anonymous wall with no names, handles or avatars, decisions visible at once, broken pictures as
placeholders."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFontMetricsF, QImage
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from agora.config.schema import PanelConfig, WallSection
from agora.core.snapshot import Snapshot
from agora.engine import build_pipeline
from agora.ui.images import ImageLoader, PostImage, allowed_url
from agora.ui.panels import Panel
from agora.ui.panels.parts import ElidedLabel, PostCard
from agora.ui.panels.posts import TickerPanel
from agora.ui.theme import theme_for
from agora.ui.widgets import TextBlock

from .conftest import HOSTILE_TEXTS, NOW, UI_CONFIG, build_panel, make_post, sample_posts

Build = Callable[..., Snapshot]
Spec = Callable[..., PanelConfig]
TEXT_PANELS = ("featured", "river", "ticker", "care", "authors", "trending")
ANONYMOUS = UI_CONFIG.model_copy(update={"wall": WallSection(privacy="anonymous")})


def label_texts(panel: Panel) -> list[str]:
    """The texts of the panel's labels and of the ticker's strip (each drawn as one piece)."""
    texts = [label.text() for label in panel.findChildren(QLabel) if label.isVisibleTo(panel)]
    if isinstance(panel, TickerPanel):
        texts.append(panel.crawl.text)
    return texts


def drawn_texts(panel: Panel) -> list[str]:
    """Every text the panel draws: labels, the lines of text blocks, the ticker's strip."""
    blocks = [b for b in panel.findChildren(TextBlock) if b.isVisibleTo(panel)]
    return label_texts(panel) + [line for b in blocks for line in b.visible_lines()]


def assert_fits(panel: Panel) -> None:
    """Nothing is drawn outside the panel, and no text outside its own widget."""
    area = panel.rect()
    for widget in panel.findChildren(QWidget):
        if not widget.isVisibleTo(panel) or widget.width() <= 0:
            continue
        where = QRect(widget.mapTo(panel, QPoint(0, 0)), widget.size())
        assert area.contains(where), (type(widget).__name__, where, area)
        if isinstance(widget, TextBlock):
            metrics = QFontMetricsF(widget.font())
            lines = widget.visible_lines()
            for line in lines:
                assert metrics.horizontalAdvance(line) <= widget.width() + 2, line[:40]
            height = metrics.height() + max(0, len(lines) - 1) * metrics.lineSpacing() * 1.15
            assert height <= widget.height() + 2
        elif isinstance(widget, ElidedLabel) and widget.width() > 10:
            advance = QFontMetricsF(widget.font()).horizontalAdvance(widget.text())
            assert advance <= widget.width() + 2, widget.text()[:40]


@pytest.mark.parametrize("index", range(len(HOSTILE_TEXTS)))
def test_hostile_text_stays_plain_and_inside_every_text_panel(
    qtbot: QtBot, index: int, snapshot_of: Build, panel_spec: Spec
) -> None:
    text = HOSTILE_TEXTS[index]
    posts = [
        make_post(text, name=text[:300], handle="@x<b>y</b>", likes=10_000, followers=10**6),
        make_post("How do I fix my Lumen? broken, terrible " + text[:300], name="<i>Q</i>"),
        *(make_post(f"{text[:500]} Lumen take {i}", handle=f"@h{i}") for i in range(3)),
    ]
    snapshot = snapshot_of(posts)
    for kind in TEXT_PANELS:
        panel = build_panel(qtbot, panel_spec(kind))
        panel.apply(snapshot)
        for label in panel.findChildren(QLabel):
            assert label.textFormat() == Qt.TextFormat.PlainText, kind
        image = panel.grab().toImage()  # paints without raising
        assert not image.isNull()
        assert_fits(panel)
        for shown in drawn_texts(panel):
            assert len(shown) <= 6_000, kind
            assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e]", shown), kind
            assert not re.search("([\u0300-\u036f])\\1\\1", shown), kind  # marks limited
        for shown in label_texts(panel):
            assert shown.count("\u2068") == shown.count("\u2069"), kind  # isolates balanced
        if kind == "featured" and "<b>" in text:  # markup is shown as the characters it is
            assert any("<b>" in shown for shown in drawn_texts(panel))


def test_an_anonymous_wall_shows_no_names_handles_or_avatars(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    names = ["Zelda Quixotic", "Yorick Unusualname"]
    posts = [
        make_post(
            f"How do I fix my Lumen? broken again @friendhandle @lumencare {i}",
            name=names[i % 2],
            handle=f"@secret{i % 2}@social.example",
            likes=50,
        )
        for i in range(12)
    ]
    snapshot = snapshot_of([*posts, *sample_posts(40)], config=ANONYMOUS)
    for kind in TEXT_PANELS:
        panel = build_panel(qtbot, panel_spec(kind), wall=ANONYMOUS)
        panel.apply(snapshot)
        panel.grab()
        joined = "\n".join(drawn_texts(panel))
        for secret in ("Zelda", "Yorick", "secret0", "secret1", "friendhandle", "@user"):
            assert secret not in joined, (kind, secret)
        for card in panel.findChildren(PostCard):
            assert not card.avatar.isVisibleTo(panel)
        if kind in ("featured", "river", "care", "ticker"):
            assert "@lumencare" in joined or not joined.strip(), kind  # the brand's own stays


def test_a_hidden_post_leaves_every_panel_at_once(
    qtbot: QtBot, panel_spec: Spec, snapshot_of: Build
) -> None:
    pipeline = build_pipeline(UI_CONFIG, None)
    posts = sample_posts(60, seed=9)
    star = make_post("Lumen star post that everyone likes a lot", likes=90_000, handle="@star")
    pipeline.ingest([*posts, star], now=NOW)
    first = pipeline.aggregates.snapshot(NOW)
    panels = {
        kind: build_panel(qtbot, panel_spec(kind)) for kind in ("featured", "river", "ticker")
    }
    for panel in panels.values():
        panel.apply(first)
    ticker = panels["ticker"]
    assert isinstance(ticker, TickerPanel)
    shown = next(iter(ticker.crawl.ids))
    assert shown in ticker.crawl.ids
    from agora.core.post import Moderation

    for target in (star.id, shown):
        pipeline.aggregates.set_moderation(target, Moderation("hidden", ("operator",)))
    later = dataclasses.replace(pipeline.aggregates.snapshot(NOW))
    for panel in panels.values():
        panel.apply(later)
    assert shown not in ticker.crawl.ids  # not waiting for the strip to pass
    assert star.id not in ticker.crawl.ids
    featured = panels["featured"]
    assert featured.current_post_id() not in (star.id, shown)  # type: ignore[attr-defined]
    river = panels["river"]
    assert not {star.id, shown} & set(river._shown_ids)  # type: ignore[attr-defined]


def test_a_broken_picture_shows_a_placeholder(qtbot: QtBot) -> None:
    def refuse(url: str) -> bytes:
        raise OSError("connection refused")

    loader = ImageLoader(fetcher=refuse)
    theme = theme_for("dark")
    picture = PostImage(theme, loader)
    qtbot.addWidget(picture)
    picture.resize(200, 120)
    picture.show()
    with qtbot.waitSignal(loader.image_failed, timeout=60_000):
        picture.set_url("https://img.example/broken.jpg")
    assert picture.broken
    image = picture.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
    centre = image.pixelColor(100, 10)
    assert centre.alpha() > 0  # the placeholder panel is painted
    loader.close()
    for url in ("file:///etc/passwd", "javascript:alert(1)", "ftp://x.example/a.png", "data:x"):
        assert not allowed_url(url)
    nothing = ImageLoader(fetcher=refuse)
    assert nothing.image("file:///etc/passwd") is None
    assert not nothing.failed("file:///etc/passwd")  # never even tried
    nothing.close()

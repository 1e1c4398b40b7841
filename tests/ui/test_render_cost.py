"""What a frame repaints and redraws (issue 15): each animation repaints only what moves, draws
what does not change once, and looks as it did when everything was drawn at every frame.

Paint events are counted by an event filter on the real widgets; nothing here sleeps a fixed time.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QFontMetricsF, QImage, QPainter, QPaintEvent, QPixmap, QRegion
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from agora.config.schema import PageConfig, PanelConfig
from agora.core.post import Post
from agora.core.snapshot import Snapshot
from agora.ui.app import wall_theme
from agora.ui.panels import PanelContext
from agora.ui.panels.posts import TICKER_SEPARATOR, FeaturedPanel, RiverPanel, TickerPanel
from agora.ui.screen import TURN_BAND_PX, ScreenWindow

from .conftest import NOW, UI_CONFIG, build_panel, sample_posts

Build = Callable[..., Snapshot]
Spec = Callable[..., PanelConfig]


class PaintCounter(QObject):
    """Counts the paint events each watched widget receives."""

    def __init__(self, *widgets: QWidget) -> None:
        super().__init__()
        self.counts: Counter[int] = Counter()
        self.regions: dict[int, QRegion] = {}
        """What each widget painted, in its window's coordinates."""
        for widget in widgets:
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget):
            assert isinstance(event, QPaintEvent)
            self.counts[id(watched)] += 1
            offset = watched.mapTo(watched.window(), QPoint(0, 0))
            painted = event.region().translated(offset)
            self.regions[id(watched)] = self.regions.get(id(watched), QRegion()).united(painted)
        return False

    def region(self, widget: QWidget) -> QRegion:
        return self.regions.get(id(widget), QRegion())

    def __getitem__(self, widget: QWidget) -> int:
        return self.counts[id(widget)]

    def reset(self) -> None:
        self.counts.clear()
        self.regions.clear()


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    data = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    return data.reshape(image.height(), image.bytesPerLine() // 4, 4)[:, : image.width()].copy()


# -- the ticker ---------------------------------------------------------------------------------


def test_a_crawl_frame_repaints_the_crawl_and_nothing_beneath_it(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    panel = build_panel(qtbot, panel_spec("ticker"), size=(1600, 120))
    assert isinstance(panel, TickerPanel)
    panel.apply(snapshot_of(sample_posts(30, seed=2)))
    counter = PaintCounter(panel, panel.body, panel.crawl)
    qtbot.waitUntil(lambda: counter[panel.crawl] >= 2, timeout=30_000)
    counter.reset()  # what showing the text first repainted
    qtbot.waitUntil(lambda: counter[panel.crawl] >= 5, timeout=30_000)
    # the crawl paints its own background: the panel's rounded card is not painted again
    assert counter[panel] == 0
    assert counter[panel.body] == 0


def long_ticker(qtbot: QtBot, panel_spec: Spec, posts: int = 12) -> TickerPanel:
    panel = build_panel(qtbot, panel_spec("ticker"), size=(800, 120))
    assert isinstance(panel, TickerPanel)
    panel.show_body()
    qtbot.waitUntil(lambda: panel.crawl.isVisible() and panel.crawl.width() > 400, timeout=30_000)
    panel.crawl._timer.stop()  # moved by hand below
    return panel


def strip(count: int, word: str) -> str:
    return "".join(f"{word} {i}: a post of some length{TICKER_SEPARATOR}" for i in range(count))


def run_once(panel: TickerPanel) -> int:
    """Crawl until the strip wraps round; returns how many frames it took."""
    crawl = panel.crawl
    frames = 0
    text = crawl.text
    while True:
        before = crawl._offset
        crawl.advance(0.4)
        crawl.grab()  # a frame (paints the crawl as the window would)
        frames += 1
        assert frames < 10_000
        if crawl._offset > before or crawl.text != text:  # wrapped (or the next text started)
            return frames


def test_the_ticker_draws_each_post_once_per_text_and_not_again_at_the_wrap(
    qtbot: QtBot, panel_spec: Spec
) -> None:
    panel = long_ticker(qtbot, panel_spec)
    crawl = panel.crawl
    crawl.set_text(strip(12, "first"))
    crawl.grab()
    # only what is in view is drawn: an 800-pixel window shows a few of the twelve posts
    assert 1 <= crawl.pieces_drawn < 6
    run_once(panel)
    assert crawl.pieces_drawn == 12  # every post drawn once on the way
    run_once(panel)
    assert crawl.pieces_drawn == 12  # the same text wrapped round: nothing drawn again
    crawl.set_text(strip(12, "second"))  # waits for the strip to pass
    run_once(panel)
    assert crawl.text.startswith("second")
    run_once(panel)
    assert crawl.pieces_drawn == 24  # the new text's twelve posts, once each


def test_the_crawl_looks_like_its_text_drawn_in_one_piece(qtbot: QtBot, panel_spec: Spec) -> None:
    panel = long_ticker(qtbot, panel_spec)
    crawl = panel.crawl
    text = strip(6, "Lumen ☂ über, 🚀 <b>not bold</b>")
    crawl.set_text(text)
    crawl.advance(3.7)  # a fractional offset
    shot = crawl.grab()
    ratio = shot.devicePixelRatio()
    expected = QPixmap(shot.size())
    expected.setDevicePixelRatio(ratio)
    theme = panel.theme
    expected.fill(theme.color("surface"))
    painter = QPainter(expected)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    font = theme.font("ticker")
    metrics = QFontMetricsF(font)
    painter.setFont(font)
    painter.setPen(theme.color("text"))
    top = round((crawl.height() - (int(metrics.height()) + 4)) / 2)
    painter.drawText(QPointF(round(crawl._offset) + 2, top + metrics.ascent() + 2), text)
    painter.end()
    assert np.array_equal(pixels(shot.toImage()), pixels(expected.toImage()))


# -- panel chrome -------------------------------------------------------------------------------


def test_a_partial_repaint_of_a_panel_paints_what_a_whole_one_does(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    panel = build_panel(qtbot, panel_spec("kpis"), size=(640, 400))
    whole = pixels(panel.grab().toImage())
    for rect in (QRect(100, 150, 200, 60), QRect(0, 0, 40, 40), QRect(600, 360, 40, 40)):
        part = QPixmap(panel.size())
        part.fill(Qt.GlobalColor.transparent)
        panel.render(part, QPoint(0, 0), QRegion(rect))  # the region's corner at (0, 0)
        got = pixels(part.toImage())[: rect.height(), : rect.width()]
        y, x = slice(rect.top(), rect.bottom() + 1), slice(rect.left(), rect.right() + 1)
        assert np.array_equal(got, whole[y, x]), rect


# -- fades --------------------------------------------------------------------------------------


def test_a_carousel_fade_draws_the_post_once_not_at_every_frame(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    panel = build_panel(qtbot, panel_spec("featured"), size=(1200, 700))
    assert isinstance(panel, FeaturedPanel)
    panel.apply(snapshot_of(sample_posts(80, seed=4)))
    qtbot.waitUntil(lambda: panel.card.text.visible_lines() != [], timeout=30_000)
    fade = panel._fade
    frames: list[float] = []
    fade._line.valueChanged.connect(frames.append)
    counter = PaintCounter(panel.card.text, panel.card.name, fade)
    shown = panel.current_post_id()
    panel.advance()
    assert panel.current_post_id() != shown
    assert fade.is_running()
    qtbot.waitUntil(lambda: not fade.is_running(), timeout=30_000)
    assert len(frames) >= 5
    assert counter[fade] >= 5  # the fade painted its frames
    # the post was drawn for the picture and once more when the fade ended, not per frame
    assert counter[panel.card.text] <= 3
    assert counter[panel.card.name] <= 3


def test_a_fade_frame_is_the_picture_at_the_fade_opacity(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    panel = build_panel(qtbot, panel_spec("featured"), size=(1200, 700))
    assert isinstance(panel, FeaturedPanel)
    panel.apply(snapshot_of(sample_posts(80, seed=4)))
    qtbot.waitUntil(lambda: panel.card.text.visible_lines() != [], timeout=30_000)
    panel.advance()
    fade = panel._fade
    assert fade._picture is not None
    picture = pixels(fade._picture.toImage()).astype(float)
    fade._line.stop()
    fade._step(0.5)
    assert 0.0 < fade.opacity < 1.0
    frame = pixels(fade.grab().toImage()).astype(float)
    surface = panel.theme.color("surface")
    under = np.array([surface.blue(), surface.green(), surface.red()], dtype=float)
    alpha = picture[..., 3:] / 255.0 * fade.opacity
    blended = under * (1.0 - alpha) + picture[..., :3] * alpha
    assert np.abs(frame[..., :3] - blended).max() <= 2.0
    # over the panel, the picture is the post as it looks at rest once the fade has ended (no
    # box of another colour round it)
    fade.stop()
    at_rest = pixels(panel.grab().toImage()).astype(float)
    box = QRect(panel._content.mapTo(panel, QPoint(0, 0)), panel._content.size())
    shown = at_rest[box.top() : box.bottom() + 1, box.left() : box.right() + 1, :3]
    alpha = picture[..., 3:] / 255.0
    assert np.abs(shown - (under * (1.0 - alpha) + picture[..., :3] * alpha)).max() <= 2.0


def river_of(qtbot: QtBot, snapshot_of: Build, panel_spec: Spec) -> tuple[RiverPanel, list[Post]]:
    """A river showing the oldest 20 of 40 posts (its cards filled), and the posts by age."""
    panel = build_panel(qtbot, panel_spec("river"), size=(700, 1000))
    assert isinstance(panel, RiverPanel)
    older = sorted(sample_posts(40, seed=6), key=lambda p: p.created_at)
    panel.apply(snapshot_of(older[:20]))
    qtbot.waitUntil(lambda: len(panel._shown_ids) >= 3, timeout=30_000)
    return panel, older


def test_the_river_glides_without_drawing_its_cards_at_every_frame(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    panel, older = river_of(qtbot, snapshot_of, panel_spec)
    frames: list[float] = []
    panel.glide._line.valueChanged.connect(frames.append)
    cards = [w for card in panel.cards for w in (card, card.text, card.parentWidget())]
    counter = PaintCounter(panel.glide, *[w for w in cards if w is not None])
    panel._take(snapshot_of(older[:22], now=NOW))  # new posts: one comes in on top
    assert panel.sliding
    qtbot.waitUntil(lambda: not panel.sliding, timeout=30_000)
    assert len(frames) >= 5
    assert counter[panel.glide] >= 5  # the glide painted its frames
    # each card was drawn for the picture and once more when the glide ended, not per frame
    for widget in cards:
        assert widget is None or counter[widget] <= 3, widget
    assert not any(fade.is_running() for fade in panel._fades)  # no fade of a card's own


def test_a_glide_frame_is_the_river_at_rest_moved_up_its_new_posts_half_faded(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    panel, older = river_of(qtbot, snapshot_of, panel_spec)
    panel._take(snapshot_of(older[:22], now=NOW))
    glide = panel.glide
    step = panel._card_step()
    assert glide.offset == -step
    glide._line.stop()
    glide._step(0.5)
    shot = glide.grab()
    ratio = shot.devicePixelRatio()
    frame = pixels(shot.toImage()).astype(float)[..., :3]
    glide.stop()
    # the real cards in their place, over the panel (a grab of the body alone would put the
    # palette's colour behind their rounded corners)
    whole = pixels(panel.grab().toImage()).astype(float)[..., :3]
    corner = panel.body.mapTo(panel, QPoint(0, 0))
    left, top = round(corner.x() * ratio), round(corner.y() * ratio)
    rest = whole[top : top + frame.shape[0], left : left + frame.shape[1]]
    assert frame.shape == rest.shape
    surface = panel.theme.color("surface")
    under = np.array([surface.blue(), surface.green(), surface.red()], dtype=float)
    up = round(step * 0.5 * ratio)  # half way down: the picture still this far up
    fresh = round((step - panel.theme.px(14)) * ratio)  # the new card
    height = rest.shape[0]
    expected = np.empty_like(rest)
    expected[:] = under
    expected[: height - up] = rest[up:]
    expected[: fresh - up] = under * 0.5 + rest[up:fresh] * 0.5
    assert np.abs(frame - expected).max() <= 2.0
    # and the frame is not the river at rest: the new posts are on their way in
    assert np.abs(frame - rest).max() > 40


# -- page turns -----------------------------------------------------------------------------------


def two_pages() -> list[PageConfig]:
    return [
        PageConfig.model_validate(
            {"seconds": 30, "grid": "1x1", "panels": [{"kind": kind, "at": "0,0"}]}
        )
        for kind in ("kpis", "trending")
    ]


def turning_window(qtbot: QtBot, height: int) -> ScreenWindow:
    """A shown 1280-wide screen window of :func:`two_pages`."""
    theme = wall_theme(UI_CONFIG).scaled(1280, 720)
    context = PanelContext(wall=UI_CONFIG, theme=theme, clock=lambda: NOW)
    window = ScreenWindow("turns", two_pages(), context, clock=lambda: NOW)
    qtbot.addWidget(window)
    window.resize(1280, height)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_a_page_turn_is_spread_over_frames_and_keeps_its_picture_buffers(
    qtbot: QtBot, snapshot_of: Build
) -> None:
    window = turning_window(qtbot, 720)
    window.apply(snapshot_of(sample_posts(60)))
    new_panel = window.pages[1].panels[0]
    counter = PaintCounter(new_panel)
    window.next_page()
    # the first frame: the old page's picture is held, the new page not drawn yet
    assert window.current == 1
    assert counter[new_panel] == 0
    assert window._fade.running
    qtbot.waitUntil(lambda: counter[new_panel] >= 1, timeout=30_000)  # the next frames
    qtbot.waitUntil(lambda: not window._fade.running, timeout=30_000)
    assert window._content.isVisible()
    buffers = list(window._buffers)
    assert all(b is not None for b in buffers)
    window.next_page()
    qtbot.waitUntil(lambda: not window._fade.running, timeout=30_000)
    assert window._buffers[0] is buffers[0] and window._buffers[1] is buffers[1]


def test_a_page_turn_fades_between_true_pictures_of_both_pages(
    qtbot: QtBot, snapshot_of: Build
) -> None:
    window = turning_window(qtbot, 1000)  # two bands of 540 pixels or less
    window.apply(snapshot_of(sample_posts(60)))
    counter = PaintCounter(window.pages[0].panels[0])
    window.update()
    qtbot.waitUntil(lambda: counter[window.pages[0].panels[0]] >= 1, timeout=30_000)
    shown = pixels(window.grab().toImage())
    assert math.ceil(window.height() / TURN_BAND_PX) == 2
    window.next_page()
    old = window._buffers[0]
    assert old is not None
    # the old picture is the window as it was on screen (copied from its backing store)
    assert np.array_equal(pixels(old.toImage()), shown)
    qtbot.waitUntil(lambda: window._fade._new is not None, timeout=30_000)
    window._fade._line.stop()
    assert window._fade._new is not None
    new = pixels(window._fade._new.toImage())
    window._end_turn()
    # the new picture, drawn a band at a time, is the new page drawn whole
    assert np.array_equal(new, pixels(window.grab().toImage()))


def test_a_turn_during_a_turn_ends_the_first_and_shows_the_live_page(
    qtbot: QtBot, snapshot_of: Build
) -> None:
    window = turning_window(qtbot, 720)
    window.next_page()
    window.next_page()  # before the first turn's second half ran
    assert window.current == 0
    qtbot.waitUntil(lambda: not window._fade.running, timeout=30_000)
    assert window._content.isVisible()
    assert window.stack.currentWidget() is window.pages[0]


# -- data refreshes -------------------------------------------------------------------------------


def page_of(*kinds: str) -> PageConfig:
    return PageConfig.model_validate(
        {
            "seconds": 30,
            "grid": f"{len(kinds)}x1",
            "panels": [{"kind": kind, "at": f"{i},0"} for i, kind in enumerate(kinds)],
        }
    )


def test_a_data_refresh_of_one_panel_repaints_that_panel_alone(
    qtbot: QtBot, snapshot_of: Build
) -> None:
    theme = wall_theme(UI_CONFIG).scaled(1280, 720)
    context = PanelContext(wall=UI_CONFIG, theme=theme, clock=lambda: NOW)
    window = ScreenWindow("data", [page_of("header", "volume")], context, clock=lambda: NOW)
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    posts = sample_posts(120)
    header, volume = window.pages[0].panels
    window.apply(snapshot_of(posts[:60]))
    assert volume.refreshes == 1
    counter = PaintCounter(header, volume, window)
    window.update()  # a whole repaint, queued after whatever showing the window queued
    qtbot.waitUntil(lambda: counter[header] >= 1 and counter[volume] >= 1, timeout=30_000)
    counter.reset()
    window.pages[0].apply(snapshot_of(posts))  # more mentions: the chart changes, the header not
    assert volume.refreshes == 2
    qtbot.waitUntil(lambda: counter[volume] >= 1, timeout=30_000)
    assert counter[header] == 0
    # the window painted its background under the chart's panel only, not the whole window
    panel_area = QRegion(QRect(volume.mapTo(window, QPoint(0, 0)), volume.size()))
    assert counter.region(window).subtracted(panel_area).isEmpty()


def test_a_new_snapshot_reaches_every_panel_of_a_page_a_few_at_a_time(
    qtbot: QtBot, snapshot_of: Build
) -> None:
    theme = wall_theme(UI_CONFIG).scaled(1280, 720)
    context = PanelContext(wall=UI_CONFIG, theme=theme, clock=lambda: NOW)
    window = ScreenWindow(
        "budget", [page_of("kpis", "trending", "volume")], context, clock=lambda: NOW
    )
    qtbot.addWidget(window)
    page = window.pages[0]
    posts = sample_posts(200)
    snapshots = [snapshot_of(posts[: 50 + 50 * i]) for i in range(3)]
    # no time to spare: one panel a call, and with a new snapshot at every call each panel
    # still gets one (none is starved by the panels before it)
    for snapshot in snapshots:
        assert page.apply(snapshot, budget_s=0.0) == 1
    assert [p.refreshes for p in page.panels] == [1, 1, 1]
    assert not page.has_seen(snapshots[-1])
    while not page.has_seen(snapshots[-1]):
        page.apply(snapshots[-1], budget_s=0.0)
    assert [p.refreshes for p in page.panels] == [2, 2, 1]
    # without a budget every panel gets it at once
    assert page.apply(snapshot_of(posts), budget_s=None) == 3


@pytest.mark.parametrize("kind", ["volume", "sentiment", "share"])
def test_the_tick_redraws_a_chart_at_most_every_five_seconds_and_a_turn_at_once(
    qtbot: QtBot, snapshot_of: Build, kind: str
) -> None:
    theme = wall_theme(UI_CONFIG).scaled(1280, 720)
    context = PanelContext(wall=UI_CONFIG, theme=theme, clock=lambda: NOW)
    window = ScreenWindow("paced", [page_of(kind, "kpis")], context, clock=lambda: NOW)
    qtbot.addWidget(window)
    volume, kpis = window.pages[0].panels
    assert volume.refresh_every_s == 5.0
    moment = [100.0]
    volume.monotonic = lambda: moment[0]
    posts = sample_posts(200)
    first, second, third = (snapshot_of(posts[: 60 + 60 * i]) for i in range(3))
    for _ in range(3):
        window.apply(first)
    assert (volume.refreshes, kpis.refreshes) == (1, 1)
    moment[0] += 2.0
    for _ in range(3):
        window.apply(second)  # the tick hands it over again and again: the chart waits
    assert (volume.refreshes, kpis.refreshes) == (1, 2)
    assert not volume.has_seen(second)
    moment[0] += 3.0
    window.apply(second)
    assert volume.refreshes == 2 and volume.has_seen(second)
    # a page turn (or anyone but the tick) hands it over at once
    moment[0] += 0.5
    assert window.pages[0].apply(third) == 2
    assert volume.refreshes == 3

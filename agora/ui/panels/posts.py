"""Panels that show posts: ``featured`` (carousel), ``river`` (newest first), ``ticker`` (a calm
crawl) and ``care`` (questions and complaints nobody has answered yet)."""

from __future__ import annotations

import contextlib
import itertools
import math
import time
from datetime import datetime
from typing import ClassVar

from PySide6.QtCore import QEasingCurve, QEvent, QObject, QPointF, Qt, QTimer
from PySide6.QtGui import (
    QFont,
    QFontMetricsF,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QHBoxLayout,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from agora.config.schema import PanelConfig
from agora.core.aggregates import owned_handle
from agora.core.post import Media, Post
from agora.core.snapshot import Featured, Snapshot
from agora.core.text import elide
from agora.ui import perf
from agora.ui.images import PostImage
from agora.ui.motion import Glide, OpacityFade
from agora.ui.panels.base import Panel, PanelContext
from agora.ui.panels.parts import (
    ElidedLabel,
    PostCard,
    anonymous,
    kept_mentions,
    private_text,
    restyle,
    source_name,
    waiting_time,
)
from agora.ui.safetext import can_draw, display_text, plain_label
from agora.ui.widgets import TextBlock, target_ratio

# ---------------------------------------------------------------------------------------------
# featured


def featured_text_size(text: str) -> float:
    """Reference pixel size of a featured post's text: short posts are big."""
    length = len(text)
    if length <= 70:
        return 64
    if length <= 140:
        return 54
    if length <= 260:
        return 46
    return 40


def wrapped_lines(text: str, metrics: QFontMetricsF, width: float) -> int:
    """How many lines ``text`` takes when wrapped at words to ``width``."""
    lines = 0
    for paragraph in text.split("\n"):
        line = ""
        lines += 1
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and metrics.horizontalAdvance(candidate) > width:
                lines += 1 + int(metrics.horizontalAdvance(word) // max(1.0, width))
                line = word
            else:
                line = candidate
    return lines


def _order(post: Post) -> tuple[datetime, str]:
    """Where a post stands among the newest: its time, then its id (as the snapshot orders them:
    posts of the same second keep an order)."""
    return (post.created_at, post.id)


def drawable(post: Post, font: QFont) -> bool:
    """Whether ``font`` (or a font Qt falls back to) draws the post's text and author's name: a
    post that would show as boxes is left off the wall (:func:`agora.ui.safetext.can_draw`)."""
    return can_draw(post.text, font) and can_draw(post.author.name or "", font)


class FeaturedPanel(Panel):
    """The best current posts, one at a time, never the same author twice in a row."""

    kind = "featured"
    empty_text = "No featured posts yet"
    default_interval_s: ClassVar[float] = 12.0

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        super().__init__(spec, context, parent)
        theme = self.theme
        self._content = QWidget(self.body)
        outer = QVBoxLayout(self.body)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._content, 1)
        # text beside the picture on a wide panel, above it on a tall one (see resizeEvent)
        self._split = QBoxLayout(QBoxLayout.Direction.LeftToRight, self._content)
        self._split.setContentsMargins(0, 0, 0, 0)
        self._split.setSpacing(theme.px(24))
        self.card = PostCard(
            theme,
            text_size=54,
            avatar=76,
            hide_authors=anonymous(context.wall),
            images=context.images,
            keep_mentions=kept_mentions(context.wall),
        )
        self._split.addWidget(self.card, 11)
        # the post's own picture, only where the wall loads images (a network wall)
        self.picture: PostImage | None = None
        if context.images is not None:
            self.picture = PostImage(theme, context.images)
            self.picture.hide()
            self._split.addWidget(self.picture, 9)
        self._fade = OpacityFade(self._content, 700, kind="carousel", under=theme.color("surface"))
        self._candidates: tuple[Featured, ...] = ()
        self._current: Featured | None = None
        self._snapshot: Snapshot | None = None
        self._timer = QTimer(self)
        interval = spec.interval or self.default_interval_s
        self._timer.setInterval(int(interval * 1000))
        self._timer.timeout.connect(self._turn)
        self._timer.start()

    def title(self) -> str:
        """Heading."""
        return self.spec.title or "Featured"

    def data_key(self, snapshot: Snapshot) -> object:
        """Candidates and the minute (relative times)."""
        return (
            tuple((f.post.id, f.post.metrics) for f in snapshot.featured),
            int(snapshot.now.timestamp() // 60),
        )

    def refresh(self, snapshot: Snapshot) -> None:
        """Take the new candidates; keep showing the current post while it is still one."""
        self._snapshot = snapshot
        limit = self.spec.limit or 20
        font = self.card.text.font()
        shown = (f for f in snapshot.featured if drawable(f.post, font))
        self._candidates = tuple(itertools.islice(shown, limit))
        if not self._candidates:
            self._current = None
            self.show_empty()
            return
        self.show_body()
        ids = {f.post.id: f for f in self._candidates}
        if self._current is not None and self._current.post.id in ids:
            self._current = ids[self._current.post.id]
            self._draw()
        else:
            self.advance(animate=False)

    def _turn(self) -> None:
        probe = perf.active()
        if probe is None:
            self.advance()
            return
        started = time.perf_counter()
        self.advance()
        probe.step(self.window(), "carousel", time.perf_counter() - started)

    def current_post_id(self) -> str | None:
        """The id of the post on screen."""
        return self._current.post.id if self._current is not None else None

    def advance(self, animate: bool = True) -> None:
        """Show the next candidate whose author differs from the one on screen."""
        if not self._candidates:
            return
        order = list(self._candidates)
        start = 0
        if self._current is not None:
            ids = [f.post.id for f in order]
            if self._current.post.id in ids:
                start = ids.index(self._current.post.id) + 1
        shown_author = self._current.post.author.handle if self._current else None
        chosen: Featured | None = None
        for step in range(len(order)):
            candidate = order[(start + step) % len(order)]
            if candidate.post.author.handle != shown_author:
                chosen = candidate
                break
        if chosen is None:  # every candidate is by the author on screen
            chosen = order[start % len(order)]
        if self._current is not None and chosen.post.id == self._current.post.id:
            return
        self._current = chosen
        if animate and self.isVisible():
            self._fade.stop()
            self._draw()
            self._fade.start(0.0, 1.0)
        else:
            self._draw()

    def _draw(self) -> None:
        if self._current is None or self._snapshot is None:
            return
        post = self._current.post
        if self.picture is not None:
            url = picture_url(post.media)
            self.picture.set_url(url)
            if self.picture.isHidden() == bool(url):
                self.picture.setVisible(bool(url))
                self._split.activate()  # the text is fitted to the room the picture leaves
        self.card.text.setFont(self.theme.font(self.fitting_size(post.text)))
        self.card.show_post(post, self._snapshot.now)

    def picture_shown(self) -> str | None:
        """The URL of the picture beside the post on screen, if any."""
        if self.picture is None or self.picture.isHidden():
            return None
        return self.picture.url

    def fitting_size(self, text: str) -> float:
        """The largest reference text size (96 down to 36) at which ``text`` fits the card."""
        block = self.card.text
        width = block.width() if block.width() > 50 else int(self.width() * 0.9)
        height = block.height() if block.height() > 50 else int(self.height() * 0.55)
        if width <= 50 or height <= 50:
            return featured_text_size(text)
        shown = display_text(text)
        for size in (96, 84, 72, 64, 58, 52, 46, 40, 36):
            metrics = QFontMetricsF(self.theme.font(size))
            lines = wrapped_lines(shown, metrics, float(width))
            needed = metrics.height() + (lines - 1) * metrics.lineSpacing() * 1.15
            if needed <= height:
                return size
        return 36

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        """Put the picture beside or under the text, and refit the text to the new size."""
        super().resizeEvent(event)
        size = event.size()
        wide = size.width() >= size.height() * 1.25
        direction = QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        if self._split.direction() != direction:
            self._split.setDirection(direction)
            self._split.activate()
        self._draw()


def picture_url(media: tuple[Media, ...]) -> str | None:
    """The picture a post card shows: its first image, else its first video's preview."""
    for item in media:
        if item.kind == "image" and item.url:
            return item.url
    for item in media:
        if item.kind == "video" and item.preview_url:
            return item.preview_url
    return None


# ---------------------------------------------------------------------------------------------
# river


class RiverPanel(Panel):
    """The newest posts, newest on top; new posts slide in from the top (the others move down
    to make room) and fade in calmly.

    The river moves at most once every :attr:`min_interval_s` seconds, and then takes at most
    :attr:`per_turn` new posts on top (the newest of those that arrived; the cards shown move down
    to make room): at twenty posts a second every card would otherwise change at every turn, and a
    post on screen for three seconds cannot be read from across a lobby. A post stays on screen
    for as many turns as there are cards. Posts arriving in between wait for the next turn. A post
    taken off the wall (hidden, deleted, its author blocked) leaves at once; a river that was off
    screen or idle for :attr:`stale_s` shows the newest posts when it comes back."""

    kind = "river"
    empty_text = "No mentions yet"
    card_height: ClassVar[int] = 232
    min_interval_s: ClassVar[float] = 3.0
    per_turn: ClassVar[int] = 1
    stale_s: ClassVar[float] = 60.0

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        super().__init__(spec, context, parent)
        theme = self.theme
        # the cards sit on a strip placed by hand inside the body (which clips it), so that the
        # strip can slide down when new posts arrive on top
        self._strip = QWidget(self.body)
        layout = QVBoxLayout(self._strip)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.px(14))
        self.body.installEventFilter(self)
        # new posts on top: a picture of the strip glides down into place, the new cards fading
        # in (the strip itself rests where it ends, under the picture)
        self.glide = Glide(self.body, 900, kind="river", under=theme.color("surface"))
        self.cards: list[PostCard] = []
        self._card_px = theme.px(self.card_height)
        self._frames: list[QFrame] = []
        self._fades: list[OpacityFade] = []
        for _ in range(spec.limit or 8):
            frame = QFrame()
            frame.setStyleSheet(
                f"background: {theme.surface_alt}; border-radius: {theme.px(10)}px;"
            )
            inner = QVBoxLayout(frame)
            pad = theme.px(14)
            inner.setContentsMargins(pad, pad, pad, pad)
            card = PostCard(
                theme,
                text_size=30,
                avatar=52,
                max_lines=3,
                hide_authors=anonymous(context.wall),
                images=context.images,
                keep_mentions=kept_mentions(context.wall),
            )
            card.setStyleSheet("background: transparent;")
            inner.addWidget(card)
            fade = OpacityFade(
                frame,
                900,
                kind="river",
                under=theme.color("surface"),
                easing=QEasingCurve.Type.OutCubic,
            )
            frame.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            frame.setFixedHeight(theme.px(self.card_height))
            layout.addWidget(frame)
            frame.hide()
            self.cards.append(card)
            self._frames.append(frame)
            self._fades.append(fade)
        self._shown_ids: list[str] = []
        self._posts: tuple[Post, ...] = ()
        self._taken_at = -math.inf
        self._now: datetime | None = None
        self._waiting: Snapshot | None = None
        self._pace = QTimer(self)
        self._pace.setSingleShot(True)
        self._pace.timeout.connect(self._take_waiting)

    def title(self) -> str:
        """Heading."""
        return self.spec.title or "Latest"

    def data_key(self, snapshot: Snapshot) -> object:
        """The newest ids, the minute, and what was taken off among the posts this river holds
        (it keeps posts that have left the newest: their withdrawal must reach it too)."""
        held = {p.id for p in self._posts}
        return (
            tuple(p.id for p in snapshot.newest[: len(self.cards)]),
            int(snapshot.now.timestamp() // 60),
            frozenset(snapshot.withdrawn & held) if snapshot.withdrawn else frozenset(),
            snapshot.blocked_authors,
        )

    def fitting(self) -> int:
        """How many cards fit the panel's height."""
        height = self.body.height() or self.height()
        per = self.theme.px(self.card_height) + self.theme.px(14)
        return max(1, min(len(self.cards), int((height + self.theme.px(14)) // per)))

    def _fit_cards(self, count: int) -> None:
        """Share the body's height between the ``count`` cards that fit (up to half as tall
        again as the reference height), so the river ends at the bottom of its panel instead of
        leaving a strip of empty space under the last card."""
        base = self.theme.px(self.card_height)
        gap = self.theme.px(14)
        height = self.body.height()
        room = (height - gap * (count - 1)) // count if count and height > 0 else base
        card = max(base, min(int(base * 1.5), room))
        if card != self._card_px:
            self._card_px = card
            for frame in self._frames:
                frame.setFixedHeight(card)

    def refresh(self, snapshot: Snapshot) -> None:
        """Fill the card pool in place; fade in posts that were not shown before. Within
        :attr:`min_interval_s` of the previous change (snapshot time) the snapshot waits."""
        since = (
            (snapshot.now - self._now).total_seconds()
            if self._now is not None and self._shown_ids
            else math.inf
        )
        if 0 <= since < self.min_interval_s and not self._hides_shown(snapshot):
            self._waiting = snapshot
            if not self._pace.isActive():
                self._pace.start(max(1, int((self.min_interval_s - since) * 1000)))
            return
        self._take(snapshot)

    def _hides_shown(self, snapshot: Snapshot) -> bool:
        """True when a post on screen has been taken off since (that never waits)."""
        if not snapshot.newest:
            return bool(self._shown_ids)
        return not self._taken_off(snapshot).isdisjoint(self._shown_ids)

    def _taken_off(self, snapshot: Snapshot) -> set[str]:
        """The posts this river holds that ``snapshot`` took off: withdrawn, by a blocked author,
        or gone from the visible newest posts although not older than the oldest of them."""
        withdrawn = snapshot.withdrawn
        blocked = frozenset(snapshot.blocked_authors)
        visible = {p.id for p in snapshot.newest if p.moderation.visible}
        oldest = min(map(_order, snapshot.newest)) if snapshot.newest else None
        return {
            p.id
            for p in self._posts
            if p.id in withdrawn
            or (blocked and owned_handle(p.author.handle) in blocked)
            or (p.id not in visible and oldest is not None and _order(p) >= oldest)
        }

    def _take_waiting(self) -> None:
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self._take(waiting)

    def _take(self, snapshot: Snapshot) -> None:
        self._waiting = None
        self._pace.stop()
        font = self.cards[0].text.font()
        newest = tuple(p for p in snapshot.newest if p.moderation.visible and drawable(p, font))
        posts, more = self._next_posts(snapshot, newest)
        self._posts = posts[: len(self.cards)]
        self._now = snapshot.now
        self._taken_at = time.monotonic()
        if more:  # posts left waiting: the next turn takes the next one
            self._waiting = snapshot
            self._pace.start(round(self.min_interval_s * 1000))
        if not posts:
            self._shown_ids = []
            self.show_empty()
            return
        self.show_body()
        self._fill(animate=True)

    def _next_posts(
        self, snapshot: Snapshot, newest: tuple[Post, ...]
    ) -> tuple[tuple[Post, ...], bool]:
        """The posts to show after ``snapshot``: those shown (taken-off ones gone, updated ones as
        they are now) and at most :attr:`per_turn` new ones, the newest, in time order (on top,
        unless one arrived late); the newest alone when nothing is shown, or the river was off
        screen or idle for :attr:`stale_s`. And whether more new posts wait for the next turns."""
        shown = self._posts
        idle = time.monotonic() - self._taken_at
        if not shown or not newest or not self.isVisible() or idle > self.stale_s:
            return newest, False
        if snapshot.withdrawn:
            newest = tuple(p for p in newest if p.id not in snapshot.withdrawn)
        latest = {p.id: p for p in newest}
        gone = self._taken_off(snapshot)
        kept = [latest.get(p.id, p) for p in shown if p.id not in gone]
        # new: not shown, and newer than the last card when the cards are full (an older one
        # was shown and went, or would go at once); a late one (a feed polled every few
        # minutes) takes its place in time order, not the top
        full = len(kept) >= len(self.cards)
        bottom = _order(kept[-1]) if kept and full else None
        ids = {p.id for p in kept}
        arrived = [p for p in newest if p.id not in ids and (bottom is None or _order(p) > bottom)]
        posts = sorted([*arrived[: self.per_turn], *kept], key=_order, reverse=True)
        if len(posts) < len(self.cards):  # a post left: the next older ones close the gap
            have = {p.id for p in posts}
            low = _order(posts[-1]) if posts else None
            posts += [p for p in newest if p.id not in have and (low is None or _order(p) < low)]
        return tuple(posts), len(arrived) > self.per_turn

    def _fill(self, animate: bool) -> None:
        if self._now is None:
            return
        count = self.fitting()
        self._fit_cards(count)
        before = self._shown_ids
        previous = set(before)
        shown: list[str] = []
        fading: list[OpacityFade] = []
        self.glide.stop()
        for index, frame in enumerate(self._frames):
            if index < min(count, len(self._posts)):
                post = self._posts[index]
                self.cards[index].show_post(post, self._now)
                frame.show()
                shown.append(post.id)
                if animate and previous and post.id not in previous and self.isVisible():
                    fading.append(self._fades[index])
            else:
                self._fades[index].stop()
                frame.hide()
        self._shown_ids = shown
        arrived = self.arrived_on_top(before, shown)
        self._place_strip()
        if animate and arrived and self.isVisible():
            # the cards already show the new order: a picture of them starts higher by the new
            # cards' height and glides down into place, so the old posts seem to move down and
            # the new ones fade in above them
            step = self._card_step()
            self.glide.start(self._strip, arrived * step, arrived * step - self.theme.px(14))
            return
        for fade in fading:  # pictures of the cards as laid out with their new posts
            fade.start(0.0, 1.0)

    @staticmethod
    def arrived_on_top(before: list[str], after: list[str]) -> int:
        """How many posts came in on top when ``after`` is ``before`` pushed down by them (else
        0: a hidden post, a new page of posts, nothing shown before)."""
        if not before or not after:
            return 0
        try:
            start = after.index(before[0])
        except ValueError:
            return 0
        kept = after[start:]
        if start == 0 or kept != before[: len(kept)]:
            return 0
        return start

    def _card_step(self) -> int:
        return self._card_px + self.theme.px(14)

    def _place_strip(self) -> None:
        shown = sum(1 for frame in self._frames if not frame.isHidden())
        height = max(0, shown * self._card_step() - self.theme.px(14))
        self._strip.setGeometry(0, 0, self.body.width(), height)

    @property
    def sliding(self) -> bool:
        """True while new posts slide in."""
        return self.glide.is_running()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Keep the strip as wide as the body."""
        if watched is self.body and event.type() == QEvent.Type.Resize:
            self.glide.stop()
            self._place_strip()
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        """Show as many cards as fit."""
        super().resizeEvent(event)
        self._fill(animate=False)


# ---------------------------------------------------------------------------------------------
# ticker


#: What the ticker puts between two posts (and after the last).
TICKER_SEPARATOR = "      \u2022      "


class _Crawl(QWidget):
    """Text moving right to left at a steady speed. New text replaces the old one only when the
    old one has passed.

    The text is drawn in pieces (one post and its separator each), each into its own picture the
    first time it comes into view; a frame only copies the pictures in view. A whole strip drawn
    at once would be tens of thousands of pixels wide (hundreds of megabytes at ratio 2 for a long
    text) and cost a dropped frame at every new text. The pictures are kept while the text stays
    the same, so a strip that wraps round with the same text is not drawn again. The crawl paints
    its own background (the panel's surface), so a frame repaints neither the panel nor the
    window beneath it."""

    def __init__(self, panel: TickerPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._background = panel.theme.color("surface")
        self._font = panel.theme.font("ticker")
        self._metrics = QFontMetricsF(self._font)
        self._pending: str | None = None
        self._text = ""
        self._pieces: list[str] = []
        self._lefts: list[float] = []
        """Where each piece measured so far starts in the strip (its first is at 2)."""
        self._end = 2.0
        """Where the last measured piece ends."""
        self._tiles: dict[int, tuple[int, QPixmap]] = {}
        """Pictures of pieces by index: the whole pixel the picture starts at, the picture."""
        self._tile_ratio = 0.0
        self.pieces_drawn = 0
        """How many piece pictures were drawn (for tests: a wrap with the same text draws none)."""
        self.ids: frozenset[str] = frozenset()
        """Ids of the posts in the strip crawling now."""
        self._pending_ids: frozenset[str] = frozenset()
        self._offset = 0.0
        self._started = False
        self._last = time.monotonic()
        self.speed = 90.0  # logical px per second (set by the panel)
        self._timer = QTimer(self)
        self._timer.setInterval(33)
        self._timer.timeout.connect(self._step)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    @property
    def text(self) -> str:
        """The text crawling now."""
        return self._text

    def set_text(self, text: str, ids: frozenset[str] = frozenset(), *, now: bool = False) -> None:
        """Crawl ``text`` (the posts ``ids``) next: at once when nothing is crawling or ``now``
        (a post in the strip was taken off the wall), else when the current strip has passed."""
        if text == self._text and self._pending is None:
            return
        if not self._started or now:
            self._pending_ids = ids
            self._start(text)
            self._offset = float(self.panel.theme.px(24))
        else:
            self._pending = text
            self._pending_ids = ids

    def _start(self, text: str) -> None:
        if text != self._text or not self._started:
            self._tiles.clear()
            self._pieces = _pieces(text)
            self._lefts = []
            self._end = 2.0
        self._text = text
        self._pending = None
        self._started = True
        self.ids = self._pending_ids
        self._offset = float(self.width())

    def _strip_height(self) -> int:
        return max(1, int(self._metrics.height()) + 4)

    def _measure_to(self, right: float) -> None:
        """Measure pieces until the strip reaches ``right`` (strip coordinates) or ends."""
        while self._end < right and len(self._lefts) < len(self._pieces):
            self._lefts.append(self._end)
            self._end += self._metrics.horizontalAdvance(self._pieces[len(self._lefts) - 1])

    def _piece_end(self, index: int) -> float:
        """Where measured piece ``index`` ends in the strip."""
        return self._lefts[index + 1] if index + 1 < len(self._lefts) else self._end

    def _strip_width(self) -> float | None:
        """The whole strip's width, once every piece is measured (else ``None``)."""
        if len(self._lefts) < len(self._pieces):
            return None
        return float(int(self._end - 2.0) + 4)

    def _tile(self, index: int, ratio: float) -> tuple[int, QPixmap]:
        if ratio != self._tile_ratio:
            self._tiles.clear()
            self._tile_ratio = ratio
        tile = self._tiles.get(index)
        if tile is None:
            piece = self._pieces[index]
            left = self._lefts[index]
            x0 = math.floor(left) - 2
            width = math.ceil(left - x0 + self._metrics.horizontalAdvance(piece)) + 2
            height = self._strip_height()
            picture = QPixmap(max(1, math.ceil(width * ratio)), max(1, math.ceil(height * ratio)))
            picture.setDevicePixelRatio(ratio)
            picture.fill(Qt.GlobalColor.transparent)
            painter = QPainter(picture)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
            painter.setFont(self._font)
            painter.setPen(self.panel.theme.color("text"))
            painter.drawText(QPointF(left - x0, self._metrics.ascent() + 2), piece)
            painter.end()
            self.pieces_drawn += 1
            tile = (x0, picture)
            self._tiles[index] = tile
        return tile

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Move only while visible."""
        super().showEvent(event)
        self._last = time.monotonic()
        self._timer.start()

    def hideEvent(self, event: object) -> None:  # noqa: N802
        """Stop moving when hidden (another page is on screen)."""
        # while a page is torn down Qt may hide the crawl after its timer is already gone, and
        # while it is built (QWidget.__init__) before the timer exists
        timer = getattr(self, "_timer", None)
        if timer is not None:
            with contextlib.suppress(RuntimeError):
                timer.stop()
        super().hideEvent(event)  # type: ignore[arg-type]

    def _step(self) -> None:
        now = time.monotonic()
        elapsed = min(0.2, now - self._last)
        self._last = now
        probe = perf.active()
        if probe is None:
            self.advance(elapsed)
            return
        started = time.perf_counter()
        self.advance(elapsed)
        probe.step(self.window(), "ticker", time.perf_counter() - started)

    def advance(self, seconds: float) -> None:
        """Move the text by ``seconds`` worth of crawl."""
        if not self._started:
            return
        self._offset -= self.speed * seconds
        self._measure_to(self.width() - self._offset)
        width = self._strip_width()
        if width is not None and self._offset < -width:
            self._start(self._pending if self._pending is not None else self._text)
        elif self._pending is not None:
            # the next text differs: pictures of pieces that have passed will not be shown again
            for index in [i for i in self._tiles if self._offset + self._piece_end(i) + 2 < 0]:
                del self._tiles[index]
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """The background, and the pictures of the pieces in view at the current offset,
        vertically centred."""
        painter = QPainter(self)
        painter.fillRect(event.rect(), self._background)
        if self._started and self._pieces:
            ratio = target_ratio(painter, self)
            offset = round(self._offset)
            y = round((self.height() - self._strip_height()) / 2)
            self._measure_to(self.width() - offset)
            for index, left in enumerate(self._lefts):
                if offset + self._piece_end(index) + 2 < 0:
                    continue
                if offset + left - 2 > self.width():
                    break
                x0, picture = self._tile(index, ratio)
                painter.drawPixmap(offset + x0, y, picture)
        painter.end()


def _pieces(text: str) -> list[str]:
    """``text`` cut after each :data:`TICKER_SEPARATOR` (each post with the separator after it)."""
    pieces = text.split(TICKER_SEPARATOR)
    cut = [piece + TICKER_SEPARATOR for piece in pieces[:-1]]
    if pieces[-1]:
        cut.append(pieces[-1])
    return cut


class TickerPanel(Panel):
    """Recent posts crawling calmly along a strip."""

    kind = "ticker"
    empty_text = "Waiting for the first mentions"

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        super().__init__(spec, context, parent)
        layout = QHBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        self.crawl = _Crawl(self)
        self.crawl.speed = (spec.speed or 110.0) * self.theme.scale
        layout.addWidget(self.crawl)
        self._hide = anonymous(context.wall)
        self._keep = kept_mentions(context.wall)

    def title(self) -> str:
        """No heading: a ticker is a strip."""
        return self.spec.title or ""

    def data_key(self, snapshot: Snapshot) -> object:
        """The newest ids."""
        return tuple(p.id for p in snapshot.newest[:20])

    def refresh(self, snapshot: Snapshot) -> None:
        """Queue the newest posts as the next crawl."""
        font = self.theme.font("ticker")
        shown = (p for p in snapshot.newest if p.moderation.visible and drawable(p, font))
        posts = list(itertools.islice(shown, self.spec.limit or 15))
        if not posts:
            self.show_empty()
            return
        self.show_body()
        pieces = []
        for post in posts:
            who = (
                source_name(post.source) if self._hide else (post.author.name or post.author.handle)
            )
            text = " ".join(private_text(post.text, self._hide, self._keep).split())
            pieces.append(f"{display_text(elide(who, 40))}: {display_text(elide(text, 160))}")
        ids = frozenset(p.id for p in posts)
        # a post taken off the wall (hidden, deleted, its author blocked) leaves the strip at once
        gone = bool(snapshot.withdrawn) and not snapshot.withdrawn.isdisjoint(self.crawl.ids)
        text = TICKER_SEPARATOR.join(pieces) + TICKER_SEPARATOR
        self.crawl.set_text(text, ids, now=gone)


# ---------------------------------------------------------------------------------------------
# care


class _CareRow(QFrame):
    def __init__(self, panel: CarePanel) -> None:
        super().__init__()
        theme = panel.theme
        self.setStyleSheet(f"background: {theme.surface_alt}; border-radius: {theme.px(10)}px;")
        layout = QVBoxLayout(self)
        pad = theme.px(14)
        layout.setContentsMargins(pad, pad * 3 // 4, pad, pad * 3 // 4)
        layout.setSpacing(theme.px(4))
        top = QHBoxLayout()
        top.setSpacing(theme.px(14))
        self.wait = plain_label()
        self.wait.setFont(theme.font("small", bold=True))
        top.addWidget(self.wait)
        self.who = ElidedLabel()
        self.who.setFont(theme.font("small"))
        self.who.setStyleSheet(f"color: {theme.muted}; background: transparent;")
        top.addWidget(self.who, 1)
        layout.addLayout(top)
        self.text = TextBlock(max_lines=2)
        self.text.setFont(theme.font("body"))
        self.text.setColor(theme.color("text"))
        layout.addWidget(self.text, 1)
        self.setFixedHeight(theme.px(ROW_HEIGHT))
        self.post_id: str | None = None


ROW_HEIGHT = 142


class CarePanel(Panel):
    """Questions and complaints nobody from the brand has answered yet, oldest first."""

    kind = "care"
    empty_text = "Nothing waiting for an answer"

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        super().__init__(spec, context, parent)
        theme = self.theme
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.px(12))
        self.summary = plain_label()
        self.summary.setFont(theme.font("small"))
        self.summary.setStyleSheet(f"color: {theme.text};")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.rows: list[_CareRow] = []
        for _ in range(spec.limit or 8):
            row = _CareRow(self)
            row.hide()
            layout.addWidget(row)
            self.rows.append(row)
        layout.addStretch(1)
        self._hide = anonymous(context.wall)
        self._keep = kept_mentions(context.wall)
        self._open: list[Post] = []
        self._snapshot: Snapshot | None = None

    def title(self) -> str:
        """Heading."""
        return self.spec.title or "Waiting for an answer"

    def data_key(self, snapshot: Snapshot) -> object:
        """Open items, figures and the minute."""
        care = snapshot.care
        return (
            tuple(p.id for p in care.open),
            care.answered,
            care.total,
            int(snapshot.now.timestamp() // 60),
        )

    def ordered(self, snapshot: Snapshot) -> list[Post]:
        """Open posts, oldest unanswered first."""
        return sorted(
            (p for p in snapshot.care.open if p.moderation.visible), key=lambda p: p.created_at
        )

    def refresh(self, snapshot: Snapshot) -> None:
        """Fill the row pool in place."""
        care = snapshot.care
        self._snapshot = snapshot
        self._open = self.ordered(snapshot)
        facts = []
        if self._open:
            facts.append(f"{len(care.open)} waiting")
        if care.response_rate is not None:
            facts.append(f"{care.response_rate * 100:.0f}% answered")
        if care.median_first_reply_s is not None:
            facts.append(f"median first reply {waiting_time(care.median_first_reply_s)}")
        self.summary.setText("  ·  ".join(facts))
        if not self._open:
            self.show_empty(
                "Nothing waiting for an answer" if not facts else "Everything has been answered"
            )
            return
        self.show_body()
        self._fill()

    def _fill(self) -> None:
        snapshot = self._snapshot
        if snapshot is None:
            return
        height = self.body.height() - self.summary.sizeHint().height()
        per = self.theme.px(ROW_HEIGHT) + self.theme.px(12)
        fit = max(1, int(height // per)) if height > 0 else len(self.rows)
        for index, row in enumerate(self.rows):
            if index < min(fit, len(self._open)):
                post = self._open[index]
                waited = (snapshot.now - post.created_at).total_seconds()
                row.post_id = post.id
                row.wait.setText(f"waiting {waiting_time(waited)}")
                late = waited > 3600
                restyle(
                    row.wait,
                    f"color: {self.theme.negative if late else self.theme.text};"
                    " background: transparent;",
                )
                who = (
                    source_name(post.source)
                    if self._hide
                    else f"{post.author.name or post.author.handle} · {source_name(post.source)}"
                )
                row.who.set_full_text(who)
                row.text.setText(private_text(post.text, self._hide, self._keep))
                row.show()
            else:
                row.hide()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        """Show as many rows as fit."""
        super().resizeEvent(event)
        self._fill()


__all__ = ["CarePanel", "FeaturedPanel", "RiverPanel", "TickerPanel"]

"""Figures and lists: ``trending``, ``authors``, ``kpis``, ``sources``, ``header`` and ``alert``.

Each panel builds a fixed pool of row widgets once and fills them in place on refresh.
"""

from __future__ import annotations

import itertools
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from agora.config.schema import PanelConfig
from agora.core.health import SourceHealth
from agora.core.snapshot import Alert, AuthorStat, Snapshot, TermTrend
from agora.ui.panels.base import Panel, PanelContext
from agora.ui.panels.parts import (
    Avatar,
    ElidedLabel,
    anonymous,
    compact,
    restyle,
    shown_handle,
    source_name,
)
from agora.ui.safetext import can_draw, plain_label


def local_zone(context: PanelContext) -> tzinfo | None:
    """The wall's configured time zone, else the machine's (``None``)."""
    name = context.wall.wall.timezone
    if name:
        try:
            return ZoneInfo(name)
        except (KeyError, ValueError):
            return None
    return None


def local_time(moment: datetime, zone: tzinfo | None) -> datetime:
    """``moment`` in the wall's zone."""
    return moment.astimezone(zone) if zone is not None else moment.astimezone()


# ---------------------------------------------------------------------------------------------
# trending


def rise_text(trend: TermTrend) -> str:
    """ "new" or "×3" (how many times the usual count)."""
    if trend.baseline < 0.5:
        return "new"
    factor = trend.count / trend.baseline
    return f"×{factor:.0f}" if factor >= 10 else f"×{factor:.1f}".replace(".0", "")


class TrendingPanel(Panel):
    """Rising terms and hashtags, ranked, with how much they rose."""

    kind = "trending"
    empty_text = "Nothing trending right now"

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        super().__init__(spec, context, parent)
        theme = self.theme
        grid = QGridLayout(self.body)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(theme.px(14))
        grid.setVerticalSpacing(theme.px(6))
        grid.setColumnStretch(1, 1)
        self.rows: list[tuple[QLabel, ElidedLabel, QLabel]] = []
        for index in range(spec.limit or 8):
            rank = plain_label(str(index + 1))
            rank.setFont(theme.font("small", bold=True))
            rank.setStyleSheet(f"color: {theme.muted};")
            term = ElidedLabel(shrink=0.7)
            size = 30 if index < 3 else 26
            term.set_base_font(theme.font(size, bold=index < 3))
            term.setStyleSheet(f"color: {theme.text};")
            rise = plain_label()
            rise.setFont(theme.font("small", bold=True))
            rise.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            rise.setStyleSheet(f"color: {theme.accent};")
            grid.addWidget(rank, index, 0)
            grid.addWidget(term, index, 1)
            grid.addWidget(rise, index, 2)
            self.rows.append((rank, term, rise))
        grid.setRowStretch(len(self.rows), 1)
        self.span_s = self.window_s(3600.0)

    def title(self) -> str:
        """Heading."""
        return self.spec.title or "Trending"

    def data_key(self, snapshot: Snapshot) -> object:
        """The ranked terms."""
        return tuple((t.shown, t.count) for t in snapshot.summary(self.span_s).trending)

    def refresh(self, snapshot: Snapshot) -> None:
        """Fill the rows in place."""
        font = self.rows[0][1].font()
        # a term no installed font draws would show as a row of boxes: left out
        drawable = (t for t in snapshot.summary(self.span_s).trending if can_draw(t.shown, font))
        trends = list(itertools.islice(drawable, len(self.rows)))
        if not trends:
            self.show_empty()
            return
        self.show_body()
        for index, (rank, term, rise) in enumerate(self.rows):
            visible = index < len(trends)
            for widget in (rank, term, rise):
                widget.setVisible(visible)
            if visible:
                trend = trends[index]
                term.set_full_text(trend.shown)
                rise.setText(f"▲ {rise_text(trend)}   {compact(trend.count)}")


# ---------------------------------------------------------------------------------------------
# authors


class _AuthorRow(QWidget):
    def __init__(self, panel: AuthorsPanel) -> None:
        super().__init__()
        theme = panel.theme
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.px(12))
        self.avatar = Avatar(theme, theme.px(46))
        layout.addWidget(self.avatar)
        names = QVBoxLayout()
        names.setSpacing(0)
        self.name = ElidedLabel(shrink=0.75)
        self.name.set_base_font(theme.font(28, bold=True))
        self.name.setStyleSheet(f"color: {theme.text};")
        self.meta = ElidedLabel()
        self.meta.setFont(theme.font(22))
        self.meta.setStyleSheet(f"color: {theme.muted};")
        names.addWidget(self.name)
        names.addWidget(self.meta)
        layout.addLayout(names, 1)
        self.figure = plain_label()
        self.figure.setFont(theme.font("body", bold=True))
        self.figure.setStyleSheet(f"color: {theme.accent};")
        self.figure.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.figure)
        if anonymous(panel.context.wall):
            self.avatar.hide()


class AuthorsPanel(Panel):
    """Most active (posts) or most influential (followers) authors of the window."""

    kind = "authors"
    empty_text = "No authors in the last hour"

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        super().__init__(spec, context, parent)
        self.mode = spec.mode or "active"
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(self.theme.px(12))
        self.rows: list[_AuthorRow] = []
        for _ in range(spec.limit or 6):
            row = _AuthorRow(self)
            layout.addWidget(row)
            self.rows.append(row)
        layout.addStretch(1)
        self.span_s = self.window_s(3600.0)
        if anonymous(context.wall):
            self._empty.setText("Author names are not shown on this wall")

    def title(self) -> str:
        """Heading."""
        if self.spec.title:
            return self.spec.title
        if self.spec.mode == "influential":
            return "Most influential · followers"
        return "Most active · posts"

    def data_key(self, snapshot: Snapshot) -> object:
        """The ranked authors."""
        return tuple((a.handle, a.posts, a.reach) for a in snapshot.summary(self.span_s).authors)

    def ranked(self, snapshot: Snapshot) -> list[AuthorStat]:
        """Authors in the panel's order."""
        authors = list(snapshot.summary(self.span_s).authors)
        if self.mode == "influential":
            authors.sort(key=lambda a: (a.reach or 0, a.posts), reverse=True)
        else:
            authors.sort(key=lambda a: (a.posts, a.reach or 0), reverse=True)
        return authors

    def refresh(self, snapshot: Snapshot) -> None:
        """Fill rows in place."""
        if anonymous(self.context.wall):
            self.show_empty()
            return
        authors = self.ranked(snapshot)[: len(self.rows)]
        if not authors:
            self.show_empty()
            return
        self.show_body()
        for index, row in enumerate(self.rows):
            if index >= len(authors):
                row.hide()
                continue
            author = authors[index]
            row.show()
            row.avatar.set_author(author.name, author.handle, author.avatar_url)
            row.name.set_full_text(author.name or author.handle)
            handle = shown_handle(author.handle)
            where = source_name(author.source)
            row.meta.set_full_text(f"{handle} · {where}" if handle else where)
            if self.mode == "influential":
                row.figure.setText(compact(author.reach))
            else:
                row.figure.setText(str(author.posts))


# ---------------------------------------------------------------------------------------------
# kpis


class _Tile(QWidget):
    def __init__(self, panel: KpisPanel, caption: str) -> None:
        super().__init__()
        theme = panel.theme
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.px(2))
        self.value = plain_label("—")
        self.value.setFont(theme.font(64, bold=True))
        self.value.setStyleSheet(f"color: {theme.text};")
        self.caption = plain_label(caption)
        self.caption.setFont(theme.font("small"))
        self.caption.setStyleSheet(f"color: {theme.muted};")
        self.caption.setWordWrap(True)
        layout.addStretch(1)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)
        layout.addStretch(1)


def rate_text(value: float | None) -> str:
    """An engagement rate per post."""
    if value is None:
        return "—"
    return f"{value:.1f}" if value < 100 else compact(value)


class KpisPanel(Panel):
    """Mentions today and per minute, and the engagement rates of the conversation."""

    kind = "kpis"

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        super().__init__(spec, context, parent)
        grid = QGridLayout(self.body)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(self.theme.px(18))
        self.today = _Tile(self, "mentions today")
        self.per_minute = _Tile(self, "mentions a minute")
        self.conversation = _Tile(self, "replies per post")
        self.amplification = _Tile(self, "reposts per post")
        self.applause = _Tile(self, "likes per post")
        self.owned = _Tile(self, "replies per post by the brand")
        tiles = [
            self.today,
            self.per_minute,
            self.applause,
            self.conversation,
            self.amplification,
            self.owned,
        ]
        for index, tile in enumerate(tiles):
            grid.addWidget(tile, index // 3, index % 3)
        self.span_s = self.window_s(3600.0)

    def title(self) -> str:
        """Heading."""
        return self.spec.title or "Today"

    def data_key(self, snapshot: Snapshot) -> object:
        """Headline numbers."""
        summary = snapshot.summary(self.span_s)
        return (snapshot.kpis, summary.mentions, summary.owned)

    def refresh(self, snapshot: Snapshot) -> None:
        """Numbers in place (zeros are data, never an empty panel)."""
        kpis = snapshot.kpis
        summary = snapshot.summary(self.span_s)
        self.today.value.setText(compact(kpis.mentions_today))
        self.per_minute.value.setText(f"{kpis.per_minute:.1f}".replace(".0", ""))
        self.per_minute.caption.setText(f"mentions a minute · peak {compact(kpis.peak_per_minute)}")
        rates = summary.mentions
        self.applause.value.setText(rate_text(rates.applause))
        self.conversation.value.setText(rate_text(rates.conversation))
        self.amplification.value.setText(rate_text(rates.amplification))
        owned = summary.owned
        self.owned.value.setText(rate_text(owned.conversation) if owned.posts else "—")
        self.owned.caption.setText(
            f"replies per brand post ({owned.posts} posts)" if owned.posts else "no brand posts yet"
        )


# ---------------------------------------------------------------------------------------------
# sources

STATE_WORDS = {
    "ok": "ok",
    "idle": "starting",
    "degraded": "degraded",
    "failing": "failing",
    "needs-auth": "needs login",
    "disabled-by-server": "disabled by the server",
}


class _SourceRow(QWidget):
    def __init__(self, panel: SourcesPanel) -> None:
        super().__init__()
        theme = panel.theme
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.px(2))
        top = QHBoxLayout()
        top.setSpacing(theme.px(10))
        self.dot = plain_label("●")
        self.dot.setFont(theme.font("small"))
        top.addWidget(self.dot)
        self.name = ElidedLabel(shrink=0.75)
        self.name.set_base_font(theme.font(28, bold=True))
        self.name.setStyleSheet(f"color: {theme.text};")
        top.addWidget(self.name, 1)
        self.count = plain_label()
        self.count.setFont(theme.font(28, bold=True))
        self.count.setStyleSheet(f"color: {theme.text};")
        top.addWidget(self.count)
        layout.addLayout(top)
        self.state = ElidedLabel()
        self.state.setFont(theme.font(22))
        layout.addWidget(self.state)


class SourcesPanel(Panel):
    """Where the conversation happens, and whether each source is healthy."""

    kind = "sources"
    empty_text = "No sources configured"

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        super().__init__(spec, context, parent)
        grid = QGridLayout(self.body)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(self.theme.px(28))
        grid.setVerticalSpacing(self.theme.px(12))
        self.rows: list[_SourceRow] = []
        for index in range(spec.limit or 8):
            row = _SourceRow(self)
            grid.addWidget(row, index // 2, index % 2)
            self.rows.append(row)
        grid.setRowStretch((len(self.rows) + 1) // 2, 1)
        self.span_s = self.window_s(3600.0)
        self.zone = local_zone(context)

    def title(self) -> str:
        """Heading."""
        return self.spec.title or "Sources"

    def data_key(self, snapshot: Snapshot) -> object:
        """Health and counts, and the minute (staleness)."""
        summary = snapshot.summary(self.span_s)
        return (
            tuple(
                sorted(
                    (k, h.state, h.last_success, h.last_error) for k, h in snapshot.sources.items()
                )
            ),
            tuple(sorted(summary.posts.by_source.items())),
            int(snapshot.now.timestamp() // 60),
        )

    def status_line(self, health: SourceHealth, now: datetime) -> tuple[str, QColor]:
        """Plain words for a source's state, and the colour of its dot."""
        theme = self.theme
        words = STATE_WORDS.get(health.state, health.state)
        stale = health.last_success is None or (now - health.last_success).total_seconds() > 600
        if health.state == "ok" and not stale:
            return "ok", QColor(theme.positive)
        since = ""
        if health.last_success is not None:
            since = f" · no data since {local_time(health.last_success, self.zone):%H:%M}"
        elif health.state != "idle":
            since = " · no data yet"
        detail = f" · {health.last_error}" if health.last_error and health.state != "ok" else ""
        color = QColor(theme.neutral if health.state == "idle" else theme.negative)
        return f"{words}{since}{detail}", color

    def refresh(self, snapshot: Snapshot) -> None:
        """Rows in place: busiest source first."""
        summary = snapshot.summary(self.span_s)
        counts = summary.posts.by_source
        if not snapshot.sources and not counts:
            self.show_empty()
            return
        self.show_body()
        healths = dict(snapshot.sources)
        kinds = sorted(set(counts) - set(healths), key=lambda n: (-counts.get(n, 0), n))
        order = kinds + sorted(healths)
        for index, row in enumerate(self.rows):
            if index >= len(order):
                row.hide()
                continue
            name = order[index]
            row.show()
            health = healths.get(name)
            label = (
                source_name(name)
                if health is None
                else f"{health.name} ({source_name(health.kind)})"
            )
            row.name.set_full_text(label)
            if health is None:
                text, color = "", QColor(self.theme.muted)
                row.count.setText(compact(counts.get(name, 0)))
            else:
                text, color = self.status_line(health, snapshot.now)
                row.count.setText(compact(counts.get(name, 0)) if name in counts else "")
            row.state.setVisible(bool(text))
            row.state.set_full_text(text)
            restyle(row.state, f"color: {color.name() if text != 'ok' else self.theme.muted};")
            restyle(row.dot, f"color: {color.name()};")


# ---------------------------------------------------------------------------------------------
# header


class HeaderPanel(Panel):
    """Wall name, logo, the date and a large clock."""

    kind = "header"

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        super().__init__(spec, context, parent)
        theme = self.theme
        layout = QHBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.px(22))
        self.logo = QLabel()
        self.logo.hide()
        layout.addWidget(self.logo, 0, Qt.AlignmentFlag.AlignVCenter)
        self.name = ElidedLabel()
        self.name.setFont(theme.font("header", bold=True))
        self.name.setStyleSheet(f"color: {theme.text};")
        self.name.set_full_text(spec.title or context.wall.wall.name)
        layout.addWidget(self.name, 1)
        self.live = plain_label("● LIVE")
        self.live.setFont(theme.font("small", bold=True))
        self.live.setStyleSheet(f"color: {theme.accent};")
        layout.addWidget(self.live)
        self.date = plain_label()
        self.date.setFont(theme.font("body"))
        self.date.setStyleSheet(f"color: {theme.muted};")
        layout.addWidget(self.date)
        self.clock = plain_label()
        self.clock.setFont(theme.font(58, bold=True))
        self.clock.setStyleSheet(f"color: {theme.text};")
        layout.addWidget(self.clock)
        self.zone = local_zone(context)
        self._load_logo()
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.tick)
        self._timer.start()
        self.tick()

    def _load_logo(self) -> None:
        logo = self.context.wall.wall.logo
        if not logo:
            return
        base = self.context.extra.get("config_dir")
        path = Path(logo) if base is None else Path(base) / logo
        pixmap = QPixmap(str(path))
        if pixmap.isNull():
            return
        height = self.theme.px(64)
        self.logo.setPixmap(
            pixmap.scaledToHeight(height, Qt.TransformationMode.SmoothTransformation)
        )
        self.logo.show()

    def title(self) -> str:
        """No heading: the header is one."""
        return ""

    def data_key(self, snapshot: Snapshot) -> object:
        """Nothing from the snapshot changes the header."""
        return 0

    def refresh(self, snapshot: Snapshot) -> None:
        """The clock ticks on its own timer."""
        self.tick()

    def tick(self) -> None:
        """Show the time (HH:MM) and date."""
        now = local_time(self.context.clock(), self.zone)
        clock = f"{now:%H:%M}"
        if clock != self.clock.text():
            self.clock.setText(clock)
            self.date.setText(f"{now:%A} {now.day} {now:%B}")


# ---------------------------------------------------------------------------------------------
# alert


class AlertPanel(Panel):
    """A banner while a spike or a negative surge is in progress; a calm line otherwise."""

    kind = "alert"
    empty_text = "All calm: no unusual spikes right now"

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        super().__init__(spec, context, parent)
        theme = self.theme
        layout = QHBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.px(18))
        self.badge = plain_label("!")
        self.badge.setFont(theme.font("heading", bold=True))
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        size = theme.px(56)
        self.badge.setFixedSize(size, size)
        self.badge.setStyleSheet(
            f"background: {theme.alert}; color: {theme.background}; border-radius: {size // 2}px;"
        )
        layout.addWidget(self.badge)
        self.message = ElidedLabel()
        self.message.setFont(theme.font("heading", bold=True))
        self.message.setStyleSheet(f"color: {theme.text};")
        layout.addWidget(self.message, 1)
        self.since = plain_label()
        self.since.setFont(theme.font("body"))
        self.since.setStyleSheet(f"color: {theme.muted};")
        layout.addWidget(self.since)
        self.zone = local_zone(context)
        self._empty.setFont(theme.font("body"))
        self.current: Alert | None = None

    def title(self) -> str:
        """No heading: the banner speaks for itself."""
        return ""

    def data_key(self, snapshot: Snapshot) -> object:
        """The active alerts."""
        return tuple((a.kind, a.topic, a.started_at, a.message) for a in snapshot.active_alerts)

    def refresh(self, snapshot: Snapshot) -> None:
        """Show the most recent active alert (and how many more)."""
        active = sorted(snapshot.active_alerts, key=lambda a: a.started_at, reverse=True)
        if not active:
            self.current = None
            restyle(self, "")
            self.show_empty()
            return
        self.show_body()
        alert = active[0]
        self.current = alert
        more = f"  (+{len(active) - 1} more)" if len(active) > 1 else ""
        self.message.set_full_text(alert.message + more)
        self.since.setText(f"since {local_time(alert.started_at, self.zone):%H:%M}")


__all__ = [
    "AlertPanel",
    "AuthorsPanel",
    "HeaderPanel",
    "KpisPanel",
    "SourcesPanel",
    "TrendingPanel",
]

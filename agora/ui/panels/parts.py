"""Pieces shared by panels: relative times, compact numbers, source names, avatars, post cards."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPaintEvent, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from agora.core.accounts import parse_account
from agora.core.aggregates import owned_handle
from agora.core.post import Post
from agora.core.text import mask_mentions
from agora.ui.safetext import display_text, elide_words, plain_label
from agora.ui.theme import Theme
from agora.ui.widgets import TextBlock

SOURCE_NAMES = {
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "hackernews": "Hacker News",
    "reddit": "Reddit",
    "rss": "News",
    "x": "X",
    "youtube": "YouTube",
    "webhook": "Webhook",
    "jsonl": "Archive",
    "simulator": "Demo",
}

AVATAR_COLORS = ("#2F6690", "#3A7D44", "#8E5572", "#B5651D", "#4F5D75", "#6A4C93", "#1B998B")


def restyle(widget: QWidget, sheet: str) -> None:
    """Give ``widget`` a style sheet unless it has that one already (setting one, even the same,
    makes Qt re-polish the widget: a cost worth avoiding on every refresh)."""
    if widget.styleSheet() != sheet:
        widget.setStyleSheet(sheet)


def source_name(kind: str) -> str:
    """Display name of a source kind."""
    return SOURCE_NAMES.get(kind, kind.capitalize() or "Unknown")


def relative_time(then: datetime, now: datetime) -> str:
    """ "just now", "3 min ago", "2 h ago", "yesterday", "3 Nov"."""
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 2 * 86400:
        return "yesterday"
    return f"{then.day} {then.strftime('%b')}"


def waiting_time(seconds: float) -> str:
    """ "4 min", "2 h 10 min", "3 days"."""
    minutes = int(max(0.0, seconds) // 60)
    if minutes < 60:
        return f"{max(1, minutes)} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days = hours // 24
    return f"{days} day{'s' if days != 1 else ''}"


def compact(value: float | None) -> str:
    """1234 → "1.2k", 3400000 → "3.4M"; ``None`` → "—"."""
    if value is None:
        return "—"
    number = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(number) >= limit:
            scaled = number / limit
            text = f"{scaled:.1f}" if abs(scaled) < 10 else f"{scaled:.0f}"
            return text.removesuffix(".0") + suffix
    return f"{number:.0f}" if number == int(number) else f"{number:.1f}"


#: Handles that are a platform's internal ids, not what anyone would read on a screen: YouTube
#: channel ids (the handle that identifies a channel, see the YouTube source) and Bluesky DIDs
#: (shown when a profile could not be looked up).
_INTERNAL_HANDLE = re.compile(r"UC[A-Za-z0-9_-]{22}|did:[a-z]+:\S+")


def shown_handle(handle: str) -> str:
    """The handle as the wall shows it beside a name: ``""`` for an internal id."""
    return "" if _INTERNAL_HANDLE.fullmatch(handle) else handle


def initials(name: str, handle: str) -> str:
    """One or two letters for an avatar placeholder."""
    words = [w for w in (name or "").split() if w[:1].isalnum()]
    if len(words) >= 2:
        return (words[0][0] + words[1][0]).upper()
    if words:
        return words[0][0].upper()
    bare = handle.lstrip("@")
    return (bare[:1] or "?").upper()


def anonymous(context_wall: Any) -> bool:
    """True when the wall shows no names, handles or avatars."""
    return bool(getattr(getattr(context_wall, "wall", None), "privacy", "") == "anonymous")


def kept_mentions(context_wall: Any) -> frozenset[str]:
    """Handles an anonymous wall still shows in post text: the brand's own accounts."""
    analytics = getattr(context_wall, "analytics", None)
    return frozenset(
        owned_handle(parse_account(h).handle) for h in getattr(analytics, "owned_accounts", ())
    )


def private_text(text: str, hide_authors: bool, keep: frozenset[str] = frozenset()) -> str:
    """Post text as a wall shows it: on an anonymous wall, @mentions of people are masked."""
    return mask_mentions(text, keep) if hide_authors else text


class Avatar(QWidget):
    """A round avatar: the picture when it has arrived, else initials on a colour from the handle."""

    def __init__(self, theme: Theme, diameter: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self._text = "?"
        self._color = QColor(AVATAR_COLORS[0])
        self._pixmap: QPixmap | None = None
        self._url: str | None = None
        self.setFixedSize(diameter, diameter)

    def set_author(self, name: str, handle: str, url: str | None = None) -> None:
        """Show this author (initials until the picture, if any, arrives)."""
        digest = hashlib.blake2s(handle.encode("utf-8", "replace"), digest_size=2).digest()
        self._text = initials(name, handle)
        self._color = QColor(AVATAR_COLORS[digest[0] % len(AVATAR_COLORS)])
        if url != self._url:
            self._url = url
            self._pixmap = None
        self.update()

    @property
    def url(self) -> str | None:
        """The address of the picture this avatar shows or waits for."""
        return self._url

    def set_pixmap(self, url: str, pixmap: QPixmap) -> None:
        """The picture for ``url`` arrived (ignored when the card shows someone else by now)."""
        if url == self._url:
            self._pixmap = pixmap
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """Circle with initials or the clipped picture."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = QRectF(self.rect())
        if self._pixmap is not None and not self._pixmap.isNull():
            path = QPainterPath()
            path.addEllipse(rect)
            painter.setClipPath(path)
            painter.drawPixmap(self.rect(), self._pixmap)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._color)
            painter.drawEllipse(rect)
            font = QFont(self.theme.font_family)
            font.setPixelSize(max(8, int(rect.height() * 0.4)))
            font.setWeight(QFont.Weight.Bold)
            painter.setFont(font)
            painter.setPen(QColor("#FFFFFF"))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self._text)
        painter.end()

    def sizeHint(self) -> QSize:  # noqa: N802
        """Its fixed size."""
        return self.size()


class ElidedLabel(QLabel):
    """A one-line plain-text label elided at a word boundary to its width.

    With ``shrink`` (a fraction, e.g. ``0.7``) a text too wide for its font is first drawn in a
    smaller font, down to that fraction of the label's font, and only elided if it still does not
    fit: a single long word ("comparando") is shown whole rather than cut."""

    def __init__(self, parent: QWidget | None = None, *, shrink: float = 1.0) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._full = ""
        self._shrink = shrink
        self._base_px = 0

    def set_base_font(self, font: QFont) -> None:
        """Set the label's largest font (the one ``shrink`` is a fraction of)."""
        self._base_px = font.pixelSize()
        self.setFont(font)
        self._fit()

    def set_full_text(self, text: str) -> None:
        """The whole text; what is shown is elided to fit."""
        shown = display_text(text.replace("\n", " "))
        if shown != self._full:
            self._full = shown
            self._fit()

    def full_text(self) -> str:
        """The text before eliding."""
        return self._full

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        """Re-elide for the new width."""
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        width = max(10.0, float(self.width()) - 2)
        font = self.font()
        if self._shrink < 1.0 and self._base_px > 0 and self.width() > 10:
            # the largest of a few sizes at which the whole text fits (steps of a tenth)
            wanted = self._base_px
            smallest = max(8, round(self._base_px * self._shrink))
            while wanted > smallest:
                font.setPixelSize(wanted)
                if QFontMetricsF(font).horizontalAdvance(self._full) <= width:
                    break
                wanted = max(smallest, round(wanted * 0.9))
            font.setPixelSize(wanted)
            if font.pixelSize() != self.font().pixelSize():
                self.setFont(font)
        metrics = QFontMetricsF(font)
        text = elide_words(self._full, metrics, width) if self.width() > 10 else self._full
        if text != self.text():
            self.setText(text)


class PostCard(QWidget):
    """Author line, text and counts of one post. Updated in place with :meth:`show_post`."""

    def __init__(
        self,
        theme: Theme,
        *,
        text_size: float,
        avatar: int,
        max_lines: int = 0,
        hide_authors: bool = False,
        images: Any = None,
        parent: QWidget | None = None,
        keep_mentions: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(parent)
        self.theme = theme
        self.hide_authors = hide_authors
        self.keep_mentions = keep_mentions
        """With ``hide_authors``: the handles still shown in the text (the brand's own)."""
        self.images = images
        self.post_id: str | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(theme.px(10))
        top = QHBoxLayout()
        top.setSpacing(theme.px(14))
        self.avatar = Avatar(theme, theme.px(avatar))
        top.addWidget(self.avatar, 0, Qt.AlignmentFlag.AlignTop)
        names = QVBoxLayout()
        names.setSpacing(0)
        self.name = ElidedLabel()
        self.name.setFont(theme.font(max(26.0, text_size * 0.62), bold=True))
        self.name.setStyleSheet(f"color: {theme.text};")
        self.meta = ElidedLabel()
        self.meta.setFont(theme.font(max(22.0, text_size * 0.5)))
        self.meta.setStyleSheet(f"color: {theme.muted};")
        names.addWidget(self.name)
        names.addWidget(self.meta)
        top.addLayout(names, 1)
        outer.addLayout(top)
        self.text = TextBlock(max_lines=max_lines)
        self.text.setFont(theme.font(text_size))
        self.text.setColor(theme.color("text"))
        outer.addWidget(self.text, 1)
        self.counts = plain_label()
        self.counts.setFont(theme.font(max(22.0, text_size * 0.5)))
        self.counts.setStyleSheet(f"color: {theme.muted};")
        outer.addWidget(self.counts)
        if hide_authors:
            self.avatar.hide()
        if images is not None and hasattr(images, "image_ready"):
            images.image_ready.connect(self._on_image)

    def _on_image(self, url: str, image: Any) -> None:
        # every picture the wall loads is announced to every card: convert only this card's
        if url == self.avatar.url:
            self.avatar.set_pixmap(url, QPixmap.fromImage(image))

    def show_post(self, post: Post, now: datetime, extra: str = "") -> None:
        """Fill the card with ``post`` (plain text only)."""
        self.post_id = post.id
        author = post.author
        when = relative_time(post.created_at, now)
        where = source_name(post.source)
        if self.hide_authors:
            self.name.set_full_text(f"On {where}")
            self.meta.set_full_text(when)
        else:
            self.name.set_full_text(author.name or author.handle)
            handle = (
                shown_handle(author.handle) if author.name and author.name != author.handle else ""
            )
            meta = " · ".join(p for p in (handle, where, when) if p)
            self.meta.set_full_text(meta)
            self.avatar.set_author(author.name, author.handle, author.avatar_url)
            if author.avatar_url and self.images is not None:
                cached = self.images.image(author.avatar_url)
                if cached is not None:
                    self._on_image(author.avatar_url, cached)
        self.text.setText(private_text(post.text, self.hide_authors, self.keep_mentions))
        metrics = post.metrics
        parts = []
        for value, word in (
            (metrics.likes, "like"),
            (metrics.reposts, "repost"),
            (metrics.replies, "reply"),
        ):
            if value:
                plural = "replies" if word == "reply" else f"{word}s"
                parts.append(f"{compact(value)} {word if value == 1 else plural}")
        if post.media:
            kinds = {m.kind for m in post.media}
            parts.append("video" if "video" in kinds else "photo")
        if extra:
            parts.insert(0, extra)
        self.counts.setText("   ·   ".join(parts))
        self.counts.setVisible(bool(parts))

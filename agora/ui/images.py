"""Avatars and post images, fetched off the GUI thread and kept in a small bounded cache.

:class:`ImageLoader` downloads with ``httpx`` in a few worker threads, decodes into a
``QImage`` there (scaled down on decode, never bigger than :attr:`ImageLoader.max_side`), keeps
the newest images in an LRU cache bounded by count and bytes, and announces each arrival with
:attr:`ImageLoader.image_ready` (delivered on the GUI thread, since the loader lives there).
Picture URLs are written by strangers: every download goes through
:class:`agora.netguard.GuardedFetcher` (public addresses only unless ``[wall] picture_hosts``
lists the host, the address checked is the one connected to, every redirect checked, one deadline
of a few seconds for the whole download, at most 5 MiB read). A refused URL, a response larger
than 5 MiB, a download past its deadline or an undecodable body marks the URL failed for a while,
so a broken avatar never causes a retry storm.
With a ``cache_dir`` the downloaded bytes are also kept on disk (bounded by
:attr:`ImageLoader.max_disk_bytes`, least recently used files go first), so a restarted wall does
not fetch the same avatars again.

:class:`Avatar` and :class:`PostImage` are the widgets that show them; without a loader
(``context.images is None``) an avatar is a coloured circle with the author's initials and a post
image is simply not shown. A picture that cannot be had (refused, broken, too large) shows a
quiet placeholder instead (:attr:`ImageLoader.image_failed`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QImageReader,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

if TYPE_CHECKING:
    # the guard (and httpx under it) is imported when a picture is first asked for: a wall
    # without pictures (the demo) never pays for it, and no wall before its first frame
    from agora.netguard import HostSource
from agora.ui.theme import Theme
from agora.ui.timefmt import initials

log = logging.getLogger("agora.ui.images")

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
"""Refuse to decode images claiming more pixels than this (decompression bombs)."""
AVATAR_COLORS = ("#2F6690", "#3A7D44", "#8E5572", "#B5651D", "#4F5D75", "#6A4C93", "#1B998B")

Fetcher = Callable[[str], bytes]


class ImageError(Exception):
    """An image could not be fetched or decoded."""


def allowed_url(url: str | None) -> bool:
    """Only absolute ``http``/``https`` URLs with a host are ever fetched (where they lead is
    checked at download time)."""
    from agora.netguard import split_web_url

    return split_web_url(url) is not None


def decode_image(data: bytes, max_side: int) -> QImage:
    """Decode ``data`` into a QImage no larger than ``max_side`` on its longer side."""
    array = QByteArray(data)
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    # a header may lie or say nothing about the size: Qt refuses to allocate more than this anyway
    reader.setAllocationLimit(max(1, MAX_PIXELS * 4 // (1024 * 1024)))
    size = reader.size()
    if size.isValid():
        if size.width() * size.height() > MAX_PIXELS:
            raise ImageError(f"image too large ({size.width()}x{size.height()})")
        longest = max(size.width(), size.height())
        if longest > max_side:
            factor = max_side / longest
            reader.setScaledSize(
                QSize(max(1, round(size.width() * factor)), max(1, round(size.height() * factor)))
            )
    image = reader.read()
    buffer.close()
    if image.isNull():
        raise ImageError(f"cannot decode image: {reader.errorString()}")
    if max(image.width(), image.height()) > max_side:  # formats that cannot scale on decode
        image = image.scaled(
            max_side,
            max_side,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return image


class ImageLoader(QObject):
    """Fetches images in worker threads; a bounded LRU cache of decoded ``QImage``.

    Create it on the GUI thread. ``image(url)`` returns the cached image or ``None`` (and starts
    the download once); when it arrives :attr:`image_ready` is emitted with the URL and image.
    """

    image_ready = Signal(str, QImage)
    image_failed = Signal(str)
    """A URL that could not be fetched or decoded (its placeholder stays)."""
    _arrived = Signal(str, object)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        max_entries: int = 64,
        max_cache_bytes: int = 96 * 1024 * 1024,
        max_side: int = 1024,
        max_bytes: int = MAX_BYTES,
        deadline_s: float = 5.0,
        max_redirects: int = 3,
        picture_hosts: HostSource = (),
        retry_after_s: float = 600.0,
        workers: int = 3,
        fetcher: Fetcher | None = None,
        user_agent: str = "Agora wall (image loader)",
        cache_dir: Path | None = None,
        max_disk_bytes: int = 256 * 1024 * 1024,
    ) -> None:
        super().__init__(parent)
        self.cache_dir = cache_dir
        self.max_disk_bytes = max_disk_bytes
        self._disk_bytes: int | None = None  # counted on first write
        self._disk_lock = threading.Lock()
        self.max_entries = max_entries
        self.max_cache_bytes = max_cache_bytes
        self.max_side = max_side
        self.max_bytes = max_bytes
        self.deadline_s = deadline_s
        self.retry_after_s = retry_after_s
        self._cache: OrderedDict[str, QImage] = OrderedDict()
        self._cache_bytes = 0
        self._failed: OrderedDict[str, float] = OrderedDict()
        self._pending: set[str] = set()
        self._closed = False
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agora-images")
        from agora.netguard import GuardedFetcher

        # a slow server costs one worker for at most ``deadline_s`` (the whole download, not a read)
        self._guard = GuardedFetcher(
            hosts=picture_hosts,
            deadline_s=deadline_s,
            max_bytes=max_bytes,
            max_redirects=max_redirects,
            user_agent=user_agent,
            accept="image/*",
        )
        self._refused_hosts: OrderedDict[str, None] = OrderedDict()
        self._fetcher = fetcher or self._guard.get
        # a queued connection: the worker emits, the GUI thread stores and announces
        self._arrived.connect(self._on_arrived, Qt.ConnectionType.QueuedConnection)

    # -- public ------------------------------------------------------------------------------

    def image(self, url: str | None) -> QImage | None:
        """The cached image for ``url``, else ``None`` (and the download starts, once)."""
        if not allowed_url(url) or self._closed:
            return None
        assert url is not None
        cached = self._cache.get(url)
        if cached is not None:
            self._cache.move_to_end(url)
            return cached
        if url in self._pending:
            return None
        failed_at = self._failed.get(url)
        if failed_at is not None and time.monotonic() - failed_at < self.retry_after_s:
            return None
        self._pending.add(url)
        try:
            self._pool.submit(self._work, url)
        except RuntimeError:  # pool shut down
            self._pending.discard(url)
        return None

    def failed(self, url: str) -> bool:
        """True while ``url`` is remembered as failed."""
        return url in self._failed

    def cached(self, url: str) -> bool:
        """True when ``url`` is in the cache."""
        return url in self._cache

    @property
    def cache_bytes(self) -> int:
        """Bytes held by cached images."""
        return self._cache_bytes

    def __len__(self) -> int:
        return len(self._cache)

    def close(self) -> None:
        """Stop: pending downloads are dropped, those under way are cut."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._guard.close()

    # -- worker side -------------------------------------------------------------------------

    def _work(self, url: str) -> None:
        result: QImage | Exception
        try:
            if self._closed:
                return
            image = None
            kept = self._from_disk(url)
            if kept is not None:
                try:
                    image = decode_image(kept, self.max_side)
                except ImageError:  # a damaged file: fetched again below
                    self._forget_on_disk(url)
            if image is None:
                data = self._fetcher(url)
                if len(data) > self.max_bytes:
                    raise ImageError("too large")
                image = decode_image(data, self.max_side)
                self._to_disk(url, data)
            result = image
        except Exception as error:  # every failure is remembered, none is raised
            result = error
        if not self._closed:
            # RuntimeError: the loader was deleted meanwhile
            with contextlib.suppress(RuntimeError):
                self._arrived.emit(url, result)

    # -- disk cache (worker side; a disk problem only costs a download) -------------------------

    def disk_path(self, url: str) -> Path | None:
        """Where the bytes of ``url`` are kept on disk (``None`` without a cache directory)."""
        if self.cache_dir is None:
            return None
        # salted: bytes kept before downloads were guarded (possibly from the wall's own network)
        # are never read back
        key = hashlib.sha256(b"guarded\0" + url.encode("utf-8")).hexdigest()[:40]
        return self.cache_dir / (key + ".img")

    def _from_disk(self, url: str) -> bytes | None:
        path = self.disk_path(url)
        if path is None:
            return None
        try:
            data = path.read_bytes()
            os.utime(path)  # recently used: pruned last
        except OSError:
            return None
        return data if 0 < len(data) <= self.max_bytes else None

    def _forget_on_disk(self, url: str) -> None:
        path = self.disk_path(url)
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()

    def _to_disk(self, url: str, data: bytes) -> None:
        path = self.disk_path(url)
        if path is None or len(data) > self.max_disk_bytes:
            return
        part: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, part = tempfile.mkstemp(dir=path.parent, suffix=".part")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(part, path)
        except OSError as exc:  # full, read-only, removed: the image is simply not kept
            log.debug("image cache: could not keep %s on disk: %s", url, exc)
            if part is not None:
                with contextlib.suppress(OSError):
                    os.unlink(part)
            return
        with self._disk_lock:
            if self._disk_bytes is None:
                self._disk_bytes = sum(size for _, size, _ in self._disk_files())
            else:
                self._disk_bytes += len(data)
            if self._disk_bytes > self.max_disk_bytes:
                self._prune_disk(keep=path)

    def _disk_files(self) -> list[tuple[float, int, Path]]:
        files: list[tuple[float, int, Path]] = []
        if self.cache_dir is None:
            return files
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.cache_dir):
                if entry.name.endswith((".img", ".part")) and entry.is_file():
                    with contextlib.suppress(OSError):
                        info = entry.stat()
                        files.append((info.st_mtime, info.st_size, Path(entry.path)))
        return files

    def _prune_disk(self, keep: Path) -> None:
        """Remove the least recently used files (``keep``, just written, stays) until the cache
        is at 80 % of its bound."""
        files = sorted(self._disk_files())
        total = sum(size for _, size, _ in files)
        goal = self.max_disk_bytes * 0.8
        for _, size, path in files:
            if total <= goal:
                break
            if path == keep:
                continue
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size
        self._disk_bytes = total

    @property
    def disk_bytes(self) -> int:
        """Bytes of the files in the disk cache (counted now)."""
        return sum(size for _, size, _ in self._disk_files())

    # -- GUI side ----------------------------------------------------------------------------

    def _on_arrived(self, url: str, result: object) -> None:
        self._pending.discard(url)
        if not isinstance(result, QImage):
            self._log_failure(url, result)
            self._failed[url] = time.monotonic()
            self._failed.move_to_end(url)
            while len(self._failed) > 1024:
                self._failed.popitem(last=False)
            self.image_failed.emit(url)
            return
        self._failed.pop(url, None)
        self._store(url, result)
        self.image_ready.emit(url, result)

    def _log_failure(self, url: str, error: object) -> None:
        """Refusals are logged once per host at info level (an operator whose own CDN is refused
        learns of ``picture_hosts``); every other failure at debug level."""
        from agora.netguard import RefusedError, split_web_url

        host = split_web_url(url)
        if isinstance(error, RefusedError) and host is not None:
            if host.host not in self._refused_hosts:
                log.info("picture refused: %s", error)
                self._refused_hosts[host.host] = None
                while len(self._refused_hosts) > 256:
                    self._refused_hosts.popitem(last=False)
            return
        log.debug("image %s failed: %s", url, error)

    def _store(self, url: str, image: QImage) -> None:
        old = self._cache.pop(url, None)
        if old is not None:
            self._cache_bytes -= old.sizeInBytes()
        self._cache[url] = image
        self._cache_bytes += image.sizeInBytes()
        while self._cache and (
            len(self._cache) > self.max_entries or self._cache_bytes > self.max_cache_bytes
        ):
            _, dropped = self._cache.popitem(last=False)
            self._cache_bytes -= dropped.sizeInBytes()


def avatar_color(handle: str) -> QColor:
    """A stable colour for an author (from a hash of the handle)."""
    digest = hashlib.blake2s(handle.encode("utf-8", "replace"), digest_size=2).digest()
    return QColor(AVATAR_COLORS[digest[0] % len(AVATAR_COLORS)])


class Avatar(QWidget):
    """A round avatar: the picture once it has arrived, else initials on a colour from the handle."""

    def __init__(
        self,
        theme: Theme,
        diameter: int,
        loader: ImageLoader | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.theme = theme
        self.loader = loader
        self._initials = "?"
        self._color = avatar_color("")
        self._image: QImage | None = None
        self._url: str | None = None
        self.setFixedSize(diameter, diameter)
        if loader is not None:
            loader.image_ready.connect(self._on_image)

    @property
    def initials(self) -> str:
        """The letters shown while there is no picture."""
        return self._initials

    @property
    def has_image(self) -> bool:
        """True when the picture is shown."""
        return self._image is not None

    def set_author(self, name: str, handle: str, url: str | None = None) -> None:
        """Show this author (initials until the picture, if any, arrives)."""
        letters = initials(name, handle)
        color = avatar_color(handle)
        changed = letters != self._initials or color != self._color or url != self._url
        self._initials = letters
        self._color = color
        if url != self._url:
            self._url = url
            self._image = None
            if self.loader is not None and url:
                self._image = self.loader.image(url)
        if changed:
            self.update()

    def _on_image(self, url: str, image: QImage) -> None:
        if url == self._url:
            self._image = image
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """The clipped picture, or the initials on a colour."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        rect = QRectF(self.rect())
        if self._image is not None and not self._image.isNull():
            path = QPainterPath()
            path.addEllipse(rect)
            painter.setClipPath(path)
            painter.drawImage(rect, self._image, _cover(self._image, rect))
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._color)
            painter.drawEllipse(rect)
            font = QFont(self.theme.font_family)
            share = 0.42 if len(self._initials) < 2 else 0.36
            font.setPixelSize(max(8, int(rect.height() * share)))
            font.setWeight(QFont.Weight.Bold)
            painter.setFont(font)
            painter.setPen(QColor("#FFFFFF"))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self._initials)
        painter.end()

    def sizeHint(self) -> QSize:  # noqa: N802
        """Its fixed size."""
        return self.size()


def _placeholder(painter: QPainter, rect: QRectF, theme: Theme) -> None:
    """A rounded panel with a small picture frame drawn in the muted colour."""
    radius = float(theme.px(12))
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(theme.surface_alt))
    painter.drawRoundedRect(rect, radius, radius)
    side = min(rect.width(), rect.height()) * 0.3
    if side < 8:
        return
    frame = QRectF(rect.center().x() - side / 2, rect.center().y() - side * 0.4, side, side * 0.8)
    pen = QPen(QColor(theme.muted))
    pen.setWidthF(max(1.0, side / 16))
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(frame, side / 10, side / 10)
    mountain = QPainterPath()
    mountain.moveTo(frame.left() + side * 0.1, frame.bottom() - side * 0.1)
    mountain.lineTo(frame.left() + side * 0.4, frame.top() + side * 0.35)
    mountain.lineTo(frame.left() + side * 0.6, frame.bottom() - side * 0.25)
    mountain.lineTo(frame.left() + side * 0.75, frame.top() + side * 0.45)
    mountain.lineTo(frame.right() - side * 0.1, frame.bottom() - side * 0.1)
    painter.drawPath(mountain)


def _cover(image: QImage, target: QRectF) -> QRectF:
    """The part of ``image`` that covers ``target`` at the same aspect (centre crop)."""
    iw, ih = float(image.width()), float(image.height())
    if iw <= 0 or ih <= 0 or target.width() <= 0 or target.height() <= 0:
        return QRectF(0, 0, iw, ih)
    aspect = target.width() / target.height()
    if iw / ih > aspect:
        width = ih * aspect
        return QRectF((iw - width) / 2, 0, width, ih)
    height = iw / aspect
    return QRectF(0, (ih - height) / 2, iw, height)


class PostImage(QWidget):
    """A post's picture in a rounded box (centre-cropped to fill it); a placeholder until it
    arrives, and for good when it cannot be had."""

    def __init__(
        self, theme: Theme, loader: ImageLoader | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.theme = theme
        self.loader = loader
        self._url: str | None = None
        self._image: QImage | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        if loader is not None:
            loader.image_ready.connect(self._on_image)
            loader.image_failed.connect(self._on_failed)

    @property
    def has_image(self) -> bool:
        """True when a picture is there to show."""
        return self._image is not None and not self._image.isNull()

    def set_url(self, url: str | None) -> None:
        """Show the picture at ``url`` (when a loader is set and the download succeeds)."""
        if url == self._url:
            return
        self._url = url
        self._image = self.loader.image(url) if (self.loader is not None and url) else None
        self.update()

    @property
    def url(self) -> str | None:
        """The URL of the picture this widget shows (or waits for)."""
        return self._url

    @property
    def broken(self) -> bool:
        """True when the picture could not be had (a placeholder is shown instead)."""
        return (
            not self.has_image
            and self._url is not None
            and (self.loader is None or not allowed_url(self._url) or self.loader.failed(self._url))
        )

    def _on_image(self, url: str, image: QImage) -> None:
        if url == self._url:
            self._image = image
            self.update()
            parent = self.parentWidget()
            if parent is not None:
                parent.updateGeometry()

    def _on_failed(self, url: str) -> None:
        if url == self._url:
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """The cropped picture with rounded corners; a quiet placeholder while it loads and
        when it cannot be had."""
        if not self.has_image:
            if self._url is not None:
                self._paint_placeholder()
            return
        assert self._image is not None
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        rect = QRectF(self.rect())
        radius = float(self.theme.px(12))
        path = QPainterPath()
        path.addRoundedRect(rect, radius, radius)
        painter.setClipPath(path)
        painter.drawImage(rect, self._image, _cover(self._image, rect))
        painter.end()

    def _paint_placeholder(self) -> None:
        painter = QPainter(self)
        _placeholder(painter, QRectF(self.rect()), self.theme)
        painter.end()


__all__ = [
    "MAX_BYTES",
    "Avatar",
    "ImageError",
    "ImageLoader",
    "PostImage",
    "allowed_url",
    "avatar_color",
    "decode_image",
]

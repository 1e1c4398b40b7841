"""Live preview: a page rendered as the wall renders it, at the screen's real aspect ratio.

The picture comes from :func:`agora.ui.render.page_picture` (what ``agora snapshot`` draws),
fed a snapshot of the current data — the wall's store read by the console, or the config's
offline sources — enriched with the config being edited, so a new topic or rule shows at once.
The data is rebuilt on a worker thread when the topics, rules or windows change; the page is
drawn again (on the GUI thread, off screen) a moment after each change.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QPixmap, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from agora.config.loader import LoadedConfig
from agora.console.model import ConfigModel
from agora.console.worker import run_in_background
from agora.engine import panel_windows
from agora.reading.stored import PreviewData, WallData, preview_snapshot

log = logging.getLogger("agora.console")

#: Sizes offered besides the screen's own (logical pixels).
SIZES: tuple[tuple[int, int], ...] = (
    (1920, 1080),
    (3840, 2160),
    (1080, 1920),
    (1366, 768),
    (1280, 1024),
)
#: Pages are laid out at most this wide for the preview (a 4K page looks the same at half size:
#: the theme scales with the screen).
RENDER_WIDTH = 1920
RENDER_DELAY_MS = 350


def screen_size(output: int | str) -> tuple[int, int] | None:
    """The size of the machine's screen a configured ``output`` names, when it is attached."""
    screens = QGuiApplication.screens()
    if isinstance(output, int):
        found = screens[output] if 0 <= output < len(screens) else None
    else:
        wanted = output.strip().casefold()
        found = next((s for s in screens if s.name().casefold() == wanted), None)
    if found is None:
        return None
    size = found.geometry().size()
    return size.width(), size.height()


class _Picture(QLabel):
    """The rendered page, scaled to fit with its aspect ratio kept."""

    def __init__(self) -> None:
        super().__init__()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(160, 90)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.source: QPixmap | None = None

    def set_picture(self, picture: QPixmap | None) -> None:
        self.source = picture
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self.source is None or self.source.isNull():
            self.setPixmap(QPixmap())
            return
        target = self.size() - QSize(4, 4)
        if target.width() < 10 or target.height() < 10:
            return
        self.setPixmap(
            self.source.scaled(
                target,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )


class PreviewPane(QWidget):
    """The preview of one page of one screen."""

    rendered = Signal()

    def __init__(self, model: ConfigModel, wall_data: WallData | None) -> None:
        super().__init__()
        self.model = model
        self.wall_data = wall_data
        self.screen_index = 0
        self.page_index = 0
        self.size_box = QComboBox()
        self.size_box.setObjectName("preview-size")
        self.size_box.setToolTip("The screen's size: the preview keeps its aspect ratio")
        self.size_box.addItem("screen's own size", "")
        for width, height in SIZES:
            # text data: Qt compares Python tuples in item data by identity
            self.size_box.addItem(f"{width}×{height}", f"{width}x{height}")
        self.size_box.currentIndexChanged.connect(lambda _i: self.schedule())
        self.data_box = QComboBox()
        self.data_box.setObjectName("preview-data")
        self.data_box.addItem("wall's store", "store")
        self.data_box.addItem("offline sources", "offline")
        self.data_box.setToolTip(
            "The posts shown: what the running wall stored, or what the config's offline sources "
            "(jsonl files, the simulator) hold"
        )
        self.data_box.currentIndexChanged.connect(lambda _i: self.refresh_data())
        if wall_data is None:
            self.data_box.setCurrentIndex(1)
            self.data_box.setEnabled(False)
        refresh = QPushButton("Refres&h")
        refresh.setToolTip("Read the data again and render the page")
        refresh.clicked.connect(self.refresh_data)
        self.refresh_button = refresh
        self.picture = _Picture()
        self.picture.setObjectName("preview-picture")
        self.status = QLabel("")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        size_label = QLabel("Si&ze")
        size_label.setBuddy(self.size_box)
        data_label = QLabel("&Data")
        data_label.setBuddy(self.data_box)
        controls.addWidget(size_label)
        controls.addWidget(self.size_box, 1)
        controls.addWidget(data_label)
        controls.addWidget(self.data_box, 1)
        controls.addWidget(refresh)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.status)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RENDER_DELAY_MS)
        self._timer.timeout.connect(self.render_now)
        self._data: PreviewData | None = None
        self._data_key: str | None = None
        self._building: str | None = None
        self._rendering = False
        self._stale = True
        self.renders = 0
        self.last_size: tuple[int, int] | None = None
        model.validated.connect(self.schedule)

    # -- what to show -----------------------------------------------------------------------

    def show_page(self, screen: int, page: int) -> None:
        """Preview page ``page`` of screen ``screen``."""
        if (screen, page) != (self.screen_index, self.page_index):
            self.screen_index, self.page_index = screen, page
            self.schedule()

    def schedule(self) -> None:
        """Render again shortly (changes come in bursts while typing)."""
        self._stale = True
        if self.isVisible():
            self._timer.start()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self._timer.start()

    def refresh_data(self) -> None:
        """Forget the data and read it again."""
        self._data_key = None
        self._data = None
        self.schedule()

    def target_size(self, loaded: LoadedConfig) -> tuple[int, int]:
        """The page's size in logical pixels: the chosen one or the screen's own."""
        chosen = str(self.size_box.currentData() or "")
        if "x" in chosen:
            width, height = chosen.split("x")
            return int(width), int(height)
        screens = loaded.config.screens
        if 0 <= self.screen_index < len(screens):
            found = screen_size(screens[self.screen_index].output)
            if found is not None:
                return found
        return 1920, 1080

    def _data_key_for(self, loaded: LoadedConfig) -> str:
        config = loaded.config
        parts: dict[str, Any] = {
            "topics": config.model_dump(mode="json")["topics"],
            "analytics": config.analytics.model_dump(mode="json"),
            "moderation": config.moderation.model_dump(mode="json"),
            "tz": config.wall.timezone,
            "windows": list(panel_windows(config)),
            "data": self.data_box.currentData(),
        }
        if self.data_box.currentData() == "offline":
            parts["sources"] = [s.model_dump(mode="json") for s in config.sources]
        return json.dumps(parts, sort_keys=True, default=str)

    # -- rendering --------------------------------------------------------------------------

    def render_now(self) -> None:
        """Render the page now (or start building its data first)."""
        if self._rendering:
            self._timer.start()
            return
        loaded = self.model.loaded if self.model.valid else self.model.last_good
        if loaded is None:
            self.status.setText("No preview until the config loads (see the problems below).")
            return
        key = self._data_key_for(loaded)
        if key != self._data_key or self._data is None:
            self._build_data(loaded, key)
            return
        config = loaded.config
        if not config.screens:
            self.picture.set_picture(None)
            self.picture.setText("No [[screens]] yet: add a screen to preview it.")
            return
        screen = min(self.screen_index, len(config.screens) - 1)
        pages = config.screens[screen].pages
        page = min(self.page_index, len(pages) - 1)
        width, height = self.target_size(loaded)
        scale = min(1.0, RENDER_WIDTH / width)
        size = (max(64, round(width * scale)), max(64, round(height * scale)))
        from agora.ui.render import page_picture

        self._rendering = True
        started = time.perf_counter()
        try:
            picture = page_picture(
                config,
                self._data.snapshot,
                screen=screen,
                page=page,
                size=size,
                on_screen=False,
            )
        except Exception as exc:
            log.exception("console: the preview could not be rendered")
            self.picture.set_picture(None)
            self.status.setText(f"The preview could not be rendered: {exc}")
            return
        finally:
            self._rendering = False
        self._stale = False
        self.renders += 1
        self.last_size = (width, height)
        self.picture.set_picture(picture)
        note = "" if self.model.valid else " — the config has problems: this is the last good one"
        name = config.screens[screen].pages[page].name or f"page {page + 1}"
        self.status.setText(
            f"Screen {screen + 1}, {name}, {width}×{height}: {self._data.origin}; rendered in "
            f"{time.perf_counter() - started:.1f} s{note}"
        )
        self.rendered.emit()

    def _build_data(self, loaded: LoadedConfig, key: str) -> None:
        if self._building == key:
            return
        self._building = key
        self.status.setText("Reading the data for the preview…")
        use_store = self.data_box.currentData() == "store" and self.wall_data is not None
        wall_data = self.wall_data

        def work() -> PreviewData:
            posts = None
            decisions: list[Any] = []
            if use_store and wall_data is not None:
                view = wall_data.read()
                decisions = view.decisions
                posts = wall_data.history() or None
            return preview_snapshot(loaded, posts, decisions)

        def done(result: object) -> None:
            if self._building != key:
                return
            self._building = None
            assert isinstance(result, PreviewData)
            self._data, self._data_key = result, key
            self.render_now()

        def failed(error: BaseException) -> None:
            self._building = None
            self.status.setText(f"The preview's data could not be read: {error}")

        run_in_background(work, done, failed)

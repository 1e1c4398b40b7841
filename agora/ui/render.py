"""``agora snapshot``: render one page of one screen offscreen to a PNG.

The page is built exactly as the wall builds it, fed the snapshot the command made (what the
configured offline sources hold, or with ``--data-dir`` what the wall's store holds; see
:mod:`agora.reading.offline`), laid out at the requested size and device pixel ratio, and grabbed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, QPoint, Qt
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from agora.config.loader import LoadedConfig
from agora.config.schema import WallConfig
from agora.core.snapshot import Snapshot
from agora.ui.app import wall_theme
from agora.ui.page import PageWidget
from agora.ui.panels import PanelContext
from agora.ui.qtlog import route_qt_messages

log = logging.getLogger("agora.ui.render")


def _settle(rounds: int = 5) -> None:
    for _ in range(rounds):
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def render_page(
    loaded: LoadedConfig,
    snapshot: Snapshot,
    *,
    screen: int,
    page: int,
    size: tuple[int, int],
    out: Path,
    dpr: float = 1.0,
) -> Path:
    """Render page ``page`` of configured screen ``screen`` at ``size`` (logical pixels)."""
    config = loaded.config
    if not config.screens:
        raise ValueError(f"{loaded.path}: no [[screens]] configured")
    picture = page_picture(config, snapshot, screen=screen, page=page, size=size, dpr=dpr)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not picture.save(str(out), "PNG"):
        raise OSError(f"could not write {out}")
    return out


def page_picture(
    config: WallConfig,
    snapshot: Snapshot,
    *,
    screen: int,
    page: int,
    size: tuple[int, int],
    dpr: float = 1.0,
    on_screen: bool = True,
) -> QPixmap:
    """A picture of page ``page`` of configured screen ``screen`` at ``size`` (logical pixels),
    built as the wall builds it. ``on_screen=False`` lays the page out without ever showing it
    (the console's live preview on a desktop)."""
    if not 0 <= screen < len(config.screens):
        raise ValueError(f"screen {screen} is not configured (0–{len(config.screens) - 1})")
    pages = config.screens[screen].pages
    if not 0 <= page < len(pages):
        raise ValueError(f"screen {screen} has no page {page} (0–{len(pages) - 1})")
    route_qt_messages()
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    theme = wall_theme(config).scaled(*size)
    context = PanelContext(wall=config, theme=theme, clock=lambda: snapshot.now)
    widget = PageWidget(pages[page], context)
    if not on_screen:
        widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    palette = widget.palette()
    palette.setColor(widget.backgroundRole(), theme.color("background"))
    widget.setPalette(palette)
    widget.setAutoFillBackground(True)
    widget.resize(*size)
    widget.show()
    _settle()
    widget.apply(snapshot)
    _settle()
    widget.apply(snapshot)
    picture = widget.grab() if dpr == 1.0 else _grab_scaled(widget, dpr)
    widget.close()
    widget.deleteLater()
    _settle(1)
    return picture


def _grab_scaled(widget: PageWidget, dpr: float) -> QPixmap:
    pixmap = QPixmap(int(widget.width() * dpr), int(widget.height() * dpr))
    pixmap.setDevicePixelRatio(dpr)
    # no widget of a page carries a QGraphicsEffect (the fades paint pictures of their own), which
    # QWidget.render() into a scaled device would draw at a scaled-up offset
    painter = QPainter(pixmap)
    try:
        widget.render(painter, QPoint(0, 0))
    finally:
        painter.end()
    return pixmap

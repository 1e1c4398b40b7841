"""Panel kinds, registered in :data:`PANEL_MODULES` by their ``kind``.

``posts`` holds the panels that show posts (featured, river, ticker, care); ``volume``,
``sentiment`` and ``share`` the charts (drawn with pyqtgraph, helpers in :mod:`agora.ui.charts`);
``info`` the figures and lists (trending, authors, kpis, sources, header, alert); ``parts`` has
the pieces they share.
"""

from __future__ import annotations

import importlib
import logging

from agora.ui.panels.base import Panel, PanelContext

log = logging.getLogger("agora.ui.panels")

#: kind → "module:Class" (imported lazily so one broken panel module cannot stop the wall)
PANEL_MODULES: dict[str, str] = {
    "featured": "agora.ui.panels.posts:FeaturedPanel",
    "river": "agora.ui.panels.posts:RiverPanel",
    "ticker": "agora.ui.panels.posts:TickerPanel",
    "care": "agora.ui.panels.posts:CarePanel",
    "volume": "agora.ui.panels.volume:VolumePanel",
    "sentiment": "agora.ui.panels.sentiment:SentimentPanel",
    "share": "agora.ui.panels.share:SharePanel",
    "trending": "agora.ui.panels.info:TrendingPanel",
    "authors": "agora.ui.panels.info:AuthorsPanel",
    "kpis": "agora.ui.panels.info:KpisPanel",
    "sources": "agora.ui.panels.info:SourcesPanel",
    "header": "agora.ui.panels.info:HeaderPanel",
    "alert": "agora.ui.panels.info:AlertPanel",
}


def panel_class(kind: str) -> type[Panel]:
    """The class implementing a panel kind. Raises ``LookupError`` for an unknown kind."""
    target = PANEL_MODULES.get(kind)
    if target is None:
        raise LookupError(f"unknown panel kind {kind!r}")
    module_name, _, class_name = target.partition(":")
    module = importlib.import_module(module_name)
    cls = getattr(module, class_name)
    if not (isinstance(cls, type) and issubclass(cls, Panel)):
        raise LookupError(f"{target} is not a Panel")
    return cls


__all__ = ["PANEL_MODULES", "Panel", "PanelContext", "panel_class"]

"""Panel kinds: one module per kind, registered in :data:`PANEL_CLASSES` by its ``kind``."""

from __future__ import annotations

import importlib
import logging

from agora.ui.panels.base import Panel, PanelContext

log = logging.getLogger("agora.ui.panels")

#: kind → "module:Class" (imported lazily so one broken panel module cannot stop the wall)
PANEL_MODULES: dict[str, str] = {
    "featured": "agora.ui.panels.featured:FeaturedPanel",
    "river": "agora.ui.panels.river:RiverPanel",
    "ticker": "agora.ui.panels.ticker:TickerPanel",
    "care": "agora.ui.panels.care:CarePanel",
    "volume": "agora.ui.panels.volume:VolumePanel",
    "sentiment": "agora.ui.panels.sentiment:SentimentPanel",
    "share": "agora.ui.panels.share:SharePanel",
    "trending": "agora.ui.panels.trending:TrendingPanel",
    "authors": "agora.ui.panels.authors:AuthorsPanel",
    "kpis": "agora.ui.panels.kpis:KpisPanel",
    "sources": "agora.ui.panels.sources:SourcesPanel",
    "header": "agora.ui.panels.header:HeaderPanel",
    "alert": "agora.ui.panels.alert:AlertPanel",
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

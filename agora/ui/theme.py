"""Colours, fonts and sizes of the wall, relative to the screen so text reads from four metres.

Every size in the UI is given in *reference pixels*: pixels of a 1920×1080 screen. :meth:`Theme.px`
scales them to the screen a window is on (logical pixels, so a 4K screen at device pixel ratio 2
gets the same layout, drawn sharper). Sentiment colours are blue / grey / orange, which
colour-blind viewers tell apart, and every sentiment figure also carries a sign or a word.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6.QtGui import QColor, QFont

from agora.config.theme import ThemeFileError, is_theme_file, read_theme_file

log = logging.getLogger("agora.ui.theme")

#: Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
TOPIC_PALETTE = (
    "#56B4E9",  # sky blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
)

#: Reference font sizes (px at 1080 lines). Body text on a wall is never smaller than ``small``.
SIZES = {
    "small": 24,
    "body": 30,
    "post": 40,
    "title": 26,
    "heading": 34,
    "number": 96,
    "huge": 150,
    "ticker": 34,
    "header": 44,
}


@dataclass(frozen=True, slots=True)
class Theme:
    """A wall's look. Immutable; :meth:`scaled` makes the per-screen copy."""

    name: str = "dark"
    background: str = "#0B0F17"
    surface: str = "#151B26"
    surface_alt: str = "#1D2533"
    text: str = "#F2F4F8"
    muted: str = "#9AA4B5"
    accent: str = "#56B4E9"
    positive: str = "#3D8FD9"
    neutral: str = "#8A93A3"
    negative: str = "#F28E2B"
    alert: str = "#F28E2B"
    border: str = "#263043"
    font_family: str = "DejaVu Sans"
    font_scale: float = 1.0
    scale: float = 1.0
    """Screen factor: logical screen height / 1080 (set by :meth:`scaled`)."""
    topic_colors: dict[str, str] = field(default_factory=dict)

    def scaled(self, logical_width: int, logical_height: int) -> Theme:
        """The copy of this theme for a screen of that logical size."""
        factor = min(logical_width / 1920.0, logical_height / 1080.0)
        return replace(self, scale=max(0.35, factor))

    def px(self, reference: float) -> int:
        """Reference pixels (at 1920×1080) in this screen's logical pixels."""
        return max(1, round(reference * self.scale))

    def font(self, size: str | float = "body", *, bold: bool = False, light: bool = False) -> QFont:
        """A font of a named size (see :data:`SIZES`) or a reference pixel size."""
        reference = SIZES[size] if isinstance(size, str) else float(size)
        font = QFont(self.font_family)
        font.setPixelSize(max(8, round(reference * self.scale * self.font_scale)))
        if bold:
            font.setWeight(QFont.Weight.Bold)
        elif light:
            font.setWeight(QFont.Weight.Light)
        font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
        return font

    def color(self, name: str) -> QColor:
        """A theme colour by attribute name (``"text"``, ``"negative"``…) or ``#rrggbb``."""
        value = name if name.startswith("#") else getattr(self, name)
        return QColor(value)

    def sentiment_color(self, label: str | None) -> QColor:
        """Colour of a sentiment label; grey for ``None`` (unscored)."""
        if label == "positive":
            return QColor(self.positive)
        if label == "negative":
            return QColor(self.negative)
        return QColor(self.neutral)

    def topic_color(self, key: str, index: int) -> QColor:
        """Colour of a topic: configured, else from the palette by position."""
        return QColor(self.topic_colors.get(key) or TOPIC_PALETTE[index % len(TOPIC_PALETTE)])


DARK = Theme()
LIGHT = Theme(
    name="light",
    background="#F4F6FA",
    surface="#FFFFFF",
    surface_alt="#E9EDF4",
    text="#121722",
    muted="#5A6474",
    accent="#0072B2",
    positive="#1F6FB8",
    neutral="#7B8494",
    negative="#D55E00",
    alert="#D55E00",
    border="#D5DBE5",
)


def theme_for(name: str, topic_colors: dict[str, str] | None = None) -> Theme:
    """The theme ``name`` (``dark``, ``light`` or a theme file's path) with the config's topic
    colours. A theme file that cannot be read gives the dark theme and a log line, never a crash."""
    base = LIGHT if name == "light" else DARK
    if is_theme_file(name):
        try:
            spec = read_theme_file(Path(name))
        except ThemeFileError as exc:
            log.warning("theme: %s; using the dark theme", exc)
        else:
            base = LIGHT if spec.base == "light" else DARK
            colours: dict[str, Any] = dict(spec.colours)
            base = replace(base, name=Path(name).stem, **colours)
            if spec.font_family:
                base = replace(base, font_family=spec.font_family)
    return replace(base, topic_colors=dict(topic_colors or {}))

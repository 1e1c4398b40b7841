"""The wall's themes: built-in, from a theme file, and a broken file falling back calmly."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agora.ui.theme import DARK, LIGHT, theme_for


def test_theme_file_overrides_its_base(tmp_path: Path) -> None:
    path = tmp_path / "brand.toml"
    path.write_text('base = "light"\naccent = "#FFB000"\nfont_family = "Inter"\n')
    theme = theme_for(str(path), {"brand": "#123456"})
    assert theme.accent == "#FFB000" and theme.font_family == "Inter"
    assert theme.background == LIGHT.background
    assert theme.topic_colors == {"brand": "#123456"}


def test_broken_theme_file_gives_the_dark_theme_and_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("accent = 12\n")
    with caplog.at_level(logging.WARNING, "agora.ui.theme"):
        theme = theme_for(str(path))
    assert theme.background == DARK.background and theme.accent == DARK.accent
    assert "not a colour" in caplog.text

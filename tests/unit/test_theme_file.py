"""Theme files: validated by `agora check`, resolved against the config that names them."""

from __future__ import annotations

from pathlib import Path

import pytest

from agora.config.loader import ConfigError, check_config, load_config
from agora.config.theme import ThemeFileError, read_theme_file

WALL = """\
[wall]
name = "Lobby"
theme = "{theme}"
[topics.brand]
terms = ["nokia"]
"""


def test_a_theme_file_is_read_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "themes").mkdir()
    (tmp_path / "themes" / "brand.toml").write_text(
        'base = "light"\nfont_family = "Inter"\naccent = "#FFB000"\nbackground = "#101820"\n'
    )
    config = tmp_path / "wall.toml"
    config.write_text(WALL.format(theme="themes/brand.toml"))
    loaded, issues = check_config(config)
    assert loaded is not None and not issues
    theme_path = Path(loaded.config.wall.theme)
    assert theme_path == (tmp_path / "themes" / "brand.toml").resolve()
    spec = read_theme_file(theme_path)
    assert spec.base == "light" and spec.font_family == "Inter"
    assert spec.colours == {"accent": "#FFB000", "background": "#101820"}


def test_theme_file_errors_name_file_line_and_key(tmp_path: Path) -> None:
    theme = tmp_path / "bad.toml"
    theme.write_text('base = "dark"\nbackgrund = "#000000"\naccent = "orange"\n')
    config = tmp_path / "wall.toml"
    config.write_text(WALL.format(theme="bad.toml"))
    _loaded, issues = check_config(config)
    lines = [issue.format() for issue in issues]
    assert (
        f'{theme.resolve()}:2: backgrund: unknown key "backgrund"; did you mean "background"?'
        in lines
    )
    assert any(
        line.startswith(f"{theme.resolve()}:3: accent: 'orange' is not a colour") for line in lines
    )


def test_a_missing_theme_file_and_a_bad_theme_name(tmp_path: Path) -> None:
    config = tmp_path / "wall.toml"
    config.write_text(WALL.format(theme="nope.toml"))
    _loaded, issues = check_config(config)
    assert [i.key for i in issues] == ["wall.theme"]
    assert "cannot read the theme file" in issues[0].message
    config.write_text(WALL.format(theme="darkk"))
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert "wall.toml:3: wall.theme: " in caught.value.issues[0].format()
    with pytest.raises(ThemeFileError):
        read_theme_file(tmp_path / "nope.toml")

"""Theme files: a wall's own colours and font, named by ``[wall] theme = "lobby.toml"``.

A theme file is a small TOML file (Qt-free, so ``agora check`` validates it)::

    base = "dark"              # dark | light: the built-in theme it starts from
    font_family = "Inter"      # optional
    background = "#101820"     # any of THEME_COLOURS, as #rrggbb
    accent = "#FFB000"

Unknown keys and malformed colours are errors with the file and line.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

#: Colours a theme file may set (the attributes of the wall's theme).
THEME_COLOURS = (
    "background",
    "surface",
    "surface_alt",
    "text",
    "muted",
    "accent",
    "positive",
    "neutral",
    "negative",
    "alert",
    "border",
)
BUILT_IN_THEMES = ("dark", "light")
_COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True, slots=True)
class ThemeFile:
    """What a theme file says: the built-in theme it starts from and what it changes."""

    base: str = "dark"
    colours: dict[str, str] = field(default_factory=dict)
    font_family: str | None = None


class ThemeFileError(ValueError):
    """A theme file that cannot be used; ``problems`` are ``(line or None, key, message)``."""

    def __init__(self, path: Path, problems: list[tuple[int | None, str, str]]) -> None:
        self.path = path
        self.problems = problems
        first = problems[0]
        super().__init__(f"{path}:{first[0] or ''}: {first[1]}: {first[2]}".replace("::", ":"))


def is_theme_file(name: str) -> bool:
    """True when ``[wall] theme`` names a file rather than a built-in theme."""
    return name not in BUILT_IN_THEMES


def read_theme_file(path: Path) -> ThemeFile:
    """Read and validate a theme file. Raises :class:`ThemeFileError` with every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeFileError(
            path, [(None, "theme", f"cannot read the theme file ({exc})")]
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(path, [(None, "theme", f"not valid TOML ({exc})")]) from None
    lines: dict[str, int] = {}
    for number, row in enumerate(text.splitlines(), start=1):
        match = re.match(r"\s*([A-Za-z_][\w-]*)\s*=", row)
        if match:
            lines.setdefault(match.group(1), number)
    problems: list[tuple[int | None, str, str]] = []
    known = ("base", "font_family", *THEME_COLOURS)
    colours: dict[str, str] = {}
    for key, value in data.items():
        line: int | None = lines.get(key)
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            problems.append((line, key, f'unknown key "{key}"{hint}'))
        elif key == "base":
            if value not in BUILT_IN_THEMES:
                problems.append((line, key, f"{value!r} is not a built-in theme (dark or light)"))
        elif key == "font_family":
            if not isinstance(value, str) or not value.strip():
                problems.append((line, key, "must be a font family name"))
        elif not isinstance(value, str) or not _COLOUR_RE.fullmatch(value):
            problems.append((line, key, f'{value!r} is not a colour; use "#rrggbb"'))
        else:
            colours[key] = value
    if problems:
        raise ThemeFileError(path, problems)
    font = data.get("font_family")
    return ThemeFile(str(data.get("base", "dark")), colours, font.strip() if font else None)

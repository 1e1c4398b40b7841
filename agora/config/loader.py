"""Loading a wall's TOML config: ``extends``, validation, and errors that name file, line and key.

Every problem found is reported, not only the first: :class:`ConfigError` carries a list of
:class:`ConfigIssue`, each printed as ``file:line: key.path: message``. Unknown keys get a
"did you mean". Secret values (``env:NAME``) are resolved by the schema and never printed.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from agora.config.locate import KeyPath, key_lines, line_of
from agora.config.schema import WallConfig
from agora.config.theme import ThemeFileError, is_theme_file, read_theme_file
from agora.core.accounts import canonical_handle, parse_account

#: a chain of ``extends`` longer than this is surely a mistake
MAX_EXTENDS_DEPTH = 8


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a config: where it is and what is wrong."""

    file: Path
    line: int | None
    key: str
    message: str

    def format(self) -> str:
        """``file:line: key.path: message`` (the line is left out when it is not known)."""
        where = f"{self.file}:{self.line}" if self.line else f"{self.file}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(Exception):
    """A config that cannot be used, with every issue found."""

    def __init__(self, issues: Iterable[ConfigIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(issue.format() for issue in self.issues))


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """A validated config and where it came from."""

    config: WallConfig
    path: Path
    """The file named on the command line."""
    files: tuple[Path, ...]
    """That file and every file it extends, nearest first."""
    config_dir: Path
    """Directory relative paths in the config (jsonl files, logo) are resolved against."""
    origins: Mapping[KeyPath, tuple[Path, int]] = field(default_factory=dict)
    """Which file and line each key came from (after ``extends`` merging)."""

    def resolve(self, relative: str) -> Path:
        """A path from the config, relative to the config file's directory."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.config_dir / path


# ---------------------------------------------------------------------------------------------
# reading files


Origins = dict[KeyPath, tuple[Path, int]]


def _read(path: Path, text: str | None = None) -> tuple[dict[str, Any], Origins]:
    """Parse one file (or, when given, ``text`` standing for its content) into data and the line
    of each key. Raises :class:`ConfigError`."""
    try:
        raw = path.read_bytes() if text is None else text.encode("utf-8", "surrogatepass")
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(path, None, "", "config file not found")]) from None
    except IsADirectoryError:
        raise ConfigError([ConfigIssue(path, None, "", "is a directory, not a file")]) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError([ConfigIssue(path, None, "", f"cannot read: {reason}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            [ConfigIssue(path, line, "", "not valid UTF-8 text (save the file as UTF-8)")]
        ) from None
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_syntax_issue(path, text, exc)]) from None
    lines = key_lines(text)
    return data, {key: (path, line) for key, line in lines.items()}


_AT_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_EOF_RE = re.compile(r"\s*\(at end of document\)\s*$")


def _syntax_issue(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> ConfigIssue:
    message = str(exc)
    line: int | None = None
    match = _AT_RE.search(message)
    if match:
        line = int(match.group(1))
        message = f"{message[: match.start()]} (column {match.group(2)})"
    elif _AT_EOF_RE.search(message):
        line = text.count("\n") + 1
        message = _AT_EOF_RE.sub(" (at the end of the file)", message)
    key = ""
    if line is not None:
        lines = text.splitlines()
        if 0 < line <= len(lines):
            candidate = lines[line - 1].split("=", 1)[0].strip()
            if "=" in lines[line - 1] and re.fullmatch(r"[A-Za-z0-9_.\-\"' ]+", candidate):
                key = candidate.replace('"', "").replace("'", "").replace(" ", "")
    return ConfigIssue(path, line, key, f"TOML syntax: {message[:1].lower()}{message[1:]}")


def _merge(
    base: dict[str, Any],
    base_origins: Origins,
    child: dict[str, Any],
    child_origins: Origins,
    prefix: KeyPath = (),
) -> tuple[dict[str, Any], Origins]:
    """``child`` over ``base``: tables merge key by key; arrays and values are replaced whole."""
    merged = dict(base)
    origins = dict(base_origins) if not prefix else base_origins
    for key, value in child.items():
        path = (*prefix, key)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key], origins = _merge(merged[key], origins, value, child_origins, path)
            if path in child_origins:
                origins[path] = child_origins[path]
            continue
        merged[key] = value
        for known in [k for k in origins if k[: len(path)] == path]:
            del origins[known]
        for known, where in child_origins.items():
            if known[: len(path)] == path:
                origins[known] = where
    return merged, origins


def _read_with_extends(
    path: Path, text: str | None = None
) -> tuple[dict[str, Any], Origins, list[Path]]:
    """Data of ``path`` (or of ``text`` standing for its content) merged over everything it
    extends, and the files involved."""
    chain: list[Path] = []
    current = path
    layers: list[tuple[dict[str, Any], Origins]] = []
    while True:
        resolved = current.resolve()
        if resolved in (p.resolve() for p in chain):
            first = chain[0]
            cycle = " → ".join(p.name for p in [*chain, current])
            raise ConfigError([ConfigIssue(first, None, "extends", f"extends itself: {cycle}")])
        chain.append(current)
        data, origins = _read(current, text if current is path else None)
        layers.append((data, origins))
        parent = data.get("extends")
        if parent is None:
            break
        line = origins.get(("extends",), (current, None))[1]
        if not isinstance(parent, str) or not parent.strip():
            raise ConfigError(
                [ConfigIssue(current, line, "extends", "must be the path of another config file")]
            )
        if len(chain) > MAX_EXTENDS_DEPTH:
            raise ConfigError(
                [ConfigIssue(current, line, "extends", "too many levels of extends (more than 8)")]
            )
        target = Path(parent).expanduser()
        if not target.is_absolute():
            target = current.parent / target
        if not target.is_file():
            raise ConfigError(
                [ConfigIssue(current, line, "extends", f'"{parent}": no such file ({target})')]
            )
        current = target
    data, origins = layers[-1]
    for child, child_origins in reversed(layers[:-1]):
        data, origins = _merge(data, origins, child, child_origins)
    data.pop("extends", None)
    return data, origins, chain


# ---------------------------------------------------------------------------------------------
# validation errors


def dotted_key(path: Iterable[str | int]) -> str:
    """A key path as :class:`ConfigIssue` names it: ``screens[0].pages[1].grid``."""
    return _dotted(path)


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            safe = re.fullmatch(r"[A-Za-z0-9_-]+", part)
            out += (f".{part}" if out else part) if safe else f'."{part}"' if out else f'"{part}"'
    return out


def _data_path(data: Any, loc: tuple[str | int, ...]) -> KeyPath:
    """The part of a pydantic error location that exists in the data (drops union tags etc.)."""
    path: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        if (isinstance(current, dict) and isinstance(part, str) and part in current) or (
            isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        ):
            current = current[part]  # type: ignore[index]
            path.append(part)
        elif index == len(loc) - 1 and isinstance(part, str) and isinstance(current, dict):
            path.append(part)  # a missing key: its name still belongs to the path
        # else: a union member's tag or a validator's name, not a key in the file
    return tuple(path)


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes and containers an annotation may hold."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [annotation]


def _model_at(data: Any, path: KeyPath) -> type[BaseModel] | None:
    """The schema section that validates the table at ``path`` of ``data``."""
    candidates: list[Any] = [WallConfig]
    current = data
    for part in path:
        next_candidates: list[Any] = []
        for candidate in candidates:
            origin = typing.get_origin(candidate)
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                info = candidate.model_fields.get(str(part))
                if info is not None:
                    next_candidates.extend(_unwrap(info.annotation))
            elif origin is list and isinstance(part, int):
                next_candidates.extend(_unwrap(typing.get_args(candidate)[0]))
            elif origin is dict:
                next_candidates.extend(_unwrap(typing.get_args(candidate)[1]))
        candidates = next_candidates
        if isinstance(current, dict | list):
            try:
                current = current[part]  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                current = None
    models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
    if len(models) > 1 and isinstance(current, dict):
        kind = current.get("kind")
        for model in models:
            kind_field = model.model_fields.get("kind")
            if kind_field is not None and kind in typing.get_args(kind_field.annotation):
                return model
    return models[0] if len(models) == 1 else None


def _value_at(data: Any, path: KeyPath) -> Any:
    current = data
    for part in path:
        try:
            current = current[part]
        except (KeyError, IndexError, TypeError):
            return None
    return current


def _message(error: Any, data: Any, path: KeyPath) -> str:
    kind = error["type"]
    msg = str(error["msg"])
    if kind == "extra_forbidden":
        model = _model_at(data, path[:-1])
        name = str(path[-1]) if path else ""
        text = f'unknown key "{name}"'
        if model is not None:
            keys = list(model.model_fields)
            close = difflib.get_close_matches(name, keys, n=1, cutoff=0.6)
            if close:
                return f'{text}; did you mean "{close[0]}"?'
            return f"{text} (allowed here: {', '.join(keys)})"
        return text
    if kind == "missing":
        return "required key is missing"
    if kind == "union_tag_invalid":
        tags = error.get("ctx", {}).get("expected_tags", "")
        found = error.get("ctx", {}).get("tag", "")
        close = difflib.get_close_matches(
            str(found), [t.strip(" '") for t in str(tags).split(",")], n=1
        )
        hint = f'; did you mean "{close[0]}"?' if close else ""
        return f'unknown kind "{found}"{hint} (known kinds: {tags})'
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        found = _value_at(data, path)
        close = difflib.get_close_matches(str(found), expected, n=1) if found else []
        choices = ", ".join(expected)
        if close:
            return f'"{found}" is not allowed; did you mean "{close[0]}"? (one of: {choices})'
        return f'"{found}" is not allowed (one of: {choices})'
    if kind == "too_short" and error.get("ctx", {}).get("min_length") == 1:
        return "must not be empty"
    if kind == "union_tag_not_found":
        return "every entry needs a 'kind'"
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return msg[:1].lower() + msg[1:]


def _issues_from(
    exc: ValidationError, data: dict[str, Any], origins: Origins, default_file: Path
) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    seen: set[tuple[str, str]] = set()
    for error in exc.errors(include_url=False, include_input=False):
        path = _data_path(data, tuple(error["loc"]))
        message = _message(error, data, path)
        key = _dotted(path) or "(top level)"
        if (key, message) in seen:
            continue
        seen.add((key, message))
        file, line = default_file, None
        for depth in range(len(path), 0, -1):
            where = origins.get(path[:depth])
            if where is not None:
                file, line = where
                break
        issues.append(ConfigIssue(file, line, key, message))
    return issues


# ---------------------------------------------------------------------------------------------
# checks beyond the schema


def _cross_checks(config: WallConfig, origins: Origins, path: Path) -> list[ConfigIssue]:
    """What the schema cannot see alone: references between sections."""
    issues: list[ConfigIssue] = []

    def issue(key: KeyPath, message: str) -> None:
        file, line = path, None
        for depth in range(len(key), 0, -1):
            if key[:depth] in origins:
                file, line = origins[key[:depth]]
                break
        issues.append(ConfigIssue(file, line, _dotted(key), message))

    topics = list(config.topics)
    for s, screen in enumerate(config.screens):
        for p, page in enumerate(screen.pages):
            for n, panel in enumerate(page.panels):
                for t, name in enumerate(panel.topics or []):
                    if name not in config.topics:
                        close = difflib.get_close_matches(name, topics, n=1)
                        hint = f'; did you mean "{close[0]}"?' if close else ""
                        known = ", ".join(topics) or "none are configured"
                        issue(
                            ("screens", s, "pages", p, "panels", n, "topics", t),
                            f'unknown topic "{name}"{hint} (topics: {known})',
                        )
    # "webhook:@a" trusts nobody unless a webhook entry vouches for @a (its trusted_authors)
    vouched = {
        canonical_handle(h)
        for source in config.sources
        if source.kind == "webhook"
        for h in getattr(source, "trusted_authors", ())
    }
    for section, key, entries in (
        ("moderation", "allow_authors", config.moderation.allow_authors),
        ("analytics", "owned_accounts", config.analytics.owned_accounts),
    ):
        for i, entry in enumerate(entries):
            ref = parse_account(entry)
            if ref.kind == "webhook" and ref.handle not in vouched:
                issue(
                    (section, key, i),
                    f"{entry!r}: no webhook source lists @{ref.handle} in its trusted_authors, "
                    "so this entry would match nothing (a webhook's callers can write any name)",
                )
    return issues


# ---------------------------------------------------------------------------------------------
# public API


def load_config(path: Path | str, text: str | None = None) -> LoadedConfig:
    """Read, merge and validate a config. Raises :class:`ConfigError` with every issue found.

    ``text``, when given, stands for the content of ``path`` (an editor's unsaved buffer): the
    messages and line numbers are those ``agora check`` would print once it is saved."""
    path = Path(path)
    data, origins, chain = _read_with_extends(path, text)
    try:
        config = WallConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_issues_from(exc, data, origins, path)) from None
    issues = _cross_checks(config, origins, path)
    if issues:
        raise ConfigError(issues)
    config_dir = path.parent.resolve()
    if is_theme_file(config.wall.theme):
        # a theme file is named relative to the config file that names it
        where = origins.get(("wall", "theme"), (path, 0))[0]
        theme_path = Path(config.wall.theme).expanduser()
        if not theme_path.is_absolute():
            theme_path = where.parent.resolve() / theme_path
        wall = config.wall.model_copy(update={"theme": str(theme_path)})
        config = config.model_copy(update={"wall": wall})
    return LoadedConfig(config, path, tuple(chain), config_dir, origins)


def check_config(
    path: Path | str, text: str | None = None
) -> tuple[LoadedConfig | None, list[ConfigIssue]]:
    """Validate for ``agora check``: the loaded config (or ``None``) and every issue found,
    including files the config names that do not exist. ``text`` as for :func:`load_config`."""
    try:
        loaded = load_config(path, text)
    except ConfigError as exc:
        return None, exc.issues
    issues: list[ConfigIssue] = []
    for index, source in enumerate(loaded.config.sources):
        file_path = getattr(source, "path", None)
        if isinstance(file_path, str) and not loaded.resolve(file_path).exists():
            where = loaded.origins.get(("sources", index, "path"), (loaded.path, 0))
            issues.append(
                ConfigIssue(
                    where[0],
                    where[1] or None,
                    f"sources[{index}].path",
                    f"no such file: {loaded.resolve(file_path)}",
                )
            )
    theme = loaded.config.wall.theme
    if is_theme_file(theme):
        where = loaded.origins.get(("wall", "theme"), (loaded.path, 0))
        try:
            read_theme_file(Path(theme))
        except ThemeFileError as exc:
            for line, key, message in exc.problems:
                if line is None:
                    issues.append(ConfigIssue(where[0], where[1] or None, "wall.theme", message))
                else:
                    issues.append(ConfigIssue(exc.path, line, key, message))
    logo = loaded.config.wall.logo
    if logo and not loaded.resolve(logo).is_file():
        where = loaded.origins.get(("wall", "logo"), (loaded.path, 0))
        issues.append(ConfigIssue(where[0], where[1] or None, "wall.logo", f"no such file: {logo}"))
    return loaded, issues


def summary(loaded: LoadedConfig) -> str:
    """One line describing a valid config, for ``agora check``."""
    config = loaded.config
    pages = sum(len(screen.pages) for screen in config.screens)
    panels = sum(len(page.panels) for screen in config.screens for page in screen.pages)
    kinds = sorted({source.kind for source in config.sources})

    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    parts = [
        count(len(config.topics), "topic"),
        count(len(config.sources), "source") + (f" ({', '.join(kinds)})" if kinds else ""),
        count(len(config.screens), "screen"),
        count(pages, "page"),
        count(panels, "panel"),
    ]
    extends = ""
    if len(loaded.files) > 1:
        extends = f" (extends {', '.join(str(p) for p in loaded.files[1:])})"
    return f"{loaded.path}: ok: wall {config.wall.name!r}: {', '.join(parts)}{extends}"


__all__ = [
    "ConfigError",
    "ConfigIssue",
    "LoadedConfig",
    "check_config",
    "dotted_key",
    "line_of",
    "load_config",
    "summary",
]

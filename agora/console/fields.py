"""The console's forms are generated from the config schema: one :class:`FieldSpec` per key.

:func:`field_specs` reads a section's pydantic model (type, default, whether it is required, the
docstring under the key) and says which editor fits each key. :func:`to_text` and
:func:`from_text` convert between what the file holds and what a text box shows. A value typed
in is written to the file as it is (a number as a number, anything else as text), so validation
reports it exactly as ``agora check`` would.

Qt-free.
"""

from __future__ import annotations

import math
import re
import tomllib
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from agora.config.schema import Secret, parse_duration

EditorKind = Literal[
    "bool",
    "choice",
    "text",
    "integer",
    "number",
    "duration",
    "secret",
    "list",
    "mapping",
    "pair",
    "grid",
    "output",
]


class Remove:
    """Marker: the key should not be written (its default applies)."""

    def __repr__(self) -> str:
        return "REMOVE"


REMOVE = Remove()


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One key of a section and the editor that suits it."""

    name: str
    kind: EditorKind
    required: bool
    default: Any
    """The default as the file would write it (``None`` when there is none)."""
    doc: str
    choices: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``burn_in_shift`` → ``Burn in shift``."""
        return self.name.replace("_", " ").capitalize()

    @property
    def summary(self) -> str:
        """The first sentence of the docstring, without reStructuredText markup."""
        text = " ".join(self.doc.split())
        text = re.sub(r"``([^`]*)``", r"\1", text)
        text = re.sub(r":\w+:`~?([^`]*)`", r"\1", text)
        for match in re.finditer(r"[.:;](\s|$)", text):
            head = text[: match.start() + 1]
            if head.endswith(("e.g.", "i.e.", "etc.")) or head.count('"') % 2:
                continue  # an abbreviation, or inside a quoted example
            if not head.endswith(".") and len(head) < 25:
                continue  # "featured: how long…": the colon introduces the sentence
            return head.rstrip(":;")
        return text


def _args(annotation: Any) -> tuple[Any, list[Any]]:
    """The annotation without ``Annotated`` and ``Optional``, and the metadata met on the way."""
    metadata: list[Any] = []
    current = annotation
    while True:
        origin = typing.get_origin(current)
        if origin is typing.Annotated:
            args = typing.get_args(current)
            metadata.extend(args[1:])
            current = args[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(current) if a is not type(None)]
            if len(members) == 1:
                current = members[0]
                continue
        return current, metadata


def _kind(name: str, info: FieldInfo) -> tuple[EditorKind, tuple[str, ...]]:
    if name == "grid":
        return "grid", ()
    if name in ("at", "span"):
        return "pair", ()
    bare, metadata = _args(info.annotation)
    metadata = [*metadata, *info.metadata]
    if any(getattr(m, "func", None) is parse_duration for m in metadata):
        return "duration", ()
    if bare is Secret:
        return "secret", ()
    origin = typing.get_origin(bare)
    if origin is Literal:
        return "choice", tuple(str(a) for a in typing.get_args(bare))
    if origin in (typing.Union, types.UnionType):
        members = set(typing.get_args(bare))
        if members == {int, str}:
            return "output", ()
        return "text", ()
    if origin is list:
        return "list", ()
    if origin is dict:
        return "mapping", ()
    if bare is bool:
        return "bool", ()
    if bare is int:
        return "integer", ()
    if bare is float:
        return "number", ()
    return "text", ()


def _file_default(info: FieldInfo, kind: EditorKind) -> Any:
    if info.is_required():
        return None
    default = info.get_default(call_default_factory=True)
    if default is None:
        return None
    if kind == "pair" and isinstance(default, tuple):
        return f"{default[0]},{default[1]}"
    if kind == "grid" and isinstance(default, tuple):
        return f"{default[0]}x{default[1]}"
    if kind == "duration" and isinstance(default, float):
        return duration_text(default)
    if isinstance(default, BaseModel):
        return None
    return default


def duration_text(seconds: float) -> str:
    """``86400.0`` → ``"1d"``, ``90.0`` → ``"90s"``, ``0.8`` → ``"0.8s"``."""
    for unit, size in (("w", 604800.0), ("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size and math.isclose(seconds % size, 0.0, abs_tol=1e-9):
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def field_specs(
    model: type[BaseModel], *, skip: tuple[str, ...] = (), first: tuple[str, ...] = ()
) -> list[FieldSpec]:
    """Every key of ``model`` (``first`` ones first, ``skip`` ones left out)."""
    names = [n for n in first if n in model.model_fields]
    names += [n for n in model.model_fields if n not in names]
    specs: list[FieldSpec] = []
    for name in names:
        if name in skip:
            continue
        info = model.model_fields[name]
        kind, choices = _kind(name, info)
        specs.append(
            FieldSpec(
                name=name,
                kind=kind,
                required=info.is_required(),
                default=_file_default(info, kind),
                doc=info.description or "",
                choices=choices,
            )
        )
    return specs


# ---------------------------------------------------------------------------------------------
# text ↔ value


def to_text(spec: FieldSpec, value: Any) -> str:
    """What a text box shows for a value from the file."""
    if value is None:
        return ""
    if spec.kind == "list" and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if spec.kind == "mapping" and isinstance(value, dict):
        return ", ".join(f"{_toml_key(str(k))} = {_toml_scalar(v)}" for k, v in value.items())
    if spec.kind in ("pair", "grid") and isinstance(value, list) and len(value) == 2:
        joiner = "x" if spec.kind == "grid" else ","
        return f"{value[0]}{joiner}{value[1]}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if spec.kind != "number" else f"{value:g}"
    return str(value)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else '"' + key.replace('"', '\\"') + '"'


def _toml_scalar(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class InputError(ValueError):
    """Text that cannot even be turned into a value to validate (a mapping's syntax)."""


def _number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def from_text(spec: FieldSpec, text: str) -> Any:
    """The value to write for what was typed (:data:`REMOVE` for an empty box: the default
    applies, or, for a required key, "required key is missing" is reported)."""
    stripped = text.strip()
    if not stripped:
        return REMOVE
    if spec.kind == "list":
        return [part.strip() for part in stripped.split(",") if part.strip()]
    if spec.kind == "mapping":
        try:
            parsed = tomllib.loads(f"value = {{ {stripped} }}")["value"]
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f'write "phrase" = number, … ({exc})') from None
        return parsed
    if spec.kind in ("integer", "number"):
        number = _number(stripped)
        if number is not None:
            return float(number) if spec.kind == "number" and isinstance(number, float) else number
        return stripped
    if spec.kind == "duration":
        number = _number(stripped)
        return number if number is not None else stripped
    if spec.kind == "output":
        return int(stripped) if stripped.isdigit() else stripped
    if spec.kind == "bool":
        return stripped.lower() in ("true", "yes", "1", "on")
    return text


__all__ = [
    "REMOVE",
    "FieldSpec",
    "InputError",
    "Remove",
    "duration_text",
    "field_specs",
    "from_text",
    "to_text",
]

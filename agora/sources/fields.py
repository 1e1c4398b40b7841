"""Reading fields of an untrusted payload: every source's JSON or feed entry is read through these,
so a missing key, a value of the wrong type or a non-web link never raises and never gets through.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from agora.core.post import PostError, count_of, parse_time

#: The longest link kept (longer ones are cut; nothing on a wall needs more).
MAX_URL_CHARS = 2048


def text_field(obj: object, key: str) -> str:
    """``obj[key]`` when ``obj`` is a mapping and the value a string, else ``""``."""
    if isinstance(obj, Mapping):
        value = obj.get(key)
        if isinstance(value, str):
            return value
    return ""


def count_value(value: object) -> int | None:
    """A non-negative count from a number or a string of digits (clamped to
    :data:`~agora.core.post.MAX_COUNT`); ``None`` for anything else."""
    return count_of(value)


def count_field(obj: object, key: str) -> int | None:
    """``count_value(obj[key])`` when ``obj`` is a mapping, else ``None``."""
    return count_value(obj.get(key)) if isinstance(obj, Mapping) else None


def web_url(value: object) -> str | None:
    """``value`` when it is an ``http``/``https`` link without spaces (cut to
    :data:`MAX_URL_CHARS`), else ``None``: no ``javascript:``, ``file:`` or ``data:`` link passes."""
    if (
        isinstance(value, str)
        and value.startswith(("https://", "http://"))
        and not any(c.isspace() for c in value)
    ):
        return value[:MAX_URL_CHARS]
    return None


def url_field(obj: object, key: str) -> str | None:
    """``web_url(obj[key])`` when ``obj`` is a mapping, else ``None``."""
    return web_url(obj.get(key)) if isinstance(obj, Mapping) else None


def epoch_time(value: object) -> datetime | None:
    """POSIX seconds (a number or numeric text) as an aware UTC time, or ``None``."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    try:
        return parse_time(value)
    except PostError:
        return None


def id_order(value: str) -> tuple[int, str]:
    """Sort key of numeric string ids that grow in length (Mastodon, X): newest last."""
    return len(value), value


__all__ = [
    "MAX_URL_CHARS",
    "count_field",
    "count_value",
    "epoch_time",
    "id_order",
    "text_field",
    "url_field",
    "web_url",
]

"""Reading fields of an untrusted payload: every source's JSON or feed entry is read through these,
so a missing key, a value of the wrong type or a non-web link never raises and never gets through.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from agora.core.post import (
    EARLIEST_PLAUSIBLE,
    MAX_ID_CHARS,
    PostError,
    count_of,
    format_time,
    parse_time,
    plain_field,
)
from agora.core.text import clean_name, strip_unsafe

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
        and strip_unsafe(value) == value  # no control, escape or bidi characters
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


#: The longest native id read (longer ones are kept by their digest, see :func:`item_id`).
LONG_ID_CHARS = 16_384


def item_id(kind: str, *parts: str) -> str:
    """A post's id, ``"<kind>:<part>:…"``, as the store keeps it (see
    :func:`~agora.core.post.plain_field`). An id longer than
    :data:`~agora.core.post.MAX_ID_CHARS` keeps its first part and a digest of the rest. Raises
    :class:`~agora.core.post.PostError` when a part is empty."""
    cleaned = [plain_field(part, LONG_ID_CHARS) for part in parts]
    if not all(cleaned):
        raise PostError("missing-id", f"an item of {kind} without an id")
    post_id = ":".join((kind, *cleaned))
    if len(post_id) > MAX_ID_CHARS:
        # a long native id (an RSS guid that is a whole URL with tracking) is kept by its
        # digest: the same item always gets the same id, and nothing is refused for its length
        digest = hashlib.sha256(":".join(cleaned).encode("utf-8", "surrogatepass")).hexdigest()
        post_id = f"{kind}:{cleaned[0][:64]}:sha256-{digest}"
    return post_id


def ref_id(kind: str, *parts: object) -> str | None:
    """The id of another post (``reply_to``, ``repost_of``) as the store keeps it, or
    ``None`` when a part is not usable text."""
    if not all(isinstance(part, str) and plain_field(part, MAX_ID_CHARS) for part in parts):
        return None
    try:
        return item_id(kind, *(str(part) for part in parts))
    except PostError:
        return None


def lang_tag(value: object) -> str | None:
    """A language tag as :func:`~agora.core.post.parse_post` keeps it (plain text, at most 35
    characters), or ``None`` for anything that is not text (or ``"und"``, undetermined)."""
    if not isinstance(value, str):
        return None
    tag = clean_name(value)[:35].strip()
    return tag if tag and tag != "und" else None


def plausible(moment: datetime) -> datetime:
    """``moment``, unless it is before 2000 (a missing timestamp read as 0): then
    :class:`~agora.core.post.PostError`, as :func:`~agora.core.post.parse_post` (and so the store
    reading a post back) would refuse it."""
    if moment < EARLIEST_PLAUSIBLE:
        raise PostError("implausible-time", f"dated {format_time(moment)}, before 2000")
    return moment


def post_time(value: object) -> datetime:
    """When a post was published, from ISO-8601 text (or POSIX seconds): raises
    :class:`~agora.core.post.PostError` when it is missing, unreadable or before 2000."""
    return plausible(parse_time(value))


def id_order(value: str) -> tuple[int, str]:
    """Sort key of numeric string ids that grow in length (Mastodon, X): newest last."""
    return len(value), value


__all__ = [
    "MAX_URL_CHARS",
    "count_field",
    "count_value",
    "epoch_time",
    "id_order",
    "item_id",
    "lang_tag",
    "plausible",
    "post_time",
    "ref_id",
    "text_field",
    "url_field",
    "web_url",
]

"""Times and numbers as a passer-by reads them: "3 min ago", "waiting 2 h 10 min", "1.2k".

Qt-free, so the wording is tested without a display.
"""

from __future__ import annotations

from datetime import datetime

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: Display names of source kinds (badges, ticker, care rows).
SOURCE_NAMES = {
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "hackernews": "Hacker News",
    "reddit": "Reddit",
    "rss": "News",
    "x": "X",
    "youtube": "YouTube",
    "webhook": "Webhook",
    "jsonl": "Archive",
    "simulator": "Demo",
}


def relative_time(then: datetime, now: datetime) -> str:
    """``"just now"``, ``"3 min ago"``, ``"2 h ago"``, ``"yesterday"``, ``"3 Nov"``.

    A time slightly in the future (clock skew between a source and this machine) reads
    "just now"; "yesterday" means the previous calendar day of ``now`` (in ``now``'s zone),
    and anything older shows the date (with the year when it is not this year's).
    """
    if then.tzinfo is not None and now.tzinfo is not None:
        then = then.astimezone(now.tzinfo)
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    days = (now.date() - then.date()).days
    if days <= 0:
        return f"{int(seconds // 3600)} h ago"
    if days == 1:
        # late last night still reads better as hours when it was only a few hours ago
        if seconds < 6 * 3600:
            return f"{int(seconds // 3600)} h ago"
        return "yesterday"
    label = f"{then.day} {_MONTHS[then.month - 1]}"
    if then.year != now.year:
        label += f" {then.year}"
    return label


def duration(seconds: float | None) -> str:
    """A span of time: ``"40 s"``, ``"4 min"``, ``"2 h 10 min"``, ``"3 days"``; ``"—"`` for
    ``None``."""
    if seconds is None:
        return "—"
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    if days < 3 and hours:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    return f"{days} day{'s' if days != 1 else ''}"


def waiting(then: datetime, now: datetime) -> str:
    """``"waiting 2 h 10 min"`` (at least a minute: "waiting 1 min")."""
    seconds = max(60.0, (now - then).total_seconds())
    return f"waiting {duration(seconds)}"


def compact(value: float | None) -> str:
    """``1234`` → ``"1.2k"``, ``3_400_000`` → ``"3.4M"``, ``12`` → ``"12"``; ``None`` → ``"—"``."""
    if value is None:
        return "—"
    number = float(value)
    sign = "-" if number < 0 else ""
    number = abs(number)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if number >= limit * 0.9995:
            scaled = number / limit
            if scaled >= 999.5 and suffix != "B":
                continue
            text = f"{scaled:.1f}" if scaled < 9.95 else f"{scaled:.0f}"
            return sign + text.removesuffix(".0") + suffix
    if number == int(number):
        return f"{sign}{int(number)}"
    return f"{sign}{number:.1f}"


def source_name(kind: str) -> str:
    """Display name of a source kind (``"hackernews"`` → ``"Hacker News"``)."""
    return SOURCE_NAMES.get(kind, kind.capitalize() if kind else "Unknown")


def initials(name: str, handle: str) -> str:
    """One or two letters for an avatar placeholder (from the name, else the handle)."""
    words = [w for w in (name or "").split() if w[:1].isalnum()]
    if len(words) >= 2:
        return (words[0][0] + words[-1][0]).upper()
    if words:
        return words[0][0].upper()
    bare = (handle or "").lstrip("@")
    first = next((ch for ch in bare if ch.isalnum()), "")
    return first.upper() or "?"


__all__ = [
    "SOURCE_NAMES",
    "compact",
    "duration",
    "initials",
    "relative_time",
    "source_name",
    "waiting",
]

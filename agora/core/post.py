"""The normalised post: the contract between sources, the core, the store and the wall.

Every source turns its payload into a :class:`Post`; ``agora fetch`` prints posts as JSON Lines with
:meth:`Post.to_json`; the store keeps them as that JSON; the wall draws them. Field by field:

``id``
    Stable and unique across sources: ``"<source kind>:<native id>"``. Mastodon adds the instance
    host (``"mastodon:mastodon.social:1133…"``).
``source``
    Source kind: ``mastodon``, ``bluesky``, ``hackernews``, ``reddit``, ``rss``, ``x``, ``youtube``,
    ``webhook``, ``jsonl`` or ``simulator``.
``feed``
    Name of the configured source entry the post came from.
``url``
    Permalink, or ``None``.
``text``
    Plain text: HTML removed, entities decoded, whitespace normalised, control characters removed.
    Never rendered as markup.
``lang``
    BCP-47 language tag as given by the source (``"en"``, ``"pt-BR"``), else ``None``.
``created_at``
    When the post was published, timezone-aware UTC. JSON: ISO-8601 ``"2026-11-22T10:00:00Z"``.
``author``
    :class:`Author`: ``handle``, ``name``, ``url``, ``avatar_url``, ``followers``
    (``None`` where the source has no follower counts).
``metrics``
    :class:`Metrics`: ``likes``, ``reposts``, ``replies``, ``quotes``; each ``None`` when the source
    does not say.
``media``
    Tuple of :class:`Media`: ``kind`` (image / video / link), ``url``, ``preview_url``, ``alt``.
``reply_to``
    Id of the post this one answers, or ``None``.
``is_repost``
    ``True`` for a boost / retweet / repost of someone else's post.
``repost_of``
    For a repost: id of the original post (reposts are counted, the original is shown once).
``topics``
    Configured topic keys (brand, competitors, campaigns) whose terms the post matches.
``sentiment``
    :class:`Sentiment` with ``score`` in [-1, 1] and ``label`` positive / neutral / negative, or
    ``None`` where it cannot be scored honestly (a language the scorer does not handle).
``moderation``
    :class:`Moderation`: ``state`` approved / pending / hidden / pinned and the ``reasons``.
``sensitive``
    The source flagged the post (Mastodon ``sensitive``/spoiler, Reddit ``over_18``, X
    ``possibly_sensitive``).
``protected``
    The author's account is locked or private (X ``protected``, Mastodon ``locked``, a webhook
    that says so). Optional, ``False`` by default; such posts are never shown on the wall.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, cast, get_args

import orjson

from agora.core.text import MAX_TEXT_CHARS, clean_name, clean_text, strip_unsafe

SourceKind = Literal[
    "mastodon",
    "bluesky",
    "hackernews",
    "reddit",
    "rss",
    "x",
    "youtube",
    "webhook",
    "jsonl",
    "simulator",
]
SOURCE_KINDS: Final[frozenset[str]] = frozenset(get_args(SourceKind))
SentimentLabel = Literal["positive", "neutral", "negative"]
ModerationState = Literal["approved", "pending", "hidden", "pinned"]
MODERATION_STATES: Final[frozenset[str]] = frozenset(get_args(ModerationState))
MediaKind = Literal["image", "video", "link"]
MEDIA_KINDS: Final[frozenset[str]] = frozenset(get_args(MediaKind))

#: Posts older than this are not plausible social posts (usually a missing timestamp read as 0).
EARLIEST_PLAUSIBLE = datetime(2000, 1, 1, tzinfo=UTC)
#: Clock skew tolerated before a timestamp in the future is replaced by the time of arrival.
FUTURE_TOLERANCE = timedelta(minutes=10)
MAX_ID_CHARS = 512
MAX_URL_CHARS = 2_048
MAX_MEDIA = 8
#: The largest count kept (likes, followers…): far above any real one, and small enough for every
#: sum the figures make to stay exact in a float and inside a 64-bit integer.
MAX_COUNT: Final = 10**12


class PostError(ValueError):
    """A payload that cannot become a post. ``kind`` groups errors for log-once reporting."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(slots=True, frozen=True)
class Author:
    """Who wrote a post. ``handle`` is the stable account name (``@nokia``, ``x.bsky.social``)."""

    handle: str
    name: str = ""
    url: str | None = None
    avatar_url: str | None = None
    followers: int | None = None


@dataclass(slots=True, frozen=True)
class Metrics:
    """Engagement counters at fetch time; ``None`` where the source does not provide one."""

    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None

    def total(self) -> int:
        """Sum of the known counters (unknown ones count as zero)."""
        return (self.likes or 0) + (self.reposts or 0) + (self.replies or 0) + (self.quotes or 0)


@dataclass(slots=True, frozen=True)
class Media:
    """An image, video or link card attached to a post."""

    kind: MediaKind
    url: str
    preview_url: str | None = None
    alt: str = ""


@dataclass(slots=True, frozen=True)
class Sentiment:
    """Polarity ``score`` in [-1, 1] and its ``label``."""

    score: float
    label: SentimentLabel


@dataclass(slots=True, frozen=True)
class Moderation:
    """Whether a post may be shown, and why."""

    state: ModerationState = "approved"
    reasons: tuple[str, ...] = ()

    @property
    def visible(self) -> bool:
        """True when the wall may show the post."""
        return self.state in ("approved", "pinned")


APPROVED: Final = Moderation()


@dataclass(slots=True)
class Post:
    """One normalised post. See the module docstring for every field's meaning.

    Sources create posts; the pipeline fills ``topics``, ``sentiment`` and ``moderation`` in place
    before the post is published. Once a post is in a snapshot it is never mutated again: later
    changes (a moderation decision) replace it with a copy (:meth:`with_moderation`).
    """

    id: str
    source: str
    feed: str
    text: str
    created_at: datetime
    author: Author
    url: str | None = None
    lang: str | None = None
    metrics: Metrics = field(default_factory=Metrics)
    media: tuple[Media, ...] = ()
    reply_to: str | None = None
    is_repost: bool = False
    repost_of: str | None = None
    topics: tuple[str, ...] = ()
    sentiment: Sentiment | None = None
    moderation: Moderation = APPROVED
    sensitive: bool = False
    protected: bool = False

    @property
    def timestamp(self) -> float:
        """``created_at`` as POSIX seconds."""
        return self.created_at.timestamp()

    def with_moderation(self, moderation: Moderation) -> Post:
        """A copy of this post with another moderation state."""
        return replace(self, moderation=moderation)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form (the shape ``agora fetch`` prints)."""
        a = self.author
        m = self.metrics
        return {
            "id": self.id,
            "source": self.source,
            "feed": self.feed,
            "url": self.url,
            "text": self.text,
            "lang": self.lang,
            "created_at": format_time(self.created_at),
            "author": {
                "handle": a.handle,
                "name": a.name,
                "url": a.url,
                "avatar_url": a.avatar_url,
                "followers": a.followers,
            },
            "metrics": {
                "likes": m.likes,
                "reposts": m.reposts,
                "replies": m.replies,
                "quotes": m.quotes,
            },
            "media": [
                {"kind": x.kind, "url": x.url, "preview_url": x.preview_url, "alt": x.alt}
                for x in self.media
            ],
            "reply_to": self.reply_to,
            "is_repost": self.is_repost,
            "repost_of": self.repost_of,
            "topics": list(self.topics),
            "sentiment": (
                None
                if self.sentiment is None
                else {"score": self.sentiment.score, "label": self.sentiment.label}
            ),
            "moderation": {
                "state": self.moderation.state,
                "reasons": list(self.moderation.reasons),
            },
            "sensitive": self.sensitive,
            "protected": self.protected,
        }

    def to_json(self) -> str:
        """One compact JSON line."""
        try:
            return orjson.dumps(self.to_dict()).decode("utf-8")
        except TypeError:  # text not built by the parser (lone surrogates): the slow, lenient way
            return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    def to_row(self) -> str:
        """The compact stored form: a JSON array of the fields in a fixed order (see
        :func:`row_to_dict`). About 40 % smaller than :meth:`to_json` and twice as fast to write,
        which matters for a store that keeps a week of posts."""
        a = self.author
        m = self.metrics
        s = self.sentiment
        row = (
            ROW_FORMAT,
            self.id,
            self.source,
            self.feed,
            self.text,
            self.lang,
            self.created_at.timestamp(),  # POSIX seconds: exact, and cheaper than ISO text
            self.url,
            (a.handle, a.name, a.url, a.avatar_url, a.followers),
            (m.likes, m.reposts, m.replies, m.quotes),
            [(x.kind, x.url, x.preview_url, x.alt) for x in self.media] if self.media else (),
            self.reply_to,
            self.is_repost,
            self.repost_of,
            self.topics,
            None if s is None else (s.score, s.label),
            self.moderation.state,
            self.moderation.reasons,
            self.sensitive,
            self.protected,
        )
        try:
            return orjson.dumps(row).decode("utf-8")
        except TypeError:  # text not built by the parser (lone surrogates): the slow, lenient way
            return json.dumps(row, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str | bytes, *, now: datetime | None = None) -> Post:
        """Parse one JSON line; see :func:`parse_post`."""
        try:
            obj = orjson.loads(line)
        except (ValueError, RecursionError) as exc:
            raise PostError("invalid-json", f"not valid JSON: {exc}") from None
        return parse_post(obj, now=now)

    @classmethod
    def from_row(cls, body: str | bytes, *, now: datetime | None = None) -> Post:
        """Read a stored post back: the array of :meth:`to_row`, or the object of
        :meth:`to_json` (stores written before the compact form). Checked by :func:`parse_post`
        as any other input."""
        try:
            obj = orjson.loads(body)
        except (ValueError, RecursionError) as exc:
            raise PostError("invalid-json", f"not valid JSON: {exc}") from None
        if isinstance(obj, list):
            obj = row_to_dict(obj)
        return parse_post(obj, now=now)


#: The version of :meth:`Post.to_row`'s layout, its first element.
ROW_FORMAT: Final = 1


def row_to_dict(row: list[Any]) -> dict[str, Any]:
    """The object form of a :meth:`Post.to_row` array, for :func:`parse_post` to check as any
    other input. Raises :class:`PostError` for an array of another layout."""
    if len(row) != 20 or row[0] != ROW_FORMAT:
        raise PostError("bad-row", "stored post in an unknown layout")
    (
        _,
        post_id,
        source,
        feed,
        text,
        lang,
        created_at,
        url,
        author,
        metrics,
        media,
        reply_to,
        is_repost,
        repost_of,
        topics,
        sentiment,
        state,
        reasons,
        sensitive,
        protected,
    ) = row
    try:
        handle, name, author_url, avatar_url, followers = author
        likes, reposts, replies, quotes = metrics
        pictures = [
            {"kind": kind, "url": link, "preview_url": preview, "alt": alt}
            for kind, link, preview, alt in media
        ]
        mood = None if sentiment is None else {"score": sentiment[0], "label": sentiment[1]}
    except (TypeError, ValueError, IndexError, KeyError):
        raise PostError("bad-row", "stored post in an unknown layout") from None
    return {
        "id": post_id,
        "source": source,
        "feed": feed,
        "url": url,
        "text": text,
        "lang": lang,
        "created_at": created_at,
        "author": {
            "handle": handle,
            "name": name,
            "url": author_url,
            "avatar_url": avatar_url,
            "followers": followers,
        },
        "metrics": {"likes": likes, "reposts": reposts, "replies": replies, "quotes": quotes},
        "media": pictures,
        "reply_to": reply_to,
        "is_repost": is_repost,
        "repost_of": repost_of,
        "topics": topics,
        "sentiment": mood,
        "moderation": {"state": state, "reasons": reasons},
        "sensitive": sensitive,
        "protected": protected,
    }


# ---------------------------------------------------------------------------------------------
# time helpers


def format_time(moment: datetime) -> str:
    """ISO-8601 UTC with a ``Z`` suffix, seconds precision unless there are microseconds."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # isoformat is done in C (strftime is several times slower) and gives the same text:
    # microseconds only when there are some, then "+00:00", written "Z" here
    return moment.isoformat()[:-6] + "Z"


def parse_time(value: object) -> datetime:
    """Parse ISO-8601 text or POSIX seconds into an aware UTC datetime. Raises ``PostError``."""
    if isinstance(value, bool):
        raise PostError("bad-time", f"created_at is not a time: {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise PostError("bad-time", f"created_at is not a time: {value!r}")
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise PostError("bad-time", f"created_at is out of range: {value!r}") from None
    if not isinstance(value, str) or not value:
        raise PostError("bad-time", "created_at is missing")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PostError("bad-time", f"created_at is not ISO-8601: {value[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:00:00+01:00" is before the first representable day
        raise PostError("bad-time", f"created_at is out of range: {value[:40]!r}") from None


# ---------------------------------------------------------------------------------------------
# parsing untrusted dictionaries


def _opt_str(obj: Mapping[str, Any], key: str, limit: int = MAX_URL_CHARS) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return None
    return plain_field(value, limit) or None


def plain_field(value: str, limit: int) -> str:
    """An id or a link as kept: unsafe characters removed, no spaces around it, at most
    ``limit`` characters. Reading it again changes nothing (a stored post reads back as it was
    written)."""
    return strip_unsafe(value).strip()[:limit].strip()


def _opt_url(obj: Mapping[str, Any], key: str) -> str | None:
    """A web address: ``http``/``https`` only (never ``javascript:``, ``file:`` or ``data:``)."""
    value = _opt_str(obj, key)
    if value is None or any(ch.isspace() for ch in value):
        return None
    if not value[:8].lower().startswith(("http://", "https://")):
        return None
    return value


def count_of(value: object) -> int | None:
    """A count from an untrusted number or string of digits, clamped to ``0…MAX_COUNT``;
    ``None`` for anything else (booleans, fractions that are not finite, text)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return min(MAX_COUNT, max(0, value))
    if isinstance(value, float):
        return min(MAX_COUNT, max(0, int(value))) if math.isfinite(value) else None
    if isinstance(value, str):
        digits = value.strip()
        if digits.isascii() and digits.isdigit():
            return MAX_COUNT if len(digits) > 13 else min(MAX_COUNT, int(digits))
    return None


def _opt_count(obj: Mapping[str, Any], key: str) -> int | None:
    return count_of(obj.get(key))


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str:
    """A string value as it is, a number as its digits, anything else (a list, an object, a
    boolean) as nothing: never the ``repr`` of a structure an outsider sent."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def parse_author(raw: object) -> Author:
    """An :class:`Author` from an untrusted mapping (or a bare handle string)."""
    if isinstance(raw, str):
        handle = clean_name(raw) or "unknown"
        return Author(handle=handle, name=handle)
    obj = _mapping(raw)
    name = clean_name(_text(obj.get("name")))
    handle = clean_name(_text(obj.get("handle"))) or name or "unknown"
    return Author(
        handle=handle,
        name=name or handle,
        url=_opt_url(obj, "url"),
        avatar_url=_opt_url(obj, "avatar_url"),
        followers=_opt_count(obj, "followers"),
    )


def parse_metrics(raw: object) -> Metrics:
    """:class:`Metrics` from an untrusted mapping; unreadable counters become ``None``."""
    obj = _mapping(raw)
    return Metrics(
        likes=_opt_count(obj, "likes"),
        reposts=_opt_count(obj, "reposts"),
        replies=_opt_count(obj, "replies"),
        quotes=_opt_count(obj, "quotes"),
    )


def parse_media(raw: object) -> tuple[Media, ...]:
    """Media items from an untrusted list; items without a usable URL are dropped."""
    if not isinstance(raw, list):
        return ()
    items: list[Media] = []
    for entry in raw[: MAX_MEDIA * 4]:
        obj = _mapping(entry)
        url = _opt_url(obj, "url")
        if url is None:
            continue
        kind = obj.get("kind")
        items.append(
            Media(
                kind=kind if isinstance(kind, str) and kind in MEDIA_KINDS else "link",  # type: ignore[arg-type]
                url=url,
                preview_url=_opt_url(obj, "preview_url"),
                alt=clean_text(_text(obj.get("alt")), 1_000),
            )
        )
        if len(items) == MAX_MEDIA:
            break
    return tuple(items)


def _topics(raw: object) -> tuple[str, ...]:
    """Topic keys from an untrusted list: text only, cleaned, none empty, at most 32."""
    if not isinstance(raw, list):
        return ()
    names: list[str] = []
    for item in raw:
        name = clean_name(item) if isinstance(item, str) else ""
        if name:
            names.append(name)
            if len(names) == 32:
                break
    return tuple(names)


def parse_sentiment(raw: object) -> Sentiment | None:
    """A :class:`Sentiment` or ``None`` from an untrusted mapping."""
    obj = _mapping(raw)
    score = obj.get("score")
    label = obj.get("label")
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        return None
    if label not in ("positive", "neutral", "negative"):
        return None
    return Sentiment(score=max(-1.0, min(1.0, float(score))), label=label)


def parse_moderation(raw: object) -> Moderation:
    """A :class:`Moderation`; anything unreadable means approved with no reasons."""
    obj = _mapping(raw)
    state = obj.get("state")
    # checked as text before the set look-up: a list or an object there is unhashable
    if not isinstance(state, str) or state not in MODERATION_STATES:
        return APPROVED
    reasons_raw = obj.get("reasons")
    reasons = (
        tuple(clean_text(_text(r), 200) for r in reasons_raw[:20] if _text(r))
        if isinstance(reasons_raw, list)
        else ()
    )
    return Moderation(state=cast(ModerationState, state), reasons=reasons)


def parse_post(
    raw: object,
    *,
    now: datetime | None = None,
    repairs: list[str] | None = None,
) -> Post:
    """Turn an untrusted mapping in the normalised shape into a :class:`Post`.

    Raises :class:`PostError` when the payload cannot be a post (no id, no text, not an object,
    implausibly old). Repairs what can be repaired and, when ``repairs`` is given, appends a short
    description of each repair to it: text cut to :data:`MAX_TEXT_CHARS`, control characters
    removed, a timestamp in the future replaced by ``now``, unknown source kinds kept as given.
    """
    if not isinstance(raw, Mapping):
        raise PostError("not-an-object", f"expected a JSON object, got {type(raw).__name__}")
    post_id = raw.get("id")
    if isinstance(post_id, int) and not isinstance(post_id, bool):
        post_id = str(post_id)
    if not isinstance(post_id, str) or not post_id.strip():
        raise PostError("missing-id", "post has no id")
    post_id = plain_field(post_id, MAX_ID_CHARS + 1)
    if len(post_id) > MAX_ID_CHARS:
        raise PostError("bad-id", f"post id is longer than {MAX_ID_CHARS} characters")

    text_raw = raw.get("text")
    if not isinstance(text_raw, str):
        raise PostError("missing-text", f"post {post_id[:80]} has no text")
    text = clean_text(text_raw)
    if not text:
        raise PostError("empty-text", f"post {post_id[:80]} has empty text")
    if repairs is not None and len(text_raw) > MAX_TEXT_CHARS:
        repairs.append(f"text of {len(text_raw)} characters cut to {len(text)}")

    source = raw.get("source")
    if not isinstance(source, str) or not source:
        source = post_id.split(":", 1)[0] if ":" in post_id else "jsonl"
    source = clean_name(source)

    created = parse_time(raw.get("created_at"))
    if created < EARLIEST_PLAUSIBLE:
        raise PostError(
            "implausible-time", f"post {post_id[:80]} dated {format_time(created)}, before 2000"
        )
    moment = now or datetime.now(UTC)
    if created > moment + FUTURE_TOLERANCE:
        if repairs is not None:
            repairs.append(f"created_at {format_time(created)} is in the future; set to arrival")
        created = moment

    lang = raw.get("lang")
    lang = clean_name(lang)[:35] or None if isinstance(lang, str) else None

    feed = raw.get("feed")
    return Post(
        id=post_id,
        source=source,
        feed=clean_name(feed) if isinstance(feed, str) else "",
        text=text,
        created_at=created,
        author=parse_author(raw.get("author")),
        url=_opt_url(raw, "url"),
        lang=lang,
        metrics=parse_metrics(raw.get("metrics")),
        media=parse_media(raw.get("media")),
        reply_to=_opt_str(raw, "reply_to", MAX_ID_CHARS),
        is_repost=raw.get("is_repost") is True,
        repost_of=_opt_str(raw, "repost_of", MAX_ID_CHARS),
        topics=_topics(raw.get("topics")),
        sentiment=parse_sentiment(raw.get("sentiment")),
        moderation=parse_moderation(raw.get("moderation")),
        sensitive=raw.get("sensitive") is True,
        protected=raw.get("protected") is True,
    )

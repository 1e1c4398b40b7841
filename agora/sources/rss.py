"""Any RSS or Atom feed: news sites, blogs, Google News searches (``kind = "rss"``).

Each feed is fetched with the polite client (a conditional GET: the ``ETag`` and ``Last-Modified``
of the last answer are sent back and saved with the source's state, so a restart does not download
an unchanged feed again) and parsed with ``feedparser.parse(body, response_headers=…)``: feedparser's
own HTTP fetching is not used. A feed's ``<ttl>`` and the answer's ``Cache-Control: max-age`` are
honoured: the feed is not asked again before they allow (capped at six hours).

Entries become posts once: the ids of the entries seen (per feed, the last
:data:`SEEN_PER_FEED`) are saved, so neither a restart nor an entry that moves in the feed shows it
twice. Text is the title followed by the summary or content when that says more; a Google News
title's " - Publisher" suffix is dropped and the publisher (``<source>``) becomes the author.
E-mail addresses are never used as author names. A feed flagged malformed by feedparser
(``bozo``) is still read when it has entries; one that is not a feed at all (an HTML page) fails
the round with a plain message. With several feeds, one that fails is reported and the others'
entries are handed over; when the round itself fails or is cancelled, nothing of it is saved (not
the entries seen, not the validators), so the feeds read before are read again, not answered
"304 Not Modified".
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import feedparser

from agora.config import schema
from agora.core.post import Author, Media, Post, PostError
from agora.core.text import clean_name, clean_text, html_to_text
from agora.sources.base import SourceContext
from agora.sources.fields import item_id, lang_tag, text_field, web_url
from agora.sources.http import (
    PayloadError,
    PoliteClient,
    Reply,
    SourceError,
    describe_url,
    host_of,
)
from agora.sources.live import LiveSource

__all__ = ["FeedEntry", "RssSource", "entry_to_post", "parse_feed"]

#: Entry ids remembered per feed.
SEEN_PER_FEED = 1_000
#: Longest wait a feed's ``ttl`` or ``max-age`` may impose, in seconds.
MAX_TTL = 6 * 3600.0
_MAX_AGE_RE = re.compile(r"max-age\s*=\s*(\d+)", re.IGNORECASE)
_EMAIL_RE = re.compile(r"\S+@\S+\.\w+")

FeedEntry = Mapping[str, Any]


def entry_time(entry: Mapping[str, Any]) -> datetime | None:
    """``published_parsed`` (else ``updated_parsed``) as aware UTC."""
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, OSError, ValueError):
                continue
    return None


def entry_media(entry: Mapping[str, Any]) -> tuple[Media, ...]:
    """Thumbnails, ``media:content`` and image or video enclosures."""
    media: list[Media] = []
    thumbs = entry.get("media_thumbnail")
    thumb = None
    if isinstance(thumbs, list):
        thumb = next((web_url(t.get("url")) for t in thumbs if isinstance(t, Mapping)), None)
    contents = entry.get("media_content")
    for item in contents if isinstance(contents, list) else []:
        if not isinstance(item, Mapping) or (url := web_url(item.get("url"))) is None:
            continue
        medium = text_field(item, "medium") or text_field(item, "type")
        kind = "video" if medium.startswith("video") else "image" if "image" in medium else None
        if kind is not None:
            media.append(Media(kind=kind, url=url, preview_url=thumb))  # type: ignore[arg-type]
    links = entry.get("links")
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, Mapping) or link.get("rel") != "enclosure":
            continue
        url = web_url(link.get("href"))
        kind_text = text_field(link, "type")
        if url and kind_text.startswith(("image/", "video/")):
            kind = "image" if kind_text.startswith("image/") else "video"
            media.append(Media(kind=kind, url=url, preview_url=thumb))  # type: ignore[arg-type]
    if not media and thumb:
        media.append(Media(kind="image", url=thumb, preview_url=thumb))
    unique: dict[str, Media] = {}
    for item in media:
        unique.setdefault(item.url, item)
    return tuple(unique.values())[:8]


def _author(entry: Mapping[str, Any], feed_title: str, feed_link: str | None) -> Author:
    detail = entry.get("author_detail")
    name = text_field(detail, "name") if isinstance(detail, Mapping) else ""
    url = web_url(detail.get("href")) if isinstance(detail, Mapping) else None
    name = _EMAIL_RE.sub("", name).strip(" ()<>")
    if not name:
        name = _EMAIL_RE.sub("", text_field(entry, "author")).strip(" ()<>")
    source = entry.get("source")
    if not name and isinstance(source, Mapping):
        name = text_field(source, "title")
        url = url or web_url(source.get("href"))
    name = clean_name(name) or clean_name(feed_title) or "unknown"
    return Author(handle=name, name=name, url=url or feed_link)


def entry_to_post(
    entry: Mapping[str, Any],
    *,
    kind: str,
    feed: str,
    feed_url: str,
    feed_title: str = "",
    feed_link: str | None = None,
    lang: str | None = None,
    now: datetime | None = None,
) -> Post:
    """A feed entry (as parsed by feedparser) as a :class:`Post`. Raises
    :class:`~agora.core.post.PostError` when it has neither id nor link, or no text."""
    native = text_field(entry, "id") or text_field(entry, "link")
    if not native:
        raise PostError("missing-id", "entry has neither id nor link")
    native = native.strip()
    post_id = item_id(kind, native) if ":" in native else item_id(kind, host_of(feed_url), native)
    title = clean_text(html_to_text(text_field(entry, "title")), 1_000)
    source = entry.get("source")
    publisher = text_field(source, "title") if isinstance(source, Mapping) else ""
    if publisher and title.endswith(f" - {publisher}"):
        title = title[: -len(publisher) - 3].rstrip()
    body = ""
    contents = entry.get("content")
    if isinstance(contents, list) and contents and isinstance(contents[0], Mapping):
        body = text_field(contents[0], "value")
    body = html_to_text(body or text_field(entry, "summary"))
    if body and title and body.startswith(title):
        extra = body[len(title) :].strip(" -–—·|")
        if not extra or extra == publisher:
            body = ""  # the summary only repeats the title (and names the publisher)
        else:
            title = ""
    elif body and title and title.startswith(body):
        body = ""
    text = " ".join(part for part in (title, body) if part)
    if not text:
        raise PostError("empty-text", f"entry {native[:80]} has no title or text")
    created = entry_time(entry) or now or datetime.now(UTC)
    return Post(
        id=post_id,
        source=kind,
        feed=feed,
        text=clean_text(text),
        created_at=created,
        author=_author(entry, feed_title, feed_link),
        url=web_url(entry.get("link")),
        lang=lang,
        media=entry_media(entry),
    )


def parse_feed(reply: Reply) -> Any:
    """Parse a feed answer; raises :class:`PayloadError` when it is not a feed at all."""
    headers = {k.lower(): v for k, v in reply.headers.items()}
    headers.setdefault("content-location", reply.url)
    parsed = feedparser.parse(reply.content, response_headers=headers)
    if not parsed.entries and (parsed.bozo or not parsed.version):
        start = reply.content.lstrip()[:200].lower()
        if "html" in reply.content_type or start.startswith((b"<!doctype html", b"<html")):
            raise PayloadError(f"{reply.where} answered with an HTML page, not a feed")
        if not reply.content.strip():
            raise PayloadError(f"{reply.where} answered with an empty body")
        raise PayloadError(f"{reply.where} is not a readable RSS or Atom feed")
    return parsed


def cache_seconds(reply: Reply, parsed: Any) -> float:
    """How long the feed may be left alone: its ``ttl`` (minutes) or the answer's ``max-age``."""
    wait = 0.0
    ttl = parsed.feed.get("ttl") if hasattr(parsed, "feed") else None
    if isinstance(ttl, str) and ttl.strip().isdigit():
        wait = float(ttl.strip()) * 60.0
    match = _MAX_AGE_RE.search(reply.headers.get("cache-control", ""))
    if match:
        wait = max(wait, float(match.group(1)))
    return min(wait, MAX_TTL)


class RssSource(LiveSource):
    """Entries of one or more feeds; see the module docstring."""

    kind: ClassVar[str] = "rss"
    default_every: ClassVar[float] = 300.0
    min_every: float = 60.0

    def __init__(self, config: Any, context: SourceContext) -> None:
        super().__init__(config, context)
        self.config: schema.RssSource = config
        urls = config.feed_urls
        self.host = host_of(urls[0]) if len(urls) == 1 else ""

    @property
    def where(self) -> str:
        """The feed's host, or the source's name for several feeds."""
        return self.host or self.name

    def _feed_state(self, url: str) -> dict[str, Any]:
        feeds = self.state.setdefault("feeds", {})
        if not isinstance(feeds, dict):
            feeds = self.state["feeds"] = {}
        entry = feeds.setdefault(url, {})
        if not isinstance(entry, dict):
            entry = feeds[url] = {}
        return entry

    async def poll_feed(self, client: PoliteClient, url: str, now: float) -> list[Post]:
        """New entries of one feed (nothing while its ttl runs or when it did not change)."""
        state = self._feed_state(url)
        next_at = state.get("next_at")
        if isinstance(next_at, int | float) and now < next_at:
            return []
        reply = await client.request("GET", url, conditional=True)
        if not reply.not_modified:
            try:
                parsed = parse_feed(reply)
            except SourceError:
                # not read: the next round must get the whole answer again, not a 304
                client.validators.pop(url, None)
                raise
        validators = client.validators.get(url)
        if validators is not None:
            self.state.setdefault("validators", {})[url] = list(validators)
        if reply.not_modified:
            return []
        wait = cache_seconds(reply, parsed)
        if wait > self.every:
            state["next_at"] = now + wait
        else:
            state.pop("next_at", None)
        if parsed.bozo:
            self.report_item(
                "malformed-feed",
                f"{describe_url(url)} is not well-formed ({type(parsed.bozo_exception).__name__});"
                " reading what it holds",
            )
        feed_info = parsed.feed
        feed_title = clean_name(str(feed_info.get("title") or ""))
        feed_link = web_url(feed_info.get("link"))
        lang = feed_info.get("language")
        seen: list[str] = list(state.get("seen") or [])
        seen_set = set(seen)
        posts: list[Post] = []
        clock = self.context.clock()
        for entry in parsed.entries:
            post = self.read_item(
                f"{describe_url(url)}: ",
                entry_to_post,
                entry,
                kind=self.kind,
                feed=self.name,
                feed_url=url,
                feed_title=feed_title,
                feed_link=feed_link,
                lang=lang_tag(lang),
                now=clock,
            )
            if post is None:
                continue
            if post.id in seen_set:
                continue
            seen_set.add(post.id)
            seen.append(post.id)
            posts.append(post)
        state["seen"] = seen[-SEEN_PER_FEED:]
        return posts

    async def poll(self, limit: int | None = None) -> list[Post]:
        """One round over every feed."""
        client = self.client
        assert client is not None, "poll() runs inside session()"
        now = time.time()
        posts: list[Post] = []
        errors: list[SourceError] = []
        urls = self.config.feed_urls
        for url in urls:
            try:
                posts.extend(await self.poll_feed(client, url, now))
            except SourceError as exc:
                if len(urls) == 1:
                    raise
                errors.append(exc)
                self.report_item("feed-failed", exc.message)
        if errors and len(errors) == len(urls):
            raise errors[0]
        # only for a round whose entries are handed over (a failed feed changed nothing of its
        # own state: it is asked again next round)
        self.save_state()
        posts.sort(key=lambda p: p.created_at)
        return posts

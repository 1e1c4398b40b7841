"""Bluesky: the Jetstream firehose matched locally, or ``searchPosts`` with a login
(``kind = "bluesky"``).

``mode = "jetstream"`` (default, no account needed): one WebSocket to
``<jetstream_url>?wantedCollections=app.bsky.feed.post``. Each event is decoded and, when it
creates a post whose text (or link card) matches ``keywords`` (default: every configured topic's
terms; case- and accent-insensitive, whole words, as topics match), becomes a post. Events carry
only the author's DID and the raw record, so matched posts are completed in batches of up to 25:
``app.bsky.actor.getProfiles`` (handle, display name, avatar, follower count; cached for hours)
and ``app.bsky.feed.getPosts`` (counts and embed views, when the AppView has indexed the post
already). When look-ups fail the posts still go out, with the DID as handle.

``time_us`` of the last event is the saved cursor (written at most once a second). On every
(re)connection the stream resumes :data:`RESUME_BACK_US` before it and events already handled are
skipped, so neither a dropped connection nor a restart loses or repeats a post. A ``delete`` of a
post this source showed removes it from the wall; the newest shown posts are saved too (as
``<name>:emitted``), so that holds across a restart.

``mode = "search"``: ``app.bsky.feed.searchPosts?q=…&sort=latest&since=…`` (which needs a login
on the public AppView since 2025: ``handle`` and an **app password**). The session from
``com.atproto.server.createSession`` (limited to 30 a 5 minutes, 300 a day) is kept and renewed with
``com.atproto.server.refreshSession``; only when that fails is a new one created. The newest
``indexedAt`` and the posts seen at it are the saved cursor. Results come newest first; when more
than :attr:`BlueskySource.pages_per_round` pages arrived since the last round, the page ``cursor``
is kept in the state (``gap``) and the next rounds read on from it, older and older, until the
burst is read whole; only then does the saved place move to the newest post of the burst.

Every record and view is read defensively: a hostile shape (``"images": true``, a label that is a
list) costs that post only, and the stream's reader and the task that completes and hands over
matched posts carry on after any unexpected error (shown in health).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar, Final
from urllib.parse import urlencode

import orjson
import websockets
from websockets.asyncio.client import connect

from agora.config import schema
from agora.core.post import Author, Media, Metrics, Post, PostError
from agora.core.text import clean_name, clean_text
from agora.core.topics import TopicMatcher
from agora.sources.base import Sink, SourceContext
from agora.sources.fields import (
    count_field,
    item_id,
    lang_tag,
    post_time,
    ref_id,
    text_field,
    web_url,
)
from agora.sources.http import (
    USER_AGENT,
    AuthError,
    PayloadError,
    PoliteClient,
    RateLimitedError,
    RequestError,
    SourceError,
    TransientError,
    host_of,
    unresolved,
    wait_or_stop,
)
from agora.sources.live import BoundedSet, LiveSource

__all__ = [
    "BlueskySource",
    "KeywordFilter",
    "postview_to_post",
    "record_to_post",
]

POST_COLLECTION: Final = "app.bsky.feed.post"
#: How far before the saved cursor a reconnection resumes, in microseconds.
RESUME_BACK_US: Final = 5_000_000
#: Most actors or URIs in one look-up (the API's limit).
LOOKUP_BATCH: Final = 25
#: Self-labels and labeller labels that make a post sensitive.
ADULT_LABELS: Final = frozenset({"porn", "sexual", "nudity", "graphic-media", "gore", "nsfl"})
CDN: Final = "https://cdn.bsky.app/img"
VIDEO: Final = "https://video.bsky.app/watch"


def _list_of(data: object, key: str) -> list[Any]:
    """``data[key]`` when ``data`` is a mapping and that is a list, else ``[]``."""
    value = data.get(key) if isinstance(data, Mapping) else None
    return value if isinstance(value, list) else []


def post_uri(did: str, rkey: str) -> str:
    """``at://did/app.bsky.feed.post/rkey``."""
    return f"at://{did}/{POST_COLLECTION}/{rkey}"


def post_url(uri: str, handle: str | None = None) -> str | None:
    """``https://bsky.app/profile/<handle or did>/post/<rkey>`` for a post URI."""
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3 or parts[1] != POST_COLLECTION:
        return None
    return web_url(f"https://bsky.app/profile/{handle or parts[0]}/post/{parts[2]}")


def _labels(*sources: object) -> bool:
    for source in sources:
        values: object = source
        if isinstance(source, Mapping):  # self-labels: {"$type": …selfLabels, "values": [...]}
            values = source.get("values")
        for label in values if isinstance(values, list) else []:
            # as text first: a list or an object is unhashable, and no label anyway
            if isinstance(label, Mapping) and text_field(label, "val") in ADULT_LABELS:
                return True
    return False


def _blob_cid(blob: object) -> str:
    if isinstance(blob, Mapping):
        return text_field(blob.get("ref"), "$link") or text_field(
            blob, "cid"
        )  # "cid": legacy blobs
    return ""


def record_media(did: str, embed: object) -> tuple[Media, ...]:
    """Media of a raw post record's ``embed`` (images, video, link card), with CDN URLs."""
    if not isinstance(embed, Mapping):
        return ()
    kind = text_field(embed, "$type")
    if kind == "app.bsky.embed.recordWithMedia":
        return record_media(did, embed.get("media"))
    out: list[Media] = []
    if kind == "app.bsky.embed.images":
        images = embed.get("images")
        for image in images if isinstance(images, list) else []:
            cid = _blob_cid(image.get("image")) if isinstance(image, Mapping) else ""
            url = web_url(f"{CDN}/feed_fullsize/plain/{did}/{cid}@jpeg") if cid else None
            if url:
                out.append(
                    Media(
                        kind="image",
                        url=url,
                        preview_url=web_url(f"{CDN}/feed_thumbnail/plain/{did}/{cid}@jpeg"),
                        alt=clean_text(text_field(image, "alt"), 1_000),
                    )
                )
    elif kind == "app.bsky.embed.video":
        cid = _blob_cid(embed.get("video"))
        url = web_url(f"{VIDEO}/{did}/{cid}/playlist.m3u8") if cid else None
        if url:
            out.append(
                Media(
                    kind="video",
                    url=url,
                    preview_url=web_url(f"{VIDEO}/{did}/{cid}/thumbnail.jpg"),
                    alt=clean_text(text_field(embed, "alt"), 1_000),
                )
            )
    elif kind == "app.bsky.embed.external":
        external = embed.get("external")
        url = web_url(text_field(external, "uri"))
        if url:
            out.append(
                Media(kind="link", url=url, alt=clean_text(text_field(external, "title"), 300))
            )
    return tuple(out[:8])


def view_media(embed: object) -> tuple[Media, ...]:
    """Media of a post view's hydrated ``embed`` (``…#view`` types)."""
    if not isinstance(embed, Mapping):
        return ()
    kind = text_field(embed, "$type")
    if kind == "app.bsky.embed.recordWithMedia#view":
        return view_media(embed.get("media"))
    out: list[Media] = []
    if kind == "app.bsky.embed.images#view":
        images = embed.get("images")
        for image in images if isinstance(images, list) else []:
            url = web_url(text_field(image, "fullsize"))
            if url:
                out.append(
                    Media(
                        kind="image",
                        url=url,
                        preview_url=web_url(text_field(image, "thumb")),
                        alt=clean_text(text_field(image, "alt"), 1_000),
                    )
                )
    elif kind == "app.bsky.embed.video#view":
        url = web_url(text_field(embed, "playlist"))
        if url:
            out.append(
                Media(
                    kind="video",
                    url=url,
                    preview_url=web_url(text_field(embed, "thumbnail")),
                    alt=clean_text(text_field(embed, "alt"), 1_000),
                )
            )
    elif kind == "app.bsky.embed.external#view":
        external = embed.get("external")
        url = web_url(text_field(external, "uri"))
        if url:
            out.append(
                Media(
                    kind="link",
                    url=url,
                    preview_url=web_url(text_field(external, "thumb")),
                    alt=clean_text(text_field(external, "title"), 300),
                )
            )
    return tuple(out[:8])


def _text(record: Mapping[str, Any], media: Sequence[Media]) -> str:
    text = clean_text(text_field(record, "text"))
    if not text:
        text = " ".join(m.alt for m in media if m.alt)
    return text


def _reply_to(record: Mapping[str, Any]) -> str | None:
    reply = record.get("reply")
    parent = reply.get("parent") if isinstance(reply, Mapping) else None
    uri = text_field(parent, "uri")
    return ref_id("bluesky", uri) if uri.startswith("at://") else None


def _lang(record: Mapping[str, Any]) -> str | None:
    langs = record.get("langs")
    return lang_tag(langs[0]) if isinstance(langs, list) and langs else None


def record_to_post(
    did: str, rkey: str, record: object, *, feed: str, author: Author | None = None
) -> Post:
    """A raw ``app.bsky.feed.post`` record (as Jetstream sends it) as a :class:`Post`."""
    if not isinstance(record, Mapping):
        raise PostError("not-an-object", "commit without a record")
    if not did.startswith("did:") or not rkey:
        raise PostError("missing-id", "event without did or rkey")
    uri = post_uri(did, rkey)
    media = record_media(did, record.get("embed"))
    text = _text(record, media)
    if not text:
        raise PostError("empty-text", f"{uri} has no text")
    who = author or Author(handle=did, name=did)
    return Post(
        id=item_id("bluesky", uri),
        source="bluesky",
        feed=feed,
        text=text,
        created_at=post_time(record.get("createdAt")),
        author=who,
        url=post_url(uri, who.handle if not who.handle.startswith("did:") else None),
        lang=_lang(record),
        media=media,
        reply_to=_reply_to(record),
        sensitive=_labels(record.get("labels")),
    )


def profile_to_author(profile: Mapping[str, Any]) -> Author | None:
    """An :class:`Author` from a ``profileView`` (basic or detailed)."""
    handle = clean_name(text_field(profile, "handle"))
    if not handle or handle == "handle.invalid":
        handle = clean_name(text_field(profile, "did"))
    if not handle:
        return None
    return Author(
        handle=handle,
        name=clean_name(text_field(profile, "displayName")) or handle,
        url=web_url(f"https://bsky.app/profile/{handle}"),
        avatar_url=web_url(text_field(profile, "avatar")),
        followers=count_field(profile, "followersCount"),
    )


def postview_to_post(view: object, *, feed: str, followers: int | None = None) -> Post:
    """A hydrated ``postView`` (searchPosts, getPosts) as a :class:`Post`."""
    if not isinstance(view, Mapping):
        raise PostError("not-an-object", "post view is not an object")
    uri = text_field(view, "uri")
    if not uri.startswith("at://"):
        raise PostError("missing-id", "post view has no at:// uri")
    record = view.get("record")
    if not isinstance(record, Mapping):
        raise PostError("missing-record", f"{uri} has no record")
    author_view = view.get("author")
    author = profile_to_author(author_view) if isinstance(author_view, Mapping) else None
    if author is None:
        raise PostError("missing-author", f"{uri} has no author")
    if followers is not None and author.followers is None:
        author = replace(author, followers=followers)
    media = view_media(view.get("embed")) or record_media(
        text_field(author_view, "did"), record.get("embed")
    )
    text = _text(record, media)
    if not text:
        raise PostError("empty-text", f"{uri} has no text")
    return Post(
        id=item_id("bluesky", uri),
        source="bluesky",
        feed=feed,
        text=text,
        created_at=post_time(record.get("createdAt") or view.get("indexedAt")),
        author=author,
        url=post_url(uri, author.handle),
        lang=_lang(record),
        metrics=Metrics(
            likes=count_field(view, "likeCount"),
            reposts=count_field(view, "repostCount"),
            replies=count_field(view, "replyCount"),
            quotes=count_field(view, "quoteCount"),
        ),
        media=media,
        reply_to=_reply_to(record),
        sensitive=_labels(record.get("labels"), view.get("labels")),
    )


class KeywordFilter:
    """Decides whether a post record is about the configured keywords."""

    def __init__(self, keywords: Sequence[str]) -> None:
        self.keywords = list(keywords)
        self._matcher = TopicMatcher({"keywords": self.keywords}) if self.keywords else None

    def __call__(self, record: Mapping[str, Any]) -> bool:
        if self._matcher is None:
            return False
        text = record.get("text")
        haystack = text if isinstance(text, str) else ""
        embed = record.get("embed")
        if isinstance(embed, Mapping):
            external = embed.get("external")
            if isinstance(external, Mapping):
                haystack = f"{haystack} {text_field(external, 'title')} {text_field(external, 'description')}"
        return bool(haystack) and bool(self._matcher.match_text(haystack))


class _ProfileCache:
    """DID → author, for a few hours, bounded."""

    def __init__(self, size: int = 20_000, ttl: float = 6 * 3600.0) -> None:
        self.size = size
        self.ttl = ttl
        self._items: OrderedDict[str, tuple[float, Author]] = OrderedDict()

    def get(self, did: str) -> Author | None:
        item = self._items.get(did)
        if item is None or time.monotonic() - item[0] > self.ttl:
            return None
        return item[1]

    def put(self, did: str, author: Author) -> None:
        self._items[did] = (time.monotonic(), author)
        self._items.move_to_end(did)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


class BlueskySource(LiveSource):
    """Jetstream with local matching, or searchPosts; see the module docstring."""

    kind: ClassVar[str] = "bluesky"
    default_every: ClassVar[float] = 30.0
    #: searchPosts: 3000 requests / 5 min; one request every two seconds is far inside.
    min_every: float = 2.0
    pages_per_round: int = 3
    #: Longest a matched post waits for its look-up batch, in seconds.
    batch_wait: float = 0.5
    #: Seconds to wait for the WebSocket handshake.
    open_timeout: float = 10.0
    #: Shown posts remembered across a restart (so their deletions still reach the wall), and how
    #: often that list is saved when it changed.
    emitted_kept: int = 2_000
    emitted_every: float = 5.0

    def __init__(self, config: Any, context: SourceContext) -> None:
        super().__init__(config, context)
        self.config: schema.BlueskySource = config
        self.base_url = config.base_url
        self.host = (
            host_of(config.jetstream_url.replace("ws", "http", 1))
            if config.mode == "jetstream"
            else host_of(config.base_url)
        )
        keywords = list(config.keywords)
        if not keywords:
            for topic in context.wall.topics.values():
                keywords.extend(topic.terms)
        self.matches = KeywordFilter(keywords)
        #: Complete matched posts with look-ups (off in the benchmark).
        self.lookups = True
        self.profiles = _ProfileCache()
        self.emitted = BoundedSet(50_000)
        self._emitted_at = 0.0
        self._emitted_matched = 0
        self.events = 0
        self.matched = 0
        self.time_us: int | None = None
        self._pending: list[tuple[str, str, Mapping[str, Any]]] = []
        self._wake = asyncio.Event()
        self._lookups_paused_until = 0.0
        self._session: dict[str, str] | None = None

    def requests_per_round(self) -> int:
        """One search request (more pages only when posts pile up)."""
        return 1

    # ==========================================================================================
    # Jetstream

    def stream_url(self) -> str:
        """The subscribe URL, with the resume cursor when there is one."""
        params: list[tuple[str, str]] = [("wantedCollections", POST_COLLECTION)]
        saved = self.time_us if self.time_us is not None else self.state.get("time_us")
        if isinstance(saved, int) and saved > 0:
            params.append(("cursor", str(max(0, saved - RESUME_BACK_US))))
        sep = "&" if "?" in self.config.jetstream_url else "?"
        return f"{self.config.jetstream_url}{sep}{urlencode(params)}"

    def on_message(self, message: str | bytes) -> None:
        """Decode one Jetstream event: match, queue for look-ups, or pass on a deletion. An
        event that cannot be handled costs itself only: skipping it here matters, as a reconnection
        would resume before it and meet it again."""
        self.events += 1
        self.read_item("Jetstream: ", self._on_event, message)

    def _on_event(self, message: str | bytes) -> None:
        try:
            event = orjson.loads(message)
        except orjson.JSONDecodeError:
            self.report_item("invalid-json", "an event that is not valid JSON")
            return
        if not isinstance(event, dict):
            self.report_item("not-an-object", "an event that is not an object")
            return
        stamp = event.get("time_us")
        if (
            isinstance(stamp, int)
            and not isinstance(stamp, bool)
            and (self.time_us is None or stamp > self.time_us)
        ):
            self.time_us = stamp
        if event.get("kind") != "commit":
            return
        commit = event.get("commit")
        if not isinstance(commit, dict) or commit.get("collection") != POST_COLLECTION:
            return
        did = event.get("did")
        rkey = commit.get("rkey")
        if not isinstance(did, str) or not isinstance(rkey, str):
            self.report_item("missing-id", "a commit without did or rkey")
            return
        operation = commit.get("operation")
        if operation == "create":
            record = commit.get("record")
            if not isinstance(record, dict):
                self.report_item("not-an-object", "a create without a record")
                return
            if not self.matches(record):
                return
            uri = post_uri(did, rkey)
            if uri in self.emitted:
                return  # seen before the reconnection
            self.emitted.add(uri)
            self.matched += 1
            self._pending.append((did, rkey, record))
            if len(self._pending) >= LOOKUP_BATCH:
                self._wake.set()
        elif operation == "delete":
            uri = post_uri(did, rkey)
            if uri in self.emitted:
                self.emitted.discard(uri)
                self.context.delete([f"bluesky:{uri}"])

    async def _lookup(
        self, client: PoliteClient, batch: Sequence[tuple[str, str, Any]]
    ) -> list[Post]:
        """Complete a batch of matched records with profiles and post views."""
        dids = sorted({did for did, _, _ in batch if self.profiles.get(did) is None})
        views: dict[str, Mapping[str, Any]] = {}
        if self.lookups and time.monotonic() >= self._lookups_paused_until:
            try:
                if dids:
                    data, _ = await client.get_json(
                        f"{self.base_url}/xrpc/app.bsky.actor.getProfiles",
                        params=[("actors", did) for did in dids[:LOOKUP_BATCH]],
                    )
                    for profile in _list_of(data, "profiles"):
                        author = (
                            self.read_item("getProfiles: ", profile_to_author, profile)
                            if isinstance(profile, Mapping)
                            else None
                        )
                        did = text_field(profile, "did")
                        if author is not None and did:
                            self.profiles.put(did, author)
                uris = [post_uri(did, rkey) for did, rkey, _ in batch]
                data, _ = await client.get_json(
                    f"{self.base_url}/xrpc/app.bsky.feed.getPosts",
                    params=[("uris", uri) for uri in uris],
                )
                for view in _list_of(data, "posts"):
                    if isinstance(view, Mapping) and isinstance(view.get("uri"), str):
                        views[view["uri"]] = view
            except SourceError as exc:
                if exc.retry_after:
                    self._lookups_paused_until = time.monotonic() + exc.retry_after
                self.report_item(
                    "lookup-failed",
                    f"look-ups failed ({exc.message}); "
                    "posts shown with their DID until they work again",
                )
        return self._to_posts(batch, views)

    def _to_posts(
        self,
        batch: Sequence[tuple[str, str, Any]],
        views: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> list[Post]:
        """Posts of matched records (from their post views when the look-ups found them); a
        record that cannot become a post is skipped and reported, whatever it holds."""
        posts: list[Post] = []
        for did, rkey, record in batch:
            author = self.profiles.get(did)
            view = (views or {}).get(post_uri(did, rkey))
            post = (
                self.read_item(
                    "",
                    postview_to_post,
                    view,
                    feed=self.name,
                    followers=author.followers if author else None,
                )
                if view is not None
                else self.read_item(
                    "", record_to_post, did, rkey, record, feed=self.name, author=author
                )
            )
            if post is not None:
                posts.append(post)
        return posts

    async def _flush(self, client: PoliteClient, sink: Sink) -> None:
        while self._pending:
            batch = self._pending[:LOOKUP_BATCH]
            try:
                posts = await self._lookup(client, batch)
            except asyncio.CancelledError:
                raise  # the batch stays pending: the way out hands it over without look-ups
            except Exception as exc:  # the look-ups' bug must not hold the posts back
                self.unexpected("completing matched posts", exc)
                posts = self._to_posts(batch)
            # taken off only now: a cancellation during the look-ups leaves the batch pending;
            # the stream only appends, so the batch is still the list's head
            self._pending = self._pending[len(batch) :]
            if posts:
                sink(posts)
                self.count_posts(len(posts))

    async def _flusher(self, client: PoliteClient, sink: Sink, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                await self._flush(client, sink)
                # every event up to time_us is handed over or unmatched (no await since the
                # last batch went out), so the place may move there
                if self.time_us is not None:
                    self.state["time_us"] = self.time_us
                    self.save_state_soon()
                self._save_emitted()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the stream reads on; the next pass tries again
                self.unexpected("handing over matched posts", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.batch_wait)

    @property
    def _emitted_key(self) -> str:
        return f"{self.name}:emitted"

    def _load_emitted(self) -> None:
        """The posts shown before a restart, so their deletions still reach the wall."""
        try:
            raw = self.context.get_cursor(self._emitted_key)
            uris = orjson.loads(raw) if raw else []
        except Exception:  # unreadable: deletions of older posts are missed, nothing else
            uris = []
        for uri in uris if isinstance(uris, list) else []:
            if isinstance(uri, str):
                self.emitted.add(uri)

    def _save_emitted(self, *, force: bool = False) -> None:
        """Keep the newest shown post URIs (only when some were added, every few seconds)."""
        now = time.monotonic()
        if self.matched == self._emitted_matched and not force:
            return
        if not force and now - self._emitted_at < self.emitted_every:
            return
        self._emitted_at = now
        self._emitted_matched = self.matched
        newest = [str(uri) for uri in self.emitted.newest(self.emitted_kept)]
        try:
            self.context.set_cursor(self._emitted_key, orjson.dumps(newest).decode())
        except Exception as exc:  # a store problem must not stop the stream
            self.problems.report("cursor-save", f"{self.name}: could not save shown posts: {exc}")

    async def _read_jetstream(self) -> None:
        async with connect(
            self.stream_url(),
            user_agent_header=USER_AGENT,
            open_timeout=self.open_timeout,
            close_timeout=0.3,
            max_size=4 * 1024 * 1024,
        ) as ws:
            self.succeed(0)
            async for message in ws:
                self.on_message(message)
                await self.context.room()

    async def _jetstream_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._read_jetstream()
                delay = self.fail(TransientError(f"{self.host}: Jetstream closed the connection"))
            except asyncio.CancelledError:
                raise
            except websockets.InvalidStatus as exc:
                status = exc.response.status_code
                if status == 429:
                    delay = self.fail(
                        RateLimitedError(f"{self.host}: rate limited (429)", retry_after=60.0)
                    )
                elif status in (401, 403):
                    delay = self.fail(AuthError(f"{self.host}: refused the connection ({status})"))
                else:
                    delay = self.fail(TransientError(f"{self.host}: answered {status}"))
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                reason = (
                    "the connection was lost"
                    if isinstance(exc, websockets.ConnectionClosed)
                    else ("no answer" if isinstance(exc, TimeoutError) else "cannot connect")
                )
                if unresolved(exc):
                    reason = f"cannot connect: no such host {self.host} (DNS)"
                delay = self.fail(TransientError(f"{self.host}: {reason}"))
            except Exception as exc:  # never let the reader stop: reconnect after a pause
                self.logger.exception("%s: unexpected error reading Jetstream", self.name)
                delay = self.fail(SourceError(f"{self.host}: unexpected error ({exc})"))
            if await wait_or_stop(stop, delay):
                return

    async def run(self, sink: Sink, stop: asyncio.Event) -> None:
        """Search rounds, or Jetstream until ``stop`` is set."""
        if self.config.mode == "search":
            await super().run(sink, stop)
            return
        self._wake = asyncio.Event()
        self._load_emitted()
        async with self.session() as client:
            reader = asyncio.create_task(self._jetstream_loop(stop), name=f"jetstream:{self.name}")
            flusher = asyncio.create_task(self._flusher(client, sink, stop))
            try:
                await stop.wait()
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
                flusher.cancel()
                await asyncio.gather(flusher, return_exceptions=True)
                if self._pending:
                    self.lookups = False  # no more network on the way out
                    await self._flush(client, sink)
                if self.time_us is not None:
                    self.state["time_us"] = self.time_us
                    self.save_state()
                self._save_emitted(force=True)

    async def fetch(self, limit: int | None = None) -> list[Post]:
        """One search, or a listen to Jetstream of ``context.listen_seconds``."""
        if self.config.mode == "jetstream":
            return await self.listen(limit)
        return await super().fetch(limit)

    # ==========================================================================================
    # search

    async def _create_session(self, client: PoliteClient) -> dict[str, str]:
        handle, password = self.config.handle, self.config.app_password
        assert handle is not None
        assert password is not None
        try:
            reply = await client.request(
                "POST",
                f"{self.base_url}/xrpc/com.atproto.server.createSession",
                json={"identifier": handle, "password": password.get()},
                expect="json",
            )
        except (AuthError, RequestError) as exc:
            if exc.status in (400, 401, 403):
                raise AuthError(
                    f"{self.host}: the handle or app password was refused ({exc.status})",
                    status=exc.status,
                ) from None
            raise
        data = reply.json()
        access, refresh = text_field(data, "accessJwt"), text_field(data, "refreshJwt")
        if not access:
            raise AuthError(f"{self.host}: the login answer has no session token")
        return {"access": access, "refresh": refresh}

    async def _refresh_session(self, client: PoliteClient) -> dict[str, str] | None:
        if not self._session or not self._session.get("refresh"):
            return None
        try:
            reply = await client.request(
                "POST",
                f"{self.base_url}/xrpc/com.atproto.server.refreshSession",
                headers={"Authorization": f"Bearer {self._session['refresh']}"},
                expect="json",
            )
        except (AuthError, RequestError):
            return None
        data = reply.json()
        access = text_field(data, "accessJwt")
        return {"access": access, "refresh": text_field(data, "refreshJwt")} if access else None

    async def _search_page(self, client: PoliteClient, params: dict[str, Any]) -> Any:
        url = f"{self.base_url}/xrpc/app.bsky.feed.searchPosts"
        if self.config.handle is None:
            try:
                data, _ = await client.get_json(url, params=params)
            except AuthError as exc:
                raise AuthError(
                    f"{self.host}: searchPosts needs a login (handle and app_password)",
                    status=exc.status,
                ) from None
            return data
        for attempt in range(3):
            if self._session is None:
                self._session = await self._create_session(client)
            headers = {"Authorization": f"Bearer {self._session['access']}"}
            try:
                data, _ = await client.get_json(url, params=params, headers=headers)
                return data
            except (AuthError, RequestError) as exc:
                expired = exc.status == 401 or (exc.status == 400 and b"ExpiredToken" in exc.body)
                if not expired or attempt == 2:
                    raise
                self._session = await self._refresh_session(client) if attempt == 0 else None
        raise AuthError(f"{self.host}: could not keep a session")  # pragma: no cover

    async def poll(self, limit: int | None = None) -> list[Post]:
        """``mode = "search"``: posts since the saved ``indexedAt``, or the next pages of a
        burst that one round could not read whole (see the module docstring)."""
        client = self.client
        assert client is not None, "poll() runs inside session()"
        since = self.state.get("since")
        since = since if isinstance(since, str) else None
        seen = {s for s in self.state.get("seen") or () if isinstance(s, str)}
        gap = self.state.get("gap")
        gap = gap if isinstance(gap, dict) and isinstance(gap.get("cursor"), str) else None
        params: dict[str, Any] = {"q": self.config.query, "sort": "latest", "limit": 100}
        if since is not None:
            params["since"] = since
        # the newest post read so far (of this round, or of the burst being read), and those at
        # it; the oldest read of the burst, and those at it
        top = since
        at_top = set(seen)
        floor: str | None = None
        at_floor: set[str] = set()
        if gap is not None and since is not None:
            params["cursor"] = gap["cursor"]
            if isinstance(gap.get("top"), str) and gap["top"] > since:
                top = gap["top"]
                at_top = {s for s in gap.get("top_seen") or () if isinstance(s, str)}
            if isinstance(gap.get("floor"), str):
                floor = gap["floor"]
                at_floor = {s for s in gap.get("floor_seen") or () if isinstance(s, str)}
        read_before = (floor, frozenset(at_floor))
        posts: list[Post] = []
        more: str | None = None  # the page cursor where reading stopped with pages left
        for _ in range(self.pages_per_round if since else 1):
            try:
                data = await self._search_page(client, params)
            except RequestError as exc:
                if exc.status != 400 or gap is None or params.get("cursor") != gap["cursor"]:
                    raise
                # the saved page cursor is refused (the server forgot it): read the burst again
                # from the saved place, newest first; what comes twice the wall counts once
                self.logger.warning(
                    "%s: the server no longer takes the saved page cursor; reading the burst "
                    "again from %s",
                    self.name,
                    since,
                )
                del self.state["gap"]
                return await self.poll(limit)
            views = data.get("posts") if isinstance(data, Mapping) else None
            if not isinstance(views, list):
                raise PayloadError(f"{self.host}: the answer has no list of posts")
            for view in views:
                post = self.read_item("", postview_to_post, view, feed=self.name)
                if post is None:
                    continue
                indexed = text_field(view, "indexedAt") or text_field(
                    view.get("record"), "createdAt"
                )
                if post.id in seen or (since is not None and indexed < since):
                    continue  # seen, or older than asked for
                old_floor, old_at_floor = read_before
                if old_floor is not None and (
                    indexed > old_floor or (indexed == old_floor and post.id in old_at_floor)
                ):
                    continue  # read by an earlier round of this burst (new posts shift pages)
                posts.append(post)
                if top is None or indexed > top:
                    top, at_top = indexed, {post.id}
                elif indexed == top:
                    at_top.add(post.id)
                if floor is None or indexed < floor:
                    floor, at_floor = indexed, {post.id}
                elif indexed == floor:
                    at_floor.add(post.id)
            cursor = data.get("cursor")
            more = cursor if isinstance(cursor, str) and cursor and len(views) >= 100 else None
            if more is None or (limit and len(posts) >= limit):
                break
            params["cursor"] = more
        if more is not None and since is not None:
            # a burst larger than one round: the place stays, the next round reads on from here
            self.state["gap"] = {
                "cursor": more,
                "top": top,
                "top_seen": sorted(at_top)[-500:],
                "floor": floor,
                "floor_seen": sorted(at_floor)[-500:],
            }
            self.logger.info(
                "%s: more posts than %d pages since the last round; reading on next round",
                self.name,
                self.pages_per_round,
            )
        else:
            self.state.pop("gap", None)
            if top:
                self.state["since"] = top
                self.state["seen"] = sorted(at_top)[-500:]
        self.save_state()
        posts.sort(key=lambda p: p.created_at)
        return posts

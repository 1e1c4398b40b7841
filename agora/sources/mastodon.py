"""Mastodon (and compatible servers): hashtag timelines, polled or streamed (``kind = "mastodon"``).

Polling: ``GET /api/v1/timelines/tag/:tag?min_id=…&limit=40`` for each hashtag, forward from the
newest id seen (saved per hashtag in the source's state). A full page means more are waiting: up to
:attr:`MastodonSource.pages_per_round` pages are read in one round, oldest first, and the next round
reads on from there. The first round takes the newest page only (no backfill beyond it). A round
moves the saved place only when it is over and its posts are handed over: when one hashtag fails
(a 503), the round is read again from where it started, the hashtags already read included.

Access: ``GET /api/v2/instance`` (looked at once an hour) says in
``configuration.timelines_access.hashtag_feeds`` whether local and remote posts of tag feeds are
``public``, ``authenticated`` or ``disabled`` (Mastodon 4.5+). When neither is readable the source
says so in plain words — ``needs-auth`` ("hashtag timelines need login on this server") or
``disabled-by-server`` — instead of showing an empty wall as if nobody talked; when only one is,
the source asks for that one (``local=true`` / ``remote=true``). A 401 from the timeline means the
same.

Streaming (``streaming = true``, needs a user ``token`` since Mastodon 4.2): one server-sent events
connection per hashtag to ``/api/v1/streaming/hashtag?tag=…`` on the streaming host the instance
names (``configuration.urls.streaming``). ``update`` and ``status.update`` events become posts,
``delete`` events remove the post from the wall. Before every (re)connection the timeline is polled
from the saved cursor, page after page until it is read whole, so the gap while disconnected is
filled; a silent stream (no heartbeat for :attr:`MastodonSource.stream_read_timeout` seconds) is
reconnected with backoff.

Rate limit: 300 requests per 5 minutes per account and IP, so a round of ``n`` hashtags is spaced
at least ``2·n`` seconds apart (default every 30 s).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import orjson

from agora.config import schema
from agora.core.post import Author, Media, Metrics, Post, PostError
from agora.core.text import clean_name, clean_text, html_to_text
from agora.sources.base import Sink, SourceContext
from agora.sources.fields import (
    count_field,
    id_order,
    item_id,
    lang_tag,
    post_time,
    ref_id,
    text_field,
    url_field,
)
from agora.sources.http import (
    AuthError,
    DisabledError,
    PayloadError,
    PoliteClient,
    RequestError,
    SourceError,
    TransientError,
    host_of,
    iter_sse,
    wait_or_stop,
)
from agora.sources.live import LiveSource

__all__ = ["MastodonSource", "status_to_post"]

_MEDIA_KINDS = {"image": "image", "gifv": "video", "video": "video"}


def newest_id(ids: Sequence[str]) -> str | None:
    """The largest of some status ids."""
    return max(ids, key=id_order) if ids else None


def account_handle(account: Mapping[str, Any], host: str) -> str:
    """``@user@host`` for a local account, ``@user@other.host`` for a remote one."""
    acct = text_field(account, "acct") or text_field(account, "username")
    if not acct:
        raise PostError("missing-author", "status has no account")
    return clean_name(f"@{acct}" if "@" in acct else f"@{acct}@{host}")


def status_to_post(status: object, *, host: str, feed: str) -> Post | None:
    """A Mastodon ``Status`` as a :class:`Post`; ``None`` for a status that is not public.

    Raises :class:`~agora.core.post.PostError` when the status is malformed.
    """
    if not isinstance(status, Mapping):
        raise PostError("not-an-object", f"expected a status object, got {type(status).__name__}")
    raw_id = status.get("id")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise PostError("missing-id", "status has no id")
    if status.get("visibility") in ("private", "direct"):
        return None
    reblog = status.get("reblog")
    shown: Mapping[str, Any] = reblog if isinstance(reblog, Mapping) else status
    account = status.get("account")
    if not isinstance(account, Mapping):
        raise PostError("missing-author", f"status {raw_id} has no account")
    content = shown.get("content")
    if not isinstance(content, str):
        raise PostError("missing-text", f"status {raw_id} has no content")
    text = html_to_text(content)
    spoiler = clean_text(text_field(shown, "spoiler_text"))
    media: list[Media] = []
    attachments = shown.get("media_attachments")
    for item in attachments if isinstance(attachments, list) else []:
        if not isinstance(item, Mapping):
            continue
        url = url_field(item, "url") or url_field(item, "remote_url")
        if url is None:
            continue
        media.append(
            Media(
                kind=_MEDIA_KINDS.get(text_field(item, "type"), "link"),  # type: ignore[arg-type]
                url=url,
                preview_url=url_field(item, "preview_url"),
                alt=clean_text(text_field(item, "description"), 1_000),
            )
        )
    if not text:
        text = spoiler or " ".join(m.alt for m in media if m.alt)
    if not text:
        raise PostError("empty-text", f"status {raw_id} has no text")
    created = post_time(status.get("created_at"))
    name = clean_name(text_field(account, "display_name")) or clean_name(
        text_field(account, "username")
    )
    handle = account_handle(account, host)
    reply_to = status.get("in_reply_to_id")
    lang = shown.get("language")
    return Post(
        id=item_id("mastodon", host, raw_id),
        source="mastodon",
        feed=feed,
        text=text,
        created_at=created,
        author=Author(
            handle=handle,
            name=name or handle,
            url=url_field(account, "url"),
            avatar_url=url_field(account, "avatar"),
            followers=count_field(account, "followers_count"),
        ),
        url=url_field(status, "url") or url_field(shown, "url") or url_field(shown, "uri"),
        lang=lang_tag(lang),
        metrics=Metrics(
            likes=count_field(shown, "favourites_count"),
            reposts=count_field(shown, "reblogs_count"),
            replies=count_field(shown, "replies_count"),
            quotes=count_field(shown, "quotes_count"),
        ),
        media=tuple(media[:8]),
        reply_to=ref_id("mastodon", host, reply_to),
        is_repost=shown is not status,
        repost_of=ref_id("mastodon", host, shown.get("id")) if shown is not status else None,
        sensitive=bool(status.get("sensitive") or shown.get("sensitive") or spoiler),
        # a locked account (the booster's, or the boosted author's): never shown on a wall
        protected=account.get("locked") is True
        or (isinstance(shown.get("account"), Mapping) and shown["account"].get("locked") is True),
    )


def _ws_to_http(url: str) -> str:
    if url.startswith("wss://"):
        return "https://" + url[6:]
    if url.startswith("ws://"):
        return "http://" + url[5:]
    return url


class MastodonSource(LiveSource):
    """Hashtag timelines of one Mastodon server; see the module docstring."""

    kind: ClassVar[str] = "mastodon"
    default_every: ClassVar[float] = 30.0
    #: 300 requests / 5 min allow one a second; keep half of that.
    min_every: float = 2.0
    #: Most pages read per hashtag in one round when posts pile up.
    pages_per_round: int = 4
    #: Statuses per page (the API's maximum).
    page_limit: int = 40
    #: Seconds between two looks at ``/api/v2/instance``.
    instance_every: float = 3600.0
    #: A stream silent for this long (no event, no heartbeat) is reconnected.
    stream_read_timeout: float = 75.0
    #: Shortest interval between two saves of the cursor while streaming.
    save_every: float = 1.0

    def __init__(self, config: Any, context: SourceContext) -> None:
        super().__init__(config, context)
        self.config: schema.MastodonSource = config
        self.base_url = config.base_url
        self.host = host_of(config.base_url)
        self.streaming_url: str | None = None
        self._instance_at: float | None = None
        self._feed_params: dict[str, str] = {}
        self._access: dict[str, str] = {}
        #: Hashtags whose last read stopped with pages left (a stream catches up further).
        self._behind: set[str] = set()

    # -- requests ----------------------------------------------------------------------------

    @property
    def auth_headers(self) -> dict[str, str]:
        """``Authorization`` for the configured token (never logged)."""
        token = self.config.token
        return {"Authorization": f"Bearer {token.get()}"} if token is not None else {}

    def requests_per_round(self) -> int:
        """One request per hashtag."""
        return len(self.config.hashtags)

    def _tag_cursors(self) -> dict[str, str]:
        tags = self.state.setdefault("tags", {})
        if not isinstance(tags, dict):
            tags = self.state["tags"] = {}
        return tags

    async def check_instance(self, client: PoliteClient) -> None:
        """Read what the server allows (once an hour); raise when tag feeds cannot be read."""
        now = time.monotonic()
        if self._instance_at is not None and now - self._instance_at < self.instance_every:
            self._raise_if_closed()
            return
        try:
            data, _ = await client.get_json(
                f"{self.base_url}/api/v2/instance", headers=self.auth_headers
            )
        except (RequestError, PayloadError, AuthError):
            data = None  # an older or unusual server: the timeline itself will tell
        self._instance_at = now
        config = data.get("configuration") if isinstance(data, Mapping) else None
        config = config if isinstance(config, Mapping) else {}
        urls = config.get("urls")
        streaming = urls.get("streaming") if isinstance(urls, Mapping) else None
        self.streaming_url = (
            _ws_to_http(streaming).rstrip("/")
            if isinstance(streaming, str) and streaming.startswith(("ws", "http"))
            else None
        )
        access = config.get("timelines_access")
        feeds = access.get("hashtag_feeds") if isinstance(access, Mapping) else None
        self._access = {k: str(v) for k, v in feeds.items()} if isinstance(feeds, Mapping) else {}
        self._raise_if_closed()

    def _raise_if_closed(self) -> None:
        access = self._access
        if not access:
            self._feed_params = {}
            return
        has_token = self.config.token is not None

        def readable(scope: str) -> bool:
            value = access.get(scope, "public")
            return value == "public" or (value == "authenticated" and has_token)

        local, remote = readable("local"), readable("remote")
        if not local and not remote:
            if not has_token and "authenticated" in (access.get("local"), access.get("remote")):
                raise AuthError(f"{self.host}: hashtag timelines need login on this server")
            raise DisabledError(f"{self.host}: hashtag timelines are turned off on this server")
        self._feed_params = {}
        if local and not remote:
            self._feed_params = {"local": "true"}
        elif remote and not local:
            self._feed_params = {"remote": "true"}

    async def poll_tag(
        self, client: PoliteClient, tag: str, limit: int | None = None
    ) -> list[Post]:
        """New statuses of one hashtag since its cursor. The cursor moves only once every page
        is in (no await after that): a stream's save of the shared state between two pages must
        not carry a place whose posts are not handed over yet."""
        cursor = self._tag_cursors().get(tag)
        start = cursor
        url = f"{self.base_url}/api/v1/timelines/tag/{tag}"
        posts: list[Post] = []
        for _ in range(self.pages_per_round if cursor else 1):
            params: dict[str, str | int] = {"limit": self.page_limit, **self._feed_params}
            if cursor:
                params["min_id"] = cursor
            try:
                data, _ = await client.get_json(url, params=params, headers=self.auth_headers)
            except AuthError as exc:
                if exc.status == 401 and self.config.token is None:
                    raise AuthError(
                        f"{self.host}: hashtag timelines need login on this server", status=401
                    ) from None
                raise AuthError(
                    f"{self.host}: the access token was refused ({exc.status})", status=exc.status
                ) from None
            if not isinstance(data, list):
                raise PayloadError(f"{self.host}: the #{tag} timeline is not a list of statuses")
            ids: list[str] = []
            for status in data:
                raw_id = status.get("id") if isinstance(status, Mapping) else None
                if isinstance(raw_id, str) and raw_id:
                    ids.append(raw_id)
                post = self.read_item(
                    f"#{tag}: ", status_to_post, status, host=self.host, feed=self.name
                )
                if post is not None:
                    posts.append(post)
            newest = newest_id(ids)
            if newest is not None and (cursor is None or id_order(newest) > id_order(cursor)):
                cursor = newest
            if len(data) < self.page_limit or (limit and len(posts) >= limit):
                self._behind.discard(tag)
                break
        else:
            self._behind.add(tag)  # every page was full: more are waiting
        if cursor is not None and cursor != start:
            self._tag_cursors()[tag] = cursor
        return posts

    async def poll(self, limit: int | None = None) -> list[Post]:
        """One round over every hashtag."""
        client = self.client
        assert client is not None, "poll() runs inside session()"
        await self.check_instance(client)
        posts: list[Post] = []
        for tag in self.config.hashtags:
            posts.extend(await self.poll_tag(client, tag, limit))
        # only now, with every hashtag read: a failure above leaves the place where it was
        self.save_state()
        posts.sort(key=lambda p: p.created_at)
        return posts

    # -- streaming ---------------------------------------------------------------------------

    async def fetch(self, limit: int | None = None) -> list[Post]:
        """One polling round, or with ``streaming`` a listen of ``context.listen_seconds``."""
        if self.config.streaming:
            return await self.listen(limit)
        return await super().fetch(limit)

    async def run(self, sink: Sink, stop: asyncio.Event) -> None:
        """Poll, or stream every hashtag until ``stop`` is set."""
        if not self.config.streaming:
            await super().run(sink, stop)
            return
        async with self.session() as client:
            tasks = [
                asyncio.create_task(self._stream_tag(client, tag, sink, stop), name=f"sse:{tag}")
                for tag in self.config.hashtags
            ]
            try:
                await stop.wait()
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self.save_state()

    async def _stream_tag(
        self, client: PoliteClient, tag: str, sink: Sink, stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            try:
                await self.check_instance(client)
                caught = 0
                while True:  # fill the gap first, however many pages it takes
                    caught_up = await self.poll_tag(client, tag)
                    self.save_state()  # staged with the posts it covers, handed over just below
                    if caught_up:
                        sink(caught_up)
                    caught += len(caught_up)
                    if tag not in self._behind or stop.is_set():
                        break
                    await self.context.room()
                    if await wait_or_stop(stop, self.polite_floor()):
                        return
                await self._listen_tag(client, tag, sink, caught)
                delay = self.fail(TransientError(f"{self.host}: the #{tag} stream was closed"))
            except asyncio.CancelledError:
                raise
            except SourceError as exc:
                delay = self.fail(exc)
            except Exception as exc:  # never let one stream take the wall down
                self.logger.exception("%s: unexpected error in the #%s stream", self.name, tag)
                delay = self.fail(SourceError(f"{self.host}: unexpected error ({exc})"))
            if await wait_or_stop(stop, delay):
                return

    async def _listen_tag(self, client: PoliteClient, tag: str, sink: Sink, caught: int) -> None:
        base = self.streaming_url or self.base_url
        headers = {**self.auth_headers, "Accept": "text/event-stream"}
        async with client.stream(
            "GET",
            f"{base}/api/v1/streaming/hashtag",
            params={"tag": tag},
            headers=headers,
            read_timeout=self.stream_read_timeout,
        ) as response:
            self.succeed(caught)
            async for event, data in iter_sse(response.aiter_lines()):
                self._on_event(tag, event, data, sink)
                await self.context.room()

    def _on_event(self, tag: str, event: str, data: str, sink: Sink) -> None:
        if event == "delete":
            status_id = data.strip()
            if status_id:
                self.context.delete([f"mastodon:{self.host}:{status_id}"])
            return
        if event not in ("update", "status.update"):
            return
        try:
            status = orjson.loads(data)
        except orjson.JSONDecodeError:
            self.report_item("invalid-json", f"#{tag} stream: an event that is not valid JSON")
            return
        # a status that cannot be read costs itself only (a reconnection's catch-up would meet
        # it again and again)
        post = self.read_item(
            f"#{tag} stream: ", status_to_post, status, host=self.host, feed=self.name
        )
        if post is None:
            return
        sink([post])
        self.count_posts(1)
        if event == "update":
            status_id = post.id.rsplit(":", 1)[-1]
            cursors = self._tag_cursors()
            current = cursors.get(tag)
            if current is None or id_order(status_id) > id_order(current):
                cursors[tag] = status_id
                self.save_state_soon(self.save_every)

"""X (Twitter) API v2: recent search or the filtered stream, with a bearer token (``kind = "x"``).

``mode = "search"`` (default): ``GET /2/tweets/search/recent?query=…&since_id=…`` with the
expansions and fields that let one request carry authors and media (``includes`` are joined back
to each post). The newest id seen is the saved ``since_id``; when posts pile up, ``next_token``
pages are followed (at most :attr:`XSource.pages_per_round`). The first round reads one page.

``mode = "stream"``: the source keeps one rule, tagged ``agora:<name>``, whose value is the
``query`` (``/2/tweets/search/stream/rules``; a changed query replaces the old rule), then reads
``GET /2/tweets/search/stream``: newline-delimited JSON with ``\\r\\n`` keep-alives every 20 s. A
stream silent for :attr:`XSource.silence` seconds is dropped and reconnected with backoff (a 429
waits for the reset); before every reconnection a recent search from the saved ``since_id`` fills
the gap.

X bills every post read, so the source reads little: ``max_results`` (default 25) per request, the
polite floor of four seconds between requests (450 requests per 15 minutes allowed), and a log line
after each round with the posts read so far (also kept in the saved state as ``read``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import orjson

from agora.config import schema
from agora.core.post import Author, Media, Metrics, Post, PostError, parse_time
from agora.core.redact import redact
from agora.core.text import clean_name, clean_text
from agora.sources.base import Sink, SourceContext
from agora.sources.fields import count_field, id_order
from agora.sources.http import (
    AuthError,
    PayloadError,
    PoliteClient,
    SourceError,
    TransientError,
    host_of,
    wait_or_stop,
)
from agora.sources.live import LiveSource

__all__ = ["FIELDS", "XSource", "tweets_to_posts"]

#: What every request asks for, so authors and media come with the posts.
FIELDS: dict[str, str] = {
    "expansions": "author_id,attachments.media_keys,referenced_tweets.id",
    "tweet.fields": "created_at,lang,public_metrics,entities,attachments,referenced_tweets,"
    "possibly_sensitive,author_id",
    "user.fields": "name,username,profile_image_url,public_metrics,protected",
    "media.fields": "url,preview_image_url,type,alt_text,variants",
}


def _by(items: object, key: str) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    if isinstance(items, list):
        for item in items:
            if isinstance(item, Mapping) and isinstance(item.get(key), str):
                out[item[key]] = item
    return out


def _media(keys: object, media: Mapping[str, Mapping[str, Any]]) -> tuple[Media, ...]:
    out: list[Media] = []
    for key in keys if isinstance(keys, list) else []:
        item = media.get(key) if isinstance(key, str) else None
        if item is None:
            continue
        kind = item.get("type")
        preview = item.get("preview_image_url")
        preview = preview if isinstance(preview, str) and preview.startswith("https://") else None
        alt = clean_text(str(item.get("alt_text") or ""), 1_000)
        url = item.get("url")
        if kind == "photo" and isinstance(url, str) and url.startswith("https://"):
            out.append(Media(kind="image", url=url, preview_url=url, alt=alt))
        elif kind in ("video", "animated_gif"):
            variants = item.get("variants")
            mp4 = [
                v
                for v in (variants if isinstance(variants, list) else [])
                if isinstance(v, Mapping) and v.get("content_type") == "video/mp4"
            ]
            mp4.sort(key=lambda v: v.get("bit_rate") or 0)
            video = mp4[-1].get("url") if mp4 else None
            target = video if isinstance(video, str) and video.startswith("https://") else preview
            if target:
                out.append(Media(kind="video", url=target, preview_url=preview, alt=alt))
    return tuple(out[:8])


def tweets_to_posts(
    payload: Mapping[str, Any], *, feed: str, report: Any = None
) -> tuple[list[Post], list[str]]:
    """Posts from a v2 response (``data`` as a list or one object, with ``includes``).

    Returns ``(posts, ids)``: ``ids`` are every tweet id read (for the cursor), including those of
    malformed tweets, which are reported through ``report(kind, message)`` and skipped.
    """
    data = payload.get("data")
    tweets = data if isinstance(data, list) else [data] if isinstance(data, Mapping) else []
    includes = payload.get("includes") if isinstance(payload.get("includes"), Mapping) else {}
    assert isinstance(includes, Mapping)
    users = _by(includes.get("users"), "id")
    media = _by(includes.get("media"), "media_key")
    referenced = _by(includes.get("tweets"), "id")
    posts: list[Post] = []
    ids: list[str] = []
    for tweet in tweets:
        try:
            post = tweet_to_post(tweet, users, media, referenced, feed=feed)
        except PostError as exc:
            if report is not None:
                report(exc.kind, str(exc))
            if isinstance(tweet, Mapping) and isinstance(tweet.get("id"), str):
                ids.append(tweet["id"])
            continue
        ids.append(post.id.split(":", 1)[1])
        posts.append(post)
    return posts, ids


def tweet_to_post(
    tweet: object,
    users: Mapping[str, Mapping[str, Any]],
    media: Mapping[str, Mapping[str, Any]],
    referenced: Mapping[str, Mapping[str, Any]],
    *,
    feed: str,
) -> Post:
    """One tweet object (and the joined ``includes``) as a :class:`Post`."""
    if not isinstance(tweet, Mapping):
        raise PostError("not-an-object", f"expected a tweet object, got {type(tweet).__name__}")
    tweet_id = tweet.get("id")
    if not isinstance(tweet_id, str) or not tweet_id.isdigit():
        raise PostError("missing-id", "tweet has no id")
    text = tweet.get("text")
    if not isinstance(text, str):
        raise PostError("missing-text", f"tweet {tweet_id} has no text")
    created = parse_time(tweet.get("created_at"))
    reply_to = repost_of = None
    shown: Mapping[str, Any] = tweet
    refs = tweet.get("referenced_tweets")
    for ref in refs if isinstance(refs, list) else []:
        if not isinstance(ref, Mapping) or not isinstance(ref.get("id"), str):
            continue
        if ref.get("type") == "retweeted":
            repost_of = f"x:{ref['id']}"
            original = referenced.get(ref["id"])
            if original is not None and isinstance(original.get("text"), str):
                shown = original
        elif ref.get("type") == "replied_to":
            reply_to = f"x:{ref['id']}"
    body = clean_text(shown["text"] if isinstance(shown.get("text"), str) else text)
    if not body:
        raise PostError("empty-text", f"tweet {tweet_id} has no text")
    author_id = str(tweet.get("author_id") or "")
    user = users.get(author_id, {})
    username = user.get("username") if isinstance(user.get("username"), str) else None
    name = clean_name(str(user.get("name") or "")) or username or f"user {author_id}"
    avatar = user.get("profile_image_url")
    lang = tweet.get("lang")
    attachments = shown.get("attachments")
    metrics = shown.get("public_metrics")
    return Post(
        id=f"x:{tweet_id}",
        source="x",
        feed=feed,
        text=body,
        created_at=created,
        author=Author(
            handle=f"@{username}" if username else f"x-user-{author_id or 'unknown'}",
            name=name,
            url=f"https://x.com/{username}" if username else None,
            avatar_url=avatar
            if isinstance(avatar, str) and avatar.startswith("https://")
            else None,
            followers=count_field(user.get("public_metrics"), "followers_count"),
        ),
        url=(
            f"https://x.com/{username}/status/{tweet_id}"
            if username
            else f"https://x.com/i/web/status/{tweet_id}"
        ),
        lang=lang if isinstance(lang, str) and lang and lang != "und" else None,
        metrics=Metrics(
            likes=count_field(metrics, "like_count"),
            reposts=count_field(metrics, "retweet_count"),
            replies=count_field(metrics, "reply_count"),
            quotes=count_field(metrics, "quote_count"),
        ),
        media=_media(
            attachments.get("media_keys") if isinstance(attachments, Mapping) else None, media
        ),
        reply_to=reply_to,
        is_repost=repost_of is not None,
        repost_of=repost_of,
        sensitive=tweet.get("possibly_sensitive") is True,
        protected=user.get("protected") is True,  # a locked account: never shown
    )


class XSource(LiveSource):
    """Recent search or the filtered stream; see the module docstring."""

    kind: ClassVar[str] = "x"
    default_every: ClassVar[float] = 120.0
    #: 450 requests / 15 min allow one every two seconds; keep half.
    min_every: float = 4.0
    pages_per_round: int = 3
    #: Seconds without a byte (keep-alives come every 20 s) before the stream is reconnected.
    silence: float = 30.0

    def __init__(self, config: Any, context: SourceContext) -> None:
        super().__init__(config, context)
        self.config: schema.XSource = config
        self.base_url = config.base_url
        self.host = host_of(config.base_url)
        self.rule_tag = f"agora:{config.name}"
        self._rules_ok = False

    @property
    def headers(self) -> dict[str, str]:
        """The bearer token (never logged)."""
        return {"Authorization": f"Bearer {self.config.bearer_token.get()}"}

    def _auth_error(self, exc: AuthError) -> AuthError:
        detail = ""
        try:
            body = orjson.loads(exc.body) if exc.body else None
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, Mapping) and isinstance(body.get("title"), str):
            detail = f": {clean_text(redact(body['title']), 80)}"
        if exc.status == 401:
            return AuthError(f"{self.host}: the bearer token was refused{detail}", status=401)
        return AuthError(
            f"{self.host}: this app may not use {('the filtered stream' if self.config.mode == 'stream' else 'recent search')}{detail}",
            status=exc.status,
        )

    def _note_read(self, count: int, *, log: bool = True) -> None:
        total = int(self.state.get("read") or 0) + count
        self.state["read"] = total
        if count and log:
            self.logger.info(
                "%s: read %d post(s) now, %d in all (X bills each post read)",
                self.name,
                count,
                total,
            )

    def _advance(self, ids: Sequence[str]) -> None:
        current = self.state.get("since_id")
        for tweet_id in ids:
            if not isinstance(current, str) or id_order(tweet_id) > id_order(current):
                current = tweet_id
        if isinstance(current, str):
            self.state["since_id"] = current

    # -- search ---------------------------------------------------------------------------------

    async def search(self, client: PoliteClient, limit: int | None = None) -> list[Post]:
        """Recent posts since the saved ``since_id``."""
        since = self.state.get("since_id")
        params: dict[str, Any] = {
            "query": self.config.query,
            "max_results": self.config.max_results,
            **FIELDS,
        }
        if isinstance(since, str):
            params["since_id"] = since
        posts: list[Post] = []
        ids: list[str] = []
        for _ in range(self.pages_per_round if isinstance(since, str) else 1):
            try:
                data, _ = await client.get_json(
                    f"{self.base_url}/2/tweets/search/recent", params=params, headers=self.headers
                )
            except AuthError as exc:
                raise self._auth_error(exc) from None
            if not isinstance(data, Mapping) or ("data" not in data and "meta" not in data):
                raise PayloadError(f"{self.host}: the answer has neither data nor meta")
            found, found_ids = tweets_to_posts(data, feed=self.name, report=self.report_item)
            posts.extend(found)
            ids.extend(found_ids)
            meta = data.get("meta")
            token = meta.get("next_token") if isinstance(meta, Mapping) else None
            if not isinstance(token, str) or (limit and len(posts) >= limit):
                break
            params["pagination_token"] = token
        self._advance(ids)
        self._note_read(len(ids))
        self.save_state()
        posts.sort(key=lambda p: p.created_at)
        return posts

    async def poll(self, limit: int | None = None) -> list[Post]:
        """One recent search."""
        client = self.client
        assert client is not None, "poll() runs inside session()"
        return await self.search(client, limit)

    # -- stream ---------------------------------------------------------------------------------

    async def ensure_rule(self, client: PoliteClient) -> None:
        """Make the stream's rules hold exactly one rule of ours, for the current query."""
        url = f"{self.base_url}/2/tweets/search/stream/rules"
        try:
            data, _ = await client.get_json(url, headers=self.headers)
            rules = data.get("data") if isinstance(data, Mapping) else None
            ours = [
                r
                for r in (rules if isinstance(rules, list) else [])
                if isinstance(r, Mapping) and r.get("tag") == self.rule_tag
            ]
            if any(r.get("value") == self.config.query for r in ours):
                stale = [r["id"] for r in ours if r.get("value") != self.config.query]
                add = False
            else:
                stale = [r["id"] for r in ours if isinstance(r.get("id"), str)]
                add = True
            if stale:
                await client.request(
                    "POST",
                    url,
                    json={"delete": {"ids": stale}},
                    headers=self.headers,
                    expect="json",
                )
            if add:
                await client.request(
                    "POST",
                    url,
                    json={"add": [{"value": self.config.query, "tag": self.rule_tag}]},
                    headers=self.headers,
                    expect="json",
                )
        except AuthError as exc:
            raise self._auth_error(exc) from None
        self._rules_ok = True

    async def fetch(self, limit: int | None = None) -> list[Post]:
        """One search, or in stream mode a listen of ``context.listen_seconds``."""
        if self.config.mode == "stream":
            return await self.listen(limit)
        return await super().fetch(limit)

    async def run(self, sink: Sink, stop: asyncio.Event) -> None:
        """Search rounds, or the stream until ``stop`` is set."""
        if self.config.mode != "stream":
            await super().run(sink, stop)
            return
        async with self.session() as client:
            task = asyncio.create_task(self._stream_loop(client, sink, stop))
            try:
                await stop.wait()
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                self.save_state()

    async def _stream_loop(self, client: PoliteClient, sink: Sink, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if not self._rules_ok:
                    await self.ensure_rule(client)
                if isinstance(self.state.get("since_id"), str):
                    caught_up = await self.search(client)  # the gap while disconnected
                    if caught_up:
                        sink(caught_up)
                await self._read_stream(client, sink)
                delay = self.fail(TransientError(f"{self.host}: the stream was closed"))
            except asyncio.CancelledError:
                raise
            except SourceError as exc:
                delay = self.fail(exc)
            except Exception as exc:  # never let the stream take the wall down
                self.logger.exception("%s: unexpected error in the stream", self.name)
                delay = self.fail(SourceError(f"{self.host}: unexpected error ({exc})"))
            if await wait_or_stop(stop, delay):
                return

    async def _read_stream(self, client: PoliteClient, sink: Sink) -> None:
        try:
            async with client.stream(
                "GET",
                f"{self.base_url}/2/tweets/search/stream",
                params=FIELDS,
                headers=self.headers,
                read_timeout=self.silence,
            ) as response:
                self.succeed(0)
                async for line in response.aiter_lines():
                    if not line.strip():
                        continue  # keep-alive
                    self._on_line(line, sink)
                    await self.context.room()
        except AuthError as exc:
            raise self._auth_error(exc) from None

    def _on_line(self, line: str, sink: Sink) -> None:
        try:
            payload = orjson.loads(line)
        except orjson.JSONDecodeError:
            self.report_item("invalid-json", "a stream line that is not valid JSON")
            return
        if not isinstance(payload, Mapping):
            self.report_item("not-an-object", "a stream line that is not an object")
            return
        if "data" not in payload:
            errors = payload.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
                title = clean_text(redact(str(errors[0].get("title") or "error")), 80)
                self.report_item("stream-error", f"the stream reported: {title}")
                if "disconnect" in title.lower():
                    raise TransientError(f"{self.host}: the stream reported {title}")
            return
        posts, ids = tweets_to_posts(payload, feed=self.name, report=self.report_item)
        self._advance(ids)
        self._note_read(len(ids), log=False)
        self.save_state_soon()
        if posts:
            sink(posts)
            self.count_posts(len(posts))

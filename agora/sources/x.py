"""X (Twitter) API v2: recent search or the filtered stream, with a bearer token (``kind = "x"``).

``mode = "search"`` (default): ``GET /2/tweets/search/recent?query=…&since_id=…`` with the
expansions and fields that let one request carry authors and media (``includes`` are joined back
to each post). The newest id seen is the saved ``since_id``; when posts pile up, ``next_token``
pages are followed (at most :attr:`XSource.pages_per_round`). The first round reads one page.
Results come newest first, so a burst larger than one round is read over several: the rest of it
is kept in the state (``gap``: the ``next_token``, the oldest id read, the newest) and the next
rounds read on, older and older (with ``until_id`` should the token be refused), before
``since_id`` moves to the newest post of the burst.

``mode = "stream"``: the source keeps one rule, tagged ``agora:<name>``, whose value is the
``query`` (``/2/tweets/search/stream/rules``; a changed query replaces the old rule), then reads
``GET /2/tweets/search/stream``: newline-delimited JSON with ``\\r\\n`` keep-alives every 20 s. A
stream silent for :attr:`XSource.silence` seconds is dropped and reconnected with backoff (a 429
waits for the reset); before every reconnection recent searches from the saved ``since_id`` fill
the gap, round after round until it is read whole.

X bills every post read, so the source reads little: ``max_results`` (default 25) per request, the
polite floor of four seconds between requests (450 requests per 15 minutes allowed), and a log line
after each round with the posts read so far (also kept in the saved state as ``read``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import orjson

from agora.config import schema
from agora.core.post import Author, Media, Metrics, Post, PostError
from agora.core.redact import redact
from agora.core.text import clean_name, clean_text
from agora.sources.base import Sink, SourceContext
from agora.sources.fields import count_field, id_order, lang_tag, post_time, text_field, web_url
from agora.sources.http import (
    AuthError,
    PayloadError,
    PoliteClient,
    RequestError,
    SourceError,
    TransientError,
    host_of,
    wait_or_stop,
)
from agora.sources.live import LiveSource

__all__ = ["FIELDS", "XSource", "tweets_to_posts"]

#: An X user name (what may go into a link and a handle).
_USERNAME_RE = re.compile(r"[A-Za-z0-9_]{1,15}")

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


def _https(value: object) -> str | None:
    """An ``https`` link (X serves nothing else), or ``None``."""
    url = web_url(value)
    return url if url is not None and url.startswith("https://") else None


def _is_id(value: object) -> bool:
    """A tweet id: ASCII digits (``"١٢٣".isdigit()`` is true as well)."""
    return isinstance(value, str) and value.isascii() and value.isdigit()


def _media(keys: object, media: Mapping[str, Mapping[str, Any]]) -> tuple[Media, ...]:
    out: list[Media] = []
    for key in keys if isinstance(keys, list) else []:
        item = media.get(key) if isinstance(key, str) else None
        if item is None:
            continue
        kind = item.get("type")
        preview = _https(item.get("preview_image_url"))
        alt = clean_text(text_field(item, "alt_text"), 1_000)
        url = _https(item.get("url"))
        if kind == "photo" and url:
            out.append(Media(kind="image", url=url, preview_url=url, alt=alt))
        elif kind in ("video", "animated_gif"):
            variants = item.get("variants")
            mp4 = [
                v
                for v in (variants if isinstance(variants, list) else [])
                if isinstance(v, Mapping) and v.get("content_type") == "video/mp4"
            ]
            mp4.sort(key=lambda v: count_field(v, "bit_rate") or 0)
            target = (_https(mp4[-1].get("url")) if mp4 else None) or preview
            if target:
                out.append(Media(kind="video", url=target, preview_url=preview, alt=alt))
    return tuple(out[:8])


def tweets_to_posts(
    payload: object, *, feed: str, report: Any = None
) -> tuple[list[Post], list[str]]:
    """Posts from a v2 response (``data`` as a list or one object, with ``includes``).

    Returns ``(posts, ids)``: ``ids`` are every tweet id read (for the cursor), including those of
    malformed tweets, which are reported through ``report(kind, message)`` and skipped.
    """
    if not isinstance(payload, Mapping):
        return [], []
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
        except Exception as exc:  # a malformed tweet, or a shape nobody expected: this one only
            if report is not None:
                if isinstance(exc, PostError):
                    report(exc.kind, str(exc))
                else:
                    name = type(exc).__name__
                    detail = redact(str(exc))[:200]  # redacted before it is cut
                    report(f"unreadable-{name}", f"skipped a tweet ({name}: {detail})")
            tweet_id = tweet.get("id") if isinstance(tweet, Mapping) else None
            if isinstance(tweet_id, str) and _is_id(tweet_id):
                ids.append(tweet_id)
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
    if not isinstance(tweet_id, str) or not _is_id(tweet_id):
        raise PostError("missing-id", "tweet has no id")
    text = tweet.get("text")
    if not isinstance(text, str):
        raise PostError("missing-text", f"tweet {tweet_id} has no text")
    created = post_time(tweet.get("created_at"))
    reply_to = repost_of = None
    shown: Mapping[str, Any] = tweet
    refs = tweet.get("referenced_tweets")
    for ref in refs if isinstance(refs, list) else []:
        if not isinstance(ref, Mapping) or not _is_id(ref.get("id")):
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
    author_id = clean_name(text_field(tweet, "author_id"))
    user = users.get(text_field(tweet, "author_id"), {})
    given = text_field(user, "username")
    username = given if _USERNAME_RE.fullmatch(given) else None
    name = clean_name(text_field(user, "name")) or username or clean_name(f"user {author_id}")
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
            handle=clean_name(f"@{username}" if username else f"x-user-{author_id or 'unknown'}"),
            name=name,
            url=f"https://x.com/{username}" if username else None,
            avatar_url=_https(avatar),
            followers=count_field(user.get("public_metrics"), "followers_count"),
        ),
        url=(
            f"https://x.com/{username}/status/{tweet_id}"
            if username
            else f"https://x.com/i/web/status/{tweet_id}"
        ),
        lang=lang_tag(lang),
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
    #: Posts billed are counted even in a round that fails.
    kept_on_failure: ClassVar[tuple[str, ...]] = ("read",)

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

    def _note_read(self, count: int) -> None:
        """Count posts read (X bills each): kept in the state, even by a round that fails."""
        self.state["read"] = int(self.state.get("read") or 0) + count

    def _advance(self, ids: Sequence[str]) -> None:
        """Move the place to the newest of ``ids`` (a stream's posts), or, while a burst is
        still being read, the newest the burst's end will move it to."""
        gap = self._gap()
        key = "top" if gap is not None else "since_id"
        holder: dict[str, Any] = gap if gap is not None else self.state
        current = holder.get(key)
        for tweet_id in ids:
            if not isinstance(current, str) or id_order(tweet_id) > id_order(current):
                current = tweet_id
        if isinstance(current, str):
            holder[key] = current

    def _gap(self) -> dict[str, Any] | None:
        """The burst still being read: ``token``, ``until_id`` (the oldest id read of it),
        ``top`` (the newest)."""
        gap = self.state.get("gap")
        if isinstance(gap, dict) and isinstance(gap.get("until_id"), str):
            return gap
        return None

    # -- search ---------------------------------------------------------------------------------

    async def search(self, client: PoliteClient, limit: int | None = None) -> list[Post]:
        """Recent posts since the saved ``since_id``, or the next pages of a burst that an
        earlier round could not read whole. Changes the state only once every page is in."""
        since = self.state.get("since_id")
        since = since if isinstance(since, str) else None
        gap = self._gap() if since is not None else None
        params: dict[str, Any] = {
            "query": self.config.query,
            "max_results": self.config.max_results,
            **FIELDS,
        }
        if since is not None:
            params["since_id"] = since
        until = gap["until_id"] if gap is not None else None
        if gap is not None:
            token = gap.get("token")
            if isinstance(token, str) and token:
                params["pagination_token"] = token
            else:
                params["until_id"] = until
        posts: list[Post] = []
        ids: list[str] = []
        more: str | None = None  # the next_token where reading stopped with pages left
        billed = 0
        for _ in range(self.pages_per_round if since is not None else 1):
            try:
                data = await self._search_page(client, params)
            except RequestError as exc:
                if exc.status != 400 or "pagination_token" not in params or until is None:
                    raise
                # the token is refused (expired): the rest of the burst by id instead
                del params["pagination_token"]
                params["until_id"] = until
                data = await self._search_page(client, params)
            found, found_ids = self._tweets(data)
            billed += len(found_ids)
            self._note_read(len(found_ids))  # billed even if a later page fails
            for post in found:
                # pages may shift under a token; what the burst read already is not read again
                if until is None or id_order(post.id.split(":", 1)[1]) < id_order(until):
                    posts.append(post)
            ids.extend(i for i in found_ids if until is None or id_order(i) < id_order(until))
            meta = data.get("meta")
            token = meta.get("next_token") if isinstance(meta, Mapping) else None
            more = token if isinstance(token, str) and token else None
            if more is None or (limit and len(posts) >= limit):
                break
            params.pop("until_id", None)
            params["pagination_token"] = more
        if billed:
            self.logger.info(
                "%s: read %d post(s) now, %d in all (X bills each post read)",
                self.name,
                billed,
                self.state["read"],
            )
        newest = max(ids, key=id_order) if ids else None
        oldest = min(ids, key=id_order) if ids else None
        top = gap.get("top") if gap is not None else None
        if more is not None and since is not None:
            # a burst larger than one round: since_id stays; the next round reads on from here
            if newest is not None and (
                not isinstance(top, str) or id_order(newest) > id_order(top)
            ):
                top = newest
            if oldest is None:
                oldest = until
            self.state["gap"] = {"token": more, "until_id": oldest, "top": top}
            self.logger.info(
                "%s: more posts than %d pages since the last round; reading on next round",
                self.name,
                self.pages_per_round,
            )
        else:
            self.state.pop("gap", None)
            self._advance([i for i in (top, newest) if isinstance(i, str)])
        self.save_state()
        posts.sort(key=lambda p: p.created_at)
        return posts

    async def _search_page(self, client: PoliteClient, params: Mapping[str, Any]) -> Any:
        try:
            data, _ = await client.get_json(
                f"{self.base_url}/2/tweets/search/recent", params=dict(params), headers=self.headers
            )
        except AuthError as exc:
            raise self._auth_error(exc) from None
        if not isinstance(data, Mapping) or ("data" not in data and "meta" not in data):
            raise PayloadError(f"{self.host}: the answer has neither data nor meta")
        return data

    def _tweets(self, payload: Mapping[str, Any]) -> tuple[list[Post], list[str]]:
        """The posts and tweet ids of one answer or stream line; one whose reading fails
        unexpectedly as a whole is reported, and costs that answer only."""
        read = self.read_item("", tweets_to_posts, payload, feed=self.name, report=self.report_item)
        return read if read is not None else ([], [])

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
                stale = [
                    r["id"]
                    for r in ours
                    if r.get("value") != self.config.query and isinstance(r.get("id"), str)
                ]
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
            task = asyncio.create_task(self._stream_loop(client, sink, stop), name=f"x:{self.name}")
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
                await self._catch_up(client, sink, stop)
                if stop.is_set():
                    return
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

    async def _catch_up(self, client: PoliteClient, sink: Sink, stop: asyncio.Event) -> None:
        """Fill the gap while disconnected with recent searches from the saved ``since_id``,
        round after round (politely spaced) until it is read whole."""
        if not isinstance(self.state.get("since_id"), str):
            return  # the first connection: nothing to catch up with
        while not stop.is_set():
            caught_up = await self.read_round(lambda: self.search(client))
            if caught_up:
                sink(caught_up)
            if self._gap() is None:
                return
            await self.context.room()
            if await wait_or_stop(stop, self.polite_floor()):
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
        """One line of the stream. A line that cannot be handled costs itself only (a
        reconnection would not help: it is gone)."""
        self.read_item("stream: ", self._on_payload, line, sink)

    def _on_payload(self, line: str, sink: Sink) -> None:
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
        posts, ids = self._tweets(payload)
        self._advance(ids)
        self._note_read(len(ids))
        self.save_state_soon()
        if posts:
            sink(posts)
            self.count_posts(len(posts))

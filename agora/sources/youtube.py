"""YouTube Data API v3: new videos for a query and their comments (``kind = "youtube"``).

Every round reads the comment threads of each watched video
(``commentThreads.list?part=snippet&videoId=…&order=time``, newest first, pages followed while they
hold only new comments). Watched videos are ``video_ids`` plus, when a ``query`` is set, the newest
videos found by ``search.list?part=snippet&q=…&type=video&order=date&publishedAfter=…``, which also
become posts themselves.

Search is expensive: 100 of the 10,000 daily quota units per call, against 1 for a comment page, so
it runs only every ``search_every`` (default 30 minutes: 4,800 units a day) while comments are read
every ``every`` (default 5 minutes). The units spent today are kept in the saved state and logged.
When the quota is used up (``quotaExceeded``) the source waits until it resets at midnight Pacific
time; a video whose comments are turned off is dropped with a log line; a refused key is
``needs-auth``. The key travels in the ``X-Goog-Api-Key`` header, never in a URL.

Who wrote a video or a comment is its channel id (``UC…``, ``snippet.channelId``, a comment's
``authorChannelId.value``): channel titles and display names are not unique, so anybody can title a
channel "Nokia". The id is the author's handle (what allow lists, owned accounts and blocks match,
``youtube:UC…``); the title or display name (``@nokia``) is the ``name`` shown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from agora.config import schema
from agora.core.post import Author, Media, Metrics, Post, PostError, format_time
from agora.core.text import clean_name, clean_text, html_to_text
from agora.sources.base import SourceContext
from agora.sources.fields import count_field, item_id, post_time, text_field, web_url
from agora.sources.http import (
    AuthError,
    PayloadError,
    PoliteClient,
    RateLimitedError,
    RequestError,
    SourceError,
    host_of,
)
from agora.sources.live import LiveSource

__all__ = ["YouTubeSource", "thread_to_post", "video_to_post"]

#: Quota units per call.
SEARCH_COST = 100
LIST_COST = 1
DAILY_QUOTA = 10_000
#: Videos found by search whose comments are watched.
MAX_FOUND = 10
#: The handle of a video or comment whose payload names no channel id.
UNKNOWN_CHANNEL = "unknown channel"
try:
    PACIFIC: tzinfo = ZoneInfo("America/Los_Angeles")
except ZoneInfoNotFoundError:  # no time zone database: standard time is close enough
    PACIFIC = timezone(timedelta(hours=-8))
#: A channel id in a channel URL (``https://www.youtube.com/channel/UC…``).
_CHANNEL_URL_RE = re.compile(r"/channel/(UC[A-Za-z0-9_-]+)")
_KEY_REASONS = frozenset(
    {"keyInvalid", "keyExpired", "accessNotConfigured", "API_KEY_INVALID", "ipRefererBlocked"}
)


def video_to_post(item: object, *, feed: str) -> Post:
    """A ``search.list`` result (``youtube#searchResult`` of a video) as a :class:`Post`."""
    if not isinstance(item, Mapping):
        raise PostError("not-an-object", "search result is not an object")
    ident = item.get("id")
    video_id = (
        text_field(ident, "videoId") if isinstance(ident, Mapping) else text_field(item, "id")
    )
    if not video_id:
        raise PostError("missing-id", "search result has no videoId")
    snippet = item.get("snippet")
    if not isinstance(snippet, Mapping):
        raise PostError("missing-snippet", f"video {video_id} has no snippet")
    headline = clean_text(html.unescape(text_field(snippet, "title")), 500)
    description = clean_text(html.unescape(text_field(snippet, "description")), 2_000)
    text = " ".join(p for p in (headline, description) if p)
    if not text:
        raise PostError("empty-text", f"video {video_id} has no title")
    channel_id = clean_name(text_field(snippet, "channelId"))
    title = clean_name(html.unescape(text_field(snippet, "channelTitle")))
    thumbs = snippet.get("thumbnails")
    thumb = None
    for size in ("high", "medium", "default"):
        url = text_field(thumbs.get(size) if isinstance(thumbs, Mapping) else None, "url")
        if web_url(url):
            thumb = web_url(url)
            break
    post_id = item_id("youtube", video_id)
    watch = web_url(f"https://www.youtube.com/watch?v={video_id}")
    return Post(
        id=post_id,
        source="youtube",
        feed=feed,
        text=text,
        created_at=post_time(snippet.get("publishedAt")),
        author=Author(
            # the channel id, never the title: titles are not unique ("Nokia" by anybody)
            handle=channel_id or UNKNOWN_CHANNEL,
            name=title or channel_id or UNKNOWN_CHANNEL,
            url=web_url(f"https://www.youtube.com/channel/{channel_id}") if channel_id else None,
        ),
        url=watch,
        media=(
            (Media(kind="video", url=watch, preview_url=thumb, alt=headline),)
            if thumb and watch
            else ()
        ),
    )


def thread_to_post(item: object, *, feed: str) -> Post:
    """A ``commentThreads.list`` item (its top-level comment) as a :class:`Post`."""
    if not isinstance(item, Mapping):
        raise PostError("not-an-object", "comment thread is not an object")
    snippet = item.get("snippet")
    top = snippet.get("topLevelComment") if isinstance(snippet, Mapping) else None
    comment = top.get("snippet") if isinstance(top, Mapping) else None
    comment_id = text_field(top, "id") or text_field(item, "id")
    if not comment_id:
        raise PostError("missing-id", "comment thread has no id")
    if not isinstance(comment, Mapping):
        raise PostError("missing-snippet", f"comment {comment_id} has no snippet")
    text = clean_text(text_field(comment, "textOriginal")) or html_to_text(
        text_field(comment, "textDisplay")
    )
    if not text:
        raise PostError("empty-text", f"comment {comment_id} has no text")
    shown = clean_name(text_field(comment, "authorDisplayName"))  # "@handle": display only
    channel_url = web_url(text_field(comment, "authorChannelUrl"))
    channel_id = clean_name(text_field(comment.get("authorChannelId"), "value"))
    if not channel_id and channel_url:
        found = _CHANNEL_URL_RE.search(channel_url)
        channel_id = found.group(1) if found else ""
    video_id = text_field(comment, "videoId") or text_field(snippet, "videoId")
    return Post(
        id=item_id("youtube", comment_id),
        source="youtube",
        feed=feed,
        text=text,
        created_at=post_time(comment.get("publishedAt")),
        author=Author(
            # the channel id, never the display name: "@nökia" or a name copied from the brand
            # must not pass for its account
            handle=channel_id or UNKNOWN_CHANNEL,
            name=shown or channel_id or UNKNOWN_CHANNEL,
            url=channel_url,
            avatar_url=web_url(text_field(comment, "authorProfileImageUrl")),
        ),
        url=web_url(f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}")
        if video_id
        else None,
        metrics=Metrics(
            likes=count_field(comment, "likeCount"),
            replies=count_field(snippet, "totalReplyCount"),
        ),
    )


def _reason(exc: SourceError) -> str:
    """The most telling ``reason`` of a Google API error body (``errors[]`` or ``details[]``)."""
    try:
        body = orjson.loads(exc.body) if exc.body else None
    except orjson.JSONDecodeError:
        return ""
    error = body.get("error") if isinstance(body, Mapping) else None
    reasons: list[str] = []
    for key in ("errors", "details"):
        items = error.get(key) if isinstance(error, Mapping) else None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, Mapping) and isinstance(item.get("reason"), str):
                reasons.append(item["reason"])
    for reason in reasons:
        if reason in _KEY_REASONS or reason not in ("badRequest", "forbidden"):
            return reason
    return reasons[0] if reasons else ""


class YouTubeSource(LiveSource):
    """Videos for a query and comments on watched videos; see the module docstring."""

    kind: ClassVar[str] = "youtube"
    default_every: ClassVar[float] = 300.0
    min_every: float = 1.0
    comment_pages: int = 3
    #: What a failed round spent and learnt is kept: quota units, videos whose comments are off.
    kept_on_failure: ClassVar[tuple[str, ...]] = ("quota", "dropped")

    def __init__(self, config: Any, context: SourceContext) -> None:
        super().__init__(config, context)
        self.config: schema.YouTubeSource = config
        self.base_url = config.base_url
        self.host = host_of(config.base_url)

    @property
    def headers(self) -> dict[str, str]:
        """The API key (never in a URL, never logged)."""
        return {"X-Goog-Api-Key": self.config.api_key.get()}

    def requests_per_round(self) -> int:
        """One comment page per watched video."""
        return max(1, len(self.watched()))

    def watched(self) -> list[str]:
        """Configured videos, then the newest found by search."""
        found = [v for v in self.state.get("found") or [] if isinstance(v, str)]
        dropped = set(self.state.get("dropped") or [])
        out: list[str] = []
        for vid in [*self.config.video_ids, *reversed(found)]:
            if vid not in out and vid not in dropped:
                out.append(vid)
        return out

    def _spend(self, units: int) -> None:
        today = datetime.now(PACIFIC).date().isoformat()
        quota = self.state.get("quota")
        if not isinstance(quota, dict) or quota.get("day") != today:
            quota = {"day": today, "units": 0}
        quota["units"] = int(quota.get("units") or 0) + units
        self.state["quota"] = quota

    async def _get(self, client: PoliteClient, path: str, params: dict[str, Any], cost: int) -> Any:
        self._spend(cost)
        try:
            data, _ = await client.get_json(
                f"{self.base_url}/{path}", params=params, headers=self.headers
            )
        except (AuthError, RequestError) as exc:
            reason = _reason(exc)
            if reason in ("quotaExceeded", "dailyLimitExceeded"):
                now = datetime.now(PACIFIC)
                midnight = (now + timedelta(days=1)).replace(
                    hour=0, minute=0, second=5, microsecond=0
                )
                wait = (midnight - now).total_seconds()
                raise RateLimitedError(
                    f"{self.host}: the daily quota is used up; waiting until it resets at "
                    "midnight Pacific time",
                    retry_after=wait,
                    status=exc.status,
                ) from None
            if reason in ("rateLimitExceeded", "userRateLimitExceeded"):
                raise RateLimitedError(
                    f"{self.host}: too many requests; slowing down", retry_after=120.0
                ) from None
            if reason in ("commentsDisabled", "videoNotFound", "forbidden") and path != "search":
                what = "comments are turned off" if reason == "commentsDisabled" else reason
                raise RequestError(
                    f"{self.host}: {what} for video {params.get('videoId')}", status=exc.status
                ) from None
            if isinstance(exc, AuthError) or reason in _KEY_REASONS:
                raise AuthError(
                    f"{self.host}: the API key was refused ({reason or exc.status})",
                    status=exc.status,
                ) from None
            if reason:
                raise RequestError(f"{exc.message} ({reason})", status=exc.status) from None
            raise
        if not isinstance(data, Mapping) or not isinstance(data.get("items", []), list):
            raise PayloadError(f"{self.host}: the answer has no list of items")
        return data

    async def _search(self, client: PoliteClient) -> list[Post]:
        search = self.state.get("search")
        search = search if isinstance(search, dict) else {}
        params: dict[str, Any] = {
            "part": "snippet",
            "q": self.config.query,
            "type": "video",
            "order": "date",
            "maxResults": 25,
        }
        if isinstance(search.get("after"), str):
            params["publishedAfter"] = search["after"]
        data = await self._get(client, "search", params, SEARCH_COST)
        seen = set(search.get("seen") or [])
        found = [v for v in self.state.get("found") or [] if isinstance(v, str)]
        posts: list[Post] = []
        newest = search.get("after") if isinstance(search.get("after"), str) else None
        for item in data.get("items") or []:
            post = self.read_item("", video_to_post, item, feed=self.name)
            if post is None:
                continue
            video_id = post.id.split(":", 1)[1]
            stamp = format_time(post.created_at)
            if newest is None or stamp > newest:
                newest = stamp
            if post.id in seen:
                continue
            seen.add(post.id)
            posts.append(post)
            if video_id not in found:
                found.append(video_id)
        self.state["found"] = found[-MAX_FOUND:]
        self.state["search"] = {"after": newest, "seen": sorted(seen)[-200:]} if newest else {}
        return posts

    async def _comments(self, client: PoliteClient, video_id: str) -> list[Post]:
        videos = self.state.setdefault("videos", {})
        vstate = videos.get(video_id) if isinstance(videos.get(video_id), dict) else {}
        since = vstate.get("since") if isinstance(vstate.get("since"), str) else None
        seen = set(vstate.get("seen") or [])
        params: dict[str, Any] = {
            "part": "snippet",
            "videoId": video_id,
            "order": "time",
            "maxResults": 100,
            "textFormat": "plainText",
        }
        posts: list[Post] = []
        newest = since
        at_newest: set[str] = set(seen) if since else set()
        for page in range(self.comment_pages if since else 1):
            try:
                data = await self._get(client, "commentThreads", params, LIST_COST)
            except RequestError as exc:
                if exc.status in (403, 404):  # comments turned off, video gone or private
                    self.report_item("video-dropped", f"video {video_id}: {exc.message}")
                    dropped = list(self.state.get("dropped") or [])
                    self.state["dropped"] = [*dropped, video_id][-100:]
                    return posts
                raise
            older = False
            for item in data.get("items") or []:
                post = self.read_item("", thread_to_post, item, feed=self.name)
                if post is None:
                    continue
                stamp = format_time(post.created_at)
                if since is not None and (stamp < since or post.id in seen):
                    older = older or stamp < since
                    continue
                posts.append(post)
                if newest is None or stamp > newest:
                    newest, at_newest = stamp, {post.id}
                elif stamp == newest:
                    at_newest.add(post.id)
            token = data.get("nextPageToken")
            if older or not isinstance(token, str) or not since:
                break
            if page + 1 == self.comment_pages:
                self.logger.warning(
                    "%s: more than %d pages of new comments on video %s since the last round; "
                    "the older of them are skipped",
                    self.name,
                    self.comment_pages,
                    video_id,
                )
            params["pageToken"] = token
        if newest is not None:
            videos[video_id] = {"since": newest, "seen": sorted(at_newest)[-200:]}
        return posts

    async def poll(self, limit: int | None = None) -> list[Post]:
        """Search when due, then the comments of every watched video."""
        client = self.client
        assert client is not None, "poll() runs inside session()"
        posts: list[Post] = []
        last = self.state.get("search_at")
        now = self.context.clock().timestamp()
        if self.config.query and (
            not isinstance(last, int | float) or now - last >= self.config.search_every
        ):
            posts.extend(await self._search(client))
            self.state["search_at"] = now
        for video_id in self.watched():
            posts.extend(await self._comments(client, video_id))
        quota = self.state.get("quota")
        if isinstance(quota, dict):
            self.logger.info(
                "%s: %s of %d quota units used today", self.name, quota.get("units"), DAILY_QUOTA
            )
        # only now, with every video read: a failure above leaves the place where it was (the
        # units spent and the videos dropped are kept all the same: kept_on_failure)
        self.save_state()
        posts.sort(key=lambda p: p.created_at)
        return posts

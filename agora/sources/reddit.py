"""Reddit: search and subreddit Atom feeds, or the OAuth Data API (``kind = "reddit"``).

Without credentials (the realistic default since anonymous ``.json`` listings answer 403) the source
reads one Atom feed a round, at most one request a minute (default every two minutes):

* ``query`` and ``subreddits``: ``/r/a+b/search.rss?q=…&restrict_sr=1&sort=new``;
* ``query`` only: ``/search.rss?q=…&sort=new``;
* ``subreddits`` only: ``/r/a+b/new.rss``.

Searches ask Reddit to leave out NSFW posts (``include_over_18=off``); the Atom feed itself has no
NSFW marker, which is one reason to prefer the API for subreddit feeds on a lobby wall.

With ``client_id`` and ``client_secret`` the source gets an app-only token
(``POST /api/v1/access_token``, ``grant_type=client_credentials``, renewed before it expires) and
reads the same searches and listings from the Data API (``oauth.reddit.com``, 100 requests a minute;
``X-Ratelimit-*`` headers are read), with the User-Agent Reddit asks for,
``<platform>:<app id>:<version> (by /u/<user>)``. Listing items marked ``over_18`` are never shown.

Both modes keep the newest creation time seen and the ids seen at that time, so a restart neither
shows a post twice nor misses one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar
from urllib.parse import urlsplit

from agora import __version__
from agora.config import schema
from agora.core.post import Author, Media, Metrics, Post, PostError
from agora.core.text import clean_name, clean_text
from agora.sources.base import SourceContext
from agora.sources.fields import (
    count_value,
    epoch_time,
    item_id,
    plausible,
    ref_id,
    text_field,
    web_url,
)
from agora.sources.http import AuthError, PayloadError, PoliteClient, host_of
from agora.sources.live import LiveSource
from agora.sources.rss import entry_to_post, parse_feed

__all__ = ["RedditSource", "atom_entry_to_post", "listing_item_to_post"]

WEB = "https://www.reddit.com"
#: A Reddit user name (what may go into a profile link).
_USER_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")
_SUBMITTED_RE = re.compile(r"\s*submitted by\s+/?u/\S+.*$", re.IGNORECASE | re.DOTALL)


def _clean_user(name: str) -> str:
    name = name.strip()
    for prefix in ("/u/", "u/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return clean_name(name)


def atom_entry_to_post(entry: Mapping[str, Any], *, feed: str, feed_url: str) -> Post:
    """An entry of a Reddit Atom feed as a :class:`Post` (``reddit:t3_…``)."""
    post = entry_to_post(entry, kind="reddit", feed=feed, feed_url=feed_url)
    raw_id = text_field(entry, "id").strip()
    found = re.search(r"(?:^|/)(t[13]_[a-z0-9]+)$", raw_id)  # feedparser may resolve it as a URL
    if found is None:
        raise PostError("missing-id", f"entry id {raw_id[:40]!r} is not a Reddit id")
    native = found.group(1)
    text = _SUBMITTED_RE.sub("", post.text).replace("[link] [comments]", "").strip()
    if not text:
        raise PostError("empty-text", f"entry {native} has no text")
    detail = entry.get("author_detail")
    user = _clean_user(text_field(entry, "author"))
    author = Author(
        handle=clean_name(f"u/{user}") if user else "u/[deleted]",
        name=user or "[deleted]",
        url=web_url(detail.get("href")) if isinstance(detail, Mapping) else None,
    )
    tags = entry.get("tags")
    sub = ""
    if isinstance(tags, list) and tags and isinstance(tags[0], Mapping):
        sub = text_field(tags[0], "term")
    media = tuple(m for m in post.media if "reddit.com/" not in m.url or m.kind == "image")
    return replace(
        post,
        id=item_id("reddit", native),
        text=clean_text(text),
        author=author,
        media=media,
        lang=None,
        sensitive=bool(sub and sub.lower().startswith("nsfw")),
    )


def listing_item_to_post(child: object, *, feed: str) -> Post | None:
    """A Data API listing child (``t3`` post or ``t1`` comment) as a :class:`Post`; ``None`` for
    NSFW items, which are never shown on a lobby wall."""
    if not isinstance(child, Mapping) or not isinstance(child.get("data"), Mapping):
        raise PostError("not-an-object", "listing child without data")
    kind = child.get("kind")
    data: Mapping[str, Any] = child["data"]
    if data.get("over_18") is True:
        return None
    name = data.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"t[13]_[a-z0-9]+", name):
        raise PostError("missing-id", "listing item has no fullname")
    if kind == "t1":
        body = data.get("body")
        text = clean_text(body) if isinstance(body, str) else ""
    else:
        title = data.get("title")
        selftext = data.get("selftext")
        text = clean_text(
            " ".join(clean_text(v) for v in (title, selftext) if isinstance(v, str) and v.strip())
        )
    if not text or text in ("[deleted]", "[removed]"):
        raise PostError("empty-text", f"{name} has no text")
    created = epoch_time(data.get("created_utc"))
    if created is None:
        raise PostError("bad-time", f"{name} has no created_utc")
    plausible(created)
    user = data.get("author")
    user = _clean_user(user) if isinstance(user, str) else ""
    permalink = data.get("permalink")
    url = (
        web_url(f"{WEB}{permalink}")
        if isinstance(permalink, str) and permalink.startswith("/")
        else None
    )
    media: list[Media] = []
    thumb = web_url(data.get("thumbnail"))
    thumb = thumb if thumb is not None and thumb.startswith("https://") else None
    link = web_url(data.get("url"))
    if kind != "t1" and link:
        try:
            host = urlsplit(link).hostname or ""
        except ValueError:  # "http://[::1" and the like: not a link to show
            host = "reddit.com"
        if host.endswith(("i.redd.it", "i.imgur.com")):
            media.append(Media(kind="image", url=link, preview_url=thumb))
        elif not host.endswith("reddit.com"):
            media.append(Media(kind="link", url=link, preview_url=thumb))
    parent = data.get("parent_id")
    return Post(
        id=item_id("reddit", name),
        source="reddit",
        feed=feed,
        text=text,
        created_at=created,
        author=Author(
            handle=clean_name(f"u/{user}") if user else "u/[deleted]",
            name=user or "[deleted]",
            url=f"{WEB}/user/{user}" if _USER_RE.fullmatch(user) else None,
        ),
        url=url,
        metrics=Metrics(
            likes=count_value(data.get("score")),
            replies=count_value(data.get("num_comments")) if kind != "t1" else None,
        ),
        media=tuple(media),
        reply_to=ref_id("reddit", parent) if kind == "t1" else None,
    )


class RedditSource(LiveSource):
    """Reddit searches and subreddits; see the module docstring."""

    kind: ClassVar[str] = "reddit"
    default_every: ClassVar[float] = 120.0
    #: Atom feeds: about one request a minute.
    min_every: float = 60.0
    #: The Data API: 100 requests a minute; keep well inside.
    api_min_every: float = 2.0

    def __init__(self, config: Any, context: SourceContext) -> None:
        super().__init__(config, context)
        self.config: schema.RedditSource = config
        self.base_url = config.base_url
        self.oauth = config.client_id is not None and config.client_secret is not None
        self.api_url = config.api_url or (
            "https://oauth.reddit.com"
            if host_of(config.base_url).endswith("reddit.com")
            else config.base_url
        )
        self.host = host_of(self.api_url if self.oauth else self.base_url)
        self._token: str | None = None
        self._token_until = 0.0
        app = "agora-wall"
        user = config.username or "unknown"
        self.api_user_agent = f"python:{app}:{__version__} (by /u/{user})"

    def polite_floor(self) -> float:
        """One request a round: a minute apart for feeds, two seconds for the API."""
        return self.api_min_every if self.oauth else self.min_every

    # -- where to look --------------------------------------------------------------------------

    def _subs(self) -> str:
        return "+".join(self.config.subreddits)

    def feed_url(self) -> tuple[str, dict[str, str]]:
        """The Atom feed and its query parameters."""
        return self._listing(self.base_url, ".rss", {"limit": "100"})

    def api_request(self) -> tuple[str, dict[str, str]]:
        """The Data API listing and its query parameters."""
        return self._listing(self.api_url, "", {"limit": "100", "raw_json": "1"})

    def _listing(
        self, base: str, suffix: str, params: dict[str, str]
    ) -> tuple[str, dict[str, str]]:
        """A search (in the subreddits, when there are some) or the subreddits' newest posts:
        the same request for the Atom feeds (``.rss``) and the Data API."""
        query = (self.config.query or "").strip()
        if not query:
            return f"{base}/r/{self._subs()}/new{suffix}", params
        search = {**params, "q": query, "sort": "new", "include_over_18": "off"}
        if self.config.subreddits:
            return f"{base}/r/{self._subs()}/search{suffix}", {**search, "restrict_sr": "1"}
        return f"{base}/search{suffix}", search

    # -- rounds ---------------------------------------------------------------------------------

    def _fresh(self, posts: list[Post]) -> list[Post]:
        """Posts newer than the saved time (or at it but unseen); moves the saved time."""
        since = self.state.get("since")
        seen = set(self.state.get("seen") or ())
        newest: float | None = since if isinstance(since, int | float) else None
        at_newest: set[str] = set(seen) if newest is not None else set()
        fresh: list[Post] = []
        for post in posts:
            stamp = post.created_at.timestamp()
            if isinstance(since, int | float) and (stamp < since or post.id in seen):
                continue
            fresh.append(post)
            if newest is None or stamp > newest:
                newest, at_newest = stamp, {post.id}
            elif stamp == newest:
                at_newest.add(post.id)
        if newest is not None:
            self.state["since"] = newest
            self.state["seen"] = sorted(at_newest)[-200:]
        return fresh

    async def _poll_feed(self, client: PoliteClient) -> list[Post]:
        url, params = self.feed_url()
        reply = await client.request("GET", url, params=params, conditional=True)
        validators = client.validators.get(url)
        if validators is not None:
            self.state["validators"] = {url: list(validators)}
        if reply.not_modified:
            return []
        parsed = parse_feed(reply)
        posts: list[Post] = []
        for entry in parsed.entries:
            post = self.read_item("", atom_entry_to_post, entry, feed=self.name, feed_url=url)
            if post is not None:
                posts.append(post)
        return posts

    async def _access_token(self, client: PoliteClient) -> str:
        if self._token and time.monotonic() < self._token_until:
            return self._token
        assert self.config.client_id is not None
        assert self.config.client_secret is not None
        try:
            reply = await client.request(
                "POST",
                f"{self.base_url}/api/v1/access_token",
                data={"grant_type": "client_credentials"},
                auth=(self.config.client_id.get(), self.config.client_secret.get()),
                headers={"User-Agent": self.api_user_agent},
                expect="json",
            )
        except AuthError as exc:
            raise AuthError(
                f"{host_of(self.base_url)}: the client id or secret was refused ({exc.status})",
                status=exc.status,
            ) from None
        data = reply.json()
        token = data.get("access_token") if isinstance(data, Mapping) else None
        if not isinstance(token, str) or not token:
            raise AuthError(f"{host_of(self.base_url)}: no access token in the answer")
        expires = data.get("expires_in") if isinstance(data, Mapping) else None
        lifetime = float(expires) if isinstance(expires, int | float) else 3600.0
        self._token = token
        self._token_until = time.monotonic() + max(60.0, lifetime - 60.0)
        return token

    async def _poll_api(self, client: PoliteClient) -> list[Post]:
        url, params = self.api_request()
        for attempt in range(2):
            token = await self._access_token(client)
            headers = {"Authorization": f"bearer {token}", "User-Agent": self.api_user_agent}
            try:
                data, _ = await client.get_json(url, params=params, headers=headers)
                break
            except AuthError:
                self._token = None  # expired or revoked: one more try with a new token
                if attempt:
                    raise
        listing = data.get("data") if isinstance(data, Mapping) else None
        children = listing.get("children") if isinstance(listing, Mapping) else None
        if not isinstance(children, list):
            raise PayloadError(f"{self.host}: the answer is not a listing")
        posts: list[Post] = []
        for child in children:
            post = self.read_item("", listing_item_to_post, child, feed=self.name)
            if post is not None:
                posts.append(post)
        return posts

    async def poll(self, limit: int | None = None) -> list[Post]:
        """One feed or one API listing, newest first, filtered to what is new."""
        client = self.client
        assert client is not None, "poll() runs inside session()"
        posts = await (self._poll_api(client) if self.oauth else self._poll_feed(client))
        fresh = self._fresh(posts)
        self.save_state()
        fresh.sort(key=lambda p: p.created_at)
        return fresh

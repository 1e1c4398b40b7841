"""Hacker News through the Algolia search API (``kind = "hackernews"``).

Each round asks ``GET /api/v1/search_by_date?query=…&tags=…&numericFilters=created_at_i>=X``
for what was posted since the newest item seen (``X`` and the ids seen in that second are the saved
state, so an item is never shown twice and none posted in the same second is lost). Results come
newest first, 100 a page; a full page means more are waiting and the next pages are read (at most
:attr:`HackerNewsSource.pages_per_round`). The first round takes the newest page only. Algolia
answers at most 1,000 results for one query, which is why the filter slides forward instead of
paging deep. A burst larger than one round is read over several: the rest of it is kept in the
state (``gap``: the oldest second read and the ids read at it, the newest) and the next rounds ask
for the window between the saved time and that second (``created_at_i>=X,created_at_i<=Y``),
before the saved time moves to the newest item of the burst.

No key is needed; the limit is 10,000 requests an hour per IP, far above the default of one round a
minute. Stories become posts with their title (and text for Ask HN); comments with their text, the
story's id as ``reply_to`` for top-level comments and the parent's otherwise. Hacker News has no
avatars and no follower counts (``null``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from agora.config import schema
from agora.core.post import Author, Media, Metrics, Post, PostError
from agora.core.text import clean_name, clean_text, html_to_text
from agora.sources.base import SourceContext
from agora.sources.fields import (
    count_value,
    epoch_time,
    item_id,
    plausible,
    post_time,
    ref_id,
    web_url,
)
from agora.sources.http import PayloadError, host_of
from agora.sources.live import LiveSource

__all__ = ["HackerNewsSource", "hit_to_post"]

ITEM_URL = "https://news.ycombinator.com/item?id="
USER_URL = "https://news.ycombinator.com/user?id="


def hit_to_post(hit: object, *, feed: str) -> Post:
    """An Algolia hit (story or comment) as a :class:`Post`. Raises
    :class:`~agora.core.post.PostError` when it is malformed."""
    if not isinstance(hit, Mapping):
        raise PostError("not-an-object", f"expected a hit object, got {type(hit).__name__}")
    object_id = hit.get("objectID")
    if isinstance(object_id, int) and not isinstance(object_id, bool):
        object_id = str(object_id)
    if not isinstance(object_id, str) or not object_id.strip():
        raise PostError("missing-id", "hit has no objectID")
    created = epoch_time(hit.get("created_at_i"))
    created = plausible(created) if created is not None else post_time(hit.get("created_at"))
    title = hit.get("title")
    story_text = hit.get("story_text")
    comment_text = hit.get("comment_text")
    tags = hit.get("_tags")
    is_comment = (isinstance(comment_text, str) and bool(comment_text)) or (
        isinstance(tags, list) and "comment" in tags
    )
    parts: list[str] = []
    if isinstance(title, str) and title.strip() and not is_comment:
        parts.append(clean_text(title, 500))
    body = comment_text if is_comment else story_text
    if isinstance(body, str) and body.strip():
        parts.append(html_to_text(body))
    text = clean_text(" ".join(p for p in parts if p))
    if not text:
        raise PostError("empty-text", f"hit {object_id} has no title or text")
    author = hit.get("author")
    handle = clean_name(author) if isinstance(author, str) and author else ""
    if not handle:
        raise PostError("missing-author", f"hit {object_id} has no author")
    media: tuple[Media, ...] = ()
    link = web_url(hit.get("url"))
    if not is_comment and link:
        alt = clean_text(title, 300) if isinstance(title, str) else ""
        media = (Media(kind="link", url=link, alt=alt),)
    reply_to: str | None = None
    if is_comment:
        parent = hit.get("parent_id") or hit.get("story_id")
        if isinstance(parent, int) and not isinstance(parent, bool):
            parent = str(parent)
        reply_to = ref_id("hackernews", parent)
    post_id = item_id("hackernews", object_id)
    return Post(
        id=post_id,
        source="hackernews",
        feed=feed,
        text=text,
        created_at=created,
        author=Author(handle=handle, name=handle, url=web_url(USER_URL + handle), followers=None),
        url=web_url(ITEM_URL + post_id.split(":", 1)[1]),
        lang=None,
        metrics=Metrics(
            likes=None if is_comment else count_value(hit.get("points")),
            reposts=None,
            replies=count_value(hit.get("num_comments")),
            quotes=None,
        ),
        media=media,
        reply_to=reply_to,
    )


class HackerNewsSource(LiveSource):
    """Stories and comments matching a query; see the module docstring."""

    kind: ClassVar[str] = "hackernews"
    default_every: ClassVar[float] = 60.0
    #: 10,000 requests an hour allow ~2.8 a second; one a second is plenty.
    min_every: float = 1.0
    pages_per_round: int = 5
    hits_per_page: int = 100

    def __init__(self, config: Any, context: SourceContext) -> None:
        super().__init__(config, context)
        self.config: schema.HackerNewsSource = config
        self.host = host_of(config.base_url)

    async def poll(self, limit: int | None = None) -> list[Post]:
        """Hits newer than the saved time, newest pages first; or the older part of a burst an
        earlier round could not read whole."""
        client = self.client
        assert client is not None, "poll() runs inside session()"
        since = self.state.get("since")
        since = since if isinstance(since, int) and not isinstance(since, bool) else None
        seen = {s for s in self.state.get("seen") or () if isinstance(s, str)}
        gap = self.state.get("gap")
        gap = gap if since is not None and isinstance(gap, dict) else None
        params: dict[str, Any] = {
            "query": self.config.query,
            "tags": self.config.tags,
            "hitsPerPage": self.hits_per_page,
        }
        # the newest item read (of this round, or of the burst being read) and the ids at it; the
        # oldest of the burst and the ids at it (the window's inclusive upper end)
        top, at_top = since, set(seen)
        floor: int | None = None
        at_floor: set[str] = set()
        if since is not None:
            params["numericFilters"] = f"created_at_i>={since}"
        if gap is not None and isinstance(gap.get("floor"), int):
            floor = gap["floor"]
            at_floor = {s for s in gap.get("floor_seen") or () if isinstance(s, str)}
            params["numericFilters"] = f"created_at_i>={since},created_at_i<={floor}"
            if isinstance(gap.get("top"), int) and gap["top"] > (since or 0):
                top = gap["top"]
                at_top = {s for s in gap.get("top_seen") or () if isinstance(s, str)}
        window = (floor, frozenset(at_floor))
        posts: list[Post] = []
        more = False  # stopped with pages left
        pages = self.pages_per_round if since is not None else 1
        for page in range(pages):
            data, _ = await client.get_json(
                f"{self.config.base_url}/api/v1/search_by_date", params={**params, "page": page}
            )
            hits = data.get("hits") if isinstance(data, Mapping) else None
            if not isinstance(hits, list):
                raise PayloadError(f"{self.host}: the answer has no list of hits")
            for hit in hits:
                post = self.read_item("", hit_to_post, hit, feed=self.name)
                if post is None:
                    continue
                native = post.id.split(":", 1)[1]
                stamp = int(post.created_at.timestamp())
                if native in seen:
                    continue
                if window[0] is not None and stamp == window[0] and native in window[1]:
                    continue  # read by an earlier round of this burst
                posts.append(post)
                if top is None or stamp > top:
                    top, at_top = stamp, {native}
                elif stamp == top:
                    at_top.add(native)
                if floor is None or stamp < floor:
                    floor, at_floor = stamp, {native}
                elif stamp == floor:
                    at_floor.add(native)
            nb_pages = data.get("nbPages") if isinstance(data, Mapping) else None
            more = len(hits) >= self.hits_per_page and not (
                isinstance(nb_pages, int) and page + 1 >= nb_pages
            )
            if not more or (limit and len(posts) >= limit):
                break
        if more and since is not None:
            if window[0] is not None and floor == window[0] and not posts:
                # a whole round inside one second already read: nothing moves; say so and go on
                self.logger.warning(
                    "%s: more than %d items in one second at %d; the rest of them is skipped",
                    self.name,
                    pages * self.hits_per_page,
                    floor,
                )
                more = False
            else:
                # a burst larger than one round: the saved time stays, the next round reads on
                self.state["gap"] = {
                    "floor": floor,
                    "floor_seen": sorted(at_floor)[-1_000:],
                    "top": top,
                    "top_seen": sorted(at_top)[-200:],
                }
                self.logger.info(
                    "%s: more items than %d pages since the last round; reading on next round",
                    self.name,
                    pages,
                )
        if not (more and since is not None):
            self.state.pop("gap", None)
            if top is not None:
                self.state["since"] = top
                self.state["seen"] = sorted(at_top)[-200:]
        self.save_state()
        posts.sort(key=lambda p: p.created_at)
        return posts

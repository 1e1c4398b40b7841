"""A post's identity comes from the source entry that delivered it, never from its payload.

Every batch a source hands over passes :func:`stamp` (the engine's sink, ``agora fetch``, the
offline reader and the console's "test this source" all do this):

* ``feed`` is the entry's name;
* ``source`` is the entry's kind. Only the kinds that replay other kinds' posts keep the kind a
  post says it has: ``jsonl`` (an archive of normalised posts, e.g. what ``agora fetch`` printed)
  and ``simulator`` (the demo imitating several networks); an unknown kind becomes the entry's;
* ``id`` starts with ``"<source>:"``. A webhook's posts live in a namespace of their own,
  ``"webhook:<entry name>:<the id the caller gave>"``: a caller can create and update only its own
  posts, never reach another source's (``"mastodon:…"`` becomes
  ``"webhook:push:mastodon:…"``) or another webhook's;
* a webhook cannot set a post's moderation state or mark it ``protected`` (the wall's rules and
  operators decide what is shown), and a repost it sends can only point at its own posts.

Who may be trusted (``allow_authors``, ``owned_accounts``) is matched with the source too: see
:mod:`agora.core.accounts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from agora.core.post import APPROVED, SOURCE_KINDS, Post

if TYPE_CHECKING:
    from agora.sources.base import Source

#: Kinds whose posts may carry another kind (they replay or imitate other networks).
REPLAYING_KINDS = frozenset({"jsonl", "simulator"})


def namespace(kind: str, name: str) -> str:
    """The prefix every id from the entry ``name`` of ``kind`` carries."""
    return f"webhook:{name}:" if kind == "webhook" else f"{kind}:"


def stamp(source: Source, posts: Sequence[Post]) -> list[Post]:
    """``posts`` (changed in place) with the identity the entry ``source`` gives them."""
    kind = source.kind
    name = source.name
    replaying = kind in REPLAYING_KINDS
    own_prefix = namespace(kind, name)
    for post in posts:
        post.feed = name
        if replaying:
            if post.source not in SOURCE_KINDS or post.source == "webhook":
                post.source = kind
            prefix = f"{post.source}:"
        else:
            post.source = kind
            prefix = own_prefix
        if not post.id.startswith(prefix):
            post.id = prefix + post.id
        if kind == "webhook":
            post.moderation = APPROVED
            post.protected = False
            if post.repost_of is not None and not post.repost_of.startswith(prefix):
                post.repost_of = prefix + post.repost_of
    return list(posts)

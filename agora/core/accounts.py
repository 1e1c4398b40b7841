"""Accounts named in a config, matched together with the source they belong to.

A name alone says little: anybody can register ``nokia`` on Bluesky, Reddit or Hacker News, call
their RSS feed's author "Nokia", or send ``"handle": "@nokia"`` to a webhook. So the accounts a wall
*trusts* (``[moderation] allow_authors``) and the brand's *own* accounts (``[analytics]
owned_accounts``) are written with the source kind they belong to:

``"x:@nokia"``, ``"mastodon:@nokia@mastodon.social"``, ``"bluesky:@nokia.com"``,
``"reddit:u/nokia"``, ``"youtube:UC…"`` (the channel id), ``"hackernews:nokia"``, ``"rss:Nokia"``,
``"webhook:@nokiacare"``.

They match a post only when its author has that handle **and** the post came from a source of that
kind. A webhook's authors are whatever its callers write, so a webhook vouches for no one unless its
own config entry says so (``trusted_authors``): a webhook post by ``@nokiacare`` matches
``"webhook:@nokiacare"`` only when it came through a webhook entry that lists ``@nokiacare``. (A
``jsonl`` file is the operator's own archive: its lines keep the kinds they were recorded with.)
Block lists may stay unqualified (``"@troll"`` is blocked on every source).

A post's ``source`` and ``feed`` are set from the source entry that delivered it (see
:mod:`agora.sources.identity`), never from its payload, so this check cannot be talked around.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from agora.core.post import SOURCE_KINDS, Post

#: Kinds whose authors are whatever a stranger writes: trusted only through their entry's
#: ``trusted_authors``.
RELAY_KINDS = frozenset({"webhook"})


@functools.lru_cache(maxsize=8_192)
def canonical_handle(handle: str) -> str:
    """A handle in the form trust is compared in: lower case, without one leading ``@`` or
    ``u/``, and otherwise exactly as written. No accent folding and no look-alike reading:
    ``@nökia``, ``@ｎｏｋｉａ`` and ``@𝐧𝐨𝐤𝐢𝐚`` are other accounts than ``@nokia``. Remembered
    for the latest handles (the same authors post again and again)."""
    key = handle.strip().lower()
    key = key[1:] if key.startswith("@") else key
    return key[2:] if key.startswith("u/") else key


@dataclass(frozen=True, slots=True)
class AccountRef:
    """One account entry: the source kind it belongs to (``None``: any source) and its handle
    in canonical form."""

    kind: str | None
    handle: str

    def __str__(self) -> str:
        return f"{self.kind}:@{self.handle}" if self.kind else f"@{self.handle}"


def parse_account(entry: str) -> AccountRef:
    """``"x:@nokia"`` → ``AccountRef("x", "nokia")``; ``"@nokia"`` → ``AccountRef(None, "nokia")``.

    Only a known source kind counts as a qualifier, so a Bluesky DID (``did:plc:…``) or a
    Mastodon handle (``@a@host``) stays a plain handle.
    """
    text = entry.strip()
    prefix, colon, rest = text.partition(":")
    kind = prefix.strip().lower()
    if colon and kind in SOURCE_KINDS and rest.strip():
        return AccountRef(kind, canonical_handle(rest))
    return AccountRef(None, canonical_handle(text))


#: What people write for a kind, and the kind they mean.
_KIND_ALIASES = {
    "twitter": "x",
    "bsky": "bluesky",
    "hn": "hackernews",
    "yt": "youtube",
    "fediverse": "mastodon",
    "fedi": "mastodon",
    "feed": "rss",
    "atom": "rss",
}
#: The shape of a handle on the kinds whose handles have one (after ``canonical_handle``).
_HANDLE_SHAPES: dict[str, tuple[re.Pattern[str], str]] = {
    "x": (re.compile(r"[a-z0-9_]{1,15}"), 'letters, digits and _ (up to 15), e.g. "x:@nokia"'),
    "mastodon": (
        re.compile(r"[a-z0-9_.-]+@[a-z0-9.-]+\.[a-z0-9-]+"),
        '@name@server, e.g. "mastodon:@nokia@mastodon.social"',
    ),
    "bluesky": (
        re.compile(r"(?:[a-z0-9-]+\.)+[a-z0-9-]+|did:[a-z]+:[a-z0-9._:%-]+"),
        'a domain handle or a DID, e.g. "bluesky:@nokia.bsky.social" or "bluesky:did:plc:…"',
    ),
    "reddit": (re.compile(r"[a-z0-9_-]{2,20}"), 'the user name, e.g. "reddit:u/nokia"'),
    "hackernews": (re.compile(r"[a-z0-9_-]{2,15}"), 'the user name, e.g. "hackernews:nokia"'),
    "youtube": (
        re.compile(r"uc[a-z0-9_-]{22}"),
        'the channel id (titles are not unique), e.g. "youtube:UCxxxxxxxxxxxxxxxxxxxxxx"',
    ),
}


def account_problem(entry: str, *, qualified: bool = True) -> str:
    """Why ``entry`` cannot name an account, else ``""`` (for the config checks).

    With ``qualified`` the entry must name its source kind, and the handle must have that kind's
    shape; the message explains how to write it. Without, it is a bare handle (``"@nokiacare"``
    in a webhook's ``trusted_authors``).
    """
    text = entry.strip()
    prefix, colon, rest = text.partition(":")
    named = prefix.strip().lower()
    if not qualified:
        if colon and (named in SOURCE_KINDS or named in _KIND_ALIASES):
            return f'{entry!r}: write the handle only (e.g. "@{canonical_handle(rest)}")'
        return "" if canonical_handle(text) else "an empty account name"
    if colon and named in SOURCE_KINDS and not rest.strip():
        return f"{entry!r} names no account after {named}:"
    if colon and named in _KIND_ALIASES:
        meant = _KIND_ALIASES[named]
        return f'{entry!r}: unknown source kind "{named}"; write "{meant}:{rest.strip()}"'
    ref = parse_account(text)
    if not ref.handle:
        return "an empty account name"
    if ref.kind is None:
        return _unqualified(entry, ref.handle)
    shape = _HANDLE_SHAPES.get(ref.kind)
    if shape is not None and not shape[0].fullmatch(ref.handle):
        return f"{entry!r}: a {ref.kind} account is {shape[1]}"
    return ""


def _unqualified(entry: str, handle: str) -> str:
    """The message for an account written without its source kind, with the rewrites that
    fit what it looks like."""
    if handle.startswith("did:"):
        examples = f'"bluesky:{handle}"'
    elif "@" in handle:  # "@nokia@x" or "@nokia@mastodon.social"
        name, _, host = handle.partition("@")
        kind = _KIND_ALIASES.get(host, host if host in SOURCE_KINDS else "")
        examples = f'"{kind}:@{name}"' if kind else f'"mastodon:@{handle}"'
    else:
        at = f"@{handle}"
        examples = (
            f'"x:{at}", "bluesky:{at}.bsky.social", "mastodon:{at}@mastodon.social" (one entry '
            f'per network), or "webhook:{at}" with {at} in that webhook\'s trusted_authors'
        )
    return (
        f"{entry!r} does not say which source it belongs to, so anyone using that name on any "
        f"network would count; write it with the kind of source it is yours on, e.g. {examples}"
    )


class AccountSet:
    """Accounts matched against a post's author *and* the source kind it came from.

    ``relays`` maps the name of each source entry of a relay kind (``webhook``) to the handles it
    vouches for (its ``trusted_authors``); posts from such an entry match only for
    those handles. ``any_source`` lets unqualified entries match on every source (block lists).
    """

    def __init__(
        self,
        entries: Iterable[str],
        *,
        relays: Mapping[str, Iterable[str]] | None = None,
        any_source: bool = False,
    ) -> None:
        pairs: set[tuple[str, str]] = set()
        anywhere: set[str] = set()
        for entry in entries:
            ref = parse_account(entry)
            if not ref.handle:
                continue
            if ref.kind is not None:
                pairs.add((ref.kind, ref.handle))
            elif any_source:
                anywhere.add(ref.handle)
        self._pairs = frozenset(pairs)
        self._anywhere = frozenset(anywhere)
        self._relays = {
            name: frozenset(canonical_handle(h) for h in handles)
            for name, handles in (relays or {}).items()
        }
        self.handles = frozenset({h for _, h in pairs} | anywhere)
        """Every handle named (canonical form), whatever its source: for text mentions."""

    def __bool__(self) -> bool:
        return bool(self._pairs or self._anywhere)

    def matches(self, post: Post) -> bool:
        """True when ``post``'s author is one of these accounts on the source it came from."""
        return self.matches_author(post.source, post.feed, post.author.handle)

    def matches_author(self, source: str, feed: str, handle: str) -> bool:
        """The check of :meth:`matches` for an author seen on ``source`` through entry ``feed``."""
        if not (self._pairs or self._anywhere):
            return False
        key = canonical_handle(handle)
        if key in self._anywhere:
            return True
        if not self._pairs:
            return False
        vouched = self._relays.get(feed)
        relayed = vouched is not None or source in RELAY_KINDS
        if relayed and (vouched is None or key not in vouched):
            return False  # a relay vouches only for the authors its entry names
        return (source, key) in self._pairs

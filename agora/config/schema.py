"""The typed schema of a wall's TOML config. Every key is declared here once, with its default.

A config file is validated against :class:`WallConfig` before anything starts. Unknown keys are
errors (``extra="forbid"``); the loader (:mod:`agora.config.loader`) turns validation errors into
``file:line: key.path: message`` lines with a "did you mean" for misspelt keys.
"""

from __future__ import annotations

import math
import os
import re
import urllib.parse
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from agora.core.accounts import account_problem
from agora.core.redact import remember_secrets

# ------------------------------------------------------------------------------------------------
# value types


def _account(value: str) -> str:
    problem = account_problem(value)
    if problem:
        raise ValueError(problem)
    return value.strip()


#: An account with the source kind it belongs to (``"x:@nokia"``), see :mod:`agora.core.accounts`.
Account = Annotated[str, AfterValidator(_account)]


def _handle(value: str) -> str:
    problem = account_problem(value, qualified=False)
    if problem:
        raise ValueError(problem)
    return value.strip()


#: A handle as a source writes it (``"@nokiacare"``).
Handle = Annotated[str, AfterValidator(_handle)]


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)?\s*$")
_UNITS = {
    None: 1.0,
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}


def parse_duration(value: object) -> float:
    """Seconds from ``"30s"``, ``"5m"``, ``"1.5h"``, ``"7d"``, ``"2w"`` or a plain number of seconds."""
    if isinstance(value, bool):
        raise ValueError('expected a duration such as "30s", "5m" or "1h"')
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION_RE.match(value)
        if not match:
            raise ValueError(f'{value!r} is not a duration; use e.g. "30s", "5m", "1h", "7d"')
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise ValueError('expected a duration such as "30s", "5m" or "1h"')
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class Secret:
    """A secret read from the environment (``"env:NAME"``). Its text never appears in a repr."""

    __slots__ = ("_value", "reference")

    def __init__(self, reference: str, value: str) -> None:
        self.reference = reference
        self._value = value
        # hidden from every output of the process from the moment it is read (a secret that a
        # hot reload adds too), before any request can carry it
        remember_secrets([value])

    def get(self) -> str:
        """The secret value (for the request that needs it, never for a log line)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.reference!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.reference == self.reference

    def __hash__(self) -> int:
        return hash(self.reference)


#: Shortest secret accepted (``env:NAME``): every credential a service issues is longer; a
#: shorter value is a placeholder or a typo (and could not be told from ordinary words in logs).
MIN_SECRET_CHARS = 8
#: Shortest webhook token: the operator picks it, and it alone keeps other callers out.
MIN_WEBHOOK_TOKEN_CHARS = 16


def _resolve_secret(
    value: object, minimum: int = MIN_SECRET_CHARS, what: str = "a secret", advice: str = ""
) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str) or not value.startswith("env:") or len(value) <= 4:
        raise ValueError(
            'secrets are never written in the file; use "env:NAME" and set NAME in the environment'
        )
    name = value[4:]
    resolved = os.environ.get(name)
    if resolved is None or resolved == "":
        raise ValueError(f"environment variable {name} is not set")
    if len(resolved) < minimum:
        raise ValueError(
            f"environment variable {name} holds {len(resolved)} characters; {what} takes at "
            f"least {minimum}{advice}"
        )
    return Secret(value, resolved)


def _webhook_token(value: object) -> Secret:
    return _resolve_secret(
        value,
        MIN_WEBHOOK_TOKEN_CHARS,
        "a webhook token (all that keeps other callers out)",
        '; make one with: python3 -c "import secrets; print(secrets.token_urlsafe(24))"',
    )


SecretRef = Annotated[
    Secret,
    BeforeValidator(_resolve_secret),
    PlainSerializer(lambda s: s.reference, return_type=str),
]
WebhookToken = Annotated[
    Secret,
    BeforeValidator(_webhook_token),
    PlainSerializer(lambda s: s.reference, return_type=str),
]

_HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_hours(value: str) -> tuple[int, int]:
    """``"22:00-06:00"`` as minutes after midnight ``(start, end)``; the range may wrap midnight."""
    match = _HOURS_RE.match(value)
    if not match:
        raise ValueError(f'{value!r} is not a time range; use e.g. "22:00-06:00"')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
        raise ValueError(f"{value!r} has an impossible time")
    return h1 * 60 + m1, h2 * 60 + m2


_CELL_RE = re.compile(r"^\s*(\d+)\s*,\s*(\d+)\s*$")
_GRID_RE = re.compile(r"^\s*(\d+)\s*x\s*(\d+)\s*$")


def parse_pair(value: object, what: str) -> tuple[int, int]:
    """``"2,1"`` (or ``[2, 1]``) as a pair of non-negative integers."""
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return int(value[0]), int(value[1])
    if isinstance(value, str) and (match := _CELL_RE.match(value)):
        return int(match.group(1)), int(match.group(2))
    raise ValueError(f'{what} must be "column,row", e.g. "2,1"')


# ------------------------------------------------------------------------------------------------
# sections


class Strict(BaseModel):
    """Base for every section: unknown keys are errors, values are immutable after loading. The
    docstring under each key is its description (the console shows it beside the field)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, use_attribute_docstrings=True
    )


class WallSection(Strict):
    """``[wall]``: what the wall is called and how it looks."""

    name: str = "Agora"
    theme: str = "dark"
    """``dark``, ``light`` or the path of a theme file."""
    privacy: Literal["public-only", "anonymous"] = "public-only"
    """``anonymous`` shows no names, handles or avatars anywhere."""
    language: str = "en"
    """Language of the wall's own labels."""
    logo: str | None = None
    """Image file shown in the header (relative to the config file)."""
    timezone: str | None = None
    """IANA zone for the clock and daily figures; ``None`` uses the machine's."""
    accent: str | None = None
    """Brand colour for highlights, ``#rrggbb``."""
    font_scale: float = Field(default=1.0, ge=0.5, le=3.0)
    """Make every text larger (> 1) or smaller (< 1) on this wall."""
    night: str | None = None
    """Quiet hours in local time, ``"22:00-06:00"``: the wall dims or blanks (``night_mode``)."""
    night_mode: Literal["dim", "blank"] = "dim"
    burn_in_shift: Duration = 240.0
    """Every this often the content moves a few pixels (burn-in protection); 0 turns it off."""
    burn_in_pixels: int = Field(default=4, ge=0, le=40)
    transition: Duration = 0.8
    """Length of the cross-fade between pages."""
    picture_hosts: list[str] = Field(default_factory=list)
    """Hosts whose pictures are shown even from a private address (an office's own CDN):
    ``"cdn.intranet.example"``, ``"*.intranet.example"`` or an IP address. Every other picture
    comes from public addresses only."""

    @field_validator("picture_hosts")
    @classmethod
    def _picture_hosts(cls, value: list[str]) -> list[str]:
        from agora.netguard import host_rule  # the guard itself is only needed by the wall

        return [host_rule(entry) for entry in value]

    @field_validator("theme")
    @classmethod
    def _theme(cls, value: str) -> str:
        if value not in ("dark", "light") and not value.endswith(".toml"):
            raise ValueError(
                f'{value!r} is not a theme; use "dark", "light" or a theme file (.toml)'
            )
        return value

    @field_validator("accent")
    @classmethod
    def _accent(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            raise ValueError(f'{value!r} is not a colour; use "#rrggbb"')
        return value

    @field_validator("night")
    @classmethod
    def _night(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hours(value)
        return value


class TopicConfig(Strict):
    """``[topics.<key>]``: a brand, competitor or campaign and the terms that identify it."""

    label: str | None = None
    terms: list[str] = Field(min_length=1)
    """Words or phrases (``"nokia"``), hashtags (``"#nokia"``), mentions (``"@nokia"``). Matching is
    case- and accent-insensitive on word boundaries; end a term with ``*`` to match prefixes
    (``"nokia*"`` also matches "nokiapedia")."""
    color: str | None = None
    """Colour on charts, ``#rrggbb``; a palette colour when absent."""

    @field_validator("terms")
    @classmethod
    def _terms_not_blank(cls, terms: list[str]) -> list[str]:
        for term in terms:
            if not term.strip(" #@*"):
                raise ValueError(f"term {term!r} is empty")
        return terms

    @field_validator("color")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            raise ValueError(f'{value!r} is not a colour; use "#rrggbb"')
        return value


class SourceBase(Strict):
    """Keys every ``[[sources]]`` entry has."""

    name: str = Field(min_length=1, max_length=64)
    """How the wall names this entry (logs, health, ``feed`` of its posts); letters, digits and
    ``_ . -`` (a webhook's post ids start ``webhook:<name>:``, so no ``:``)."""
    every: Duration | None = None
    """Polling interval; each kind has a polite default."""
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value):
            raise ValueError(
                f"{value!r}: a source name is letters, digits and _ . - (no spaces or colons), "
                'e.g. "fedi" or "press-feed"'
            )
        return value


class JsonlSource(SourceBase):
    """``kind = "jsonl"``: normalised posts from a file, one JSON object a line."""

    kind: Literal["jsonl"]
    path: str
    """Relative to the config file."""
    replay: bool = False
    """``true``: replay at the original pace (times ``speed``) instead of all at once."""
    speed: float = Field(default=1.0, gt=0)


class SimulatorSource(SourceBase):
    """``kind = "simulator"``: the demo stream of plausible mentions of the configured topics."""

    kind: Literal["simulator"]
    rate: float = Field(default=30.0, gt=0, le=100_000)
    """Average posts per minute (the daily rhythm and launch spike vary around it)."""
    seed: int = 1
    backfill: Duration = 6 * 3600.0
    """How much history to generate at start so charts are not empty."""
    launch_at: Duration | None = None
    """Seconds after start of the launch spike; default: a little while into the history."""


def _url(value: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """A base URL without its trailing slash; only the given schemes."""
    text = value.strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in schemes or not rest or any(c.isspace() for c in text):
        wanted = " or ".join(f"{s}://" for s in schemes)
        raise ValueError(f"{value!r} is not a URL; it must start with {wanted}")
    return text.rstrip("/")


HttpUrl = Annotated[str, AfterValidator(_url)]
WsUrl = Annotated[str, AfterValidator(lambda v: _url(v, ("ws", "wss")))]


def _non_blank(items: list[str], what: str) -> list[str]:
    cleaned = [item.strip() for item in items]
    for item in cleaned:
        if not item:
            raise ValueError(f"{what} cannot contain an empty entry")
    return cleaned


class MastodonSource(SourceBase):
    """``kind = "mastodon"``: hashtag timelines of a Mastodon (or compatible) server; the
    streaming API instead of polling when ``streaming = true`` and a user ``token`` is given."""

    kind: Literal["mastodon"]
    base_url: HttpUrl = "https://mastodon.social"
    hashtags: list[str] = Field(min_length=1)
    """Hashtags without ``#`` (a leading ``#`` is removed)."""
    token: SecretRef | None = None
    """A user access token (``"env:MASTODON_TOKEN"``): needed for streaming and on servers whose
    hashtag timelines require login."""
    streaming: bool = False
    """Listen to ``/api/v1/streaming/hashtag`` (server-sent events); needs ``token``."""

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        return _non_blank([t.strip().lstrip("#") for t in tags], "hashtags")

    @model_validator(mode="after")
    def _streaming_needs_token(self) -> MastodonSource:
        if self.streaming and self.token is None:
            raise ValueError(
                'streaming = true needs a user token (token = "env:NAME"): Mastodon\'s '
                "streaming API requires login since version 4.2"
            )
        return self


class BlueskySource(SourceBase):
    """``kind = "bluesky"``: Jetstream (every new post, matched locally against ``keywords``) or
    ``searchPosts`` (``query``; needs ``handle`` and an ``app_password``)."""

    kind: Literal["bluesky"]
    mode: Literal["jetstream", "search"] = "jetstream"
    jetstream_url: WsUrl = "wss://jetstream2.us-east.bsky.network/subscribe"
    base_url: HttpUrl = "https://public.api.bsky.app"
    """AppView for profile and post look-ups; in ``search`` mode with a login, the PDS or entryway
    (``https://bsky.social``) that issues the session."""
    keywords: list[str] = Field(default_factory=list)
    """Words, phrases or hashtags matched in each Jetstream post (case- and accent-insensitive,
    whole words); empty: the terms of every configured topic."""
    query: str | None = None
    """``search`` mode: the search query."""
    handle: str | None = None
    app_password: SecretRef | None = None

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, keywords: list[str]) -> list[str]:
        return _non_blank(keywords, "keywords")

    @model_validator(mode="after")
    def _mode_keys(self) -> BlueskySource:
        if self.mode == "search" and not (self.query and self.query.strip()):
            raise ValueError('mode = "search" needs a query')
        if (self.handle is None) != (self.app_password is None):
            raise ValueError("handle and app_password go together")
        return self


class HackerNewsSource(SourceBase):
    """``kind = "hackernews"``: stories and comments from the Algolia Hacker News search."""

    kind: Literal["hackernews"]
    base_url: HttpUrl = "https://hn.algolia.com"
    query: str = Field(min_length=1)
    tags: str = "(story,comment)"
    """Algolia tags filter: ``story``, ``comment``, ``(story,comment)``, ``ask_hn``, …"""


class RedditSource(SourceBase):
    """``kind = "reddit"``: search or subreddit Atom feeds by default; the OAuth Data API when
    ``client_id`` and ``client_secret`` are given."""

    kind: Literal["reddit"]
    base_url: HttpUrl = "https://www.reddit.com"
    """Where the feeds (and, with credentials, the token endpoint) are."""
    api_url: HttpUrl | None = None
    """The OAuth API host; default ``https://oauth.reddit.com`` (or ``base_url`` when that is not
    reddit.com, e.g. a test server)."""
    query: str | None = None
    subreddits: list[str] = Field(default_factory=list)
    """Subreddit names without ``r/``; with a ``query``, the search is restricted to them."""
    client_id: SecretRef | None = None
    client_secret: SecretRef | None = None
    username: str | None = None
    """Reddit account that registered the app, for the User-Agent Reddit asks for."""

    @field_validator("subreddits")
    @classmethod
    def _subs(cls, subs: list[str]) -> list[str]:
        cleaned = _non_blank(
            [s.strip().removeprefix("/").removeprefix("r/") for s in subs], "subreddits"
        )
        for sub in cleaned:
            if not re.fullmatch(r"[A-Za-z0-9_]{2,32}", sub):
                raise ValueError(f"{sub!r} is not a subreddit name")
        return cleaned

    @model_validator(mode="after")
    def _what(self) -> RedditSource:
        if not (self.query and self.query.strip()) and not self.subreddits:
            raise ValueError("give a query, subreddits, or both")
        if (self.client_id is None) != (self.client_secret is None):
            raise ValueError("client_id and client_secret go together")
        return self


class RssSource(SourceBase):
    """``kind = "rss"``: any RSS or Atom feed (news, blogs, Google News searches)."""

    kind: Literal["rss"]
    url: HttpUrl | None = None
    urls: list[HttpUrl] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some_url(self) -> RssSource:
        if self.url is None and not self.urls:
            raise ValueError("give url or urls")
        return self

    @property
    def feed_urls(self) -> list[str]:
        """``url`` and ``urls`` together, without repeats."""
        seen: list[str] = []
        for url in ([self.url] if self.url else []) + list(self.urls):
            if url not in seen:
                seen.append(url)
        return seen


class XSource(SourceBase):
    """``kind = "x"``: X (Twitter) API v2 recent search, or the filtered stream."""

    kind: Literal["x"]
    base_url: HttpUrl = "https://api.x.com"
    query: str = Field(min_length=1)
    bearer_token: SecretRef
    mode: Literal["search", "stream"] = "search"
    max_results: int = Field(default=25, ge=10, le=100)
    """Posts asked for per search request (X bills every post read)."""


class YouTubeSource(SourceBase):
    """``kind = "youtube"``: new videos for a ``query`` and comment threads of ``video_ids`` (and
    of the newest videos found), with a Data API key."""

    kind: Literal["youtube"]
    base_url: HttpUrl = "https://www.googleapis.com/youtube/v3"
    query: str | None = None
    video_ids: list[str] = Field(default_factory=list)
    api_key: SecretRef
    search_every: Duration = Field(default=1800.0, ge=60)
    """How often to run ``search.list`` (100 quota units a call of the 10,000 a day)."""

    @field_validator("video_ids")
    @classmethod
    def _ids(cls, ids: list[str]) -> list[str]:
        cleaned = _non_blank(ids, "video_ids")
        for vid in cleaned:
            if not re.fullmatch(r"[A-Za-z0-9_-]{6,20}", vid):
                raise ValueError(f"{vid!r} is not a YouTube video id")
        return cleaned

    @model_validator(mode="after")
    def _what(self) -> YouTubeSource:
        if not (self.query and self.query.strip()) and not self.video_ids:
            raise ValueError("give a query, video_ids, or both")
        return self


class WebhookSource(SourceBase):
    """``kind = "webhook"``: ``POST /ingest`` with one post or a list in the normalised shape."""

    kind: Literal["webhook"]
    host: str = "127.0.0.1"
    """Address to listen on; keep 127.0.0.1 unless another machine must push."""
    port: int = Field(default=8787, ge=0, le=65535)
    """0 picks a free port (tests)."""
    token: WebhookToken
    """Bearer token every request must carry (``Authorization: Bearer …``), at least 16
    characters."""
    max_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    """Largest request body accepted (413 beyond)."""
    max_connections: int = Field(default=64, ge=1, le=4096)
    """Most connections open at once; when all are taken, a new one replaces the one that has
    waited longest for its request."""
    request_timeout: Duration = Field(default=10.0, gt=0, le=300)
    """Time a client has to send a whole request, headers and body (408 and closed after)."""
    trusted_authors: list[Handle] = Field(default_factory=list)
    """Authors whose posts this webhook's callers may send (``"@nokiacare"`` for a care desk
    tool): only they can match ``"webhook:…"`` entries of ``allow_authors`` and
    ``owned_accounts``. Empty: the webhook vouches for no one."""


SourceConfig = Annotated[
    JsonlSource
    | SimulatorSource
    | MastodonSource
    | BlueskySource
    | HackerNewsSource
    | RedditSource
    | RssSource
    | XSource
    | YouTubeSource
    | WebhookSource,
    Field(discriminator="kind"),
]


def _regex(value: str) -> str:
    """A regular expression that compiles (matched case-insensitively)."""
    try:
        re.compile(value, re.IGNORECASE)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise ValueError(f"{value!r} is not a regular expression: {exc.msg}{where}") from None
    if re.fullmatch(value, "", re.IGNORECASE) is not None:
        raise ValueError(f"{value!r} matches empty text, so it would hide every post")
    return value


Regex = Annotated[str, AfterValidator(_regex)]

_LANG_RE = re.compile(r"[a-z]{2,3}")


def _language(value: str) -> str:
    code = value.strip().replace("_", "-").split("-", 1)[0].lower()
    if not _LANG_RE.fullmatch(code):
        raise ValueError(f'{value!r} is not a language code; use e.g. "en", "fi", "pt-BR"')
    return code


LanguageCode = Annotated[str, AfterValidator(_language)]


def _domain(value: str) -> str:
    text = value.strip().lower()
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    text = text.rstrip("/").removeprefix("www.")
    if (
        not text
        or "." not in text
        or any(c.isspace() or c in "/?#@:" for c in text)
        or text.startswith(".")
    ):
        raise ValueError(f'{value!r} is not a domain; use e.g. "example.com"')
    return text


Domain = Annotated[str, AfterValidator(_domain)]


def _not_blank(value: str) -> str:
    if not value.strip(" #@*"):
        raise ValueError(f"{value!r} is empty")
    return value.strip()


NonBlank = Annotated[str, AfterValidator(_not_blank)]


class ModerationConfig(Strict):
    """``[moderation]``: what may be shown on the wall, and whether an operator approves first.

    Every filter hides a post (it is still counted in the figures, as ``hidden``); decisions
    taken later by an operator (``agora moderation``, the console, ``H`` at the wall) go on top.
    """

    profanity: bool | Literal["strict"] = True
    """Hide posts (and authors' names) with profanity from maintained word lists: whole words,
    leetspeak (``sh1t``, ``f*ck``), the lists of ``profanity_languages``, of ``languages`` and of
    the post's own language (its source's tag, or the language detected in its text when it has
    none). ``"strict"`` also hides the everyday words the lists include ("sucks", "wtf",
    "sexy")."""
    profanity_languages: list[LanguageCode] = Field(default_factory=lambda: ["en"])
    """Languages whose lists every post is checked against, whatever language it is in."""
    profanity_allow: list[NonBlank] = Field(default_factory=list)
    """Words never counted as profanity on this wall (a product or place name the lists catch)."""
    block_terms: list[NonBlank] = Field(default_factory=list)
    """Words or phrases that hide a post, matched like topic terms (case- and accent-insensitive,
    whole words, ``"#tag"`` only the hashtag, a trailing ``*`` for prefixes) and also inside
    hashtags (``"giveaway"`` hides ``#MegaGiveaway``) and in leetspeak (``g1veaway``). They never
    trend."""
    block_patterns: list[Regex] = Field(default_factory=list)
    """Regular expressions (Python syntax, case-insensitive) searched in the post's text; a match
    hides the post, e.g. ``"free\\s+(followers|likes)"``."""
    block_authors: list[NonBlank] = Field(default_factory=list)
    """Handles whose posts are never shown (``"@spam@example.org"``, ``"bot.bsky.social"``) on
    any source, or on one kind of source only (``"reddit:u/spammer"``); a change of display name
    changes nothing."""
    block_domains: list[Domain] = Field(default_factory=list)
    """Hosts whose links or media hide a post (``"example.com"`` also covers its subdomains):
    the post's permalink, its media and the links in its text."""
    block_sources: list[NonBlank] = Field(default_factory=list)
    """Source entries (their ``name``) or kinds (``"reddit"``) whose posts are never shown."""
    allow_authors: list[Account] = Field(default_factory=list)
    """Trusted authors, each with the source kind it is theirs on (``"x:@nokia"``,
    ``"mastodon:@nokia@mastodon.social"``): shown at once in every approval mode, and their media
    always shown. An account of the same name on another source is not trusted."""
    approval: Literal["auto", "manual", "trusted-only"] = "auto"
    """``auto``: shown unless a filter hides it; ``manual``: nothing is shown until an operator
    approves it; ``trusted-only``: ``allow_authors`` are shown at once, others wait."""
    languages: list[LanguageCode] = Field(default_factory=list)
    """Languages the wall shows (``["en", "fi"]``); posts tagged with another language are
    hidden, and so are untagged posts mostly in another script. Empty: every language."""
    hide_sensitive: bool = True
    """Hide posts the source marks sensitive (Mastodon ``sensitive``/content warning, Reddit
    ``over_18``, X ``possibly_sensitive``, Bluesky adult labels). With ``false`` they are shown
    without their pictures."""
    hide_untrusted_media: bool = False
    """Drop the pictures (images, video previews, avatars) of authors not in ``allow_authors``;
    their text is still shown."""


#: Most words in one ``[analytics] lexicon`` phrase.
MAX_LEXICON_WORDS = 6


class AnalyticsConfig(Strict):
    """``[analytics]``: how figures are computed."""

    owned_accounts: list[Account] = Field(default_factory=list)
    """The brand's own accounts, each with the source kind it is theirs on (``"x:@nokia"``,
    ``"bluesky:@nokia.com"``): their replies answer the care queue, their posts feed the "owned"
    rates and never the leaderboard or trending."""
    stopwords: list[str] = Field(default_factory=list)
    """Extra words never shown as trending."""
    sentiment: Literal["social", "rules", "vader", "none"] = "social"
    """``social`` (the default: a model learnt from labelled tweets, with the rules as features),
    ``rules`` (the lexicon and rules for social text alone), ``vader`` (bare VADER, the baseline)
    or ``none``."""
    neutral_band: float | None = Field(default=None, ge=0, lt=1)
    """Scores within ±band are neutral; unset: the scorer's own thresholds."""
    lexicon: dict[str, float] = Field(default_factory=dict)
    """The brand's own vocabulary for the social and rules scorers: words or phrases of up to
    :data:`MAX_LEXICON_WORDS` words → valence from -4 (worst) to 4 (best), e.g.
    ``{ "killer feature" = 2.5, "sick camera" = 2.0 }``. These take precedence over the built-in
    lexicon."""

    @field_validator("lexicon")
    @classmethod
    def _check_lexicon(cls, value: dict[str, float]) -> dict[str, float]:
        from agora.core.sentiment_social import MAX_VALENCE, phrase_words

        checked: dict[str, float] = {}
        for key, valence in value.items():
            words = phrase_words(key)
            if not words:
                raise ValueError(f"lexicon key {key!r} has no word to match")
            if len(words) > MAX_LEXICON_WORDS:
                raise ValueError(
                    f"lexicon key {key!r} has {len(words)} words; at most {MAX_LEXICON_WORDS}"
                )
            if not math.isfinite(valence) or not -MAX_VALENCE <= valence <= MAX_VALENCE:
                raise ValueError(
                    f"lexicon value of {key!r} is {valence}; use a number from "
                    f"{-MAX_VALENCE:g} (worst) to {MAX_VALENCE:g} (best)"
                )
            checked[" ".join(words)] = float(valence)
        return checked

    @model_validator(mode="after")
    def _lexicon_needs_social(self) -> AnalyticsConfig:
        if self.lexicon and self.sentiment == "vader":
            raise ValueError(
                'lexicon is used by the social and rules scorers only; set sentiment = "social" '
                "(bare vader is the unchanged baseline)"
            )
        return self


class StoreConfig(Strict):
    """``[store]``: what the wall remembers across restarts, and where."""

    retention: Duration = 7 * 86400.0
    """Posts older than this are removed from the store."""
    url: str | None = None
    """A PostgreSQL database shared by collectors and walls
    (``postgresql://agora@db.example.com/agora?sslmode=verify-full``: libpq parameters after ``?``);
    without it the wall keeps its own SQLite file. Never a password in it: see ``password``."""
    password: SecretRef | None = None
    """The database password, from the environment (``"env:AGORA_DB_PASSWORD"``)."""
    role: Literal["auto", "wall", "standalone"] = "auto"
    """With ``url``: ``auto``/``wall`` — this wall runs no sources and shows what the collectors
    (``agora collect``) write to the shared database; ``standalone`` — it runs its own sources
    into it. Without ``url`` a wall is always standalone."""

    def wall_role(self) -> Literal["wall", "standalone"]:
        """What ``agora run`` does with this config: follow the shared database, or run the
        config's sources itself."""
        return "wall" if self.url and self.role != "standalone" else "standalone"

    @field_validator("url")
    @classmethod
    def _shared_database(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # the message never repeats the URL: it may hold the very password it refuses
        try:
            parts = urllib.parse.urlsplit(value.strip())
            query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        except ValueError:
            raise ValueError("not a URL; expected postgresql://user@host/database") from None
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError(
                "expected a PostgreSQL URL (postgresql://user@host/database); "
                "without url the wall keeps its own SQLite file"
            )
        if parts.password is not None or "password" in query:
            # hidden from every output from now on (a traceback may show the value refused)
            remember_secrets([p for p in [parts.password, *query.get("password", [])] if p])
            raise ValueError(
                "the URL holds a password, and config files are read by many people and "
                'tools: write the URL without it and set password = "env:AGORA_DB_PASSWORD" '
                "(the password in that environment variable)"
            )
        return value.strip()

    @model_validator(mode="after")
    def _password_goes_with_url(self) -> StoreConfig:
        if self.password is not None and self.url is None:
            raise ValueError("password is the password of the database at url; set url too")
        return self


PANEL_KINDS = (
    "featured",
    "river",
    "ticker",
    "volume",
    "sentiment",
    "share",
    "trending",
    "authors",
    "kpis",
    "sources",
    "care",
    "header",
    "alert",
)
PanelKind = Literal[
    "featured",
    "river",
    "ticker",
    "volume",
    "sentiment",
    "share",
    "trending",
    "authors",
    "kpis",
    "sources",
    "care",
    "header",
    "alert",
]


class PanelConfig(Strict):
    """One panel on a page's grid."""

    kind: PanelKind
    at: Annotated[tuple[int, int], BeforeValidator(lambda v: parse_pair(v, "at"))] = (0, 0)
    """Top-left cell, ``"column,row"`` from 0."""
    span: Annotated[tuple[int, int], BeforeValidator(lambda v: parse_pair(v, "span"))] = (1, 1)
    """Columns and rows covered."""
    title: str | None = None
    window: Duration | None = None
    """Time range the panel covers (``"1h"``, ``"24h"``)."""
    by: Literal["topic", "sentiment", "source"] | None = None
    topics: list[str] | None = None
    limit: int | None = Field(default=None, ge=1, le=100)
    """How many items (posts, terms, authors) at most."""
    interval: Duration | None = Field(default=None, gt=0)
    """``featured``: how long each post stays before the next."""
    speed: float | None = Field(default=None, gt=0, le=1000)
    """``ticker``: crawl speed in pixels per second at 1080p (scaled with the screen)."""
    mode: Literal["active", "influential", "both"] | None = None
    """``authors``: rank by posts (active), by followers (influential), or show both."""

    @field_validator("span")
    @classmethod
    def _span_positive(cls, value: tuple[int, int]) -> tuple[int, int]:
        if value[0] < 1 or value[1] < 1:
            raise ValueError("span must be at least 1,1")
        return value


class PageConfig(Strict):
    """A page: a grid of panels shown for ``seconds`` before the screen turns to the next page."""

    name: str | None = None
    seconds: Duration = 30.0
    grid: Annotated[tuple[int, int], BeforeValidator(_parse_grid)] = (3, 2)
    """``"columns x rows"``, e.g. ``"3x2"``."""
    panels: list[PanelConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _panels_fit(self) -> PageConfig:
        cols, rows = self.grid
        taken: dict[tuple[int, int], int] = {}
        for index, panel in enumerate(self.panels):
            (c, r), (w, h) = panel.at, panel.span
            if c + w > cols or r + h > rows:
                raise ValueError(
                    f"panels[{index}] ({panel.kind} at {c},{r} span {w},{h}) does not fit "
                    f"the {cols}x{rows} grid"
                )
            for x in range(c, c + w):
                for y in range(r, r + h):
                    if (x, y) in taken:
                        raise ValueError(
                            f"panels[{index}] ({panel.kind}) overlaps panels[{taken[(x, y)]}] "
                            f"at cell {x},{y}"
                        )
                    taken[(x, y)] = index
        return self


def _parse_grid(value: object) -> tuple[int, int]:
    if isinstance(value, str) and (match := _GRID_RE.match(value)):
        cols, rows = int(match.group(1)), int(match.group(2))
        if 1 <= cols <= 12 and 1 <= rows <= 12:
            return cols, rows
    raise ValueError('grid must be "COLUMNSxROWS" with 1 to 12 of each, e.g. "3x2"')


class ScreenConfig(Strict):
    """``[[screens]]``: one physical screen and its rotating pages."""

    output: int | str = 0
    """Screen index (0 = first) or connector name, e.g. ``"HDMI-1"``."""
    pages: list[PageConfig] = Field(min_length=1)


class WallConfig(Strict):
    """A whole wall: the root of the TOML file."""

    extends: str | None = None
    """Another config file (relative path) this one builds on."""
    wall: WallSection = Field(default_factory=WallSection)
    topics: dict[str, TopicConfig] = Field(default_factory=dict)
    sources: list[SourceConfig] = Field(default_factory=list)
    moderation: ModerationConfig = Field(default_factory=ModerationConfig)
    analytics: AnalyticsConfig = Field(default_factory=AnalyticsConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    screens: list[ScreenConfig] = Field(default_factory=list)

    @field_validator("topics")
    @classmethod
    def _topic_keys(cls, topics: dict[str, TopicConfig]) -> dict[str, TopicConfig]:
        for key in topics:
            if not re.fullmatch(r"[A-Za-z0-9_-]+", key):
                raise ValueError(f"topic key {key!r} may use only letters, digits, _ and -")
        return topics

    @model_validator(mode="after")
    def _unique_source_names(self) -> WallConfig:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"two sources are named {source.name!r}; names must be unique")
            seen.add(source.name)
        return self

    def topic_label(self, key: str) -> str:
        """Display label of a topic key."""
        topic = self.topics.get(key)
        return (topic.label or key) if topic else key

    def source(self, name: str) -> SourceBase | None:
        """The source entry with this name."""
        return next((s for s in self.sources if s.name == name), None)

    def relays(self) -> dict[str, list[str]]:
        """The entries whose authors are what strangers say (``webhook``), by name, with the
        handles each vouches for (its ``trusted_authors``)."""
        return {
            s.name: list(s.trusted_authors) for s in self.sources if isinstance(s, WebhookSource)
        }


def describe(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of a section (used by documentation and the console)."""
    return model.model_json_schema()

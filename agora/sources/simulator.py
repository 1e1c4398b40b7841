"""The simulated stream (``kind = "simulator"``): plausible mentions of the configured topics.

The demo wall, the benchmarks and many tests run on it, so it has to look like the real thing:

* posts from several platforms (``source`` is ``x``, ``mastodon``, ``bluesky``, ``reddit``,
  ``hackernews``, ``youtube`` or ``rss``) with fictional ids (``bluesky:sim-…``), permalinks on
  reserved ``.example`` domains and handles in each platform's style;
* a daily rhythm (quiet nights, a lunch and an evening peak, by the UTC hour) around an average of
  ``rate`` posts a minute, and a launch spike of several times the volume for about 45 minutes,
  mostly enthusiastic posts about the brand's campaign;
* opinions (roughly 40 % neutral, 35 % positive, 25 % negative about the brand; each competitor has
  its own mix), questions and complaints, some addressed to the brand's owned accounts
  (``[analytics] owned_accounts``), and replies from those accounts a few minutes later
  (``reply_to`` set), so the care queue has answered and open items;
* reposts of earlier posts (``is_repost``, ``repost_of``), images with alt text, emoji, hashtags,
  elongated words and the odd typo, and posts in Finnish, German, Spanish, French, Portuguese and
  Japanese (``lang`` set) beside the English majority;
* a few hundred fictional authors with a long-tail activity, log-normal follower counts, names from
  several cultures, and metrics that are ``None`` where a platform has none.

**Deterministic.** Posts are a pure function of the seed, the wall's topics and owned accounts,
``rate``, the launch moment and the time range: every simulated minute draws from its own
``random.Random`` seeded with (seed, minute). :meth:`SimulatorSource.generate` therefore returns the
same posts (same ids, same texts) for the same range however often it is called, and the backfill,
the live stream and :meth:`SimulatorSource.stream` agree minute by minute. Replies and reposts are
created by the minute of the post they answer and surface when their time comes.

**The launch moment** is ``launch_at`` seconds after the start of the simulated history (``now -
backfill`` when the source is created); by default two hours before "now" (or half-way through a
shorter backfill) so the demo charts show it. It is saved as the source's cursor and reused after a
restart while it is still within the backfill, so a restarted demo regenerates the very same history
(and the store de-duplicates it) instead of drawing a second spike.

Every moment comes from ``context.clock()``; only the pacing of :meth:`SimulatorSource.run` uses
real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import re
from bisect import bisect
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate, chain
from operator import itemgetter
from typing import Any, ClassVar, Final

from agora.config import schema
from agora.core.accounts import parse_account
from agora.core.post import Author, Media, Metrics, Post
from agora.core.text import fold
from agora.sources.base import Sink, Source, SourceContext
from agora.sources.simulator_text import PhraseBank, SimulatorTexts, Words
from agora.sources.simulator_text import load as load_texts

__all__ = ["LOOKBACK_MINUTES", "SimulatorSource", "daily_rhythm", "launch_factor"]

_MASK64: Final = (1 << 64) - 1
_GOLDEN: Final = 0x9E3779B97F4A7C15
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

#: Replies and reposts appear at most this many minutes after the post they refer to; generating a
#: range starts this many minutes earlier so that they are included.
LOOKBACK_MINUTES: Final = 60
_MAX_DELAY_S: Final = (LOOKBACK_MINUTES - 5) * 60
#: Delayed posts and in-minute offsets: a precomputed timedelta per second.
_SECONDS: Final = tuple(timedelta(seconds=s) for s in range((LOOKBACK_MINUTES + 1) * 60))

#: Length of the launch spike and its peak multiple of the normal volume.
SPIKE_SECONDS: Final = 45 * 60
SPIKE_PEAK: Final = 6.0

PLATFORMS: Final = ("x", "mastodon", "bluesky", "reddit", "hackernews", "youtube", "rss")
_PLATFORM_WEIGHTS: Final = (26, 21, 20, 14, 7, 7, 5)
#: Platforms where people @-address accounts, boost/repost, and where the brand answers.
_SOCIAL: Final = frozenset({"x", "mastodon", "bluesky"})
_AUTHOR_COUNT: Final = 400

_KINDS: Final = ("pos", "neu", "neg", "ask", "bad")
#: Mix of kinds for posts about the brand: with the questions (mostly neutral) and complaints
#: (negative) this gives about 40 % neutral, 35 % positive and 25 % negative posts.
_BRAND_MIX: Final = (0.28, 0.29, 0.16, 0.13, 0.14)

_ELONGATE_RE: Final = re.compile(r"\b(so|good|love|really|nice|yes|no|cool|great|slow)\b")
_ELONGATE: Final = {
    "so": ("s", "o", ""),
    "good": ("g", "o", "d"),
    "love": ("l", "o", "ve"),
    "really": ("rea", "a", "lly"),
    "nice": ("ni", "i", "ce"),
    "yes": ("ye", "e", "s"),
    "no": ("n", "o", ""),
    "cool": ("c", "o", "l"),
    "great": ("gre", "e", "at"),
    "slow": ("sl", "o", "w"),
}


# ------------------------------------------------------------------------------------------------
# curves


def _bump(hour: float, centre: float, width: float) -> float:
    distance = abs(hour - centre)
    distance = min(distance, 24.0 - distance)
    return math.exp(-0.5 * (distance / width) ** 2)


def _rhythm_table() -> tuple[float, ...]:
    raw = []
    for minute in range(1440):
        hour = minute / 60.0
        raw.append(
            0.16
            + 0.50 * _bump(hour, 9.0, 1.6)
            + 0.95 * _bump(hour, 12.5, 1.5)
            + 0.60 * _bump(hour, 16.0, 1.8)
            + 1.15 * _bump(hour, 20.3, 2.0)
        )
    mean = sum(raw) / len(raw)
    return tuple(value / mean for value in raw)


_RHYTHM: Final = _rhythm_table()


def daily_rhythm(moment: datetime) -> float:
    """Relative volume at ``moment`` (UTC hour of day): averages 1.0 over a day, about 0.2 at night
    and 2 at the evening peak."""
    moment = moment.astimezone(UTC)
    return _RHYTHM[moment.hour * 60 + moment.minute]


def launch_factor(seconds_since_launch: float) -> float:
    """Volume multiple during the launch spike: 1 before it, a five-minute ramp to
    :data:`SPIKE_PEAK`, then a decay over :data:`SPIKE_SECONDS`, 1 again after it."""
    t = seconds_since_launch
    if t < 0 or t >= SPIKE_SECONDS:
        return 1.0
    shape = min(1.0, (t + 60.0) / 300.0) * math.exp(-2.2 * t / SPIKE_SECONDS)
    return 1.0 + (SPIKE_PEAK - 1.0) * shape


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0.0:
        return 0
    if lam < 40.0:
        limit = math.exp(-lam)
        k = 0
        p = rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k
    return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))


# ------------------------------------------------------------------------------------------------
# topics as the simulator writes about them


@dataclass(slots=True, frozen=True)
class _Topic:
    key: str
    refs: tuple[str, ...]
    """How the text names it ("Lumen"); every ref matches one of the topic's terms."""
    hashtags: tuple[str, ...]
    mentions: tuple[str, ...]
    mix: tuple[float, ...]
    """Cumulative probabilities of :data:`_KINDS`."""


def _word_in(needle: str, haystack: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) is not None


def _make_topic(key: str, label: str, terms: Sequence[str], mix: Sequence[float]) -> _Topic:
    hashtags: list[str] = []
    mentions: list[str] = []
    plain: list[str] = []
    for raw in terms:
        term = raw.strip().rstrip("*").strip()
        if term.startswith("#") and len(term) > 1:
            hashtags.append(term)
        elif term.startswith("@") and len(term) > 1:
            mentions.append(term)
        elif term:
            plain.append(term)
    # repeated entries weigh more: mostly the label, now and then the casual lower-case spelling
    refs: list[str] = []
    for term in plain:
        if _word_in(fold(term), fold(label)):
            refs += [label, label, label]
        capitalised = " ".join(w[:1].upper() + w[1:] for w in term.split())
        refs += [capitalised if term.islower() else term] * 2
        if term.islower():
            refs.append(term)
    if not refs:
        refs = [*hashtags, *mentions] or [label]
    return _Topic(
        key=key,
        refs=tuple(refs),
        hashtags=tuple(hashtags),
        mentions=tuple(mentions),
        mix=tuple(accumulate(mix)),
    )


# ------------------------------------------------------------------------------------------------
# authors


@dataclass(slots=True, frozen=True)
class _SimAuthor:
    author: Author
    platform: str
    lang: str | None
    bank: PhraseBank
    base: float
    """Typical likes of a post by this author."""
    url_prefix: str
    """Permalink of a post is ``url_prefix + native id``."""
    mention: str
    """How others address this author in a reply."""
    id_prefix: str


def _ascii(text: str) -> str:
    return "".join(ch for ch in fold(text) if ch.isascii() and ch.isalnum())


def _platform_id_prefix(platform: str, instance: str = "") -> str:
    if platform == "mastodon":
        return f"mastodon:{instance}:sim-"
    return f"{platform}:sim-"


class _AuthorPool:
    """A few hundred fictional authors, drawn once from the seed."""

    def __init__(self, seed: int, texts: SimulatorTexts) -> None:
        self.texts = texts
        people = texts.authors
        rng = random.Random(seed * 7_919 + 104_729)
        cultures = list(people.cultures)
        culture_cum = list(accumulate(c.weight for c in people.cultures.values()))
        platform_cum = list(accumulate(_PLATFORM_WEIGHTS))
        taken: set[str] = set()
        authors: list[_SimAuthor] = []
        site_index = 0
        for _ in range(_AUTHOR_COUNT):
            platform = PLATFORMS[bisect(platform_cum, rng.random() * platform_cum[-1])]
            culture = cultures[bisect(culture_cum, rng.random() * culture_cum[-1])]
            if platform == "rss":
                if site_index < len(people.sites):
                    name, host = people.sites[site_index]
                else:  # more feeds than named sites: a personal tech blog
                    adjective = rng.choice(people.nick_adjectives)
                    noun = rng.choice(people.nick_nouns)
                    name = f"{adjective.capitalize()} {noun.capitalize()} Blog"
                    host = f"{adjective}{noun}.example"
                site_index += 1
                handle = host
                while handle in taken:
                    handle = f"{rng.randint(2, 9)}{handle}"
                taken.add(handle)
                authors.append(
                    _SimAuthor(
                        author=Author(
                            handle=handle,
                            name=name,
                            url=f"https://{handle}/",
                            avatar_url=f"https://{handle}/favicon.png",
                            followers=None,
                        ),
                        platform="rss",
                        lang="en",
                        bank=texts.banks["en"],
                        base=0.0,
                        url_prefix=f"https://{handle}/news/",
                        mention=name,
                        id_prefix=_platform_id_prefix("rss"),
                    )
                )
                continue
            authors.append(self._person(rng, platform, culture, taken))
        self.authors: tuple[_SimAuthor, ...] = tuple(authors)
        # long-tail activity: a few very active authors, most post now and then
        ranks = list(range(len(authors)))
        rng.shuffle(ranks)
        weights = [
            (0.25 if a.platform == "rss" else 1.0) / (rank + 6) ** 0.95
            for a, rank in zip(authors, ranks, strict=True)
        ]
        self.cumulative: list[float] = list(accumulate(weights))
        self.by_platform: dict[str, tuple[list[_SimAuthor], list[float]]] = {}
        for platform in PLATFORMS:
            members = [
                (a, w) for a, w in zip(authors, weights, strict=True) if a.platform == platform
            ]
            self.by_platform[platform] = (
                [a for a, _ in members],
                list(accumulate(w for _, w in members)),
            )

    def _person(
        self, rng: random.Random, platform: str, culture: str, taken: set[str]
    ) -> _SimAuthor:
        people = self.texts.authors
        native = people.cultures[culture].lang
        given = rng.choice(people.cultures[culture].given)
        family = rng.choice(people.cultures[culture].family)
        g, f = _ascii(given), _ascii(family)
        style = rng.random()
        if culture == "japanese" and rng.random() < 0.5:
            display = people.japanese_script[family] + people.japanese_script[given]
        elif style < 0.55:
            display = f"{given} {family}"
        elif style < 0.75:
            display = f"{given} {family[0]}."
        elif style < 0.9:
            display = given
        else:
            display = f"{given} {family} {rng.choice(('📱', '📷', '☕', '🎧', '🌿', '🚴'))}"
        patterns = (
            f"{g}{f}",
            f"{g}_{f}",
            f"{g}{f[:1]}",
            f"{g}{rng.randint(1, 99)}",
            f"{f}{g[:1]}",
            f"{g[:1]}{f}",
            f"{g}_{rng.choice(people.nick_nouns)}",
        )
        base = rng.choice(patterns)[:15]
        lang: str | None = native if native != "en" and rng.random() < 0.78 else "en"
        if platform not in _SOCIAL:
            lang = None if platform in ("reddit", "hackernews") else "en"
        followers = int(rng.lognormvariate(5.3, 1.9))
        token = f"{rng.getrandbits(48):012x}"
        avatar = f"https://avatars.example/{platform}/{token}.jpg"

        def unique(candidate: str) -> str:
            while candidate in taken:
                candidate = f"{candidate}{rng.randint(0, 9)}"
            taken.add(candidate)
            return candidate

        if platform == "x":
            nick = unique(base)
            author = Author(f"@{nick}", display, f"https://x.example/{nick}", avatar, followers)
            prefix, mention = f"https://x.example/{nick}/status/", f"@{nick}"
            id_prefix = _platform_id_prefix("x")
        elif platform == "mastodon":
            instance = rng.choice(people.instances)
            nick = unique(base)
            author = Author(
                f"@{nick}@{instance}", display, f"https://{instance}/@{nick}", avatar, followers
            )
            prefix, mention = f"https://{instance}/@{nick}/", f"@{nick}@{instance}"
            id_prefix = _platform_id_prefix("mastodon", instance)
        elif platform == "bluesky":
            host = unique(base.replace("_", "")) + ".bsky.example"
            author = Author(
                host, display, f"https://bsky.example/profile/{host}", avatar, followers
            )
            prefix, mention = f"https://bsky.example/profile/{host}/post/", f"@{host}"
            id_prefix = _platform_id_prefix("bluesky")
        elif platform == "reddit":
            if rng.random() < 0.5:
                nick = "-".join(
                    (
                        rng.choice(people.nick_adjectives).capitalize(),
                        rng.choice(people.nick_nouns).capitalize(),
                        str(rng.randint(1000, 9999)),
                    )
                )
            else:
                nick = f"{g}_{f}{rng.randint(1, 99)}"
            nick = unique(nick)
            community = rng.choice(people.communities)
            author = Author(
                f"u/{nick}", f"u/{nick}", f"https://reddit.example/user/{nick}", avatar, None
            )
            prefix, mention = f"https://reddit.example/r/{community}/comments/", f"u/{nick}"
            id_prefix = _platform_id_prefix("reddit")
        elif platform == "hackernews":
            nick = unique(
                rng.choice((f"{g}{f[:1]}", f"{g[:1]}{f}", rng.choice(people.nick_adjectives) + f))
            )
            author = Author(nick, nick, f"https://news.example/user?id={nick}", None, None)
            prefix, mention = "https://news.example/item?id=", nick
            id_prefix = _platform_id_prefix("hackernews")
        else:  # youtube
            suffix = rng.choice(("", "", "Tech", "Reviews", "Vlogs", "Daily"))
            nick = unique(given.replace(" ", "") + family.replace(" ", "") + suffix)
            nick = _ascii(nick) if not nick.isascii() else nick
            author = Author(
                f"@{nick}", display, f"https://video.example/@{nick}", avatar, followers
            )
            prefix, mention = "https://video.example/watch?v=", f"@{nick}"
            id_prefix = _platform_id_prefix("youtube")
        banks = self.texts.banks
        bank = banks.get(lang or "en", banks["en"])
        if platform in ("reddit", "hackernews"):
            base_likes = 6.0 if platform == "reddit" else 3.0
        else:
            base_likes = 0.3 + 0.04 * float(followers) ** 0.85
        return _SimAuthor(author, platform, lang, bank, base_likes, prefix, mention, id_prefix)


# ------------------------------------------------------------------------------------------------
# text


class _Slots(dict[str, str]):
    """Template fields filled on first use (``str.format_map`` calls :meth:`__missing__`).

    The placeholders it fills are the ones :mod:`agora.sources.simulator_text` lets a phrase use.
    """

    __slots__ = ("bank", "rng", "words")

    def __init__(self, rng: random.Random, bank: PhraseBank, words: Words, **fixed: str) -> None:
        super().__init__(fixed)
        self.rng = rng
        self.bank = bank
        self.words = words

    def __missing__(self, key: str) -> str:
        rng = self.rng
        if key == "n":
            value = str(2 + int(rng.random() * 8))
        elif key == "d":
            value = str(2 + int(rng.random() * 29))
        elif key == "w":
            value = str(2 + int(rng.random() * 11))
        elif key == "m":
            value = str(int(rng.random() * 10))
        elif key == "prod":
            products = self.bank.products
            value = products[int(rng.random() * len(products))]
        elif key in ("model", "old"):
            models = self.words.models
            value = models[int(rng.random() * len(models))]
        elif key == "ticket":
            value = str(100_000 + int(rng.random() * 900_000))
        else:
            words = self.words.slots.get(key)
            if words is None:
                return "{" + key + "}"
            value = words[int(rng.random() * len(words))]
            if "{" in value:
                value = value.format_map(self)
        self[key] = value
        return value


def _typo(rng: random.Random, phrase: str) -> str:
    """Swap two inner letters of one longer word (only ever applied to topic-free fragments)."""
    words = phrase.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha() and w.islower()]
    if not candidates:
        return phrase
    index = rng.choice(candidates)
    word = words[index]
    k = 1 + int(rng.random() * (len(word) - 3))
    words[index] = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    return " ".join(words)


def _elongate(rng: random.Random, text: str) -> str:
    match = _ELONGATE_RE.search(text)
    if match is None:
        return text
    head, letter, tail = _ELONGATE[match.group(1)]
    stretched = head + letter * (2 + int(rng.random() * 4)) + tail
    return text[: match.start()] + stretched + text[match.end() :]


def _pick(rng: random.Random, items: Sequence[str]) -> str:
    return items[int(rng.random() * len(items))]


# ------------------------------------------------------------------------------------------------
# the simulated world


class _World:
    """The simulated world of one source: its authors, the wall's topics as people write about
    them, the brand's own accounts, and the phrase banks. :meth:`minute` generates the posts
    originating in one simulated minute (a pure function of the seed and the minute).

    Not to be confused with :mod:`agora.engine`, which runs a real wall: this only writes posts.
    """

    def __init__(
        self,
        *,
        seed: int,
        rate: float,
        feed: str,
        wall: schema.WallConfig,
        launch_ts: float,
    ) -> None:
        self.seed = seed
        self.rate = rate
        self.feed = feed
        self.launch_ts = launch_ts
        self.launch_minute = math.floor(launch_ts / 60.0)
        self.key = ((seed & _MASK64) * 0xD1B54A32D192ED03 + 0x2545F4914F6CDD1D) & _MASK64
        self.texts = load_texts()
        self.words = self.texts.words
        self.pool = _AuthorPool(seed, self.texts)
        self._setup_topics(wall, random.Random(seed * 31 + 7))
        self._setup_brand_accounts(wall.analytics.owned_accounts, random.Random(seed * 37 + 11))

    # -- configuration -------------------------------------------------------------------------

    def _setup_topics(self, wall: schema.WallConfig, rng: random.Random) -> None:
        topics = {key: (cfg.label or key, list(cfg.terms)) for key, cfg in wall.topics.items()}
        if not topics:
            topics = {"brand": ("Lumen", ["lumen", "#lumen"])}
        keys = list(topics)
        brand_key = "brand" if "brand" in topics else keys[0]
        campaign_key = next(
            (
                k
                for k in keys
                if k != brand_key
                and re.search(
                    r"campaign|launch|promo|event|kampanja", f"{k} {topics[k][0]}".lower()
                )
            ),
            None,
        )
        label, terms = topics[brand_key]
        self.brand = _make_topic(brand_key, label, terms, _BRAND_MIX)
        self.campaign: _Topic | None = None
        if campaign_key is not None:
            label, terms = topics[campaign_key]
            self.campaign = _make_topic(campaign_key, label, terms, (0.55, 0.40, 0.05, 0.0, 0.0))
        self.competitors: list[_Topic] = []
        for key in keys:
            if key in (brand_key, campaign_key):
                continue
            pos = 0.20 + 0.18 * rng.random()
            neg = 0.10 + 0.18 * rng.random()
            ask, bad = 0.06, 0.05
            mix = (pos, 1.0 - pos - neg - ask - bad, neg, ask, bad)
            label, terms = topics[key]
            self.competitors.append(_make_topic(key, label, terms, mix))
        # which topic a post is about: the brand leads, competitors share the rest
        choices: list[tuple[_Topic, float]] = [(self.brand, 0.52 if self.competitors else 0.96)]
        if self.campaign is not None:
            choices.append((self.campaign, 0.04))
        weight = 1.0
        spread = [0.7**i for i in range(len(self.competitors))]
        for topic, share in zip(self.competitors, spread, strict=True):
            choices.append((topic, 0.44 * weight * share / sum(spread)))
        self.topic_choices = tuple(t for t, _ in choices)
        self.topic_cumulative = list(accumulate(w for _, w in choices))

    def _setup_brand_accounts(self, owned: Sequence[str], rng: random.Random) -> None:
        """The brand's own accounts on each imitated network, from ``owned_accounts`` entries
        of those kinds (``"x:@lumencare"``, ``"mastodon:@lumencare@social.example"``)."""
        refs = [parse_account(a) for a in owned if a.strip()]
        by_platform: dict[str, list[str]] = {}
        for ref in refs:
            if ref.kind in _SOCIAL and ref.handle:
                by_platform.setdefault(ref.kind, []).append(ref.handle)
        # how people address the brand in text: "@lumencare" (the name before any server)
        names = list(
            dict.fromkeys(h.split("@")[0].split(".")[0] for h in chain(*by_platform.values()))
        )
        self.owned = tuple(f"@{n}" for n in names if n)
        self.care_handle: str | None = None
        self.main_handle: str | None = None
        self.brand_authors: dict[str, tuple[Author, str]] = {}
        self.announcer: dict[str, tuple[Author, str]] = {}
        if not self.owned:
            return
        care = [a for a in self.owned if re.search(r"care|support|help|service", a.lower())]
        self.care_handle = care[0] if care else self.owned[0]
        others = [a for a in self.owned if a != self.care_handle]
        self.main_handle = others[0] if others else self.care_handle
        label = self.brand.refs[0].lstrip("#@")
        followers = {h: int(20_000 + rng.random() * 180_000) for h in self.owned}
        for platform in sorted(by_platform):
            handles = by_platform[platform]
            for mention, display, target in (
                (self.care_handle, f"{label} Support", self.brand_authors),
                (self.main_handle, label, self.announcer),
            ):
                name = mention.lstrip("@")
                handle = next(
                    (h for h in handles if h.split("@")[0].split(".")[0] == name), handles[0]
                )
                slug = _ascii(name) or "brand"
                if platform == "x":
                    url, prefix = f"https://x.example/{slug}", f"https://x.example/{slug}/status/"
                    shown = f"@{handle}"
                elif platform == "mastodon":
                    url = f"https://social.example/@{slug}"
                    prefix = f"https://social.example/@{slug}/"
                    shown = f"@{handle}"
                else:
                    url = f"https://bsky.example/profile/{handle}"
                    prefix = f"https://bsky.example/profile/{handle}/post/"
                    shown = handle
                author = Author(
                    handle=shown,
                    name=display,
                    url=url,
                    avatar_url=f"https://avatars.example/brand/{slug}.png",
                    followers=followers[mention],
                )
                target[platform] = (author, prefix)

    # -- helpers ---------------------------------------------------------------------------------

    def token(self, minute: int, index: int) -> int:
        """A unique 64-bit number for the ``index``-th post originating in ``minute``."""
        x = ((self.key ^ ((minute << 20) | index)) * _GOLDEN) & _MASK64
        return x ^ (x >> 31)

    def serial(self, minute: int, index: int) -> int:
        """A time-ordered unique number for the ``index``-th post of ``minute``, the way real
        platforms number posts (X and Mastodon snowflakes, Bluesky TIDs grow with time)."""
        return (minute << 28) | ((self.key >> 56) << 20) | (index & 0xFFFFF)

    @staticmethod
    def native_id(platform: str, token: int) -> str:
        """The platform-styled native part of an id (decimal snowflakes, hex record keys)."""
        if platform in ("x", "mastodon", "hackernews"):
            return str(token)
        return f"{token:016x}"

    def rate_at(self, minute: int) -> float:
        """Expected posts originating in ``minute``."""
        return (
            self.rate
            * _RHYTHM[minute % 1440]
            * launch_factor(minute * 60.0 - self.launch_ts + 30.0)
        )

    def _metrics(self, rng: random.Random, a: _SimAuthor, boost: float) -> Metrics:
        platform = a.platform
        if platform == "rss":
            return _NO_METRICS
        value = a.base * boost * rng.paretovariate(1.6) * 0.6
        likes = int(value)
        replies = int(value * 0.12 * rng.random() + rng.random() * 1.5)
        if platform in ("reddit", "hackernews", "youtube"):
            return Metrics(likes=likes, reposts=None, replies=replies, quotes=None)
        reposts = int(value * 0.3 * rng.random())
        if platform == "mastodon":
            return Metrics(likes=likes, reposts=reposts, replies=replies, quotes=None)
        return Metrics(likes=likes, reposts=reposts, replies=replies, quotes=int(reposts * 0.2))

    # -- text --------------------------------------------------------------------------------------

    def _decorate(
        self, rng: random.Random, text: str, mood: str, topic: _Topic, platform: str
    ) -> str:
        if platform == "hackernews":
            return text
        r = rng.random()
        if r < (0.15 if mood == "neu" else 0.4):
            emoji = self.words.emoji[mood]
            text = f"{text} {emoji[int(rng.random() * len(emoji))]}"
            if r < 0.06:
                text += emoji[int(rng.random() * len(emoji))]
        r = rng.random()
        if topic.hashtags and r < 0.3:
            text = f"{text} {_pick(rng, topic.hashtags)}"
        if r > 0.86:
            text = f"{text} {_pick(rng, self.words.generic_tags)}"
        return text

    def _opinion(self, rng: random.Random, bank: PhraseBank, mood: str, slots: _Slots) -> str:
        sep = bank.sep
        pred = _pick(rng, bank.predicates[mood])
        if bank.lang == "en" and rng.random() < 0.03:
            pred = _typo(rng, pred)
        core = _pick(rng, bank.subjects) + sep + pred
        if rng.random() < 0.4 and (opener := _pick(rng, bank.openers[mood])):
            text = opener + " " + core
        elif bank.capitalise:
            text = core[:1].upper() + core[1:]
        else:
            text = core
        if sep == " ":
            text += "!" if mood == "pos" and rng.random() < 0.3 else "."
        if rng.random() < 0.6:
            text = text + sep + _pick(rng, bank.details[mood])
        if rng.random() < 0.5 and (ending := _pick(rng, bank.endings[mood])):
            text = text + sep + ending
        return text.format_map(slots)

    def _question(self, rng: random.Random, bank: PhraseBank, slots: _Slots) -> str:
        text = _pick(rng, bank.questions)
        if bank.capitalise:
            text = text[:1].upper() + text[1:]
        if rng.random() < 0.25:
            text = text + bank.sep + _pick(rng, bank.details["neu"])
        return text.format_map(slots)

    def _complaint(self, rng: random.Random, bank: PhraseBank, slots: _Slots) -> str:
        text = _pick(rng, bank.complaints)
        if bank.capitalise:
            text = text[:1].upper() + text[1:]
        tail = _pick(rng, bank.complaint_tails)
        if tail:
            text = text + bank.sep + tail
        if rng.random() < 0.3 and (ending := _pick(rng, bank.endings["neg"])):
            text = text + bank.sep + ending
        return text.format_map(slots)

    def _launch(self, rng: random.Random, bank: PhraseBank, slots: _Slots) -> str:
        text = _pick(rng, bank.launch)
        if bank.lang == "en" and rng.random() < 0.3:
            text = _pick(rng, self.words.launch_openers_en) + " " + text
        elif bank.capitalise:
            text = text[:1].upper() + text[1:]
        if bank.sep == " " and text[-1] not in "!.?":
            text += "!" if rng.random() < 0.6 else "."
        if rng.random() < 0.5:
            text = text + bank.sep + _pick(rng, bank.details["pos"])
        if rng.random() < 0.4 and (ending := _pick(rng, bank.endings["pos"])):
            text = text + bank.sep + ending
        return text.format_map(slots)

    def _comparison(self, rng: random.Random, bank: PhraseBank, mood: str, slots: _Slots) -> str:
        text = _pick(rng, bank.comparisons[mood])
        if bank.lang == "en" and rng.random() < 0.3 and (opener := _pick(rng, bank.openers[mood])):
            text = opener + " " + text
        elif bank.capitalise:
            text = text[:1].upper() + text[1:]
        if bank.sep == " " and text[-1] not in "!.?":
            text += "."
        if rng.random() < 0.5:
            text = text + bank.sep + _pick(rng, bank.details[mood])
        if rng.random() < 0.4 and (ending := _pick(rng, bank.endings[mood])):
            text = text + bank.sep + ending
        return text.format_map(slots)

    def _camp(self, rng: random.Random, slots: _Slots) -> str:
        if self.campaign is not None:
            return _pick(rng, self.campaign.refs)
        return f"{slots['ref']} {slots['model']}"

    # -- one minute --------------------------------------------------------------------------------

    def minute(self, minute: int) -> list[tuple[int, Post]]:
        """Every post originating in ``minute`` as ``(second since the epoch, post)``: the posts of
        that minute plus the replies and reposts they cause (up to an hour later)."""
        rng = random.Random(self.key ^ ((minute * _GOLDEN) & _MASK64))
        count = _poisson(rng, self.rate_at(minute))
        base_second = minute * 60
        base_dt = _EPOCH + timedelta(seconds=base_second)
        offsets = sorted(int(rng.random() * 60.0) for _ in range(count))
        spike = launch_factor(base_second - self.launch_ts + 30.0)
        p_launch = 1.0 - 1.0 / spike
        out: list[tuple[int, Post]] = []
        index = 0
        if minute == self.launch_minute and self.announcer:
            index = self._announce(rng, minute, base_second, base_dt, out)
        pool = self.pool
        cumulative = pool.cumulative
        total = cumulative[-1]
        authors = pool.authors
        topic_cum = self.topic_cumulative
        topic_total = topic_cum[-1]
        feed = self.feed
        words = self.words
        for second in offsets:
            a = authors[bisect(cumulative, rng.random() * total)]
            platform = a.platform
            bank = a.bank
            token = self.token(minute, index)
            serial = self.serial(minute, index)
            index += 1
            native = self.native_id(platform, serial)
            if platform == "rss":
                topic = (
                    self.brand
                    if rng.random() < 0.6 or not self.competitors
                    else (self.competitors[int(rng.random() * len(self.competitors))])
                )
                kind, mood = "news", "neu"
            elif rng.random() < p_launch:
                topic = self.campaign if self.campaign and rng.random() < 0.3 else self.brand
                kind, mood = "launch", "pos"
            else:
                topic = self.topic_choices[bisect(topic_cum, rng.random() * topic_total)]
                kind = _KINDS[bisect(topic.mix, rng.random() * topic.mix[-1])]
                mood = (
                    kind if kind in ("pos", "neu", "neg") else ("neg" if kind == "bad" else "neu")
                )
                if topic is self.campaign:
                    kind, mood = "launch", "pos"
                elif self.competitors and kind in ("pos", "neu", "neg") and rng.random() < 0.07:
                    kind = "cmp"
            if kind == "launch":
                topic = self.brand  # the campaign is named through {camp}
            slots = _Slots(rng, bank, words, ref=_pick(rng, topic.refs))
            if kind == "cmp":
                rival = self.competitors[int(rng.random() * len(self.competitors))]
                if topic is not self.brand:
                    rival, topic = topic, self.brand
                    slots["ref"] = _pick(rng, topic.refs)
                slots["other"] = _pick(rng, rival.refs)
                text = self._comparison(rng, bank, mood, slots)
            elif kind == "news":
                slots["other"] = (
                    _pick(rng, self.competitors[0].refs) if self.competitors else "its rivals"
                )
                text = _pick(rng, bank.headlines).format_map(slots)
            elif kind == "launch":
                slots["camp"] = self._camp(rng, slots)
                text = self._launch(rng, bank, slots)
                if (
                    self.campaign is not None
                    and self.campaign.hashtags
                    and platform != "hackernews"
                    and rng.random() < 0.6
                ):
                    text = f"{text} {_pick(rng, self.campaign.hashtags)}"
            elif kind == "ask":
                text = self._question(rng, bank, slots)
            elif kind == "bad":
                text = self._complaint(rng, bank, slots)
            else:
                text = self._opinion(rng, bank, mood, slots)
            if kind != "news":
                if bank.lang == "en" and mood != "neu" and rng.random() < 0.08:
                    text = _elongate(rng, text)
                text = self._decorate(rng, text, mood, topic, platform)
            addressed = False
            if kind in ("ask", "bad") and topic is self.brand and platform in _SOCIAL:
                if self.care_handle and rng.random() < 0.5:
                    addressed = True
                    target = self.care_handle if rng.random() < 0.8 else _pick(rng, self.owned)
                    text = f"{target} {text}"
                elif topic.mentions and rng.random() < 0.3:
                    text = f"{_pick(rng, topic.mentions)} {text}"
            text = " ".join(text.split())
            media: tuple[Media, ...] = ()
            if (platform in _SOCIAL or platform == "reddit") and rng.random() < (
                0.22 if kind == "bad" else 0.12 if kind != "ask" else 0.04
            ):
                media = self._media(rng, bank, slots, token)
            boost = 2.5 if kind == "launch" else 0.6 if kind in ("ask", "bad") else 1.0
            post = Post(
                id=a.id_prefix + native,
                source=platform,
                feed=feed,
                text=text,
                created_at=base_dt + _SECONDS[second],
                author=a.author,
                url=a.url_prefix + native,
                lang=a.lang,
                metrics=self._metrics(rng, a, boost),
                media=media,
            )
            out.append((base_second + second, post))
            if platform not in _SOCIAL:
                continue
            at = base_second + second
            if (
                kind in ("ask", "bad")
                and platform in self.brand_authors
                and rng.random() < (0.62 if addressed else 0.12)
            ):
                index = self._reply(
                    rng, minute=minute, index=index, second=at, question=post, asker=a, out=out
                )
            followers = a.author.followers or 0
            if rng.random() < 0.03 + min(0.25, followers / 150_000.0) + (kind == "launch") * 0.1:
                index = self._reposts(
                    rng, minute=minute, index=index, second=at, original=post, a=a, out=out
                )
        return out

    def _media(
        self, rng: random.Random, bank: PhraseBank, slots: _Slots, token: int
    ) -> tuple[Media, ...]:
        count = 1 if rng.random() < 0.85 else 2 + int(rng.random() * 3)
        items = []
        for k in range(count):
            picture = (token >> (8 * k)) % 1000 + 1
            if rng.random() < 0.08:
                items.append(
                    Media(
                        kind="video",
                        url=f"https://video.example/v/{token:016x}{k}.mp4",
                        preview_url=f"https://picsum.example/id/{picture}/640/360",
                        alt=_pick(rng, bank.alts).format_map(slots),
                    )
                )
            else:
                items.append(
                    Media(
                        kind="image",
                        url=f"https://picsum.example/id/{picture}/1200/900",
                        preview_url=f"https://picsum.example/id/{picture}/400/300",
                        alt=_pick(rng, bank.alts).format_map(slots),
                    )
                )
        return tuple(items)

    def _reply(
        self,
        rng: random.Random,
        *,
        minute: int,
        index: int,
        second: int,
        question: Post,
        asker: _SimAuthor,
        out: list[tuple[int, Post]],
    ) -> int:
        author, prefix = self.brand_authors[asker.platform]
        bank = asker.bank
        delay = min(_MAX_DELAY_S, int(70 + rng.lognormvariate(5.9, 0.8)))
        slots = _Slots(rng, bank, self.words, user=asker.mention)
        parts = [_pick(rng, bank.reply_greetings), _pick(rng, bank.reply_bodies)]
        closing = _pick(rng, bank.reply_closings)
        if closing:
            parts.append(closing)
        text = " ".join(" ".join(parts).format_map(slots).split())
        serial = self.serial(minute, index)
        native = self.native_id(asker.platform, serial)
        at = second + delay
        out.append(
            (
                at,
                Post(
                    id=_platform_id_prefix(asker.platform, "social.example") + native,
                    source=asker.platform,
                    feed=self.feed,
                    text=text,
                    created_at=_EPOCH + timedelta(seconds=at),
                    author=author,
                    url=prefix + native,
                    lang=asker.lang,
                    metrics=_reply_metrics(asker.platform, int(rng.random() * 4)),
                    reply_to=question.id,
                ),
            )
        )
        return index + 1

    def _reposts(
        self,
        rng: random.Random,
        *,
        minute: int,
        index: int,
        second: int,
        original: Post,
        a: _SimAuthor,
        out: list[tuple[int, Post]],
    ) -> int:
        members, cumulative = self.pool.by_platform[a.platform]
        count = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
        for _ in range(count):
            reposter = members[bisect(cumulative, rng.random() * cumulative[-1])]
            if reposter is a:
                continue
            delay = 60 + int(rng.random() ** 2 * (_MAX_DELAY_S - 60))
            serial = self.serial(minute, index)
            index += 1
            at = second + delay
            out.append(
                (
                    at,
                    Post(
                        id=reposter.id_prefix + self.native_id(a.platform, serial),
                        source=a.platform,
                        feed=self.feed,
                        text=original.text,
                        created_at=_EPOCH + timedelta(seconds=at),
                        author=reposter.author,
                        url=original.url,
                        lang=original.lang,
                        metrics=_reply_metrics(a.platform, 0),
                        media=original.media,
                        is_repost=True,
                        repost_of=original.id,
                    ),
                )
            )
        return index

    def _announce(
        self,
        rng: random.Random,
        minute: int,
        base_second: int,
        base_dt: datetime,
        out: list[tuple[int, Post]],
    ) -> int:
        """The brand's own launch announcement, once per social platform."""
        bank = self.texts.banks["en"]
        slots = _Slots(rng, bank, self.words, ref=self.brand.refs[0])
        slots["camp"] = self._camp(rng, slots)
        text = _pick(rng, bank.announcements).format_map(slots)
        tags = [*self.brand.hashtags[:1], *(self.campaign.hashtags[:1] if self.campaign else ())]
        text = " ".join(" ".join((text, *tags)).split())
        index = 0
        for platform in ("x", "mastodon", "bluesky"):
            if platform not in self.announcer:
                continue  # the brand has no account there
            author, prefix = self.announcer[platform]
            token = self.token(minute, index)
            serial = self.serial(minute, index)
            index += 1
            native = self.native_id(platform, serial)
            followers = author.followers or 0
            likes = int(followers * (0.01 + 0.02 * rng.random()))
            out.append(
                (
                    base_second,
                    Post(
                        id=_platform_id_prefix(platform, "social.example") + native,
                        source=platform,
                        feed=self.feed,
                        text=text,
                        created_at=base_dt,
                        author=author,
                        url=prefix + native,
                        lang="en",
                        metrics=Metrics(
                            likes=likes,
                            reposts=likes // 5,
                            replies=likes // 12,
                            quotes=None if platform == "mastodon" else likes // 40,
                        ),
                        media=(
                            Media(
                                kind="image",
                                url=f"https://picsum.example/id/{token % 1000 + 1}/1600/900",
                                preview_url=f"https://picsum.example/id/{token % 1000 + 1}/400/225",
                                alt=f"Product photo of the {slots['ref']} {slots['model']}",
                            ),
                        ),
                    ),
                )
            )
        return index


_NO_METRICS: Final = Metrics()


def _reply_metrics(platform: str, likes: int) -> Metrics:
    if platform == "mastodon":
        return Metrics(likes=likes, reposts=0, replies=0, quotes=None)
    return Metrics(likes=likes, reposts=0, replies=0, quotes=0)


# ------------------------------------------------------------------------------------------------
# time line: minutes generated once, posts handed out in time order


class _Timeline:
    """Generates minutes in order and keeps each post in the bucket of the minute it is dated in.

    A bucket is complete once its minute has been generated (delayed posts land only in later
    minutes), so it can be sorted then and handed out.
    """

    def __init__(self, world: _World, first_minute: int) -> None:
        self.world = world
        self.next_minute = first_minute - LOOKBACK_MINUTES
        self.buckets: dict[int, list[tuple[int, Post]]] = {}

    def advance_to(self, minute: int) -> None:
        """Generate every minute up to and including ``minute``."""
        buckets = self.buckets
        while self.next_minute <= minute:
            current = self.next_minute
            for entry in self.world.minute(current):
                bucket_minute = entry[0] // 60
                bucket = buckets.get(bucket_minute)
                if bucket is None:
                    buckets[bucket_minute] = [entry]
                else:
                    bucket.append(entry)
            done = buckets.get(current)
            if done is not None:
                done.sort(key=itemgetter(0))
            self.next_minute = current + 1

    def take_minute(self, minute: int) -> list[tuple[int, Post]]:
        """The complete, sorted bucket of ``minute`` (removed from the time line)."""
        self.advance_to(minute)
        for stale in [m for m in self.buckets if m < minute]:
            del self.buckets[stale]
        return self.buckets.pop(minute, [])

    def collect(self, start: float, end: float) -> list[Post]:
        """Posts dated in ``[start, end)``; minutes before ``end``'s minute are then forgotten."""
        if end <= start:
            return []
        last = math.floor(end / 60.0)
        if (end / 60.0) == last:  # end exactly on a minute boundary: that minute is not needed
            last -= 1
        self.advance_to(last)
        out: list[Post] = []
        for minute in range(math.floor(start / 60.0), last + 1):
            bucket = self.buckets.get(minute)
            if not bucket:
                continue
            out.extend(post for second, post in bucket if start <= second < end)
        horizon = math.floor(end / 60.0)
        for stale in [m for m in self.buckets if m < horizon]:
            del self.buckets[stale]
        return out


# ------------------------------------------------------------------------------------------------
# the source


class SimulatorSource(Source):
    """The demo stream; see the module docstring.

    Public API besides :class:`~agora.sources.base.Source`:

    * :meth:`generate` ``(start, end)``: the posts dated in ``[start, end)`` (deterministic);
    * :meth:`stream` ``(start, count=None)``: an endless (or ``count``-long) iterator of posts from
      ``start`` on, minute by minute, in time order (the ingest benchmark);
    * :attr:`launch_time`: when the launch spike starts.
    """

    kind: ClassVar[str] = "simulator"
    offline: ClassVar[bool] = True
    default_every: ClassVar[float] = 1.0
    #: Real seconds between two live emissions of :meth:`run` (``every`` in the config).
    tick: float = 1.0
    #: Posts per batch handed to the sink.
    batch_size: int = 1_000

    def __init__(self, config: Any, context: SourceContext) -> None:
        super().__init__(config, context)
        self.config: schema.SimulatorSource = config
        self.seed = int(config.seed)
        self.rate = float(config.rate)
        self.backfill = float(config.backfill)
        if config.every:
            self.tick = float(config.every)
        now = context.clock().timestamp()
        self._cursor_key = f"seed={self.seed};at={config.launch_at!s}"
        self.launch_time: datetime = _EPOCH + timedelta(seconds=self._resolve_launch(now))
        self._world = _World(
            seed=self.seed,
            rate=self.rate,
            feed=self.name,
            wall=context.wall,
            launch_ts=self.launch_time.timestamp(),
        )
        self._timeline: _Timeline | None = None
        self._until: float = math.nan
        self._pending: deque[Post] = deque()

    def _resolve_launch(self, now: float) -> float:
        saved = self.context.get_cursor(self.name)
        if saved and saved.startswith("launch=") and saved.endswith(";" + self._cursor_key):
            try:
                moment = float(saved.split(";", 1)[0].removeprefix("launch="))
            except ValueError:
                moment = math.nan
            if (
                now - self.backfill
                <= moment
                <= now + max(0.0, self._launch_offset() - self.backfill)
            ):
                return moment
        return float(math.floor(now - self.backfill + self._launch_offset()))

    def _launch_offset(self) -> float:
        if self.config.launch_at is not None:
            return float(self.config.launch_at)
        return self.backfill - min(2 * 3600.0, self.backfill / 2)

    # -- deterministic generation --------------------------------------------------------------

    def generate(self, start: datetime, end: datetime) -> list[Post]:
        """The posts dated in ``[start, end)``, oldest first. The same range always gives the same
        posts, whatever else this source has generated."""
        t0, t1 = start.timestamp(), end.timestamp()
        timeline = _Timeline(self._world, math.floor(t0 / 60.0))
        return timeline.collect(t0, t1)

    def stream(self, start: datetime, count: int | None = None) -> Iterator[Post]:
        """Posts from ``start`` on, in time order, for as long as the caller iterates (or ``count``
        posts). Generates minute by minute, so memory stays flat."""
        t0 = start.timestamp()
        minute = math.floor(t0 / 60.0)
        timeline = _Timeline(self._world, minute)
        produced = 0
        while count is None or produced < count:
            for second, post in timeline.take_minute(minute):
                if second < t0:
                    continue
                yield post
                produced += 1
                if count is not None and produced >= count:
                    return
            minute += 1

    # -- the Source interface ------------------------------------------------------------------

    def _start(self, now: float) -> _Timeline:
        """The live time line, created on first use with the backfill before ``now``."""
        if self._timeline is None:
            start = now - self.backfill
            self._timeline = _Timeline(self._world, math.floor(start / 60.0))
            self._until = start
            self.context.set_cursor(
                self.name, f"launch={self.launch_time.timestamp():.0f};{self._cursor_key}"
            )
        return self._timeline

    def _advance(self, until: float) -> list[Post]:
        timeline = self._start(until)
        if until <= self._until:
            return []
        posts = timeline.collect(self._until, until)
        self._until = until
        return posts

    async def fetch(self, limit: int | None = None) -> list[Post]:
        """The backfill (``backfill`` seconds up to now) on the first call, then the posts dated
        since the previous call. With ``limit``, the rest waits for the next call."""
        now = self.context.clock().timestamp()
        # a backfill is seconds of work: generated on a worker thread so the event loop (the
        # other sources, the webhook) is not held meanwhile
        self._pending.extend(await asyncio.to_thread(self._advance, now))
        if limit is None or limit >= len(self._pending):
            posts = list(self._pending)
            self._pending.clear()
        else:
            posts = [self._pending.popleft() for _ in range(max(0, limit))]
        self.mark_ok(len(posts))
        return posts

    async def run(self, sink: Sink, stop: asyncio.Event) -> None:
        """Emit the backfill in batches, then every :attr:`tick` seconds the posts of the elapsed
        time, until ``stop`` is set (checked between batches and while waiting)."""
        if self._pending:
            sink(list(self._pending))
            self._pending.clear()
        # simulated seconds per slice: about two thousand posts at the average rate
        slice_s = min(3600.0, max(60.0, 60.0 * 2_000.0 / self.rate))
        self._start(self.context.clock().timestamp())
        while not stop.is_set():
            now = self.context.clock().timestamp()
            until = min(now, self._until + slice_s)
            # a slice through a launch spike at a high rate is seconds of work (2.4 s measured at
            # rate 600): generated on a worker thread so the event loop is not held meanwhile
            posts = await asyncio.to_thread(self._advance, until)
            for begin in range(0, len(posts), self.batch_size):
                sink(posts[begin : begin + self.batch_size])
            self.mark_ok(len(posts))
            if until < now:
                await asyncio.sleep(0)  # catching up: let the loop breathe, then continue
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.tick)

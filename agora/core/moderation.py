"""Rule-based moderation from ``[moderation]``: the pipeline's moderation hook.

:class:`RuleModeration` decides the state a new post starts in (``approved``, ``pending`` or
``hidden``, with the reasons); decisions taken later by an operator are applied on top (see
:mod:`agora.decisions`). The checks, cheapest first:

1. the author: blocked (config or an operator's ``block``), or a locked / private account;
2. the source: a blocked feed name or source kind;
3. the source's sensitivity flag (hidden unless ``hide_sensitive = false``, and even then
   without its pictures);
4. the language allow-list;
5. blocked terms (one regular expression over the folded text, plus terms inside hashtags),
   blocked patterns (one regular expression over the text), profanity and blocked words in
   leetspeak (:class:`agora.core.profanity.Lexicon`), the same for the author's display name;
6. blocked domains in the permalink, media and links of the text;
7. the approval mode (``manual`` and ``trusted-only`` hold posts as ``pending``).

With ``hide_untrusted_media`` the pictures of authors not on the allow-list are dropped from the
post (it is still shown). Everything is compiled once; under the ingest benchmark a post costs
about 30 µs of CPU time, a third of it the post's shared reading (its tokens and language), which
the scorer then reuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Literal, Protocol
from urllib.parse import urlsplit

from agora.core.accounts import AccountSet, canonical_handle, parse_account
from agora.core.aggregates import owned_handle
from agora.core.bounded import contains_any, remember
from agora.core.langid import detect
from agora.core.post import APPROVED, Author, Moderation, Post
from agora.core.profanity import (
    ELSEWHERE,
    LANGUAGES,
    VARIANTS_CAP,
    Lexicon,
    english_words,
    everyday_words,
    foreign_entries,
    mask_word,
    match_form,
    profanity_entries,
    unmistakable_entries,
)
from agora.core.sentiment import primary_language
from agora.core.text import fold
from agora.core.tokens import DETECTED_CHARS, HASHTAG_WORD_RE, read
from agora.core.topics import term_pattern

_URL_HOST_RE = re.compile(r"(?:https?://|www\.)([^\s/?#<>\"']+)", re.IGNORECASE)
#: languages written in the Latin script: an untagged post mostly in another script is not theirs
LATIN_LANGUAGES = frozenset(
    {
        "af",
        "ca",
        "cs",
        "cy",
        "da",
        "de",
        "en",
        "eo",
        "es",
        "et",
        "eu",
        "fi",
        "fil",
        "fr",
        "ga",
        "gl",
        "hr",
        "hu",
        "id",
        "is",
        "it",
        "lt",
        "lv",
        "ms",
        "mt",
        "nb",
        "nl",
        "nn",
        "no",
        "pl",
        "pt",
        "ro",
        "sk",
        "sl",
        "sq",
        "sv",
        "sw",
        "tl",
        "tr",
        "vi",
    }
)
#: reasons kept apart so other code can tell why a post was hidden
BLOCKED_AUTHOR = "blocked author"
PRIVATE_ACCOUNT = "private or locked account"
_ZERO_WIDTH = str.maketrans("", "", "\u200c\u200d")


class ModerationRules(Protocol):
    """The ``[moderation]`` rules :class:`RuleModeration` reads (the config's
    ``ModerationConfig`` has them; the core declares only what it needs)."""

    @property
    def approval(self) -> Literal["auto", "manual", "trusted-only"]: ...
    @property
    def profanity(self) -> bool | Literal["strict"]: ...
    @property
    def profanity_languages(self) -> Sequence[str]: ...
    @property
    def profanity_allow(self) -> Sequence[str]: ...
    @property
    def block_terms(self) -> Sequence[str]: ...
    @property
    def block_patterns(self) -> Sequence[str]: ...
    @property
    def block_authors(self) -> Sequence[str]: ...
    @property
    def block_domains(self) -> Sequence[str]: ...
    @property
    def block_sources(self) -> Sequence[str]: ...
    @property
    def allow_authors(self) -> Sequence[str]: ...
    @property
    def languages(self) -> Sequence[str]: ...
    @property
    def hide_sensitive(self) -> bool: ...
    @property
    def hide_untrusted_media(self) -> bool: ...


class RuleModeration:
    """The moderation hook built from a wall's ``[moderation]`` section.

    ``block_author`` / ``unblock_author`` change the block list while the wall runs (an
    operator's decision); :meth:`blocks_term` tells the aggregates which words may never trend.
    """

    def __init__(
        self, config: ModerationRules, *, relays: Mapping[str, Iterable[str]] | None = None
    ) -> None:
        self.config = config
        self.mode = config.approval
        blocks = [parse_account(a) for a in config.block_authors]
        self._config_blocked = frozenset(
            owned_handle(a)
            for a, ref in zip(config.block_authors, blocks, strict=True)
            if not ref.kind
        )
        # "x:@troll" blocks that account on X only; a plain handle is blocked on every source
        self._blocked_on = frozenset((ref.kind, ref.handle) for ref in blocks if ref.kind)
        self._blocked_authors = set(self._config_blocked)
        # trusted authors, each on the source kind it belongs to (relays vouch through their
        # entry's trusted_authors; see agora.core.accounts)
        self._allowed = AccountSet(config.allow_authors, relays=relays)
        self._sources = frozenset(fold(s) for s in config.block_sources)
        self._domains = frozenset(config.block_domains)
        self._hosts: dict[str, str] = {}
        self._languages = frozenset(config.languages)
        self._latin_only = bool(self._languages) and self._languages <= LATIN_LANGUAGES
        self._hide_sensitive = config.hide_sensitive
        self._strip_media = config.hide_untrusted_media
        terms = [t for t in config.block_terms if t.strip(" #@*")]
        # "#giveaway" blocks the hashtag; "giveaway" blocks the word anywhere, hashtags included
        self._terms = (
            re.compile("|".join(f"(?:{term_pattern(t)})" for t in terms)) if terms else None
        )
        # a word each term must show: a post with none of them is not searched (most posts)
        cores = {term_core(t) for t in terms}
        self._term_cores: tuple[str, ...] | None = None if "" in cores else tuple(sorted(cores))
        # a plain word also blocks hashtags that contain it ("#MegaGiveaway")
        words = sorted(
            {fold(t).strip("*") for t in terms if not t.startswith(("#", "@")) and " " not in t},
            key=len,
            reverse=True,
        )
        self._in_hashtag = re.compile("|".join(re.escape(w) for w in words)) if words else None
        patterns = list(config.block_patterns)
        self._patterns = (
            re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) if patterns else None
        )
        # the letters each pattern begins with, when it must (ASCII text without any of them
        # is not searched; ``None``: every text is)
        leads = {required_start(p) for p in patterns}
        self._pattern_leads: tuple[str, ...] | None = None if "" in leads else tuple(sorted(leads))
        # profanity (per language, built on first use) and the plain blocked words in leetspeak
        self._profanity = config.profanity is not False
        self._base_languages = frozenset(config.profanity_languages) | self._languages
        self._allow_words = list(config.profanity_allow)
        if config.profanity != "strict":
            self._allow_words.extend(everyday_words())
        self._own_words = [(t, f"blocked term: {t}") for t in words if len(t) >= 3]
        # every post is read with one lexicon of every list (built on first use); the words of
        # another language's list are confirmed by the post's language, with the lexicon of the
        # wall's and the post's languages (one per combination, built once)
        self._wide: Lexicon | None = None
        self._lexicons: dict[frozenset[str], Lexicon] = {}
        self._term_verdicts: dict[str, bool] = {}
        self._names: dict[str, str] = {}
        self._handles: dict[str, str] = {}
        # authors post again and again: the forms of their handles and their pictureless copies
        # are worked out once (bounded)
        self._owned: dict[str, str] = {}
        self._bare: dict[Author, Author] = {}
        self._trusted: dict[tuple[str, str, str], bool] = {}
        self._tag_words: dict[str, str | None] = {}  # a hashtag → the blocked word in it

    # -- operator decisions ----------------------------------------------------------------------

    def block_author(self, handle: str) -> None:
        """Hide every later post of ``handle`` (any form: ``@a@host``, ``A@Host``)."""
        self._blocked_authors.add(owned_handle(handle))

    def unblock_author(self, handle: str) -> None:
        """Show ``handle``'s later posts again (a handle blocked in the config stays blocked)."""
        key = owned_handle(handle)
        if key not in self._config_blocked:
            self._blocked_authors.discard(key)

    def is_blocked(self, handle: str) -> bool:
        """True when posts of ``handle`` are never shown."""
        return owned_handle(handle) in self._blocked_authors

    @property
    def blocked_authors(self) -> frozenset[str]:
        """Every blocked handle (canonical form), from the config and from decisions."""
        return frozenset(self._blocked_authors)

    # -- the hook --------------------------------------------------------------------------------

    def __call__(self, post: Post, folded: str) -> Moderation:
        """The initial moderation state of a new post (may drop its media, see the module)."""
        author = post.author
        handle = self._owned.get(author.handle)
        if handle is None:
            handle = remember(self._owned, author.handle, owned_handle(author.handle), _AUTHORS_CAP)
        if handle in self._blocked_authors or (
            self._blocked_on and (post.source, canonical_handle(author.handle)) in self._blocked_on
        ):
            return Moderation("hidden", (BLOCKED_AUTHOR,))
        if post.protected:
            return Moderation("hidden", (PRIVATE_ACCOUNT,))
        if self._sources and (post.source in self._sources or fold(post.feed) in self._sources):
            which = post.source if post.source in self._sources else post.feed
            return Moderation("hidden", (f"blocked source: {which}",))
        if post.sensitive:
            if self._hide_sensitive:
                return Moderation("hidden", ("marked sensitive by the source",))
            _drop_media(post)  # shown, but never its pictures: the flag is most often about them
        if self._languages:
            why = self._language_problem(post)
            if why:
                return Moderation("hidden", (why,))
        languages = _PostLanguages(post.text, post.lang)
        # the hashtags the post's shared tokens hold (agora.core.tokens), when it has any
        tags = read(post.text).hashtags() if "#" in post.text else None
        why = self._text_problem(post.text, folded, languages, tags=tags)
        if why:
            return Moderation("hidden", (why,))
        name = author.name
        if name:  # shown beside the post even when it is the handle
            known = self._author_problem(self._names, name, name, languages)
            if known:
                return Moderation("hidden", (f"author's name: {known}",))
        if author.handle:  # drawn on the card's meta line and in the leaderboard
            known = self._author_problem(self._handles, author.handle, "", languages)
            if known:
                return Moderation("hidden", (f"author's handle: {known}",))
        if self._domains:
            host = self._blocked_host(post, folded)
            if host:
                return Moderation("hidden", (f"blocked domain: {host}",))
        who = (post.source, post.feed, author.handle)
        trusted = self._trusted.get(who)
        if trusted is None:  # the allow-list never changes while the wall runs
            trusted = remember(self._trusted, who, self._allowed.matches_author(*who), _AUTHORS_CAP)
        if self._strip_media and not trusted:
            self._drop_pictures(post)
        if trusted:
            return APPROVED
        if self.mode == "manual":
            return Moderation("pending", ("manual approval",))
        if self.mode == "trusted-only":
            return Moderation("pending", ("author not on the allow-list",))
        incoming = post.moderation.state
        if incoming in ("hidden", "pending"):  # the source itself held it back
            return Moderation(incoming, post.moderation.reasons or (f"{incoming} by the source",))
        return APPROVED  # a source can never pin a post

    def _drop_pictures(self, post: Post) -> None:
        """Remove images, videos, link previews and the avatar from ``post`` (in place; the
        author without an avatar is made once per author)."""
        _drop_media(post)
        author = post.author
        if author.avatar_url:
            bare = self._bare.get(author)
            # an equal author may differ in the type of a field (followers 1 and True are
            # equal): the copy must be of this one
            if bare is None or type(bare.followers) is not type(author.followers):
                bare = remember(self._bare, author, replace(author, avatar_url=None), _AUTHORS_CAP)
            post.author = bare

    def _language_problem(self, post: Post) -> str:
        """Why a post is in a language this wall does not show: its tag (corrected on long posts)
        or, untagged, the language detected (the detection sentiment uses too)."""
        shared = read(post.text)  # detected once per post, for the scorer too
        language = shared.language(post.lang)
        if language is not None:
            if language not in self._languages:
                how = "" if post.lang else " (detected)"
                return f"language {language}{how} is not shown on this wall"
            return ""
        if self._latin_only and shared.non_latin:
            return "written in a script this wall's languages do not use"
        return ""

    def _author_problem(
        self, known: dict[str, str], key: str, text: str, languages: _PostLanguages
    ) -> str:
        """Why an author's display name (``text``) or handle (``key``, when ``text`` is empty)
        may not be shown, else ``""``. Authors post again and again: each is checked once
        (remembered in ``known`` under ``key``), unless the answer depended on the post's
        language."""
        found = known.get(key)
        if found is None:
            text = text or _HANDLE_PARTS_RE.sub(" ", key)
            consulted = languages.consulted
            languages.consulted = False
            found = self._text_problem(text, fold(text), languages, glued=True)
            if not languages.consulted:
                remember(known, key, found, 50_000)
            languages.consulted = languages.consulted or consulted
        return found

    def _text_problem(
        self,
        text: str,
        folded: str,
        languages: _PostLanguages | None,
        *,
        glued: bool = False,
        tags: list[str] | None = None,
    ) -> str:
        """Why ``text`` may not be shown (a blocked term, pattern or profanity), else ``""``.
        ``languages``: the post's (``None``: a trending term, checked against every list).
        ``glued``: every word may be glued words (a display name, a trending term). ``tags``: the
        words of the hashtags of ``text`` as written, when known (``None``: found here)."""
        if not folded.islower():  # letters without a case of their own fold to capitals ("𝐅")
            folded = folded.casefold()
        if "\u200d" in folded or "\u200c" in folded:
            folded = folded.translate(_ZERO_WIDTH)
        if (
            self._terms is not None
            and (self._term_cores is None or contains_any(folded, self._term_cores))
            and (match := self._terms.search(folded))
        ):
            return f"blocked term: {match.group(0)}"
        if self._in_hashtag is not None and "#" in folded:
            # folded ASCII is the text in lower case: its hashtags are the written ones
            shared = [t.lower() for t in tags] if tags is not None and text.isascii() else None
            for tag in HASHTAG_WORD_RE.findall(folded) if shared is None else shared:
                if tag in self._tag_words:  # the same hashtags come back all day
                    word = self._tag_words[tag]
                else:
                    found = self._in_hashtag.search(tag)
                    word = found.group(0) if found else None
                    if len(tag) <= 64:  # searched once each (bounded)
                        remember(self._tag_words, tag, word, VARIANTS_CAP)
                if word is not None:
                    return f"blocked term: {word} (in #{tag})"
        if (
            self._patterns is not None
            and self._may_match_pattern(text)
            and (match := self._patterns.search(text))
        ):
            return f"blocked pattern: {match.group(0)[:40]}"
        hit = self._profanity_hit(text, folded, languages, glued, tags)
        if hit is not None:
            word, reason = hit
            return reason if reason != "profanity" else f"profanity: {mask_word(word)}"
        return ""

    def _may_match_pattern(self, text: str) -> bool:
        """False when no blocked pattern can match ``text``: text without the letters every
        pattern begins with, in any case. Past ASCII only four characters match an ASCII letter
        when case is ignored (:data:`_CASE_TWINS_RE`): text with one of them is searched."""
        leads = self._pattern_leads
        if leads is None or (not text.isascii() and _CASE_TWINS_RE.search(text) is not None):
            return True
        return contains_any(text.lower(), leads)

    def _profanity_hit(
        self,
        text: str,
        folded: str,
        languages: _PostLanguages | None,
        glued: bool,
        tags: list[str] | None = None,
    ) -> tuple[str, str] | None:
        """The listed word ``text`` shows, with its reason, else ``None``.

        Every list is read at once (the common clean post costs one scan). A word only another
        language's list has is profanity in a post in that language (its tag or the language
        detected): otherwise the post is read again with the lists of the wall's and the post's
        languages. An English word that is an everyday word where the rest of the post is
        written ("zu dick", "slut på lager") is read past, when the rest without it is detected
        as that language."""
        wide = self._wide_lexicon()
        if wide is None:
            return None
        hit = wide.scan(text, folded, glued=glued, tags=tags)
        if hit is None or languages is None:
            return hit  # a trending term: any word of any list (but the frequent English ones)
        word = hit[0]
        if word in wide.foreign and wide.foreign[word].isdisjoint(languages.get()):
            hit = self._lexicon(languages.get()).scan(text, folded, glued=glued, tags=tags)
        for _ in range(2):  # "dick" and "slut" in one post: each is read past once
            if hit is None or glued or hit[0] not in ELSEWHERE:
                break
            rest = _without_word(text, hit[0])
            if rest == text or detect(rest[:DETECTED_CHARS]) not in ELSEWHERE[hit[0]]:
                break  # written otherwise ("d1ck"), or the rest is not in such a language
            text, folded = rest, match_form(rest)
            hit = self._lexicon(languages.get()).scan(text, folded, glued=glued)
        return hit

    def _wide_lexicon(self) -> Lexicon | None:
        """Every list: the wall's languages and the unmistakable words as always, the other
        languages' words with their language (built once)."""
        if self._wide is None:
            base = self._base_languages
            if self._profanity:
                entries = [*profanity_entries(base), *unmistakable_entries()]
                foreign = foreign_entries(base)
                # the English words are also found inflected, backwards, glued and split
                english: tuple[str, ...] = english_words()
            else:
                entries, foreign, english = [], [], ()
            self._wide = Lexicon.build(
                [*self._own_words, *entries],
                self._allow_words,
                english_words=english,
                foreign=foreign,
            )
        return self._wide if len(self._wide) else None

    def _lexicon(self, languages: frozenset[str]) -> Lexicon:
        """The lists of the wall's languages and of ``languages`` (a post's), with the
        unmistakable words (built once per combination)."""
        key = languages - self._base_languages
        lexicon = self._lexicons.get(key)
        if lexicon is None:
            wanted = self._base_languages | key
            entries = [*profanity_entries(wanted), *unmistakable_entries()]
            english = english_words() if "en" in wanted else ()
            lexicon = Lexicon.build(
                [*self._own_words, *(entries if self._profanity else [])],
                self._allow_words,
                english_words=english if self._profanity else (),
                # a post's own languages: posts in them are few, and a stranger choosing tags
                # could make many such lexicons (each keeps its memories)
                remembered=LANGUAGE_LEXICON_MEMORY if key else VARIANTS_CAP,
            )
            if len(self._lexicons) >= 64:  # a handful in practice; never without bound
                self._lexicons.clear()
            self._lexicons[key] = lexicon
        return lexicon

    def _blocked_host(self, post: Post, folded: str) -> str:
        """The first blocked host among the post's links and media, else ``""``."""
        if post.url:
            host = self._blocked(_host(post.url))
            if host:
                return host
        for media in post.media:
            for url in (media.url, media.preview_url):
                if url:
                    host = self._blocked(_host(url))
                    if host:
                        return host
        if "http" in folded or "www." in folded:
            for raw in _URL_HOST_RE.findall(folded):
                host = self._blocked(raw.split(":", 1)[0].rstrip(".,;!?)"))
                if host:
                    return host
        return ""

    def _blocked(self, host: str) -> str:
        """:func:`_blocked` of ``host``, remembered (a wall's links come from a few hosts)."""
        found = self._hosts.get(host)
        if found is None:
            found = _blocked(host, self._domains)
            if len(self._hosts) >= 10_000:
                self._hosts.clear()
            self._hosts[host] = found
        return found

    # -- trending --------------------------------------------------------------------------------

    def blocks_term(self, term: str) -> bool:
        """True when a trending term (a word, ``#tag`` or two-word phrase) must never be shown:
        a blocked term or profanity. Answers are remembered (terms repeat every snapshot)."""
        verdict = self._term_verdicts.get(term)
        if verdict is None:
            text = term.replace("#", " ")
            # a term may be glued words ("#shitphone", "whatthefuck"): read as a display name
            verdict = bool(self._text_problem(text, fold(text), None, glued=True))
            if len(self._term_verdicts) > 20_000:
                self._term_verdicts.clear()
            self._term_verdicts[term] = verdict
        return verdict


class _PostLanguages:
    """The languages a post is written in, as far as its word lists go: its tag and the
    language detected in its text (CLD2), both when they differ ("en" on a post written in
    Finnish is common). Detected only when asked (a few µs), once per post."""

    __slots__ = ("_found", "_lang", "_text", "consulted")

    def __init__(self, text: str, lang: str | None) -> None:
        self._text = text
        self._lang = lang
        self._found: frozenset[str] | None = None
        self.consulted = False
        """True once asked: an answer that depended on it is not remembered per author."""

    def get(self) -> frozenset[str]:
        self.consulted = True
        if self._found is None:
            found = {primary_language(self._lang), read(self._text).guess()}
            self._found = frozenset(lang for lang in found if lang in LANGUAGES)
        return self._found


#: the characters past ASCII that a regular expression ignoring case matches with an ASCII letter
#: ("İ", dotless "ı", long "ſ", the Kelvin sign; see the test that finds them)
_CASE_TWINS_RE = re.compile("[\u0130\u0131\u017f\u212a]")

#: authors whose handle forms and pictureless copies are remembered (then it starts again)
_AUTHORS_CAP = 10_000
#: What a lexicon of a post's own languages remembers of each kind (its tokens, hashtags…): the
#: wall's main lexicon remembers :data:`agora.core.profanity.VARIANTS_CAP`.
LANGUAGE_LEXICON_MEMORY = 2_000


#: what parts the words of a handle ("@fuck_you@mastodon.example", "fuckyou.bsky.social")
_HANDLE_PARTS_RE = re.compile(r"[@.:/\-]+")


def _without_word(text: str, word: str) -> str:
    """``text`` without the words that fold to ``word`` (any case and accents: "râpé")."""
    return _LETTERS_RE.sub(lambda m: " " if fold(m.group(0)) == word else m.group(0), text)


_LETTERS_RE = re.compile(r"[^\W\d_]+")


#: a plain web address, its host as ``urlsplit`` reads it (most links: read without parsing)
_PLAIN_URL_RE = re.compile(r"https?://([A-Za-z0-9.\-]+)(?::\d*)?(?:[/?#]|$)")


def term_core(term: str) -> str:
    """The first word of a blocked term as its pattern (:func:`term_pattern`) looks for it in
    folded text: a text without it has no match ("" when there is none to tell)."""
    folded = fold(term.strip()).rstrip("*").strip()
    if folded.startswith(("#", "@")):
        folded = folded[1:]
    words = folded.split()
    return words[0] if words else ""


#: letters and digits a blocked pattern begins with, after a word boundary
_LEAD_RE = re.compile(r"(?:\\b)?([A-Za-z0-9]+)")


def required_start(pattern: str) -> str:
    """The ASCII letters and digits (lower case) every match of ``pattern`` begins with, when
    it is plainly so: the pattern begins with them (after a ``\\b``), the last one is not made
    optional by the next character, and no ``|`` outside brackets and parentheses offers another
    way. ``""`` when it cannot tell."""
    lead = _LEAD_RE.match(pattern)
    if lead is None:
        return ""
    letters = lead.group(1)
    after = pattern[lead.end() : lead.end() + 1]
    if after and after in "?*{":
        letters = letters[:-1]  # "colou?r": the "u" may be missing
    return letters.lower() if letters and not _top_level_choice(pattern) else ""


def _top_level_choice(pattern: str) -> bool:
    """True when ``pattern`` has a ``|`` outside every group and character class."""
    depth = 0
    index = 0
    in_class = False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            if pattern[index + 1 : index + 2] == "^":
                index += 1
            if pattern[index + 1 : index + 2] == "]":  # "[]a]": a leading "]" is a member
                index += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth <= 0:
            return True
        index += 1
    return False


def _host(url: str) -> str:
    plain = _PLAIN_URL_RE.match(url)
    if plain is not None:
        return plain.group(1).lower()
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _blocked(host: str, domains: frozenset[str]) -> str:
    """``host`` when it or a parent domain is in ``domains`` ("cdn.example.com")."""
    host = host.lower().removeprefix("www.")
    probe = host
    while probe:
        if probe in domains:
            return host
        _, dot, rest = probe.partition(".")
        probe = rest if dot else ""
    return ""


def _drop_media(post: Post) -> None:
    """Remove images, videos and link previews from ``post`` (in place); links stay."""
    if post.media:
        post.media = tuple(replace(m, preview_url=None) for m in post.media if m.kind == "link")


def canonical_handles(handles: Iterable[str]) -> frozenset[str]:
    """Handles in the canonical form blocks and allow-lists compare (folded, no leading ``@``)."""
    return frozenset(owned_handle(h) for h in handles)


__all__ = ["BLOCKED_AUTHOR", "PRIVATE_ACCOUNT", "RuleModeration", "canonical_handles"]

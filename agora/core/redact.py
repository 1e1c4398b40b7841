"""Keeping secrets out of every output: log lines, tracebacks, error messages, source health, posts.

Qt-free and nearly dependency-free (only :mod:`agora.core.text`), so every layer can use it.
:func:`redact` is what any output may show of a text:

* terminal escape sequences and control characters are removed first (a server's text must not
  drive the operator's terminal, and an escape must not split a secret so that it is missed);
* URLs lose their query and fragment (``https://host/path?…``): a server can redirect to a
  pre-signed URL with credentials of its own under any name (``X-Amz-Signature=``, ``code=``,
  ``session=``); host and path stay, operators need them;
* the values of the config's secrets (``token = "env:NAME"``) are replaced with :data:`MARK`, in
  the forms they travel in: as written, in any letter case, URL-encoded, JSON-escaped, in a Python
  ``repr`` of a text or of its bytes, in hex, in Base64 at any byte alignment (a Basic
  ``Authorization`` header encodes ``id:secret`` together), split across lines, and cut: the first
  :data:`PREFIX_LENGTH` or more characters of any of these forms are hidden too, because messages
  are cut to a length. A :class:`~agora.config.schema.Secret` registers its value here the moment
  it is read from the environment, so a secret added by a hot reload is hidden from then on,
  before any request uses it;
* credentials whatever their value: ``Authorization``-style headers (as ``Name: value``,
  ``'name': 'value'`` or httpcore's ``(b'Name', b'value')``), ``Bearer …`` and ``Token …``, query,
  fragment and form parameters such as ``access_token=``, ``token=``, ``api_key=``, ``key=``,
  ``client_secret=``, ``password=``, ``sid=``, ``jwt=`` (also URL-encoded), JSON members of those
  names (``accessJwt`` too), and the password of ``scheme://user:password@host``.

:func:`redact_post` hides configured secrets (only those: a post's links keep their query) in the
fields of a post a server sent, which could echo the token it was given. Both are cheap enough to
run on every log record and every post.
"""

from __future__ import annotations

import base64
import bisect
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Final
from urllib.parse import quote, quote_plus

from agora.core.text import strip_unsafe

if TYPE_CHECKING:
    from agora.core.post import Post

__all__ = [
    "MARK",
    "MIN_SECRET_LENGTH",
    "PREFIX_LENGTH",
    "Redactor",
    "hide_queries",
    "redact",
    "redact_post",
    "remember_secrets",
]

#: What a secret is replaced with.
MARK: Final = "«redacted»"
#: Values at least this long are hidden wherever they occur.
MIN_SECRET_LENGTH: Final = 6
#: Shorter values are hidden only where they stand as a whole word (inside words they would
#: blank ordinary text); values shorter than this are not hidden at all. The config refuses
#: secrets shorter than 8 characters anyway (:data:`agora.config.schema.MIN_SECRET_CHARS`).
MIN_WORD_SECRET: Final = 4
#: A cut secret: this many leading characters of a secret (in any of its forms) are hidden, and
#: as many more as the text goes on agreeing with it.
PREFIX_LENGTH: Final = 12
#: A cut secret is hidden unless its piece is one character repeated: X's bearer tokens all start
#: with twenty-one "A", and a post may well scream "AAAAAAAAAAAAAAAAAAAAAAH".
_MIN_DISTINCT: Final = 2
#: A Base64 fragment shorter than this is too likely to occur by chance to be replaced.
_MIN_FRAGMENT: Final = 8

#: Names of query, form and JSON parameters that carry credentials.
_PARAMETERS: Final = (
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "auth_token",
    "api_key",
    "apikey",
    "key",
    "client_secret",
    "client_assertion",
    "app_password",
    "password",
    "passwd",
    "secret",
    "signature",
    "sig",
    "session_id",
    "sessionid",
    "accessjwt",
    "refreshjwt",
    "x-amz-security-token",
    "x-amz-signature",
    "x-amz-credential",
    "x-goog-signature",
    "x-goog-credential",
)
#: Names that are credentials only as URL parameters (after ``?``, ``&``, ``#`` or ``;``): in
#: prose, ``exit code=1`` or ``auth=basic`` are not.
_URL_PARAMETERS: Final = ("code", "sid", "session", "jwt", "auth")
#: Headers whose whole value is a credential.
_HEADERS: Final = (
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "x-auth-token",
    "x-amz-security-token",
    "cookie",
    "set-cookie",
)


def _alternatives(names: Iterable[str]) -> str:
    return "|".join(sorted(map(re.escape, names), key=len, reverse=True))


_NAMES = _alternatives(_PARAMETERS)
_VALUE = rf"(?!{MARK})([^&#\s\"'<>,;)]+)"
# name=value in a query string, a fragment or a form body; also URL-encoded (name%3Dvalue) inside
# another URL. The name must start a parameter (after ?, &, #, ;, a space or a quote), so
# "monkey=" is not "key=".
_QUERY = re.compile(rf"(?i)((?:^|[?&#;\s\"'(,]|%26|%3F)(?:{_NAMES})(?:=|%3D)){_VALUE}")
_URL_QUERY = re.compile(
    rf"(?i)((?:[?&#;]|%26|%3F)(?:{_alternatives(_URL_PARAMETERS)})(?:=|%3D)){_VALUE}"
)
# "name": "value" in JSON, 'name': 'value' or 'name': b'value' in a repr; the value may hold
# escaped quotes and the other kind of quote
_JSON = re.compile(
    rf"""(?i)(["'](?:{_NAMES})["']\s*:\s*b?)("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
)
# Name: value (a raw header line), 'name': 'value' (a dict), (b'Name', b'value') (httpcore),
# name=value; the value runs to the end of the line or the closing quote
_HEADER = re.compile(
    rf"(?i)(\b(?:{_alternatives(_HEADERS)})"
    r"(?:\s*[:=]\s*|['\"]\s*[:,]\s*b?['\"]))"
    r"([^'\"\r\n]+)"
)
_TOKEN_CHARS = r"[A-Za-z0-9._~+/=\-]"
# "Bearer <token>" anywhere: a token of 8+ characters with a digit, a capital or a symbol, or of
# 16+ characters of any kind, so that prose such as "the bearer token was refused" stays readable
_BEARER = re.compile(
    rf"((?i:\bbearer)\s+)(?!{MARK})"
    rf"((?={_TOKEN_CHARS}*[0-9A-Z._~+/=\-]){_TOKEN_CHARS}{{8,}}|{_TOKEN_CHARS}{{16,}})"
)
# "Token <token>" (Django's and GitHub's scheme, and a server's "token <value> is not valid"):
# 12+ characters with a digit ("token expired" stays)
_TOKEN = re.compile(rf"((?i:\btoken)\s+)(?!{MARK})((?={_TOKEN_CHARS}*[0-9]){_TOKEN_CHARS}{{12,}})")
_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^:/@\s]+:)([^@/\s]+)@")
# a URL's query and fragment (found from the "://": what comes before it stays anyway); also
# those of the relative path of a Location header (httpcore's DEBUG lines:
# (b'Location', b'/signed?X-Amz-Signature=…')). Punctuation that ends them belongs to the
# sentence around ("failed for https://h/?a=1: …").
_QUERY_TEXT = r"[^\s'\"<>\\]*[^\s'\"<>\\.,:;!)\]]"
_QUERY_OF_URL = re.compile(rf"(://[^\s?#'\"<>\\]*[?#]){_QUERY_TEXT}")
_QUERY_OF_LOCATION = re.compile(
    rf"(?i)(\blocation['\"]?\s*[:,=]\s*b?['\"]?[^\s?#'\"<>\\]*[?#]){_QUERY_TEXT}"
)
# a line break and the indentation around it: a secret split across lines is found with them
# taken out
_BREAK = re.compile(r"[ \t]*(?:\r\n|[\r\n])[ \t]*")


def _base64_forms(value: bytes) -> set[str]:
    """The Base64 text of ``value`` at each of the three byte alignments it can have inside a
    longer encoded string (only the characters that depend on ``value`` alone), in the standard
    and URL-safe alphabets."""
    forms: set[str] = set()
    bits = 8 * len(value)
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + value).decode("ascii")
        first = -(-8 * offset // 6)  # the first character made only of the value's bits
        last = (8 * offset + bits) // 6  # the characters before it end inside the value
        fragment = encoded[first:last]
        if len(fragment) >= _MIN_FRAGMENT:
            forms.add(fragment)
            forms.add(fragment.replace("+", "-").replace("/", "_"))
    whole = base64.b64encode(value).decode("ascii")
    forms.update({whole, whole.rstrip("=")})
    return forms


def _repr_forms(value: str) -> set[str]:
    """``value`` as Python's ``repr`` writes it inside a longer text and inside bytes (a dict
    or an exception printed with ``%r``): with its single quotes escaped or not (which depends on
    the quotes of the whole text)."""
    plain = "".join(repr(ch)[1:-1] for ch in value)  # repr of one character escapes no quote
    raw = value.encode("utf-8")
    plain_bytes = "".join(repr(bytes([b]))[2:-1] for b in raw)
    return {
        plain,
        "".join("\\'" if ch == "'" else repr(ch)[1:-1] for ch in value),
        plain_bytes,
        "".join("\\'" if b == 39 else repr(bytes([b]))[2:-1] for b in raw),
    }


def secret_forms(value: str) -> set[str]:
    """Every form of ``value`` that :func:`redact` replaces (empty for a short value). Letter
    case does not matter: they are matched in any case."""
    if len(value) < MIN_SECRET_LENGTH:
        return set()
    forms = {
        value,
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        value.encode("utf-8").hex(),
    }
    forms |= _repr_forms(value)
    forms |= _base64_forms(value.encode("utf-8"))
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


class _Finder:
    """Where known secrets are in a text: every form, or its first :data:`PREFIX_LENGTH`
    characters extended as far as the text agrees with the form, in any letter case; short
    values as whole words."""

    def __init__(self, values: Iterable[str]) -> None:
        self.by_head: dict[str, list[str]] = {}
        literals: set[str] = set()
        words: set[str] = set()
        for value in values:
            if len(value) < MIN_SECRET_LENGTH:
                words.add(value.lower())
            for form in {f.lower() for f in secret_forms(value)}:
                if len(form) >= PREFIX_LENGTH:
                    head = form[:PREFIX_LENGTH]
                    self.by_head.setdefault(head, []).append(form)
                    literals.add(head)
                else:
                    literals.add(form)
        # the longest literal wins where several start at the same place
        parts = [re.escape(s) for s in sorted(literals, key=len, reverse=True)]
        parts += [rf"(?<![^\W_]){re.escape(w)}(?![^\W_])" for w in sorted(words)]
        source = "|".join(parts)
        # the text is searched lower-cased; the case-insensitive pattern serves the rare text
        # whose lower-case form has another length (the positions would not line up)
        self.lower = re.compile(source)
        self.anycase = re.compile(source, re.IGNORECASE)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` of every secret in ``text``, in order, not overlapping."""
        lowered = text.lower()
        if len(lowered) == len(text):
            pattern, seen = self.lower, lowered
        else:
            pattern, seen = self.anycase, text
        found: list[tuple[int, int]] = []
        match = pattern.search(seen)
        while match is not None:
            start, end = match.span()
            forms = self.by_head.get(match.group().lower())
            if forms:
                end = start + max(_agreeing(seen, start, form) for form in forms)
                if end == start:  # a run such as "AAAAAAAAAAAA" (every X token's start)
                    match = pattern.search(seen, start + 1)
                    continue
            found.append((start, end))
            match = pattern.search(seen, end)
        return found


def _agreeing(text: str, start: int, form: str) -> int:
    """How many characters of ``text`` from ``start`` agree with ``form`` (lower case): all of
    them, or a cut form's first :data:`PREFIX_LENGTH` or more; 0 when such a piece is one
    character repeated (it is more likely "AAAAAAAAAAAAAH" than a cut secret)."""
    chunk = text[start : start + len(form)]
    if chunk.lower() == form:
        return len(form)
    count = PREFIX_LENGTH
    while count < len(chunk) and chunk[count].lower() == form[count]:
        count += 1
    return count if len(set(form[:count])) >= _MIN_DISTINCT else 0


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    parts: list[str] = []
    last = 0
    for start, end in spans:
        parts += (text[last:start], MARK)
        last = end
    parts.append(text[last:])
    return "".join(parts)


class Redactor:
    """The secret values known to this process and the patterns of credentials in text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._finder: _Finder | None = None

    def add(self, values: Iterable[str]) -> bool:
        """Hide ``values`` from now on; True when one of them was new."""
        with self._lock:
            new = {v for v in values if len(v) >= MIN_WORD_SECRET} - self._values
            if not new:
                return False
            self._values |= new
            self._finder = _Finder(self._values)
            return True

    def __contains__(self, value: object) -> bool:
        return value in self._values

    @property
    def active(self) -> bool:
        """Whether any secret is known (else :meth:`hide` returns its text as it is)."""
        return self._finder is not None

    def hide(self, text: str) -> str:
        """``text`` without the known secrets (in any of their forms, cut, or split across
        lines); credentials of other values stay."""
        finder = self._finder
        if finder is None or not text:
            return text
        if "\n" not in text and "\r" not in text:
            spans = finder.spans(text)
            return _replace(text, spans) if spans else text
        # search the text with its line breaks taken out, then map what was found back
        starts: list[int] = []  # where each line starts in ``text``
        offsets: list[int] = []  # and in the joined text
        lines: list[str] = []
        last = joined_length = 0
        for brk in _BREAK.finditer(text):
            starts.append(last)
            offsets.append(joined_length)
            lines.append(text[last : brk.start()])
            joined_length += brk.start() - last
            last = brk.end()
        starts.append(last)
        offsets.append(joined_length)
        lines.append(text[last:])
        spans = finder.spans("".join(lines))
        if not spans:
            return text

        def at(index: int) -> int:
            line = bisect.bisect_right(offsets, index) - 1
            return starts[line] + index - offsets[line]

        return _replace(text, [(at(start), at(end - 1) + 1) for start, end in spans])

    def redact(self, text: str) -> str:
        """``text`` without known secrets and credentials."""
        text = self.hide(text)
        lowered = text.lower()
        if "=" in text or "%3d" in lowered:
            text = _QUERY.sub(rf"\1{MARK}", text)
            if any(name in lowered for name in _URL_PARAMETERS):
                text = _URL_QUERY.sub(rf"\1{MARK}", text)
        if ":" in text:
            if '"' in text or "'" in text:
                text = _JSON.sub(_json_value, text)
            if "@" in text:
                text = _USERINFO.sub(rf"\1{MARK}@", text)
        if "bearer" in lowered:
            text = _BEARER.sub(rf"\1{MARK}", text)
        if "token" in lowered:
            text = _TOKEN.sub(rf"\1{MARK}", text)
        if any(name in lowered for name in ("auth", "key", "cookie", "token")):
            text = _HEADER.sub(rf"\1{MARK}", text)
        return text


def _json_value(match: re.Match[str]) -> str:
    quoted = match.group(2)
    if quoted[1:-1] == MARK:
        return match.group(0)
    return f"{match.group(1)}{quoted[0]}{MARK}{quoted[0]}"


def hide_queries(text: str) -> str:
    """``text`` with the query and fragment of every URL in it replaced by ``…``."""
    if "?" not in text and "#" not in text:
        return text
    if "://" in text:
        text = _QUERY_OF_URL.sub("\\1…", text)
    if "ocation" in text or "OCATION" in text:
        text = _QUERY_OF_LOCATION.sub("\\1…", text)
    return text


#: The process's one redactor: configured secrets register here when they are read.
REDACTOR: Final = Redactor()


def remember_secrets(values: Iterable[str]) -> bool:
    """Hide ``values`` from every output of this process from now on."""
    return REDACTOR.add(values)


def redact(text: str) -> str:
    """What any output may show of ``text``: without terminal escapes and control characters
    (line breaks and tabs stay), without URL queries and fragments, without the known secrets
    and without credentials of any value."""
    if not text.isprintable():  # else there is nothing to strip (a C loop, nearly free)
        text = strip_unsafe(text)
    return REDACTOR.redact(hide_queries(text))


def redact_post(post: Post) -> bool:
    """Hide the configured secrets in every text of ``post`` a server chose (its id, text,
    author, links and pictures); True when one was found. Nearly free when no secret is
    configured."""
    if not REDACTOR.active:
        return False
    hide = REDACTOR.hide
    author = post.author
    texts = [post.id, post.text, post.url, post.reply_to, post.repost_of, author.handle]
    texts += (author.name, author.url, author.avatar_url)
    for item in post.media:
        texts += (item.url, item.preview_url, item.alt)
    # one search over all of them answers for nearly every post (NUL is in no secret's form)
    everything = "\0".join(t for t in texts if t)
    if hide(everything) is everything:
        return False
    found = False

    def clean(value: str) -> str:
        nonlocal found
        hidden = hide(value)
        found = found or hidden != value
        return hidden

    def clean_optional(value: str | None) -> str | None:
        return None if value is None else clean(value)

    post.id = clean(post.id)
    post.text = clean(post.text)
    post.url = clean_optional(post.url)
    post.reply_to = clean_optional(post.reply_to)
    post.repost_of = clean_optional(post.repost_of)
    handle, name = clean(author.handle), clean(author.name)
    url, avatar = clean_optional(author.url), clean_optional(author.avatar_url)
    if (handle, name, url, avatar) != (
        author.handle,
        author.name,
        author.url,
        author.avatar_url,
    ):
        post.author = replace(author, handle=handle, name=name, url=url, avatar_url=avatar)
    if post.media:
        media = tuple(
            replace(
                m,
                url=clean(m.url),
                preview_url=clean_optional(m.preview_url),
                alt=clean(m.alt),
            )
            for m in post.media
        )
        if media != post.media:
            post.media = media
    return found

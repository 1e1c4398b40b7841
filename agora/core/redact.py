"""Keeping secrets out of every output: log lines, tracebacks, error messages, source health.

Qt-free and dependency-free, so every layer can use it. Two kinds of text are replaced with
:data:`MARK`:

* the values of the config's secrets (``token = "env:NAME"``), in the forms they travel in: as
  written, URL-encoded, JSON-escaped, and Base64 at any byte alignment (a Basic ``Authorization``
  header encodes ``id:secret`` together, so the secret's own Base64 is not a substring of it). A
  :class:`~agora.config.schema.Secret` registers its value here the moment it is read from the
  environment, so a secret added by a hot reload is hidden from then on, before any request uses
  it;
* credentials whatever their value, because a server can redirect with tokens of its own:
  ``Authorization``-style headers (as ``Name: value``, ``'name': 'value'`` or httpcore's
  ``(b'Name', b'value')``), ``Bearer …``, query and form parameters such as ``access_token=``,
  ``token=``, ``api_key=``, ``key=``, ``client_secret=``, ``password=`` (also URL-encoded), JSON
  members of those names, and the password of ``scheme://user:password@host``.

:func:`redact` is cheap enough to run on every log record.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterable
from typing import Final
from urllib.parse import quote, quote_plus

__all__ = ["MARK", "MIN_SECRET_LENGTH", "Redactor", "redact", "remember_secrets"]

#: What a secret is replaced with.
MARK: Final = "«redacted»"
#: Shorter values are not redacted: they would blank ordinary words.
MIN_SECRET_LENGTH: Final = 6
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
    "app_password",
    "password",
    "passwd",
    "secret",
    "signature",
    "sig",
)
#: Headers whose whole value is a credential.
_HEADERS: Final = (
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "x-auth-token",
    "cookie",
    "set-cookie",
)

_NAMES = "|".join(sorted(map(re.escape, _PARAMETERS), key=len, reverse=True))
# name=value in a query string or form body; also URL-encoded (name%3Dvalue) inside another URL.
# The name must start a parameter (after ?, &, ;, a space or a quote), so "monkey=" is not "key=".
_QUERY = re.compile(
    rf"(?i)((?:^|[?&;\s\"'(,]|%26|%3F)(?:{_NAMES})(?:=|%3D))(?!{MARK})([^&#\s\"'<>,;)]+)"
)
# "name": "value" in JSON (an error body that echoes a token back)
_JSON = re.compile(rf"(?i)([\"'](?:{_NAMES})[\"']\s*:\s*[\"'])(?!{MARK})([^\"']+)")
# Name: value (a raw header line), 'name': 'value' (a dict), (b'Name', b'value') (httpcore),
# name=value; the value runs to the end of the line or the closing quote
_HEADER = re.compile(
    rf"(?i)(\b(?:{'|'.join(map(re.escape, _HEADERS))})"
    r"(?:\s*[:=]\s*|['\"]\s*[:,]\s*b?['\"]))"
    r"([^'\"\r\n]+)"
)
# "Bearer <token>" anywhere; the token has a digit, a capital or a symbol, so that prose such as
# "the bearer token was refused" stays readable
_BEARER = re.compile(
    r"((?i:\bbearer)\s+)(?=[A-Za-z0-9._~+/=\-]*[0-9A-Z._~+/=\-])([A-Za-z0-9._~+/=\-]{8,})"
)
_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^:/@\s]+:)([^@/\s]+)@")


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


def secret_forms(value: str) -> set[str]:
    """Every form of ``value`` that :func:`redact` replaces (empty for a short value)."""
    if len(value) < MIN_SECRET_LENGTH:
        return set()
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    forms |= _base64_forms(value.encode("utf-8"))
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


class Redactor:
    """The secret values known to this process and the patterns of credentials in text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, values: Iterable[str]) -> bool:
        """Hide ``values`` from now on; True when one of them was new."""
        with self._lock:
            new = {v for v in values if len(v) >= MIN_SECRET_LENGTH} - self._values
            if not new:
                return False
            self._values |= new
            forms: set[str] = set()
            for value in self._values:
                forms |= secret_forms(value)
            ordered = sorted(forms, key=len, reverse=True)  # the longest form wins
            self._pattern = re.compile("|".join(map(re.escape, ordered)))
            return True

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def redact(self, text: str) -> str:
        """``text`` without known secrets and credentials."""
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MARK, text)
        lowered = text.lower()
        if "=" in text or "%3d" in lowered:
            text = _QUERY.sub(rf"\1{MARK}", text)
        if ":" in text:
            text = _JSON.sub(rf"\1{MARK}", text)
            text = _USERINFO.sub(rf"\1{MARK}@", text)
        if "bearer" in lowered:
            text = _BEARER.sub(rf"\1{MARK}", text)
        if any(name in lowered for name in ("auth", "key", "cookie")):
            text = _HEADER.sub(rf"\1{MARK}", text)
        return text


#: The process's one redactor: configured secrets register here when they are read.
REDACTOR: Final = Redactor()


def remember_secrets(values: Iterable[str]) -> bool:
    """Hide ``values`` from every output of this process from now on."""
    return REDACTOR.add(values)


def redact(text: str) -> str:
    """``text`` without the known secrets and without credentials of any value."""
    return REDACTOR.redact(text)

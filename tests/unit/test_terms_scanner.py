"""Trending's term scan reads a text piece by piece (between spaces) and remembers each piece's
reading: it must find exactly the terms a reading of the whole text finds."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from agora.core.terms import STOPWORDS, TermScanner, scan, stopword_set
from agora.core.tokens import term_tokens

_DIGITS_RE = re.compile(r"^[\d\-']+$")


def whole_text_scan(text: str, stop: frozenset[str]) -> list[str]:
    """The terms as read from the tokens of the whole text at once (the reading the scan had
    before it read pieces): the oracle."""
    out: list[str] = []
    prev: str | None = None
    possessive = "'s" in text or "’s" in text
    for raw in term_tokens(text):
        token = raw[:-2] if possessive and raw.endswith(("'s", "’s")) else raw
        if token in stop or len(token) < 3:
            prev = None
            continue
        first = token[0]
        if first == "#":
            word = token[1:]
            if len(word) >= 3 and word not in stop and not _DIGITS_RE.match(word):
                out.append(token)
            prev = None
            continue
        if first == "@" or (first.isdigit() and _DIGITS_RE.match(token)):
            prev = None
            continue
        out.append(token)
        if prev is not None:
            out.append(prev + " " + token)
        prev = token
    return out


#: pieces that make the readings differ: links, possessives, hashtags, mentions with hosts,
#: numbers, hyphens, apostrophes, punctuation glued to words, stopwords, odd spaces
_PIECES = [
    "battery",
    "life",
    "the",
    "partner's",
    "corvid’s",
    "#lumenx1",
    "#x1",
    "#2026",
    "@lumen@mastodon.social",
    "@lumen",
    "https://x.example/a?b=c",
    "www.lumen.example",
    "http",
    "xhttps://y.example",
    "state-of-the-art",
    "don't",
    "12-3",
    "4k",
    "great,",
    "camera!",
    "(really)",
    "“great",
    "…",
    "a",
    "überall",
    "téléphone",
    "東京",
    "x1_pro",
    "--",
    "'s",
    "lol.lol",
]
_SPACES = [" ", "  ", "\n", "\t", "\u3000", "\u00a0", "\u2028"]


@st.composite
def texts(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.sampled_from(_PIECES), max_size=14))
    parts: list[str] = []
    for piece in pieces:
        parts.append(piece)
        parts.append(draw(st.sampled_from(_SPACES)) if draw(st.booleans()) else "")
    return "".join(parts)


@settings(max_examples=400, deadline=None)
@given(texts())
def test_scan_finds_what_the_whole_text_gives(text: str) -> None:
    assert scan(text) == whole_text_scan(text, STOPWORDS)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_scan_of_any_text_finds_what_the_whole_text_gives(text: str) -> None:
    assert scan(text) == whole_text_scan(text, STOPWORDS)


def test_scanner_remembers_readings_and_stays_bounded() -> None:
    stop = stopword_set({"lumen"})
    scanner = TermScanner(stop, capacity=8)
    text = "the lumen battery life, #LumenX1 battery life! partner's camera https://x.example/q"
    first = scanner.scan(text)
    assert first == whole_text_scan(text, stop)
    assert "lumen" not in first
    assert scanner.scan(text) == first  # read again from what it remembers
    for n in range(50):
        assert scanner.scan(f"word{n} other{n} battery") == whole_text_scan(
            f"word{n} other{n} battery", stop
        )
        assert len(scanner._known) <= 8
    # a stranger's one long post of distinct words fills it no further either
    flood = " ".join(f"flood{n}" for n in range(500))
    assert scanner.scan(flood) == whole_text_scan(flood, stop)
    assert len(scanner._known) <= 8
    # pieces too long to be worth remembering are read each time
    long = "x" * 200
    assert scanner.scan(long) == [long]
    assert long not in scanner._known

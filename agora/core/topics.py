"""Topic matching: which configured topics (brand, competitors, campaigns) a post mentions.

Terms are matched on the folded text (case- and accent-insensitive) at word boundaries:

* ``nokia`` matches "Nokia", "#nokia", "@nokia" and "nokia's", but not "nokiapedia";
* ``nokia*`` also matches prefixes ("nokiapedia");
* ``#nokia`` matches only the hashtag, ``@nokia`` only the mention (also ``@nokia@server``);
* ``nokia x30`` matches the phrase with any whitespace between the words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from agora.core.text import fold

_WORD = r"[^\W_]"  # a letter or digit in any script


def term_pattern(term: str) -> str:
    """The regular expression (on folded text) for one configured term."""
    folded = fold(term.strip())
    prefix = folded.endswith("*")
    folded = folded.rstrip("*").strip()
    lead = ""
    if folded.startswith(("#", "@")):
        lead, folded = folded[0], folded[1:]
    words = [re.escape(w) for w in folded.split()]
    body = r"\s+".join(words)
    tail = rf"{_WORD}*" if prefix else ""
    # a sigil must not be glued to a preceding word ("foo#nokia" is not a hashtag)
    start = rf"(?<![\w{re.escape(lead)}]){re.escape(lead)}" if lead else r"(?<!\w)"
    end = "" if prefix else r"(?!\w)"
    return rf"{start}{body}{tail}{end}"


class TopicMatcher:
    """Matches folded post text against every configured topic's terms."""

    def __init__(self, topics: Mapping[str, Sequence[str]]) -> None:
        # (key, literal words one of which must occur, the exact pattern)
        self._patterns: list[tuple[str, tuple[str, ...], re.Pattern[str]]] = []
        for key, terms in topics.items():
            if not terms:
                continue
            alternatives = "|".join(f"(?:{term_pattern(t)})" for t in terms)
            cores = tuple(
                sorted({fold(t.strip()).strip("#@*").split()[0] for t in terms if t.strip("#@* ")})
            )
            self._patterns.append((key, cores, re.compile(alternatives)))
        self.keys: tuple[str, ...] = tuple(key for key, _, _ in self._patterns)

    def match(self, folded_text: str) -> tuple[str, ...]:
        """Topic keys whose terms occur in ``folded_text`` (already passed through :func:`fold`)."""
        # a plain substring test (fast, in C) rules out most topics before the exact pattern runs
        found: list[str] = []
        for key, cores, pattern in self._patterns:
            for core in cores:
                if core in folded_text:
                    if pattern.search(folded_text):
                        found.append(key)
                    break
        return tuple(found)

    def match_text(self, text: str) -> tuple[str, ...]:
        """Like :meth:`match` but folds ``text`` first."""
        return self.match(fold(text))

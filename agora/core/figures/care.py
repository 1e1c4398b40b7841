"""Care: the brand's open questions and complaints, and how fast the brand answers.

A shown post about the brand (or naming one of its handles) that asks for help, or is negative
and asks or names the brand, opens a care item; a reply from one of the brand's own accounts
answers it (also when the reply came first). The part is the open queue (oldest first), the
response rate and the median time to the first reply.
"""

from __future__ import annotations

import re
import statistics
from collections import OrderedDict, deque
from collections.abc import Iterable

from agora.core.figures.base import Batch, Figure, Window
from agora.core.post import Post
from agora.core.snapshot import Care as CarePart

QUESTION_OPENERS = (
    "how ",
    "why ",
    "what ",
    "where ",
    "when ",
    "anyone ",
    "any idea",
    "can someone",
    "can anyone",
    "does anyone",
    "is there",
    "help",
    "please help",
    "who ",
)
HELP_PHRASES = (
    "help",
    "support",
    "not working",
    "doesn't work",
    "does not work",
    "won't",
    "broken",
    "broke",
    "refund",
    "replacement",
    "can't",
    "cannot",
    "stuck",
    "crash",
    "error",
    "fix",
)

_HELP_RE = re.compile("|".join(re.escape(p) for p in HELP_PHRASES))


class Care(Figure[CarePart]):
    """Open care items (bounded), answers waiting for their question, and reply times."""

    __slots__ = (
        "_answered_ids",
        "_brand",
        "_cap",
        "_mentions",
        "_reply_times",
        "answered",
        "limit",
        "open",
        "total",
    )

    def __init__(
        self, brand: str | None, owned_handles: Iterable[str], size: int, limit: int = 50
    ) -> None:
        self._brand = brand
        handles = sorted(owned_handles)
        #: any of the brand's handles with its ``@``, anywhere in a folded text
        self._mentions = (
            re.compile("|".join(re.escape(f"@{h}") for h in handles)) if handles else None
        )
        self._cap = size
        self.limit = limit
        self.open: OrderedDict[str, Post] = OrderedDict()
        """Unanswered care items by post id, oldest first (bounded)."""
        self.total = 0
        self.answered = 0
        self._answered_ids: OrderedDict[str, float] = OrderedDict()
        """Posts the brand replied to before they arrived here, and when."""
        self._reply_times: deque[float] = deque(maxlen=2_000)

    def add(self, batch: Batch) -> None:
        for entry in batch.entries:
            if entry.owned:
                reply_to = entry.post.reply_to
                if reply_to:
                    self._answer(reply_to, entry.ts)
            elif entry.said is not None:
                self._consider(entry.post, entry.said)

    def discard(self, post_id: str) -> None:
        """Close a care item without an answer (its post left the wall)."""
        self.open.pop(post_id, None)

    def part(self, window: Window) -> CarePart:
        """The same whatever the window: the queue as it is now."""
        open_posts = sorted(self.open.values(), key=lambda p: p.timestamp)[: self.limit]
        total = self.total
        rate = round(self.answered / total, 3) if total else None
        times = self._reply_times
        median = round(statistics.median(times), 1) if times else None
        return CarePart(tuple(open_posts), self.answered, total, rate, median)

    def _consider(self, post: Post, folded: str) -> None:
        brand = self._brand
        if brand is None:
            return
        # the cheap tests first: most posts neither ask nor complain, and are not read further
        question = "?" in folded or folded.startswith(QUESTION_OPENERS)
        negative = post.sentiment is not None and post.sentiment.label == "negative"
        if not (question or negative):
            return
        mentions = self._mentions
        mentions_owned = mentions is not None and mentions.search(folded) is not None
        if brand not in post.topics and not mentions_owned:
            return
        # a question that is negative or names the brand, or a complaint that names it, is
        # a care item whatever its words; else only a request for help is (the costliest
        # test, so it comes last)
        if not ((question and (negative or mentions_owned)) or (negative and mentions_owned)) and (
            _HELP_RE.search(folded) is None
        ):
            return
        self.total += 1
        if post.id in self._answered_ids:
            reply_ts = self._answered_ids.pop(post.id)
            self._record_answer(reply_ts - post.timestamp)
            return
        self.open[post.id] = post
        if len(self.open) > self._cap:
            self.open.popitem(last=False)

    def _answer(self, post_id: str, reply_ts: float) -> None:
        question = self.open.pop(post_id, None)
        if question is not None:
            self._record_answer(reply_ts - question.timestamp)
            return
        self._answered_ids[post_id] = reply_ts
        if len(self._answered_ids) > self._cap * 4:
            self._answered_ids.popitem(last=False)

    def _record_answer(self, seconds: float) -> None:
        self.answered += 1
        self._reply_times.append(max(0.0, seconds))

"""Rule-based moderation from ``[moderation]``: blocked terms and authors, approval modes.

This is the pipeline's moderation hook (:class:`agora.core.pipeline.ModerationHook`). It decides
the state a new post starts in; decisions taken later by an operator are applied on top.
"""

from __future__ import annotations

import re

from agora.config.schema import ModerationConfig
from agora.core.aggregates import owned_handle
from agora.core.post import APPROVED, Moderation, Post
from agora.core.topics import term_pattern


class RuleModeration:
    """Hides posts with blocked terms or from blocked authors; holds posts for approval in the
    ``manual`` and ``trusted-only`` modes (allow-listed authors are shown at once)."""

    def __init__(self, config: ModerationConfig) -> None:
        self.mode = config.approval
        self._blocked_authors = frozenset(owned_handle(a) for a in config.block_authors)
        self._allowed = frozenset(owned_handle(a) for a in config.allow_authors)
        terms = [t for t in config.block_terms if t.strip()]
        # "#giveaway" blocks the hashtag; "giveaway" blocks the word anywhere, hashtags included
        self._blocked = (
            re.compile("|".join(f"(?:{term_pattern(t)})" for t in terms)) if terms else None
        )

    def __call__(self, post: Post, folded: str) -> Moderation:
        """The initial moderation state of a new post."""
        handle = owned_handle(post.author.handle)
        if handle in self._blocked_authors:
            return Moderation("hidden", ("blocked author",))
        if post.sensitive:
            return Moderation("hidden", ("marked sensitive by the source",))
        if self._blocked is not None and (match := self._blocked.search(folded)):
            return Moderation("hidden", (f"blocked term: {match.group(0)}",))
        if handle in self._allowed:
            return APPROVED
        if self.mode == "manual":
            return Moderation("pending", ("manual approval",))
        if self.mode == "trusted-only":
            return Moderation("pending", ("author not on the allow-list",))
        if post.moderation.state != "approved":
            return post.moderation
        return APPROVED

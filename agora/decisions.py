"""Operator moderation decisions: recorded in the store, applied to what the wall shows, shared
between processes. Qt-free.

A decision — approve, hide, pin or unpin a post; block or unblock an author — is made at the wall
(``H``), in the operator console or with ``agora moderation`` (another process). The store's
``decisions`` table is the one record of them: what, which post or author, who, when and why.
:class:`DecisionDesk` is the engine's side of it:

* :meth:`DecisionDesk.record` saves a decision, and :meth:`DecisionDesk.apply` the post's new
  state (so ``agora moderation list`` and a restart see it; on a shared store the collectors
  write that state, not every wall);
* :meth:`DecisionDesk.apply` makes it take effect in a pipeline: the moderation hook (a blocked
  author's later posts) and the aggregates (pools, counts, leaderboard, trending);
* :meth:`DecisionDesk.poll` picks up decisions other processes wrote (one indexed query);
* at start, :meth:`DecisionDesk.prime` blocks authors before the stored posts are warmed and
  :meth:`DecisionDesk.replay` applies the post decisions after.

Blocking is by handle (canonical form: folded, no leading ``@``), so a new display name changes
nothing. Showing a blocked author's post is refused while the block lasts. Unblocking shows again
what only the block hid (:meth:`DecisionDesk.show_again`): the author's stored posts get the
state the rules and the operators' decisions give them now; those hidden for another reason
(profanity, an operator's ``hide``) stay hidden, and so does an author blocked in the config.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Final

from agora.core.aggregates import HORIZON_MINUTES, owned_handle
from agora.core.moderation import BLOCKED_AUTHOR, RuleModeration
from agora.core.pipeline import Pipeline
from agora.core.post import APPROVED, Moderation, ModerationState, Post
from agora.core.text import fold
from agora.store.base import AUTHOR_DECISIONS, Decision, DecisionAction, Store

log = logging.getLogger("agora.decisions")

#: What each decision on a post makes of it.
POST_STATES: Final[dict[str, ModerationState]] = {
    "approve": "approved",
    "hide": "hidden",
    "pin": "pinned",
    "unpin": "approved",
}
AUTHOR_ACTIONS: Final = AUTHOR_DECISIONS
ACTIONS: Final[tuple[DecisionAction, ...]] = ("approve", "hide", "pin", "unpin", "block", "unblock")
#: The store's record of the newest unblock whose posts were shown again (a restart need not look
#: for them again).
UNBLOCKS_STATE_KEY: Final = "decisions.unblocks_shown"


def decision_moderation(decision: Decision) -> Moderation | None:
    """The moderation state a post decision gives (``None`` for author decisions)."""
    state = POST_STATES.get(decision.action)
    if state is None:
        return None
    why = decision.reason or f"{decision.action} by {decision.actor}"
    return Moderation(state, (why,))


def blocked_handles(decisions: Iterable[Decision], initial: Iterable[str] = ()) -> list[str]:
    """The handles blocked after ``decisions`` (in order) on top of ``initial``, sorted."""
    blocked = {owned_handle(h) for h in initial}
    for decision in decisions:
        if decision.action == "block":
            blocked.add(owned_handle(decision.target))
        elif decision.action == "unblock":
            blocked.discard(owned_handle(decision.target))
    return sorted(blocked)


def author_of(target: str, store: Store | None, pipeline: Pipeline | None = None) -> str:
    """The handle a block or unblock is about: ``target`` itself, or the author of the post with
    that id (so an operator can block "the author of this post")."""
    post: Post | None = None
    if pipeline is not None:
        post = pipeline.aggregates.post(target)
    if post is None and store is not None and ":" in target:
        try:
            post = store.get_post(target)
        except Exception:  # a store problem: take the target as a handle
            post = None
    return post.author.handle if post is not None else target


class DecisionDesk:
    """Records decisions, applies them to a pipeline and follows the ones other processes make.

    ``keeps_states``: also write each post's new state to the store (the console's queue and
    ``agora moderation list`` read it). A wall that follows a shared store does not: the
    collectors write it, once for every wall (N walls writing the same row would each take the
    posts' write lock, in turn, at every decision, and every wall would read the post back N
    times; a wall's database role may not write posts at all)."""

    def __init__(self, store: Store, *, keeps_states: bool = True) -> None:
        self.store = store
        self.keeps_states = keeps_states
        self.seq = 0
        """The newest decision seen (its ``seq`` in the store)."""
        self._own: set[int] = set()
        self._blocked_at_start: set[str] = set()
        """Authors blocked when the posts were warmed: every post of theirs counted as hidden."""

    # -- recording -------------------------------------------------------------------------------

    def record(self, decision: Decision, pipeline: Pipeline | None = None) -> Decision:
        """Save a decision (a block's target resolved to a handle). Raises when the store cannot
        save it. The post's stored state changes when the decision is applied."""
        if decision.action in AUTHOR_ACTIONS:
            handle = author_of(decision.target, self.store, pipeline)
            if handle != decision.target:
                # the same decision (its uid and origin kept: a retry must not save it twice)
                decision = replace(decision, target=handle)
        saved = self.store.add_decision(decision)
        self._own.add(saved.seq)
        return saved

    # -- applying --------------------------------------------------------------------------------

    def apply(
        self,
        pipeline: Pipeline,
        decision: Decision,
        *,
        oldest_ts: float = 0.0,
        replaying: bool = False,
    ) -> bool:
        """Make a decision take effect in ``pipeline`` and record the post's new state in the
        store (unless :attr:`keeps_states` is off). A post the aggregates no longer hold is read from the store (when at least as new
        as ``oldest_ts``); ``replaying`` (after a warm-up) means its state on the wall is what the
        moderation rules gave it, not what the store says. ``False``: nothing changed."""
        aggregates = pipeline.aggregates
        hook = pipeline.moderate
        target = decision.target
        if decision.action == "block":
            if isinstance(hook, RuleModeration):
                hook.block_author(target)
            aggregates.block_author(target)
            if replaying:
                self._blocked_at_start.add(owned_handle(target))
            return True
        if decision.action == "unblock":
            if isinstance(hook, RuleModeration):
                hook.unblock_author(target)
            aggregates.unblock_author(target)
            if replaying:  # at start the stored posts are warmed after, by the rules of now
                self._blocked_at_start.discard(owned_handle(target))
            else:
                self.show_again(pipeline, [target], oldest_ts=oldest_ts)
                self._blocked_at_start.discard(owned_handle(target))
                self._remember_unblocks(decision.seq)
            return True
        moderation = decision_moderation(decision)
        if moderation is None:
            log.warning("unknown decision %r about %s: ignored", decision.action, target)
            return False
        stored: Post | None = None
        if not aggregates.knows(target):
            try:
                stored = self.store.get_post(target)
            except Exception as exc:
                log.warning("store: could not read %s for a decision: %s", target, exc)
            if stored is not None and stored.timestamp < oldest_ts:
                stored = None
            if stored is not None:
                stored = stored.with_moderation(self._state_on_wall(pipeline, stored, replaying))
        changed = aggregates.set_moderation(target, moderation, stored)
        if not self.keeps_states:
            return changed
        try:
            self.store.set_moderation(target, moderation)
        except Exception as exc:  # the decision itself is saved: a restart applies it again
            log.warning("store: could not update the state of %s: %s", target, exc)
        return changed

    @staticmethod
    def _state_on_wall(pipeline: Pipeline, stored: Post, replaying: bool) -> Moderation:
        """How a post the pools no longer hold stands on the wall (was it counted as shown?)."""
        if pipeline.aggregates.was_withdrawn(stored.id):
            return Moderation("hidden", ("withdrawn",))
        if replaying:
            return pipeline.moderate(replace(stored, moderation=APPROVED), fold(stored.text))
        return stored.moderation

    def prime(self, pipeline: Pipeline, decisions: Sequence[Decision]) -> None:
        """Apply the author decisions (in order) before stored posts are warmed, so the
        moderation hook hides a blocked author's posts as they are read back."""
        for decision in decisions:
            if decision.action in AUTHOR_ACTIONS:
                self.apply(pipeline, decision, replaying=True)

    def replay(
        self, pipeline: Pipeline, decisions: Sequence[Decision], *, oldest_ts: float = 0.0
    ) -> int:
        """Apply the post decisions (in order) after stored posts were warmed; how many did.
        Authors unblocked while no wall ran get their posts' stored states brought up to date
        (and, warmed as stored, shown again)."""
        applied = 0
        for decision in decisions:
            if decision.action not in AUTHOR_ACTIONS and self.apply(
                pipeline, decision, oldest_ts=oldest_ts, replaying=True
            ):
                applied += 1
        shown_up_to = self._unblocks_shown()
        unblocks = [d for d in decisions if d.action == "unblock" and d.seq > shown_up_to]
        if unblocks:
            still_blocked = set(blocked_handles(decisions))
            handles = {owned_handle(d.target) for d in unblocks} - still_blocked
            if handles:  # warmed by the rules of now: only the stored states are behind
                self.show_again(pipeline, sorted(handles), oldest_ts=oldest_ts, place=False)
            self._remember_unblocks(max(d.seq for d in unblocks))
        return applied

    # -- unblocking --------------------------------------------------------------------------------

    def show_again(
        self,
        pipeline: Pipeline,
        handles: Iterable[str],
        *,
        oldest_ts: float = 0.0,
        place: bool = True,
    ) -> int:
        """Show again the posts of unblocked ``handles`` that only their block hid; how many.

        Each of their stored posts the figures reach (``oldest_ts``, and the aggregates' 56
        hours) gets the state the wall gives it now: an operator's latest decision about it, else
        the moderation rules (which still hide profanity, and an author blocked in the config).
        Posts that become visible are placed and counted again; posts that wait for approval are
        in the store's approval queue (the figures count them as hidden until approved). The store
        records each new state, so the console and a restart see what the wall shows (with
        ``place`` false, only that: the figures were warmed by the rules of now). One pass over
        the stored posts: an unblock is rare.

        Where a post is counted decides how it comes back: as hidden when the author was blocked
        at start, when the block took it off the wall (the aggregates remember the last 512), or
        when it came in during the block; else as stored (an older post the block found off the
        wall's lists already)."""
        keys = {owned_handle(h) for h in handles}
        aggregates = pipeline.aggregates
        since = oldest_ts
        if aggregates.newest_ts:
            since = max(since, aggregates.newest_ts - HORIZON_MINUTES * 60)
        try:
            decided = self._latest_post_decisions()
            theirs = [
                post
                for post in self.store.iter_posts(datetime.fromtimestamp(since, UTC))
                if owned_handle(post.author.handle) in keys
            ]
        except Exception as exc:  # the posts stay as they are; a restart shows them
            log.warning("store: could not read the posts of %s back: %s", sorted(keys), exc)
            return 0
        shown = 0
        withdrawn = Moderation("hidden", ("withdrawn",))
        for stored in theirs:
            state = aggregates.state_of(stored.id)
            if state is None:  # not on the wall: what would the wall make of it now?
                post, state = self._state_now(pipeline, stored, decided.get(stored.id))
                if place:
                    counted = (
                        withdrawn
                        if owned_handle(stored.author.handle) in self._blocked_at_start
                        or aggregates.was_withdrawn(stored.id)
                        else stored.moderation
                    )
                    shown += self._place(pipeline, post, state, counted)
            if state != stored.moderation and self.keeps_states:
                try:
                    self.store.set_moderation(stored.id, state)
                except Exception as exc:
                    log.warning("store: could not update the state of %s: %s", stored.id, exc)
        if shown:
            log.info("unblocked %s: %d post(s) shown again", ", ".join(sorted(keys)), shown)
        return shown

    @staticmethod
    def _place(pipeline: Pipeline, post: Post, state: Moderation, counted: Moderation) -> int:
        """Put a post counted as ``counted`` on the wall in ``state``; 1 when it became shown."""
        aggregates = pipeline.aggregates
        if state.visible:
            placed = aggregates.set_moderation(post.id, state, post.with_moderation(counted))
            return 1 if placed and not counted.visible else 0
        if state.state == "pending" and not counted.visible:
            # waiting in the store's approval queue, counted as hidden until approved (approving
            # a post taken off the wall moves its count from there)
            aggregates.set_moderation(post.id, Moderation("hidden", ("withdrawn",)))
        return 0

    @staticmethod
    def _state_now(
        pipeline: Pipeline, stored: Post, decision: Decision | None
    ) -> tuple[Post, Moderation]:
        """A stored post as the moderation hook gives it now (its pictures may be dropped), and
        its state: the rules', unless an operator decided about it (a block by the rules still
        wins: an author blocked in the config is never shown)."""
        post = replace(stored, moderation=APPROVED)
        rules = pipeline.moderate(post, fold(post.text))
        moderation = decision_moderation(decision) if decision is not None else None
        if moderation is None or rules.reasons == (BLOCKED_AUTHOR,):
            return post, rules
        return post, moderation

    def _latest_post_decisions(self) -> dict[str, Decision]:
        """The latest decision about each post."""
        latest: dict[str, Decision] = {}
        for decision in self.store.decisions():
            if decision.action in POST_STATES:
                latest[decision.target] = decision
        return latest

    def _unblocks_shown(self) -> int:
        try:
            raw = self.store.get_state(UNBLOCKS_STATE_KEY)
            return int(json.loads(raw)) if raw else 0
        except Exception:  # unreadable: look again, it costs a pass over the store
            return 0

    def _remember_unblocks(self, seq: int) -> None:
        if seq <= self._unblocks_shown():
            return
        try:
            self.store.set_state(UNBLOCKS_STATE_KEY, json.dumps(seq))
        except Exception as exc:  # a restart looks at those posts again: harmless
            log.debug("store: could not note the unblocks shown: %s", exc)

    def load(self) -> list[Decision]:
        """Every stored decision, oldest first (and remember the newest as seen)."""
        try:
            decisions = self.store.decisions()
        except Exception as exc:
            log.error("store: could not read moderation decisions back: %s", exc)
            return []
        if decisions:
            self.seq = max(self.seq, decisions[-1].seq)
        return decisions

    def poll(self, pipeline: Pipeline) -> int:
        """Apply decisions saved by other processes since the last look (``agora moderation``,
        the console); how many. One query on the decisions' primary key: cheap to call often."""
        try:
            fresh = self.store.decisions(after_seq=self.seq)
        except Exception as exc:
            log.debug("store: could not look for new decisions: %s", exc)
            return 0
        applied = 0
        for decision in fresh:
            self.seq = max(self.seq, decision.seq)
            if decision.seq in self._own:
                self._own.discard(decision.seq)
                continue
            self.apply(pipeline, decision)
            applied += 1
            log.info(
                "decision from elsewhere: %s %s by %s%s",
                decision.action,
                decision.target,
                decision.actor,
                f" ({decision.origin})" if decision.origin else "",
            )
        return applied


__all__ = [
    "ACTIONS",
    "AUTHOR_ACTIONS",
    "POST_STATES",
    "DecisionDesk",
    "author_of",
    "blocked_handles",
    "decision_moderation",
]

"""``agora moderation CONFIG list|approve|hide|pin|unpin|block|unblock [ID-or-author]``.

Works on the wall's own database (``--data-dir``), so it can run beside a running wall: the
decision is written to the store's ``decisions`` table and the wall picks it up on its next ingest
round (within a second). Qt-free.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agora.cli.common import Command, CommandError, Parents
from agora.core.aggregates import owned_handle
from agora.core.post import Post, format_time
from agora.core.text import elide
from agora.decisions import ACTIONS, AUTHOR_ACTIONS, DecisionDesk, blocked_handles
from agora.store.base import Decision, Store

_DONE = {
    "approve": "approved",
    "hide": "hid",
    "pin": "pinned",
    "unpin": "unpinned",
    "block": "blocked",
    "unblock": "unblocked",
}


def register(sub: Any, parents: Parents) -> dict[str, Command]:
    """Add ``moderation`` to the parser."""
    p = sub.add_parser(
        "moderation",
        parents=[parents.common, parents.data],
        help="the approval queue, decisions and block list of a wall; approve, hide, pin, block",
    )
    p.add_argument("config", type=Path)
    p.add_argument(
        "action",
        choices=("list", "approve", "hide", "pin", "unpin", "block", "unblock"),
        help="list the approval queue, latest decisions and blocked authors, or decide",
    )
    p.add_argument(
        "target",
        nargs="?",
        help="a post id (approve, hide, pin, unpin); an author's handle, or a post id whose "
        "author it is (block, unblock)",
    )
    p.add_argument("--reason", default="", help="why (kept with the decision)")
    p.add_argument("--actor", default=None, help="who decides (default: the user's name)")
    p.add_argument("--limit", type=int, default=20, help="list: at most N of each (default 20)")
    p.add_argument("--json", action="store_true", help="list: one JSON object")
    return {"moderation": moderation}


def default_actor() -> str:
    """The operator's name for a decision made from the command line."""
    try:
        return getpass.getuser() or "cli"
    except Exception:  # no user name in this environment
        return "cli"


def moderation(args: argparse.Namespace) -> int:
    """``agora moderation CONFIG list|approve|hide|pin|unpin|block|unblock [TARGET]``; problems
    the operator can fix are one line (:class:`CommandError`)."""
    from agora.config.loader import load_config
    from agora.store import database_path, open_for_commands, store_exists
    from agora.store.sqlite import SqliteStore, StoreOpenError

    loaded = load_config(args.config)
    config = loaded.config
    if args.action == "list" and not store_exists(config.store, args.data_dir, config.wall.name):
        path = database_path(args.data_dir, config.wall.name)
        raise CommandError(
            f"no database for wall {config.wall.name!r} at {path} (has the wall run with "
            "this --data-dir?)"
        )
    try:
        if config.store.url or args.action == "list":
            store = open_for_commands(config.store, args.data_dir, config.wall.name)
        else:  # a decision before the wall ever ran: the wall reads it at its first start
            store = SqliteStore(database_path(args.data_dir, config.wall.name))
    except StoreOpenError as exc:
        raise CommandError(str(exc)) from None
    try:
        if args.action == "list":
            report = listing(store, loaded.config.moderation.block_authors, args.limit)
            if args.json:
                json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
                sys.stdout.write("\n")
            else:
                sys.stdout.write(format_listing(report))
            return 0
        if not args.target or not args.target.strip():
            raise CommandError(f"{args.action} needs a post id or an author")
        decision = decide(
            store,
            args.action,
            args.target.strip(),
            actor=args.actor or default_actor(),
            reason=args.reason,
        )
        what = "author" if decision.action in AUTHOR_ACTIONS else "post"
        print(
            f"{_DONE[decision.action]} {what} {decision.target} (decision {decision.seq} by "
            f"{decision.actor}); a running wall shows it within a second"
        )
        return 0
    finally:
        store.close()


def decide(store: Store, action: str, target: str, *, actor: str, reason: str = "") -> Decision:
    """Save one decision (the checks an operator expects: the post exists; a block names an
    author or a post whose author it is)."""
    if action not in ACTIONS:
        raise CommandError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    if action not in AUTHOR_ACTIONS and store.get_post(target) is None:
        raise CommandError(
            f"no post {target!r} in the wall's store (`agora moderation CONFIG list` shows the "
            "posts waiting for approval)"
        )
    decision = Decision(action, target, actor, datetime.now(UTC), reason, origin="agora moderation")
    return DecisionDesk(store).record(decision)


def listing(store: Store, config_blocked: list[str], limit: int = 20) -> dict[str, Any]:
    """Posts waiting for approval, the latest decisions and the block list, as JSON-ready data."""
    decisions = store.decisions()
    decided = {d.target for d in decisions if d.action not in AUTHOR_ACTIONS}
    blocked_now = set(blocked_handles(decisions, config_blocked))
    pending = [
        p
        for p in store.posts_in_state("pending", limit * 4)
        if p.id not in decided and owned_handle(p.author.handle) not in blocked_now
    ]
    blocked: list[dict[str, Any]] = []
    last_block: dict[str, Decision] = {}
    for decision in decisions:
        if decision.action == "block":
            last_block[blocked_handles([decision])[0]] = decision
    config_handles = set(blocked_handles([], config_blocked))
    written = {owned_handle(h): h for h in config_blocked}
    for handle in sorted(set(blocked_handles(decisions)) | config_handles):
        by = last_block.get(handle)
        blocked.append(
            {
                "handle": handle,
                "as_written": written.get(handle) or (by.target if by else handle),
                "source": "config" if handle in config_handles else "decision",
                "by": by.actor if by else None,
                "at": format_time(by.at) if by else None,
                "reason": by.reason if by else "",
            }
        )
    return {
        "pending": [_post_row(p) for p in pending[:limit]],
        "pending_total": len(pending),
        "decisions": [_decision_row(d) for d in decisions[-limit:][::-1]],
        "blocked_authors": blocked,
    }


def _post_row(post: Post) -> dict[str, Any]:
    return {
        "id": post.id,
        "created_at": format_time(post.created_at),
        "author": post.author.handle,
        "source": post.feed or post.source,
        "text": post.text,
        "reasons": list(post.moderation.reasons),
    }


def _decision_row(decision: Decision) -> dict[str, Any]:
    return {
        "seq": decision.seq,
        "action": decision.action,
        "target": decision.target,
        "actor": decision.actor,
        "at": format_time(decision.at),
        "reason": decision.reason,
    }


def _line(text: str, width: int) -> str:
    return elide(" ".join(text.split()), width)


def format_listing(report: dict[str, Any]) -> str:
    """The listing as plain text for a terminal."""
    out: list[str] = []
    pending = report["pending"]
    total = report["pending_total"]
    more = f", {len(pending)} shown" if total > len(pending) else ""
    out.append(f"Waiting for approval: {total}{more} (newest first)")
    for row in pending:
        why = f"  [{'; '.join(row['reasons'])}]" if row["reasons"] else ""
        out.append(f"  {row['id']}  {row['created_at']}  {_line(row['author'], 40)}{why}")
        out.append(f"      {_line(row['text'], 110)}")
    out.append("")
    decisions = report["decisions"]
    out.append(f"Latest decisions: {len(decisions)} (newest first)")
    for row in decisions:
        why = f": {_line(row['reason'], 80)}" if row["reason"] else ""
        out.append(
            f"  #{row['seq']}  {row['at']}  {row['action']} {_line(row['target'], 60)} by "
            f"{_line(row['actor'], 40)}{why}"
        )
    out.append("")
    blocked = report["blocked_authors"]
    out.append(f"Blocked authors: {len(blocked)}")
    for row in blocked:
        name = _line(row["as_written"], 60)
        if row["source"] == "config":
            out.append(f"  {name}  (in the config)")
        else:
            why = f": {_line(row['reason'], 80)}" if row["reason"] else ""
            out.append(f"  {name}  (by {row['by']} at {row['at']}{why})")
    return "\n".join(out) + "\n"

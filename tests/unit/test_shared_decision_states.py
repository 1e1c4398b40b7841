"""Who writes a post's stored state when walls share one PostgreSQL store (issue 17).

A decision made at a wall is saved once (the ``decisions`` table) and applied by every wall to
what it shows; the post's stored state (what ``agora moderation list`` and the pending index
read) is written by the collectors, not by each wall: a wall's least-privilege role may not
write posts at all. Real PostgreSQL server (tests/pgserver.py), real least-privilege roles
(``ROLE_GRANTS``), engines in-process."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from agora.config.schema import WallConfig
from agora.store.postgres import ROLE_GRANTS, PostgresStore
from tests.pgserver import Database
from tests.unit.test_shared_walls import Running, line, shown, wait_until


def make_roles(database: Database, password: str) -> dict[str, str]:
    """A collector and a wall role with exactly ``ROLE_GRANTS`` (the tables made first, by the
    owner); their URLs."""
    PostgresStore(database.url, password=database.password).close()  # the owner migrates
    urls: dict[str, str] = {}
    with psycopg.connect(database.admin_conninfo, autocommit=True) as admin:
        for kind, grants in ROLE_GRANTS.items():
            role = f"agora_{kind}_{database.schema}"
            name = sql.Identifier(role)
            admin.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(name, sql.Literal(password))
            )
            admin.execute(
                sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                    sql.Identifier(database.schema), name
                )
            )
            for grant in grants:
                admin.execute(sql.SQL(grant).format(role=name))
            urls[kind] = database.url.replace("postgres@", f"{role}@")
    return urls


def config(url: str, tmp_path: Path, name: str) -> WallConfig:
    return WallConfig.model_validate(
        {
            "wall": {"name": name},
            "topics": {"lumen": {"label": "Lumen", "terms": ["lumen"]}},
            "sources": [
                {"name": "archive", "kind": "jsonl", "path": str(tmp_path / "posts.jsonl")}
            ],
            # the company approves every post first: the collector stores them as pending
            "moderation": {"approval": "manual"},
            "store": {"url": url, "password": "env:AGORA_ROLE_PASSWORD"},
        }
    )


@pytest.fixture
def running(tmp_path: Path) -> Any:
    engines = Running(tmp_path)
    yield engines
    engines.stop_all()


def test_walls_with_least_privilege_decide_and_the_collector_writes_the_state(
    pg_database: Database,
    tmp_path: Path,
    running: Running,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    password = "role-password-" + pg_database.schema
    monkeypatch.setenv("AGORA_ROLE_PASSWORD", password)
    urls = make_roles(pg_database, password)
    (tmp_path / "posts.jsonl").write_text(line(1) + "\n" + line(2) + "\n", encoding="utf-8")
    caplog.set_level(logging.INFO, logger="agora")
    running.start(config(urls["collector"], tmp_path, "Company"), "collector", "collector one")
    owner = PostgresStore(pg_database.url, password=pg_database.password)
    try:
        wait_until(lambda: len(owner.posts_in_state("pending", 10)) == 2, "the pending posts")
        walls = [
            running.start(config(urls["wall"], tmp_path, f"Office {n}"), "wall") for n in range(2)
        ]
        for wall in walls:
            assert shown(wall) == set()  # nothing is shown before an operator approves it
        walls[0].decide("approve", "jsonl:1", "kim", "fine")
        for wall in walls:
            wait_until(lambda w=wall: shown(w) == {"jsonl:1"}, "the approval on every wall")
        # the collector follows the decision and records the post's new state, once for all
        wait_until(
            lambda: (
                (post := owner.get_post("jsonl:1")) is not None
                and post.moderation.state == "approved"
            ),
            "the collector to write the approved state",
        )
        assert [p.id for p in owner.posts_in_state("pending", 10)] == ["jsonl:2"]
        decision = owner.decisions()[-1]
        assert (decision.action, decision.origin, decision.actor) == ("approve", "Office 0", "kim")
    finally:
        owner.close()
    # the walls never tried to write the post (their role may not): no refusals in the log
    refused = [r.getMessage() for r in caplog.records if "permission denied" in r.getMessage()]
    assert refused == []

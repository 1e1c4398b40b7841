"""docs/SEVERAL-WALLS.md says what the code does: its SQL grants are ``ROLE_GRANTS``, its config
block is a valid ``[store]``, and its commands are ones ``agora`` accepts."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from agora.cli import build_parser
from agora.config.schema import WallConfig
from agora.store.postgres import ROLE_GRANTS


@pytest.fixture
def page(repo_root: Path) -> str:
    return (repo_root / "docs" / "SEVERAL-WALLS.md").read_text(encoding="utf-8")


def blocks(page: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", page, flags=re.DOTALL)


def test_the_grants_on_the_page_are_the_codes(page: str) -> None:
    (sql,) = blocks(page, "sql")
    written = [line for line in sql.splitlines() if line.startswith("GRANT ")]
    expected = [
        grant.format(role=f"agora_{kind}") + ";"
        for kind, grants in ROLE_GRANTS.items()
        for grant in grants
    ]
    assert written == expected


def test_the_store_block_is_a_valid_config(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_DB_PASSWORD", "a-long-enough-password")
    (toml,) = blocks(page, "toml")
    store = tomllib.loads(toml)["store"]
    config = WallConfig.model_validate(
        {"wall": {"name": "Espoo"}, "topics": {"l": {"label": "L", "terms": ["l"]}}, "store": store}
    )
    assert config.store.url is not None and config.store.wall_role() == "wall"
    # the roles the comment names are the ones the config takes
    for role in ("auto", "wall", "standalone"):
        WallConfig.model_validate(
            {
                "wall": {"name": "Espoo"},
                "topics": {"l": {"label": "L", "terms": ["l"]}},
                "store": {**store, "role": role},
            }
        )


def test_the_commands_on_the_page_are_accepted(page: str) -> None:
    parser = build_parser()
    commands = [
        line.split("agora ", 1)[1]
        for block in blocks(page, "sh")
        for line in block.splitlines()
        if "agora " in line and not line.lstrip().startswith("#") and "[" not in line
    ]
    # the benchmark's table: each row's options after the command the header gives
    base = "bench fanout --rate 100 --seconds 60 --json"
    rows = re.findall(r"^\| `(--walls [^`]*)` \|", page, flags=re.MULTILINE)
    assert len(commands) >= 5 and len(rows) >= 5
    for command in [*commands, *(f"{base} {row}" for row in rows)]:
        parser.parse_args(shlex.split(command.replace("…", "x")))

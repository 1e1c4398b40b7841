"""The ``agora`` command as a subprocess: the contracts other work and acceptance checks rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from agora import __version__


def agora(
    *args: str | Path,
    stdin: str | bytes | None = None,
    cwd: Path | None = None,
    timeout: float = 300,  # a safety net: analysing the demo's day takes ~12 s of CPU
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
    data = stdin.encode() if isinstance(stdin, str) else stdin
    result = subprocess.run(
        [sys.executable, "-m", "agora", *map(str, args)],
        input=data,
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
        check=False,
    )
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"),
    )


def write_posts(path: Path, lines: Sequence[str | dict[str, object]]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line if isinstance(line, str) else json.dumps(line))
            handle.write("\n")
    return path


def archive_config(tmp_path: Path, posts_file: str = "posts.jsonl", extra: str = "") -> Path:
    config = tmp_path / "wall.toml"
    config.write_text(
        f"""
[wall]
name = "Test wall"

[topics.brand]
label = "Lumen"
terms = ["lumen", "#lumen", "@lumen"]

[topics.rival]
label = "Corvid"
terms = ["corvid"]

[[sources]]
name = "archive"
kind = "jsonl"
path = "{posts_file}"

[analytics]
owned_accounts = ["jsonl:@lumencare"]
{extra}
[[screens]]
output = 0
[[screens.pages]]
seconds = 30
grid = "2x1"
panels = [{{ kind = "featured", at = "0,0" }}, {{ kind = "sentiment", at = "1,0" }}]
""",
        encoding="utf-8",
    )
    return config


def post(n: int, text: str, minute: int = 0, **extra: object) -> dict[str, object]:
    record: dict[str, object] = {
        "id": f"jsonl:{n}",
        "source": "jsonl",
        "text": text,
        "created_at": f"2026-11-20T10:{minute:02d}:00Z",
        "author": {"handle": f"@user{n}", "name": f"User {n}"},
        "lang": "en",
    }
    record.update(extra)
    return record


def test_version() -> None:
    result = agora("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"agora {__version__}"


def test_check_demo_config_ok() -> None:
    demo = Path(__file__).resolve().parents[2] / "agora" / "assets" / "demo.toml"
    result = agora("check", demo)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1


def test_check_reports_every_error_with_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[wall]\nname = "x"\nthem = "dark"\n\n[[sources]]\nname = "a"\nkind = "jsonl"\n'
        'path = "p"\nspeed = -1\n',
        encoding="utf-8",
    )
    result = agora("check", config)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert any(
        line.startswith(f"{config}:3: wall.them:") and 'did you mean "theme"' in line
        for line in lines
    ), lines
    assert any(line.startswith(f"{config}:9: sources[0].speed:") for line in lines), lines
    assert "Traceback" not in result.stderr


def test_missing_config_is_one_clear_line(tmp_path: Path) -> None:
    result = agora("check", tmp_path / "nope.toml")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "nope.toml" in result.stderr


def test_analyse_gives_the_numbers_the_archive_implies(tmp_path: Path) -> None:
    write_posts(
        tmp_path / "posts.jsonl",
        [
            post(1, "I love my Lumen, it is wonderful", 0),
            post(2, "Corvid is terrible and slow", 1),
            post(3, "Lumen or Corvid, both fine", 2),
            post(4, "Rakastan Lumen puhelinta", 3, lang="fi"),
            post(5, "I love my Lumen, it is wonderful", 4, is_repost=True, repost_of="jsonl:1"),
            "{not json",
            post(6, "dated in the dark ages", 5, created_at="1970-01-01T00:00:00Z"),
            {"id": "jsonl:7"},
        ],
    )
    result = agora("analyse", archive_config(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    snap = json.loads(result.stdout)
    assert snap["posts"]["total"] == 5
    assert snap["posts"]["reposts"] == 1
    assert snap["posts"]["by_topic"] == {"brand": 4, "rival": 2}
    assert snap["share_of_voice"] == {"brand": pytest.approx(4 / 6), "rival": pytest.approx(2 / 6)}
    assert snap["sentiment"]["unscored"] == 1
    # 1 and its repost 5; "both fine" (3) is too mild for the social scorer's tuned threshold
    assert snap["sentiment"]["positive"] == 2
    assert snap["sentiment"]["neutral"] == 1
    assert snap["sentiment"]["negative"] == 1
    assert snap["now"] == "2026-11-20T10:04:00Z"
    featured = [f["id"] for f in snap["featured"]]
    assert featured
    assert "jsonl:5" not in featured  # a repost is never featured beside its original
    assert all(f["why"] for f in snap["featured"])
    for key in (
        "posts",
        "sentiment",
        "share_of_voice",
        "volume",
        "trending",
        "authors",
        "featured",
        "engagement",
        "care",
        "alerts",
        "sources",
    ):
        assert key in snap
    assert snap["volume"]["step_s"] == 60
    assert "Traceback" not in result.stderr


def test_analyse_window_and_now(tmp_path: Path) -> None:
    write_posts(tmp_path / "posts.jsonl", [post(i, f"Lumen post {i}", i) for i in range(30)])
    config = archive_config(tmp_path)
    result = agora("analyse", config, "--json", "--window", "10m", "--now", "2026-11-20T10:29:30Z")
    snap = json.loads(result.stdout)
    assert snap["window"] == "10m"
    assert snap["posts"]["total"] == 10
    assert len(snap["volume"]["total"]) == 10


def test_fetch_prints_enriched_json_lines(tmp_path: Path) -> None:
    write_posts(tmp_path / "posts.jsonl", [post(1, "Lumen is great"), "garbage", post(2, "meh")])
    result = agora("fetch", archive_config(tmp_path), "--limit", "5")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [p["id"] for p in lines] == ["jsonl:1", "jsonl:2"]
    assert lines[0]["topics"] == ["brand"]
    assert lines[0]["sentiment"]["label"] == "positive"
    assert "archive" in result.stderr


def test_fetch_unknown_source_is_an_error(tmp_path: Path) -> None:
    write_posts(tmp_path / "posts.jsonl", [post(1, "x")])
    result = agora("fetch", archive_config(tmp_path), "--source", "nope")
    assert result.returncode == 1
    assert "no source named 'nope'" in result.stderr


def test_sentiment_lines_in_order() -> None:
    result = agora(
        "sentiment",
        stdin="I love it\nThis is awful\n\nこれは素晴らしい\nbad \xff bytes\n".encode()
        + b"\xff\xfe broken\n",
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 6
    assert rows[0]["label"] == "positive" and rows[0]["score"] > 0
    assert rows[1]["label"] == "negative"
    assert rows[2] == {"score": 0.0, "label": "neutral"}
    assert rows[3] == {"score": None, "label": None}


def test_bench_ingest_json_keys(tmp_path: Path) -> None:
    command = ("bench", "ingest", "--posts", "600", "--history", "30m", "--scorer", "rules")
    result = agora(*command, "--json", timeout=300)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("pipeline_posts_per_s", "vader_posts_per_s", "ratio", "peak_rss_mb"):
        assert figures[key] > 0
    assert figures["batch"] == 20  # batches as live sources deliver them, unless asked
    assert figures["scorer"] == "rules"
    assert figures["english_texts"] == 600
    assert figures["skipped"] > 0
    assert figures["stored_before"] > 0


def test_snapshot_renders_a_png(tmp_path: Path) -> None:
    write_posts(
        tmp_path / "posts.jsonl", [post(i, f"Lumen is lovely number {i}", i) for i in range(20)]
    )
    out = tmp_path / "wall.png"
    result = agora(
        "snapshot", archive_config(tmp_path), "--screen", "0", "--size", "960x540", "--out", out
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_snapshot_bad_screen_is_one_line(tmp_path: Path) -> None:
    write_posts(tmp_path / "posts.jsonl", [post(1, "x")])
    result = agora(
        "snapshot", archive_config(tmp_path), "--screen", "5", "--out", tmp_path / "x.png"
    )
    assert result.returncode == 1
    assert "screen 5 is not configured" in result.stderr
    assert "Traceback" not in result.stderr


def test_analyse_engagement_rates_and_care_queue_are_exact(tmp_path: Path) -> None:
    care = {"handle": "@lumencare", "name": "Lumen Care"}
    write_posts(
        tmp_path / "posts.jsonl",
        [
            post(
                1,
                "@lumencare my Lumen won't charge, how do I fix it?",
                0,
                metrics={"likes": 2, "replies": 1},
            ),
            post(2, "Lumen screen broken again, help?", 1, metrics={"likes": 4, "reposts": 2}),
            post(3, "How do I change the Lumen wallpaper?", 2),
            post(4, "Sorry to hear that, we sent you a DM", 6, author=care, reply_to="jsonl:1"),
            post(
                5,
                "The Lumen update is out today",
                7,
                author=care,
                metrics={"likes": 10, "reposts": 4, "replies": 2},
            ),
            post(6, "Lumen and Corvid side by side", 8, source="mastodon", id="mastodon:x:6"),
        ],
    )
    # the care rule's arithmetic is the subject here: the rule scorer, whose labels of these
    # plain questions are known (the learnt model may call a how-to question negative)
    config = archive_config(tmp_path, extra='sentiment = "rules"\n')
    result = agora("analyse", config, "--json")
    assert result.returncode == 0, result.stderr
    snap = json.loads(result.stdout)
    engagement = snap["engagement"]
    # mentions: posts 1, 2, 3, 6 → 1 reply, 2 reposts, 6 likes
    assert engagement["conversation"] == pytest.approx(1 / 4, abs=1e-3)
    assert engagement["amplification"] == pytest.approx(2 / 4, abs=1e-3)
    assert engagement["applause"] == pytest.approx(6 / 4, abs=1e-3)
    # owned: posts 4 and 5 → 2 replies, 4 reposts, 10 likes
    assert engagement["owned"]["conversation"] == pytest.approx(1.0)
    assert engagement["owned"]["amplification"] == pytest.approx(2.0)
    assert engagement["owned"]["applause"] == pytest.approx(5.0)
    queue = snap["care"]
    assert queue["open"] == ["jsonl:2"]
    assert queue["answered"] == 1 and queue["total"] == 2
    assert queue["response_rate"] == pytest.approx(0.5)
    assert queue["median_first_reply_s"] == pytest.approx(360.0)
    # post 6 names both topics: counted for each, and said so
    assert snap["share_multi_topic"] == 1
    assert snap["share_counts"] == {"brand": 5, "rival": 1}  # the reply (4) names no topic
    assert snap["share_by_source"]["mastodon"] == {"brand": 0.5, "rival": 0.5}


def test_quiet_before_or_after_the_command() -> None:
    demo = Path(__file__).resolve().parents[2] / "agora" / "assets" / "demo.toml"
    loud = agora("analyse", demo, "--json", "--window", "1h")
    assert " INFO " in loud.stderr  # the demo's launch spike is logged as an alert
    for args in (("-q", "analyse", demo), ("analyse", demo, "-q")):
        result = agora(*args, "--json", "--window", "1h")
        assert result.returncode == 0, result.stderr
        assert " INFO " not in result.stderr

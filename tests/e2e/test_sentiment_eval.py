"""``agora sentiment --eval`` as a subprocess, on small labelled sets written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import agora

LABELLED = [
    ("positive", "I love this phone, it is wonderful"),
    ("2", "best camera I have ever had 😍"),
    ("negative", "This phone is terrible and I hate it"),
    ("0", "my screen stopped working :("),
    ("neutral", "The phone ships on Tuesday"),
    ("1", "Which colour should I get?"),
    ("neutral", "この電話は火曜日に出荷されます"),
    ("positive", "the killer feature is the battery"),
]


def labelled_file(tmp_path: Path, rows: list[tuple[str, str]] = LABELLED) -> Path:
    path = tmp_path / "labelled.tsv"
    path.write_text("".join(f"{label}\t{text}\n" for label, text in rows), encoding="utf-8")
    return path


def test_eval_prints_the_matrix_and_the_figures(tmp_path: Path) -> None:
    result = agora("sentiment", "--eval", labelled_file(tmp_path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "scorer: social   examples: 8   unscored: 1" in out
    assert "dataset: labelled.tsv" in out
    for name in ("gold \\ predicted", "accuracy", "macro recall", "macro F1", "posts/s"):
        assert name in out
    assert "(batches of 20)" in out


def test_eval_json_names_the_dataset_and_scores_in_batches(tmp_path: Path) -> None:
    data = labelled_file(tmp_path)
    result = agora("sentiment", "--eval", data, "--json", "--batch", "500", "--repeat", "2")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["scorer"] == "social"
    assert figures["dataset"] == {"name": "labelled.tsv", "examples": 8}
    assert figures["batch"] == 500
    assert figures["posts_per_s"] > 0
    assert figures["unscored"] == 1  # the Japanese line: no English scorer can score it
    assert (
        set(figures["precision"])
        == set(figures["recall"])
        == {
            "negative",
            "neutral",
            "positive",
        }
    )
    piped = agora("sentiment", "--eval", "-", "--json", stdin=data.read_text(encoding="utf-8"))
    assert json.loads(piped.stdout)["dataset"] == {"name": "<stdin>", "examples": 8}


def test_eval_json_counts(tmp_path: Path) -> None:
    result = agora("sentiment", "--eval", labelled_file(tmp_path), "--json", "--scorer", "rules")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["scorer"] == "rules"
    assert figures["examples"] == 8
    assert figures["unscored"] == 1
    matrix = figures["confusion"]
    assert matrix["neutral"]["unscored"] == 1
    assert sum(sum(row.values()) for row in matrix.values()) == 8
    # the built-in lexicon reads "killer" as negative; everything else is right
    assert matrix["positive"] == {"negative": 1, "neutral": 0, "positive": 2, "unscored": 0}
    assert matrix["negative"]["negative"] == 2
    assert matrix["neutral"]["neutral"] == 2
    assert figures["accuracy"] == pytest.approx(6 / 8)
    assert figures["macro_recall"] == pytest.approx(round((2 / 3 + 1 + 2 / 3) / 3, 4))
    assert 0 < figures["macro_f1"] <= 1
    assert figures["posts_per_s"] > 0


def test_eval_with_a_config_lexicon_and_the_baseline(tmp_path: Path) -> None:
    config = tmp_path / "wall.toml"
    config.write_text(
        """
[wall]
name = "Lumen"
[topics.brand]
terms = ["lumen"]
[[sources]]
name = "demo"
kind = "simulator"
[analytics]
lexicon = { "killer feature" = 2.5 }
[[screens]]
output = 0
[[screens.pages]]
panels = [{ kind = "sentiment", at = "0,0" }]
""",
        encoding="utf-8",
    )
    data = labelled_file(tmp_path)
    branded = json.loads(agora("sentiment", "--eval", data, "--config", config, "--json").stdout)
    assert branded["confusion"]["positive"]["positive"] == 3
    baseline = agora("sentiment", "--eval", data, "--scorer", "vader", "--json")
    assert baseline.returncode == 0, baseline.stderr
    assert json.loads(baseline.stdout)["scorer"] == "vader"


def test_eval_halves_and_stdin(tmp_path: Path) -> None:
    data = labelled_file(tmp_path)
    first = json.loads(agora("sentiment", "--eval", data, "--half", "a", "--json").stdout)
    second = json.loads(agora("sentiment", "--eval", data, "--half", "b", "--json").stdout)
    assert first["examples"] == second["examples"] == 4
    assert first["half"] == "a"
    piped = agora("sentiment", "--eval", "-", "--json", stdin=data.read_text(encoding="utf-8"))
    assert json.loads(piped.stdout)["examples"] == 8


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("positive\tgood\nthree\tbad\n", "labelled.tsv:2: unknown label 'three'"),
        ("positive good\n", "labelled.tsv:1: expected label<TAB>text"),
        ("\n\n", "no labelled lines"),
    ],
)
def test_eval_errors_are_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "labelled.tsv"
    path.write_text(content, encoding="utf-8")
    result = agora("sentiment", "--eval", path)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_eval_missing_file(tmp_path: Path) -> None:
    result = agora("sentiment", "--eval", tmp_path / "nope.tsv")
    assert result.returncode == 1
    assert "cannot read" in result.stderr


def test_scoring_lines_with_the_baseline_scorer() -> None:
    result = agora("sentiment", "--scorer", "vader", stdin="Lumen or Corvid, both fine\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"score": 0.2023, "label": "positive"}
    social = agora("sentiment", stdin="Lumen or Corvid, both fine\n")
    assert json.loads(social.stdout)["label"] == "neutral"


def test_scoring_many_lines_keeps_their_order() -> None:
    lines = ["I love this phone", "This is the worst service ever", "Rakastan tätä puhelinta"] * 15
    result = agora("sentiment", stdin="".join(f"{line}\n" for line in lines))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 45
    alone = [json.loads(agora("sentiment", stdin=f"{line}\n").stdout) for line in lines[:3]]
    assert records == alone * 15
    assert [r["label"] for r in alone] == ["positive", "negative", None]

"""The simulator's data files: every mistake a newcomer can make in them is named (file and key),
and a built package carries them."""

from __future__ import annotations

import glob
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomlkit

from agora.sources.simulator_text import SimulatorTextError, load, read

ASSETS = Path(__file__).resolve().parents[2] / "agora" / "assets" / "simulator"

Edit = Callable[[Any], None]


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the shipped files to break."""
    root = tmp_path / "simulator"
    shutil.copytree(ASSETS, root)
    return root


def edit(root: Path, name: str, change: Edit) -> Path:
    path = root / name
    document = tomlkit.parse(path.read_text("utf-8"))
    change(document)
    path.write_text(tomlkit.dumps(document), "utf-8")
    return path


def test_the_copy_reads_like_the_package(copy: Path) -> None:
    assert read(copy) == load()


def delete(*keys: str) -> Edit:
    def change(document: Any) -> None:
        for key in keys[:-1]:
            document = document[key]
        del document[keys[-1]]

    return change


def put(value: Any, *keys: str, index: int | None = None) -> Edit:
    """Set ``keys`` to ``value``, or with ``index`` replace that item of the list at ``keys``."""

    def change(document: Any) -> None:
        for key in keys[:-1]:
            document = document[key]
        if index is None:
            document[keys[-1]] = value
        else:
            document[keys[-1]][index] = value

    return change


CASES: list[tuple[str, Edit, str]] = [
    ("phrases/de.toml", delete("questions"), "questions: missing"),
    ("phrases/de.toml", put(["x"], "questons"), "questons: unknown field"),
    ("phrases/de.toml", put([], "alts"), "alts: expected a non-empty list"),
    ("phrases/de.toml", put([1, 2], "alts"), "alts[0]: expected text"),
    ("phrases/fi.toml", put("{refx} rokkaa", "predicates", "pos", index=0), "{refx}"),
    # {user} is filled in replies only: in an opinion it would reach the wall as "{user}"
    ("phrases/fi.toml", put("{user} on hyvä", "predicates", "pos", index=1), "{user}"),
    ("phrases/fr.toml", put("{ref est", "subjects", index=0), "subjects[0]"),
    ("phrases/fr.toml", put("il y a {n:>3} jours", "details", "neu", index=0), "{n}"),
    ("phrases/es.toml", put("", "subjects", index=2), "subjects[2]: an empty phrase"),
    ("phrases/es.toml", put("el teléfono", "subjects", index=0), "names no topic"),
    ("phrases/pt-BR.toml", put("{other} é melhor", "comparisons", "neg", index=0), "{ref}"),
    ("phrases/pt-BR.toml", delete("endings", "neg"), "endings.neg: missing"),
    ("phrases/pt-BR.toml", put(["ok"], "endings", "meh"), "endings.meh: unknown field"),
    ("phrases/ja.toml", put("新しい{ref} {model} は", "subjects", index=0), "space on each side"),
    ("phrases/en.toml", delete("headlines"), "headlines: missing"),
    ("phrases/en.toml", put(True, "sep"), "sep: expected text"),
    ("words.toml", put(["drains {task} overnight"], "slots", "symptom"), "{task}"),
    ("words.toml", delete("emoji", "neu"), "emoji.neu: missing"),
    ("authors.toml", put("sv", "cultures", "finnish", "lang"), "no phrases/sv.toml"),
    ("authors.toml", delete("japanese_script", "Mio"), "no Japanese script for 'Mio'"),
    ("authors.toml", put([{"name": "Gadget Ledger"}], "sites"), "sites[0].host: missing"),
]


@pytest.mark.parametrize(
    ("name", "change", "problem"), CASES, ids=[f"{name} {problem}" for name, _, problem in CASES]
)
def test_a_mistake_names_the_file_and_the_key(
    copy: Path, name: str, change: Edit, problem: str
) -> None:
    path = edit(copy, name, change)
    with pytest.raises(SimulatorTextError) as caught:
        read(copy)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert problem in message


def test_a_syntax_error_names_the_file_and_the_line(copy: Path) -> None:
    path = copy / "phrases" / "de.toml"
    lines = path.read_text("utf-8").splitlines()
    lines[9] += ' "unclosed'
    path.write_text("\n".join(lines), "utf-8")
    with pytest.raises(SimulatorTextError, match=r"de\.toml: .*line 10"):
        read(copy)


def test_only_english_needs_headlines_and_announcements(copy: Path) -> None:
    assert not load().banks["fi"].headlines
    edit(copy, "phrases/en.toml", put(["{ref} outsells {other}"], "headlines"))
    assert read(copy).banks["en"].headlines == ("{ref} outsells {other}",)


def test_a_new_language_is_one_file(copy: Path) -> None:
    """A bank for Swedish and a culture writing it is all the simulator needs."""
    shutil.copy(copy / "phrases" / "fi.toml", copy / "phrases" / "sv.toml")
    edit(copy, "authors.toml", put("sv", "cultures", "finnish", "lang"))
    texts = read(copy)
    assert texts.banks["sv"].lang == "sv"
    assert texts.authors.cultures["finnish"].lang == "sv"


def test_the_package_data_carries_every_asset(repo_root: Path) -> None:
    """The globs of ``[tool.setuptools.package-data]`` (read the way setuptools reads them)
    cover every file under ``agora/assets``, so an installed wheel finds the simulator's words."""
    pyproject = tomllib.loads((repo_root / "pyproject.toml").read_text("utf-8"))
    package = repo_root / "agora"
    patterns = pyproject["tool"]["setuptools"]["package-data"]["agora"]
    shipped = {
        Path(found)
        for pattern in patterns
        for found in glob.glob(pattern, root_dir=package)
        if (package / found).is_file()
    }
    assets = {
        path.relative_to(package)
        for path in (package / "assets").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert any(path.parts[:2] == ("assets", "simulator") for path in assets)
    assert assets - shipped == set()

"""Editing a config file in place: every change touches only its own lines; saving is atomic."""

from __future__ import annotations

import difflib
import os
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.config.edit import ConfigDocument, EditError, backup_path, save_text
from agora.config.loader import check_config

DEMO = Path(__file__).resolve().parents[2] / "agora" / "assets" / "demo.toml"

COMMENTED = """\
# Espoo lobby wall — edited by hand and by the console
extends = "company.toml"   # shared topics

[wall]
name = "Espoo lobby"   # shown in the header
theme = 'dark'
night = "22:00-06:00"

[topics.brand]
label = "Nokia"
terms = [
  "nokia",   # the word
  "#nokia",
]

[[sources]]
name = "archive"
kind = "jsonl"
path = "posts.jsonl"

# ---- the lobby screen ----

[[screens]]
output = 0
[[screens.pages]]
seconds = 45
grid = "3x2"
panels = [
  { kind = "featured", at = "0,0", span = "2,2" },   # the big one
  { kind = "sentiment", at = "2,0" },
  { kind = "volume", at = "2,1" },
]
"""


def changed_lines(before: str, after: str) -> list[str]:
    """The lines removed (-) and added (+)."""
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_an_untouched_document_is_the_file_byte_for_byte() -> None:
    for text in (COMMENTED, DEMO.read_text(encoding="utf-8")):
        assert ConfigDocument(text).text == text


def test_changing_a_value_changes_only_its_line_and_keeps_its_comment() -> None:
    doc = ConfigDocument(COMMENTED)
    assert doc.set(("wall", "name"), "Espoo reception")
    assert changed_lines(COMMENTED, doc.text) == [
        '-name = "Espoo lobby"   # shown in the header',
        '+name = "Espoo reception"   # shown in the header',
    ]


def test_setting_the_same_value_touches_nothing() -> None:
    doc = ConfigDocument(COMMENTED)
    assert not doc.set(("wall", "theme"), "dark")  # written 'dark' (literal): left as it is
    assert not doc.set(("screens", 0, "pages", 0, "seconds"), 45)
    assert doc.text == COMMENTED


def test_a_new_key_goes_after_the_last_key_of_its_table_not_after_the_next_comment() -> None:
    doc = ConfigDocument(COMMENTED)
    doc.set(("sources", 0, "replay"), True)
    lines = doc.text.splitlines()
    assert lines[lines.index('path = "posts.jsonl"') + 1] == "replay = true"
    assert changed_lines(COMMENTED, doc.text) == ["+replay = true"]


def test_a_new_section_goes_where_the_schema_order_puts_it() -> None:
    doc = ConfigDocument(COMMENTED)
    doc.set(("moderation", "approval"), "manual")
    text = doc.text
    assert text.index("[moderation]") > text.index('path = "posts.jsonl"')
    assert text.index("[moderation]") < text.index("# ---- the lobby screen ----")
    assert tomllib.loads(text)["moderation"] == {"approval": "manual"}
    assert all(line.startswith("+") for line in changed_lines(COMMENTED, text))


def test_a_panel_is_rewritten_in_the_file_style_and_keeps_its_comment() -> None:
    doc = ConfigDocument(COMMENTED)
    panel = ("screens", 0, "pages", 0, "panels", 0)
    doc.set((*panel, "span"), "2,1")
    doc.set((*panel, "title"), "Now")
    assert changed_lines(COMMENTED, doc.text) == [
        '-  { kind = "featured", at = "0,0", span = "2,2" },   # the big one',
        '+  { kind = "featured", at = "0,0", span = "2,1", title = "Now" },   # the big one',
    ]
    doc.remove((*panel, "title"))
    assert '{ kind = "featured", at = "0,0", span = "2,1" },   # the big one' in doc.text


def test_appending_panels_sources_and_pages() -> None:
    doc = ConfigDocument(COMMENTED)
    index = doc.append(("screens", 0, "pages", 0, "panels"), {"kind": "kpis", "at": "2,1"})
    assert index == 3
    assert '  { kind = "kpis", at = "2,1" },\n]' in doc.text
    doc.append(("sources",), {"name": "sim", "kind": "simulator"})
    text = doc.text
    # the comment that introduced the screens still does
    assert text.index('name = "sim"') < text.index("# ---- the lobby screen ----")
    doc.append(("screens", 0, "pages"), {"grid": "1x1", "panels": [{"kind": "river"}]})
    data = tomllib.loads(doc.text)
    assert data["sources"][1] == {"name": "sim", "kind": "simulator"}
    assert data["screens"][0]["pages"][1]["panels"] == [{"kind": "river"}]


def test_removing_and_moving_elements() -> None:
    doc = ConfigDocument(COMMENTED)
    panels = ("screens", 0, "pages", 0, "panels")
    doc.move(panels, 2, 0)
    assert [p["kind"] for p in doc.get(panels)] == ["volume", "featured", "sentiment"]
    doc.remove((*panels, 1))
    assert [p["kind"] for p in doc.get(panels)] == ["volume", "sentiment"]
    assert tomllib.loads(doc.text)["screens"][0]["pages"][0]["panels"][0]["kind"] == "volume"


def test_renaming_a_topic_keeps_its_place_and_its_comments() -> None:
    doc = ConfigDocument(COMMENTED)
    doc.rename(("topics", "brand"), "nokia")
    assert changed_lines(COMMENTED, doc.text) == ["-[topics.brand]", "+[topics.nokia]"]
    doc.set(("topics", "rival", "terms"), ["rival"])
    with pytest.raises(EditError, match="exists already"):
        doc.rename(("topics", "nokia"), "rival")
    assert tomllib.loads(doc.text)["topics"] == {
        "nokia": {"label": "Nokia", "terms": ["nokia", "#nokia"]},
        "rival": {"terms": ["rival"]},
    }


def test_a_list_keeps_its_multi_line_layout() -> None:
    doc = ConfigDocument(COMMENTED)
    doc.set(("topics", "brand", "terms"), ["nokia", "#nokia", "@nokia"])
    assert "terms = [\n" in doc.text
    assert tomllib.loads(doc.text)["topics"]["brand"]["terms"] == ["nokia", "#nokia", "@nokia"]


def test_an_empty_file_grows_into_a_valid_config(tmp_path: Path) -> None:
    doc = ConfigDocument("")
    doc.set(("wall", "name"), "New wall")
    doc.set(("topics", "brand", "terms"), ["lumen"])
    doc.append(("sources",), {"name": "sim", "kind": "simulator"})
    doc.append(
        ("screens",),
        {"output": 0, "pages": [{"grid": "1x1", "panels": [{"kind": "featured"}]}]},
    )
    path = tmp_path / "wall.toml"
    path.write_text(doc.text, encoding="utf-8")
    loaded, issues = check_config(path)
    assert loaded is not None and not issues, [i.format() for i in issues]
    assert doc.text.index("[wall]") < doc.text.index("[topics.brand]") < doc.text.index("[[sources")


def test_not_toml_is_an_edit_error() -> None:
    with pytest.raises(EditError):
        ConfigDocument("[wall\nname = 1")


def test_save_is_atomic_and_keeps_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "wall.toml"
    path.write_text(COMMENTED, encoding="utf-8")
    os.chmod(path, 0o640)
    doc = ConfigDocument.read(path)
    doc.set(("wall", "name"), "B")
    written = save_text(path, doc.text)
    assert written == path.resolve()
    assert path.read_text(encoding="utf-8") == doc.text
    assert backup_path(path).read_text(encoding="utf-8") == COMMENTED
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wall.toml", "wall.toml.bak"]


def test_save_through_a_symlink_writes_the_target(tmp_path: Path) -> None:
    target = tmp_path / "real.toml"
    target.write_text("[wall]\n", encoding="utf-8")
    link = tmp_path / "wall.toml"
    link.symlink_to(target)
    save_text(link, '[wall]\nname = "x"\n')
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == '[wall]\nname = "x"\n'


def test_a_failed_write_leaves_the_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "wall.toml"
    path.write_text(COMMENTED, encoding="utf-8")

    def broken(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        save_text(path, "x = 1\n")
    assert path.read_text(encoding="utf-8") == COMMENTED
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(name=names, seconds=st.integers(min_value=1, max_value=10_000), span=st.integers(1, 3))
def test_any_change_round_trips_and_touches_only_its_lines(
    name: str, seconds: int, span: int
) -> None:
    doc = ConfigDocument(COMMENTED)
    doc.set(("wall", "name"), name)
    doc.set(("screens", 0, "pages", 0, "seconds"), seconds)
    doc.set(("screens", 0, "pages", 0, "panels", 1, "span"), f"1,{span}")
    data = tomllib.loads(doc.text)
    assert data["wall"]["name"] == name
    assert data["screens"][0]["pages"][0]["seconds"] == seconds
    assert ConfigDocument(doc.text).get(("wall", "name")) == name
    assert len(changed_lines(COMMENTED, doc.text)) <= 6
    # and back again: the file is exactly what it was
    doc.set(("wall", "name"), "Espoo lobby")
    doc.set(("screens", 0, "pages", 0, "seconds"), 45)
    doc.set(("screens", 0, "pages", 0, "panels", 1), {"kind": "sentiment", "at": "2,0"})
    assert doc.text == COMMENTED

"""Where comments and blank lines go when the console adds, removes, moves and renames tables:
no comment of the file is lost, and every header starts a line of its own."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path

import pytest

from agora.config.edit import ConfigDocument, EditError

DEMO = Path(__file__).resolve().parents[2] / "agora" / "assets" / "demo.toml"

SCREENS = """\
[wall]
name = "Lobby"

# ---- screens ----
# the entrance
[[screens]]
output = 0   # left
[[screens.pages]]
grid = "1x1"
# the big one
panels = [{ kind = "featured" }]

# the café
[[screens]]
output = 1
[[screens.pages]]
grid = "2x1"

# the war room
[[screens]]
output = 2
"""


def changed_lines(before: str, after: str) -> list[str]:
    """The lines removed (-) and added (+)."""
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def reads_as(doc: ConfigDocument) -> dict[str, object]:
    """The text as a TOML reader sees it (and it is what the document says)."""
    data = tomllib.loads(doc.text)
    assert data == doc.data()
    return data


def test_removing_a_screen_keeps_the_comment_that_introduces_the_next() -> None:
    doc = ConfigDocument(SCREENS)
    doc.remove(("screens", 1))
    assert [s["output"] for s in reads_as(doc)["screens"]] == [0, 2]
    # only the café's own lines go; its label stays (nothing is lost), the war room keeps its own
    assert changed_lines(SCREENS, doc.text) == [
        "-[[screens]]",
        "-output = 1",
        "-[[screens.pages]]",
        '-grid = "2x1"',
    ]
    assert "# the war room\n[[screens]]\noutput = 2\n" in doc.text


def test_removing_the_first_screen_keeps_the_comments_around_it() -> None:
    doc = ConfigDocument(SCREENS)
    doc.remove(("screens", 0))
    assert [s["output"] for s in reads_as(doc)["screens"]] == [1, 2]
    assert all(line.startswith("-") for line in changed_lines(SCREENS, doc.text))
    assert "# the big one" not in doc.text  # it was among the removed screen's keys
    assert doc.text.index("# the entrance") < doc.text.index("# the café") < doc.text.index("[[")


def test_removing_the_last_screen_keeps_the_comments_above_it() -> None:
    doc = ConfigDocument(SCREENS + "\n# the end of the file\n")
    doc.remove(("screens", 2))
    assert [s["output"] for s in reads_as(doc)["screens"]] == [0, 1]
    assert doc.text.endswith('grid = "2x1"\n\n# the war room\n# the end of the file\n')


def test_removing_the_only_source_keeps_the_lines_after_it() -> None:
    text = DEMO.read_text(encoding="utf-8")
    after_sources = text[text.index("# Live sources") : text.index("[moderation]")]
    doc = ConfigDocument(text)
    assert doc.length(("sources",)) == 1
    doc.remove(("sources", 0))
    assert reads_as(doc)["sources"] == []  # written empty: a file it extends gives none either
    assert after_sources in doc.text
    assert all(
        line.startswith("-") or line == "+sources = []" for line in changed_lines(text, doc.text)
    )
    # and a source added again is a [[sources]] table, as before
    again = ConfigDocument(doc.text)
    assert again.append(("sources",), {"name": "sim", "kind": "simulator"}) == 0
    assert '[[sources]]\nname = "sim"' in again.text
    assert reads_as(again)["sources"] == [{"name": "sim", "kind": "simulator"}]


def test_changing_a_source_kind_keeps_its_comments_and_the_lines_after_it() -> None:
    text = DEMO.read_text(encoding="utf-8")
    doc = ConfigDocument(text)
    source = doc.get(("sources", 0))
    kept = {"name": source["name"], "kind": "rss"}  # what the console keeps on a change of kind
    doc.set(("sources", 0), kept)
    assert reads_as(doc)["sources"] == [kept]
    assert "# Live sources for a real wall" in doc.text
    assert [line for line in changed_lines(text, doc.text) if line.startswith("+")] == [
        '+kind = "rss"'
    ]


def test_a_table_added_to_a_file_without_a_final_newline_starts_its_own_line() -> None:
    doc = ConfigDocument('[wall]\nname = "Lobby"')
    doc.append(("sources",), {"name": "sim", "kind": "simulator"})
    assert doc.text == '[wall]\nname = "Lobby"\n[[sources]]\nname = "sim"\nkind = "simulator"\n\n'
    # after a comment that ends the file, the new header is not written into the comment
    doc = ConfigDocument("[[screens]]\noutput = 0\n# the end")
    doc.append(("screens", 0, "pages"), {"grid": "1x1"})
    assert reads_as(doc)["screens"] == [{"output": 0, "pages": [{"grid": "1x1"}]}]
    doc = ConfigDocument("[[screens]]\noutput = 0\n\n# the end")
    doc.append(("screens",), {"output": 1})
    assert doc.text == "[[screens]]\noutput = 0\n\n[[screens]]\noutput = 1\n\n# the end"


def test_moving_tables_in_a_file_without_a_final_newline() -> None:
    doc = ConfigDocument("[[screens]]\noutput = 0\n[[screens]]\noutput = 1")
    assert doc.move(("screens",), 1, 0)
    assert [s["output"] for s in reads_as(doc)["screens"]] == [1, 0]


def test_a_moved_screen_takes_its_comments_and_leaves_the_ones_between_screens() -> None:
    doc = ConfigDocument(SCREENS)
    doc.move(("screens",), 0, 2)
    assert [s["output"] for s in reads_as(doc)["screens"]] == [1, 2, 0]
    text = doc.text
    # the comments between the screens stay where they were in the file
    assert text.index("# the entrance") < text.index("output = 1") < text.index("# the café")
    # the ones among a screen's keys go with it
    assert text.index("output = 0   # left") < text.index("# the big one")
    assert text.index("output = 2") < text.index("output = 0   # left")
    doc.move(("screens",), 2, 0)
    assert doc.text == SCREENS


def test_a_new_key_in_an_inline_table_leaves_the_blank_line_below_alone() -> None:
    text = '[analytics]\nowned_accounts = ["x:@care"]\n\n[store]\nretention = "7d"\n'
    doc = ConfigDocument(text)
    doc.set(("analytics", "lexicon"), {"nice phone": 1.5}, inline=True)
    assert changed_lines(text, doc.text) == ['+lexicon = { "nice phone" = 1.5 }']
    doc.remove(("analytics", "lexicon"))
    assert doc.text == text


def test_a_section_added_then_removed_leaves_the_file_as_it_was() -> None:
    doc = ConfigDocument(SCREENS)
    doc.set(("moderation", "approval"), "manual")
    assert "[moderation]" in doc.text
    assert doc.text.index("[moderation]") < doc.text.index("# ---- screens ----")
    doc.remove(("moderation", "approval"))
    assert doc.text == SCREENS


def test_a_change_that_fails_leaves_the_document_as_it_was() -> None:
    doc = ConfigDocument(SCREENS)
    with pytest.raises(EditError, match="no such element"):
        doc.set(("analytics", "lists", 0, "name"), "x")
    assert doc.text == SCREENS


def test_renaming_a_topic_written_inline_changes_only_its_key() -> None:
    text = '[topics]\nbrand={ label = "Lumen" }   # ours\nrival = { label = "Orbit" }\n'
    doc = ConfigDocument(text)
    doc.rename(("topics", "brand"), "lumen x")
    assert changed_lines(text, doc.text) == [
        '-brand={ label = "Lumen" }   # ours',
        '+"lumen x"={ label = "Lumen" }   # ours',
    ]
    assert list(reads_as(doc)["topics"]) == ["lumen x", "rival"]

"""The operator console: forms that keep the file as written, validation next to the field, the
grid editor, the live preview, saving, the moderation queue, source health and the source test."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLineEdit
from pytestqt.qtbot import QtBot

from agora.config.edit import backup_path
from agora.config.loader import check_config
from agora.console import worker
from agora.console.forms import FieldEditor, SectionForm
from agora.console.grid import GridEditor, PanelBox
from agora.console.sections import SOURCE_MODELS
from agora.console.window import ConsoleWindow
from agora.core.post import Author, Moderation, Post
from agora.engine import HEALTH_STATE_KEY
from agora.store import database_path
from agora.store.base import Decision
from agora.store.sqlite import SqliteStore

CONFIG = """\
# The lobby wall — kept by hand and by the console
[wall]
name = "Console test wall"   # also names the database
theme = "dark"
night = "23:00-06:00"        # quiet hours

[topics.brand]
label = "Lumen"   # shown on charts
terms = [
  "lumen",        # the word
  "#lumen",
]

[topics.rival]
label = "Corvid"
terms = ["corvid"]

[[sources]]
name = "archive"
kind = "jsonl"
path = "posts.jsonl"   # relative to this file

# ---- moderation ---------------------------------------------------------------

[moderation]
block_terms = ["giveaway"]   # never on screen
approval = "auto"

[analytics]
owned_accounts = ["jsonl:@lumencare"]

[store]
retention = "7d"

# ---- the lobby screen ----------------------------------------------------------

[[screens]]
output = 0
[[screens.pages]]
name = "Overview"
seconds = 45
grid = "3x2"
panels = [
  { kind = "featured", at = "0,0", span = "2,2" },   # the big one
  { kind = "sentiment", at = "2,0" },
  { kind = "volume", at = "2,1", window = "24h" },
]
"""

NOW = datetime.now(UTC).replace(microsecond=0)


def post_line(n: int, text: str, minutes: int = 1, handle: str = "@ana") -> str:
    return json.dumps(
        {
            "id": f"jsonl:{n}",
            "source": "jsonl",
            "text": text,
            "created_at": (NOW - timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
            "author": {"handle": handle, "name": "Ana"},
            "lang": "en",
        }
    )


@pytest.fixture
def wall_file(tmp_path: Path) -> Path:
    path = tmp_path / "wall.toml"
    path.write_text(CONFIG, encoding="utf-8")
    lines = [
        post_line(1, "The lumen camera is wonderful", 3),
        post_line(2, "corvid battery is terrible", 2),
        post_line(3, "lumen or corvid? lumen!", 1),
    ]
    (tmp_path / "posts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def console(qtbot: QtBot, wall_file: Path, tmp_path: Path) -> Iterator[ConsoleWindow]:
    window = ConsoleWindow(wall_file, data_dir=tmp_path / "data")
    window.ask_on_close = False
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    yield window
    qtbot.waitUntil(lambda: worker.busy() == 0, timeout=30_000)  # qtbot closes the window


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def type_into(qtbot: QtBot, field: FieldEditor, text: str) -> None:
    """Type as a person would: focus, select all, type (or delete)."""
    editor = field.editor
    assert isinstance(editor, QLineEdit)
    editor.setFocus()
    editor.selectAll()
    if text:
        qtbot.keyClicks(editor, text)
    else:
        qtbot.keyClick(editor, Qt.Key.Key_Delete)
    editor.clearFocus()


SAMPLE = {
    "text": "Changed",
    "integer": "7",
    "number": "1.5",
    "duration": "90s",
    "secret": "env:HOME",
    "list": "a, b",
    "mapping": '"nice phone" = 1.5',
    "pair": "0,0",
    "grid": "2x2",
    "output": "1",
}


def round_trip(qtbot: QtBot, window: ConsoleWindow, form: SectionForm) -> int:
    """Change every field of a form and change it back: the file must be what it was, and each
    change must have touched only the lines of its key."""
    model = window.model
    original = model.text
    count = 0
    for name, field in form.fields.items():
        editor = field.editor
        if isinstance(editor, QLineEdit) and field.spec.kind == "list" and editor.text():
            # add an element at the end, then take it away again, as a person would
            editor.setFocus()
            editor.end(False)
            qtbot.keyClicks(editor, ", extra")
            assert model.text != original, name
            diff = changed_lines(original, model.text)
            assert len([line for line in diff if line.startswith("+")]) == 1, diff
            for _ in range(len(", extra")):
                qtbot.keyClick(editor, Qt.Key.Key_Backspace)
            editor.clearFocus()
        elif isinstance(editor, QLineEdit):
            before = editor.text()
            new = SAMPLE[field.spec.kind]
            if new == before:
                new = "3" if field.spec.kind in ("integer", "output") else new + "x"
            type_into(qtbot, field, new)
            assert model.text != original, name
            diff = changed_lines(original, model.text)
            added = [line for line in diff if line.startswith("+")]
            assert len(diff) <= 4, (name, diff)  # the key's line (and its table's header)
            assert all(
                name in line or line.strip("+ ") in ("", "]") or "[" in line for line in added
            )
            type_into(qtbot, field, before)
        elif isinstance(editor, QCheckBox):
            editor.click()
            assert model.text != original, name
            editor.click()
            if model.text != original:  # it was not written: take the key out again
                model.remove(field.path)
        elif isinstance(editor, QComboBox):
            start = editor.currentIndex()
            editor.setCurrentIndex((start + 1) % editor.count())
            assert model.text != original, name
            editor.setCurrentIndex(start)
            if model.text != original:
                model.remove(field.path)
        assert model.text == original, (form.path, name, changed_lines(original, model.text))
        count += 1
    return count


def test_every_form_round_trips_the_file_with_its_comments(
    qtbot: QtBot, console: ConsoleWindow
) -> None:
    window = console
    forms = [
        window.root_form,
        window.wall_form,
        window.rules_form,
        window.analytics_form,
        window.store_form,
        window.topics.form,
        window.sources.form,
    ]
    window.tabs.setCurrentWidget(window.screens)
    window.screens.select(0, -1)
    forms.append(window.screens.screen_form)
    window.screens.select(0, 0)
    forms += [window.screens.page_form, window.screens.panel_form]
    fields = 0
    for form in forms:
        fields += round_trip(qtbot, window, form)
    assert fields >= 55
    assert window.model.text == CONFIG
    # the form of every source kind, generated from the schema's union
    sources = window.sources
    window.tabs.setCurrentWidget(sources)
    for kind in SOURCE_MODELS:
        sources.add_source(kind)
        with_source = window.model.text
        assert sources.kind_box.currentData() == kind
        assert set(sources.form.fields) == set(SOURCE_MODELS[kind].model_fields) - {"kind"}
        fields += round_trip(qtbot, window, sources.form)
        assert window.model.text == with_source
        sources.remove_source()
    assert fields >= 120
    assert window.model.text == CONFIG
    assert not window.model.dirty
    # a change made in a form is in the raw TOML tab, with every comment around it
    type_into(qtbot, window.wall_form.field("name"), "Espoo lobby")
    assert 'name = "Espoo lobby"   # also names the database' in window.raw.editor.toPlainText()
    assert changed_lines(CONFIG, window.model.text) == [
        '-name = "Console test wall"   # also names the database',
        '+name = "Espoo lobby"   # also names the database',
    ]


def check_messages(path: Path, text: str) -> dict[str, list[str]]:
    """What ``agora check`` says about ``text`` once saved: key → messages."""
    saved = path.with_name("saved.toml")
    saved.write_text(text, encoding="utf-8")
    _loaded, issues = check_config(saved)
    found: dict[str, list[str]] = {}
    for issue in issues:
        found.setdefault(issue.key, []).append(issue.message)
    return found


def test_bad_values_show_the_messages_of_agora_check_next_to_the_field(
    qtbot: QtBot, console: ConsoleWindow, wall_file: Path
) -> None:
    window = console
    model = window.model
    accent = window.wall_form.field("accent")
    type_into(qtbot, accent, "#12")
    qtbot.waitUntil(lambda: bool(accent.problems), timeout=60_000)
    expected = check_messages(wall_file, model.text)
    assert accent.problems == "\n".join(expected["wall.accent"])
    assert accent.problems == "'#12' is not a colour; use \"#rrggbb\""

    seconds = window.wall_form.field("burn_in_shift")
    type_into(qtbot, seconds, "soon")
    qtbot.waitUntil(lambda: bool(seconds.problems), timeout=60_000)
    assert seconds.problems == check_messages(wall_file, model.text)["wall.burn_in_shift"][0]

    window.sources.select_row(0)
    path_field = window.sources.form.field("path")
    type_into(qtbot, path_field, "")
    qtbot.waitUntil(lambda: bool(path_field.problems), timeout=60_000)
    assert path_field.problems == "required key is missing"

    # the list below has every problem as agora check prints it, and saving is refused
    lines = [window.problems.item(i).text() for i in range(window.problems.count())]
    assert len(lines) == 3
    assert all(line.startswith(f"{wall_file}:") for line in lines)
    assert not window.save_button.isEnabled()
    assert not window.save()
    assert wall_file.read_text(encoding="utf-8") == CONFIG

    # a misspelt key typed in the raw TOML shows on its section with a suggestion
    window.tabs.setCurrentWidget(window.raw)
    window.raw.editor.setPlainText(CONFIG.replace('theme = "dark"', 'them = "dark"'))
    window.raw.commit()
    model.validate_now()
    assert window.wall_form.section_error.text() == (
        'wall.them: unknown key "them"; did you mean "theme"?'
    )
    assert window.wall_form.field("theme").editor.isEnabled()


def test_save_keeps_the_file_as_written_atomically_with_a_backup(
    qtbot: QtBot, console: ConsoleWindow, wall_file: Path
) -> None:
    window = console
    type_into(qtbot, window.rules_form.field("block_terms"), "giveaway, free followers")
    window.model.validate_now()
    assert window.save_button.isEnabled()
    qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)
    saved = wall_file.read_text(encoding="utf-8")
    assert changed_lines(CONFIG, saved) == [
        '-block_terms = ["giveaway"]   # never on screen',
        '+block_terms = ["giveaway", "free followers"]   # never on screen',
    ]
    assert backup_path(wall_file).read_text(encoding="utf-8") == CONFIG
    assert not window.model.dirty
    assert not window.save_button.isEnabled()
    assert sorted(p.name for p in wall_file.parent.glob("*.tmp")) == []


def drag(widget: GridEditor, start: QPointF, end: QPointF) -> None:
    """Press, move with the button held, release (QTest moves without buttons)."""

    def send(kind: QEvent.Type, at: QPointF, buttons: Qt.MouseButton) -> None:
        event = QMouseEvent(
            kind,
            at,
            widget.mapToGlobal(at),
            Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton,
            buttons,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(widget, event)

    send(QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    middle = QPointF((start.x() + end.x()) / 2, (start.y() + end.y()) / 2)
    send(QEvent.Type.MouseMove, middle, Qt.MouseButton.LeftButton)
    send(QEvent.Type.MouseMove, end, Qt.MouseButton.LeftButton)
    send(QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


def shown_equals_file(window: ConsoleWindow) -> list[PanelBox]:
    screens = window.screens
    from_file = screens.boxes()
    assert [(b.kind, b.at, b.span) for b in screens.grid.panels] == [
        (b.kind, b.at, b.span) for b in from_file
    ]
    return from_file


def test_the_grid_editor_produces_the_config_it_shows(qtbot: QtBot, console: ConsoleWindow) -> None:
    window = console
    window.tabs.setCurrentWidget(window.screens)
    screens = window.screens
    screens.select(0, 0)
    grid = screens.grid
    qtbot.waitUntil(grid.isVisible, timeout=60_000)
    assert shown_equals_file(window)[0] == PanelBox("featured", (0, 0), (2, 2))
    panels = ("screens", 0, "pages", 0, "panels")

    # shrink the featured panel by dragging its corner from (1,1) to (0,1): span 1,2
    corner = grid.cell_rect((0, 0), (2, 2)).bottomRight() - QPointF(4, 4)
    grid.select(0)
    drag(grid, corner, grid.cell_rect((0, 1)).center())
    assert window.model.get((*panels, 0)) == {"kind": "featured", "at": "0,0", "span": "1,2"}
    shown_equals_file(window)

    # drag across the two free cells of column 1: a new panel of the chosen kind
    screens.new_kind.setCurrentIndex(screens.new_kind.findData("trending"))
    drag(grid, grid.cell_rect((1, 0)).center(), grid.cell_rect((1, 1)).center())
    assert window.model.get((*panels, 3)) == {"kind": "trending", "at": "1,0", "span": "1,2"}
    boxes = shown_equals_file(window)
    assert len(boxes) == 4
    assert screens.panel == 3
    assert screens.panel_form.path == (*panels, 3)

    # move the volume panel onto the trending one: the overlap is reported by the grid
    drag(grid, grid.cell_rect((2, 1)).center(), grid.cell_rect((1, 1)).center())
    window.model.validate_now()
    assert window.model.get((*panels, 2, "at")) == "1,1"
    assert "overlaps" in screens.grid_problems.text()
    assert grid.overlaps() == {(1, 1)}
    shown_equals_file(window)

    # with the keyboard: back to the right, then one row taller is refused (out of the grid)
    grid.setFocus()
    grid.select(2)
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert window.model.get((*panels, 2, "at")) == "2,1"
    qtbot.keyClick(grid, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    assert window.model.get((*panels, 2)).get("span") is None  # 1 row is the least
    qtbot.keyClick(grid, Qt.Key.Key_Delete)
    assert len(window.model.get(panels)) == 3
    qtbot.keyClick(grid, Qt.Key.Key_Insert)
    assert window.model.get((*panels, 3)) == {"kind": "trending", "at": "2,1"}
    window.model.validate_now()
    assert window.model.valid, [i.format() for i in window.model.issues]
    config = window.model.loaded
    assert config is not None
    page = config.config.screens[0].pages[0]
    assert [(p.kind, p.at, p.span) for p in page.panels] == [
        (b.kind, b.at, b.span) for b in grid.panels
    ]
    # the comment of the first panel is still on its line
    assert '{ kind = "featured", at = "0,0", span = "1,2" },   # the big one' in window.model.text


def test_the_preview_renders_the_page_at_the_screen_aspect_ratio(
    qtbot: QtBot, console: ConsoleWindow
) -> None:
    window = console
    preview = window.screens.preview
    preview.size_box.setCurrentIndex(preview.size_box.findData("1920x1080"))
    window.tabs.setCurrentWidget(window.screens)  # the preview renders while it is on show
    qtbot.waitUntil(lambda: preview.renders >= 1, timeout=30_000)
    assert preview.last_size == (1920, 1080)
    picture = preview.picture.source
    assert picture is not None and not picture.isNull()
    assert abs(picture.width() / picture.height() - 16 / 9) < 0.01
    assert "3 posts from the offline sources" in preview.status.text()
    image = picture.toImage()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, 300, 23)}
    assert len(colours) > 10  # a drawn page, not a blank
    # portrait screen: the preview follows
    renders = preview.renders
    preview.size_box.setCurrentIndex(preview.size_box.findData("1080x1920"))
    qtbot.waitUntil(lambda: preview.renders > renders, timeout=30_000)
    assert preview.picture.source is not None
    assert preview.picture.source.height() > preview.picture.source.width()
    # a new topic in the form reaches the preview's data
    renders = preview.renders
    window.model.set(("topics", "other", "terms"), ["wonderful"])
    qtbot.waitUntil(lambda: preview.renders > renders, timeout=30_000)


def make_store(tmp_path: Path) -> SqliteStore:
    store = SqliteStore(database_path(tmp_path / "data", "Console test wall"))
    posts = []
    for n in range(6):
        state = "pending" if n % 2 == 0 else "approved"
        posts.append(
            Post(
                id=f"mastodon:{n}",
                source="mastodon",
                feed="fedi",
                text=f"<b>post {n}</b> about lumen",
                created_at=NOW - timedelta(minutes=n),
                author=Author(f"@user{n}@example.org", f"User {n}", None, None, 5),
                moderation=Moderation(state, ("manual approval",) if state == "pending" else ()),
            )
        )
    store.add_posts(posts)
    store.set_state(
        HEALTH_STATE_KEY,
        json.dumps(
            {
                "at": NOW.isoformat(),
                "wall": "Console test wall",
                "sources": {
                    "archive": {
                        "kind": "jsonl",
                        "state": "failing",
                        "last_success": None,
                        "last_error": "archive: posts.jsonl cannot be read",
                        "posts": 0,
                        "skipped": 0,
                    }
                },
            }
        ),
    )
    return store


def test_the_moderation_queue_records_decisions_in_the_store(
    qtbot: QtBot, wall_file: Path, tmp_path: Path
) -> None:
    store = make_store(tmp_path)
    window = ConsoleWindow(wall_file, data_dir=tmp_path / "data")
    window.ask_on_close = False
    qtbot.addWidget(window)
    window.show()
    try:
        queue = window.queue
        qtbot.waitUntil(lambda: queue.reads >= 1, timeout=60_000)
        assert queue.pending.rowCount() == 3
        assert queue.recent.rowCount() == 6
        assert queue.pending.item(0, 5).text() == "<b>post 0</b> about lumen"  # shown as text
        queue.pending.selectRow(0)
        queue.reason.setText("looks fine")
        assert queue.decide("approve") == 1
        queue.lists.setCurrentWidget(queue.recent)
        queue.recent.clearSelection()
        queue.recent.selectRow(1)
        assert queue.decide("block") == 1
        decisions = store.decisions()
        assert [(d.action, d.target, d.reason) for d in decisions] == [
            ("approve", "mastodon:0", "looks fine"),
            ("block", "@user1@example.org", ""),
        ]
        assert decisions[0].actor.startswith("console (")
        qtbot.waitUntil(lambda: queue.log.rowCount() == 2, timeout=60_000)
        assert queue.log.item(0, 2).text() == "block"
        qtbot.waitUntil(lambda: queue.pending.rowCount() == 2, timeout=60_000)
        # health: what the wall reported, in plain words
        health = window.health.table
        assert health.item(0, 0).text() == "archive"
        assert health.item(0, 2).text() == "failing"
        assert health.item(0, 5).text() == "archive: posts.jsonl cannot be read"
        # from the keyboard: H on a selected post in the list hides it
        queue.lists.setCurrentWidget(queue.pending)
        queue.pending.setFocus()
        queue.pending.selectRow(0)
        qtbot.keyClick(queue.pending, Qt.Key.Key_H)
        assert store.decisions()[-1].action == "hide"
        qtbot.waitUntil(lambda: queue.log.rowCount() == 3, timeout=60_000)
        # a decision made elsewhere shows up on the next read
        store.add_decision(Decision("hide", "mastodon:2", "wall keyboard", NOW))
        queue.refresh()
        qtbot.waitUntil(lambda: queue.log.rowCount() == 4, timeout=60_000)
        qtbot.waitUntil(lambda: worker.busy() == 0, timeout=60_000)
    finally:
        window.close()
        store.close()


def test_testing_a_source_shows_its_posts_or_its_error(
    qtbot: QtBot, console: ConsoleWindow, wall_file: Path
) -> None:
    window = console
    sources = window.sources
    window.tabs.setCurrentWidget(sources)
    sources.select_row(0)
    qtbot.mouseClick(sources.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sources.last_test is not None, timeout=30_000)
    result = sources.last_test
    assert result is not None
    assert len(result.posts) == 3
    assert "archive: ok, 3 post(s)" in sources.test_status.text()
    output = sources.test_output.toPlainText()
    assert "The lumen camera is wonderful" in output
    assert "[brand;" in output  # enriched as the wall would: topics, sentiment, state
    # a broken entry: the error in plain words
    type_into(qtbot, sources.form.field("path"), "missing.jsonl")
    sources.last_test = None
    qtbot.mouseClick(sources.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sources.last_test is not None, timeout=30_000)
    assert sources.last_test is not None
    assert sources.last_test.error
    assert "missing.jsonl" in sources.test_status.text()


def test_topics_and_sources_are_added_renamed_and_removed(
    qtbot: QtBot, console: ConsoleWindow
) -> None:
    window = console
    topics = window.topics
    topics.add_topic()
    assert window.model.get(("topics", "topic1")) == {"label": "Topic 1", "terms": []}
    window.model.validate_now()
    assert topics.form.field("terms").problems == "must not be empty"
    type_into(qtbot, topics.form.field("terms"), "halcyon, #halcyon")
    topics.key_edit.setText("halcyon")
    topics.key_edit.editingFinished.emit()
    assert window.model.get(("topics", "halcyon", "terms")) == ["halcyon", "#halcyon"]
    assert "[topics.halcyon]" in window.model.text
    sources = window.sources
    sources.add_source("hackernews")
    assert window.model.get(("sources", 1)) == {"name": "hackernews1", "kind": "hackernews"}
    window.model.validate_now()
    assert sources.form.field("query").problems == "required key is missing"
    assert "base_url" in sources.form.fields  # the keys of this kind, from the schema
    assert "path" not in sources.form.fields
    sources.move_source(-1)
    assert window.model.get(("sources", 0, "name")) == "hackernews1"
    sources.remove_source()
    topics.select_row(2)
    topics.remove_topic()
    window.model.validate_now()
    assert window.model.valid
    assert window.model.text.replace("\n\n\n", "\n\n") == CONFIG


def test_keyboard_only_and_it_fits_a_laptop_screen(
    qtbot: QtBot, console: ConsoleWindow, render_dir: Path
) -> None:
    window = console
    hint = window.minimumSizeHint()
    assert hint.width() <= 1366
    assert hint.height() <= 740
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.sources
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    name = window.wall_form.field("name").editor
    name.setFocus()
    order = [name]
    for _ in range(3):
        window.focusNextChild()
        order.append(QApplication.focusWidget())
    assert order[1] is window.wall_form.field("theme").editor
    assert order[2] is window.wall_form.field("privacy").editor
    assert order[3] is window.wall_form.field("language").editor
    # screens: the grid, then the selected panel's options, then the preview's controls
    window.tabs.setCurrentWidget(window.screens)
    window.screens.select(0, 0)
    window.screens.grid.setFocus()
    window.focusNextChild()
    assert QApplication.focusWidget() is window.screens.panel_form.field("kind").editor
    window.screens.panel_form.field("mode").editor.setFocus()
    window.focusNextChild()
    assert QApplication.focusWidget() is window.screens.preview.size_box
    # every tab at 1366×768, for a person to look at (AGORA_KEEP_RENDERS=dir keeps them)
    window.resize(1366, 768)
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        QApplication.processEvents()  # the tab's pending layout, then the picture
        picture = window.grab()
        assert picture.width() <= 1366
        assert picture.save(str(render_dir / f"console-tab{index}.png"))


def test_a_file_that_is_not_toml_opens_in_the_raw_tab_and_is_fixed_there(
    qtbot: QtBot, wall_file: Path, tmp_path: Path
) -> None:
    path = wall_file
    broken = CONFIG.replace("[moderation]", "[moderation")
    path.write_text(broken, encoding="utf-8")
    window = ConsoleWindow(path, data_dir=tmp_path / "data")
    window.ask_on_close = False
    qtbot.addWidget(window)
    window.show()
    assert not window.model.syntax_ok
    assert not window.tabs.widget(0).isEnabled()  # the forms wait for the text to be TOML
    assert window.raw.isEnabled()
    lines = [window.problems.item(i).text() for i in range(window.problems.count())]
    assert lines[0].startswith(f"{path}:25: ") and "TOML syntax" in lines[0]
    window.raw.editor.setPlainText(CONFIG)
    window.raw.commit()
    window.model.validate_now()
    assert window.model.valid, [i.format() for i in window.model.issues]
    assert window.tabs.widget(0).isEnabled()
    name = window.wall_form.field("name").editor
    assert isinstance(name, QLineEdit)
    assert name.text() == "Console test wall"
    assert window.save()
    assert path.read_text(encoding="utf-8") == CONFIG
    qtbot.waitUntil(lambda: worker.busy() == 0, timeout=30_000)


def test_a_wall_that_extends_another_shows_what_it_inherits(qtbot: QtBot, tmp_path: Path) -> None:
    (tmp_path / "company.toml").write_text(
        '[wall]\nburn_in_shift = "10m"\n\n[topics.brand]\nterms = ["lumen"]\n',
        encoding="utf-8",
    )
    path = tmp_path / "wall.toml"
    path.write_text(
        'extends = "company.toml"\n\n[wall]\nname = "Office"\n\n[[screens]]\n'
        '[[screens.pages]]\npanels = [{ kind = "featured" }]\n',
        encoding="utf-8",
    )
    window = ConsoleWindow(path, data_dir=tmp_path / "data")
    window.ask_on_close = False
    qtbot.addWidget(window)
    window.show()
    assert window.model.valid, [i.format() for i in window.model.issues]
    shift = window.wall_form.field("burn_in_shift").editor
    transition = window.wall_form.field("transition").editor
    assert isinstance(shift, QLineEdit)
    assert isinstance(transition, QLineEdit)
    assert shift.placeholderText() == "inherited: 10m"
    assert transition.placeholderText() == "default: 0.8s"
    qtbot.waitUntil(lambda: worker.busy() == 0, timeout=30_000)


def test_queue_tooltips_show_hostile_text_literally(qtbot: QtBot) -> None:
    from agora.console.queue import _item

    item = _item('<img src="http://x.example/a.png"><b>bold</b> & co')
    tip = item.toolTip()
    # Qt renders a tooltip as rich text when it looks like markup: the markup must arrive escaped
    assert "<img" not in tip and "<b>" not in tip
    assert "&lt;b&gt;bold&lt;/b&gt;" in tip

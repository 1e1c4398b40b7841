"""Hostile text: terminal escape sequences are removed whole, never left half on screen."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agora.core.post import parse_post
from agora.core.text import clean_name, clean_text, html_to_text

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[0;31mALERT\x1b[0m battery", "ALERT battery"),  # colours (SGR)
        ("\x1b[1;4;38;2;255;0;0mloud\x1b[m", "loud"),  # true colour, reset without parameters
        ("\x1b[2J\x1b[Hwiped", "wiped"),  # clear the screen, cursor home
        ("\x1b[?25lhidden cursor\x1b[?25h", "hidden cursor"),  # private parameters
        ("\x9b31mC1 form", "C1 form"),  # the one-byte CSI
        ("a \x1b]0;window title\x07b", "a b"),  # OSC ended by BEL
        ("a \x1b]2;title\x1b\\b", "a b"),  # OSC ended by ST
        ("see \x1b]8;;https://evil.example\x1b\\this\x1b]8;;\x1b\\ link", "see this link"),
        ("a \x1bP+q544e\x1b\\b", "a b"),  # DCS
        ("x\x1b(By", "xy"),  # character set designation
        ("save\x1b7 and\x1b8 restore", "save and restore"),
        ("cut off \x1b[31", "cut off"),  # a sequence the text ends in
        ("N\x1bame", "Name"),  # a lone ESC: the letter after it stays
        ("plain [0;31m text", "plain [0;31m text"),  # no ESC: nothing to remove
    ],
)
def test_escape_sequences_are_removed_whole(raw: str, shown: str) -> None:
    assert clean_text(raw) == shown
    assert clean_name(raw) == shown


def test_escapes_are_removed_from_posts_names_and_html() -> None:
    post = parse_post(
        {
            "id": "x:1",
            "text": "Lumen \x1b[5;31mFREE PHONES\x1b[0m click",
            "created_at": NOW.isoformat(),
            "author": {"handle": "@a", "name": "\x1b[1mAdmin\x1b[0m"},
        }
    )
    assert post.text == "Lumen FREE PHONES click"
    assert post.author.name == "Admin"
    # raw escapes inside markup (RSS, Mastodon) go too
    assert html_to_text("<p>\x1b[31mred\x1b[0m <b>text</b></p>") == "red text"

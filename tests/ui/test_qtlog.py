"""Qt's own messages go through logging: kept in the JSON log and redacted like every line."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_fresh(script: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh process (pytest-qt installs its own message handler in this one),
    logging to stdout at info level."""
    prelude = textwrap.dedent(
        """
        import logging, sys
        logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(name)s %(message)s")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return done


def test_a_qt_warning_is_logged_and_redacted() -> None:
    done = run_fresh(
        """
        from agora.core.redact import remember_secrets
        from agora.service import install_redaction
        from agora.ui.qtlog import route_qt_messages
        install_redaction()  # as every command does
        from PySide6.QtCore import qWarning
        remember_secrets(["qt-secret-5e1b7a90c4d2"])
        route_qt_messages()
        qWarning("could not load https://cdn.example/a.png?token=qt-secret-5e1b7a90c4d2")
        """
    )
    assert "agora.qt could not load https://cdn.example/a.png" in done.stdout
    assert "qt-secret-5e1b7a90c4d2" not in done.stdout + done.stderr


def test_a_platform_note_is_not_a_warning() -> None:
    """``agora snapshot`` on the offscreen platform: the plugin's notes about what it cannot do
    (``propagateSizeHints()``) are not warnings an operator must read; real warnings still are."""
    done = run_fresh(
        """
        from agora.ui.qtlog import route_qt_messages
        route_qt_messages()
        from PySide6.QtCore import qWarning
        qWarning("This plugin does not support propagateSizeHints()")
        qWarning("a real warning")
        """
    )
    assert "agora.qt a real warning" in done.stdout
    assert "propagateSizeHints" not in done.stdout + done.stderr

"""Qt's own messages (warnings about fonts, screens, painting) go through Python's logging.

Qt writes them straight to stderr by default, past every handler of the wall: they would reach
the journal unredacted and not in the JSON log. :func:`route_qt_messages` installs a message
handler that hands each one to the ``agora.qt`` logger, at the matching level, so they are
redacted (see :mod:`agora.core.redact`) and kept with everything else.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

log = logging.getLogger("agora.qt")

_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


#: Warnings of a platform plugin about what it cannot do, which change nothing on the wall (the
#: offscreen platform of ``agora snapshot`` and the tests says so at every window): kept at debug
#: level, so an operator's terminal shows only what needs a look.
_PLATFORM_NOTES = ("This plugin does not support",)


def _handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    level = _LEVELS.get(kind, logging.WARNING)
    if level == logging.WARNING and message.startswith(_PLATFORM_NOTES):
        level = logging.DEBUG
    log.log(level, "%s", message)


def route_qt_messages() -> None:
    """Send Qt's messages to the ``agora.qt`` logger from now on (idempotent)."""
    qInstallMessageHandler(_handler)

"""Plugging and unplugging screens of Qt's offscreen platform while the test runs.

The offscreen platform reads its screens from a JSON configuration (``offscreen:configfile=…``)
and can take a new one at run time: its native interface offers a ``setConfiguration`` function
that diffs the screens by name and announces each one added or removed exactly as a real
platform does (``QGuiApplication.screenAdded`` / ``screenRemoved``, new ``QScreen`` objects).
PySide6 does not wrap Qt's platform native interface, so :func:`set_screens` reaches it with
:mod:`ctypes` through symbols Qt exports:

* ``QGuiApplication::platformNativeInterface()`` gives the interface object;
* its virtual ``nativeResourceForIntegration(const QByteArray &)`` is found by its slot in the
  exported vtable of the base class ``QPlatformNativeInterface`` (the slot whose entry is the base
  implementation), and called through the object's own vtable;
* the configuration is built with ``QJsonDocument::fromJson`` and ``QJsonDocument::object``.

Everything is looked up by name at first use; when anything is missing (another platform, a Qt
without the function) :class:`HotplugUnavailableError` says what, and the tests that need it skip.
"""

from __future__ import annotations

import ctypes
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLibraryInfo
from PySide6.QtGui import QGuiApplication, QScreen

SIX_SCREENS = Path(__file__).resolve().parents[2] / "agora" / "assets" / "six-screens.json"

_P = ctypes.c_void_p
#: bytes reserved for a QByteArray, QJsonDocument or QJsonObject value (each is 8–24 bytes)
_VALUE_BYTES = 64
#: vtable entries searched for the base implementation
_VTABLE_SLOTS = 64


class HotplugUnavailableError(RuntimeError):
    """The running Qt cannot change its screens at run time (not offscreen, or no symbol)."""


def screen_config(screen: QScreen) -> dict[str, Any]:
    """One screen of the offscreen configuration describing ``screen`` as it is now."""
    geometry = screen.geometry()
    return {
        "name": screen.name(),
        "x": geometry.x(),
        "y": geometry.y(),
        "width": geometry.width(),
        "height": geometry.height(),
        "logicalDpi": round(screen.logicalDotsPerInch()),
        "logicalBaseDpi": 96,
        "dpr": screen.devicePixelRatio(),
    }


def six_screens() -> list[dict[str, Any]]:
    """The project's six-screen layout (five 1920×1080, one 3840×2160 at dpr 2)."""
    screens: list[dict[str, Any]] = json.loads(SIX_SCREENS.read_text(encoding="utf-8"))["screens"]
    return screens


class _Qt:
    """The Qt symbols :func:`set_screens` calls, looked up once."""

    def __init__(self) -> None:
        if QGuiApplication.platformName() != "offscreen":
            raise HotplugUnavailableError(
                f"screens can be plugged at run time on the offscreen platform only "
                f"(this is {QGuiApplication.platformName()!r})"
            )
        libs = QLibraryInfo.path(QLibraryInfo.LibraryPath.LibrariesPath)
        try:
            gui = ctypes.CDLL(os.path.join(libs, "libQt6Gui.so.6"))
            core = ctypes.CDLL(os.path.join(libs, "libQt6Core.so.6"))
            self.interface = gui._ZN15QGuiApplication23platformNativeInterfaceEv
            base_vtable = ctypes.addressof(_P.in_dll(gui, "_ZTV24QPlatformNativeInterface"))
            base_impl = (
                gui._ZN24QPlatformNativeInterface28nativeResourceForIntegrationERK10QByteArray
            )
            self.byte_array = core._ZN10QByteArrayC1EPKcx
            self.from_json = core._ZN13QJsonDocument8fromJsonERK10QByteArrayP15QJsonParseError
            self.to_object = core._ZNK13QJsonDocument6objectEv
            self.drop_document = core._ZN13QJsonDocumentD1Ev
            self.drop_object = core._ZN11QJsonObjectD1Ev
        except (OSError, AttributeError, ValueError) as exc:
            raise HotplugUnavailableError(f"a Qt symbol is missing: {exc}") from exc
        self.interface.restype = _P
        self.interface.argtypes = []
        self.byte_array.argtypes = [_P, ctypes.c_char_p, ctypes.c_longlong]
        self.from_json.argtypes = [_P, _P, _P]  # (result, const QByteArray &, QJsonParseError *)
        self.to_object.argtypes = [_P, _P]  # (result, this)
        self.drop_document.argtypes = [_P]
        self.drop_object.argtypes = [_P]
        # vtables as exported start with the offset to top and the type info, then the entries
        target = ctypes.cast(base_impl, _P).value
        entries = (_P * _VTABLE_SLOTS).from_address(base_vtable + 2 * ctypes.sizeof(_P))
        slots = [i for i, entry in enumerate(entries) if entry == target]
        if len(slots) != 1:
            raise HotplugUnavailableError("nativeResourceForIntegration not found in its vtable")
        self.slot = slots[0]

    def bytes_value(self, data: bytes) -> ctypes.Array[ctypes.c_char]:
        """A QByteArray holding ``data`` (its few heap bytes are not freed: tests only)."""
        value = ctypes.create_string_buffer(_VALUE_BYTES)
        self.byte_array(value, data, len(data))
        return value

    def set_configuration(self, configuration: Mapping[str, Any]) -> None:
        """Call the offscreen platform's ``setConfiguration`` with ``configuration``."""
        interface = self.interface()
        if not interface:
            raise HotplugUnavailableError("the platform has no native interface")
        vtable = _P.from_address(interface).value
        assert vtable is not None
        function = (_P * (self.slot + 1)).from_address(vtable)[self.slot]
        if not function:
            raise HotplugUnavailableError("the native interface has no resource function")
        resource = ctypes.CFUNCTYPE(_P, _P, _P)(function)
        name = self.bytes_value(b"setConfiguration")
        setter = resource(interface, ctypes.addressof(name))
        if not setter:
            raise HotplugUnavailableError("the platform offers no setConfiguration")
        raw = self.bytes_value(json.dumps(configuration).encode())
        document = ctypes.create_string_buffer(_VALUE_BYTES)
        self.from_json(document, ctypes.addressof(raw), None)
        configuration_object = ctypes.create_string_buffer(_VALUE_BYTES)
        self.to_object(configuration_object, document)
        try:
            # static void setConfiguration(const QJsonObject &, QOffscreenPlatformNativeInterface *)
            ctypes.CFUNCTYPE(None, _P, _P)(setter)(
                ctypes.addressof(configuration_object), interface
            )
        finally:
            self.drop_object(configuration_object)
            self.drop_document(document)


_qt: _Qt | None = None


def set_screens(screens: Sequence[Mapping[str, Any]]) -> None:
    """Make the machine's screens ``screens`` (offscreen configuration entries with distinct
    names): screens not listed are unplugged, new ones plugged in, the others keep their
    ``QScreen``. Qt announces the changes as it does for real monitors."""
    global _qt
    names = [screen["name"] for screen in screens]
    if len(set(names)) != len(names):
        raise ValueError(f"screen names must differ: {names}")
    if _qt is None:
        _qt = _Qt()
    _qt.set_configuration({"screens": [dict(screen) for screen in screens]})


def current_screens() -> list[dict[str, Any]]:
    """The configuration entries of the screens there are now (to put them back later)."""
    return [screen_config(screen) for screen in QGuiApplication.screens()]

"""The core must not import Qt: every core module imports with PySide6 and pyqtgraph blocked."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import agora

CORE_PACKAGES = ("core", "config", "sources", "store", "bench", "engine", "cli", "reading")
CORE_MODULES = (
    "agora.service",
    "agora.netguard",
    "agora.decisions",
)

BLOCKER = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {"PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6"}:
            raise ImportError(f"Qt is blocked in the core: {name}")
        return None

sys.meta_path.insert(0, Block())
import importlib
for name in sys.argv[1:]:
    importlib.import_module(name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"PySide6", "pyqtgraph"})
assert not loaded, loaded
print("ok", len(sys.argv) - 1)
"""


def core_modules() -> list[str]:
    """Every module of the Qt-free packages."""
    root = Path(agora.__file__).parent
    names = list(CORE_MODULES)
    for package in CORE_PACKAGES:
        names.append(f"agora.{package}")
        for info in pkgutil.walk_packages([str(root / package)], prefix=f"agora.{package}."):
            names.append(info.name)
    return names


def test_core_imports_without_qt() -> None:
    modules = core_modules()
    assert len(modules) > 15
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, *modules],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_blocker_really_blocks() -> None:
    """The check above would be worthless if the blocker let Qt through."""
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, "agora.core.post", "PySide6.QtCore"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "Qt is blocked" in result.stderr

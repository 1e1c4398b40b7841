"""Hot reload: a saved change to the config file reaches the running wall within two seconds.

:class:`ConfigReloader` polls the config file (and the files it extends, and its theme file) with
a :class:`~agora.config.watch.ConfigWatcher` on a Qt timer. A valid new config is applied without
a restart and without losing data: the engine restarts only the sources whose entry changed and
rebuilds its figures from the store when topics, analytics or moderation rules changed; the wall
builds its screens again when anything they show changed (pages, panels, theme, topics). An
invalid file changes nothing: every problem is logged as ``config rejected: file:line: key:
message``, and a discreet notice stays on each screen's status line until a good file is saved.

The log lines ``config reloaded: …`` and ``config rejected: …`` are a contract: the end-to-end
tests wait for them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer

from agora.config.loader import ConfigError, LoadedConfig, load_config
from agora.config.schema import WallConfig
from agora.config.theme import is_theme_file
from agora.config.watch import POLL_INTERVAL_S, ConfigWatcher
from agora.ui.app import Wall, wall_theme

log = logging.getLogger("agora.ui.reload")

#: Key of the status-line message shown while the file on disk cannot be used.
STATUS_KEY = "config"


def watched_files(loaded: LoadedConfig) -> list[Path]:
    """The config file, the files it extends and its theme file."""
    files = list(loaded.files)
    if is_theme_file(loaded.config.wall.theme):
        files.append(Path(loaded.config.wall.theme))
    return files


def screens_changed(old: WallConfig, new: WallConfig) -> bool:
    """True when the screens must be built again: anything they show differs."""
    return (
        old.wall != new.wall
        or old.topics != new.topics
        or old.screens != new.screens
        or old.analytics != new.analytics
    )


class ConfigReloader(QObject):
    """Watches a running wall's config files and applies saved changes."""

    def __init__(
        self, wall: Wall, loaded: LoadedConfig, *, interval_s: float = POLL_INTERVAL_S
    ) -> None:
        super().__init__(wall)
        self.wall = wall
        self.loaded = loaded
        self.reloads = 0
        self.rejections = 0
        self.problem = ""
        """The notice on the status line while the file cannot be used (``""`` otherwise)."""
        self.watcher = ConfigWatcher(watched_files(loaded), settle=min(0.25, interval_s / 2))
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.poll)
        self._timer.start(max(50, int(interval_s * 1000)))

    def stop(self) -> None:
        """Stop watching."""
        self._timer.stop()

    def poll(self) -> None:
        """Look at the files; reload when one changed. Never raises."""
        try:
            changed = self.watcher.poll()
            if changed:
                self.reload(changed)
            elif self.problem:
                self._show_problem()  # screens built meanwhile (a screen plugged in) show it too
        except Exception:
            log.exception("config reload failed; the wall keeps its current config")

    def reload(self, changed: list[Path] | None = None) -> bool:
        """Read the config again and apply it; False (and the last good config kept) when the
        file cannot be used."""
        path = self.loaded.path
        names = ", ".join(p.name for p in changed or [path])
        try:
            loaded = load_config(path)
            if not loaded.config.screens:
                raise ValueError("no [[screens]] configured; nothing to show")
        except ConfigError as exc:
            for issue in exc.issues:
                log.warning("config rejected: %s", issue.format())
            self._reject(f"{len(exc.issues)} problem{'s' if len(exc.issues) != 1 else ''}")
            return False
        except (OSError, ValueError) as exc:
            log.warning("config rejected: %s: %s", path, exc)
            self._reject("it cannot be used")
            return False
        self.apply(loaded, names)
        return True

    def apply(self, loaded: LoadedConfig, what: str = "") -> None:
        """Apply a valid config to the engine and the screens."""
        old = self.loaded.config
        new = loaded.config
        self.loaded = loaded
        self.watcher.watch(watched_files(loaded))
        changes = self.wall.engine.reconfigure(new, config_dir=loaded.config_dir)
        if screens_changed(old, new):
            self.rebuild_screens(new)
            changes.append(f"screens rebuilt ({len(self.wall.windows)} window(s))")
        else:
            self.wall.config = new
        if old.wall.name != new.wall.name:
            log.warning(
                "wall.name changed from %r to %r: this run keeps its store; after a restart the "
                "wall opens the store named after the new name (rename the database file to keep "
                "its history)",
                old.wall.name,
                new.wall.name,
            )
        self.problem = ""
        self._show_problem()
        self.reloads += 1
        summary = "; ".join(changes) if changes else "nothing the wall shows changed"
        also = f" (changed: {what})" if what and what != loaded.path.name else ""
        log.info("config reloaded: %s%s: %s", loaded.path, also, summary)

    def rebuild_screens(self, config: WallConfig) -> None:
        """Build every screen window again for ``config``; the new windows are shown before
        the old ones close (the application never sees its last window close)."""
        wall = self.wall
        old_windows = dict(wall.windows)
        wall.windows.clear()
        wall.config = config
        wall.theme = wall_theme(config)
        wall.place()
        for index, window in wall.windows.items():
            before = old_windows.get(index)
            if before is not None:
                window.resume(before)  # an edit must not send every screen back to page one
        for window in old_windows.values():
            # even with no screen present now, closing old windows must not quit the wall
            window.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
            window.close()
            window.deleteLater()
        wall.tick()

    def _reject(self, why: str) -> None:
        self.rejections += 1
        self.problem = f"config not applied ({why}; see the log): showing the last good config"
        self._show_problem()
        log.warning(
            "config rejected: %s: %s; the wall keeps the last good config",
            self.loaded.path,
            why,
        )

    def _show_problem(self) -> None:
        for window in self.wall.windows.values():
            window.set_status(STATUS_KEY, self.problem)


def watch_config(wall: Wall, loaded: LoadedConfig) -> ConfigReloader:
    """Start hot reload for a running wall (``agora run`` calls this)."""
    reloader = ConfigReloader(wall, loaded)
    log.info(
        "watching %s for changes (hot reload)", ", ".join(str(p) for p in reloader.watcher.paths)
    )
    return reloader

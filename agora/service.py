"""Running a wall unattended: autostart, a supervisor, structured rotated logs and a watchdog.

Qt-free. ``agora install-autostart`` writes a systemd user unit (restarted on failure, started with
the graphical session, watched with ``WatchdogSec``) or, where there is no systemd, an XDG autostart
entry that runs the wall under :func:`supervise` (restart on a crash, with backoff). The wall logs
one JSON object a line to a rotating file (:func:`file_log_handler`) and plain lines on stderr (the
journal under systemd); :func:`install_redaction` keeps secrets out of both, out of any other
handler and out of uncaught tracebacks (see :mod:`agora.core.redact`), and every message free of
terminal escapes, control characters and URL queries. :class:`Watchdog` notices a UI thread that
stops ticking or a loop that hangs, logs it once, and stops confirming liveness to systemd so the
service manager restarts the wall.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from agora.core.redact import redact, remember_secrets

if TYPE_CHECKING:
    from sys import UnraisableHookArgs

log = logging.getLogger("agora.service")

#: Rotating log: this many bytes a file, this many old files kept (25 MB at most on disk).
LOG_BYTES = 5 * 2**20
LOG_BACKUPS = 4
#: A wall that exits with this status was asked to quit by a person: the supervisor stops too.
EXIT_QUIT = 0


# ---------------------------------------------------------------------------------------------
# structured logs


#: Set on a record once :func:`redact_record` cleaned it (handlers and formatters then skip it).
_CLEANED = "agora_redacted"
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    _CLEANED,
}
_LINE_BREAK = re.compile(r"\r\n|[\r\n]")


def clean_message(text: str) -> str:
    """A log message as any handler may write it: redacted (no secret, credential, URL query,
    terminal escape or control character), each line after the first indented, so that a
    server's text with a line break cannot pass for a record of its own in the journal."""
    clean = redact(text)
    if "\n" in clean or "\r" in clean:
        clean = _LINE_BREAK.sub("\n    ", clean.rstrip("\r\n"))
    return clean


def _cleaned(record: logging.LogRecord) -> bool:
    return bool(getattr(record, _CLEANED, False))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the fields given with ``extra=``
    (numbers a script can read, such as ``first_frame_s``) and an exception's type and trace.
    Every text in it is redacted (:func:`~agora.core.redact.redact`)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "t": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage() if _cleaned(record) else clean_message(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and isinstance(value, str | int | float | bool):
                entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            entry["error"] = redact(f"{type(exc).__name__}: {exc}")
            trace = record.exc_text or self.formatException(record.exc_info)
            entry["trace"] = trace if _cleaned(record) and record.exc_text else redact(trace)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The stderr (and so the journal's) line: ``time LEVEL logger: message``, redacted whole,
    traceback and stack included."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if _cleaned(record) else redact(text)


def redact_record(record: logging.LogRecord) -> None:
    """Clean a record's message (:func:`clean_message`), traceback and stack in place, for
    every handler it reaches (once: a record already cleaned is left alone)."""
    if _cleaned(record):
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it when a handler formats it
        return
    clean = clean_message(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = redact(_TRACE_FORMATTER.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    setattr(record, _CLEANED, True)


_TRACE_FORMATTER = logging.Formatter()


class RedactSecrets(logging.Filter):
    """Redacts a record before a handler writes it: the given secret values (remembered for the
    whole process), every secret the config has read, and credentials of any value.

    Sources never put secrets in their messages; this is the second line of defence (a server
    that echoes a token back in an error body, a URL with a key in it)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.set_secrets(secrets)

    def set_secrets(self, secrets: Iterable[str]) -> None:
        """More values to hide (short values are ignored: they would blank ordinary words)."""
        remember_secrets(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


class _RedactingFactory:
    """A log record factory that redacts each record as it is made, before any handler."""

    def __init__(self, previous: Callable[..., logging.LogRecord]) -> None:
        self.previous = previous

    def __call__(self, *args: object, **kwargs: object) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        redact_record(record)
        return record


def _write_trace(
    heading: str,
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    tb: TracebackType | None,
) -> None:
    text = heading + "".join(traceback.format_exception(exc_type, exc, tb))
    with contextlib.suppress(Exception):  # no stderr left: nothing more to do
        sys.stderr.write(redact(text))
        sys.stderr.flush()


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    _write_trace("", exc_type, exc, tb)


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    _write_trace(
        f"Exception in thread {name}:\n",
        args.exc_type,
        args.exc_value,
        args.exc_traceback,
    )


def _unraisablehook(unraisable: UnraisableHookArgs) -> None:
    where = f"{unraisable.err_msg or 'Exception ignored in'}: {unraisable.object!r}\n"
    _write_trace(where, unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback)


def install_redaction() -> None:
    """Redact every log record this process makes, whichever handler writes it (stderr and so
    the journal, the log file, the wall's status line), and tracebacks nobody caught (the main
    thread, other threads, ``__del__``): Python's own hooks would print them as they are.
    Idempotent."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(current))
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    sys.unraisablehook = _unraisablehook


def format_error(exc: BaseException, *, trace: bool = False) -> str:
    """An exception as one redacted line (``trace``: its redacted traceback)."""
    if trace:
        return redact("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return redact(str(exc))


def file_log_handler(
    path: Path,
    secrets: Iterable[str] = (),
    *,
    max_bytes: int = LOG_BYTES,
    backups: int = LOG_BACKUPS,
) -> logging.Handler:
    """A size-rotated JSON Lines log at ``path`` (at most ``max_bytes × (backups + 1)`` on
    disk), redacting ``secrets``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True
    )
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets(secrets))
    return handler


def stderr_log_handler() -> logging.Handler:
    """Log lines on stderr (under systemd: the journal), redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter())
    handler.addFilter(RedactSecrets())
    return handler


def default_log_dir() -> Path:
    """The platform's log directory for Agora (``~/.local/state/agora/log`` on Linux)."""
    from platformdirs import user_log_path

    return user_log_path("agora", appauthor=False)


_IMPORTED_AT = time.monotonic()


def process_age_s() -> float:
    """Seconds since this process started (from ``/proc``; else since Agora was imported)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as uptime:
            up = float(uptime.read().split()[0])
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return max(0.0, up - started)
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _IMPORTED_AT


def slug(name: str) -> str:
    """A file-name-safe form of a wall name: ``"Espoo lobby"`` → ``"espoo-lobby"``."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")
    return cleaned[:60] or "wall"


def config_secrets(config: object) -> list[str]:
    """Every secret value a loaded config holds (for :class:`RedactSecrets`)."""
    from pydantic import BaseModel

    from agora.config.schema import Secret

    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, Secret):
            found.append(value.get())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(config)
    return found


# ---------------------------------------------------------------------------------------------
# systemd notifications and the watchdog


def sd_notify(message: str, env: dict[str, str] | None = None) -> bool:
    """Send ``message`` (``READY=1``, ``WATCHDOG=1``, ``STATUS=…``) to systemd's notification
    socket when the wall runs under systemd. Returns whether it was sent; never raises."""
    address = (env if env is not None else os.environ).get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode("utf-8"))
    except OSError:
        return False
    return True


def watchdog_interval(env: dict[str, str] | None = None) -> float | None:
    """How often systemd wants a ``WATCHDOG=1`` (half of ``WATCHDOG_USEC``), or ``None``."""
    environ = env if env is not None else os.environ
    usec = environ.get("WATCHDOG_USEC")
    pid = environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return max(0.5, int(usec) / 1e6 / 2)
    except ValueError:
        return None


@dataclass(slots=True)
class _Beat:
    limit: float
    last: float
    stalled: bool = False


@dataclass(slots=True)
class Watchdog:
    """Heartbeats of the wall's loops, checked by a daemon thread.

    Each loop calls :meth:`beat` with its name (the UI tick, the ingest thread, the source
    loop). A loop silent for longer than its ``limit`` is logged once as stalled (and again when
    it recovers); while any loop is stalled the watchdog stops sending ``WATCHDOG=1``, so systemd
    restarts a wall that hangs. ``clock`` is monotonic time (injectable for tests).
    """

    clock: Callable[[], float] = time.monotonic
    notify: Callable[[str], bool] = sd_notify
    ping_every: float | None = None
    on_stall: Callable[[str, float], None] | None = None
    _beats: dict[str, _Beat] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _last_ping: float = 0.0
    _ready: threading.Event = field(default_factory=threading.Event)

    def ready(self) -> None:
        """The wall is up (``READY=1`` was sent): start pinging. A ping before it would tell
        systemd nothing (its watchdog starts with the service) and reads as a wall that skipped
        being ready."""
        self._ready.set()

    def watch(self, name: str, limit: float) -> None:
        """Start expecting beats from ``name`` at least every ``limit`` seconds."""
        with self._lock:
            self._beats[name] = _Beat(limit, self.clock())

    def forget(self, name: str) -> None:
        """Stop watching ``name`` (a loop that ended on purpose)."""
        with self._lock:
            self._beats.pop(name, None)

    def beat(self, name: str) -> None:
        """``name`` is alive (cheap: called from every tick)."""
        beat = self._beats.get(name)
        if beat is not None:
            beat.last = self.clock()

    def check(self) -> list[str]:
        """Log loops that stalled or recovered; ping systemd when all are alive. Returns the
        names of stalled loops."""
        now = self.clock()
        stalled: list[str] = []
        with self._lock:
            beats = list(self._beats.items())
        for name, beat in beats:
            silent = now - beat.last
            if silent > beat.limit:
                stalled.append(name)
                if not beat.stalled:
                    beat.stalled = True
                    log.error("watchdog: %s has not ticked for %.0f s", name, silent)
                    if self.on_stall is not None:
                        self.on_stall(name, silent)
            elif beat.stalled:
                beat.stalled = False
                log.warning("watchdog: %s is ticking again", name)
        if (
            not stalled
            and self.ping_every is not None
            and self._ready.is_set()
            and now - self._last_ping >= self.ping_every
        ):
            self._last_ping = now
            self.notify("WATCHDOG=1")
        return stalled

    def start(self, every: float = 1.0) -> None:
        """Check every ``every`` seconds on a daemon thread until :meth:`stop`."""

        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    self.check()
                except Exception:  # the watchdog itself must never take the wall down
                    log.exception("watchdog check failed")

        self._thread = threading.Thread(target=loop, name="agora-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the checking thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)


# ---------------------------------------------------------------------------------------------
# supervision without systemd


def supervise(
    command: Sequence[str],
    *,
    max_backoff: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    run: Callable[[Sequence[str]], int] | None = None,
    max_restarts: int | None = None,
) -> int:
    """Run ``command`` and start it again whenever it fails, waiting 1, 2, 4 … ``max_backoff``
    seconds (reset after a run that lasted ten minutes). Returns when it exits 0 (a person quit
    the wall) or after ``max_restarts`` restarts."""

    def default_run(argv: Sequence[str]) -> int:
        return subprocess.call(list(argv))

    runner = run or default_run
    delay = 1.0
    restarts = 0
    while True:
        started = time.monotonic()
        status = runner(command)
        if status == EXIT_QUIT:
            return status
        if time.monotonic() - started > 600:
            delay = 1.0
        if max_restarts is not None and restarts >= max_restarts:
            return status
        log.error("the wall exited with status %s; starting it again in %.0f s", status, delay)
        sleep(delay)
        restarts += 1
        delay = min(max_backoff, delay * 2)


# ---------------------------------------------------------------------------------------------
# autostart files

AutostartKind = Literal["systemd", "xdg"]


@dataclass(frozen=True, slots=True)
class Autostart:
    """What :func:`install_autostart` wrote and what a person runs next."""

    kind: AutostartKind
    path: Path
    enable: list[str]
    undo: list[str]
    env_file: Path | None = None


def _exec_line(config: Path, data_dir: Path | None, supervised: bool) -> list[str]:
    argv = [sys.executable, "-m", "agora", "run", str(config)]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    if supervised:
        argv.append("--supervise")
    return argv


def systemd_unit(
    name: str, config: Path, data_dir: Path | None, env_file: Path, watchdog_s: int = 60
) -> str:
    """The text of a systemd user unit running the wall ``name``."""
    exec_start = shlex.join(_exec_line(config, data_dir, supervised=False))
    return f"""\
# Agora wall "{name}", written by `agora install-autostart`.
[Unit]
Description=Agora wall: {name}
After=graphical-session.target
PartOf=graphical-session.target
StartLimitIntervalSec=600
StartLimitBurst=20

[Service]
Type=notify
NotifyAccess=main
# secrets the config reads with "env:NAME" go in this file, one NAME=value a line
EnvironmentFile=-{env_file}
ExecStart={exec_start}
Restart=on-failure
RestartSec=5
WatchdogSec={watchdog_s}
TimeoutStopSec=10

[Install]
WantedBy=graphical-session.target
"""


def xdg_entry(name: str, config: Path, data_dir: Path | None) -> str:
    """The text of an XDG autostart entry running the wall ``name`` under the supervisor."""
    exec_line = " ".join(
        _desktop_quote(arg) for arg in _exec_line(config, data_dir, supervised=True)
    )
    return f"""\
[Desktop Entry]
Type=Application
Name=Agora wall: {name}
Comment=Written by agora install-autostart; restarted by its supervisor after a crash
Exec={exec_line}
Terminal=false
X-GNOME-Autostart-enabled=true
"""


def _desktop_quote(arg: str) -> str:
    if re.fullmatch(r"[\w@%+=:,./-]+", arg):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{escaped}"'


def has_systemd_user(run: Callable[[Sequence[str]], int] | None = None) -> bool:
    """Whether a systemd user manager answers (``systemctl --user`` works)."""
    if shutil.which("systemctl") is None:
        return False
    runner = run or (
        lambda argv: subprocess.call(
            list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=5
        )
    )
    try:
        return runner(["systemctl", "--user", "is-system-running"]) in (0, 1)
    except (OSError, subprocess.SubprocessError):
        return False


def install_autostart(
    name: str,
    config: Path,
    data_dir: Path | None,
    *,
    kind: AutostartKind,
    config_home: Path,
) -> Autostart:
    """Write the autostart file for the wall ``name`` under ``config_home`` (``~/.config``)."""
    config = config.resolve()
    data_dir = data_dir.resolve() if data_dir is not None else None
    unit_name = f"agora-{slug(name)}"
    if kind == "systemd":
        path = config_home / "systemd" / "user" / f"{unit_name}.service"
        env_file = config_home / "agora" / f"{slug(name)}.env"
        text = systemd_unit(name, config, data_dir, env_file)
        enable = [
            "systemctl --user daemon-reload",
            f"systemctl --user enable --now {unit_name}.service",
        ]
        undo = [
            f"systemctl --user disable --now {unit_name}.service",
            f"rm {shlex.quote(str(path))}",
            "systemctl --user daemon-reload",
        ]
    else:
        path = config_home / "autostart" / f"{unit_name}.desktop"
        env_file = None
        text = xdg_entry(name, config, data_dir)
        enable = ["log out and in again (or start the wall now with `agora run`)"]
        undo = [f"rm {shlex.quote(str(path))}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return Autostart(kind, path, enable, undo, env_file)


def enable_autostart(result: Autostart, run: Callable[[Sequence[str]], int] | None = None) -> bool:
    """Run the enable commands of a systemd unit; returns whether they all succeeded."""
    if result.kind != "systemd":
        return True
    runner = run or (lambda argv: subprocess.call(list(argv), timeout=30))
    ok = True
    for command in result.enable:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            if runner(shlex.split(command)) == 0:
                continue
        ok = False
        break
    return ok

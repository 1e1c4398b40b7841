"""A throw-away PostgreSQL server: started in a temporary directory, removed afterwards.

``agora bench fanout`` measures on one when it is given no ``--url``, and the test suite runs its
PostgreSQL tests on them (tests/pgserver.py adds pytest's skip rule). The Debian ``postgresql``
package's ``initdb`` and ``pg_ctl`` make the cluster, owned by an unprivileged user (PostgreSQL
refuses to run as root: as root, the ``postgres`` user the package created runs it). The server
listens on a free port of 127.0.0.1 only, with its socket inside the directory, and asks TCP
clients for a password (so the stores' password path is the one used). Every server stops at the
end: by :func:`running_server`, at exit, and a server left behind by a killed process is stopped
by the next :func:`running_server`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: Where the throw-away clusters live (``/tmp`` is reachable by the server's user; pytest's own
#: temporary directories are private to the user running the tests).
_PREFIX = "agora-pg-"
#: The superuser of a throw-away cluster.
SUPERUSER = "postgres"


def find_bindir() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: ``AGORA_PG_BINDIR``, the newest Debian
    ``/usr/lib/postgresql/<version>/bin``, else ``initdb`` on the PATH."""
    given = os.environ.get("AGORA_PG_BINDIR")
    if given:
        return Path(given) if (Path(given) / "initdb").is_file() else None
    found = []
    for initdb in Path("/usr/lib/postgresql").glob("*/bin/initdb"):
        version = initdb.parent.parent.name
        if version.isdigit():
            found.append((int(version), initdb.parent))
    if found:
        return max(found)[1]
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _unprivileged_user() -> pwd.struct_passwd | None:
    """Who runs the server: ourselves unless we are root; then the ``postgres`` user of the
    Debian package (or ``nobody``)."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    return None


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Database:
    """A clean place on a throw-away server: a database, or a schema of one (``schema``: the URL
    points ``search_path`` at it, so a store sees only its own tables). Its URL has no password;
    ``env`` is the environment a subprocess needs to reach it."""

    url: str
    password: str
    name: str
    server: PgServer
    schema: str = ""

    @property
    def admin_conninfo(self) -> str:
        """The superuser's connection string, in the same place as the URL."""
        info = self.server.admin_conninfo(self.name)
        return f"{info} options=-csearch_path={self.schema}" if self.schema else info

    @property
    def env(self) -> dict[str, str]:
        """The environment of a process that reads the password with ``env:AGORA_DB_PASSWORD``."""
        return {**os.environ, "AGORA_DB_PASSWORD": self.password}


@dataclass
class PgServer:
    """A throw-away PostgreSQL cluster: ``start()``, ``restart()``, ``stop()``, ``remove()``.

    ``durable``: keep PostgreSQL's default flushing (for measurements); otherwise ``fsync`` is
    turned off, which changes nothing across a server restart or crash (the OS keeps what was
    written), only across a crash of the machine. ``max_connections``: the server's limit (a
    benchmark of many walls needs two a wall).
    """

    bindir: Path
    durable: bool = False
    max_connections: int = 200
    port: int = 0
    root: Path = field(default_factory=Path)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    _user: pwd.struct_passwd | None = None
    _databases: int = 0

    # -- running commands as the server's user ---------------------------------------------------

    def _as_user(self, argv: Sequence[str]) -> list[str]:
        user = self._user
        if user is None or user.pw_uid == os.geteuid():
            return list(argv)
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", user.pw_name, "--", *argv]
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            raise RuntimeError("neither runuser nor setpriv is available to drop root")
        return [
            setpriv,
            f"--reuid={user.pw_uid}",
            f"--regid={user.pw_gid}",
            "--init-groups",
            "--",
            *argv,
        ]

    def _run(self, argv: Sequence[str], timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._as_user(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "LC_ALL": "C", "PGTZ": "UTC"},
        )

    @property
    def data(self) -> Path:
        """The cluster's data directory."""
        return self.root / "data"

    @property
    def sockets(self) -> Path:
        """The directory of the server's Unix socket."""
        return self.root / "sock"

    @property
    def log(self) -> Path:
        """The server's log file (shown when it fails to start)."""
        return self.root / "server.log"

    # -- life cycle ---------------------------------------------------------------------------------

    def init(self) -> None:
        """Make the cluster in a new temporary directory owned by the server's user."""
        self._user = _unprivileged_user()
        self.root = Path(tempfile.mkdtemp(prefix=_PREFIX))
        (self.root / "owner").write_text(str(os.getpid()))
        self.sockets.mkdir()
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self._user is not None and self._user.pw_uid != os.geteuid():
            for path in (self.root, self.sockets, pwfile):
                os.chown(path, self._user.pw_uid, self._user.pw_gid)
        pwfile.chmod(0o600)
        done = self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.sockets}'",
            f"max_connections = {self.max_connections}",
            "log_min_messages = warning",
            "timezone = 'UTC'",
        ]
        if not self.durable:
            # commits still write the WAL before they answer (synchronous_commit stays on, or a
            # crash would lose acknowledged writes); only the flush to the disk is skipped
            settings += ["fsync = off"]
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")

    def start(self) -> None:
        """Start the server on a free port and wait until it accepts connections."""
        for attempt in range(5):
            self.port = free_port()
            done = self._pg_ctl("start")
            if done.returncode == 0:
                self.wait_ready()
                return
            text = self.log.read_text(errors="replace") if self.log.exists() else done.stderr
            if "already in use" not in text or attempt == 4:
                raise RuntimeError(f"PostgreSQL did not start: {done.stderr.strip()}\n{text}")

    def _pg_ctl(self, action: str, *options: str) -> subprocess.CompletedProcess[str]:
        """``pg_ctl start`` or ``restart`` of this server on :attr:`port`, waiting up to 120 s."""
        command = [str(self.bindir / "pg_ctl"), action, "-D", str(self.data), *options]
        command += ["-l", str(self.log), "-w", "-t", "120", "-o", f"-p {self.port}"]
        return self._run(command, timeout=180)

    def wait_ready(self, deadline_s: float = 60.0) -> None:
        """Wait until a client can log in over TCP (the condition, not a fixed time)."""
        import psycopg

        deadline = time.monotonic() + deadline_s
        while True:
            try:
                with psycopg.connect(self.admin_conninfo("postgres"), connect_timeout=3):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def restart(self) -> None:
        """Stop the server (fast: every client is disconnected) and start it on the same port."""
        done = self._pg_ctl("restart", "-m", "fast")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl restart failed: {done.stderr.strip()}")
        self.wait_ready()

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate`` when fast does not work)."""
        if not (self.data / "postmaster.pid").exists():
            return
        pg_ctl = str(self.bindir / "pg_ctl")
        done = self._run([pg_ctl, "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60"])
        if done.returncode != 0 and mode != "immediate":
            self._run([pg_ctl, "stop", "-D", str(self.data), "-m", "immediate", "-w"])

    def start_again(self) -> None:
        """Start a stopped server on its old port (clients reconnect to the same address)."""
        done = self._pg_ctl("start")
        if done.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start again: {done.stderr.strip()}")
        self.wait_ready()

    def remove(self) -> None:
        """Stop the server and delete its directory (no shutdown checkpoint: nothing is kept)."""
        with contextlib.suppress(Exception):
            self.stop("immediate")
        if self.root != Path() and self.root.name.startswith(_PREFIX):
            shutil.rmtree(self.root, ignore_errors=True)

    # -- databases ----------------------------------------------------------------------------------

    def admin_conninfo(self, dbname: str) -> str:
        """A superuser's connection string for ``dbname`` over TCP (with the password)."""
        return (
            f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={dbname} "
            f"password={self.password}"
        )

    def url(self, dbname: str) -> str:
        """The URL of a database, without the password (as a wall's config writes it)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str | None = None) -> Database:
        """A new empty database."""
        import psycopg

        if name is None:
            self._databases += 1
            name = f"agora_test_{self._databases}"
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"not a plain database name: {name}")
        with psycopg.connect(self.admin_conninfo("postgres"), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return Database(self.url(name), self.password, name, self)

    def fresh_schema(self, database: Database) -> Database:
        """A new empty schema in ``database``: as clean as a new database for a store, and
        made in milliseconds where a database takes a second on a busy machine."""
        import psycopg

        self._databases += 1
        schema = f"t{self._databases}"
        with psycopg.connect(self.admin_conninfo(database.name), autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
        url = f"{database.url}?options=-csearch_path%3D{schema}"
        return Database(url, self.password, database.name, self, schema)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned(bindir: Path) -> None:
    """Stop and delete the clusters of runs (tests, benchmarks) that died without cleaning up
    (killed)."""
    for root in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        try:
            owner = int((root / "owner").read_text())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        stale = PgServer(bindir, root=root, _user=_unprivileged_user())
        stale.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


class ServerUnavailableError(RuntimeError):
    """No throw-away server can be started here (the message says why, in plain words)."""


def missing_reason() -> str:
    """Why no server can be started here (no binaries, or root with nobody to run it); ``""``
    when one can."""
    if find_bindir() is None:
        return (
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install the postgresql "
            "package (apt-get install postgresql) or set AGORA_PG_BINDIR"
        )
    if _unprivileged_user() is None:
        return "running as root and no unprivileged user (postgres, nobody) to run PostgreSQL"
    return ""


@contextlib.contextmanager
def running_server(durable: bool = False, max_connections: int = 200) -> Iterator[PgServer]:
    """A started server, stopped and removed afterwards (also when the process exits early).
    Raises :class:`ServerUnavailableError` when none can be started here."""
    why = missing_reason()
    bindir = find_bindir()
    if why or bindir is None:
        raise ServerUnavailableError(why)
    remove_abandoned(bindir)
    server = PgServer(bindir, durable=durable, max_connections=max_connections)
    atexit.register(server.remove)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()
        atexit.unregister(server.remove)

"""The real store: one SQLite database in WAL mode per wall.

One connection shared by the ingest thread and the UI thread, guarded by a lock; every write is
one short transaction so the wall never waits long for it. Posts are kept as compact JSON arrays
(:meth:`~agora.core.post.Post.to_row`; stores of schema 2 hold the objects ``agora fetch`` prints,
and both are read) beside the columns queries need. The schema is versioned with
``PRAGMA user_version`` and upgraded by :data:`MIGRATIONS` in order.

Every insert, update and deletion of a post takes the next change number (deletions leave a
tombstone), so a reader can follow the posts with :meth:`SqliteStore.changes` as it follows a
shared PostgreSQL store; leases are kept on this machine's clock.

What a batch of posts costs is mostly the pages its transaction writes to the WAL: a post's row,
its entries in the indexes the reads need (id, time, change number), and the database header.
The last change number is therefore read from the ends of those indexes instead of being kept in
a row of its own, which every commit would write once more. ``synchronous=NORMAL`` in WAL mode
writes no sync at a commit, only at a checkpoint: a committed batch survives a crash of the
process (the tests kill a wall mid-run), and a power cut can take back the last batches since
the last checkpoint, never leaving a damaged file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from agora.core.post import Moderation, ModerationState, Post
from agora.core.storage import StoreUnavailableError
from agora.store.base import Change, Decision, Store, decode_post

#: Schema upgrades: ``MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE posts (
        id       TEXT NOT NULL UNIQUE,
        created  REAL NOT NULL,
        source   TEXT NOT NULL,
        body     TEXT NOT NULL
    );
    CREATE INDEX posts_created ON posts (created);
    CREATE TABLE cursors (
        source   TEXT PRIMARY KEY,
        value    TEXT NOT NULL,
        updated  REAL NOT NULL
    );
    CREATE TABLE decisions (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        action   TEXT NOT NULL,
        target   TEXT NOT NULL,
        actor    TEXT NOT NULL,
        at       REAL NOT NULL,
        reason   TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE state (
        key      TEXT PRIMARY KEY,
        value    TEXT NOT NULL
    );
    """,
    # 1 → 2: the moderation state beside the body, for the approval queue
    """
    ALTER TABLE posts ADD COLUMN state TEXT NOT NULL DEFAULT 'approved';
    UPDATE posts SET state = coalesce(json_extract(body, '$.moderation.state'), 'approved')
        WHERE json_valid(body);
    CREATE INDEX posts_pending ON posts (created) WHERE state = 'pending';
    CREATE INDEX decisions_target ON decisions (target);
    """,
    # 2 → 3: new rows keep the post as the compact array of Post.to_row (older rows stay objects,
    # read as before); the version tells an older Agora that it cannot read this store
    "",
    # 3 → 4: a change number on every post (posts already stored are numbered in the order they
    # came) and tombstones of deleted posts, for followers; who made a decision and its own id
    # (saving it twice adds it once); source leases
    """
    ALTER TABLE posts ADD COLUMN change INTEGER NOT NULL DEFAULT 0;
    UPDATE posts SET change = rowid;
    CREATE INDEX posts_change ON posts (change);
    CREATE TABLE counters (
        name     TEXT PRIMARY KEY,
        value    INTEGER NOT NULL
    );
    INSERT INTO counters (name, value) SELECT 'change', coalesce(max(change), 0) FROM posts;
    CREATE TABLE deletions (
        seq      INTEGER PRIMARY KEY,
        id       TEXT NOT NULL,
        at       REAL NOT NULL
    );
    ALTER TABLE decisions ADD COLUMN origin TEXT NOT NULL DEFAULT '';
    ALTER TABLE decisions ADD COLUMN uid TEXT;
    CREATE UNIQUE INDEX decisions_uid ON decisions (uid);
    CREATE TABLE leases (
        name     TEXT PRIMARY KEY,
        holder   TEXT NOT NULL,
        expires  REAL NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

_CHUNK = 500  # ids per IN (...) query, well under SQLite's variable limit
_ROWS_PER_INSERT = 50  # posts per INSERT statement (300 variables)
#: the last change number given: the highest a post or a tombstone carries, or the counter
#: (see :meth:`SqliteStore._last_change`); each part is one look at the end of an index
_LAST_CHANGE = (
    "SELECT max(coalesce((SELECT value FROM counters WHERE name = 'change'), 0), "
    "coalesce((SELECT max(change) FROM posts), 0), "
    "coalesce((SELECT max(seq) FROM deletions), 0))"
)
_PAGE = 2_000  # posts per page when iterating


@functools.lru_cache(maxsize=_ROWS_PER_INSERT)
def _insert_posts(count: int) -> str:
    """The statement that inserts ``count`` posts (a post already stored is left alone)."""
    values = ", ".join(["(?, ?, ?, ?, ?, ?)"] * count)
    return f"INSERT OR IGNORE INTO posts (id, created, source, body, state, change) VALUES {values}"


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection, begin: str = "BEGIN") -> Iterator[None]:
    """One explicit transaction: committed, or rolled back on any error. The error raised is
    the original one: SQLite rolls a transaction back by itself on some errors (a full disk),
    and a ``ROLLBACK`` then would fail with "no transaction is active" and hide why."""
    db.execute(begin)
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        raise


def describe_failure(exc: BaseException, path: Path) -> str:
    """What went wrong with the database at ``path``, in plain words (a full disk said so)."""
    if isinstance(exc, sqlite3.Error) and (
        getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        or "disk is full" in str(exc).lower()
    ):
        return f"the disk is full: {path} cannot grow ({exc})"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"the disk is full: {path} cannot grow ({exc.strerror or exc})"
    if isinstance(exc, OSError) and str(path) in str(exc):
        return str(exc)  # it names the file already ("… was removed or replaced …")
    return f"{path} failed while running ({exc})"


class StoreOpenError(Exception):
    """The database cannot be used; the message says why in plain words."""


def _plain(exc: sqlite3.Error, path: Path) -> str:
    text = str(exc)
    lowered = text.lower()
    if "not a database" in lowered or "malformed" in lowered:
        return f"{path} is damaged ({text}); it is left untouched for inspection"
    if "locked" in lowered or "busy" in lowered:
        return f"{path} is locked by another program (is another wall running on it?)"
    if "readonly" in lowered or "read-only" in lowered:
        return f"{path} is read-only"
    if "unable to open" in lowered:
        return f"{path} cannot be opened ({text})"
    if "disk is full" in lowered:
        return f"the disk is full: {path} cannot grow ({text})"
    return f"{path}: {text}"


class SqliteStore(Store):
    """Posts, cursors, decisions and state in one SQLite file. Raises :class:`StoreOpenError`
    from the constructor when the file cannot be used for reading *and* writing.

    ``readonly``: open an existing database for reading only (``mode=ro``), as the commands that
    look at a running wall's store do: nothing is created, migrated or written (SQLite refuses
    every write), and the wall may go on writing meanwhile (WAL readers never block it)."""

    kind = "sqlite"

    def __init__(
        self, path: Path | str, *, busy_timeout_s: float = 2.0, readonly: bool = False
    ) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.status = f"sqlite: {self.path}" + (" (read-only)" if readonly else "")
        self._lock = threading.RLock()
        self._closed = False
        self._version = 0
        if readonly:
            if not self.path.is_file():
                raise StoreOpenError(f"{self.path}: no such database")
        else:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                why = exc.strerror or str(exc)
                if isinstance(exc, FileExistsError | NotADirectoryError):
                    why = "a file is in the way where the directory should be"
                raise StoreOpenError(f"cannot create {self.path.parent} ({why})") from None
        try:
            self._db = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro" if readonly else self.path,
                timeout=busy_timeout_s,
                check_same_thread=False,
                isolation_level=None,  # explicit BEGIN/COMMIT
                uri=readonly,
            )
        except sqlite3.Error as exc:
            raise StoreOpenError(_plain(exc, self.path)) from None
        try:
            if readonly:
                self._check_version()
            else:
                self._prepare()
        except sqlite3.Error as exc:
            self._db.close()
            raise StoreOpenError(_plain(exc, self.path)) from None
        except StoreOpenError:
            self._db.close()
            raise
        self._identity = self._file_identity()

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_dev, stat.st_ino

    def check_file(self) -> None:
        """Raise ``OSError`` when the database file was removed or replaced while open (SQLite
        would go on writing to the removed file, and everything would be lost at the restart)."""
        if self._file_identity() != self._identity:
            raise OSError(f"{self.path} was removed or replaced while the wall was running")

    def _prepare(self) -> None:
        db = self._db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        check = db.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed: {check}")
        version = self._check_version()
        # proves the file is writable and not locked, and applies pending migrations atomically
        with _transaction(db, "BEGIN IMMEDIATE"):
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self._version = SCHEMA_VERSION

    def _check_version(self) -> int:
        """The schema version; raises when a newer Agora wrote the file."""
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        self._version = version
        if version > SCHEMA_VERSION:
            raise StoreOpenError(
                f"{self.path} was written by a newer Agora (schema {version}, this one knows "
                f"{SCHEMA_VERSION}); it is left untouched"
            )
        return version

    @property
    def schema_version(self) -> int:
        """The database's schema version."""
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    # -- posts -------------------------------------------------------------------------------

    def add_posts(self, posts: Sequence[Post]) -> int:
        if not posts:
            return 0
        latest: dict[str, Post] = {}
        for post in posts:
            latest[post.id] = post
        with self._lock:
            db = self._db
            try:
                with _transaction(db, "BEGIN IMMEDIATE"):
                    base = self._last_change()
                    rows = [
                        (
                            p.id,
                            p.created_at.timestamp(),
                            p.source,
                            p.to_row(),
                            p.moderation.state,
                            base + n,
                        )
                        for n, p in enumerate(latest.values(), 1)
                    ]
                    before = db.total_changes
                    # a few rows in one statement: one step of SQLite instead of one per row
                    for start in range(0, len(rows), _ROWS_PER_INSERT):
                        chunk = rows[start : start + _ROWS_PER_INSERT]
                        db.execute(_insert_posts(len(chunk)), [v for row in chunk for v in row])
                    new = db.total_changes - before
                    if new < len(rows):
                        # posts stored before this batch carry numbers up to ``base``: only
                        # they are updated, not the rows just inserted
                        db.executemany(
                            "UPDATE posts SET body = ?, state = ?, change = ? "
                            "WHERE id = ? AND change <= ?",
                            [(r[3], r[4], r[5], r[0], base) for r in rows],
                        )
            except (sqlite3.OperationalError, OSError) as exc:
                # the database cannot write (full disk, I/O, locked, read-only): not the posts'
                # fault, and the caller must not take it for theirs
                raise StoreUnavailableError(describe_failure(exc, self.path)) from exc
        return new

    def _last_change(self) -> int:
        """The last change number given (inside a write transaction); the next ones follow it.

        It is read, not written: the highest number a post or a tombstone carries, or the
        counter if that is higher. Keeping a counter row up to date would write one more
        database page at every commit (five pages instead of four for a post on its own); the
        counter is written only when rows go without a tombstone (:meth:`prune`), so numbers
        never go back."""
        return int(self._db.execute(_LAST_CHANGE).fetchone()[0])

    def get_post(self, post_id: str) -> Post | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM posts WHERE id = ?", (post_id,)).fetchone()
        return decode_post(row[0]) if row else None

    def get_posts(self, post_ids: Iterable[str]) -> dict[str, Post | None]:
        ids = list(dict.fromkeys(post_ids))
        rows: list[tuple[str, str]] = []
        with self._lock:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows.extend(
                    self._db.execute(f"SELECT id, body FROM posts WHERE id IN ({marks})", chunk)
                )
        return {post_id: decode_post(body) for post_id, body in rows}

    def delete_posts(self, post_ids: Iterable[str]) -> int:
        ids = list(dict.fromkeys(post_ids))
        removed = 0
        now = time.time()
        with self._lock:
            db = self._db
            with _transaction(db, "BEGIN IMMEDIATE"):
                # taken before the deletions: the post deleted may carry the last number
                seq = self._last_change()
                for post_id in ids:
                    if db.execute("DELETE FROM posts WHERE id = ?", (post_id,)).rowcount > 0:
                        seq += 1
                        db.execute(
                            "INSERT INTO deletions (seq, id, at) VALUES (?, ?, ?)",
                            (seq, post_id, now),
                        )
                        removed += 1
        return removed

    def iter_posts(self, since: datetime | None = None) -> Iterator[Post]:
        # keyset pagination: the lock is held per page, never while the caller works
        after = (since.timestamp() if since else float("-inf"), "")
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT created, id, body FROM posts WHERE (created, id) > (?, ?) "
                    "ORDER BY created, id LIMIT ?",
                    (after[0], after[1], _PAGE),
                ).fetchall()
            for _created, _id, body in rows:
                post = decode_post(body)
                if post is not None:
                    yield post
            if len(rows) < _PAGE:
                return
            after = (rows[-1][0], rows[-1][1])

    def newest_time(self) -> datetime | None:
        with self._lock:
            row = self._db.execute("SELECT max(created) FROM posts").fetchone()
        return datetime.fromtimestamp(row[0], UTC) if row and row[0] is not None else None

    def count_posts(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM posts").fetchone()[0])

    def prune(self, before: datetime, batch: int = 2_000) -> int:
        with self._lock:
            db = self._db
            with _transaction(db, "BEGIN IMMEDIATE"):
                # posts and tombstones go without a tombstone of their own: the counter keeps
                # the last number given, so no number is given twice
                db.execute(f"UPDATE counters SET value = ({_LAST_CHANGE}) WHERE name = 'change'")
                cursor = db.execute(
                    "DELETE FROM posts WHERE id IN "
                    "(SELECT id FROM posts WHERE created < ? ORDER BY created LIMIT ?)",
                    (before.timestamp(), batch),
                )
                # tombstones older than the posts kept: a follower that far behind reads afresh
                db.execute("DELETE FROM deletions WHERE at < ?", (before.timestamp(),))
            return cursor.rowcount

    def set_moderation(self, post_id: str, moderation: Moderation) -> bool:
        with self._lock:
            row = self._db.execute("SELECT body FROM posts WHERE id = ?", (post_id,)).fetchone()
        post = decode_post(row[0]) if row else None
        if post is None:
            return False
        body = post.with_moderation(moderation).to_row()
        with self._lock, _transaction(self._db, "BEGIN IMMEDIATE"):
            change = self._last_change() + 1
            cursor = self._db.execute(
                "UPDATE posts SET body = ?, state = ?, change = ? WHERE id = ?",
                (body, moderation.state, change, post_id),
            )
        return cursor.rowcount > 0

    def posts_in_state(self, state: ModerationState, limit: int = 100) -> list[Post]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM posts WHERE state = ? ORDER BY created DESC LIMIT ?",
                (state, limit),
            ).fetchall()
        return [post for (body,) in rows if (post := decode_post(body)) is not None]

    # -- cursors -----------------------------------------------------------------------------

    def get_cursor(self, source: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM cursors WHERE source = ?", (source,)
            ).fetchone()
        return str(row[0]) if row else None

    def set_cursor(self, source: str, value: str | None) -> None:
        with self._lock:
            if value is None:
                self._db.execute("DELETE FROM cursors WHERE source = ?", (source,))
            else:
                self._db.execute(
                    "INSERT INTO cursors (source, value, updated) VALUES (?, ?, ?) "
                    "ON CONFLICT(source) DO UPDATE SET value = excluded.value, "
                    "updated = excluded.updated",
                    (source, value, datetime.now(UTC).timestamp()),
                )

    # -- decisions ---------------------------------------------------------------------------

    def add_decision(self, decision: Decision) -> Decision:
        with self._lock, _transaction(self._db, "BEGIN IMMEDIATE"):
            if decision.uid:
                known = self._decisions_where("uid = ?", (decision.uid,))
                if known:
                    return known[0]
            cursor = self._db.execute(
                "INSERT INTO decisions (action, target, actor, at, reason, origin, uid) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    decision.action,
                    decision.target,
                    decision.actor,
                    decision.at.timestamp(),
                    decision.reason,
                    decision.origin,
                    decision.uid or None,
                ),
            )
            seq = int(cursor.lastrowid or 0)
        return dataclasses.replace(decision, seq=seq)

    def prune_decisions(self, before: datetime) -> int:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM decisions WHERE at < ? AND action NOT IN ('block', 'unblock') "
                "AND NOT EXISTS (SELECT 1 FROM posts WHERE posts.id = decisions.target)",
                (before.timestamp(),),
            )
        return cursor.rowcount

    def decisions(self, after_seq: int = 0) -> list[Decision]:
        with self._lock:
            return self._decisions_where("seq > ?", (after_seq,))

    def _decisions_where(self, where: str, args: tuple[object, ...]) -> list[Decision]:
        # a read-only look at an older wall's file has no origin or uid yet
        extra = "origin, uid" if self._version >= 4 else "'', NULL"
        rows = self._db.execute(
            f"SELECT seq, action, target, actor, at, reason, {extra} FROM decisions "
            f"WHERE {where} ORDER BY seq",
            args,
        ).fetchall()
        return [
            Decision(
                action,
                target,
                actor,
                datetime.fromtimestamp(at, UTC),
                reason,
                int(seq),
                origin,
                uid or "",
            )
            for seq, action, target, actor, at, reason, origin, uid in rows
        ]

    # -- following changes -------------------------------------------------------------------

    def changes(self, after_seq: int = 0, limit: int = 1_000) -> list[Change]:
        if self._version < 4:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM ("
                " SELECT * FROM (SELECT change, id, body, 0 FROM posts WHERE change > ?"
                "  ORDER BY change LIMIT ?)"
                " UNION ALL"
                " SELECT * FROM (SELECT seq, id, NULL, 1 FROM deletions WHERE seq > ?"
                "  ORDER BY seq LIMIT ?)"
                ") ORDER BY 1 LIMIT ?",
                (after_seq, limit, after_seq, limit, limit),
            ).fetchall()
        return [
            Change(int(seq), post_id, None, True)
            if deleted
            else Change(int(seq), post_id, decode_post(body))
            for seq, post_id, body, deleted in rows
        ]

    def newest_change(self) -> int:
        if self._version < 4:
            return 0
        with self._lock:
            return int(self._db.execute(_LAST_CHANGE).fetchone()[0])

    # -- leases ------------------------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        now = time.time()
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, "
                "expires = excluded.expires "
                "WHERE leases.holder = excluded.holder OR leases.expires <= ?",
                (name, holder, now + ttl_s, now),
            )
        return cursor.rowcount > 0

    def release_lease(self, name: str, holder: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def lease_holder(self, name: str) -> str | None:
        if self._version < 4:
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT holder FROM leases WHERE name = ? AND expires > ?", (name, time.time())
            ).fetchone()
        return str(row[0]) if row else None

    # -- state -------------------------------------------------------------------------------

    def get_state(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def states(self, prefix: str) -> dict[str, str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key, value FROM state WHERE substr(key, 1, ?) = ?", (len(prefix), prefix)
            ).fetchall()
        return {str(k): str(v) for k, v in rows}

    def set_state(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if not self.readonly:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("PRAGMA optimize")
            self._db.close()

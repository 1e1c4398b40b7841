"""One store shared by many walls: PostgreSQL, through psycopg 3.

Collectors write posts, cursors and source health; walls in every office follow the posts and
decisions and write their own decisions and health. What makes that safe:

- **Migrations** are versioned (:data:`MIGRATIONS`, recorded in ``agora_schema``) and run inside
  one transaction that holds an advisory lock: one process migrates, the others wait for the lock,
  then see the new version and do nothing. A database of a newer version is refused, untouched.
- **Change numbers.** Every insert, update and deletion of a post takes the next number of one
  sequence, and every writer of posts takes one transaction-level advisory lock first, so
  transactions get their numbers in the order they become visible: a follower reading "everything
  after n" never sees n + 2 before n + 1 and never skips a change (plain sequences would let a slow
  transaction commit a smaller number after a faster one was read). Decisions have their own lock.
- **Notifications.** A write that changes posts notifies :data:`CHANNEL_POSTS`, a decision
  :data:`CHANNEL_DECISIONS`, named state :data:`CHANNEL_STATE` (payload: the newest number, or the
  key); they are sent at commit. :class:`Listener` waits for them on a connection of its own and
  reconnects by itself; after any (re)connection it reports every channel, so the follower catches
  up by number and nothing sent while it was away is missed.
- **Connection.** One connection per store, guarded by a lock (the ingest thread and the console's
  threads share it), in autocommit with explicit transactions. libpq parameters come from the URL
  (``sslmode``, ``sslrootcert``…), the password from the config's ``env:`` secret; TCP keepalives
  and a connect timeout are added unless the URL sets them. When the server goes away every call
  raises :class:`~agora.core.storage.StoreUnavailableError` (never a psycopg error) and the next
  call reconnects, with a backoff after a failed attempt. Writes are safe to repeat: posts by id,
  decisions by their ``uid``, cursors, state and leases by key. The password is in no message:
  the URL is shown without it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import select
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from agora.core.post import Moderation, ModerationState, Post
from agora.core.redact import remember_secrets
from agora.core.storage import StoreUnavailableError
from agora.store.base import Change, Decision, Store, decode_post
from agora.store.sqlite import StoreOpenError

T = TypeVar("T")

log = logging.getLogger("agora.store")

#: Notified (payload: the newest change number) when posts are inserted, updated or deleted.
CHANNEL_POSTS = "agora_posts"
#: Notified (payload: the decision's number) when a decision is saved.
CHANNEL_DECISIONS = "agora_decisions"
#: Notified (payload: the key) when a named state blob is saved (e.g. a collector's health).
CHANNEL_STATE = "agora_state"
CHANNELS = (CHANNEL_POSTS, CHANNEL_DECISIONS, CHANNEL_STATE)

# advisory locks of Agora: (class, object) pairs; the class spells "AGOR"
_LOCK_CLASS = 0x41474F52
_LOCK_MIGRATE = 1
_LOCK_CHANGES = 2
_LOCK_DECISIONS = 3

#: Schema steps: ``MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``. Each runs in
#: the migrating transaction; add steps at the end, never change one that was released.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE agora_schema (
        version     integer PRIMARY KEY,
        applied_at  timestamptz NOT NULL DEFAULT now(),
        applied_by  text NOT NULL DEFAULT current_user
    );
    CREATE SEQUENCE changes_seq;
    CREATE TABLE posts (
        id       text PRIMARY KEY,
        created  double precision NOT NULL,
        source   text NOT NULL,
        state    text NOT NULL DEFAULT 'approved',
        body     text NOT NULL,
        change   bigint NOT NULL DEFAULT nextval('changes_seq')
    );
    CREATE INDEX posts_created ON posts (created, id);
    CREATE INDEX posts_change ON posts (change);
    CREATE INDEX posts_state ON posts (state, created) WHERE state <> 'approved';
    CREATE TABLE deletions (
        seq      bigint PRIMARY KEY DEFAULT nextval('changes_seq'),
        id       text NOT NULL,
        at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX deletions_at ON deletions (at);
    CREATE TABLE cursors (
        source   text PRIMARY KEY,
        value    text NOT NULL,
        updated  timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE decisions (
        seq      bigserial PRIMARY KEY,
        uid      text UNIQUE,
        action   text NOT NULL,
        target   text NOT NULL,
        actor    text NOT NULL,
        origin   text NOT NULL DEFAULT '',
        at       timestamptz NOT NULL,
        reason   text NOT NULL DEFAULT ''
    );
    CREATE INDEX decisions_target ON decisions (target);
    CREATE TABLE state (
        key      text PRIMARY KEY,
        value    text NOT NULL,
        updated  timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE leases (
        name     text PRIMARY KEY,
        holder   text NOT NULL,
        expires  timestamptz NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

#: The least each role needs, granted by the database's owner once the first start (as the owner)
#: has made the tables: a collector writes posts, cursors, health and leases and ages posts and
#: decisions; a wall reads posts and decisions and writes only decisions and its own health.
#: ``{role}`` is the role's name; a schema other than ``public`` also needs
#: ``GRANT USAGE ON SCHEMA … TO {role}``.
ROLE_GRANTS: dict[str, tuple[str, ...]] = {
    "collector": (
        "GRANT SELECT ON agora_schema TO {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON posts, deletions, cursors, state, leases TO {role}",
        "GRANT SELECT, DELETE ON decisions TO {role}",
        "GRANT USAGE ON SEQUENCE changes_seq TO {role}",
    ),
    "wall": (
        "GRANT SELECT ON agora_schema, posts, deletions, leases TO {role}",
        "GRANT SELECT, INSERT ON decisions TO {role}",
        "GRANT USAGE ON SEQUENCE decisions_seq_seq TO {role}",
        "GRANT SELECT, INSERT, UPDATE ON state TO {role}",
    ),
}

#: libpq parameters added when the URL does not set them: give up connecting after a few
#: seconds, and notice a server that vanished without closing the connection (a cable pulled, a
#: virtual machine paused) in about 20 s instead of the system's two hours.
CONNECTION_DEFAULTS: dict[str, str] = {
    "connect_timeout": "5",
    "application_name": "agora",
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "3",
    "keepalives_count": "3",
    "tcp_user_timeout": "20000",
}

_PAGE = 2_000  # posts per page when iterating
_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s, %s)"


# -- URLs and messages ------------------------------------------------------------------------------


#: URL parameters whose values a log line may show (any other is shown as ``key=…``).
_SHOWN_PARAMETERS = frozenset(
    {"sslmode", "connect_timeout", "application_name", "target_session_attrs", "host", "port"}
)


def safe_url(url: str) -> str:
    """The URL as logs and messages may show it: without a password (in the user part or the
    query); host, port, user, database and harmless parameters (``sslmode``) stay."""
    try:
        parts = urllib.parse.urlsplit(url)
        pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return "postgresql://(unreadable URL)"
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}@{host}"
    query = "&".join(f"{key}={value if key in _SHOWN_PARAMETERS else '…'}" for key, value in pairs)
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def url_has_password(url: str) -> bool:
    """Whether a URL carries a password (in ``user:password@`` or ``?password=``)."""
    try:
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    except ValueError:
        return False
    return parts.password is not None or "password" in query


def conninfo(url: str, password: str | None = None) -> str:
    """The libpq connection string: the URL's parameters, :data:`CONNECTION_DEFAULTS` for those
    it leaves out, and the password."""
    params: dict[str, Any] = dict(conninfo_to_dict(url))
    for key, value in CONNECTION_DEFAULTS.items():
        params.setdefault(key, value)
    if password:
        params["password"] = password
    return make_conninfo("", **params)


def _plain(exc: BaseException, secrets: Sequence[str] = ()) -> str:
    """psycopg's message in one line, without a secret that might echo in it."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = " ".join(lines[:2]) or type(exc).__name__
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _safe_text(value: str) -> str:
    """Text PostgreSQL accepts: no NUL character and nothing UTF-8 cannot encode (a lone
    surrogate), which would fail the whole batch again and again."""
    if value.isascii() and "\x00" not in value:
        return value
    value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _ts(moment: datetime) -> datetime:
    """A moment as UTC (the server's time zone setting is nobody's business)."""
    return moment.astimezone(UTC)


# -- the store --------------------------------------------------------------------------------------


class PostgresStore(Store):
    """Posts, cursors, decisions, state and leases in a PostgreSQL database shared by
    collectors and walls.

    ``url``: ``postgresql://user@host:port/database?sslmode=verify-full…`` (no password in it);
    ``password``: the secret's value. The constructor connects and migrates. ``lazy``: a server
    that cannot be reached is not an error: the store starts disconnected and connects (and
    migrates) at the first call that finds the server back (walls and collectors start before
    the database does). Raises :class:`StoreOpenError` for a database of a newer version, and,
    when not lazy, for a server that cannot be reached."""

    kind = "postgres"

    #: first wait after a failed connection attempt, then doubled up to :attr:`RECONNECT_MAX_S`
    RECONNECT_MIN_S = 0.25
    RECONNECT_MAX_S = 10.0

    def __init__(
        self,
        url: str,
        *,
        password: str | None = None,
        lazy: bool = False,
        logger: logging.Logger | None = None,
    ) -> None:
        self.url = safe_url(url)
        self._secrets = [s for s in (password, urllib.parse.urlsplit(url).password) if s]
        if self._secrets:
            remember_secrets(self._secrets)
        self._conninfo = conninfo(url, password)
        self._url = url
        self._password = password
        self._log = logger or log
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None
        self._closed = False
        self._retry_at = 0.0
        self._backoff = self.RECONNECT_MIN_S
        self._lost = False
        self._why = ""
        with self._lock:
            try:
                self._connection()
            except StoreUnavailableError as exc:
                if not lazy:
                    raise StoreOpenError(str(exc)) from None
                self._lost = True
                self._log.error("store: %s; trying again from time to time", exc)

    def listener(self) -> Listener:
        """A :class:`Listener` of this database's notifications (posts, decisions, state), on a
        connection of its own (a follower waits on it)."""
        return Listener(self._url, password=self._password, logger=self._log)

    # -- connection ----------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the store holds a live connection now."""
        conn = self._conn
        return conn is not None and not conn.closed and not conn.broken

    @property
    def status(self) -> str:  # type: ignore[override]
        """Where the data lives, and whether it can be reached now, in plain words."""
        if self._lost or (self._conn is None and self._why):
            return f"postgres: {self.url} (unreachable: {self._why}; reconnecting)"
        return f"postgres: {self.url}"

    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        """The live connection: made (and the schema migrated) when there is none, unless a
        failed attempt was too recent. Called with the lock held."""
        if self._closed:
            raise StoreUnavailableError(f"{self.url}: the store is closed")
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            if not _hung_up(conn):
                return conn
            # the server said goodbye while the connection was idle (it restarted, or an
            # administrator ended the session): connect again now rather than fail this call
            with contextlib.suppress(Exception):
                conn.close()
        self._conn = None
        wait = self._retry_at - time.monotonic()
        if wait > 0:
            raise StoreUnavailableError(f"cannot reach {self.url} (trying again in {wait:.1f} s)")
        try:
            conn = psycopg.connect(self._conninfo, autocommit=True)
        except psycopg.Error as exc:
            self._failed()
            self._why = _plain(exc, self._secrets)
            raise StoreUnavailableError(f"cannot reach {self.url}: {self._why}") from exc
        try:
            migrate(conn, self.url, MIGRATIONS)  # (read now: a test may add a step)
        except StoreOpenError as exc:  # a newer Agora's database: not ours to touch
            conn.close()
            self._failed()
            self._why = str(exc)
            raise
        except psycopg.Error as exc:
            conn.close()
            self._failed()
            self._why = f"preparing the database failed: {_plain(exc, self._secrets)}"
            raise StoreUnavailableError(f"{self.url}: {self._why}") from exc
        self._conn = conn
        self._backoff = self.RECONNECT_MIN_S
        self._retry_at = 0.0
        self._why = ""
        if self._lost:
            self._lost = False
            self._log.warning("store: %s is back", self.url)
        return conn

    def _failed(self) -> None:
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, self.RECONNECT_MAX_S)

    def _call(self, work: Callable[[psycopg.Connection[tuple[Any, ...]]], T]) -> T:
        """Run ``work`` on the connection; any database failure becomes
        :class:`StoreUnavailableError`, and a lost connection is made again at the next call."""
        with self._lock:
            try:
                conn = self._connection()
            except StoreOpenError as exc:
                raise StoreUnavailableError(str(exc)) from exc
            try:
                return work(conn)
            except psycopg.Error as exc:
                why = _plain(exc, self._secrets)
                if conn.closed or conn.broken:
                    self._conn = None
                    self._why = why
                    with contextlib.suppress(Exception):
                        conn.close()
                    if not self._lost:
                        self._lost = True
                        self._log.error("store: lost %s (%s); reconnecting", self.url, why)
                    raise StoreUnavailableError(f"lost {self.url}: {why}") from exc
                raise StoreUnavailableError(f"{self.url}: {why}") from exc

    @property
    def schema_version(self) -> int:
        """The database's schema version."""
        return self._call(_version)

    # -- posts -------------------------------------------------------------------------------

    def add_posts(self, posts: Sequence[Post]) -> int:
        if not posts:
            return 0
        latest: dict[str, Post] = {}
        for post in posts:
            latest[_safe_text(post.id)] = post
        columns: tuple[list[Any], ...] = ([], [], [], [], [])
        for post_id, post in latest.items():
            columns[0].append(post_id)
            columns[1].append(post.timestamp)
            columns[2].append(_safe_text(post.source))
            columns[3].append(post.moderation.state)
            columns[4].append(_safe_text(post.to_row()))

        def work(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
            with conn.transaction():
                conn.execute(_LOCK_SQL, (_LOCK_CLASS, _LOCK_CHANGES))
                rows = conn.execute(
                    "INSERT INTO posts (id, created, source, state, body) "
                    "SELECT * FROM unnest(%s::text[], %s::float8[], %s::text[], %s::text[], "
                    "%s::text[]) "
                    "ON CONFLICT (id) DO UPDATE SET body = excluded.body, state = excluded.state, "
                    "change = excluded.change "
                    "RETURNING xmax = 0, change",
                    columns,
                ).fetchall()
                _notify(conn, CHANNEL_POSTS, max(change for _, change in rows))
            return sum(1 for inserted, _ in rows if inserted)

        return self._call(work)

    def get_post(self, post_id: str) -> Post | None:
        row = self._call(
            lambda c: c.execute("SELECT body FROM posts WHERE id = %s", (post_id,)).fetchone()
        )
        return decode_post(row[0]) if row else None

    def get_posts(self, post_ids: Iterable[str]) -> dict[str, Post | None]:
        ids = list(dict.fromkeys(post_ids))
        if not ids:
            return {}
        rows = self._call(
            lambda c: c.execute("SELECT id, body FROM posts WHERE id = ANY(%s)", (ids,)).fetchall()
        )
        return {post_id: decode_post(body) for post_id, body in rows}

    def delete_posts(self, post_ids: Iterable[str]) -> int:
        ids = list(dict.fromkeys(post_ids))
        if not ids:
            return 0

        def work(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
            with conn.transaction():
                conn.execute(_LOCK_SQL, (_LOCK_CLASS, _LOCK_CHANGES))
                rows = conn.execute(
                    "WITH gone AS (DELETE FROM posts WHERE id = ANY(%s) RETURNING id) "
                    "INSERT INTO deletions (id) SELECT id FROM gone RETURNING seq",
                    (ids,),
                ).fetchall()
                if rows:
                    _notify(conn, CHANNEL_POSTS, max(seq for (seq,) in rows))
            return len(rows)

        return self._call(work)

    def iter_posts(self, since: datetime | None = None) -> Iterator[Post]:
        # keyset pagination: the lock is held per page, never while the caller works
        after: tuple[float, str] = (since.timestamp() if since else float("-inf"), "")
        while True:
            rows = self._page(after)
            for _created, _id, body in rows:
                post = decode_post(body)
                if post is not None:
                    yield post
            if len(rows) < _PAGE:
                return
            after = (rows[-1][0], rows[-1][1])

    def _page(self, after: tuple[float, str]) -> list[tuple[Any, ...]]:
        return self._call(
            lambda c: c.execute(
                "SELECT created, id, body FROM posts WHERE (created, id) > (%s, %s) "
                "ORDER BY created, id LIMIT %s",
                (after[0], after[1], _PAGE),
            ).fetchall()
        )

    def newest_time(self) -> datetime | None:
        row = self._call(lambda c: c.execute("SELECT max(created) FROM posts").fetchone())
        return datetime.fromtimestamp(row[0], UTC) if row and row[0] is not None else None

    def count_posts(self) -> int:
        row = self._call(lambda c: c.execute("SELECT count(*) FROM posts").fetchone())
        return int(row[0]) if row else 0

    def prune(self, before: datetime, batch: int = 2_000) -> int:
        def work(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
            with conn.transaction():
                # the posts' writers' lock: a collector updating the same old rows waits instead
                # of deadlocking with the deletion
                conn.execute(_LOCK_SQL, (_LOCK_CLASS, _LOCK_CHANGES))
                cursor = conn.execute(
                    "DELETE FROM posts WHERE id IN "
                    "(SELECT id FROM posts WHERE created < %s ORDER BY created LIMIT %s)",
                    (before.timestamp(), batch),
                )
                # tombstones older than the posts kept: a follower that far behind reads afresh
                conn.execute("DELETE FROM deletions WHERE at < %s", (_ts(before),))
                return cursor.rowcount

        return self._call(work)

    def set_moderation(self, post_id: str, moderation: Moderation) -> bool:
        def work(conn: psycopg.Connection[tuple[Any, ...]]) -> bool:
            with conn.transaction():
                conn.execute(_LOCK_SQL, (_LOCK_CLASS, _LOCK_CHANGES))
                row = conn.execute(
                    "SELECT body FROM posts WHERE id = %s FOR UPDATE", (post_id,)
                ).fetchone()
                post = decode_post(row[0]) if row else None
                if post is None:
                    return False
                body = _safe_text(post.with_moderation(moderation).to_row())
                done = conn.execute(
                    "UPDATE posts SET body = %s, state = %s, change = nextval('changes_seq') "
                    "WHERE id = %s RETURNING change",
                    (body, moderation.state, post_id),
                ).fetchone()
                if done is None:
                    return False
                _notify(conn, CHANNEL_POSTS, done[0])
                return True

        return self._call(work)

    def posts_in_state(self, state: ModerationState, limit: int = 100) -> list[Post]:
        rows = self._call(
            lambda c: c.execute(
                "SELECT body FROM posts WHERE state = %s ORDER BY created DESC LIMIT %s",
                (state, limit),
            ).fetchall()
        )
        return [post for (body,) in rows if (post := decode_post(body)) is not None]

    # -- cursors -----------------------------------------------------------------------------

    def get_cursor(self, source: str) -> str | None:
        row = self._call(
            lambda c: c.execute("SELECT value FROM cursors WHERE source = %s", (source,)).fetchone()
        )
        return str(row[0]) if row else None

    def set_cursor(self, source: str, value: str | None) -> None:
        if value is None:
            self._call(lambda c: c.execute("DELETE FROM cursors WHERE source = %s", (source,)))
            return
        self._call(
            lambda c: c.execute(
                "INSERT INTO cursors (source, value, updated) VALUES (%s, %s, now()) "
                "ON CONFLICT (source) DO UPDATE SET value = excluded.value, "
                "updated = excluded.updated",
                (source, _safe_text(value)),
            )
        )

    # -- decisions ---------------------------------------------------------------------------

    def add_decision(self, decision: Decision) -> Decision:
        def work(conn: psycopg.Connection[tuple[Any, ...]]) -> Decision:
            with conn.transaction():
                conn.execute(_LOCK_SQL, (_LOCK_CLASS, _LOCK_DECISIONS))
                row = conn.execute(
                    "INSERT INTO decisions (uid, action, target, actor, origin, at, reason) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (uid) DO NOTHING "
                    "RETURNING seq",
                    (
                        decision.uid or None,
                        decision.action,
                        _safe_text(decision.target),
                        _safe_text(decision.actor),
                        _safe_text(decision.origin),
                        _ts(decision.at),
                        _safe_text(decision.reason),
                    ),
                ).fetchone()
                if row is None:  # saved before (its answer was lost): the saved one
                    (known,) = _decisions_where(conn, "uid = %s", (decision.uid,))
                    return known
                _notify(conn, CHANNEL_DECISIONS, row[0])
            return dataclasses.replace(decision, seq=int(row[0]))

        return self._call(work)

    def decisions(self, after_seq: int = 0) -> list[Decision]:
        return self._call(lambda c: _decisions_where(c, "seq > %s", (after_seq,)))

    def prune_decisions(self, before: datetime) -> int:
        def work(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
            cursor = conn.execute(
                "DELETE FROM decisions WHERE at < %s AND action NOT IN ('block', 'unblock') "
                "AND NOT EXISTS (SELECT 1 FROM posts WHERE posts.id = decisions.target)",
                (_ts(before),),
            )
            return cursor.rowcount

        return self._call(work)

    # -- following changes -------------------------------------------------------------------

    def changes(self, after_seq: int = 0, limit: int = 1_000) -> list[Change]:
        rows = self._call(
            lambda c: c.execute(
                "(SELECT change, id, body, false FROM posts WHERE change > %s "
                " ORDER BY change LIMIT %s) "
                "UNION ALL "
                "(SELECT seq, id, NULL, true FROM deletions WHERE seq > %s ORDER BY seq LIMIT %s) "
                "ORDER BY 1 LIMIT %s",
                (after_seq, limit, after_seq, limit, limit),
            ).fetchall()
        )
        return [
            Change(int(seq), post_id, None, True)
            if deleted
            else Change(int(seq), post_id, decode_post(body))
            for seq, post_id, body, deleted in rows
        ]

    def newest_change(self) -> int:
        # the newest number visible, not the sequence's last value: a number taken by a
        # transaction still running is not there yet, and starting past it would skip it
        row = self._call(
            lambda c: c.execute(
                "SELECT greatest((SELECT max(change) FROM posts), (SELECT max(seq) FROM deletions))"
            ).fetchone()
        )
        return int(row[0]) if row and row[0] is not None else 0

    # -- leases ------------------------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        # the server's clock decides, so collectors on machines whose clocks differ agree
        row = self._call(
            lambda c: c.execute(
                "INSERT INTO leases (name, holder, expires) "
                "VALUES (%s, %s, clock_timestamp() + make_interval(secs => %s)) "
                "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                "expires = excluded.expires "
                "WHERE leases.holder = excluded.holder OR leases.expires <= clock_timestamp() "
                "RETURNING holder",
                (name, holder, float(ttl_s)),
            ).fetchone()
        )
        return row is not None

    def release_lease(self, name: str, holder: str) -> None:
        self._call(
            lambda c: c.execute(
                "DELETE FROM leases WHERE name = %s AND holder = %s", (name, holder)
            )
        )

    def lease_holder(self, name: str) -> str | None:
        row = self._call(
            lambda c: c.execute(
                "SELECT holder FROM leases WHERE name = %s AND expires > clock_timestamp()",
                (name,),
            ).fetchone()
        )
        return str(row[0]) if row else None

    # -- named state ---------------------------------------------------------------------------

    def get_state(self, key: str) -> str | None:
        row = self._call(
            lambda c: c.execute("SELECT value FROM state WHERE key = %s", (key,)).fetchone()
        )
        return str(row[0]) if row else None

    def states(self, prefix: str) -> dict[str, str]:
        rows = self._call(
            lambda c: c.execute(
                "SELECT key, value FROM state WHERE left(key, %s) = %s", (len(prefix), prefix)
            ).fetchall()
        )
        return {str(k): str(v) for k, v in rows}

    def set_state(self, key: str, value: str) -> None:
        def work(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
            with conn.transaction():
                conn.execute(
                    "INSERT INTO state (key, value, updated) VALUES (%s, %s, now()) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                    "updated = excluded.updated",
                    (key, _safe_text(value)),
                )
                _notify(conn, CHANNEL_STATE, key)

        self._call(work)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


def _hung_up(conn: psycopg.Connection[tuple[Any, ...]]) -> bool:
    """Whether an idle connection has something to read: the store's connection listens to
    nothing, so that is the server's farewell (or the end of the stream)."""
    try:
        fd = conn.fileno()
        if hasattr(select, "poll"):  # any descriptor number (select stops at 1024)
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            return bool(poller.poll(0))
        readable, _, _ = select.select([fd], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return True
    return bool(readable)


def _notify(conn: psycopg.Connection[tuple[Any, ...]], channel: str, payload: object) -> None:
    """Queue a notification; PostgreSQL sends it when the transaction commits."""
    conn.execute("SELECT pg_notify(%s, %s)", (channel, str(payload)[:7_000]))


def _decisions_where(
    conn: psycopg.Connection[tuple[Any, ...]], where: str, args: tuple[object, ...]
) -> list[Decision]:
    rows = conn.execute(
        "SELECT seq, action, target, actor, at, reason, origin, uid FROM decisions "
        f"WHERE {where} ORDER BY seq",
        args,
    ).fetchall()
    return [
        Decision(action, target, actor, _ts(at), reason, int(seq), origin, uid or "")
        for seq, action, target, actor, at, reason, origin, uid in rows
    ]


# -- migrations -------------------------------------------------------------------------------------


def _version(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
    """The schema version of the database (0: Agora never ran on it)."""
    row = conn.execute("SELECT to_regclass('agora_schema') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    found = conn.execute("SELECT max(version) FROM agora_schema").fetchone()
    return int(found[0]) if found and found[0] is not None else 0


def migrate(
    conn: psycopg.Connection[tuple[Any, ...]],
    where: str,
    migrations: Sequence[str] = MIGRATIONS,
    lock_timeout_s: float = 120.0,
) -> int:
    """Bring the database to the newest schema, in one transaction holding the migration lock:
    one process migrates, the others wait for the lock and then find nothing to do. Returns the
    version. Raises :class:`StoreOpenError` for a database of a newer version (untouched)."""
    newest = len(migrations)
    with conn.transaction():
        # a wall waits this long for another process's migration before it gives up
        conn.execute(f"SET LOCAL lock_timeout = {int(lock_timeout_s * 1000)}")
        # a migration may rewrite a big table: no statement time limit of the role applies
        conn.execute("SET LOCAL statement_timeout = 0")
        conn.execute(_LOCK_SQL, (_LOCK_CLASS, _LOCK_MIGRATE))
        version = _version(conn)
        if version > newest:
            raise StoreOpenError(
                f"{where} was written by a newer Agora (schema {version}, this one knows "
                f"{newest}); it is left untouched"
            )
        for step in range(version, newest):
            conn.execute(migrations[step])
            conn.execute("INSERT INTO agora_schema (version) VALUES (%s)", (step + 1,))
        if version < newest:
            log.info("store: %s migrated from schema %d to %d", where, version, newest)
    return newest


# -- following: notifications -------------------------------------------------------------------


class Listener:
    """Waits for the stores' notifications on a connection of its own.

    :meth:`wait` returns the channels notified since the last call (an empty set when the time
    ran out). After the connection is made, or made again after it was lost, it returns every
    channel: notifications sent meanwhile are gone, so the follower catches up by number. It
    never raises for a lost server: it tries again after a backoff, within the time it was given
    (a connection attempt may overrun it by up to libpq's ``connect_timeout``). One thread waits;
    :meth:`close` may be called from any."""

    #: with nothing heard for this long, a round trip checks that the connection still works
    HEALTH_CHECK_S = 30.0

    def __init__(
        self,
        url: str,
        channels: Iterable[str] = CHANNELS,
        *,
        password: str | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.url = safe_url(url)
        self.channels = frozenset(channels)
        self._secrets = [s for s in (password, urllib.parse.urlsplit(url).password) if s]
        if self._secrets:
            remember_secrets(self._secrets)
        self._conninfo = conninfo(url, password)
        self._log = logger or log
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None
        self._waiting = threading.Lock()
        self._closed = False
        self._retry_at = 0.0
        self._backoff = PostgresStore.RECONNECT_MIN_S
        self._heard = time.monotonic()
        self._lost = False
        #: how many times the connection was made (the first time included)
        self.connections = 0

    @property
    def connected(self) -> bool:
        """Whether the listener holds a live connection now."""
        conn = self._conn
        return conn is not None and not conn.closed and not conn.broken

    def wait(self, timeout: float) -> set[str]:
        """The channels notified within ``timeout`` seconds (returns at the first)."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._waiting:
            try:
                while not self._closed:
                    if self._conn is None:
                        if self._connect(deadline):
                            return set(self.channels)
                        if time.monotonic() >= deadline:
                            return set()
                        continue
                    try:
                        got = self._receive(self._conn, deadline)
                    except psycopg.Error as exc:
                        self._drop(exc)
                        continue
                    if got or time.monotonic() >= deadline:
                        return got
                return set()
            finally:
                if self._closed:  # closed meanwhile (close() could not take the connection)
                    self._close_connection()

    def _receive(self, conn: psycopg.Connection[tuple[Any, ...]], deadline: float) -> set[str]:
        now = time.monotonic()
        if now - self._heard >= self.HEALTH_CHECK_S:
            conn.execute("SELECT 1")  # raises when the server is gone; notifications are kept
            self._heard = now
        # slices of at most a second, so close() from another thread is noticed soon
        remaining = min(max(0.0, deadline - now), 1.0)
        got = {n.channel for n in conn.notifies(timeout=remaining, stop_after=1)}
        if got:
            # whatever else has arrived already, without waiting
            got |= {n.channel for n in conn.notifies(timeout=0)}
            self._heard = time.monotonic()
        return got

    def _connect(self, deadline: float) -> bool:
        pause = self._retry_at - time.monotonic()
        if pause > 0:
            time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
            if self._retry_at > time.monotonic():
                return False
        try:
            conn = psycopg.connect(self._conninfo, autocommit=True)
            for channel in sorted(self.channels):
                conn.execute(f'LISTEN "{channel}"')
        except psycopg.Error as exc:
            self._retry_at = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, PostgresStore.RECONNECT_MAX_S)
            if not self._lost:
                self._lost = True
                self._log.error(
                    "store: cannot listen on %s (%s); retrying",
                    self.url,
                    _plain(exc, self._secrets),
                )
            return False
        self._conn = conn
        self._heard = time.monotonic()
        self._backoff = PostgresStore.RECONNECT_MIN_S
        self._retry_at = 0.0
        self.connections += 1
        if self._lost:
            self._lost = False
            self._log.warning("store: listening on %s again", self.url)
        return True

    def _drop(self, exc: BaseException) -> None:
        if not self._lost and not self._closed:
            self._lost = True
            self._log.error(
                "store: lost the notifications of %s (%s); reconnecting",
                self.url,
                _plain(exc, self._secrets),
            )
        self._close_connection()

    def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def close(self) -> None:
        """Stop listening (a thread waiting returns within a second). Idempotent."""
        self._closed = True
        if self._waiting.acquire(blocking=False):
            try:
                self._close_connection()
            finally:
                self._waiting.release()

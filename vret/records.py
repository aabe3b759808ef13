"""Session records: every event of every session, written as it arrives, in SQL.

The event log *is* the session record (see `exposure.core`): replaying a session's events
reproduces every decision. This module keeps that log, plus a row per session and the
Decisions and Alerts the core produced live (so an audit can check that replay agrees).

Storage is SQLAlchemy Core, so a clinic can point several stations at one PostgreSQL server
(`postgresql+psycopg://user@host/vret`); the default is one SQLite file per machine under
`platformdirs.user_data_dir("vret")`, and the `VRET_DB` environment variable overrides it.

Durability (write-ahead): `LiveSession` hands each event to the record *before* it steps it, so
the record's order is the order the core saw. A station does not commit on its control loop: it
hands events to `vret.record_writer.RecordWriter`, whose thread calls `append` in that order
(one transaction per event; no group commit, the rate is small: about 5 events/s) and retries
while the store fails, so a locked or restarting database never holds up Safe. `append` itself
returns only once the event is committed. SQLite runs in WAL mode with
`synchronous=NORMAL`: each commit is written to the WAL before `append` returns, so it survives
a SIGKILL or crash of the process; a background thread checkpoints every `sync_every_s` (1 s),
which fsyncs the WAL, so a power cut loses at most about the last second. Why not FULL (an fsync
in every commit): measured on the 2-core development machine (ext4 on a virtual disk), a FULL
append took 0.5 ms at the median but 4.6 ms at p99 and up to 49 ms, on the path from a reading
to the decision it causes, whose p99 must stay under 5 ms; NORMAL took 0.23 ms (p99 0.6 ms).
`sqlite_synchronous="FULL"` is there for a station that prefers an fsync per event.
About 1.4 MB of SQLite file per hour of session. PostgreSQL commits are durable by the
server's own default (`synchronous_commit = on`).

Short timeouts, so a stuck database turns into a RecordsError the runtime can report instead of
a writer that hangs: SQLite waits at most `SQLITE_BUSY_MS` (200 ms) for another program's lock;
PostgreSQL (psycopg) connects within `PG_CONNECT_TIMEOUT_S`, cancels a statement after
`statement_timeout_s` (2 s for a station; the reading commands pass a longer one) and sends TCP
keepalives so a dead server is noticed while a connection is idle.

Health data at rest: the folders vret creates for a SQLite file (the data folder above all) are
0700 and the database with its -wal and -shm files 0600, whatever the umask. A URL's password
is never shown: `url_text` and every error message hide it.

Tables: `sessions` (one row per session, with the version of the client's hierarchy its ladder
came from), `events` (session_id, seq, t, type, json: the event exactly as
`model_dump(mode="json")`) and `effects` (session_id, seq, event_seq, t, type, json: each
Decision and Alert, with the seq of the event that caused it). The treatment course
(`vret.clients`, `vret.hierarchy`) adds `clients`, `hierarchies` (one row per saved version),
`client_measures` (questionnaires and approach tests taken outside a session) and `audit`
(erasures, with row counts and nothing about the client). The schema is created and upgraded
by the Alembic migrations in `vret.migrations` when a database is opened.

Wiring a live session (`vret.station.Station` does this)::

    records = Records(url)
    sid = records.open_session(start, scene=start.ladder.scene)   # also records the header
    writer = RecordWriter(records, sid, on_failed=..., on_recovered=..., on_gap=...).start()
    live = LiveSession(start, record=writer.event, session_id=sid)
    live.add_listener(lambda event, state, effects: writer.effects(kept_effects))
    ...
    writer.close()
    records.close_session(sid)            # "completed"; a crash leaves it "running" and a
                                          # dead pid makes it read as "interrupted"
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

import platformdirs
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, ValidationError

from exposure.errors import UserError
from exposure.models import (
    Alert,
    Decision,
    Effect,
    Event,
    SessionStart,
    parse_event,
)
from vret import migrations

Status = Literal["running", "completed", "interrupted"]
STATUSES: tuple[Status, ...] = ("running", "completed", "interrupted")
SqliteSync = Literal["FULL", "NORMAL"]

ENV_VAR = "VRET_DB"
"""Environment variable holding the records database URL (overrides the default file)."""

EVENT_TYPES: tuple[type[BaseModel], ...] = get_args(get_args(Event)[0])
"""The model classes of the Event union: the only things `append` records."""

RecordedEffect = Decision | Alert
"""The effects kept in the record: what changed and why, and what the therapist was told."""

SQLITE_BUSY_MS = 200
"""How long a SQLite write waits for another program's lock before it fails (milliseconds)."""

PG_CONNECT_TIMEOUT_S = 3
"""How long opening a PostgreSQL connection may take (libpq's connect_timeout, seconds)."""

STATEMENT_TIMEOUT_S = 2.0
"""How long one PostgreSQL statement may run on a station before the server cancels it."""

PG_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
}
"""TCP keepalives: a server that vanished is noticed after about 11 s of silence, not hours."""

PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600
"""Modes of the folders vret creates for a records file, and of the database files in them."""

_URL_PASSWORD = re.compile(r"(://[^/@:\s]*:)[^@\s]*@")
"""`scheme://user:password@` in any text: the password part is replaced before it is shown."""

metadata = sa.MetaData()
"""The tables at the head migration (`vret.migrations`); a new column or table needs both."""

_ADDED_COLUMNS = frozenset({"hierarchy_version"})
"""Columns added by a migration to a table that existed before: an older vret's table lacks
them until the migration adds them, and is still a vret record."""

sessions_table = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("client", sa.String(64), nullable=False, default=""),
    sa.Column("scene", sa.String(200), nullable=False),
    sa.Column("started", sa.String(40), nullable=False),
    sa.Column("ended", sa.String(40), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("pid", sa.Integer, nullable=True),
    sa.Column("host", sa.String(255), nullable=True),
    sa.Column("ladder", sa.Text, nullable=False),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("auto", sa.Boolean, nullable=False),
    sa.Column("hierarchy_version", sa.Integer, nullable=True),
    sa.Index("sessions_client", "client"),
)

events_table = sa.Table(
    "events",
    metadata,
    sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("t", sa.Float, nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("json", sa.Text, nullable=False),
)

effects_table = sa.Table(
    "effects",
    metadata,
    sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("event_seq", sa.Integer, nullable=True),
    sa.Column("t", sa.Float, nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("json", sa.Text, nullable=False),
)


clients_table = sa.Table(
    "clients",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("phobia", sa.String(40), nullable=False),
    sa.Column("start_date", sa.String(10), nullable=False),
    sa.Column("therapist", sa.String(64), nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False),
    sa.Column("created", sa.String(40), nullable=False),
)

hierarchies_table = sa.Table(
    "hierarchies",
    metadata,
    sa.Column("client", sa.String(64), primary_key=True),
    sa.Column("scene", sa.String(200), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("saved", sa.String(40), nullable=False),
    sa.Column("steps", sa.Text, nullable=False),
)

client_measures_table = sa.Table(
    "client_measures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("client", sa.String(64), nullable=False, index=True),
    sa.Column("taken", sa.String(10), nullable=False),
    sa.Column("instrument", sa.String(40), nullable=False),
    sa.Column("answers", sa.Text, nullable=False),
    sa.Column("scores", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
)

audit_table = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("detail", sa.String(400), nullable=False),
)

CLIENT_TABLES: tuple[sa.Table, ...] = (clients_table, hierarchies_table, client_measures_table)
"""The tables with a `client` column besides `sessions` (whose events and effects follow it)."""


class RecordsError(UserError):
    """A records problem a person can fix; the message is one sentence with the fix."""


class SessionRow(BaseModel):
    """One recorded session as the list and the report see it.

    `status` is what the session *is*: a session recorded as `running` whose process is gone
    from this host reads as `interrupted`; `recorded_status` is what the row says.
    """

    model_config = ConfigDict(frozen=True)

    id: int
    client: str
    scene: str
    started: str
    ended: str | None
    status: Status
    recorded_status: Status
    pid: int | None
    host: str | None
    start: SessionStart
    event_count: int = 0
    last_t: float | None = None
    hierarchy_version: int | None = None
    """The version of the client's fear hierarchy the session's ladder came from (None: the
    scene's own ladder or a ladder file)."""

    def summary(self) -> dict[str, Any]:
        """The row as JSON-ready data without the ladder and settings (for `sessions list`)."""
        return self.model_dump(mode="json", exclude={"start"})


def data_folder() -> Path:
    """vret's own folder in the user data folder (`~/.local/share/vret` on Linux)."""
    return Path(platformdirs.user_data_dir("vret"))


def default_db_url() -> str:
    """`$VRET_DB` when set, else `sqlite:///<user data dir>/vret.db`."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env
    return f"sqlite:///{data_folder() / 'vret.db'}"


def hide_password(url_text: str) -> str:
    """A database URL as it may be shown: the password, if any, replaced by ***."""
    try:
        return sa.engine.make_url(url_text).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        # not a URL SQLAlchemy reads, but it may still carry `user:password@`
        return _URL_PASSWORD.sub(r"\1***@", url_text)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _dumps(model: BaseModel) -> str:
    """The model as JSON text, exactly the data of `model_dump(mode="json")`."""
    return model.model_dump_json()


class Records:
    """The session records in one database (SQLite file by default, or any SQLAlchemy URL).

    Safe to share between threads: each call takes a connection from the engine's pool and
    commits before it returns.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        wall_clock: Callable[[], datetime] = _utc_now,
        host: str | None = None,
        sqlite_synchronous: SqliteSync = "NORMAL",
        sync_every_s: float = 1.0,
        statement_timeout_s: float = STATEMENT_TIMEOUT_S,
    ) -> None:
        """Open (creating directories and tables if needed) the database at `url`.

        `url` None means `default_db_url()`. `wall_clock` gives the UTC time stamped on
        `started`/`ended`; `host` defaults to this machine's name. `sqlite_synchronous` NORMAL
        commits to the WAL (survives a process crash) and a checkpoint every `sync_every_s`
        fsyncs it (survives a power cut but for the last second); FULL fsyncs every commit.
        `statement_timeout_s` bounds each PostgreSQL statement. Raises RecordsError (one
        sentence) when the database cannot be opened.
        """
        text = url if url else default_db_url()
        self.url_text = hide_password(text)
        """The database URL as it may be shown: its password replaced by ***."""
        self.wall_clock = wall_clock
        self.host = host if host is not None else socket.gethostname()
        self._lock = threading.Lock()
        self._next_seq: dict[int, int] = {}
        self._next_effect_seq: dict[int, int] = {}
        self._last_event_seq: dict[int, int] = {}
        try:
            url_obj = sa.engine.make_url(text)
        except (sa.exc.ArgumentError, ValueError):
            raise RecordsError(
                f"{self.url_text!r} is not a database URL: give one like "
                "sqlite:///path/to/vret.db or postgresql+psycopg://user@host/vret."
            ) from None
        if url_obj.get_backend_name() == "sqlite" and (url_obj.database or "").startswith("~"):
            url_obj = url_obj.set(database=str(Path(url_obj.database or "").expanduser()))
        self.url = url_obj
        self._secret = url_obj.password if isinstance(url_obj.password, str) else None
        self.engine = self._make_engine(url_obj, sqlite_synchronous, statement_timeout_s)
        self._create_schema()
        self._sync_every_s = sync_every_s
        self._dirty = threading.Event()
        self._closing = threading.Event()
        self._syncer: threading.Thread | None = None
        if url_obj.get_backend_name() == "sqlite" and sqlite_synchronous == "NORMAL":
            self._syncer = threading.Thread(
                target=self._sync_loop, name="vret-records-sync", daemon=True
            )
            self._syncer.start()

    def _sync_loop(self) -> None:
        """Checkpoint (which fsyncs the WAL) about once a second while events arrive."""
        while not self._closing.wait(self._sync_every_s):
            if not self._dirty.is_set():
                continue
            self._dirty.clear()
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except sa.exc.SQLAlchemyError:  # busy or closing: the next round tries again
                self._dirty.set()

    # ------------------------------------------------------------------ opening

    def _make_engine(
        self, url: sa.URL, synchronous: SqliteSync, statement_timeout_s: float
    ) -> sa.Engine:
        is_sqlite = url.get_backend_name() == "sqlite"
        if (
            is_sqlite
            and url.database
            and url.database != ":memory:"
            and not url.database.startswith("file:")
        ):
            _private_sqlite_file(Path(url.database))
        kwargs: dict[str, Any] = {}
        if is_sqlite:
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_MS / 1000}
        else:
            kwargs["pool_pre_ping"] = True  # a restarted PostgreSQL server is reconnected
            if url.get_backend_name() == "postgresql" and url.get_driver_name() in (
                "psycopg",
                "psycopg2",
            ):
                kwargs["connect_args"] = _pg_connect_args(url, statement_timeout_s)
        try:
            engine = sa.create_engine(url, hide_parameters=True, **kwargs)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as err:
            raise RecordsError(
                f"Cannot use the database URL {self.url_text} ({self._reason(err)}): "
                "use sqlite:///FILE or postgresql+psycopg://user@host/db."
            ) from None
        if is_sqlite:

            @sa.event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
                cursor = dbapi_conn.cursor()
                cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute(f"PRAGMA synchronous = {synchronous}")
                cursor.execute("PRAGMA foreign_keys = ON")
                cursor.close()

        return engine

    def _reason(self, err: BaseException) -> str:
        """The driver's own words for a failure, on one line, without SQL or the password."""
        orig = getattr(err, "orig", None)
        text = _first_line(orig if isinstance(orig, BaseException) else err)
        if self._secret:
            text = text.replace(self._secret, "***")
        return _URL_PASSWORD.sub(r"\1***@", text)

    def _create_schema(self) -> None:
        """Create the tables of a new database, or migrate an older one in place (Alembic)."""
        try:
            with self.engine.begin() as conn:
                existing = set(sa.inspect(conn).get_table_names())
                for table in metadata.sorted_tables:
                    if table.name not in existing:
                        continue
                    columns = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
                    missing = {c.name for c in table.columns} - columns - _ADDED_COLUMNS
                    if missing:
                        raise RecordsError(
                            f"{self.url_text} has a {table.name!r} table that is not a vret "
                            f"record (no {', '.join(sorted(missing))}): give another database "
                            f"with --db or {ENV_VAR}."
                        )
                migrations.upgrade(conn)
        except RecordsError:
            self.engine.dispose()
            raise
        except sa.exc.SQLAlchemyError as err:
            self.engine.dispose()
            raise RecordsError(
                f"Cannot open the records database {self.url_text} ({self._reason(err)}): "
                f"check the --db URL or {ENV_VAR}."
            ) from None

    def now_text(self) -> str:
        """The wall clock's time now as the records stamp it (ISO 8601, UTC, milliseconds)."""
        return _iso(self.wall_clock())

    @contextmanager
    def transaction(self, doing: str) -> Iterator[sa.Connection]:
        """A transaction for the modules that keep more than sessions here (`vret.clients`):
        committed on exit, and a database failure becomes one RecordsError sentence saying
        what could not be done (`doing`, as in "Could not <doing> in <db>")."""
        with self._begin(doing) as conn:
            yield conn

    def close(self) -> None:
        """Make what was written durable and release the database connections."""
        self._closing.set()
        if self._syncer is not None:
            self._syncer.join(timeout=5)
            self._syncer = None
            if self._dirty.is_set():
                with contextlib.suppress(sa.exc.SQLAlchemyError), self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        self.engine.dispose()

    def __enter__(self) -> Records:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _begin(self, doing: str) -> Iterator[sa.Connection]:
        """A transaction; database failures become one-sentence RecordsErrors."""
        try:
            with self.engine.begin() as conn:
                yield conn
            self._dirty.set()
        except RecordsError:
            raise
        except sa.exc.SQLAlchemyError as err:
            raise RecordsError(
                f"Could not {doing} in {self.url_text} ({self._reason(err)}): "
                "check that the database is reachable and writable."
            ) from None

    def _no_session(self, session_id: int) -> RecordsError:
        return RecordsError(
            f"No session {session_id} in {self.url_text}: see `vret sessions list`."
        )

    # ------------------------------------------------------------------ writing

    def open_session(
        self, start: SessionStart, scene: str, hierarchy_version: int | None = None
    ) -> int:
        """Add a `running` session for this process and record its header as event 0.

        `hierarchy_version` is the version of the client's fear hierarchy the ladder was made
        from (`vret.hierarchy`), if it was. Returns the new session id. The runtime's `record` callable then appends every event;
        `append` ignores the identical SessionStart that `LiveSession` records first.
        """
        if not isinstance(start, SessionStart):
            raise RecordsError(
                "open_session needs the session's SessionStart (its ladder and settings)."
            )
        now = _iso(self.wall_clock())
        with self._lock, self._begin("open a session") as conn:
            result = conn.execute(
                sessions_table.insert().values(
                    client=start.client,
                    scene=scene,
                    started=now,
                    ended=None,
                    status="running",
                    pid=os.getpid(),
                    host=self.host,
                    ladder=_dumps(start.ladder),
                    settings=_dumps(start.settings),
                    auto=start.auto,
                    hierarchy_version=hierarchy_version,
                )
            )
            assert result.inserted_primary_key is not None
            session_id = int(result.inserted_primary_key[0])
            conn.execute(
                events_table.insert().values(
                    session_id=session_id, seq=0, t=start.t, type=start.type, json=_dumps(start)
                )
            )
        self._next_seq[session_id] = 1
        self._last_event_seq[session_id] = 0
        self._next_effect_seq[session_id] = 0
        return session_id

    def append(self, session_id: int, event: Event) -> int:
        """Commit one event to the session's record and return its seq (write-ahead).

        Returns only once the event is durable. An identical SessionStart right after
        `open_session` is the header LiveSession records first: it is not stored twice.
        """
        if not isinstance(event, EVENT_TYPES):
            raise RecordsError(
                f"Cannot record {type(event).__name__} as an event: record readings, ticks, "
                "commands and system events (decisions and alerts go to append_effects)."
            )
        text = _dumps(event)
        with self._lock:
            seq = self._seq(session_id, self._next_seq, events_table)
            if isinstance(event, SessionStart):
                if seq == 1 and self._header(session_id) == text:
                    return 0
                raise RecordsError(
                    f"Session {session_id} already has its session_start: open a new session "
                    "for a new ladder."
                )
            with self._begin("record an event") as conn:
                try:
                    conn.execute(
                        events_table.insert().values(
                            session_id=session_id,
                            seq=seq,
                            t=float(event.t),
                            type=event.type,
                            json=text,
                        )
                    )
                except sa.exc.IntegrityError:
                    # another writer took this seq (two stations on one session): re-read it
                    self._next_seq.pop(session_id, None)
                    raise RecordsError(
                        f"Session {session_id} is being recorded by another process: "
                        "record each session from one station only."
                    ) from None
            self._next_seq[session_id] = seq + 1
            self._last_event_seq[session_id] = seq
        return seq

    def append_effects(self, session_id: int, effects: Iterable[Effect]) -> int:
        """Commit the Decisions and Alerts among `effects` (SceneTargets follow from the level).

        Each is linked to the session's latest recorded event, the one that caused it. Returns
        how many were stored.
        """
        kept = [e for e in effects if isinstance(e, Decision | Alert)]
        if not kept:
            return 0
        with self._lock:
            seq = self._seq(session_id, self._next_effect_seq, effects_table)
            event_seq = self._last_event_seq.get(session_id)
            if event_seq is None:
                event_seq = self._seq(session_id, self._next_seq, events_table) - 1
                self._last_event_seq[session_id] = event_seq
            rows = [
                {
                    "session_id": session_id,
                    "seq": seq + i,
                    "event_seq": event_seq if event_seq >= 0 else None,
                    "t": float(effect.t),
                    "type": effect.type,
                    "json": _dumps(effect),
                }
                for i, effect in enumerate(kept)
            ]
            with self._begin("record the session's decisions") as conn:
                try:
                    conn.execute(effects_table.insert(), rows)
                except sa.exc.IntegrityError:
                    self._next_effect_seq.pop(session_id, None)
                    raise RecordsError(
                        f"Session {session_id} is being recorded by another process: "
                        "record each session from one station only."
                    ) from None
            self._next_effect_seq[session_id] = seq + len(rows)
        return len(rows)

    def close_session(self, session_id: int, status: Status = "completed") -> None:
        """Mark the session `completed` (or `interrupted`) and stamp when it ended."""
        if status not in ("completed", "interrupted"):
            raise RecordsError(f"A session closes as 'completed' or 'interrupted', not {status!r}.")
        with self._lock, self._begin("close a session") as conn:
            result = conn.execute(
                sessions_table.update()
                .where(sessions_table.c.id == session_id)
                .values(status=status, ended=_iso(self.wall_clock()))
            )
            if result.rowcount == 0:
                raise self._no_session(session_id)
        self._next_seq.pop(session_id, None)
        self._next_effect_seq.pop(session_id, None)
        self._last_event_seq.pop(session_id, None)

    def _seq(self, session_id: int, cache: dict[int, int], table: sa.Table) -> int:
        """The next seq for `session_id` in `table`; checks the session exists on first use."""
        if session_id in cache:
            return cache[session_id]
        with self._begin("read the session") as conn:
            exists = conn.execute(
                sa.select(sessions_table.c.id).where(sessions_table.c.id == session_id)
            ).first()
            if exists is None:
                raise self._no_session(session_id)
            top = conn.execute(
                sa.select(sa.func.max(table.c.seq)).where(table.c.session_id == session_id)
            ).scalar()
        cache[session_id] = 0 if top is None else int(top) + 1
        return cache[session_id]

    def _header(self, session_id: int) -> str | None:
        with self._begin("read the session") as conn:
            return conn.execute(
                sa.select(events_table.c.json).where(
                    events_table.c.session_id == session_id, events_table.c.seq == 0
                )
            ).scalar()

    # ------------------------------------------------------------------ reading

    def list_sessions(self) -> list[SessionRow]:
        """Every session, oldest first; a dead `running` session on this host is `interrupted`."""
        return self._rows(None)

    def get_session(self, session_id: int) -> SessionRow:
        """One session; RecordsError when there is none with that id."""
        rows = self._rows(session_id)
        if not rows:
            raise self._no_session(session_id)
        return rows[0]

    def _rows(self, session_id: int | None) -> list[SessionRow]:
        counts = (
            sa.select(
                events_table.c.session_id,
                sa.func.count().label("n"),
                sa.func.max(events_table.c.t).label("last_t"),
            )
            .group_by(events_table.c.session_id)
            .subquery()
        )
        query = (
            sa.select(sessions_table, counts.c.n, counts.c.last_t)
            .outerjoin(counts, counts.c.session_id == sessions_table.c.id)
            .order_by(sessions_table.c.id)
        )
        if session_id is not None:
            query = query.where(sessions_table.c.id == session_id)
        with self._begin("read the sessions") as conn:
            result = conn.execute(query).mappings().all()
        return [self._row(dict(r)) for r in result]

    def _row(self, r: dict[str, Any]) -> SessionRow:
        recorded: Status = r["status"] if r["status"] in STATUSES else "interrupted"
        status = recorded
        if (
            recorded == "running"
            and r["host"] == self.host
            and r["pid"] is not None
            and not process_alive(int(r["pid"]), started=r["started"])
        ):
            status = "interrupted"
        try:
            start = SessionStart(
                client=r["client"],
                ladder=json.loads(r["ladder"]),
                settings=json.loads(r["settings"]),
                auto=bool(r["auto"]),
            )
        except (ValueError, ValidationError) as err:
            raise RecordsError(
                f"Session {r['id']} in {self.url_text} has a damaged ladder or settings "
                f"({self._reason(err)}): restore the database from a backup."
            ) from None
        return SessionRow(
            id=r["id"],
            client=r["client"],
            scene=r["scene"],
            started=r["started"],
            ended=r["ended"],
            status=status,
            recorded_status=recorded,
            pid=r["pid"],
            host=r["host"],
            start=start,
            event_count=int(r["n"] or 0),
            last_t=r["last_t"],
            hierarchy_version=r.get("hierarchy_version"),
        )

    def events(self, session_id: int) -> list[Event]:
        """The session's events in the order they were recorded, header first."""
        rows = self._json_rows(session_id, events_table)
        events: list[Event] = []
        for seq, text in rows:
            try:
                events.append(parse_event(text))
            except ValidationError as err:
                raise RecordsError(
                    f"Event {seq} of session {session_id} in {self.url_text} is damaged "
                    f"({self._reason(err)}): restore the database from a backup."
                ) from None
        return events

    def effects(self, session_id: int) -> list[RecordedEffect]:
        """The Decisions and Alerts the core produced live, in order."""
        out: list[RecordedEffect] = []
        for seq, text in self._json_rows(session_id, effects_table):
            data = json.loads(text)
            try:
                model = Decision if data.get("type") == "decision" else Alert
                out.append(model.model_validate(data))
            except ValidationError as err:
                raise RecordsError(
                    f"Effect {seq} of session {session_id} in {self.url_text} is damaged "
                    f"({self._reason(err)}): restore the database from a backup."
                ) from None
        return out

    def effect_causes(self, session_id: int) -> list[int | None]:
        """For each effect of `effects(session_id)`, the seq of the event that caused it."""
        with self._begin("read the session") as conn:
            return [
                r[0]
                for r in conn.execute(
                    sa.select(effects_table.c.event_seq)
                    .where(effects_table.c.session_id == session_id)
                    .order_by(effects_table.c.seq)
                )
            ]

    def _json_rows(self, session_id: int, table: sa.Table) -> list[tuple[int, str]]:
        with self._begin("read the session") as conn:
            exists = conn.execute(
                sa.select(sessions_table.c.id).where(sessions_table.c.id == session_id)
            ).first()
            if exists is None:
                raise self._no_session(session_id)
            rows = conn.execute(
                sa.select(table.c.seq, table.c.json)
                .where(table.c.session_id == session_id)
                .order_by(table.c.seq)
            ).all()
        return [(int(seq), str(text)) for seq, text in rows]


# ---------------------------------------------------------------------- helpers


def process_alive(pid: int, started: str | None = None) -> bool:
    """True when process `pid` runs on this machine (and, on Linux, began before `started`).

    A zombie counts as dead, and so does a process that began after the session did (the pid
    was reused by a later program).
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by someone else
    stat = Path(f"/proc/{pid}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    if fields[0] in ("Z", "X"):
        return False
    if started is None:
        return True
    try:
        ticks = int(fields[19])
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        began = boot + ticks / os.sysconf("SC_CLK_TCK")
        session_began = datetime.fromisoformat(started).timestamp()
    except (OSError, ValueError, StopIteration, IndexError):
        return True
    # generous slack: btime has 1 s resolution and NTP may have stepped the clock since boot
    return began <= session_began + 60.0


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0].rstrip(".") if text else type(err).__name__


def _private_sqlite_file(path: Path) -> None:
    """Make the folders (0700) and the database file (0600) of a SQLite record, umask or not.

    Existing folders are left as they are, except vret's own data folder; existing database,
    -wal and -shm files that this user owns lose any group and other permissions (SQLite gives
    a new -wal and -shm the database file's mode).
    """
    folder = path.parent
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        for created in reversed(missing):
            with contextlib.suppress(FileExistsError):  # another station made it just now
                os.mkdir(created, PRIVATE_FOLDER)
            os.chmod(created, PRIVATE_FOLDER)
        if folder.resolve() == data_folder().resolve():
            os.chmod(folder, PRIVATE_FOLDER)  # ours, even when an older vret made it 0755
    except OSError as err:
        raise RecordsError(
            f"Cannot create the folder {folder} for the records database "
            f"({err.strerror or err}): give a writable path with --db or {ENV_VAR}."
        ) from None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
    except FileExistsError:
        pass
    except OSError as err:
        raise RecordsError(
            f"Cannot create the records database {path} ({err.strerror or err}): "
            f"give a writable path with --db or {ENV_VAR}."
        ) from None
    else:
        try:
            os.fchmod(fd, PRIVATE_FILE)  # an empty file is an empty SQLite database
        finally:
            os.close(fd)
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(OSError):  # absent, or not ours: SQLite reports what matters
            info = os.stat(name)
            if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
                os.chmod(name, stat.S_IMODE(info.st_mode) & PRIVATE_FOLDER)


def _pg_connect_args(url: sa.URL, statement_timeout_s: float) -> dict[str, Any]:
    """libpq settings for short timeouts, unless the URL sets its own."""
    wanted: dict[str, Any] = {
        "connect_timeout": PG_CONNECT_TIMEOUT_S,
        **PG_KEEPALIVES,
        "options": f"-c statement_timeout={round(statement_timeout_s * 1000)}",
    }
    return {key: value for key, value in wanted.items() if key not in url.query}

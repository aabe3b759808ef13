"""Schema migrations of the records database (Alembic), run in code when `Records` opens it.

No alembic.ini is needed: `upgrade(conn)` points Alembic at the scripts shipped in this package
(`versions/`) and runs them on the connection it is given, inside its transaction. A database
made before migrations existed (the three tables `sessions`, `events`, `effects` and no
`alembic_version`) is stamped at the first revision, which is that schema, and then upgraded in
place, so its sessions are kept. A database already at the head revision costs one query.

The upgrade is one transaction: on PostgreSQL (transactional DDL) as it is, on SQLite with
BEGIN IMMEDIATE, so a failure half-way leaves the database as it was. On PostgreSQL an advisory
lock held for the transaction makes two stations that open one new database at the same moment
migrate it one after the other; on SQLite the immediate transaction's write lock does.

A new migration: copy the latest file in `versions/`, give it the next number as `revision`
and the latest as `down_revision`, write `upgrade()` with `alembic.op`, and set `HEAD` below.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

HEAD = "0002"
"""The newest revision; `tests/vret/test_migrations.py` checks it is the scripts' head."""

BASE = "0001"
"""The schema as it was before migrations: sessions, events and effects."""

SCRIPTS = Path(__file__).resolve().parent

PG_LOCK_KEY = 0x76726574  # "vret"
"""Advisory lock id taken while migrating a PostgreSQL database."""


def current_revision(conn: sa.Connection) -> str | None:
    """The revision the database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def upgrade(conn: sa.Connection) -> str | None:
    """Bring the database on `conn` to `HEAD`; returns the revision it was at before.

    Runs in the caller's transaction (PostgreSQL rolls back all of it on a failure).
    """
    if current_revision(conn) == HEAD:
        return HEAD  # the usual case: no lock, no Alembic scripts loaded
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_LOCK_KEY})")
    elif conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        # Python's sqlite3 commits each CREATE and ALTER on its own unless a transaction is
        # open: BEGIN IMMEDIATE makes the whole upgrade one transaction (a crash half-way
        # leaves the old schema, not half of the new) and one process migrates at a time
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    before = current_revision(conn)  # again, now that no other station can be migrating
    if before == HEAD:
        return before
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = conn
    if before is None and "sessions" in sa.inspect(conn).get_table_names():
        command.stamp(config, BASE)  # made by a vret from before migrations
    command.upgrade(config, "head")
    return before

"""Schema migrations: a database made before migrations is upgraded in place with its data kept,
and the migrated schema is exactly the one the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tests.vret.conftest import START
from vret import migrations
from vret.records import Records, metadata

# The tables exactly as `vret/records.py` declared them at the commit before migrations
# (b416625): a frozen copy, so this test keeps building the old schema whatever the code says.
OLD = sa.MetaData()
sa.Table(
    "sessions",
    OLD,
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
)
for _name in ("events", "effects"):
    sa.Table(
        _name,
        OLD,
        sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        *([sa.Column("event_seq", sa.Integer, nullable=True)] if _name == "effects" else []),
        sa.Column("t", sa.Float, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("json", sa.Text, nullable=False),
    )

OLD_EVENTS = [
    (0, 0.0, "session_start", START.model_dump_json()),
    (
        1,
        1.0,
        "reading",
        '{"type":"reading","t":1.0,"hr":71.0,"rr_ms":[845.1],"quality":"ok","spo2":null}',
    ),
    (2, 2.0, "suds", '{"t":2.0,"by":"clinician","type":"suds","value":35}'),
]


def make_old_database(url: str) -> None:
    """A records database as the vret before migrations made it, holding one session."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        OLD.create_all(conn)
        conn.execute(
            OLD.tables["sessions"]
            .insert()
            .values(
                id=1,
                client="C-0142",
                scene="spiders",
                started="2026-11-01T10:00:00.000+00:00",
                ended="2026-11-01T10:30:00.000+00:00",
                status="completed",
                pid=1,
                host="station-a",
                ladder=START.ladder.model_dump_json(),
                settings=START.settings.model_dump_json(),
                auto=True,
            )
        )
        conn.execute(
            OLD.tables["events"].insert(),
            [
                {"session_id": 1, "seq": seq, "t": t, "type": kind, "json": text}
                for seq, t, kind, text in OLD_EVENTS
            ],
        )
        if conn.dialect.name == "postgresql":  # ids were given by hand: move the sequence on
            conn.exec_driver_sql("SELECT setval('sessions_id_seq', 1)")
    engine.dispose()


def schema_differences(url: str) -> list[object]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, metadata)
    engine.dispose()
    return list(diffs)


def test_head_is_the_newest_migration_script() -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations.SCRIPTS))
    assert ScriptDirectory.from_config(config).get_current_head() == migrations.HEAD


def test_a_new_database_gets_the_schema_the_code_declares(db_url: str) -> None:
    with Records(db_url) as records, records.transaction("read") as conn:
        assert migrations.current_revision(conn) == migrations.HEAD
    assert schema_differences(db_url) == []


def test_a_database_from_before_migrations_is_upgraded_in_place_with_its_data(
    db_url: str,
) -> None:
    make_old_database(db_url)
    with Records(db_url) as records:
        with records.transaction("read") as conn:
            assert migrations.current_revision(conn) == migrations.HEAD
        (row,) = records.list_sessions()
        assert (row.id, row.client, row.status, row.host) == (1, "C-0142", "completed", "station-a")
        assert row.hierarchy_version is None
        events = records.events(1)
        assert [e.type for e in events] == ["session_start", "reading", "suds"]
        assert events[0] == START
        # the upgraded database takes new sessions after the old one
        assert records.open_session(START, "spiders", hierarchy_version=2) == 2
        assert records.get_session(2).hierarchy_version == 2
    assert schema_differences(db_url) == []
    with Records(db_url) as again:  # at the head: opening it again changes nothing
        assert [r.id for r in again.list_sessions()] == [1, 2]


def test_two_stations_opening_one_new_database_at_once_both_start(db_url: str) -> None:
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            Records(db_url).close()
        except BaseException as err:  # reported below
            errors.append(err)

    if db_url.startswith("sqlite"):  # the file's folder exists once one Records made it
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    threads = [threading.Thread(target=open_one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if db_url.startswith("postgresql"):
        assert errors == []  # the advisory lock puts the second migration after the first
    with Records(db_url) as records, records.transaction("read") as conn:
        assert migrations.current_revision(conn) == migrations.HEAD


def test_an_upgrade_that_fails_half_way_leaves_the_old_database_as_it_was(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_old_database(db_url)
    upgrade = command.upgrade

    def upgrade_then_fail(config: Config, revision: str) -> None:
        upgrade(config, revision)  # every table and column of the new schema is made...
        raise RuntimeError("power cut")  # ...and then the process dies before it commits

    monkeypatch.setattr(command, "upgrade", upgrade_then_fail)
    with pytest.raises(RuntimeError, match="power cut"):
        Records(db_url)
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) == {"sessions", "events", "effects"}
    engine.dispose()
    monkeypatch.undo()
    with Records(db_url) as records:  # the next start migrates it whole
        assert [r.id for r in records.list_sessions()] == [1]
    assert schema_differences(db_url) == []

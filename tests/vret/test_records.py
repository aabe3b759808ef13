"""Session records: what is appended is what is read back, durably, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from exposure.core import replay
from exposure.episodes import episode_key, fold_alerts
from exposure.models import (
    Alert,
    Decision,
    Ladder,
    Level,
    Note,
    Reading,
    SceneTarget,
    SessionStart,
    Tick,
)
from vret.records import Records, RecordsError, default_db_url, process_alive

from .conftest import START, record_session

ROOT = Path(__file__).resolve().parents[2]


def _one_sentence(message: str) -> None:
    assert "\n" not in message
    assert message.endswith(".")
    assert "Traceback" not in message


def test_append_and_read_back(records: Records) -> None:
    sid = records.open_session(START, scene="spiders")
    assert records.append(sid, START) == 0  # the header LiveSession records first is kept once
    sent = [
        Reading(t=0.5, hr=71.5, rr_ms=(839.2, 841.0), spo2=98),
        Tick(t=0.75),
        Reading(t=1.5, hr=None, quality="no-contact"),
        Note(t=2.0, text="Client is calm; ‘spider’ — ünïcode & <tags> survive."),
    ]
    seqs = [records.append(sid, e) for e in sent]
    assert seqs == [1, 2, 3, 4]
    assert records.events(sid) == [START, *sent]
    decision = Decision(
        t=2.0, from_level=0, to_level=1, who="clinician", reason="Therapist set level 1."
    )
    alert = Alert(t=2.0, kind="stale_signal", severity="critical", message="No signal.")
    stored = records.append_effects(
        sid, [decision, SceneTarget(t=2.0, scene="s", intensity=1), alert]
    )
    assert stored == 2  # scene targets follow from the level and are not kept
    assert records.effects(sid) == [decision, alert]
    assert records.effect_causes(sid) == [4, 4]

    row = records.get_session(sid)
    assert (row.id, row.client, row.scene, row.status, row.ended) == (
        sid,
        "C-0142",
        "spiders",
        "running",
        None,
    )
    assert row.pid == os.getpid() and row.host == socket.gethostname()
    assert row.start.ladder == START.ladder and row.start.settings == START.settings
    assert (row.event_count, row.last_t) == (5, 2.0)
    assert datetime.fromisoformat(row.started).tzinfo is not None

    records.close_session(sid)
    closed = records.get_session(sid)
    assert closed.status == "completed" and closed.ended is not None
    assert closed.ended >= closed.started


def test_stored_json_is_model_dump(records: Records) -> None:
    sid = records.open_session(START, scene="spiders")
    reading = Reading(t=3.25, hr=88.0, rr_ms=(681.8,))
    records.append(sid, reading)
    with records.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT seq, type, t, json FROM events ORDER BY seq")).all()
    assert [(r[0], r[1]) for r in rows] == [(0, "session_start"), (1, "reading")]
    assert rows[1][2] == 3.25
    assert json.loads(rows[1][3]) == reading.model_dump(mode="json")
    assert json.loads(rows[0][3]) == START.model_dump(mode="json")


def test_sessions_are_separate_and_survive_reopening(db_url: str) -> None:
    with Records(db_url) as first:
        a = first.open_session(START, scene="spiders")
        other = SessionStart(
            client="C-7", ladder=Ladder(scene="heights", levels=[Level(name="ledge")])
        )
        b = first.open_session(other, scene="heights")
        first.append(a, Tick(t=1.0))
        first.append(b, Tick(t=9.0))
    with Records(db_url) as again:  # a new process continues the numbering from the database
        assert again.append(a, Tick(t=2.0)) == 2
        assert [e.t for e in again.events(a)] == [0.0, 1.0, 2.0]
        assert [e.t for e in again.events(b)] == [0.0, 9.0]
        assert [(r.id, r.scene, r.client) for r in again.list_sessions()] == [
            (a, "spiders", "C-0142"),
            (b, "heights", "C-7"),
        ]


def test_unknown_session_is_one_sentence(records: Records) -> None:
    for action in (
        lambda: records.get_session(404),
        lambda: records.events(404),
        lambda: records.effects(404),
        lambda: records.append(404, Tick(t=1.0)),
        lambda: records.close_session(404),
    ):
        with pytest.raises(RecordsError) as caught:
            action()
        message = str(caught.value)
        _one_sentence(message)
        assert message.startswith("No session 404 in ") and "vret sessions list" in message


def test_bad_input_keeps_what_is_recorded(records: Records) -> None:
    sid = records.open_session(START, scene="spiders")
    records.append(sid, Reading(t=1.0, hr=70))
    second = START.model_copy(update={"client": "C-other"})
    with pytest.raises(RecordsError, match="already has its session_start"):
        records.append(sid, second)
    with pytest.raises(RecordsError, match="Cannot record dict"):
        records.append(sid, {"type": "tick", "t": 2.0})  # type: ignore[arg-type]
    decision = Decision(t=2.0, from_level=0, to_level=1, who="auto", reason="not an event")
    with pytest.raises(RecordsError, match="Cannot record Decision as an event"):
        records.append(sid, decision)  # type: ignore[arg-type]
    with pytest.raises(RecordsError, match="completed' or 'interrupted"):
        records.close_session(sid, status="running")  # type: ignore[arg-type]
    assert records.append(sid, Reading(t=2.0, hr=71)) == 2
    assert [e.type for e in records.events(sid)] == ["session_start", "reading", "reading"]
    assert records.get_session(sid).status == "running"


@pytest.mark.parametrize(
    "url, words",
    [
        ("not a url", "is not a database URL"),
        ("nosuchdb://x/y", "Cannot use the database URL"),
        ("sqlite:////proc/vret-no/vret.db", "Cannot create the folder"),
        ("postgresql+psycopg://vret:secret@127.0.0.1:9/vret", "Cannot open the records database"),
    ],
)
def test_bad_url_is_one_sentence(url: str, words: str) -> None:
    with pytest.raises(RecordsError) as caught:
        Records(url)
    message = str(caught.value)
    _one_sentence(message)
    assert words in message
    assert "secret" not in message  # passwords never reach the screen


def test_a_file_that_is_not_a_database_is_left_alone(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"therapist's notes, not a database\n" * 50)
    before = notes.read_bytes()
    with pytest.raises(RecordsError) as caught:
        Records(f"sqlite:///{notes}")
    _one_sentence(str(caught.value))
    assert "not a database" in str(caught.value)
    assert notes.read_bytes() == before


def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE sessions (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO sessions (name) VALUES ('keep me')")
    with pytest.raises(RecordsError) as caught:
        Records(f"sqlite:///{path}")
    _one_sentence(str(caught.value))
    assert "not a vret record" in str(caught.value)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sessions").fetchall() == [("keep me",)]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"sessions"}


def test_default_url_env_and_user_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("VRET_DB", raising=False)
    assert default_db_url() == f"sqlite:///{tmp_path / 'data' / 'vret' / 'vret.db'}"
    with Records(None) as records:
        records.open_session(START, scene="spiders")
    assert (tmp_path / "data" / "vret" / "vret.db").is_file()
    target = tmp_path / "elsewhere" / "clinic.db"
    monkeypatch.setenv("VRET_DB", f"sqlite:///{target}")
    with Records(None) as records:
        assert records.list_sessions() == []
    assert target.is_file()


def test_sqlite_is_wal_committed_per_event_and_synced_each_second(tmp_path: Path) -> None:
    with Records(f"sqlite:///{tmp_path / 'v.db'}", sync_every_s=0.05) as records:
        with records.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        sid = records.open_session(START, "spiders")
        records.append(sid, Reading(t=1.0, hr=70))
        wal = tmp_path / "v.db-wal"
        deadline = time.monotonic() + 5
        # the checkpoint copies the WAL into the database file, synced, within about a second
        while time.monotonic() < deadline and b"reading" not in (tmp_path / "v.db").read_bytes():
            time.sleep(0.05)
        assert b"reading" in (tmp_path / "v.db").read_bytes() and wal.exists()
    full = Records(f"sqlite:///{tmp_path / 'f.db'}", sqlite_synchronous="FULL")
    with full, full.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


# --------------------------------------------------------------------------- interrupted sessions


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_dead_running_session_reads_as_interrupted_on_its_host(db_url: str) -> None:
    with Records(db_url) as records:
        here = records.open_session(START, scene="spiders")
        away = Records(db_url, host="station-2")
        elsewhere = away.open_session(START, scene="spiders")
        away.close()
        alive = records.open_session(START, scene="spiders")
        with records.engine.begin() as conn:
            dead = _dead_pid()
            conn.execute(
                sa.text("UPDATE sessions SET pid = :pid WHERE id IN (:a, :b)"),
                {"pid": dead, "a": here, "b": elsewhere},
            )
        rows = {r.id: r for r in records.list_sessions()}
        assert (rows[here].status, rows[here].recorded_status) == ("interrupted", "running")
        assert rows[elsewhere].status == "running"  # another station's processes cannot be seen
        assert rows[alive].status == "running"  # this test process is alive
        assert records.get_session(here).status == "interrupted"


def test_process_alive() -> None:
    now = datetime.now(UTC)
    assert process_alive(os.getpid(), started=now.isoformat())
    assert not process_alive(_dead_pid())
    # a pid that is alive but began long after the session started was reused by another program
    assert not process_alive(os.getpid(), started=(now - timedelta(days=3650)).isoformat())
    assert not process_alive(0)


CHILD = textwrap.dedent(
    """
    import sys
    from exposure.models import Ladder, Level, Reading, SessionStart, Tick
    from vret.records import Records

    records = Records(sys.argv[1])
    start = SessionStart(client="C-9", ladder=Ladder(scene="heights", levels=[Level(name="ledge")]))
    sid = records.open_session(start, scene="heights")
    records.append(sid, start)
    print(sid, flush=True)
    i = 0
    while True:
        i += 1
        event = Reading(t=i * 0.25, hr=60 + i % 40) if i % 4 == 0 else Tick(t=i * 0.25)
        records.append(sid, event)
        print(i, flush=True)  # only after append returned: the event is committed
    """
)


def _expected(i: int) -> Reading | Tick:
    return Reading(t=i * 0.25, hr=60 + i % 40) if i % 4 == 0 else Tick(t=i * 0.25)


def test_sigkill_loses_no_committed_event(db_url: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert child.stdout is not None
    try:
        first = child.stdout.readline()
        assert first.strip().isdigit(), child.stderr.read() if child.stderr else first
        sid = int(first)
        printed = 0
        while printed < 300:
            line = child.stdout.readline()
            assert line, child.stderr.read() if child.stderr else "child stopped"
            printed = int(line)
        os.kill(child.pid, signal.SIGKILL)  # no chance to flush, close or clean up
        rest = child.stdout.read()
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    printed = max([printed, *(int(n) for n in rest.split())])
    assert child.returncode == -signal.SIGKILL

    with Records(db_url) as records:
        events = records.events(sid)
        row = records.get_session(sid)
    recorded = len(events) - 1
    # every event whose append returned is there, and at most the one in flight beyond it
    assert printed <= recorded <= printed + 1
    assert events[1:] == [_expected(i) for i in range(1, recorded + 1)]
    assert (row.status, row.recorded_status) == ("interrupted", "running")
    assert row.ended is None


# --------------------------------------------------------------------------- live sessions


def test_live_session_replays_to_its_recorded_decisions(records: Records) -> None:
    recorded = record_session(records)
    live_decisions = recorded.live.decisions
    events = records.events(recorded.session_id)
    effects = records.effects(recorded.session_id)
    stored_decisions = [e for e in effects if isinstance(e, Decision)]

    assert replay(events) == stored_decisions == live_decisions
    # the script exercises every kind of decision, so the equality above means something
    reasons = " | ".join(d.reason for d in live_decisions)
    assert len(live_decisions) >= 8
    assert "Baseline" in reasons and "step up" in reasons and "ceiling" in reasons
    assert "break button" in reasons and "resumed" in reasons and "ended the session" in reasons
    assert {d.who for d in live_decisions} == {"auto", "client", "clinician"}
    # every effect is linked to the event that caused it, which carries the same time
    for effect, cause in zip(effects, records.effect_causes(recorded.session_id), strict=True):
        assert cause is not None and events[cause].t == effect.t
    # the record holds each alert episode's onset and end; the live log one entry per episode
    recorded_alerts = [a for a in effects if isinstance(a, Alert)]
    assert not any(a.is_update for a in recorded_alerts)
    folded, logged = fold_alerts(recorded_alerts), recorded.live.alert_log
    assert [episode_key(a) for a in folded] == [episode_key(a) for a in logged]
    assert [a for a in folded if not a.active] == [a for a in logged if not a.active]
    assert events[0] == START and events.count(START) == 1
    row = records.get_session(recorded.session_id)
    assert row.status == "completed" and row.event_count == len(events)

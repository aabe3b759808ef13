"""Clients from the command line: add, list, archive, measures, export that round-trips, and an
erase after which no row of any table mentions the client (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.vret.test_progress import course_session, start_course
from vret import clients
from vret.cli import main as cli_main
from vret.records import Records, metadata


def run(capsys: Any, *args: str) -> tuple[int, str, str]:
    code = cli_main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def rows_mentioning(url: str, text: str) -> dict[str, int]:
    """For every table in the database (whatever the code declares), the rows in which any
    column, read as text, contains `text`."""
    engine = sa.create_engine(url)
    found: dict[str, int] = {}
    with engine.connect() as conn:
        for name in sa.inspect(conn).get_table_names():
            table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            hits = 0
            for row in conn.execute(sa.select(table)):
                if any(text in str(value) for value in row):
                    hits += 1
            found[name] = hits
    engine.dispose()
    return found


def test_add_list_and_archive_from_the_command_line(db_url: str, capsys: Any) -> None:
    db = ["--db", db_url]
    assert (
        run(
            capsys,
            "clients",
            "add",
            "C-0042",
            "--phobia",
            "spiders",
            "--therapist",
            "TH1",
            "--start",
            "2026-10-01",
            *db,
        )[0]
        == 0
    )
    code, _out, err = run(capsys, "clients", "add", "Anna", "--phobia", "heights", *db)
    assert code == 0 and "must never be the client's name" in err
    code, _, err = run(capsys, "clients", "add", "c-0042", "--phobia", "spiders", *db)
    assert code == 2 and "already a client C-0042" in err
    with pytest.raises(clients.ClientError):
        clients.check_code("-C1")  # argparse would read it as an option
    for bad in ("Anna Smith", "C_1", "C1-", "C.1", "x" * 33, "C-1\n", ""):
        code, _, err = run(capsys, "clients", "add", bad, "--phobia", "spiders", *db)
        assert code == 2 and "is not a client code" in err, bad
    code, _, err = run(capsys, "clients", "add", "C-1", "--phobia", "<b>", *db)
    assert code == 2 and "is not a phobia" in err

    code, out, _ = run(capsys, "clients", "list", "--json", *db)
    listed = [json.loads(line) for line in out.splitlines()]
    assert listed == [
        {
            "code": "Anna",
            "phobia": "heights",
            "start_date": listed[0]["start_date"],
            "therapist": "",
            "archived": False,
            "sessions": 0,
            "last_session": None,
        },
        {
            "code": "C-0042",
            "phobia": "spiders",
            "start_date": "2026-10-01",
            "therapist": "TH1",
            "archived": False,
            "sessions": 0,
            "last_session": None,
        },
    ]
    assert run(capsys, "clients", "archive", "Anna", *db)[0] == 0
    assert [
        c["code"]
        for c in map(json.loads, run(capsys, "clients", "list", "--json", *db)[1].splitlines())
    ] == ["C-0042"]
    code, out, _ = run(capsys, "clients", "list", "--archived", *db)
    assert "archived" in out and "Anna" in out
    assert run(capsys, "clients", "archive", "Anna", "--restore", *db)[0] == 0
    code, _, err = run(capsys, "clients", "archive", "Nobody-1", *db)
    assert code == 2 and "No client 'Nobody-1'" in err


def test_the_list_counts_sessions_and_the_last_one(
    records: Records, db_url: str, capsys: Any
) -> None:
    start_course(records, "C-0007")
    course_session(records, "C-0007", climb=0, ssq_pre=[0] * 16, ssq_post=[0] * 16)
    course_session(records, "C-0007", climb=0, ssq_pre=[0] * 16, ssq_post=[0] * 16)
    (listed,) = map(
        json.loads, run(capsys, "clients", "list", "--json", "--db", db_url)[1].splitlines()
    )
    assert listed["sessions"] == 2
    assert listed["last_session"] == records.list_sessions()[-1].started


def test_measures_between_sessions_are_scored_from_the_instrument(
    records: Records, db_url: str, capsys: Any
) -> None:
    clients.add(records, "C-0007", "spiders")
    code, out, _ = run(
        capsys,
        "clients",
        "measure",
        "C-0007",
        "bat",
        "--answers",
        "10,25,40",
        "--date",
        "2026-10-02",
        "--db",
        db_url,
    )
    assert code == 0
    assert json.loads(out) == {
        "instrument": "bat",
        "taken": "2026-10-02",
        "steps_completed": 3.0,
        "steps_total": 10.0,
        "suds_peak": 40.0,
        "suds_at_highest": 40.0,
    }
    (measure,) = clients.measures(records, "C-0007")
    assert (measure.answers, measure.scores["steps_completed"]) == ([10, 25, 40], 3.0)
    code, _, err = run(
        capsys, "clients", "measure", "C-0007", "ssq", "--answers", "1,2", "--db", db_url
    )
    assert code == 2 and "16 answers" in err
    assert len(clients.measures(records, "C-0007")) == 1  # nothing half-recorded


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    return str(value)


def test_an_export_holds_every_row_about_the_client_and_reads_back_equal(
    records: Records, db_url: str, tmp_path: Path, capsys: Any
) -> None:
    start_course(records, "C-0007")
    start_course(records, "C-0008")  # another client, whose rows stay out of the export
    course_session(records, "C-0007", climb=1, ssq_pre=[0] * 16, ssq_post=[1] * 16)
    course_session(records, "C-0008", climb=0, ssq_pre=[0] * 16, ssq_post=[0] * 16)
    values, scores = clients.score_measure("bat", "10,20")
    clients.add_measure(records, "C-0007", "bat", values, scores, note='=HYPERLINK("x")')
    out = tmp_path / "c7.zip"
    code, said, _ = run(capsys, "clients", "export", "C-0007", "--out", str(out), "--db", db_url)
    assert code == 0 and "C-0007" in said
    assert (out.stat().st_mode & 0o777) == 0o600
    stored = clients.client_rows(records, "C-0007")
    back = clients.read_export(out.read_bytes())
    assert back["json"] == json.loads(json.dumps(stored))
    assert {name: len(rows) for name, rows in stored.items()} == {
        "clients": 1,
        "sessions": 1,
        "events": len(records.events(1)),
        "effects": len(records.effects(1)),
        "hierarchies": 1,
        "client_measures": 1,
    }
    for name, rows in stored.items():
        assert back["csv"][name] == [{k: _as_text(v) for k, v in row.items()} for row in rows], name
    # each session also as the readable CSV of `vret sessions export`
    with zipfile.ZipFile(out) as archive:
        readable = archive.read("sessions/session-1.csv").decode()
    assert readable.splitlines()[0] == "t,type,hr,rr_ms,quality,level,detail"
    assert readable.count(",reading,") == sum(1 for e in records.events(1) if e.type == "reading")
    assert ",measure," in readable and ",expectancy," in readable
    # the formula in the note reached the CSV defused
    assert "'=HYPERLINK" in zipfile.ZipFile(out).read("csv/client_measures.csv").decode()
    code, _, err = run(capsys, "clients", "export", "C-0007", "--out", str(out), "--db", db_url)
    assert code == 2 and "already exists" in err


@pytest.mark.parametrize("code_text", ["C-0007"])
def test_after_erase_no_row_in_any_table_mentions_the_client(
    records: Records, db_url: str, capsys: Any, code_text: str
) -> None:
    start_course(records, code_text)
    start_course(records, "C-0008")
    course_session(records, code_text, climb=1, ssq_pre=[0] * 16, ssq_post=[1] * 16)
    course_session(records, "C-0008", climb=0, ssq_pre=[0] * 16, ssq_post=[0] * 16)
    values, scores = clients.score_measure("bat", "10,20")
    clients.add_measure(records, code_text, "bat", values, scores)
    before = rows_mentioning(db_url, code_text)
    assert before["clients"] == before["sessions"] == before["hierarchies"] == 1
    assert before["events"] >= 1  # the session_start header names the client
    kept_events = len(records.events(2))

    code, _, err = run(capsys, "clients", "erase", code_text, "--db", db_url)
    assert code == 2 and "--yes" in err
    code, out, _ = run(capsys, "clients", "erase", code_text, "--yes", "--db", db_url)
    assert code == 0 and "1 sessions" in out

    assert set(rows_mentioning(db_url, code_text).values()) == {0}
    with Records(db_url) as again:  # the other client is whole
        assert [r.client for r in again.list_sessions()] == ["C-0008"]
        assert len(again.events(2)) == kept_events
        (line,) = clients.audit_lines(again)
        assert line["action"] == "erase_client" and "1 sessions" in line["detail"]
    # every table the code declares was searched
    assert set(before) >= set(metadata.tables)
    code, _, err = run(capsys, "clients", "erase", code_text, "--yes", "--db", db_url)
    assert code == 2 and "No client" in err


def test_a_client_with_a_session_running_cannot_be_erased(records: Records) -> None:
    start_course(records, "C-0007")
    from tests.vret.conftest import START

    records.open_session(START.model_copy(update={"client": "C-0007"}), "spiders")
    with pytest.raises(clients.ClientError, match="still running"):
        clients.erase(records, "C-0007")
    assert clients.get(records, "C-0007").sessions == 1

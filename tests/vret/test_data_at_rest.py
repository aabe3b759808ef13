"""Data at rest: private files and folders, no overwrites or links followed, no formulas in a
CSV, no password shown, and a records database that fails fast instead of hanging."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import shutil
import socket
import stat
import subprocess
import sys
import textwrap
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from exposure.errors import UserError
from exposure.models import Event, Note, Reading, SceneEvent, SessionStart, Tick
from vret.cli import main
from vret.export import export_csv, export_json, spreadsheet_safe, write_file
from vret.records import (
    PG_CONNECT_TIMEOUT_S,
    SQLITE_BUSY_MS,
    Records,
    RecordsError,
    SessionRow,
    hide_password,
)

from .conftest import START, PgServer

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret"
UNREACHABLE = f"postgresql+psycopg://user:{SECRET}@127.0.0.1:1/x"


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_sentence(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vret: ") and lines[0].endswith(".")
    return lines[0]


@dataclass
class Db:
    url: str
    session_id: int


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Db:
    """A SQLite record of one short session, with a note a spreadsheet would run."""
    url = f"sqlite:///{tmp_path_factory.mktemp('at-rest') / 'vret.db'}"
    with Records(url) as records:
        sid = records.open_session(START, scene="spiders")
        for i in range(1, 6):
            records.append(sid, Reading(t=float(i), hr=70.0 + i))
        records.append(sid, Note(t=6.0, text='=HYPERLINK("http://x")'))
        records.close_session(sid)
    return Db(url, sid)


# --------------------------------------------------------------------------- files and folders


def test_data_folder_is_0700_and_database_files_0600_whatever_the_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("VRET_DB", raising=False)
    folder = tmp_path / "data" / "vret"
    with umask(0o000), Records(None) as records:
        sid = records.open_session(START, scene="spiders")
        records.append(sid, Reading(t=1.0, hr=70.0))
        files = [folder / "vret.db", folder / "vret.db-wal", folder / "vret.db-shm"]
        assert [mode(f) for f in files] == [0o600, 0o600, 0o600]  # the WAL exists while open
    assert mode(folder) == 0o700 and mode(tmp_path / "data") == 0o700


def test_an_older_data_folder_and_database_are_made_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("VRET_DB", raising=False)
    folder = tmp_path / "data" / "vret"
    with umask(0o022):
        folder.mkdir(parents=True)
        with Records(None) as records:
            sid = records.open_session(START, scene="spiders")
        os.chmod(folder, 0o755)
        for name in ("vret.db", "vret.db-wal", "vret.db-shm"):
            (folder / name).touch()
            os.chmod(folder / name, 0o644)
        with Records(None) as records:  # as after a crash: the -wal and -shm are left
            assert records.get_session(sid).id == sid
            names = ("vret.db", "vret.db-wal", "vret.db-shm")
            assert [mode(folder / n) for n in names] == [0o600] * 3
    assert mode(folder) == 0o700


def test_a_database_elsewhere_gets_private_new_folders_and_file(tmp_path: Path) -> None:
    shared = tmp_path / "clinic"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    with umask(0o000), Records(f"sqlite:///{shared / 'new' / 'records.db'}"):
        pass
    assert mode(shared) == 0o755  # an existing folder the clinic chose is left alone
    assert mode(shared / "new") == 0o700 and mode(shared / "new" / "records.db") == 0o600


@pytest.mark.parametrize(
    "argv",
    [
        ["report"],
        ["sessions", "export", "--format", "csv"],
        ["sessions", "export", "--format", "json"],
    ],
    ids=["report", "csv", "json"],
)
def test_reports_and_exports_are_0600_and_never_replace_a_file_without_force(
    argv: list[str], db: Db, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "written"
    command = [*argv, str(db.session_id), "--db", db.url, "--out", str(out)]
    with umask(0o000):
        code, said, _ = _run(capsys, *command)
    assert code == 0 and str(out) in said and mode(out) == 0o600
    first = out.read_bytes()

    out.write_text("the therapist's own notes\n")
    os.chmod(out, 0o644)
    code, said, err = _run(capsys, *command)
    assert code == 2 and said == ""
    assert "already exists" in _one_sentence(err) and "--force" in err
    assert out.read_text() == "the therapist's own notes\n" and mode(out) == 0o644

    code, _, _ = _run(capsys, *command, "--force")
    assert code == 0 and out.read_bytes().startswith(first[:15]) and mode(out) == 0o600
    if argv[0] != "report":  # a report is stamped with the time it was made
        assert out.read_bytes() == first


def test_the_default_report_file_is_not_replaced_either(
    db: Db, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    page = tmp_path / f"vret-session-{db.session_id}.html"
    page.write_text("keep")
    code, _, err = _run(capsys, "report", str(db.session_id), "--db", db.url)
    assert code == 2 and "--force" in _one_sentence(err) and page.read_text() == "keep"
    assert _run(capsys, "report", str(db.session_id), "--db", db.url, "--force")[0] == 0
    assert page.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("dangling", [False, True])
def test_out_never_follows_a_symbolic_link(
    force: bool, dangling: bool, db: Db, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "elsewhere.txt"
    if not dangling:
        target.write_text("precious")
    link = tmp_path / "report.html"
    link.symlink_to(target)
    extra = ["--force"] if force else []
    code, said, err = _run(
        capsys, "report", str(db.session_id), "--db", db.url, "--out", str(link), *extra
    )
    assert code == 2 and said == ""
    assert "symbolic link" in _one_sentence(err) and "--out" in err
    assert link.is_symlink()
    if dangling:
        assert not target.exists()
    else:
        assert target.read_text() == "precious"


def test_a_fifo_or_folder_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="choose another --out path") as caught:
        write_file(fifo, "data", force=True)  # no reader: must not wait for one
    assert "\n" not in str(caught.value)
    with pytest.raises(UserError, match="choose another --out path"):
        write_file(tmp_path, "data", force=True)


# --------------------------------------------------------------------------- CSV


def test_csv_text_cells_cannot_start_a_formula_but_numbers_stay_numbers() -> None:
    start = START.model_copy(update={"t": -30.0})  # a pre-roll: times before zero are negative
    texts = ['=HYPERLINK("http://x")', "@SUM(1)", "+1", "-2 after the break", "\tTAB", "\rCR"]
    events: list[Event] = [
        start,
        Reading(t=-20.0, hr=71.0, rr_ms=(845.0,)),
        Tick(t=-19.5),
        *[Note(t=-10.0 + i, text=text) for i, text in enumerate(texts)],
        SceneEvent(t=0.0, name="=cmd|' /C calc'!A0"),
        Note(t=1.0, text="an ordinary note, = inside is fine"),
    ]
    rows = list(csv.DictReader(io.StringIO(export_csv(events, []))))
    notes = [r["detail"] for r in rows if r["type"] == "note"]
    kept = ["'" + text.replace("\r", "\n") for text in texts]  # line breaks are written as \n
    assert notes == [*kept, "an ordinary note, = inside is fine"]
    scene = next(r for r in rows if r["type"] == "scene_event")
    assert scene["detail"] == "'=cmd|' /C calc'!A0 by clinician"
    reading = next(r for r in rows if r["type"] == "reading")
    assert (reading["t"], reading["hr"], reading["rr_ms"]) == ("-20.0", "71.0", "845")
    assert float(reading["t"]) == -20.0 and rows[0]["t"] == "-30.0"
    # the JSON export is data, not a sheet: the note is kept exactly as written
    document = json.loads(export_json(_row_of(start), events, []))
    assert document["events"][3]["text"] == texts[0]


def _row_of(start: SessionStart) -> SessionRow:
    return SessionRow(
        id=1,
        client="C-1",
        scene="spiders",
        started="2024-01-01T00:00:00+00:00",
        ended=None,
        status="completed",
        recorded_status="completed",
        pid=None,
        host=None,
        start=start,
    )


def test_spreadsheet_safe_touches_text_only() -> None:
    assert spreadsheet_safe(-3.5) == -3.5 and spreadsheet_safe(-2) == -2
    assert spreadsheet_safe("-3.5") == "'-3.5"
    assert spreadsheet_safe("@SUM(1)") == "'@SUM(1)"
    assert spreadsheet_safe("calm") == "calm" and spreadsheet_safe("") == ""


def test_exported_csv_of_a_record_neutralises_the_note(
    db: Db, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "sessions", "export", str(db.session_id), "--db", db.url)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["detail"] for r in rows if r["type"] == "note"] == ['\'=HYPERLINK("http://x")']


# --------------------------------------------------------------------------- passwords


def _exception_text(err: BaseException) -> str:
    return "".join(traceback.format_exception(err)) + repr(err)


def test_hide_password() -> None:
    assert hide_password(UNREACHABLE) == "postgresql+psycopg://user:***@127.0.0.1:1/x"
    assert SECRET not in hide_password(f"postgresql://u:{SECRET}@host:port/x")  # not a URL
    assert hide_password("sqlite:////tmp/v.db") == "sqlite:////tmp/v.db"


@pytest.mark.parametrize(
    "url",
    [UNREACHABLE, f"postgresql+psycopg://user:{SECRET}@127.0.0.1:notaport/x"],
    ids=["unreachable", "unparseable"],
)
def test_no_password_in_errors(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(RecordsError) as caught:
        Records(url)
    assert SECRET not in _exception_text(caught.value)
    assert "***" in str(caught.value)
    assert SECRET not in caplog.text


@pytest.mark.parametrize(
    "argv", [["sessions", "list"], ["report", "1"], ["sessions", "export", "1"]]
)
def test_no_password_in_command_output(
    argv: list[str], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code, out, err = _run(capsys, *argv, "--db", UNREACHABLE)
    assert code == 2 and SECRET not in out + err + caplog.text
    _one_sentence(err)


@pytest.mark.postgres
def test_no_password_when_the_server_answers(
    pg_server: PgServer, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # the test server trusts 127.0.0.1, so any password is accepted
    url = (
        f"postgresql+psycopg://{pg_server.user}:{SECRET}@{pg_server.host}:{pg_server.port}/postgres"
    )
    with Records(url) as records:
        assert SECRET not in records.url_text and "***" in records.url_text
        with pytest.raises(RecordsError) as caught:
            records.get_session(987654)
        assert SECRET not in _exception_text(caught.value)
    code, out, err = _run(capsys, "sessions", "list", "--db", url)
    assert code == 0 and out.startswith("No sessions recorded in")
    code, out2, err2 = _run(capsys, "report", "987654", "--db", url)
    assert code == 2 and "No session 987654" in err2
    assert SECRET not in out + err + out2 + err2 + caplog.text


# --------------------------------------------------------------------------- timeouts

LOCKER = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    sys.stdin.readline()
    conn.execute("ROLLBACK")
    conn.close()
    print("released", flush=True)
    """
)


def test_a_database_locked_by_another_process_fails_fast_and_loses_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "vret.db"
    with Records(f"sqlite:///{path}") as records:
        with records.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_MS <= 200
        sid = records.open_session(START, scene="spiders")
        sent = [Reading(t=float(i), hr=70.0 + i) for i in range(1, 6)]
        for event in sent:
            records.append(sid, event)
        locker = subprocess.Popen(
            [sys.executable, "-c", LOCKER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert locker.stdout is not None and locker.stdin is not None
            assert locker.stdout.readline().strip() == "locked"
            began = time.monotonic()
            with pytest.raises(RecordsError, match="locked") as caught:
                records.append(sid, Reading(t=6.0, hr=90.0))
            took = time.monotonic() - began
            assert took < 3.0, f"append waited {took:.2f} s for the lock"
            assert "\n" not in str(caught.value)
            assert records.events(sid) == [START, *sent]  # WAL readers are not blocked
            locker.stdin.write("\n")
            locker.stdin.flush()
            assert locker.stdout.readline().strip() == "released"
            assert locker.wait(timeout=30) == 0
        finally:
            if locker.poll() is None:
                locker.kill()
                locker.wait()
        after = Reading(t=7.0, hr=72.0)
        assert records.append(sid, after) == len(sent) + 1
        assert records.events(sid) == [START, *sent, after]


def test_a_postgresql_server_that_never_answers_fails_within_the_connect_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel accepts the connection; nobody ever answers on it
        port = silent.getsockname()[1]
        began = time.monotonic()
        with pytest.raises(RecordsError) as caught:
            Records(f"postgresql+psycopg://user:{SECRET}@127.0.0.1:{port}/x")
        took = time.monotonic() - began
    assert took < 3 * PG_CONNECT_TIMEOUT_S, f"opening took {took:.1f} s"
    assert SECRET not in _exception_text(caught.value)


@pytest.mark.postgres
def test_postgresql_connections_carry_timeouts_and_keepalives(pg_server: PgServer) -> None:
    with Records(pg_server.url("postgres")) as records, records.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "2s"
        params = conn.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
        assert params["connect_timeout"] == str(PG_CONNECT_TIMEOUT_S)
        assert params["keepalives_idle"] == "5" and params["keepalives_count"] == "3"
        began = time.monotonic()
        with pytest.raises(Exception, match="statement timeout"):
            conn.exec_driver_sql("SELECT pg_sleep(30)")
        assert time.monotonic() - began < 10
    reader = Records(pg_server.url("postgres"), statement_timeout_s=60)
    with reader, reader.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "1min"


# --------------------------------------------------------------------------- git


def test_gitignore_keeps_records_and_reports_out_of_git() -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    if not (ROOT / ".git").exists():
        pytest.skip(f"{ROOT} is not a git checkout (an unpacked archive has no .git)")
    names = [
        "vret.db",
        "data/vret.db-wal",
        "data/vret.db-shm",
        "clinic.sqlite",
        "clinic.sqlite3",
        "clinic.sqlite3-wal",
        "vret-session-12.html",
        "session-12.html",
    ]
    result = subprocess.run(
        [git, "check-ignore", "--no-index", *names],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout.split() == names

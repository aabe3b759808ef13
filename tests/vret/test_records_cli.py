"""`vret sessions list|export` and `vret report`, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vret.cli import main
from vret.export import export_csv, export_json
from vret.records import Records

from .conftest import RecordedDb

ROOT = Path(__file__).resolve().parents[2]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_sentence_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vret: ") and lines[0].endswith(".")
    return lines[0]


def test_list_table_and_json(recorded_db: RecordedDb, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "sessions", "list", "--db", recorded_db.url)
    assert code == 0
    header, *lines = out.strip().splitlines()
    assert header.split() == [
        "ID",
        "CLIENT",
        "SCENE",
        "STARTED",
        "(UTC)",
        "LENGTH",
        "STATUS",
        "EVENTS",
    ]
    first = [line for line in lines if line.split()[0] == str(recorded_db.session_id)]
    assert len(first) == 1
    cells = first[0].split()
    assert cells[1:3] == ["C-0142", "spiders"]
    assert cells[-3:] == ["6:05", "completed", str(recorded_db.events)]

    code, out, _ = _run(capsys, "sessions", "list", "--json", "--db", recorded_db.url)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert all(
        {"id", "client", "scene", "started", "ended", "status"} <= row.keys() for row in rows
    )
    mine = next(row for row in rows if row["id"] == recorded_db.session_id)
    assert (mine["client"], mine["scene"], mine["status"]) == ("C-0142", "spiders", "completed")
    assert mine["ended"] >= mine["started"]
    assert mine["event_count"] == recorded_db.events


def test_list_of_an_empty_database(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run(capsys, "sessions", "list", "--json", "--db", db_url) == (0, "", "")
    monkeypatch.setenv("VRET_DB", db_url)
    code, out, _ = _run(capsys, "sessions")  # `vret sessions` alone lists
    assert code == 0 and out.startswith("No sessions recorded in ")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_writes_the_export_to_a_file_or_stdout(
    fmt: str, recorded_db: RecordedDb, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sid = recorded_db.session_id
    with Records(recorded_db.url) as records:
        row, events, effects = records.get_session(sid), records.events(sid), records.effects(sid)
        causes = records.effect_causes(sid)
    expected = (
        export_json(row, events, effects) if fmt == "json" else export_csv(events, effects, causes)
    )
    code, out, _ = _run(
        capsys, "sessions", "export", str(sid), "--format", fmt, "--db", recorded_db.url
    )
    assert code == 0 and out == expected
    out_file = tmp_path / f"session.{fmt}"
    code, out, _ = _run(
        capsys,
        "sessions",
        "export",
        str(sid),
        "--format",
        fmt,
        "--out",
        str(out_file),
        "--db",
        recorded_db.url,
    )
    assert code == 0 and str(out_file) in out and fmt.upper() in out
    assert out_file.read_text(encoding="utf-8") == expected


def test_report_writes_a_page(
    recorded_db: RecordedDb, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    code, out, _ = _run(
        capsys, "report", str(recorded_db.session_id), "--out", str(page), "--db", recorded_db.url
    )
    assert code == 0 and str(page) in out
    html = page.read_text(encoding="utf-8")
    assert "<svg" in html and "C-0142" in html
    for d in recorded_db.decisions:
        assert d.reason.replace("'", "&#x27;") in html
    assert f"reproduces these {len(recorded_db.decisions)} decisions exactly" in html


def test_report_takes_the_therapists_summary_as_text_or_from_a_file(
    recorded_db: RecordedDb, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sid, db = str(recorded_db.session_id), recorded_db.url
    page = tmp_path / "report.html"
    code, _, _ = _run(capsys, "report", sid, "--out", str(page), "--db", db, "--summary", "A <b>")
    assert code == 0 and ">A &lt;b&gt;</div>" in page.read_text(encoding="utf-8")
    note = tmp_path / "summary.txt"
    note.write_text("Habituated at level 3.\nNext: level 4.", encoding="utf-8")
    code, _, _ = _run(
        capsys, "report", sid, "--out", str(page), "--force", "--db", db, "--summary", f"@{note}"
    )
    assert code == 0 and ">Habituated at level 3.\nNext: level 4.</div>" in page.read_text()
    code, _, err = _run(
        capsys, "report", sid, "--out", str(page), "--force", "--db", db, "--summary", "@nope.txt"
    )
    assert code == 2 and "--summary @nope.txt: cannot read nope.txt (No such file" in err


def test_report_default_file_name(
    recorded_db: RecordedDb,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, _ = _run(capsys, "report", str(recorded_db.session_id), "--db", recorded_db.url)
    assert code == 0
    assert (
        (tmp_path / f"vret-session-{recorded_db.session_id}.html")
        .read_text()
        .startswith("<!DOCTYPE")
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["sessions", "export", "999", "--format", "csv"],
        ["sessions", "export", "999", "--format", "json"],
        ["report", "999", "--out", "never.html"],
    ],
)
def test_unknown_id_is_one_sentence(
    argv: list[str],
    recorded_db: RecordedDb,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, *argv, "--db", recorded_db.url)
    assert code == 2 and out == ""
    line = _one_sentence_error(err)
    assert "No session 999" in line and "vret sessions list" in line
    assert not (tmp_path / "never.html").exists()


@pytest.mark.parametrize(
    "url",
    ["nonsense", "postgresql+psycopg://vret:hunter2@127.0.0.1:9/vret", "sqlite:////proc/none/v.db"],
)
@pytest.mark.parametrize(
    "argv", [["sessions", "list"], ["report", "1"], ["sessions", "export", "1"]]
)
def test_bad_url_is_one_sentence(
    url: str, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, *argv, "--db", url)
    assert code == 2 and out == ""
    line = _one_sentence_error(err)
    assert "hunter2" not in line
    assert "--db" in line or "database URL" in line


def test_not_a_session_id(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["report", "C-0142"])
    assert caught.value.code == 2
    assert "is not a session id" in capsys.readouterr().err


def test_unwritable_out_is_one_sentence(
    recorded_db: RecordedDb, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "no-such-folder" / "r.html"
    code, _, err = _run(
        capsys, "report", str(recorded_db.session_id), "--out", str(target), "--db", recorded_db.url
    )
    assert code == 2
    assert "choose another --out path" in _one_sentence_error(err)


def test_vret_command_uses_vret_db(recorded_db: RecordedDb) -> None:
    """The real entry point, in a fresh process, finds the database through $VRET_DB."""
    env = {**os.environ, "VRET_DB": recorded_db.url}
    result = subprocess.run(
        [sys.executable, "-m", "vret", "sessions", "list", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert recorded_db.session_id in ids

"""`vret replay` on event files: the format of its lines and its one-sentence errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vret.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "exposure" / "examples" / "spiders_session.jsonl"


def test_example_session_replays_with_every_kind_of_decision(capsys) -> None:
    assert main(["replay", str(EXAMPLE)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("t=60.0s level safe->1 auto: Baseline ")
    assert any(" auto: " in line and "step up to level" in line for line in lines)
    assert any(
        " auto: " in line and "ceiling 35%" in line and "step down" in line for line in lines
    )
    assert any(" clinician: Therapist stepped down" in line for line in lines)
    assert any(" client: Client pressed the break button" in line for line in lines)
    assert lines[-1].endswith("clinician: Therapist ended the session.")
    for line in lines:
        head, _, reason = line.partition(": ")
        t, word, levels, who = head.split(" ")
        assert t.startswith("t=") and t.endswith("s") and word == "level" and "->" in levels
        assert who in ("auto", "clinician", "client") and reason


def test_replay_is_the_same_twice_and_as_json(capsys) -> None:
    main(["replay", str(EXAMPLE)])
    first = capsys.readouterr().out
    main(["replay", str(EXAMPLE), "--json"])
    as_json = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    main(["replay", str(EXAMPLE)])
    assert capsys.readouterr().out == first
    assert len(as_json) == len(first.splitlines()) and as_json[0]["who"] == "auto"


def test_bad_files_get_one_sentence(tmp_path: Path, capsys) -> None:
    header = EXAMPLE.read_text().splitlines()[0]
    cases = {
        "missing.jsonl": None,
        "notjson.jsonl": header + "\n{nope\n",
        "badevent.jsonl": header + '\n{"t": 3, "type": "set_level", "level": "high"}\n',
        "noheader.jsonl": '{"t": 1, "type": "reading", "hr": 70}\n',
    }
    for name, text in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        assert main(["replay", str(path)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("vret: ") and "\n" not in err and "Traceback" not in err, err
    assert main(["replay", str(tmp_path / "badevent.jsonl")]) == 2
    assert "badevent.jsonl:2" in capsys.readouterr().err


def test_the_vret_command_has_help_and_version(capsys) -> None:
    run = [sys.executable, "-m", "vret"]  # the command itself, as installed: `python -m vret`
    out = subprocess.run([*run, "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("vret ")
    with pytest.raises(SystemExit) as done:
        main(["replay", "--help"])
    assert done.value.code == 0 and "SOURCE" in capsys.readouterr().out

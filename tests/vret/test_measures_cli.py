"""`vret measures list|show|score`, and measure events through the records and `vret replay`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from exposure.core import replay
from exposure.models import (
    ControlSettings,
    Expectancy,
    Ladder,
    Level,
    Measure,
    Reading,
    SessionStart,
)
from vret.cli import main
from vret.records import Records

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


def test_score_ssq_prints_the_four_scores_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    # general discomfort 1, headache 2, nausea 2, dizziness (eyes open) 1, stomach awareness 3
    answers = "1,0,2,0,0,0,0,2,0,0,0,1,0,0,3,0"
    code, out, err = _run(capsys, "measures", "score", "ssq", "--answers", answers)
    assert code == 0 and err == ""
    scores = json.loads(out)
    assert list(scores) == ["nausea", "oculomotor", "disorientation", "total"]
    assert scores == pytest.approx(
        {"nausea": 57.24, "oculomotor": 22.74, "disorientation": 41.76, "total": 44.88}
    )


def test_score_all_threes_and_all_zeros(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "measures", "score", "ssq", "--answers", ",".join(["3"] * 16))
    assert json.loads(out)["total"] == pytest.approx(235.62)
    _, out, _ = _run(capsys, "measures", "score", "ssq", "--answers", ",".join(["0"] * 16))
    assert json.loads(out) == {"nausea": 0, "oculomotor": 0, "disorientation": 0, "total": 0}


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["ssq", "--answers", "1,2"], "ssq needs 16 answers, one per item in order, and got 2"),
        (["ssq", "--answers", ",".join(["0"] * 15 + ["9"])], "Answer 16 (burping) is 9"),
        (["ssq", "--answers", "0,zero"], "Answer 2 is 'zero', not a number"),
        (["spider_fear", "--answers", "1"], "No instrument called 'spider_fear'"),
        (["../../etc/passwd", "--answers", "1"], "not an instrument name"),
        (["missing.toml", "--answers", "1"], "Cannot read the instrument file missing.toml"),
    ],
)
def test_bad_answers_or_names_are_one_sentence(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, out, err = _run(capsys, "measures", "score", *argv)
    assert code == 2 and out == ""
    assert words in _one_sentence_error(err)


def test_list_shows_the_shipped_instruments_and_marks_the_template(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _run(capsys, "measures", "list")
    assert code == 0
    lines = {line.split()[0]: line for line in out.strip().splitlines()}
    assert {"ssq", "sickness", "expectancy", "bat", "questionnaire_template"} <= set(lines)
    assert "16 items" in lines["ssq"]
    assert "placeholder" in lines["questionnaire_template"]
    _, out, _ = _run(capsys, "measures", "list", "--json")
    rows = {row["name"]: row for row in map(json.loads, out.strip().splitlines())}
    assert rows["ssq"]["scores"] == ["nausea", "oculomotor", "disorientation", "total"]


CLINIC_AQ = """
name = "aq_clinic"
title = "Acrophobia questionnaire (clinic's licensed copy)"
[scale]
min = 0
max = 6
[[items]]
id = "a1"
text = "Item wording the clinic holds the rights to"
weights = { anxiety = 1 }
[[items]]
id = "a2"
text = "Another licensed item"
reverse = true
weights = { anxiety = 1 }
[[scores]]
id = "anxiety"
"""


def test_a_clinic_folder_adds_its_questionnaires(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "aq_clinic.toml").write_text(CLINIC_AQ, encoding="utf-8")
    code, out, _ = _run(
        capsys, "measures", "score", "aq_clinic", "--answers", "5,1", "--instruments", str(tmp_path)
    )
    assert code == 0 and json.loads(out) == {"anxiety": 10}  # 5 + (6 - 1)
    monkeypatch.setenv("VRET_INSTRUMENTS", str(tmp_path))
    _, out, _ = _run(capsys, "measures", "list")
    assert "aq_clinic" in out
    _, out, _ = _run(capsys, "measures", "show", "aq_clinic")
    assert "2. Another licensed item  (0-6, reversed)" in out
    code, _, err = _run(capsys, "measures", "list", "--instruments", str(tmp_path / "nope"))
    assert code == 2 and "No folder" in _one_sentence_error(err)


def test_a_file_path_scores_directly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "aq_clinic.toml"
    path.write_text(CLINIC_AQ, encoding="utf-8")
    code, out, _ = _run(capsys, "measures", "score", str(path), "--answers", "0,0")
    assert code == 0 and json.loads(out) == {"anxiety": 6}


def test_measure_and_expectancy_events_are_recorded_and_replayed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start = SessionStart(
        client="C-7",
        ladder=Ladder(scene="spiders", levels=[Level(name="a"), Level(name="b"), Level(name="c")]),
        settings=ControlSettings(
            baseline_s=5, min_baseline_readings=3, min_dwell_s=20, suds_before_step_up=False
        ),
    )
    events = [
        start,
        Measure(t=0.5, instrument="ssq", phase="pre", answers=[0] * 16, scores={"total": 0.0}),
        *[Reading(t=float(t), hr=70) for t in range(1, 12)],
        Expectancy(t=12.0, level=1, stage="before", expectation="it will move", likelihood=70),
        Measure(t=13.0, instrument="sickness", phase="mid", answers=[7], scores={"sickness": 7}),
        *[Reading(t=float(t), hr=70) for t in range(14, 40)],
        Measure(t=40.0, instrument="sickness", phase="mid", answers=[1], scores={"sickness": 1}),
        *[Reading(t=float(t), hr=70) for t in range(41, 60)],
        Expectancy(t=60.0, level=1, stage="after", happened=False, surprise=40),
    ]
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with Records(url) as records:
        sid = records.open_session(start, scene="spiders")
        for event in events[1:]:
            records.append(sid, event)
        records.close_session(sid)
        assert records.events(sid) == events
    decisions = replay(events)
    # sick from t=13 to t=40: level 1 holds past its dwell (t=25), and steps up once well
    assert [(d.to_level, d.t) for d in decisions][:2] == [(1, 5.0), (2, 40.0)]
    well = [e for e in events if not (isinstance(e, Measure) and e.phase == "mid")]
    assert [(d.to_level, d.t) for d in replay(well)][:2] == [(1, 5.0), (2, 25.0)]
    code, out, _ = _run(capsys, "replay", str(sid), "--db", url, "--json")
    assert code == 0
    assert [json.loads(line)["t"] for line in out.strip().splitlines()] == [d.t for d in decisions]


def test_the_installed_command_scores_and_fails_in_one_sentence() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run(
        [sys.executable, "-m", "vret", "measures", "score", "ssq", "--answers", ",".join("3" * 16)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert ok.returncode == 0 and json.loads(ok.stdout)["total"] == pytest.approx(235.62)
    bad = subprocess.run(
        [sys.executable, "-m", "vret", "measures", "score", "ssq", "--answers", "4"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert _one_sentence_error(bad.stderr) == (
        "vret: ssq needs 16 answers, one per item in order, and got 1."
    )

"""The coach's lines in the record: `vret replay` prints them, the report lists them."""

from __future__ import annotations

import re
from pathlib import Path

from exposure.coach import Coach, load_script
from exposure.core import step
from exposure.models import (
    CoachControl,
    CoachLine,
    Effect,
    End,
    Event,
    Reading,
    SessionStart,
    SessionState,
    SetLevel,
)
from tests.exposure.test_core_properties import LADDER, SETTINGS
from vret.cli import main
from vret.report import build_report

from .test_report_clinic import row_for


def coached_session() -> tuple[list[Event], list[Effect]]:
    """A short session stepped with a coach answering each event, as the live session does."""
    coach = Coach(load_script("en"))
    raw: list[Event] = [SessionStart(ladder=LADDER, settings=SETTINGS)]
    raw += [Reading(t=float(t), hr=70.0) for t in range(1, 40)]
    raw += [SetLevel(t=40.5, level=2), CoachControl(t=41.0, action="say", text="You can do it.")]
    raw += [Reading(t=float(t), hr=72.0) for t in range(42, 90)]
    raw += [CoachControl(t=90.5, action="mute"), End(t=91.0)]
    state: SessionState | None = None
    events: list[Event] = []
    effects: list[Effect] = []
    for event in raw:
        state, out = step(state, event)
        events.append(event)
        effects.extend(out)
        line = coach.respond(event, state, out)
        if line is not None:
            state, out = step(state, line)
            coach.respond(line, state, out)
            events.append(line)
    return events, effects


def test_replay_prints_every_coach_line_between_the_decisions(tmp_path: Path, capsys) -> None:
    events, _ = coached_session()
    lines = [e for e in events if isinstance(e, CoachLine)]
    said_ids = {line.line for line in lines}
    assert {"welcome", "typed"} <= said_ids and "end" not in said_ids  # muted before the end
    path = tmp_path / "coached.jsonl"
    path.write_text("".join(e.model_dump_json() + "\n" for e in events))
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    said = [line for line in out if " coach" in line]
    assert said == [
        f't={line.t:.1f}s coach{" (therapist)" if line.by == "clinician" else ""}: "{line.text}"'
        for line in lines
    ]
    assert any("level" in line and "->" in line for line in out)
    assert main(["replay", str(path), "--json"]) == 0  # JSON stays one decision a line
    assert all('"decision"' in line for line in capsys.readouterr().out.splitlines())


def test_the_report_lists_what_the_client_heard() -> None:
    events, effects = coached_session()
    page = build_report(row_for(events), events, effects)
    assert "The coach in the headset" in page
    text = re.sub(r"<[^>]+>", " ", page)
    for line in (e for e in events if isinstance(e, CoachLine)):
        assert line.text.replace("'", "&#x27;") in page or line.text in text
    assert "Muted the coach" in text and "therapist" in text


def test_a_session_without_a_coach_has_no_coach_section() -> None:
    events: list[Event] = [SessionStart(ladder=LADDER, settings=SETTINGS), End(t=5.0)]
    state: SessionState | None = None
    effects: list[Effect] = []
    for e in events:
        state, out = step(state, e)
        effects.extend(out)
    assert "The coach in the headset" not in build_report(row_for(events), events, effects)

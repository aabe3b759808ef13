"""Export: a recorded session as CSV rows and as one JSON document."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

import pytest

from exposure.core import replay
from exposure.models import Alert, Decision, Event, Note, Reading, SetLevel, Tick, parse_event
from vret.export import CSV_COLUMNS, csv_rows, export_csv, export_json
from vret.records import RecordedEffect, Records, SessionRow

from .conftest import START, RecordedDb


@dataclass
class Read:
    row: SessionRow
    events: list[Event]
    effects: list[RecordedEffect]
    causes: list[int | None]


@pytest.fixture(scope="module")
def read(recorded_db: RecordedDb) -> Read:
    sid = recorded_db.session_id
    with Records(recorded_db.url) as records:
        return Read(
            records.get_session(sid),
            records.events(sid),
            records.effects(sid),
            records.effect_causes(sid),
        )


def test_export_json_is_the_whole_record(recorded_db: RecordedDb, read: Read) -> None:
    document = json.loads(export_json(read.row, read.events, read.effects))
    assert [parse_event(e) for e in document["events"]] == read.events
    assert document["effects"] == [e.model_dump(mode="json") for e in read.effects]
    assert document["session"]["id"] == recorded_db.session_id
    assert document["session"]["start"]["ladder"] == START.ladder.model_dump(mode="json")
    decisions = [Decision.model_validate(e) for e in document["effects"] if e["type"] == "decision"]
    assert decisions == recorded_db.decisions


def test_export_csv_rows(read: Read) -> None:
    rows = list(csv.DictReader(io.StringIO(export_csv(read.events, read.effects, read.causes))))
    assert tuple(rows[0]) == CSV_COLUMNS
    readings = [e for e in read.events if isinstance(e, Reading)]
    assert [(float(r["t"]), r["hr"], r["quality"]) for r in rows if r["type"] == "reading"] == [
        (e.t, "" if e.hr is None else str(e.hr), e.quality) for e in readings
    ]
    assert not any(r["type"] == "tick" for r in rows)
    non_ticks = [e for e in read.events if not isinstance(e, Tick)]
    decisions = [e for e in read.effects if isinstance(e, Decision)]
    alerts = [e for e in read.effects if isinstance(e, Alert)]
    assert len(rows) == len(non_ticks) + len(decisions) + len(alerts)
    times = [float(r["t"]) for r in rows]
    assert times == sorted(times)
    decision_rows = [r for r in rows if r["type"] == "decision"]
    assert [(float(r["t"]), int(r["level"])) for r in decision_rows] == [
        (d.t, d.to_level) for d in decisions
    ]
    assert all(d.reason in r["detail"] for d, r in zip(decisions, decision_rows, strict=True))
    # the level column follows the decisions: each reading carries the level in force then
    level, checked = 0, 0
    for row in rows:
        if row["type"] == "decision":
            level = int(row["level"])
        elif row["type"] == "reading":
            assert int(row["level"]) == level, row
            checked += 1
    assert checked == len(readings) and level == 0
    one = next(r for r in rows if r["type"] == "reading" and r["rr_ms"])
    assert float(one["rr_ms"]) == pytest.approx(60000 / float(one["hr"]), abs=0.1)
    assert any(r["type"] == "note" and "checked in" in r["detail"] for r in rows)
    assert any(r["type"] == "suds" and r["detail"] == "SUDS 40 by clinician" for r in rows)


def test_effects_follow_their_cause_else_the_last_event_at_their_time() -> None:
    events: list[Event] = [START, SetLevel(t=5.0, level=2), Note(t=5.0, text="steady")]
    decisions = replay(events)
    assert [(d.t, d.to_level) for d in decisions] == [(5.0, 2)]

    def order(causes: list[int | None] | None) -> list[str]:
        return [r["type"] for r in csv_rows(events, decisions, causes)]

    assert order([1]) == ["session_start", "set_level", "decision", "note"]
    assert order(None) == ["session_start", "set_level", "note", "decision"]

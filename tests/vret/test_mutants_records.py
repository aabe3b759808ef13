"""The records' write path: numbering across writers, what causes an effect, closing, failures.

Written to kill mutants that survived `make mutation` (tools/mutation/) in `Records.open_session`,
`append`, `append_effects`, `close_session` and their helpers. Two `Records` objects on one
SQLite file stand for two processes (a restarted station, a second station by mistake).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from exposure.models import (
    Alert,
    Decision,
    Ladder,
    Level,
    Note,
    Reading,
    SceneTarget,
    SessionStart,
)
from vret.records import Records, RecordsError

LADDER = Ladder(scene="spiders", levels=[Level(name="jar"), Level(name="table")])
START = SessionStart(client="C-7", ladder=LADDER)


def alert(t: float, kind: str = "ceiling") -> Alert:
    return Alert(t=t, kind=kind, severity="warning", message="HR high")  # type: ignore[arg-type]


def decision(t: float) -> Decision:
    return Decision(t=t, from_level=1, to_level=2, who="clinician", reason="Therapist stepped up.")


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'vret.db'}"


@pytest.fixture
def first(url: str) -> Iterator[Records]:
    with Records(url) as records:
        yield records


@pytest.fixture
def second(url: str, first: Records) -> Iterator[Records]:
    with Records(url) as records:
        yield records


def effect_rows(records: Records, sid: int) -> list[tuple[int, int | None]]:
    """(seq, event_seq) of the session's stored effects: the record's own numbering."""
    with records.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT seq, event_seq FROM effects WHERE session_id = :s ORDER BY seq"),
            {"s": sid},
        ).all()
    return [(int(seq), event_seq) for seq, event_seq in rows]


def test_a_writer_that_did_not_open_the_session_continues_its_numbering(
    first: Records, second: Records
) -> None:
    other = first.open_session(START, scene="spiders")  # two sessions: numbering is per session
    sid = first.open_session(START, scene="spiders")
    for t in (1.0, 2.0, 3.0):
        first.append(sid, Reading(t=t, hr=70))
    first.append(other, Reading(t=1.0, hr=70))
    first.append_effects(sid, [alert(3.0)])
    assert second.append(sid, Note(t=4.0, text="after a restart")) == 4
    assert second.append_effects(sid, [decision(4.0)]) == 1
    assert effect_rows(second, sid) == [(0, 3), (1, 4)]
    assert [type(e).__name__ for e in second.events(sid)][-1] == "Note"


def test_effects_of_a_writer_without_events_yet_follow_the_latest_recorded_event(
    first: Records, second: Records
) -> None:
    other = first.open_session(START, scene="spiders")
    sid = first.open_session(START, scene="spiders")
    first.append(sid, Reading(t=1.0, hr=70))
    first.append(sid, Reading(t=2.0, hr=71))
    first.append(other, Reading(t=1.0, hr=70))
    assert second.append_effects(sid, [alert(2.0), decision(2.0)]) == 2
    assert effect_rows(second, sid) == [(0, 2), (1, 2)]


def test_effects_before_any_event_are_caused_by_the_header_and_numbered_from_zero(
    first: Records,
) -> None:
    sid = first.open_session(START, scene="spiders")
    assert first.append_effects(sid, [alert(0.0)]) == 1
    assert effect_rows(first, sid) == [(0, 0)]
    assert first.effect_causes(sid) == [0]


def test_a_step_without_decisions_or_alerts_stores_nothing(first: Records) -> None:
    sid = first.open_session(START, scene="spiders")
    target = SceneTarget(t=1.0, scene="spiders", intensity=1.0)
    assert first.append_effects(sid, [target]) == 0
    assert first.append_effects(sid, []) == 0
    assert effect_rows(first, sid) == []


def test_a_different_session_start_is_refused_even_right_after_opening(first: Records) -> None:
    sid = first.open_session(START, scene="spiders")
    other = START.model_copy(update={"client": "C-8"})
    with pytest.raises(RecordsError) as caught:
        first.append(sid, other)
    assert str(caught.value) == (
        f"Session {sid} already has its session_start: open a new session for a new ladder."
    )
    assert first.append(sid, START) == 0  # the identical header LiveSession records first
    assert first.events(sid) == [START]


def test_two_writers_on_one_session_are_refused_then_the_numbering_is_read_again(
    first: Records, second: Records
) -> None:
    sid = first.open_session(START, scene="spiders")
    first.append(sid, Reading(t=1.0, hr=70))
    second.append(sid, Reading(t=2.0, hr=71))  # the other station takes seq 2
    with pytest.raises(RecordsError) as caught:
        first.append(sid, Reading(t=3.0, hr=72))
    assert str(caught.value) == (
        f"Session {sid} is being recorded by another process: "
        "record each session from one station only."
    )
    assert first.append(sid, Reading(t=4.0, hr=73)) == 3  # re-read: no second refusal
    first.append_effects(sid, [alert(4.0)])
    second.append_effects(sid, [alert(4.0, "hard_ceiling")])
    with pytest.raises(RecordsError, match="is being recorded by another process: record each"):
        first.append_effects(sid, [alert(4.0, "stale_signal")])
    assert first.append_effects(sid, [alert(5.0, "stale_signal")]) == 1
    assert [seq for seq, _ in effect_rows(first, sid)] == [0, 1, 2]
    assert [e.t for e in first.events(sid)] == [0.0, 1.0, 2.0, 4.0]


def test_a_session_closes_as_interrupted(first: Records) -> None:
    sid = first.open_session(START, scene="spiders")
    first.close_session(sid, "interrupted")
    assert first.get_session(sid).status == "interrupted"
    with pytest.raises(RecordsError, match="'completed' or 'interrupted', not 'paused'"):
        first.close_session(sid, "paused")  # type: ignore[arg-type]


def test_a_session_opened_elsewhere_can_be_closed_here(first: Records, second: Records) -> None:
    sid = first.open_session(START, scene="spiders")
    second.close_session(sid)
    assert second.get_session(sid).status == "completed"


def test_a_closed_sessions_numbering_is_read_again_from_the_database(
    first: Records, second: Records
) -> None:
    sid = first.open_session(START, scene="spiders")
    first.append(sid, Reading(t=1.0, hr=70))
    first.append_effects(sid, [alert(1.0)])
    first.close_session(sid, "interrupted")
    second.append(sid, Note(t=2.0, text="added by another station"))
    second.append_effects(sid, [alert(2.0, "hard_ceiling")])
    assert first.append_effects(sid, [alert(2.5, "suds_due")]) == 1  # caused by that note
    assert first.append(sid, Note(t=3.0, text="the first station again")) == 3
    assert first.append_effects(sid, [alert(3.0, "stale_signal")]) == 1
    assert effect_rows(first, sid) == [(0, 1), (1, 2), (2, 2), (3, 3)]


def test_the_header_livesession_records_first_is_recognised_in_each_session(
    first: Records,
) -> None:
    first.open_session(START, scene="spiders")
    other = START.model_copy(update={"client": "C-8"})
    sid = first.open_session(other, scene="spiders")
    assert first.append(sid, other) == 0  # its own header, not the first session's
    assert first.events(sid) == [other]


def test_the_session_row_says_which_version_of_the_hierarchy_its_ladder_came_from(
    first: Records, second: Records
) -> None:
    from_hierarchy = first.open_session(START, scene="spiders", hierarchy_version=3)
    from_scene = first.open_session(START, scene="spiders")
    assert second.get_session(from_hierarchy).hierarchy_version == 3
    assert second.get_session(from_scene).hierarchy_version is None


def test_open_session_needs_a_session_start(first: Records) -> None:
    with pytest.raises(RecordsError) as caught:
        first.open_session(Reading(t=0.0, hr=70), scene="spiders")  # type: ignore[arg-type]
    assert str(caught.value) == (
        "open_session needs the session's SessionStart (its ladder and settings)."
    )


def test_a_reading_is_not_an_effect_and_a_decision_is_not_an_event(first: Records) -> None:
    sid = first.open_session(START, scene="spiders")
    with pytest.raises(RecordsError) as caught:
        first.append(sid, decision(1.0))  # type: ignore[arg-type]
    assert str(caught.value) == (
        "Cannot record Decision as an event: record readings, ticks, commands and system "
        "events (decisions and alerts go to append_effects)."
    )


# --------------------------------------------------------------------------- failures


def break_table(records: Records, table: str) -> None:
    """Another program damages the schema under a running station."""
    with records.engine.begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE {table} RENAME TO {table}_gone")


def test_each_failing_write_names_what_it_was_doing(first: Records, url: str) -> None:
    sid = first.open_session(START, scene="spiders")
    first.append(sid, Reading(t=1.0, hr=70))
    just_opened = first.open_session(START, scene="spiders")
    fresh = Records(url)
    try:
        break_table(first, "events")
        with pytest.raises(RecordsError, match=r"^Could not record an event in sqlite:///"):
            first.append(sid, Reading(t=2.0, hr=70))
        with pytest.raises(RecordsError, match=r"^Could not read the session in sqlite:///"):
            fresh.append(sid, Reading(t=2.0, hr=70))  # its first write reads the numbering
        with pytest.raises(RecordsError, match=r"^Could not read the session in sqlite:///"):
            first.append(just_opened, START)  # is it the header LiveSession records first?
    finally:
        fresh.close()
    break_table(first, "effects")
    with pytest.raises(RecordsError, match=r"^Could not record the session's decisions in "):
        first.append_effects(sid, [alert(2.0)])
    break_table(first, "sessions")
    with pytest.raises(RecordsError, match=r"^Could not close a session in sqlite:///"):
        first.close_session(sid)
    with pytest.raises(RecordsError, match=r"^Could not open a session in sqlite:///"):
        first.open_session(START, scene="spiders")

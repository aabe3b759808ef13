"""The live session's outputs to the console: what subscribers hear, the snapshot, the ticker.

Written to kill mutants that survived `make mutation` (tools/mutation/): these parts of
`exposure/live.py` were only exercised through the console's tests before.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from exposure.live import HISTORY_S, LiveSession, state_summary
from exposure.models import (
    End,
    Expectancy,
    Ladder,
    Level,
    Measure,
    Note,
    Reading,
    SessionStart,
    SetLevel,
    SystemEvent,
    Tick,
)

LADDER = Ladder(scene="heights", levels=[Level(name=f"floor {n}") for n in range(1, 5)])


class Clock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def session(session_id: int | str | None = 7) -> tuple[LiveSession, Clock]:
    clock = Clock()
    start = SessionStart(client="T-2", ladder=LADDER)
    return LiveSession(start, clock=clock, session_id=session_id), clock


def drain(queue: asyncio.Queue[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


def test_a_subscriber_hears_each_event_then_its_effects_in_order() -> None:
    live, clock = session()
    queue = live.subscribe()
    clock.now += 2.0
    _, effects = live.submit(SetLevel(t=0, level=2))
    messages = drain(queue)
    assert [m["kind"] for m in messages] == ["event", *(e.type for e in effects)]
    assert [m["data"] for m in messages[1:]] == [e.model_dump(mode="json") for e in effects]
    assert messages[0]["data"]["type"] == "set_level"
    assert messages[0]["data"]["level"] == 2
    assert messages[0]["data"]["t"] == 2.0
    assert messages[1]["kind"] == "decision" and messages[1]["data"]["to_level"] == 2
    assert messages[-1]["kind"] == "scene_target" and messages[-1]["data"]["intensity"] == 2.0


def test_ticks_are_not_published_but_what_they_cause_is() -> None:
    live, clock = session()
    live.submit(SetLevel(t=0, level=1))
    queue = live.subscribe()
    clock.now += 30.0  # no reading for 30 s: the tick raises the stale-signal alert
    live.submit(Tick(t=0))
    messages = drain(queue)
    assert [m["kind"] for m in messages] == ["alert"]
    assert messages[0]["data"]["kind"] == "stale_signal"


def test_every_subscriber_hears_every_message_until_it_unsubscribes() -> None:
    live, clock = session()
    first, second = live.subscribe(), live.subscribe()
    live.submit(Note(t=0, text="calm"))
    live.unsubscribe(first)
    live.submit(Note(t=0, text="still calm"))
    assert [m["data"]["text"] for m in drain(first)] == ["calm"]
    assert [m["data"]["text"] for m in drain(second)] == ["calm", "still calm"]
    live.unsubscribe(first)  # twice is harmless


def test_a_subscriber_that_falls_behind_keeps_the_newest_messages() -> None:
    live, _ = session()
    queue = live.subscribe(maxsize=3)
    for n in range(5):
        live.publish({"kind": "note", "n": n})
    assert [m["n"] for m in drain(queue)] == [2, 3, 4]


def test_a_console_that_stops_reading_keeps_the_latest_2000_messages() -> None:
    live, _ = session()
    queue = live.subscribe()
    for n in range(2001):
        live.publish({"n": n})
    kept = drain(queue)
    assert len(kept) == 2000
    assert kept[0]["n"] == 1 and kept[-1]["n"] == 2000


def test_messages_and_snapshots_are_plain_json_data() -> None:
    live, clock = session()
    queue = live.subscribe()
    clock.now += 1.0
    live.submit(Reading(t=0, hr=70, rr_ms=(850.0, 860.0)))
    live.submit(SetLevel(t=0, level=2))
    for data in [m["data"] for m in drain(queue)] + [live.snapshot()]:
        assert json.loads(json.dumps(data)) == data  # lists, not tuples; no model objects


def test_snapshot_has_the_headline_figures_and_not_the_raw_signal() -> None:
    live, clock = session(session_id="S-9")
    for k in range(3):
        clock.now += 1.0
        live.submit(Reading(t=0, hr=70 + k))
    clock.now += 1.0
    live.submit(SetLevel(t=0, level=3))
    clock.now += 12.34
    live.submit(Tick(t=0))
    data = live.snapshot()
    assert data["session_id"] == "S-9"
    assert data["level"] == 3
    assert data["level_name"] == "floor 3"
    assert data["top"] == 4
    assert data["dwell_s"] == 12.3
    assert "recent" not in data and "baseline_samples" not in data
    assert data["last_hr"] == 72.0
    assert data["phase"] == "exposure"


def test_the_snapshot_says_how_far_the_baseline_has_got_then_what_it_is() -> None:
    live, clock = session()
    assert live.snapshot()["baseline_text"] == "measuring: 60 s left, 0 good readings so far"
    for _ in range(3):
        clock.now += 1.0
        live.submit(Reading(t=0, hr=70))
    assert live.snapshot()["baseline_text"] == "measuring: 57 s left, 3 good readings so far"
    clock.now += 60.0
    live.submit(Tick(t=0))
    assert state_summary(live.state)["baseline_text"] == "measuring: 3 of 10 good readings"
    for _ in range(7):
        clock.now += 1.0
        live.submit(Reading(t=0, hr=72))
    assert live.state.phase == "exposure"
    assert live.snapshot()["baseline_text"] == "72 bpm (median of 10 good readings over 70 s)"


def test_state_summary_names_the_safe_scene_and_defaults_to_no_session_id() -> None:
    live, _ = session()
    data = state_summary(live.state)
    assert data["session_id"] is None
    assert data["level_name"] == "safe scene"
    assert data["dwell_s"] == 0.0


def test_the_ticker_ticks_until_the_session_ends() -> None:
    live, clock = session()
    live.submit(SetLevel(t=0, level=1))
    ticks: list[float] = []
    live.add_listener(lambda e, s, fx: ticks.append(e.t) if isinstance(e, Tick) else None)

    async def scenario() -> None:
        runner = asyncio.create_task(live.tick_forever(period_s=0.001))
        for _ in range(3):
            clock.now += 1.0
            await asyncio.sleep(0.01)
        assert not runner.done()
        live.submit(End(t=0))
        await asyncio.wait_for(runner, timeout=2.0)

    asyncio.run(scenario())
    assert len(ticks) >= 3
    assert ticks == sorted(ticks) and ticks[-1] >= 3.0
    assert live.state.phase == "ended"


def test_the_chart_history_keeps_an_hour_of_readings() -> None:
    live, clock = session()
    live.submit(Reading(t=0, hr=70))
    clock.now += HISTORY_S
    live.submit(Reading(t=0, hr=71))  # exactly an hour later: the first is still in the window
    assert [r.hr for r in live.readings] == [70, 71]
    clock.now += 0.5
    live.submit(Reading(t=0, hr=72))
    assert [r.hr for r in live.readings] == [71, 72]


def test_system_events_reach_subscribers_with_the_time_of_the_event_that_caused_them() -> None:
    live, clock = session()
    queue = live.subscribe()
    clock.now += 5.0
    live.record_gap("3 events")
    live.flush_system()
    messages = drain(queue)
    assert messages[0]["data"]["type"] == "system"
    assert messages[0]["data"]["kind"] == "records_gap"
    assert isinstance(SystemEvent.model_validate(messages[0]["data"]), SystemEvent)


def test_the_measures_panel_keeps_each_questionnaire_and_rating_in_order_at_its_time() -> None:
    live, clock = session()
    assert live.measures == []
    clock.now += 2.0
    live.submit(Measure(instrument="suds", phase="pre", answers=[30], scores={"total": 30.0}))
    clock.now += 1.0
    live.submit(Reading(t=0, hr=70))
    live.submit(Note(t=0, text="calm"))
    before = Expectancy(level=1, stage="before", expectation="it jumps", likelihood=60)
    clock.now += 1.0
    live.submit(before)
    assert live.measures == [
        Measure(t=2.0, instrument="suds", phase="pre", answers=[30], scores={"total": 30.0}),
        before.model_copy(update={"t": 4.0}),
    ]


# --------------------------------------------------------------------------- time and recording


def test_session_time_continues_from_the_headers_time() -> None:
    clock = Clock(100.0)
    live = LiveSession(SessionStart(t=12.5, client="T-3", ladder=LADDER), clock=clock)
    assert live.now() == 12.5
    clock.now = 101.0
    assert live.now() == 13.5
    state, _ = live.submit(Reading(t=0, hr=70), at=100.75)  # arrived 0.25 s before hand-off
    assert state.t == 13.25


def test_event_times_are_kept_to_a_tenth_of_a_millisecond() -> None:
    live, clock = session()
    clock.now += 0.123456
    state, _ = live.submit(Reading(t=0, hr=70))
    assert state.t == 0.1235


def test_the_level_history_has_one_entry_per_level_change() -> None:
    live, clock = session()
    for level in (1, 1, 2, 2, 0):
        clock.now += 1.0
        live.submit(SetLevel(t=0, level=level))
    assert live.levels == [(0.0, 0), (1.0, 1), (3.0, 2), (5.0, 0)]


def test_listeners_hear_the_event_with_the_state_after_it() -> None:
    live, clock = session()
    heard: list[tuple[str, int]] = []
    live.add_listener(lambda e, s, fx: heard.append((e.type, s.level)))
    clock.now += 1.0
    live.submit(SetLevel(t=0, level=2))
    assert heard == [("set_level", 2)]


def test_a_records_failure_is_stepped_at_the_time_of_the_event_that_found_it() -> None:
    recorded: list[object] = []
    fail = [False]

    def record(event: object) -> None:
        if fail[0]:
            fail[0] = False
            raise OSError("disk full")
        recorded.append(event)

    clock = Clock(100.0)
    live = LiveSession(SessionStart(client="T-4", ladder=LADDER), clock=clock, record=record)
    fail[0] = True
    clock.now = 102.0
    live.submit(Reading(t=0, hr=70))  # not recorded; the failure is stepped right after it
    system = [e for e in recorded if isinstance(e, SystemEvent)]
    assert [(e.kind, e.t) for e in system] == [("records_failing", 2.0)]
    # recording a system event is not the store answering the runtime again
    assert live.records_failing
    clock.now = 103.0
    live.submit(Reading(t=0, hr=71))
    assert not live.records_failing


def test_the_failure_alert_names_the_error_type_in_one_line_of_200_characters() -> None:
    def record(event: object) -> None:
        raise OSError("x" * 300 + "\nsecond line")

    live, clock = session()
    live.record = record
    clock.now += 1.0
    live.submit(Reading(t=0, hr=70))
    alert = next(a for a in live.state.alerts if a.kind == "records_failing")
    detail = alert.message.split("(", 1)[1].split(")", 1)[0]
    assert detail == ("OSError: " + "x" * 300)[:200]


def test_flushing_with_nothing_waiting_steps_nothing() -> None:
    live, clock = session()
    heard: list[str] = []
    live.add_listener(lambda e, s, fx: heard.append(e.type))
    live.flush_system()
    assert heard == []

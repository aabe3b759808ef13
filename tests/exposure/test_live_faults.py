"""The panic invariant in the live session: a failure around the core never stops a step.

Write-ahead (the record has each event before the core acts on it), a recorder that raises, and
listeners that raise: Safe still reaches the headset, and the console is told.
"""

from __future__ import annotations

import dataclasses

from exposure.coach import Coach, load_script
from exposure.live import LiveSession
from exposure.models import (
    Alert,
    CoachControl,
    CoachLine,
    Effect,
    Event,
    Ladder,
    Level,
    Reading,
    Safe,
    SceneTarget,
    SessionStart,
    SessionState,
    SetLevel,
    SystemEvent,
)

LADDER = Ladder(scene="spiders", levels=[Level(name=f"level {n}") for n in range(1, 6)])


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def session(record: object = None) -> tuple[LiveSession, Clock]:
    clock = Clock()
    live = LiveSession(SessionStart(client="T-1", ladder=LADDER), clock=clock, record=record)  # type: ignore[arg-type]
    return live, clock


def test_each_event_is_recorded_before_the_core_steps_it() -> None:
    seen: list[tuple[str, float, float]] = []
    holder: list[LiveSession] = []

    def record(event: Event) -> None:
        if holder:  # the state the core holds is still the one before this event
            seen.append((event.type, event.t, holder[0].state.t))

    live, clock = session(record)
    holder.append(live)
    for t, event in [
        (1.0, Reading(t=0, hr=70)),
        (2.0, SetLevel(t=0, level=2)),
        (3.0, Safe(t=0)),
    ]:
        clock.now = t
        live.submit(event)
    assert [(kind, t) for kind, t, _ in seen] == [
        ("reading", 1.0),
        ("set_level", 2.0),
        ("safe", 3.0),
    ]
    assert all(state_t < t for _, t, state_t in seen)


def test_safe_takes_effect_when_recording_fails_and_the_console_is_told() -> None:
    failing = [False]
    recorded: list[str] = []

    def record(event: Event) -> None:
        if failing[0]:
            raise OSError("disk full")
        recorded.append(event.type)

    live, clock = session(record)
    heard: list[SceneTarget] = []
    live.add_listener(lambda e, s, fx: heard.extend(x for x in fx if isinstance(x, SceneTarget)))
    clock.now = 1.0
    live.submit(SetLevel(t=0, level=2))
    failing[0] = True
    clock.now = 2.0
    state, effects = live.submit(Safe(t=0))
    assert state.phase == "safe" and state.level == 0
    assert heard[-1].safe and heard[-1].t == 2.0
    assert live.records_failing
    alerts = [a for a in live.state.alerts if a.kind == "records_failing"]
    assert alerts and alerts[0].severity == "critical" and "disk full" in alerts[0].message
    # the store answers again: the next event is recorded and the alert clears
    failing[0] = False
    clock.now = 3.0
    live.submit(Reading(t=0, hr=71))
    assert not live.records_failing
    assert not any(a.kind == "records_failing" for a in live.state.alerts)
    assert recorded[-2:] == ["reading", "system"]
    cleared = [a for a in live.alert_log if a.kind == "records_failing" and not a.active]
    assert cleared and cleared[-1].message == "The records are written again."


def test_the_records_failure_is_raised_once_per_episode() -> None:
    def record(event: Event) -> None:
        raise RuntimeError("database is locked")

    live, clock = session(None)
    live.record = record
    for n in range(5):
        clock.now = 1.0 + n
        live.submit(Reading(t=0, hr=70))
    raised = [a for a in live.alert_log if a.kind == "records_failing" and a.active]
    assert len(raised) == 1


def test_a_failing_listener_does_not_keep_the_headset_from_a_safe_target() -> None:
    live, clock = session()
    order: list[str] = []

    def console(event: Event, state: SessionState, effects: list[Effect]) -> None:
        order.append("console")
        raise RuntimeError("publisher broke")

    def headset(event: Event, state: SessionState, effects: list[Effect]) -> None:
        order.extend("safe target" for e in effects if isinstance(e, SceneTarget) and e.safe)

    live.add_listener(console)
    live.add_listener(headset)
    clock.now = 1.0
    live.submit(SetLevel(t=0, level=3))
    order.clear()
    clock.now = 2.0
    state, _ = live.submit(Safe(t=0))
    assert state.phase == "safe"
    assert order == ["console", "safe target"]
    assert live.listener_failures == 2


def test_a_coach_that_fails_is_counted_and_the_session_and_the_coach_go_on() -> None:
    recorded: list[Event] = []
    clock = Clock()
    # a script made in code without the texts that ask the questions: asking one raises
    script = dataclasses.replace(load_script("en"), asks=())
    live = LiveSession(
        SessionStart(client="T-1", ladder=LADDER),
        clock=clock,
        record=recorded.append,
        coach=Coach(script),
    )
    heard: list[str] = []
    live.add_listener(lambda e, s, fx: heard.append(e.type))
    for t in (1.0, 2.0):
        clock.now = t
        state, _ = live.submit(CoachControl(t=0, action="ask", ask="suds"))
        assert state.t == t  # the therapist's control was stepped all the same
    assert live.listener_failures == 2
    clock.now = 3.0
    live.submit(CoachControl(t=0, action="say", text="You are doing well."))
    clock.now = 4.0
    state, _ = live.submit(Safe(t=0))
    assert state.phase == "safe"
    assert heard == ["coach_control", "coach_control", "coach_control", "coach", "safe", "coach"]
    lines = [(e.t, e.line) for e in recorded if isinstance(e, CoachLine)]
    assert lines == [(0.0, "welcome"), (3.0, "typed"), (4.0, "calm-1")]  # none for the asks
    assert live.listener_failures == 2


def test_a_listener_added_first_hears_the_step_before_the_others() -> None:
    live, clock = session()
    order: list[str] = []
    live.add_listener(lambda e, s, fx: order.append("records"))
    live.add_listener(lambda e, s, fx: order.append("headset"), first=True)
    clock.now = 1.0
    live.submit(Safe(t=0))
    assert order == ["headset", "records"]


def test_a_gap_in_the_record_becomes_a_critical_alert_and_a_recorded_event() -> None:
    recorded: list[Event] = []
    live, clock = session(recorded.append)
    clock.now = 40.0
    live.record_gap("12 events from t=10.0 s to t=20.0 s were not recorded")
    live.flush_system()
    gap = [e for e in recorded if isinstance(e, SystemEvent) and e.kind == "records_gap"]
    assert gap and gap[0].t == 40.0 and "t=10.0 s to t=20.0 s" in gap[0].detail
    alert = next(a for a in live.state.alerts if a.kind == "records_gap")
    assert isinstance(alert, Alert) and alert.severity == "critical"


def test_a_reading_keeps_its_arrival_time_but_time_never_runs_backwards() -> None:
    live, clock = session()
    clock.now = 10.0
    live.submit(Reading(t=0, hr=70))
    clock.now = 12.0
    state, _ = live.submit(Reading(t=0, hr=71), at=11.25)  # arrived 0.75 s before the hand-off
    assert state.t == 11.25
    clock.now = 13.0
    state, _ = live.submit(Reading(t=0, hr=72), at=5.0)  # older than the last event: clamped
    assert state.t == 11.25
    state, _ = live.submit(Reading(t=0, hr=72), at=99.0)  # from the future: now
    assert state.t == 13.0


def test_a_sensor_flood_is_shown_to_the_therapist() -> None:
    live, clock = session()
    clock.now = 5.0
    live.submit(SystemEvent(t=0, kind="sensor_flood", detail="5,000 readings/s, thinned to 50/s"))
    alert = next(a for a in live.state.alerts if a.kind == "sensor_flood")
    assert alert.severity == "warning" and "5,000 readings/s" in alert.message


def test_a_decoder_error_is_shown_to_the_therapist_and_recorded() -> None:
    recorded: list[Event] = []
    live, clock = session(recorded.append)
    clock.now = 5.0
    live.submit(SystemEvent(t=0, kind="sensor_decoder_error", detail="ValueError: bad frame"))
    alert = next(a for a in live.state.alerts if a.kind == "sensor_decoder_error")
    assert alert.severity == "warning" and "bad frame" in alert.message
    assert any(isinstance(e, SystemEvent) and e.kind == "sensor_decoder_error" for e in recorded)


def test_no_tick_is_stepped_after_the_session_ends() -> None:
    import asyncio

    from exposure.models import End

    recorded: list[Event] = []
    live, clock = session(recorded.append)

    async def run() -> None:
        ticks = asyncio.create_task(live.tick_forever(0.05))
        await asyncio.sleep(0)  # the tick task is now asleep in its period
        clock.now = 1.0
        live.submit(End(t=0))
        await asyncio.wait_for(ticks, 1.0)  # it ends by itself, without a last tick

    asyncio.run(run())
    assert recorded[-1].type == "end"

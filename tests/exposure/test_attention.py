"""The attention rule: gaze summaries hold automatic step ups while the client looks away.

Sessions here are calm (the heart rate sits at baseline), so the only thing between the client
and a step up is the dwell and the attention rule (no SUDS is asked before a step up here):
what they looked at decides.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from exposure.core import replay, replay_steps, step
from exposure.models import (
    AutoOff,
    ControlSettings,
    Decision,
    Event,
    Gaze,
    Ladder,
    Level,
    Reading,
    Recentre,
    SessionStart,
    SessionState,
    Tick,
    parse_event,
)

SETTINGS = ControlSettings(
    baseline_s=10, min_baseline_readings=3, min_dwell_s=15, suds_before_step_up=False
)
LADDER = Ladder(scene="spiders", levels=[Level(name=f"level {i}") for i in range(1, 9)])
START = SessionStart(ladder=LADDER, settings=SETTINGS)
PROPERTIES = settings(  # each example folds a session of up to ~1,000 events, twice
    max_examples=100 if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else 20,
    deadline=None,
)


def calm_session(
    seconds: float, looking: float | None, *, from_t: float = 0.0, valid: bool = True
) -> Iterator[Event]:
    """A reading at 70 bpm each second and gaze summaries at 10 Hz (None: no head tracking).

    `looking` is the share of each second spent on the stimulus: the first tenths of it.
    """
    t = from_t
    while t < from_t + seconds:
        yield Reading(t=round(t, 3), hr=70.0)
        if looking is not None:
            for k in range(10):
                on = 1.0 if k < round(looking * 10) else 0.0
                yield Gaze(
                    t=round(t + k / 10, 3),
                    on_stimulus=on,
                    distance_m=1.4,
                    head_speed_dps=5.0,
                    valid=valid,
                )
        t += 1.0


def fold(events: list[Event]) -> tuple[SessionState, list[Decision], list]:
    state, effects = step(None, START)
    decisions: list[Decision] = []
    alerts = []
    for event in events:
        state, effects = step(state, event)
        decisions += [e for e in effects if isinstance(e, Decision)]
        alerts += [e for e in effects if e.type == "alert"]
    return state, decisions, alerts


def test_a_client_who_looks_steps_up_after_the_dwell():
    state, decisions, _ = fold(list(calm_session(40, looking=0.8)))
    assert [d.to_level for d in decisions] == [1, 2]
    assert state.attention == 0.8
    assert state.tracking == "ok"


def test_a_client_who_looks_away_is_held_with_the_reason_in_the_therapists_words():
    state, decisions, alerts = fold(list(calm_session(60, looking=0.3)))
    assert [d.to_level for d in decisions] == [1]  # baseline ends; no step up after it
    assert state.attention == 0.3
    assert state.next_step == "Holding at level 1: client looked away 70% of the last 10 s."
    hint = [a for a in alerts if a.kind == "looking_away"]
    assert len(hint) == 1 and hint[0].active and hint[0].severity == "info"
    assert re.match(
        r"Client looked away \d+% of the last 10 s: holding at level 1;", hint[0].message
    )


def test_looking_back_releases_the_hold_and_clears_the_hint():
    events = list(calm_session(40, looking=0.2)) + list(calm_session(20, 1.0, from_t=40))
    state, decisions, alerts = fold(events)
    assert [d.to_level for d in decisions][:2] == [1, 2]
    up = decisions[1]
    assert up.t >= 43  # attention had to climb back over half the window first
    cleared = [a for a in alerts if a.kind == "looking_away" and not a.active]
    assert cleared and cleared[0].t <= up.t


def test_without_head_tracking_the_rule_is_off():
    state, decisions, _ = fold(list(calm_session(40, looking=None)))
    assert [d.to_level for d in decisions] == [1, 2]
    assert state.tracking == "none" and state.attention is None


def test_tracking_that_stops_turns_the_rule_off_after_two_seconds():
    events = list(calm_session(20, looking=0.0)) + list(calm_session(30, None, from_t=20))
    state, decisions, _ = fold(events)
    assert state.tracking == "none"
    assert [d.to_level for d in decisions][:2] == [1, 2]
    assert decisions[1].t >= 22


def test_the_threshold_is_a_setting_and_zero_turns_the_rule_off():
    start = START.model_copy(
        update={"settings": SETTINGS.model_copy(update={"attention_min": 0.0})}
    )
    state, _ = step(None, start)
    ups = []
    for event in calm_session(40, looking=0.0):
        state, effects = step(state, event)
        ups += [e for e in effects if isinstance(e, Decision)]
    assert [d.to_level for d in ups] == [1, 2]


def test_lost_tracking_holds_and_alerts_then_clears():
    events = list(calm_session(30, looking=1.0, valid=False))
    state, decisions, alerts = fold(events)
    assert state.tracking == "lost"
    assert [d.to_level for d in decisions] == [1]
    assert "head tracking lost" in state.next_step
    lost = [a for a in alerts if a.kind == "tracking_lost"]
    assert lost[0].active and lost[0].t <= 0.6  # over 0.5 s of invalid pose
    state, decisions2, alerts2 = fold(events + list(calm_session(5, 1.0, from_t=30)))
    assert state.tracking == "ok"
    assert any(a.kind == "tracking_lost" and not a.active for a in alerts2)


def test_sustained_fast_head_motion_is_flagged_as_possible_discomfort():
    state, _ = step(None, START)
    alerts = []
    for k in range(50):
        state, effects = step(
            state, Gaze(t=k / 10, on_stimulus=1.0, distance_m=2.0, head_speed_dps=200.0)
        )
        alerts += [e for e in effects if e.type == "alert"]
    fast = [a for a in alerts if a.kind == "fast_head_motion"]
    assert len(fast) == 1 and fast[0].severity == "warning"
    assert 3.0 <= fast[0].t <= 3.1
    assert "discomfort" in fast[0].message


def test_brief_fast_turns_are_not_flagged():
    state, _ = step(None, START)
    for k in range(100):
        speed = 200.0 if k % 20 < 10 else 10.0  # one second fast, one second still
        state, effects = step(
            state, Gaze(t=k / 10, on_stimulus=1.0, distance_m=2.0, head_speed_dps=speed)
        )
        assert not any(e.type == "alert" and e.kind == "fast_head_motion" for e in effects)


def test_the_safe_scene_has_no_stimulus_and_does_not_count():
    state, _ = step(None, START)
    for k in range(30):
        state, _ = step(state, Gaze(t=k / 10, on_stimulus=0.0, distance_m=None))
    assert state.gaze_bins == () and state.attention is None and state.tracking == "none"


def test_gaze_and_recentre_after_the_end_are_kept_quietly():
    state, decisions, _ = fold([*calm_session(5, 1.0), parse_event({"type": "end", "t": 6})])
    for event in (Gaze(t=7, on_stimulus=1.0, distance_m=1.0), Recentre(t=7.5)):
        state, effects = step(state, event)
        assert effects == []


def test_a_gaze_event_reads_back_from_its_json_line():
    line = (
        '{"t": 12.3, "type": "gaze", "on_stimulus": 0.8, "distance_m": 1.4, "head_speed_dps": 12.0}'
    )
    event = parse_event(line)
    assert isinstance(event, Gaze) and event.valid and event.on_stimulus == 0.8


# --------------------------------------------------------------------------- properties

shares = st.lists(
    st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.6, 0.9, 1.0, None]), min_size=3, max_size=12
)
segment_s = st.integers(3, 25)


@st.composite
def sessions(draw) -> list[Event]:
    events: list[Event] = []
    t = 0.0
    for share in draw(shares):
        seconds = draw(segment_s)
        valid = draw(st.sampled_from([True] * 5 + [False]))
        events += list(calm_session(seconds, share, from_t=t, valid=valid))
        t += seconds
        if draw(st.integers(0, 9)) == 0:
            events.append(AutoOff(t=t))
    return events


@PROPERTIES
@given(sessions())
def test_never_an_automatic_step_up_while_attention_is_low(events):
    state, _ = step(None, START)
    for event in events:
        before = state
        state, effects = step(state, event)
        for d in effects:
            if isinstance(d, Decision) and d.who == "auto" and d.to_level > d.from_level >= 1:
                assert state.tracking != "lost", d
                assert state.attention is None or state.attention >= SETTINGS.attention_min, (
                    before.attention,
                    d,
                )


@PROPERTIES
@given(sessions())
def test_replay_of_a_recorded_session_with_gaze_equals_live(events):
    state, _ = step(None, START)
    live: list[Decision] = []
    for event in events:
        # the record holds each event as its JSON line: replay reads it back from there
        state, effects = step(state, event)
        live += [e for e in effects if isinstance(e, Decision)]
    record = [parse_event(e.model_dump_json()) for e in [START, *events]]
    assert replay(record) == live
    states = [s for _, s, _ in replay_steps(record)]
    assert states[-1] == state


def test_the_tick_alone_notices_tracking_gone():
    state, _, _ = fold(list(calm_session(12, 0.0)))
    assert state.tracking == "ok"
    state, _ = step(state, Tick(t=state.t + 2.5))
    assert state.tracking == "none"

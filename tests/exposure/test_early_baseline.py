"""A baseline the therapist moves on from early: taken from the good readings so far if there
are enough, else measured on during exposure; guidance and ceiling alerts work once it exists,
and the sensor is blamed only when good readings are really missing.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exposure.core import baseline_text, replay, replay_steps, step
from exposure.models import (
    Alert,
    ControlSettings,
    Decision,
    Effect,
    End,
    Event,
    Ladder,
    Level,
    Reading,
    Safe,
    SessionStart,
    SessionState,
    SetLevel,
    StepUp,
    Tick,
)

LADDER = Ladder(scene="spiders", levels=[Level(name=f"situation {i}") for i in range(1, 11)])
CLINICAL = ControlSettings()  # the session ran on the clinical defaults
EXAMPLES = settings(
    max_examples=settings.default.max_examples
    if os.environ.get("HYPOTHESIS_PROFILE") == "deep"
    else 100
)


def fold(events: list[Event]) -> tuple[SessionState, list[Effect], list[SessionState]]:
    """The final state, every effect, and the state after each event."""
    state: SessionState | None = None
    effects: list[Effect] = []
    states: list[SessionState] = []
    for event in events:
        state, out = step(state, event)
        effects.extend(out)
        states.append(state)
    assert state is not None
    return state, effects, states


def alerts(effects: list[Effect], kind: str) -> list[Alert]:
    return [e for e in effects if isinstance(e, Alert) and e.kind == kind]


def readings(start: float, end: float, hr: float, every: float = 1.0) -> list[Event]:
    """One good reading every `every` seconds after `start`, up to and including `end`."""
    out: list[Event] = []
    n = 1
    while (t := round(start + n * every, 6)) <= end:
        out.append(Reading(t=t, hr=hr))
        n += 1
    return out


# --------------------------------------------------------------------------- the session


@pytest.mark.parametrize("auto", [True, False])
def test_a_step_up_during_the_baseline_still_gets_a_baseline_and_ceiling_guidance(
    auto: bool,
) -> None:
    """Issue 16: a step up 5 s into the baseline left it "measuring..." for ever; 45 s of good
    readings later the alert blamed the sensor and no ceiling warning could fire."""
    events: list[Event] = [SessionStart(ladder=LADDER, settings=CLINICAL, auto=auto)]
    events += readings(0, 5, 70.0)
    events.append(StepUp(t=5.2))
    events += readings(5, 50, 70.0)  # 45 s of good readings at level 1
    state, effects, _ = fold(events)
    assert not alerts(effects, "no_baseline")  # the sensor is never blamed
    assert state.baseline_hr == 70.0 and state.level == 1
    assert baseline_text(state).startswith("70 bpm (median of 10 good readings up to 10 s")
    assert state.arousal == 0.0

    events += readings(50, 80, 100.0)  # 43 % above baseline: over the ceiling, under the hard one
    state, effects, _ = fold(events)
    if auto:
        down = [d for d in effects if isinstance(d, Decision) and d.who == "auto"]
        assert len(down) == 1 and down[0].to_level == 0 and "(ceiling 35%)" in down[0].reason
    else:
        ceiling = [a for a in state.alerts if a.kind == "ceiling"]
        assert ceiling and ceiling[0].message.endswith("(ceiling 35%): consider stepping down.")
    # replay reproduces every decision from the recorded events alone
    assert replay(events) == [e for e in effects if isinstance(e, Decision)]


def test_back_in_the_safe_scene_a_baseline_cut_short_is_completed_there() -> None:
    events: list[Event] = [SessionStart(ladder=LADDER, settings=CLINICAL)]
    events += readings(0, 2, 70.0)
    events.append(StepUp(t=2.5))
    events.append(Safe(t=3.0))
    events += readings(3, 9, 72.0)
    state, _, states = fold(events)
    assert state.phase == "safe" and state.baseline_hr is None
    assert state.next_step.endswith("measuring resting HR (8 of 10 good readings).")
    assert baseline_text(state) == "measuring in the safe scene: 8 of 10 good readings"
    events += readings(9, 11, 72.0)
    state, _, _ = fold(events)
    assert state.phase == "safe" and state.baseline_hr == 72.0  # median of 70, 70, 72 x 8


def test_enough_readings_before_an_early_step_make_the_baseline_at_once() -> None:
    events: list[Event] = [SessionStart(ladder=LADDER, settings=CLINICAL)]
    events += readings(0, 20, 66.0)
    events.append(SetLevel(t=20.5, level=3))
    state, effects, _ = fold(events)
    assert state.baseline_hr == 66.0 and state.level == 3
    assert baseline_text(state) == (
        "66 bpm (median of 20 good readings over 20 s, taken early (the baseline period is 60 s))"
    )
    assert not alerts(effects, "no_baseline")


def test_the_sensor_is_blamed_when_good_readings_are_missing_for_the_whole_baseline_period() -> (
    None
):
    events: list[Event] = [SessionStart(ladder=LADDER, settings=CLINICAL)]
    events += readings(0, 3, 70.0)
    events.append(StepUp(t=3.5))
    events += [Tick(t=float(t)) for t in range(4, 59)]
    state, effects, _ = fold(events)
    assert not alerts(effects, "no_baseline")  # not yet: the baseline period is not over
    assert state.stale  # the stale-signal alert already says the signal is gone
    state, effects, _ = fold([*events, Tick(t=60.0)])
    (alert,) = alerts(effects, "no_baseline")
    assert alert.message == (
        "Baseline needs 10 good heart-rate readings and has 3 after 60 s: automatic changes "
        "and ceiling alerts wait for it; check the sensor."
    )


# --------------------------------------------------------------------------- any moment


SHORT = ControlSettings(
    baseline_s=30.0, min_baseline_readings=8, ceiling_sustain_s=6.0, arousal_window_s=5.0
)


@EXAMPLES
@given(
    step_at=st.floats(0.0, SHORT.baseline_s - 0.01),
    every=st.sampled_from([0.25, 0.5, 1.0]),
    rest=st.floats(50.0, 95.0),
    auto=st.booleans(),
    set_level=st.one_of(st.none(), st.integers(1, LADDER.top)),
)
def test_whatever_the_moment_of_an_early_step_a_baseline_comes_and_the_ceiling_then_acts(
    step_at: float, every: float, rest: float, auto: bool, set_level: int | None
) -> None:
    move: Event = StepUp(t=step_at) if set_level is None else SetLevel(t=step_at, level=set_level)
    # good readings flow at rest, one every `every` seconds: the baseline is fixed by the
    # later of the step and the reading that makes the minimum, never later
    fixed_by = max(step_at, SHORT.min_baseline_readings * every)
    settle = fixed_by + SHORT.arousal_window_s + 1.0
    flowing = readings(0, settle, rest, every)
    events: list[Event] = [SessionStart(ladder=LADDER, settings=SHORT, auto=auto)]
    events += [r for r in flowing if r.t <= step_at]
    events.append(move)
    events += [r for r in flowing if r.t > step_at]
    _, effects, states = fold(events)
    moved = events.index(move)
    for event, state in zip(events[moved:], states[moved:], strict=True):
        if event.t >= fixed_by:
            assert state.baseline_hr == pytest.approx(rest)
    assert not alerts(effects, "no_baseline")  # good readings flowed: the sensor is fine
    assert (
        not alerts(effects, "ceiling") and not [d for d in effects if isinstance(d, Decision)][1:]
    )

    # a ceiling crossing, held, then raises the ceiling alert (manual) or steps down (automatic)
    high = rest * (1 + (SHORT.ceiling + SHORT.hard_ceiling) / 2)
    events += readings(
        settle, settle + SHORT.arousal_window_s + SHORT.ceiling_sustain_s + 2, high, every
    )
    state, effects, _ = fold(events)
    level = states[-1].level
    if auto:
        down = [d for d in effects if isinstance(d, Decision) and d.who == "auto"]
        assert [(d.from_level, d.to_level) for d in down] == [(level, level - 1)]
        assert "ceiling" in down[0].reason
    else:
        assert any(a.kind == "ceiling" for a in state.alerts)
    assert [d for _, _, out in replay_steps(events) for d in out if isinstance(d, Decision)] == [
        d for d in effects if isinstance(d, Decision)
    ]


def test_a_session_ended_before_any_baseline_says_it_was_not_measured() -> None:
    events: list[Event] = [SessionStart(ladder=LADDER, settings=CLINICAL)]
    events += readings(0, 2, 70.0)
    events.append(End(t=2.5))
    state, _, _ = fold(events)
    assert baseline_text(state) == "not measured: 2 of 10 good readings"

"""Property tests of the safety invariants over random sessions.

A session folds a few hundred events through the core (about 50 us each), so a run of the dev
profile's 300 examples took some 10 s: by default these run 100 sessions each (about 2 s); the deep
profile keeps its 1,000.
"""

from __future__ import annotations

import os

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from exposure.core import replay, step
from exposure.models import (
    SAFE_LEVEL,
    AutoOff,
    AutoOn,
    ControlSettings,
    Decision,
    End,
    Event,
    Ladder,
    Level,
    Pause,
    Reading,
    Resume,
    Safe,
    SceneTarget,
    SessionStart,
    SessionState,
    SetLevel,
    StepDown,
    StepUp,
    Suds,
    SystemEvent,
    Tick,
)

SETTINGS = ControlSettings(
    baseline_s=10,
    min_baseline_readings=3,
    min_dwell_s=15,
    ceiling_sustain_s=4,
    stale_after_s=3,
    trend_window_s=12,
)
LADDER = Ladder(scene="heights", levels=[Level(name=f"floor {i}") for i in range(1, 9)])
SESSIONS = settings(
    max_examples=settings.default.max_examples
    if os.environ.get("HYPOTHESIS_PROFILE") == "deep"
    else 100
)

commands = st.one_of(
    st.builds(SetLevel, level=st.integers(0, 9)),
    st.just(StepUp()),
    st.just(StepDown()),
    st.just(AutoOn()),
    st.just(AutoOff()),
    st.just(Pause()),
    st.just(Resume()),
    st.just(Safe()),
    st.just(Safe(by="client")),
    st.builds(Suds, value=st.integers(0, 100)),
    st.just(End()),
    st.builds(
        SystemEvent,
        t=st.just(0.0),
        kind=st.sampled_from(["sensor_disconnected", "sensor_reconnected", "render_restarted"]),
    ),
)
# A session is a run of segments: some seconds of readings around one heart rate, with a
# quality, then perhaps a command. Calm segments dominate so sessions climb the ladder.
segments = st.tuples(
    st.integers(1, 40),
    st.one_of(st.floats(64, 80), st.floats(64, 80), st.floats(96, 106), st.floats(40, 200)),
    st.sampled_from(["ok"] * 8 + ["no-contact", "artefact", "searching", "gap"]),
    st.one_of(*[st.none()] * 4, commands),
)


@st.composite
def sessions(draw: st.DrawFn) -> list[Event]:
    events: list[Event] = [SessionStart(ladder=LADDER, settings=SETTINGS, auto=draw(st.booleans()))]
    t = 0.0
    for seconds, hr, quality, command in draw(st.lists(segments, min_size=1, max_size=30)):
        for i in range(seconds):
            t += 1.0
            if quality == "gap":
                events.append(Tick(t=t))
            elif quality == "ok":
                events.append(Reading(t=t, hr=hr + (i * 7 % 5 - 2) * 0.4))
            else:
                events.append(Reading(t=t, quality=quality))
        if command is not None:
            t += draw(st.floats(0.01, 0.99))
            events.append(command.model_copy(update={"t": round(t, 3)}))
    return events


def assert_step_up_rules_held(
    before: SessionState, event: Event, after: SessionState, up: Decision
) -> None:
    """Every condition of the step-up rule held when an automatic step up was taken.

    The move changes the level and nothing the rule reads, so `after` holds the signal the
    decision saw; the dwell and the SUDS peak at the level are the ones before the move.
    """
    assert not after.stale  # a fresh signal
    # inside or below the therapeutic window: its top, not the ceiling, is the limit
    assert after.arousal is not None and after.arousal <= SETTINGS.window_high
    trend = after.trend_bpm_per_min
    assert trend is not None and trend <= SETTINGS.rising_bpm_per_min  # not rising
    assert up.t - before.level_since >= SETTINGS.min_dwell_s  # a resume restarts it too
    if SETTINGS.suds_before_step_up:  # a SUDS rating was given at this level
        assert before.suds_peak is not None or isinstance(event, Suds)
    suds, suds_t = after.suds, after.suds_t
    if suds is not None and suds_t is not None and up.t - suds_t <= SETTINGS.suds_recent_s:
        peak = before.suds_peak if before.phase == "exposure" else None
        if isinstance(event, Suds):
            peak = event.value if peak is None else max(peak, event.value)
        # a recent SUDS is below the threshold or has halved from its peak at this level
        assert suds < SETTINGS.suds_low or (peak is not None and suds <= peak / 2)


@SESSIONS
@given(sessions())
def test_safety_invariants_hold_over_any_session(events: list[Event]) -> None:
    state = None
    last_change: float | None = None
    for event in events:
        before = state
        state, effects = step(state, event)
        decisions = [e for e in effects if isinstance(e, Decision)]
        assert len(decisions) <= 1
        for d in decisions:
            if d.who == "auto" and d.to_level > d.from_level and d.from_level != SAFE_LEVEL:
                assert before is not None
                assert_step_up_rules_held(before, event, state, d)
                # at most one automatic step up per dwell period
                assert last_change is not None and d.t - last_change >= SETTINGS.min_dwell_s
            last_change = d.t
        if isinstance(event, Safe) and before is not None and before.phase != "ended":
            # panic ends in the safe scene within the same step
            assert state.level == SAFE_LEVEL and state.phase == "safe"
            assert state.scene_target.safe
            if before.level != SAFE_LEVEL:
                assert any(isinstance(e, SceneTarget) and e.safe for e in effects)
        assert 0 <= state.level <= LADDER.top
        if state.phase in ("safe", "ended"):
            assert state.level == SAFE_LEVEL


@SESSIONS
@given(sessions())
def test_replay_is_deterministic_and_matches_the_live_decisions(events: list[Event]) -> None:
    state = None
    live: list[Decision] = []
    for event in events:
        state, effects = step(state, event)
        live.extend(e for e in effects if isinstance(e, Decision))
    assert replay(iter(events)) == live  # a second, independent fold, from any iterable


@SESSIONS
@given(baseline=st.floats(50, 90), arousal=st.floats(-0.1, SETTINGS.ceiling))
def test_steady_arousal_steps_up_exactly_when_it_is_inside_or_below_the_window(
    baseline: float, arousal: float
) -> None:
    """Random sessions rarely hold HR between the window's top and the ceiling for a dwell."""
    hr = baseline * (1 + arousal)
    assume(abs(arousal - SETTINGS.window_high) > 1e-9 and abs(arousal - SETTINGS.ceiling) > 1e-9)
    physiology = SETTINGS.model_copy(update={"suds_before_step_up": False})
    events: list[Event] = [SessionStart(ladder=LADDER, settings=physiology)]
    events += [Reading(t=float(t), hr=baseline) for t in range(1, int(SETTINGS.baseline_s) + 1)]
    end = SETTINGS.baseline_s + 3 * SETTINGS.min_dwell_s
    events += [Reading(t=float(t), hr=hr) for t in range(int(SETTINGS.baseline_s) + 1, int(end))]
    ups = [d for d in replay(events) if d.who == "auto" and d.from_level != SAFE_LEVEL]
    assert bool(ups) == (arousal <= SETTINGS.window_high)

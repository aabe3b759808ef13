"""Measures in the core: "sick, not scared", and measure and expectancy events in the record."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from exposure.core import replay, replay_steps, step
from exposure.models import (
    SAFE_LEVEL,
    Alert,
    AutoOff,
    ControlSettings,
    Decision,
    End,
    Event,
    Expectancy,
    Ladder,
    Level,
    Measure,
    Pause,
    Reading,
    Resume,
    SessionStart,
    SessionState,
    StepUp,
    parse_event,
)

SETTINGS = ControlSettings(
    baseline_s=10,
    min_baseline_readings=3,
    min_dwell_s=15,
    ceiling_sustain_s=4,
    stale_after_s=3,
    trend_window_s=12,
    sickness_threshold=5,
)
LADDER = Ladder(scene="heights", levels=[Level(name=f"floor {i}") for i in range(1, 9)])
SESSIONS = settings(
    max_examples=settings.default.max_examples
    if os.environ.get("HYPOTHESIS_PROFILE") == "deep"
    else 50
)


def sickness(t: float, rating: int) -> Measure:
    return Measure(
        t=t, instrument="sickness", phase="mid", answers=[rating], scores={"sickness": rating}
    )


def ssq(t: float, phase: str, total: float) -> Measure:
    return Measure.model_validate(
        {
            "t": t,
            "instrument": "ssq",
            "phase": phase,
            "answers": [0] * 16,
            "scores": {"nausea": 0, "oculomotor": 0, "disorientation": 0, "total": total},
        }
    )


class Run:
    """Fold events through the core and keep every effect."""

    def __init__(self, auto: bool = True) -> None:
        self.events: list[Event] = [SessionStart(ladder=LADDER, settings=SETTINGS, auto=auto)]
        self.state: SessionState
        self.state, self.effects = step(None, self.events[0])
        self.t = 0.0

    def feed(self, event: Event) -> list:
        self.events.append(event)
        self.state, effects = step(self.state, event)
        self.effects += effects
        return effects

    def beats(self, seconds: int, hr: float) -> None:
        for _ in range(seconds):
            self.t += 1.0
            self.feed(Reading(t=self.t, hr=hr))

    def at(self, event: Event) -> list:
        self.t += 0.5
        return self.feed(event.model_copy(update={"t": self.t}))

    def alerts(self, kind: str) -> list[Alert]:
        return [e for e in self.effects if isinstance(e, Alert) and e.kind == kind]

    def decisions(self) -> list[Decision]:
        return [e for e in self.effects if isinstance(e, Decision)]


def in_exposure(auto: bool = True) -> Run:
    run = Run(auto=auto)
    run.beats(11, 70)  # baseline 70 bpm, then level 1 (automatic) ...
    if not auto:
        run.at(StepUp())
    run.beats(16, 70)  # ... and after the dwell, level 2
    return run


def test_a_sickness_rating_above_the_threshold_alerts_sick_not_scared() -> None:
    run = in_exposure()
    level = run.state.level
    effects = run.at(sickness(0, 7))
    alert = next(e for e in effects if isinstance(e, Alert))
    assert (alert.kind, alert.severity, alert.active) == ("sick_not_scared", "warning", True)
    assert "Sick, not scared" in alert.message and "Pause the session" in alert.message
    assert run.state.sick and run.state.sickness == 7
    assert run.state.level == level
    assert "sick, not scared" in run.state.next_step


def test_while_sick_the_level_does_not_step_down_for_hr_above_the_ceiling() -> None:
    run = in_exposure()
    level = run.state.level
    run.at(sickness(0, 8))
    run.beats(30, 70 * 1.45)  # 45 % above baseline: over the ceiling (35 %), under the hard one
    assert run.state.level == level
    assert not [d for d in run.decisions() if d.t > run.events[-31].t]
    ceiling = run.alerts("ceiling")[-1]
    assert "not stepping down" in ceiling.message and "sickness 8/10" in ceiling.message


def test_a_rating_back_under_the_threshold_clears_it_and_the_ceiling_rule_returns() -> None:
    run = in_exposure()
    level = run.state.level
    run.at(sickness(0, 6))
    run.beats(10, 70 * 1.45)
    assert run.state.level == level
    effects = run.at(sickness(0, 5))  # at the threshold is not above it
    cleared = next(e for e in effects if isinstance(e, Alert) and e.kind == "sick_not_scared")
    assert not cleared.active and "usual rules apply" in cleared.message
    assert not run.state.sick
    run.beats(6, 70 * 1.45)  # sustained over the ceiling from the clearing rating: steps down
    assert run.state.level == level - 1
    assert run.decisions()[-1].who == "auto"


def test_the_hard_ceiling_still_goes_to_the_safe_scene_while_sick() -> None:
    run = in_exposure()
    run.at(sickness(0, 9))
    run.beats(12, 70 * 1.7)
    assert run.state.level == SAFE_LEVEL
    assert "hard ceiling" in run.decisions()[-1].reason


def test_while_sick_nothing_steps_up_by_itself() -> None:
    run = in_exposure()
    level = run.state.level
    run.at(sickness(0, 6))
    run.beats(60, 70)  # calm and long past the dwell: would step up twice
    assert run.state.level == level
    assert "sick, not scared" in run.state.next_step


def test_in_manual_mode_sickness_alerts_the_same_and_the_therapist_still_moves() -> None:
    run = in_exposure(auto=False)
    run.at(AutoOff())
    run.at(sickness(0, 7))
    assert run.alerts("sick_not_scared")
    level = run.state.level
    run.at(Pause())
    assert run.state.phase == "paused"
    run.at(Resume())
    run.at(StepUp())
    assert run.state.level == level + 1


def test_other_measures_and_expectancy_ratings_change_nothing_in_the_controller() -> None:
    run = in_exposure()
    before = run.state
    run.at(ssq(0, "pre", 11.22))
    run.at(ssq(0, "mid", 200.0))  # only the sickness item moves the rule, not an SSQ mid-session
    run.at(Expectancy(level=2, stage="before", expectation="I will fall", likelihood=80))
    run.at(Expectancy(level=2, stage="after", happened=False, surprise=60))
    assert not run.state.sick
    assert run.state.level == before.level
    # (time passes as they are given, so a SUDS reminder may come due: that is the clock's doing)
    caused = [e for e in run.effects[len(run.effects) - 4 :] if isinstance(e, Alert)]
    assert not [a for a in caused if a.kind != "suds_due"]


def test_a_post_session_ssq_is_taken_after_end_without_a_refusal() -> None:
    run = in_exposure()
    run.at(End())
    effects = run.at(ssq(0, "post", 18.7))
    effects += run.at(Expectancy(level=2, stage="after", happened=True, surprise=10))
    assert effects == []
    assert run.state.phase == "ended"


def test_expectancy_needs_the_fields_of_its_stage() -> None:
    with pytest.raises(ValidationError, match="before a step give the expectation"):
        Expectancy(level=1, stage="before", likelihood=50)
    with pytest.raises(ValidationError, match="after a step give happened"):
        Expectancy(level=1, stage="after", surprise=5)
    with pytest.raises(ValidationError, match="belong to the rating after"):
        Expectancy(level=1, stage="before", expectation="x", likelihood=5, surprise=5)
    with pytest.raises(ValidationError):
        Expectancy(level=1, stage="before", expectation="x", likelihood=101)


def test_the_events_parse_from_the_shapes_the_records_use() -> None:
    measure = parse_event(
        {
            "type": "measure",
            "t": 12.0,
            "instrument": "ssq",
            "phase": "pre",
            "answers": [0, 1] + [0] * 14,
            "scores": {"nausea": 9.54, "oculomotor": 7.58, "disorientation": 0, "total": 7.48},
        }
    )
    assert isinstance(measure, Measure) and measure.answers[1] == 1
    before = parse_event(
        '{"type": "expectancy", "t": 30.0, "level": 3, "stage": "before",'
        ' "expectation": "it will jump on me", "likelihood": 80}'
    )
    after = parse_event(
        {"type": "expectancy", "t": 95.0, "level": 3, "stage": "after", "happened": False}
        | {"surprise": 60}
    )
    assert isinstance(before, Expectancy) and before.likelihood == 80
    assert isinstance(after, Expectancy) and after.happened is False
    with pytest.raises(ValidationError):
        parse_event({"type": "measure", "t": 1, "instrument": "ssq", "phase": "during"})


def test_replay_of_the_json_record_reproduces_the_sick_not_scared_session() -> None:
    run = in_exposure()
    run.at(sickness(0, 8))
    run.beats(20, 70 * 1.45)
    run.at(sickness(0, 2))
    run.beats(20, 70 * 1.45)
    record = [json.dumps(e.model_dump(mode="json")) for e in run.events]
    replayed = list(replay_steps(parse_event(line) for line in record))
    assert [e for _, _, effects in replayed for e in effects] == run.effects
    assert replay(parse_event(line) for line in record) == run.decisions()


# --------------------------------------------------------------------------- properties

segments = st.tuples(
    st.integers(1, 30),
    st.one_of(st.floats(64, 80), st.floats(96, 106), st.floats(100, 125)),
    st.one_of(
        st.none(),
        st.none(),
        st.integers(0, 10).map(lambda r: sickness(0, r)),
        st.sampled_from([Pause(), Resume(), StepUp(), AutoOff(), End()]),
        st.builds(
            Expectancy,
            level=st.integers(0, 8),
            stage=st.just("before"),
            expectation=st.just("it will happen"),
            likelihood=st.integers(0, 100),
        ),
    ),
)


@st.composite
def sessions(draw: st.DrawFn) -> list[Event]:
    events: list[Event] = [SessionStart(ladder=LADDER, settings=SETTINGS, auto=True)]
    t = 0.0
    for seconds, hr, extra in draw(st.lists(segments, min_size=1, max_size=15)):
        for _ in range(seconds):
            t += 1.0
            events.append(Reading(t=t, hr=hr))
        if extra is not None:
            t += 0.5
            events.append(extra.model_copy(update={"t": t}))
    return events


@SESSIONS
@given(sessions())
def test_property_while_sick_no_automatic_step_but_the_hard_ceilings_safe_scene(
    events: list[Event],
) -> None:
    for _event, state, effects in replay_steps(events):
        if not state.sick:
            continue
        for d in effects:
            if isinstance(d, Decision) and d.who == "auto":
                assert d.to_level == SAFE_LEVEL and "hard ceiling" in d.reason, d


@SESSIONS
@given(sessions())
def test_property_sick_follows_the_latest_mid_session_rating(events: list[Event]) -> None:
    latest: float | None = None
    ended = False
    for event, state, _effects in replay_steps(events):
        if isinstance(event, Measure) and not ended:  # after End the core only records
            latest = event.scores["sickness"]
        assert state.sick == (latest is not None and latest > SETTINGS.sickness_threshold)
        assert state.sickness == latest
        ended = state.phase == "ended"


@SESSIONS
@given(sessions())
def test_property_replay_from_json_lines_reproduces_every_effect(events: list[Event]) -> None:
    live = [e for _, _, effects in replay_steps(events) for e in effects]
    lines = [json.dumps(e.model_dump(mode="json")) for e in events]
    again = [
        e for _, _, effects in replay_steps(parse_event(line) for line in lines) for e in effects
    ]
    assert again == live

"""Core rules that no other test stated: a baseline cut short, pause and a stale signal, system
events in a paused session, and how refused commands are told.

Written to kill mutants that survived `make mutation` (tools/mutation/). Each test is a rule of
`exposure/core.py`'s docstring, driven through `step` as the live session drives it.
"""

from __future__ import annotations

from typing import Any

import pytest

from exposure.core import baseline_text, step
from exposure.models import (
    Alert,
    AutoOff,
    AutoOn,
    ControlSettings,
    Decision,
    End,
    Pause,
    Reading,
    Resume,
    Safe,
    SessionStart,
    SetLevel,
    StepDown,
    StepUp,
    Suds,
    SystemEvent,
    Tick,
)
from tests.exposure.driving import LADDER, QUICK, Driver


class Run(Driver):
    """Drive the core second by second, keeping every effect."""

    def __init__(self, settings: ControlSettings = QUICK, auto: bool = True) -> None:
        super().__init__(settings, auto)
        self.t = 0.0

    def beats(self, seconds: float, hr: float) -> None:
        """One good reading a second for `seconds`."""
        end = self.t + seconds
        while self.t < end:
            self.t += 1.0
            self.send(Reading(t=self.t, hr=hr))

    def wait(self, seconds: float) -> list[Any]:
        self.t += seconds
        return self.send(Tick(t=self.t))

    def command(self, cmd: Any) -> list[Any]:
        return self.send(cmd.model_copy(update={"t": self.t}))


def paused_at_70() -> Run:
    """Baseline 70 bpm (10 s), automatic start at level 1, then paused."""
    run = Run()
    run.beats(10, 70.0)
    assert run.state.phase == "exposure" and run.state.baseline_hr == 70.0
    run.command(Pause(t=0))
    assert run.state.phase == "paused"
    return run


# --------------------------------------------------------------------------- a baseline cut short


def test_a_baseline_cut_short_goes_on_measuring_during_exposure_and_says_so() -> None:
    run = Run()
    run.beats(2, 70.0)
    run.command(SetLevel(t=0, level=2))  # the therapist starts before the baseline is measured
    assert run.active("no_baseline") is None  # two good readings: nothing is wrong with the sensor
    assert run.state.baseline_hr is None
    assert run.state.next_step == (
        "Measuring resting HR during exposure (2 of 3 good readings): automatic changes and "
        "ceiling alerts start once it is set."
    )
    assert baseline_text(run.state) == "measuring during exposure: 2 of 3 good readings"
    run.beats(1, 76.0)
    assert run.state.baseline_hr == 70.0  # the median of 70, 70, 76
    assert baseline_text(run.state) == (
        "70 bpm (median of 3 good readings up to 3 s, some taken after the baseline was cut "
        "short, so arousal may read lower than it is)"
    )
    assert run.state.arousal is not None  # arousal is measured from the new baseline at once


def test_a_baseline_cut_short_is_completed_in_the_safe_scene_and_its_alert_cleared() -> None:
    run = Run()
    run.beats(2, 70.0)
    run.command(SetLevel(t=0, level=2))
    run.command(Safe(t=0))
    run.wait(QUICK.baseline_s)  # no reading for the whole baseline period: now the sensor is blamed
    alert = run.active("no_baseline")
    assert alert is not None and alert.severity == "warning"
    assert alert.message == (
        "Baseline needs 3 good heart-rate readings and has 2 after 10 s: automatic changes and "
        "ceiling alerts wait for it; check the sensor."
    )
    assert run.state.next_step == (
        "In the safe scene: Resume goes back to level 2 (situation 2); measuring resting HR "
        "(2 of 3 good readings)."
    )
    run.t += 1.0
    effects = run.send(Reading(t=run.t, hr=72.0))  # readings in the safe scene count too
    assert run.state.phase == "safe" and run.state.baseline_hr == 70.0
    assert run.state.baseline_samples == ()  # the samples are not carried on
    cleared = [e for e in effects if isinstance(e, Alert) and e.kind == "no_baseline"]
    assert len(cleared) == 1 and not cleared[0].active and cleared[0].onset == alert.onset
    assert run.active("no_baseline") is None
    run.command(Resume(t=0))
    assert run.state.phase == "exposure" and run.state.baseline_hr == 70.0


# --------------------------------------------------------------------------- pause


def test_pause_alerts_on_a_hard_ceiling_arousal_and_says_the_session_is_paused() -> None:
    run = paused_at_70()
    run.beats(10, 160.0)
    alert = run.active("hard_ceiling")
    assert alert is not None and alert.severity == "critical"
    assert alert.message.endswith("while paused: consider the safe scene now.")
    assert run.state.level == 1  # the level stays where the therapist left it


def test_a_stale_signal_never_clears_the_hard_ceiling_alert_while_paused() -> None:
    run = paused_at_70()
    run.beats(10, 160.0)
    run.beats(5, 80.0)  # over 10 s the mean is still above the hard ceiling
    assert run.active("hard_ceiling") is not None
    run.wait(6.0)  # stale: only the calmer readings remain in the window, but nothing is trusted
    assert run.state.stale
    assert run.active("hard_ceiling") is not None


def test_paused_without_a_reading_in_the_arousal_window_nothing_alerts_or_fails() -> None:
    settings = QUICK.model_copy(update={"arousal_window_s": 2.0, "stale_after_s": 5.0})
    run = Run(settings)
    run.beats(10, 70.0)
    run.command(Pause(t=0))
    run.wait(3.0)  # no reading for 3 s: no arousal figure, yet not stale
    assert run.state.arousal is None and not run.state.stale
    assert run.active("hard_ceiling") is None


# --------------------------------------------------------------------------- system events


def test_a_headset_restart_while_paused_goes_to_the_safe_scene() -> None:
    run = paused_at_70()
    effects = run.command(SystemEvent(t=0, kind="render_restarted"))
    assert run.state.phase == "safe" and run.state.level == 0
    assert any(isinstance(e, Decision) and e.to_level == 0 for e in effects)


def test_a_system_event_without_detail_has_no_empty_brackets_in_its_alert() -> None:
    run = Run()
    run.command(SystemEvent(t=0, kind="sensor_disconnected"))
    alert = run.active("sensor_disconnected")
    assert alert is not None
    assert alert.message == (
        "Heart-rate sensor disconnected: automatic changes on hold; check the cable."
    )


# --------------------------------------------------------------------------- refused commands


def test_a_refused_command_is_told_once_and_does_not_stay_on_the_alert_list() -> None:
    run = Run()
    effects = run.command(StepDown(t=0))
    refused = [e for e in effects if isinstance(e, Alert)]
    assert [(a.kind, a.severity, a.active) for a in refused] == [("command_refused", "info", False)]
    assert run.active("command_refused") is None


# --------------------------------------------------------------------------- what the therapist reads


def at_100(settings: ControlSettings = QUICK, auto: bool = True) -> Run:
    """Baseline exactly 100 bpm over 10 s, so percentages are exact; level 1 from t = 10."""
    run = Run(settings, auto=auto)
    run.beats(10, 100.0)
    if not auto:
        run.command(SetLevel(t=0, level=1))
    assert run.state.baseline_hr == 100.0 and run.state.level == 1
    return run


def reasons(effects: list[Any]) -> list[str]:
    return [e.reason for e in effects if isinstance(e, Decision)]


def test_a_new_session_says_how_long_the_baseline_has_left() -> None:
    start = SessionStart(t=100.0, client="C-9", ladder=LADDER.model_copy(update={"start_level": 2}))
    state, _ = step(None, start.model_copy(update={"settings": QUICK}))
    assert (state.client, state.t, state.started_at, state.level_since) == (
        "C-9",
        100.0,
        100.0,
        100.0,
    )
    assert state.resume_level == 2
    assert state.next_step == (
        "Measuring resting HR: 10 s of baseline left, then level 2 (situation 2)."
    )


def test_the_baseline_is_measured_for_its_period_from_the_sessions_own_start() -> None:
    state, _ = step(None, SessionStart(t=100.0, ladder=LADDER, settings=QUICK))
    effects: list[Any] = []
    for k in range(1, 11):
        state, effects = step(state, Reading(t=100.0 + k, hr=100.0))
        if k < 10:
            assert state.phase == "baseline"
            assert state.next_step.startswith(f"Measuring resting HR: {10 - k} s of baseline")
    assert reasons(effects) == [
        "Baseline 100 bpm (median of 10 readings over 10 s): start exposure at level 1 "
        "(situation 1)."
    ]
    assert state.baseline_samples == ()


def test_half_a_second_of_baseline_left_is_still_counted_down() -> None:
    run = Run()
    run.beats(9, 100.0)
    run.send(Reading(t=9.5, hr=100.0))
    assert run.state.next_step.startswith("Measuring resting HR: ")
    run.send(Tick(t=10.0))
    assert run.state.phase == "exposure"


def test_a_baseline_without_enough_readings_waits_and_clears_its_alert_when_they_come() -> None:
    run = Run()
    run.beats(1, 100.0)
    run.wait(9.0)  # the period is over with one reading
    assert run.state.next_step == "Waiting for enough good heart-rate readings to set the baseline."
    assert run.active("no_baseline") is not None
    effects: list[Any] = []
    for _ in range(2):
        run.t += 1.0
        effects = run.send(Reading(t=run.t, hr=100.0))
    assert run.active("no_baseline") is None
    assert [(a.kind, a.active) for a in effects if isinstance(a, Alert)] == [("no_baseline", False)]


def test_step_up_reasons_give_arousal_dwell_and_trend() -> None:
    run = at_100()
    assert run.state.next_step == "Holding at level 1: not enough readings yet to see the HR trend."
    run.beats(59, 105.0)
    assert run.state.next_step == "Holding at level 1: 59 of 60 s at this level."
    run.t += 1.0
    effects = run.send(Reading(t=run.t, hr=105.0))
    assert reasons(effects) == [
        "HR 5% above baseline for 60 s and steady: step up to level 2 (situation 2)."
    ]


def test_a_step_up_reason_names_a_recent_suds_and_a_falling_or_lower_hr() -> None:
    run = at_100()
    run.command(Suds(t=0, value=20))
    hr = 100.0
    effects: list[Any] = []
    while not reasons(effects):
        run.t += 1.0
        hr -= 0.1  # 6 bpm a minute down
        effects = run.send(Reading(t=run.t, hr=hr))
    (reason,) = reasons(effects)
    assert reason.startswith("HR 5% below baseline for 60 s and falling, SUDS 20: step up to")
    assert reason.endswith("level 2 (situation 2).")


def test_a_step_up_reason_at_baseline_says_0_percent_above() -> None:
    run = at_100()
    run.beats(60, 100.0)
    assert reasons(run.effects)[-1].startswith("HR 0% above baseline for 60 s and steady")


def test_manual_mode_says_the_therapist_moves_the_level() -> None:
    run = at_100(auto=False)
    run.beats(60, 104.0)
    assert run.state.next_step == (
        "Manual mode at level 1 (situation 1): the therapist moves the level."
    )


def test_over_the_ceiling_the_outlook_says_a_step_down_may_come() -> None:
    run = at_100()
    run.beats(11, 140.0)  # the 10 s mean is 40 % above baseline, for a second so far
    assert run.state.next_step == (
        "HR 40% above baseline, over the ceiling (35%): steps down if it stays there."
    )


def test_an_automatic_step_down_names_where_it_goes() -> None:
    run = at_100()
    run.command(SetLevel(t=0, level=3))
    run.beats(20, 140.0)  # over the ceiling from 20 s, for the 10 s it must hold
    assert reasons(run.effects)[-1] == (
        "HR 40% above baseline for 10 s (ceiling 35%): step down to level 2 (situation 2)."
    )
    run = at_100()
    run.beats(20, 140.0)
    assert reasons(run.effects)[-1].endswith("step down to the safe scene.")


def test_clinician_and_client_moves_say_who_did_what() -> None:
    run = at_100()
    assert reasons(run.command(StepUp(t=0))) == ["Therapist stepped up to level 2 (situation 2)."]
    assert reasons(run.command(StepDown(t=0))) == [
        "Therapist stepped down to level 1 (situation 1)."
    ]
    assert reasons(run.command(StepDown(t=0))) == ["Therapist stepped down to the safe scene."]
    run = at_100()
    assert reasons(run.command(Safe(t=0))) == [
        "Therapist sent the client to the safe scene: safe scene."
    ]
    assert run.command(Safe(t=0)) == []  # already there: nothing to decide
    assert run.state.next_step == "In the safe scene: Resume goes back to level 1 (situation 1)."
    run = at_100()
    assert reasons(run.command(SetLevel(t=0, level=0, by="client"))) == [
        "Client pressed the break button: safe scene."
    ]


def test_step_up_ends_a_baseline_early_or_leaves_the_safe_scene_for_the_level_before() -> None:
    ladder = LADDER.model_copy(update={"start_level": 2})
    run = Run()
    run.state, _ = step(None, SessionStart(ladder=ladder, settings=QUICK))
    run.beats(3, 100.0)
    assert reasons(run.command(StepUp(t=0))) == [
        "Therapist ended the baseline early: level 2 (situation 2)."
    ]
    run.command(SetLevel(t=0, level=4))
    run.command(Safe(t=0))
    assert reasons(run.command(StepUp(t=0))) == [
        "Therapist stepped up out of the safe scene to level 4 (situation 4)."
    ]


def test_setting_the_level_it_is_at_changes_nothing_and_the_dwell_goes_on() -> None:
    run = at_100()
    run.command(SetLevel(t=0, level=2))
    since = run.state.level_since
    run.beats(5, 100.0)
    assert run.command(SetLevel(t=0, level=2)) == []
    assert run.state.level_since == since
    run.command(Pause(t=0))
    assert run.command(SetLevel(t=0, level=2)) == []


def test_a_therapists_move_while_paused_stays_paused() -> None:
    run = at_100()
    run.command(Pause(t=0))
    run.command(SetLevel(t=0, level=3))
    assert (run.state.phase, run.state.level) == ("paused", 3)
    assert (
        run.state.next_step == "Paused at level 3 (situation 3): automatic changes wait for Resume."
    )


def test_the_state_counts_the_decisions_taken() -> None:
    run = at_100()  # the automatic start of exposure is the first
    run.command(StepUp(t=0))
    run.command(Safe(t=0))
    assert run.state.decisions == 3


def test_refused_commands_say_why_in_a_sentence() -> None:
    run = Run()

    def refused(cmd: Any) -> str:
        (alert,) = [e for e in run.command(cmd) if isinstance(e, Alert)]
        assert alert.kind == "command_refused"
        return alert.message

    assert refused(StepDown(t=0)) == "Already in the safe scene: nothing to step down to."
    assert refused(Pause(t=0)) == "Cannot pause during baseline: pause holds a running exposure."
    assert (
        refused(Resume(t=0)) == "Nothing to resume: the session is not paused or in the safe scene."
    )
    run.command(End(t=0))
    assert run.state.next_step == "Session ended."
    assert refused(StepUp(t=0)) == "The session has ended: start a new session to continue."


def test_a_record_that_does_not_start_with_its_header_is_refused_in_a_sentence() -> None:
    with pytest.raises(
        ValueError, match="^a session record must begin with a session_start event$"
    ):
        step(None, Reading(t=1.0, hr=70.0))


# --------------------------------------------------------------------------- alerts


def test_the_stale_alert_is_raised_once_stays_while_stale_and_clears_when_the_signal_is_back() -> (
    None
):
    run = at_100()
    for _ in range(10):
        run.wait(1.0)
    raised = run.alerts("stale_signal")
    assert len(raised) == 1 and raised[0].active
    assert raised[0].message == (
        "No good heart-rate reading for 5 s: automatic changes on hold; check the sensor and "
        "the client's finger or strap."
    )
    assert run.active("stale_signal") is not None
    run.beats(1, 100.0)
    cleared = run.alerts("stale_signal")[-1]
    assert not cleared.active and cleared.message == "Heart-rate signal is back."
    assert run.active("stale_signal") is None


def test_an_alert_with_a_new_message_replaces_the_old_one() -> None:
    run = at_100(auto=False)
    run.beats(10, 160.0)
    run.beats(10, 180.0)
    messages = [a.message for a in run.alerts("hard_ceiling") if a.active]
    assert len(set(messages)) >= 2  # the HR in the message follows the client
    assert run.active("hard_ceiling").message == messages[-1]  # type: ignore[union-attr]


def test_manual_mode_ceiling_alerts_clear_with_their_own_message_when_hr_comes_down() -> None:
    run = at_100(auto=False)
    run.beats(20, 140.0)
    ceiling = run.active("ceiling")
    assert ceiling is not None
    run.beats(20, 170.0)
    assert run.active("hard_ceiling") is not None
    run.beats(20, 100.0)
    assert run.active("hard_ceiling") is None and run.active("ceiling") is None
    *raised, cleared = run.alerts("ceiling")
    assert not cleared.active and cleared.message == raised[-1].message  # its last words
    assert [a.active for a in run.alerts("hard_ceiling")][-1] is False


def test_a_transient_alert_clears_itself_exactly_60_s_after_it_was_raised() -> None:
    run = at_100()
    run.t = 20.0
    run.command(SystemEvent(t=0, kind="sensor_flood", detail="5,000 readings/s"))
    run.send(Tick(t=79.9))
    assert run.active("sensor_flood") is not None
    run.send(Tick(t=80.0))
    assert run.active("sensor_flood") is None


def test_the_suds_reminder_says_how_many_minutes_passed() -> None:
    run = at_100(
        QUICK.model_copy(update={"suds_reminder_s": 120.0, "min_dwell_s": 900.0}), auto=False
    )
    run.beats(120, 100.0)
    alert = run.active("suds_due")
    assert alert is not None
    assert alert.message == "No SUDS rating for 2 min: ask the client how anxious they feel."


# --------------------------------------------------------------------------- timers


FAST = QUICK.model_copy(update={"arousal_window_s": 1.0})
"""Arousal from the last second or two: it follows each reading, so timers start at once."""


def above_ceiling(run: Run, seconds: float) -> None:
    run.beats(seconds, 140.0)
    assert run.state.arousal == 0.4 and run.state.above_ceiling_since is not None


def test_the_ceiling_sustain_restarts_after_hr_dips_below_it() -> None:
    run = at_100(FAST)
    above_ceiling(run, 8)
    run.beats(1, 100.0)  # the mean dips under the ceiling
    above_ceiling(run, 9)
    assert run.state.level == 1
    run.beats(3, 140.0)
    assert run.state.level == 0


def test_the_ceiling_sustain_restarts_after_the_signal_went_stale() -> None:
    run = at_100(FAST)
    above_ceiling(run, 8)
    run.wait(6.0)
    assert run.state.stale and run.state.above_ceiling_since is None
    above_ceiling(run, 9)
    assert run.state.level == 1


def test_automatic_off_restarts_the_ceiling_sustain() -> None:
    run = at_100(FAST)
    above_ceiling(run, 8)
    run.command(AutoOff(t=0))
    assert run.state.above_ceiling_since == run.t  # counted again from here
    run.command(AutoOn(t=0))
    above_ceiling(run, 9)
    assert run.state.level == 1


def test_the_suds_peak_is_kept_while_paused_and_only_at_a_level() -> None:
    run = at_100()
    run.command(Suds(t=0, value=80))
    run.command(Pause(t=0))
    run.command(Suds(t=0, value=40))
    assert run.state.suds_peak == 80
    run.command(Safe(t=0))
    run.command(Suds(t=0, value=70))
    run.command(Suds(t=0, value=30))
    assert run.state.suds_peak == 30  # in the safe scene each rating stands alone


# --------------------------------------------------------------------------- the signal


def test_readings_in_one_second_share_one_bin_and_a_bin_lives_31_s() -> None:
    run = at_100()
    run.send(Reading(t=20.2, hr=90.0))
    run.send(Reading(t=20.7, hr=110.0))
    assert run.state.recent[-1] == (20, 200.0, 2)
    run.t = 20.0
    run.beats(31, 100.0)
    assert run.state.t == 51.0
    assert [sec for sec, _, _ in run.state.recent][:2] == [20, 21]  # 51 - 30 s window - 1 s
    run.beats(1, 100.0)
    assert run.state.recent[0][0] == 21


def test_hr_is_the_mean_of_the_last_10_s_its_edge_included() -> None:
    run = Run()
    run.beats(10, 100.0)
    run.send(Reading(t=11.0, hr=150.0))
    run.send(Tick(t=21.0))  # the reading at 11 s is exactly 10 s old
    assert run.state.hr == 150.0


def test_the_trend_needs_three_seconds_a_third_of_the_window_apart() -> None:
    state, _ = step(None, SessionStart(ladder=LADDER, settings=QUICK))
    for t, hr in ((100.2, 70.0), (105.2, 71.0)):
        state, _ = step(state, Reading(t=t, hr=hr))
    state, _ = step(state, Reading(t=108.2, hr=72.0))
    assert state.trend_bpm_per_min is None  # 8 s apart: under a third of 30 s
    state, _ = step(None, SessionStart(ladder=LADDER, settings=QUICK))
    for t, hr in ((100.2, 70.0), (105.2, 71.0), (110.2, 72.0)):
        state, _ = step(state, Reading(t=t, hr=hr))
    assert state.trend_bpm_per_min == pytest.approx(12.0)  # 1 bpm every 5 s, exactly 10 s apart


def test_the_trend_uses_each_seconds_mean() -> None:
    state, _ = step(None, SessionStart(ladder=LADDER, settings=QUICK))
    for k in range(20):
        state, _ = step(state, Reading(t=100.1 + k, hr=70.0 + k * 0.5))
        state, _ = step(state, Reading(t=100.6 + k, hr=72.0 + k * 0.5))
    assert state.trend_bpm_per_min == pytest.approx(30.0)


def test_readings_at_a_level_without_a_baseline_never_become_baseline_samples() -> None:
    run = Run()
    run.beats(2, 100.0)
    run.command(SetLevel(t=0, level=1))  # no baseline yet
    run.beats(5, 160.0)
    run.command(Safe(t=0))
    run.beats(1, 100.0)
    run.command(Resume(t=0))
    assert run.state.baseline_hr == 100.0


def test_with_no_reading_in_the_arousal_window_exposure_holds_without_failing() -> None:
    settings = QUICK.model_copy(update={"arousal_window_s": 2.0, "stale_after_s": 5.0})
    run = at_100(settings)
    run.wait(3.0)
    assert run.state.arousal is None and not run.state.stale
    assert run.state.next_step == "Holding at level 1: no arousal figure yet."


def test_without_a_baseline_the_outlook_says_it_is_measured_during_exposure() -> None:
    run = Run()
    run.beats(1, 100.0)
    run.command(SetLevel(t=0, level=1))
    assert run.state.next_step == (
        "Measuring resting HR during exposure (1 of 3 good readings): automatic changes and "
        "ceiling alerts start once it is set."
    )


@pytest.mark.parametrize("sign, words", [(1, "3% above baseline"), (-1, "3% below baseline")])
def test_a_trend_exactly_at_the_rising_limit_either_way_is_steady(sign: int, words: str) -> None:
    run = at_100(QUICK.model_copy(update={"rising_bpm_per_min": 3.75}))
    while run.state.level == 1:  # 1/16 bpm a second: exactly 3.75 bpm a minute
        run.t += 1.0
        run.send(Reading(t=run.t, hr=100.0 + sign * (run.t - 10.0) / 16))
    assert run.state.trend_bpm_per_min == sign * 3.75
    assert reasons(run.effects)[-1] == (
        f"HR {words} for 60 s and steady: step up to level 2 (situation 2)."
    )


def test_the_suds_reminder_rounds_to_whole_minutes() -> None:
    run = at_100(
        QUICK.model_copy(update={"suds_reminder_s": 330.0, "min_dwell_s": 900.0}), auto=False
    )
    run.beats(330, 100.0)
    alert = run.active("suds_due")
    assert alert is not None and alert.message.startswith("No SUDS rating for 6 min:")


def test_the_trend_window_includes_its_oldest_second() -> None:
    state, _ = step(None, SessionStart(ladder=LADDER, settings=QUICK))
    for t, hr in ((100.0, 80.0), (110.0, 70.0), (115.0, 70.0), (130.0, 70.0)):
        state, _ = step(state, Reading(t=t, hr=hr))
    assert state.trend_bpm_per_min is not None and state.trend_bpm_per_min < 0  # 30 s ago: in

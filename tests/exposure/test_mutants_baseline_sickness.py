"""The baseline as the console tells it, a baseline cut short in a session that did not start at
0 s, "sick, not scared" at its edges, and the SUDS reminder after a move.

Written to kill mutants that survived `make mutation` (tools/mutation/). Each test drives `step`
as the live session does, at exact times, and reads what the therapist reads.
"""

from __future__ import annotations

from exposure.core import baseline_text
from exposure.models import (
    Alert,
    ControlSettings,
    End,
    Measure,
    Pause,
    Reading,
    Safe,
    SessionState,
    SetLevel,
    StepUp,
    Suds,
    Tick,
)
from tests.exposure.driving import LADDER, QUICK, Driver


class Run(Driver):
    """Drive the core with events at the times given, keeping every effect."""

    def beats(self, first: float, last: float, hr: float) -> None:
        """A good reading each whole second from `first` to `last`, both included."""
        t = first
        while t <= last:
            self.send(Reading(t=t, hr=hr))
            t += 1.0


def sickness(t: float, rating: float, phase: str = "mid") -> Measure:
    return Measure.model_validate(
        {
            "t": t,
            "instrument": "sickness",
            "phase": phase,
            "answers": [rating],
            "scores": {"sickness": rating},
        }
    )


# --------------------------------------------------------------------------- the baseline's text


def test_the_baseline_text_counts_down_from_the_sessions_own_start() -> None:
    run = Run(start=100.0)
    run.beats(101.0, 102.0, 70.0)
    assert baseline_text(run.state) == "measuring: 8 s left, 2 good readings so far"
    run.send(Tick(t=109.0))
    assert baseline_text(run.state) == "measuring: 1 s left, 2 good readings so far"
    run.send(Tick(t=110.0))  # the period is over, the readings are too few
    assert run.state.phase == "baseline"
    assert baseline_text(run.state) == "measuring: 2 of 3 good readings"


def test_a_fixed_baseline_says_how_it_was_measured() -> None:
    run = Run()
    run.beats(1.0, 10.0, 70.0)
    assert run.state.baseline_note == "median of 10 good readings over 10 s"
    assert baseline_text(run.state) == "70 bpm (median of 10 good readings over 10 s)"


def test_a_baseline_without_a_note_is_shown_without_brackets() -> None:
    assert baseline_text(SessionState(ladder=LADDER, baseline_hr=70.4)) == "70 bpm"


def test_a_baseline_cut_short_goes_on_measuring_while_paused_and_is_fixed_there() -> None:
    run = Run()
    run.beats(1.0, 2.0, 70.0)
    run.send(SetLevel(t=2.0, level=2))
    run.send(Pause(t=3.0))
    assert run.state.phase == "paused" and run.state.baseline_hr is None
    assert baseline_text(run.state) == "measuring during exposure: 2 of 3 good readings"
    run.send(Reading(t=4.0, hr=76.0))
    assert run.state.phase == "paused" and run.state.baseline_hr == 70.0
    assert baseline_text(run.state) == (
        "70 bpm (median of 3 good readings up to 4 s, some taken after the baseline was cut "
        "short, so arousal may read lower than it is)"
    )


def test_a_baseline_cut_short_is_blamed_on_the_sensor_a_baseline_period_after_the_start() -> None:
    run = Run(start=100.0)
    run.beats(101.0, 102.0, 70.0)
    run.send(SetLevel(t=102.0, level=2))
    run.send(Tick(t=109.9))
    assert run.alerts("no_baseline") == []
    run.send(Tick(t=110.0))
    (alert,) = run.alerts("no_baseline")
    assert alert.message.startswith(
        "Baseline needs 3 good heart-rate readings and has 2 after 10 s"
    )
    run.send(Reading(t=111.0, hr=76.0))
    assert baseline_text(run.state) == (
        "70 bpm (median of 3 good readings up to 11 s, some taken after the baseline was cut "
        "short, so arousal may read lower than it is)"
    )


def test_the_safe_button_during_the_baseline_fixes_it_as_taken_early() -> None:
    run = Run()
    run.beats(1.0, 5.0, 70.0)
    run.send(Safe(t=5.0))
    assert run.state.phase == "safe" and run.state.baseline_hr == 70.0
    # every reading was taken inside the baseline period: none after it was cut short
    assert baseline_text(run.state) == (
        "70 bpm (median of 5 good readings over 5 s, taken early (the baseline period is 10 s))"
    )


def test_ending_the_session_during_the_baseline_fixes_no_baseline() -> None:
    run = Run()
    run.beats(1.0, 5.0, 70.0)
    run.send(End(t=5.0))
    assert run.state.phase == "ended" and run.state.baseline_hr is None
    # enough readings, but the session ended before the baseline was taken: said so, not "5 of 3"
    assert baseline_text(run.state) == (
        "not measured: the session ended during the baseline (5 good readings)"
    )
    run = Run()
    run.beats(1.0, 3.0, 70.0)  # exactly enough
    run.send(End(t=3.0))
    assert baseline_text(run.state) == (
        "not measured: the session ended during the baseline (3 good readings)"
    )


def test_starting_exposure_while_sick_fixes_the_baseline_and_clears_its_alert() -> None:
    run = Run()
    run.beats(1.0, 2.0, 70.0)
    run.send(Tick(t=10.0))
    (raised,) = run.alerts("no_baseline")
    run.send(sickness(11.0, 8))
    run.beats(12.0, 13.0, 72.0)  # enough readings now, but sick: the baseline goes on
    assert run.state.phase == "baseline" and run.state.baseline_hr is None
    effects = run.send(SetLevel(t=14.0, level=1))  # the therapist starts exposure anyway
    assert run.state.phase == "exposure" and run.state.baseline_hr == 71.0
    # past its period, not "taken early"
    assert run.state.baseline_note == (
        "median of 4 good readings over 14 s (the baseline period is 10 s)"
    )
    cleared = [e for e in effects if isinstance(e, Alert) and e.kind == "no_baseline"]
    assert len(cleared) == 1 and not cleared[0].active and cleared[0].onset == raised.onset


# --------------------------------------------------------------------------- sick, not scared


def at_100(settings: ControlSettings = QUICK) -> Run:
    """Baseline exactly 100 bpm over 10 s, so arousal is exact; level 1 from t = 10."""
    run = Run(settings)
    run.beats(1.0, 10.0, 100.0)
    assert run.state.baseline_hr == 100.0 and run.state.level == 1
    return run


def test_the_sick_alert_tells_the_therapist_what_to_do() -> None:
    run = at_100()
    run.send(sickness(11.0, 8))
    (alert,) = run.alerts("sick_not_scared")
    assert alert.active and alert.severity == "warning"
    assert alert.message == (
        "Sick, not scared: the client rates sickness 8/10 (above 5). Pause the session and let "
        "the client recover; the level does not step down for the raised heart rate. Ask again "
        "before you resume."
    )


def test_sickness_during_the_baseline_says_when_exposure_will_start() -> None:
    run = Run()
    run.beats(1.0, 3.0, 70.0)
    run.send(sickness(3.0, 7))
    assert run.state.next_step == (
        "Baseline goes on: the client reports sickness 7/10 (sick, not scared); exposure starts "
        "after a rating at or under the threshold."
    )


def test_only_a_mid_session_rating_sets_sick_not_scared() -> None:
    run = at_100()
    for phase in ("pre", "post"):
        run.send(sickness(11.0, 9, phase))
        assert not run.state.sick and run.state.sickness is None
    assert run.alerts("sick_not_scared") == []


def test_while_sick_hr_exactly_at_the_ceiling_raises_no_ceiling_alert() -> None:
    run = at_100()
    run.send(sickness(10.5, 8))
    run.beats(11.0, 21.0, 135.0)  # 35 % above baseline: at the ceiling, not above it
    assert run.state.arousal == QUICK.ceiling
    assert run.alerts("ceiling") == []


def test_while_sick_the_ceiling_alert_clears_when_hr_comes_back_under_it() -> None:
    run = at_100()
    run.send(sickness(10.5, 8))
    run.beats(11.0, 20.0, 140.0)
    (raised,) = run.alerts("ceiling")
    assert raised.active and "while the client reports sickness 8/10" in raised.message
    run.beats(21.0, 30.0, 100.0)
    cleared = run.alerts("ceiling")[1:]
    assert len(cleared) == 1 and not cleared[0].active
    assert run.state.level == 1  # nothing stepped down while sick
    assert not any(a.kind == "ceiling" for a in run.state.alerts)


def test_after_sickness_passes_hr_over_the_ceiling_must_be_sustained_again() -> None:
    settings = QUICK.model_copy(update={"arousal_window_s": 1.0})  # HR follows each reading
    run = at_100(settings)
    run.beats(11.0, 14.0, 140.0)  # over the ceiling from t = 12
    assert run.state.above_ceiling_since == 12.0
    run.send(sickness(14.5, 8))
    run.beats(15.0, 19.0, 140.0)  # sick: no step down
    run.send(sickness(19.5, 2))  # well again: the raised HR is timed from here
    run.beats(20.0, 30.0, 140.0)
    (down,) = run.decisions()[1:]
    assert down.t == 30.0  # 10.5 s after the rating; not 18 s after HR first went over
    assert down.reason.startswith("HR 40% above baseline for 10 s (ceiling 35%)")


# --------------------------------------------------------------------------- the SUDS reminder


def test_the_suds_reminder_counts_from_the_move_when_the_rating_was_at_the_level_before() -> None:
    settings = QUICK.model_copy(update={"suds_before_step_up": True})
    run = Run(settings, auto=False)
    run.beats(1.0, 10.0, 70.0)
    run.send(SetLevel(t=10.0, level=1))
    run.send(Suds(t=20.0, value=40))
    run.send(StepUp(t=50.0))  # a new level: the rating at level 1 does not count here
    run.send(Tick(t=109.0))
    assert run.alerts("suds_due") == []
    run.send(Tick(t=110.0))
    (alert,) = run.alerts("suds_due")
    # manual mode: no automatic step up waits for the rating, so the reminder does not say so
    assert alert.message == "No SUDS rating for 60 s: ask the client how anxious they feel."


def test_a_baseline_held_to_exactly_its_period_is_not_called_early() -> None:
    run = Run()
    run.send(sickness(0.5, 8))  # held by sickness at its end
    run.beats(1.0, 10.0, 70.0)
    assert run.state.phase == "baseline" and run.state.baseline_hr is None
    run.send(SetLevel(t=10.0, level=1))  # at the period's very end
    assert run.state.baseline_note == (
        "median of 10 good readings over 10 s (the baseline period is 10 s)"
    )

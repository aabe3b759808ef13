"""The exposure core's rules, one test each; safety paths first."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from exposure.core import step
from exposure.models import (
    SAFE_LEVEL,
    Alert,
    AutoOff,
    AutoOn,
    ControlSettings,
    End,
    Ladder,
    Level,
    Note,
    Pause,
    Reading,
    Resume,
    Safe,
    SceneTarget,
    SessionState,
    SetLevel,
    StepDown,
    StepUp,
    Suds,
    SystemEvent,
    Tick,
)
from tests.exposure.driving import Driver

LADDER = Ladder(scene="spiders", levels=[Level(name=f"situation {i}") for i in range(1, 11)])
PHYSIOLOGY = ControlSettings(suds_before_step_up=False)
"""The clinical defaults, steps up by heart rate alone (test_suds_before_step_up.py has SUDS)."""


class Run(Driver):
    """Drive the core second by second, keeping every effect."""

    def __init__(self, settings: ControlSettings | None = None, auto: bool = True) -> None:
        super().__init__(settings or PHYSIOLOGY, auto, ladder=LADDER)
        self.t = 0.0

    def beats(self, seconds: float, hr: float, quality: str = "ok") -> None:
        """One reading a second for `seconds`."""
        end = self.t + seconds
        while self.t < end:
            self.t += 1.0
            self.send(Reading(t=self.t, hr=hr if quality == "ok" else None, quality=quality))

    def command(self, cmd) -> list:
        return self.send(cmd.model_copy(update={"t": self.t}))


def exposed(settings: ControlSettings | None = None, hr: float = 70.0, auto: bool = True) -> Run:
    """A run just past its 60 s baseline at `hr`, in exposure at level 1."""
    run = Run(settings, auto=auto)
    run.beats(60, hr)
    if not auto:
        run.command(SetLevel(level=1))
    assert run.state.phase == "exposure" and run.state.level == 1
    return run


# --------------------------------------------------------------------------- panic and safety


@pytest.mark.parametrize("where", ["baseline", "exposure", "paused", "manual"])
def test_safe_reaches_the_safe_scene_in_the_same_step_from_any_phase(where: str) -> None:
    run = Run(auto=where != "manual")
    run.beats(5 if where == "baseline" else 60, 70)
    if where == "manual":
        run.command(SetLevel(level=3))
    if where == "paused":
        run.command(Pause())
    effects = run.command(Safe())
    assert run.state.phase == "safe" and run.state.level == SAFE_LEVEL
    if where != "baseline":  # baseline already shows the safe scene
        targets = [e for e in effects if isinstance(e, SceneTarget)]
        assert targets and targets[-1].safe and targets[-1].scene == LADDER.safe_scene
    assert run.state.scene_target.safe


def test_client_break_button_is_recorded_as_the_client() -> None:
    run = exposed()
    run.command(Safe(by="client"))
    last = run.decisions()[-1]
    assert last.who == "client" and last.to_level == SAFE_LEVEL
    assert "Client pressed the break button" in last.reason


def test_nothing_moves_automatically_in_the_safe_scene() -> None:
    run = exposed()
    run.command(Safe())
    run.beats(600, 70)
    assert run.state.level == SAFE_LEVEL and len(run.decisions()) == 2


def test_hard_ceiling_goes_to_the_safe_scene_at_once() -> None:
    run = exposed()
    run.beats(12, 70 * 1.7)  # 70 % above baseline once the 10 s average catches up
    last = run.decisions()[-1]
    assert last.to_level == SAFE_LEVEL and last.who == "auto" and "hard ceiling" in last.reason
    assert run.state.phase == "safe"


def test_stale_signal_alerts_and_holds_every_automatic_change() -> None:
    run = exposed()
    run.beats(3, 70)
    run.beats(120, 0, quality="no-contact")  # finger out for two minutes
    stale = run.alerts("stale_signal")
    assert stale and stale[0].active and stale[0].severity == "critical"
    assert run.state.stale and run.state.level == 1  # no step up despite 120 s of dwell
    assert run.state.next_step.startswith("Holding: no fresh")
    run.beats(40, 70)
    assert run.alerts("stale_signal")[-1].active is False


def test_lost_signal_with_ticks_only_turns_stale() -> None:
    run = exposed()
    for i in range(1, 11):
        run.send(Tick(t=run.t + i))
    assert run.state.stale and run.alerts("stale_signal")


def test_stale_signal_does_not_step_down_either() -> None:
    run = exposed()
    run.beats(30, 70 * 1.4)
    downs_before = len(run.decisions())
    run2 = exposed()
    run2.beats(3, 70 * 1.4)
    run2.beats(30, 0, quality="searching")
    assert len(run2.decisions()) == 1  # only the start of exposure
    assert downs_before > 1  # the same arousal with a fresh signal does step down


# --------------------------------------------------------------------------- baseline


def test_baseline_is_the_median_of_good_readings_and_exposure_starts() -> None:
    run = Run()
    hrs = [60, 90, 70, 72, 68] * 12
    for hr in hrs:
        run.t += 1
        run.send(Reading(t=run.t, hr=hr))
    assert run.state.baseline_hr == 70
    first = run.decisions()[0]
    assert (first.from_level, first.to_level, first.who) == (SAFE_LEVEL, 1, "auto")
    assert "Baseline 70 bpm" in first.reason


def test_baseline_ignores_readings_without_contact() -> None:
    run = Run()
    for i in range(60):
        run.t += 1
        run.send(Reading(t=run.t, hr=70) if i % 2 else Reading(t=run.t, quality="searching"))
    assert run.state.baseline_hr == 70


def test_baseline_waits_for_enough_readings() -> None:
    run = Run()
    run.beats(5, 70)
    for i in range(60):
        run.send(Tick(t=run.t + i))
    run.t += 60
    assert run.state.phase == "baseline" and run.alerts("no_baseline")
    run.beats(5, 70)
    assert run.state.phase == "exposure" and run.state.baseline_hr == 70


def test_manual_mode_measures_baseline_but_waits_for_the_therapist() -> None:
    run = Run(auto=False)
    run.beats(70, 70)
    assert run.state.phase == "baseline" and run.state.baseline_hr == 70
    assert run.decisions() == []
    assert "set a level" in run.state.next_step


def test_ending_baseline_early_uses_the_readings_so_far() -> None:
    run = Run()
    run.beats(20, 66)
    run.command(StepUp())
    assert run.state.level == 1 and run.state.baseline_hr == 66


# --------------------------------------------------------------------------- step up


def test_step_up_after_the_dwell_with_calm_steady_hr() -> None:
    run = exposed()
    run.beats(59, 72)
    assert run.state.level == 1
    run.beats(1, 72)
    assert run.state.level == 2
    last = run.decisions()[-1]
    assert last.who == "auto" and "for 60 s" in last.reason and "step up to level 2" in last.reason


def test_no_step_up_above_the_therapeutic_window() -> None:
    run = exposed()
    run.beats(120, 70 * 1.3)  # 30 %: over the window (25 %), under the ceiling (35 %)
    assert run.state.level == 1
    assert "above the therapeutic window" in run.state.next_step


def test_no_step_up_while_hr_is_rising() -> None:
    run = exposed()
    hr = 70.0
    for _ in range(90):
        hr += 0.1  # 6 bpm a minute
        run.beats(1, hr)
    assert run.state.level == 1 and "rising" in run.state.next_step


def test_high_suds_holds_until_it_halves_or_drops_below_threshold() -> None:
    run = exposed()
    run.command(Suds(value=60))
    run.beats(90, 70)
    assert run.state.level == 1 and "SUDS 60" in run.state.next_step
    run.command(Suds(value=35))  # not below 30, not half of 60
    run.beats(5, 70)
    assert run.state.level == 1
    run.command(Suds(value=30))  # half of the peak
    run.beats(1, 70)
    assert run.state.level == 2


def test_old_suds_is_ignored() -> None:
    run = exposed()
    run.command(Suds(value=80))
    run.beats(301, 70)
    assert run.state.level == 2


def test_automatic_step_ups_are_a_dwell_apart() -> None:
    run = exposed()
    run.beats(600, 70)
    ups = [d for d in run.decisions() if d.who == "auto" and d.to_level > d.from_level]
    assert len(ups) >= 5
    assert all(b.t - a.t >= 60 for a, b in zip(ups, ups[1:], strict=False))


def test_no_automatic_step_past_the_top() -> None:
    run = exposed()
    run.command(SetLevel(level=10))
    run.beats(200, 70)
    assert run.state.level == 10 and run.state.next_step == "Holding at the top of the ladder."


def test_manual_mode_never_steps_up_by_itself() -> None:
    run = exposed(auto=False)
    run.beats(300, 70)
    assert run.state.level == 1


# --------------------------------------------------------------------------- step down


def test_sustained_ceiling_steps_down_one_level() -> None:
    run = exposed()
    run.command(SetLevel(level=5))
    run.beats(9, 70 * 1.45)
    levels_at_9s = run.state.level
    run.beats(20, 70 * 1.45)
    downs = [d for d in run.decisions() if d.who == "auto" and d.to_level < d.from_level]
    assert levels_at_9s == 5
    assert downs[0].from_level == 5 and downs[0].to_level == 4
    assert "ceiling 35%" in downs[0].reason and "for 1" in downs[0].reason


def test_brief_ceiling_crossing_does_not_step_down() -> None:
    run = exposed()
    run.command(SetLevel(level=5))
    run.beats(2, 70 * 1.8)  # a 10 s average keeps this under the hard ceiling
    run.beats(30, 70)
    assert run.state.level == 5


def test_manual_mode_alerts_instead_of_stepping_down() -> None:
    run = exposed(auto=False)
    run.command(SetLevel(level=5))
    run.beats(30, 70 * 1.45)
    assert run.state.level == 5
    assert run.alerts("ceiling") and "consider stepping down" in run.alerts("ceiling")[0].message
    run.beats(15, 70 * 1.8)
    assert run.state.level == 5 and run.alerts("hard_ceiling")


def test_auto_off_stops_automatic_moves_and_auto_on_restores_them() -> None:
    run = exposed()
    run.command(AutoOff())
    run.beats(120, 70)
    assert run.state.level == 1
    run.command(AutoOn())
    run.beats(1, 70)
    assert run.state.level == 2


# --------------------------------------------------------------------------- clinician commands


def test_clinician_commands_act_at_once_and_restart_the_dwell() -> None:
    run = exposed()
    run.beats(50, 70)
    run.command(StepUp())
    assert run.state.level == 2 and run.decisions()[-1].who == "clinician"
    run.beats(30, 70)
    assert run.state.level == 2  # the dwell restarted with the therapist's step
    run.command(StepDown())
    assert run.state.level == 1
    run.command(SetLevel(level=7))
    assert (
        run.state.level == 7
        and run.decisions()[-1].reason == "Therapist set level 7 (situation 7)."
    )


def test_step_down_from_level_one_goes_to_the_safe_scene() -> None:
    run = exposed()
    run.command(StepDown())
    assert run.state.phase == "safe" and run.state.level == SAFE_LEVEL


def test_refused_commands_say_why_and_change_nothing() -> None:
    run = exposed()
    run.command(SetLevel(level=10))
    before = run.state
    for cmd, words in [
        (StepUp(), "top of the ladder"),
        (SetLevel(level=11), "past the top"),
        (Resume(), "Nothing to resume"),
    ]:
        effects = run.command(cmd)
        refusal = [e for e in effects if isinstance(e, Alert) and e.kind == "command_refused"]
        assert refusal and words in refusal[0].message
        assert run.state.level == before.level and run.state.phase == before.phase


def test_pause_holds_and_resume_restarts_the_dwell() -> None:
    run = exposed()
    run.command(Pause())
    run.beats(120, 70)
    assert run.state.phase == "paused" and run.state.level == 1
    run.command(Resume())
    run.beats(30, 70)
    assert run.state.level == 1
    run.beats(31, 70)
    assert run.state.level == 2


def test_resume_from_the_safe_scene_returns_to_the_level_before() -> None:
    run = exposed()
    run.command(SetLevel(level=4))
    run.command(Safe(by="client"))
    run.beats(30, 70)
    run.command(Resume())
    assert run.state.level == 4 and run.state.phase == "exposure"
    assert "back to level 4" in run.decisions()[-1].reason


def test_end_closes_the_session_and_later_commands_are_refused() -> None:
    run = exposed()
    run.command(End())
    assert run.state.phase == "ended" and run.state.scene_target.safe
    effects = run.command(StepUp())
    assert run.state.phase == "ended" and any(isinstance(e, Alert) for e in effects)
    run.command(Note(text="written after the end is still kept by the records"))


def test_suds_reminder_after_the_interval() -> None:
    run = exposed(ControlSettings(suds_reminder_s=120, min_dwell_s=300))
    run.command(AutoOff())
    run.beats(121, 70)
    assert run.alerts("suds_due")
    run.command(Suds(value=20))
    assert run.alerts("suds_due")[-1].active is False


def test_system_events_raise_and_clear_alerts() -> None:
    run = exposed()
    run.send(SystemEvent(t=run.t, kind="sensor_disconnected", detail="/dev/ttyUSB0"))
    assert any(a.kind == "sensor_disconnected" for a in run.state.alerts)
    run.send(SystemEvent(t=run.t, kind="sensor_reconnected"))
    assert not any(a.kind == "sensor_disconnected" for a in run.state.alerts)
    run.send(SystemEvent(t=run.t, kind="render_restarted"))
    assert any(a.kind == "render_restarted" for a in run.state.alerts)
    assert run.state.phase == "safe" and run.decisions()[-1].who == "auto"
    run.beats(61, 70)
    assert not any(a.kind == "render_restarted" for a in run.state.alerts)


def test_time_never_runs_backwards() -> None:
    run = exposed()
    t = run.state.t
    run.send(Reading(t=t - 30, hr=70))
    assert run.state.t == t


def test_a_record_must_start_with_the_session_header() -> None:
    with pytest.raises(ValueError, match="session_start"):
        step(None, Reading(t=0, hr=70))


def test_state_is_immutable() -> None:
    run = Run()
    with pytest.raises(ValidationError):
        run.state.level = 3  # type: ignore[misc]
    assert isinstance(run.state, SessionState)


# --------------------------------------------------------------------------- models


def test_ladder_validation() -> None:
    with pytest.raises(ValidationError, match="twice"):
        Ladder(scene="x", levels=[Level(name="a"), Level(name="a")])
    with pytest.raises(ValidationError):
        Ladder(scene="x", levels=[])
    with pytest.raises(ValidationError):
        Ladder(scene="x", levels=[Level(name=str(i)) for i in range(31)])
    with pytest.raises(ValidationError, match="past the top"):
        Ladder(scene="x", levels=[Level(name="a")], start_level=2)


def test_settings_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="ordered"):
        ControlSettings(ceiling=0.2, window_high=0.3)


def test_readings_outside_plausible_heart_rates_are_rejected() -> None:
    for hr in (10, 300):
        with pytest.raises(ValidationError):
            Reading(t=0, hr=hr)

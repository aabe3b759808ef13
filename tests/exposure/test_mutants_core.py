"""Core rules that no other test stated: a baseline cut short, pause and a stale signal, system
events in a paused session, and how refused commands are told.

Written to kill mutants that survived `make mutation` (tools/mutation/). Each test is a rule of
`exposure/core.py`'s docstring, driven through `step` as the live session drives it.
"""

from __future__ import annotations

from typing import Any

from exposure.core import step
from exposure.models import (
    Alert,
    ControlSettings,
    Decision,
    Event,
    Ladder,
    Level,
    Pause,
    Reading,
    Resume,
    Safe,
    SessionStart,
    SetLevel,
    StepDown,
    SystemEvent,
    Tick,
)

LADDER = Ladder(scene="spiders", levels=[Level(name=f"situation {i}") for i in range(1, 6)])
QUICK = ControlSettings(baseline_s=10, min_baseline_readings=3)


class Run:
    """Drive the core second by second, keeping every effect."""

    def __init__(self, settings: ControlSettings = QUICK, auto: bool = True) -> None:
        start = SessionStart(ladder=LADDER, settings=settings, auto=auto)
        self.state, self.effects = step(None, start)
        self.t = 0.0

    def send(self, event: Event) -> list[Any]:
        self.state, effects = step(self.state, event)
        self.effects.extend(effects)
        return effects

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

    def alerts(self, kind: str) -> list[Alert]:
        return [e for e in self.effects if isinstance(e, Alert) and e.kind == kind]

    def active(self, kind: str) -> Alert | None:
        return next((a for a in self.state.alerts if a.kind == kind), None)


def paused_at_70() -> Run:
    """Baseline 70 bpm (10 s), automatic start at level 1, then paused."""
    run = Run()
    run.beats(10, 70.0)
    assert run.state.phase == "exposure" and run.state.baseline_hr == 70.0
    run.command(Pause(t=0))
    assert run.state.phase == "paused"
    return run


# --------------------------------------------------------------------------- a baseline cut short


def test_a_baseline_cut_short_holds_automatic_changes_and_says_so() -> None:
    run = Run()
    run.beats(2, 70.0)
    run.command(SetLevel(t=0, level=2))  # the therapist starts before the baseline is measured
    alert = run.active("no_baseline")
    assert alert is not None and alert.severity == "warning"
    assert alert.message == (
        "Only 2 good heart-rate readings so far: no baseline yet, so automatic changes are on "
        "hold; check the sensor."
    )
    assert run.state.baseline_hr is None


def test_a_baseline_cut_short_is_completed_in_the_safe_scene_and_its_alert_cleared() -> None:
    run = Run()
    run.beats(2, 70.0)
    run.command(SetLevel(t=0, level=2))
    run.command(Safe(t=0))  # readings in the safe scene count towards the baseline
    run.beats(2, 72.0)
    effects = run.command(Resume(t=0))
    assert run.state.baseline_hr == 71.0  # the median of 70, 70, 72, 72
    assert run.state.baseline_samples == ()  # the samples are not carried on
    cleared = [e for e in effects if isinstance(e, Alert) and e.kind == "no_baseline"]
    assert len(cleared) == 1 and not cleared[0].active
    assert run.active("no_baseline") is None
    assert run.state.arousal is not None  # arousal is measured from the new baseline at once


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

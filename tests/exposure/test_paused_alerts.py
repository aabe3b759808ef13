"""While paused nothing moves by itself, but the hard-ceiling alert still reaches the therapist."""

from __future__ import annotations

import pytest

from exposure.models import (
    ControlSettings,
    Ladder,
    Level,
    Pause,
    Reading,
    Resume,
    SetLevel,
)
from tests.exposure.driving import Driver

LADDER = Ladder(scene="spiders", levels=[Level(name=f"situation {i}") for i in range(1, 11)])
BASELINE_HR = 70.0
SETTINGS = ControlSettings()  # hard ceiling 55% above baseline: 108.5 bpm from a 70 bpm baseline


class Paused(Driver):
    """A session past its baseline at 70 bpm, at level 3, then paused by the therapist."""

    def __init__(self, auto: bool) -> None:
        super().__init__(SETTINGS, auto, ladder=LADDER)
        self.t = 0.0
        self.beats(60, BASELINE_HR)
        self.send(SetLevel(t=self.t, level=3))
        self.send(Pause(t=self.t))
        assert self.state.phase == "paused" and self.state.level == 3
        self.effects = []

    def beats(self, seconds: int, hr: float) -> None:
        for _ in range(seconds):
            self.t += 1.0
            self.send(Reading(t=self.t, hr=hr))


@pytest.mark.parametrize("auto", [True, False], ids=["automatic", "manual"])
def test_hard_ceiling_alerts_while_paused_and_nothing_moves(auto: bool) -> None:
    run = Paused(auto)
    run.beats(15, 120.0)  # 71% above baseline, over the 55% hard ceiling
    raised = [a for a in run.alerts("hard_ceiling") if a.active]
    assert raised
    # raised again only when its figures change, never twice with the same words
    assert len({a.message for a in raised}) == len(raised) < 15
    assert all(a.severity == "critical" for a in raised)
    assert "while paused" in raised[-1].message and "safe scene" in raised[-1].message
    assert any(a.kind == "hard_ceiling" for a in run.state.alerts)
    assert run.state.phase == "paused" and run.state.level == 3
    assert run.decisions() == []


def test_the_paused_alert_clears_when_arousal_falls_below_the_hard_ceiling() -> None:
    run = Paused(auto=True)
    run.beats(15, 120.0)
    run.beats(15, 75.0)
    assert [a.active for a in run.alerts("hard_ceiling")][-1] is False
    assert not any(a.kind == "hard_ceiling" for a in run.state.alerts)
    assert run.state.phase == "paused" and run.state.level == 3


def test_above_the_ceiling_but_below_the_hard_ceiling_stays_quiet_while_paused() -> None:
    run = Paused(auto=True)
    run.beats(30, 100.0)  # 43%: over the 35% ceiling, under the 55% hard ceiling
    assert run.alerts("hard_ceiling") == [] and run.alerts("ceiling") == []
    assert run.decisions() == []


def test_after_resume_the_exposure_rules_take_over() -> None:
    run = Paused(auto=True)
    run.beats(15, 120.0)
    run.send(Resume(t=run.t))
    run.beats(1, 120.0)
    assert run.state.phase == "safe"  # automatic mode: the hard ceiling goes to the safe scene
    assert run.decisions()[-1].who == "auto"

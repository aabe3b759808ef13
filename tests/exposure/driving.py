"""Driving the pure core in tests event by event: the ladder and settings the mutant tests share,
and a driver that keeps every effect."""

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
    SessionStart,
)

LADDER = Ladder(scene="spiders", levels=[Level(name=f"situation {i}") for i in range(1, 6)])
QUICK = ControlSettings(baseline_s=10, min_baseline_readings=3, suds_before_step_up=False)
"""A 10 s baseline of at least 3 readings, and no SUDS asked before a step up."""


class Driver:
    """A session of the core from its start (at `start`), each event stepped, every effect kept."""

    def __init__(
        self,
        settings: ControlSettings = QUICK,
        auto: bool = True,
        start: float = 0.0,
        ladder: Ladder = LADDER,
    ) -> None:
        opening = SessionStart(t=start, ladder=ladder, settings=settings, auto=auto)
        self.state, self.effects = step(None, opening)

    def send(self, event: Event) -> list[Any]:
        self.state, effects = step(self.state, event)
        self.effects.extend(effects)
        return effects

    def alerts(self, kind: str) -> list[Alert]:
        return [e for e in self.effects if isinstance(e, Alert) and e.kind == kind]

    def active(self, kind: str) -> Alert | None:
        return next((a for a in self.state.alerts if a.kind == kind), None)

    def decisions(self) -> list[Decision]:
        return [e for e in self.effects if isinstance(e, Decision)]

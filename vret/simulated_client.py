"""A simulated session for trying the console without a headset or a sensor.

`vret console --simulate` and the console's tests run a real `LiveSession` on the default ladder
fed by the sensors package's `SimulatedHeart` (the heart its pty device speaks for): it rises
with the exposure level after a lag, habituates while the level holds, calms in the safe scene
and sways with breathing. The
settings are shortened (15 s baseline, 20 s minimum dwell) so the whole controller is visible
within a few minutes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from exposure.constants import HR_MAX_BPM, HR_MIN_BPM
from exposure.live import LiveSession
from exposure.models import SAFE_LEVEL, ControlSettings, Ladder, Reading, SessionStart
from scenes.registry import get, scene_events
from sensors.simulator import SimulatedHeart

DEMO_SETTINGS = ControlSettings(
    baseline_s=15.0,
    min_baseline_readings=10,
    min_dwell_s=20.0,
    arousal_window_s=5.0,
    trend_window_s=15.0,
    ceiling_sustain_s=6.0,
    suds_reminder_s=120.0,
)
"""Thresholds as in a clinic, times shortened so a demo shows every rule within minutes."""

DEMO_NOTICE = (
    "Simulated session: a generated heart signal and shortened times (15 s baseline, 20 s at "
    "a level before stepping up) so you can watch the controller work. Not a client session."
)


def demo_ladder() -> tuple[Ladder, tuple[str, ...]]:
    """The spider scene's default ladder and its scene events."""
    return get("spiders").ladder, scene_events("spiders")


def demo_session(client: str = "DEMO-01", **kwargs: object) -> tuple[LiveSession, tuple[str, ...]]:
    """A LiveSession on the demo ladder with the demo settings; returns it and its scene events."""
    ladder, events = demo_ladder()
    start = SessionStart(client=client, ladder=ladder, settings=DEMO_SETTINGS)
    return LiveSession(start, **kwargs), events  # type: ignore[arg-type]


class SensorHeart:
    """`sensors.simulator.SimulatedHeart` told the session's level, read as console readings."""

    def __init__(self, heart: Any) -> None:
        self.heart = heart

    def reading(self, session: LiveSession) -> Reading:
        """The heart's state now, as a reading (no pulse while the simulated finger is out)."""
        state = session.state
        now = session.now()
        level = state.level if state.phase in ("exposure", "paused") else SAFE_LEVEL
        if self.heart.level != level:
            self.heart.set_level(level, now)
        sample = self.heart.tick(now)
        rr = tuple(round(b, 1) for b in sample.beats if 300.0 <= b <= 2000.0)
        if not sample.contact:
            return Reading(t=0.0, hr=None, quality="no-contact")
        quality = "artefact" if sample.artefact else "ok"
        return Reading(
            t=0.0,
            hr=round(min(HR_MAX_BPM, max(HR_MIN_BPM, sample.hr)), 1),
            rr_ms=rr,
            quality=quality,
        )


def make_heart(seed: int | None = None) -> SensorHeart:
    """The demo's heart: the sensors package's simulator, tuned to the demo times."""
    return SensorHeart(
        SimulatedHeart(
            68.0,
            reactivity_bpm=3.3,
            lag_s=5.0,
            habituation_s=45.0,
            variability_bpm=1.5,
            seed=seed or 0,
        )
    )


async def feed_heart(session: LiveSession, heart: SensorHeart, period_s: float = 0.5) -> None:
    """Submit a reading every `period_s` until the session ends, like a sensor thread would."""
    while session.state.phase != "ended":
        session.submit(heart.reading(session))
        await asyncio.sleep(period_s)

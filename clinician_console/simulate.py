"""A simulated session for trying the console without a headset or a sensor.

`vret console --simulate` and the console's tests run a real `LiveSession` on the default ladder
fed by a simulated heart: the sensors package's `SimulatedHeart` (the one its pty device speaks
for) when it is installed, else `LevelHeart` below. Either rises with the exposure level after a
lag, habituates while the level holds, calms in the safe scene and sways with breathing. The
settings are shortened (15 s baseline, 20 s minimum dwell) so the whole controller is visible
within a few minutes.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import defaultdict
from typing import Any

from exposure.live import LiveSession
from exposure.models import SAFE_LEVEL, ControlSettings, Ladder, Level, Reading, SessionStart

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

GENERIC_SPIDER_LADDER = Ladder(
    scene="spiders",
    levels=[
        Level(name="Photo of a small spider", suds=10),
        Level(name="Small spider in a jar, 3 m away", suds=20),
        Level(name="Small spider in a jar, 1 m away", suds=30),
        Level(name="Open jar on the table", suds=40),
        Level(name="Spider walking on the table", suds=50),
        Level(name="Spider walking towards you", suds=60),
        Level(name="Larger spider, 50 cm away", suds=70),
        Level(name="Several spiders on the table", suds=80),
        Level(name="Spider on your sleeve", suds=90),
        Level(name="Spider on your hand", suds=100),
    ],
)
"""Used when the scene library's spider ladder cannot be loaded (no scene installed yet)."""


def demo_ladder() -> tuple[Ladder, tuple[str, ...]]:
    """The spider scene's default ladder and its scene events, or a generic ladder and none."""
    try:
        from scenes.registry import get  # the scene library is optional here

        info = get("spiders")
        return info.ladder, tuple(getattr(info.scene_class, "events", ()))
    except Exception:  # no scene library yet, or a broken one: the console still demonstrates
        return GENERIC_SPIDER_LADDER, ()


def demo_session(client: str = "DEMO-01", **kwargs: object) -> tuple[LiveSession, tuple[str, ...]]:
    """A LiveSession on the demo ladder with the demo settings; returns it and its scene events."""
    ladder, events = demo_ladder()
    start = SessionStart(client=client, ladder=ladder, settings=DEMO_SETTINGS)
    return LiveSession(start, **kwargs), events  # type: ignore[arg-type]


class LevelHeart:
    """A heart rate that answers the exposure level with a lag and habituates at each level.

    Arousal (the fraction above rest) eases toward `gain * level`, scaled down as the client
    accumulates time at that level (half-life `habituation_s`, floor `residual`); the safe scene
    and the baseline aim at rest. HR = rest * (1 + arousal) plus breathing sway and noise.
    """

    def __init__(
        self,
        rest_hr: float = 68.0,
        gain: float = 0.048,
        lag_s: float = 5.0,
        habituation_s: float = 45.0,
        residual: float = 0.35,
        noise_bpm: float = 0.8,
        seed: int | None = None,
    ) -> None:
        self.rest_hr = rest_hr
        self.gain = gain
        self.lag_s = lag_s
        self.habituation_s = habituation_s
        self.residual = residual
        self.noise_bpm = noise_bpm
        self.random = random.Random(seed)
        self.arousal = 0.0
        self.time_at: dict[int, float] = defaultdict(float)
        self._t: float | None = None

    def target(self, level: int) -> float:
        """The arousal this level would settle at, given the time already spent at it."""
        if level == SAFE_LEVEL:
            return 0.0
        fresh = 0.5 ** (self.time_at[level] / self.habituation_s)
        return self.gain * level * (self.residual + (1.0 - self.residual) * fresh)

    def sample(self, t: float, level: int) -> float:
        """Advance to session time `t` at `level` and return one heart-rate reading (bpm)."""
        dt = 0.0 if self._t is None else max(0.0, t - self._t)
        self._t = t
        if level != SAFE_LEVEL:
            self.time_at[level] += dt
        goal = self.target(level)
        self.arousal += (goal - self.arousal) * (1.0 - math.exp(-dt / self.lag_s))
        sway = 1.5 * math.sin(2.0 * math.pi * t / 11.0)
        hr = self.rest_hr * (1.0 + self.arousal) + sway + self.random.gauss(0.0, self.noise_bpm)
        return round(min(240.0, max(30.0, hr)), 1)

    def reading(self, session: LiveSession) -> Reading:
        """The next reading for `session` now (its time is stamped by `session.submit`)."""
        state = session.state
        exposed = state.phase in ("exposure", "paused")
        return Reading(t=0.0, hr=self.sample(session.now(), state.level if exposed else SAFE_LEVEL))


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
            t=0.0, hr=round(min(250.0, max(25.0, sample.hr)), 1), rr_ms=rr, quality=quality
        )


def make_heart(seed: int | None = None) -> LevelHeart | SensorHeart:
    """The demo's heart: the sensors package's simulator, tuned to the demo times, if present."""
    try:
        from sensors.simulator import SimulatedHeart  # the sensors package is optional here
    except ImportError:
        return LevelHeart(seed=seed)
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


async def feed_heart(
    session: LiveSession, heart: LevelHeart | SensorHeart, period_s: float = 0.5
) -> None:
    """Submit a reading every `period_s` until the session ends, like a sensor thread would."""
    while session.state.phase != "ended":
        session.submit(heart.reading(session))
        await asyncio.sleep(period_s)
